// Load-balancing and scaling: Auto Scaling Standby (which also drains the group's own load
// balancers and target groups) and deregistration of direct target-group registrations.
#include <mutex>

#include "actions/ec2_isolate_util.h"

namespace containctl::actions::ec2 {
namespace {

Status ok_or(const Result<aws::XmlResponse>& r) { return r.ok() ? Status(Ok{}) : Status(r.error()); }

// ---- asg-standby ----

Result<json> asg_capture(Context& ctx, const Step& step, const StepArgs& a) {
  const std::string& name = a.asg_name;
  const std::string& id = a.instance_id;
  CC_ASSIGN(auto r, call(ctx, "autoscaling", "DescribeAutoScalingGroups", {{"AutoScalingGroupNames.member.1", name}}));
  for (auto g : aws::xml_list(r.root(), "AutoScalingGroups")) {
    json out = {{"min", std::stoi(text(g, "MinSize"))}, {"max", std::stoi(text(g, "MaxSize"))},
                {"desired", std::stoi(text(g, "DesiredCapacity"))}, {"lifecycle_state", ""}};
    for (auto i : items(g, "Instances"))
      if (text(i, "InstanceId") == id) out["lifecycle_state"] = text(i, "LifecycleState");
    return out;
  }
  return Error::invalid("Auto Scaling group " + name + " no longer exists");
}

Result<json> asg_apply(Context& ctx, const Step& step, const StepArgs& a, const json&) {
  // Read again rather than trust the journaled before-state: on resume the instance may already be
  // in Standby, and a second EnterStandby would decrement the group again.
  CC_ASSIGN(json now, asg_capture(ctx, step, a));
  const std::string state = now["lifecycle_state"];
  if (state == "Standby" || state == "EnteringStandby") return json{{"lowered_min", false}};  // already holds
  if (state != "InService")
    return Error::invalid("instance " + a.instance_id + " is " + (state.empty() ? "not in" : state + " in") +
                          " Auto Scaling group " + a.asg_name + "; it cannot enter Standby");
  const std::string& name = a.asg_name;
  // EnterStandby with decrement needs desired-1 >= MinSize; lower MinSize first when it does not.
  const int min = now["min"], desired = now["desired"];
  bool lowered = false;
  if (desired - 1 < min) {
    CC_TRY(ok_or(call(ctx, "autoscaling", "UpdateAutoScalingGroup",
                      {{"AutoScalingGroupName", name}, {"MinSize", std::to_string(desired - 1)}})));
    lowered = true;
  }
  CC_TRY(ok_or(call(ctx, "autoscaling", "EnterStandby",
                    {{"AutoScalingGroupName", name}, {"InstanceIds.member.1", a.instance_id},
                     {"ShouldDecrementDesiredCapacity", "true"}})));
  return json{{"lowered_min", lowered}};
}

Status asg_verify(Context& ctx, const Step& step, const StepArgs& a) {
  CC_ASSIGN(json now, asg_capture(ctx, step, a));
  const std::string state = now["lifecycle_state"];
  if (state != "Standby" && state != "EnteringStandby")
    return not_holding("instance is " + state + " in " + a.asg_name + ", not Standby");
  return Ok{};
}

Status asg_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json&) {
  const std::string& name = a.asg_name;
  CC_ASSIGN(json now, asg_capture(ctx, step, a));
  const std::string was = before.at("lifecycle_state");
  const std::string is = now["lifecycle_state"];
  if (was == "InService" && (is == "Standby" || is == "EnteringStandby")) {
    // ExitStandby raises desired by one, back to where EnterStandby took it from.
    CC_TRY(ok_or(call(ctx, "autoscaling", "ExitStandby",
                      {{"AutoScalingGroupName", name}, {"InstanceIds.member.1", a.instance_id}})));
    CC_ASSIGN(now, asg_capture(ctx, step, a));
  }
  if (now["min"] == before.at("min") && now["max"] == before.at("max") && now["desired"] == before.at("desired")) return Ok{};
  return ok_or(call(ctx, "autoscaling", "UpdateAutoScalingGroup",
                    {{"AutoScalingGroupName", name},
                     {"MinSize", std::to_string(before.at("min").get<int>())},
                     {"MaxSize", std::to_string(before.at("max").get<int>())},
                     {"DesiredCapacity", std::to_string(before.at("desired").get<int>())}}));
}

Status asg_verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  CC_ASSIGN(json now, asg_capture(ctx, step, a));
  for (const char* k : {"min", "max", "desired"})
    if (now[k] != before.at(k)) return not_holding(std::string("Auto Scaling ") + k + " is " + now[k].dump() +
                                                ", originally " + before.at(k).dump());
  const std::string was = before.at("lifecycle_state"), is = now["lifecycle_state"];
  // After ExitStandby AWS passes through Pending before InService.
  bool ok = is == was || (was == "InService" && is.rfind("Pending", 0) == 0);
  if (!ok) return not_holding("instance is " + is + " in " + a.asg_name + ", originally " + was);
  return Ok{};
}

// ---- deregister-targets: direct registrations (not the Auto Scaling group's own) ----

aws::Params target_params(const json& reg) {
  aws::Params p = {{"TargetGroupArn", reg.at("target_group_arn")}, {"Targets.member.1.Id", reg.at("id")}};
  if (!reg.at("port").get<std::string>().empty()) p.emplace_back("Targets.member.1.Port", reg.at("port"));
  if (!reg.at("availability_zone").get<std::string>().empty())
    p.emplace_back("Targets.member.1.AvailabilityZone", reg.at("availability_zone"));
  return p;
}

bool same_target(const json& a, const json& b) {
  return a["target_group_arn"] == b["target_group_arn"] && a["id"] == b["id"] && a["port"] == b["port"];
}

// Which of the step's registrations are registered now (draining and unregistered do not count).
Result<json> targets_capture(Context& ctx, const Step& step, const StepArgs& a) {
  std::set<std::string> groups;
  for (const auto& r : a.registrations) groups.insert(r.target_group_arn);
  json present = json::array();
  std::mutex mu;
  std::vector<std::function<Status()>> calls;
  for (const std::string& tg : groups)
    calls.push_back([&, tg]() -> Status {
      CC_ASSIGN(auto r, call(ctx, "elasticloadbalancing", "DescribeTargetHealth", {{"TargetGroupArn", tg}}));
      for (auto m : aws::xml_list(r.root(), "TargetHealthDescriptions")) {
        if (text(m, "TargetHealth/State") == "draining" || text(m, "TargetHealth/Reason") == "Target.NotRegistered")
          continue;
        json reg = {{"target_group_arn", tg}, {"id", text(m, "Target/Id")}, {"port", text(m, "Target/Port")},
                    {"availability_zone", text(m, "Target/AvailabilityZone")}};
        for (const auto& want : a.registrations)
          if (same_target(want.to_json(), reg)) {
            std::lock_guard l(mu);
            present.push_back(want.to_json());  // the discovered form, with its availability zone
          }
      }
      return Ok{};
    });
  CC_TRY(parallel(ctx.clock, std::move(calls)));
  std::sort(present.begin(), present.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return json{{"registrations", present}};
}

Result<json> targets_apply(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  std::vector<std::function<Status()>> calls;
  for (const auto& reg : before.at("registrations"))
    calls.push_back([&, reg] {
      Status s = ok_or(call(ctx, "elasticloadbalancing", "DeregisterTargets", target_params(reg)));
      if (!s.ok() && has_code(s.error(), {"InvalidTarget"})) return Status(Ok{});  // already gone
      return s;
    });
  CC_TRY(parallel(ctx.clock, std::move(calls)));
  return json::object();
}

Status targets_verify(Context& ctx, const Step& step, const StepArgs& a) {
  CC_ASSIGN(json now, targets_capture(ctx, step, a));
  if (!now["registrations"].empty())
    return not_holding("still registered: " + now["registrations"].dump());
  return Ok{};
}

Status targets_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json&) {
  std::vector<std::function<Status()>> calls;
  for (const auto& reg : before.at("registrations"))
    calls.push_back([&, reg] { return ok_or(call(ctx, "elasticloadbalancing", "RegisterTargets", target_params(reg))); });
  return parallel(ctx.clock, std::move(calls));
}

Status targets_verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  CC_ASSIGN(json now, targets_capture(ctx, step, a));
  for (const auto& reg : before.at("registrations")) {
    bool found = false;
    for (const auto& n : now["registrations"]) found |= same_target(n, reg);
    if (!found) return not_holding("target " + reg.dump() + " is not registered again");
  }
  return Ok{};
}

}  // namespace

StepOps asg_standby_ops() { return {asg_capture, asg_apply, asg_verify, without_options(asg_rollback), asg_verify_rollback}; }
StepOps target_groups_ops() {
  return {targets_capture, targets_apply, targets_verify, without_options(targets_rollback), targets_verify_rollback};
}

}  // namespace containctl::actions::ec2
