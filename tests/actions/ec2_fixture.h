// Shared helpers for the ec2-isolate tests: a moto-backed world (VPC, subnet, AMI), builders for
// instances, Auto Scaling groups and target groups, a small executor that drives the family the
// way the orchestrator does, and a normalized read-back of everything containment touches.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "actions/ec2_isolate.h"
#include "actions/ec2_isolate_util.h"
#include "aws/response.h"
#include "tests/support/moto_server.h"

namespace containctl::actions::ec2test {

using nlohmann::json;
using ec2::items;
using ec2::text;

inline aws::XmlResponse must(Result<aws::XmlResponse> r, const std::string& what) {
  if (!r.ok()) ADD_FAILURE() << what << ": " << r.error().describe();
  if (!r.ok()) throw std::runtime_error(what + " failed");
  return std::move(r).value();
}

inline aws::XmlResponse q(aws::AwsClient& c, const std::string& service, const std::string& action,
                          const aws::Params& params = {}) {
  return must(c.query(service, "us-east-1", action, params), service + " " + action);
}

// One account's view of moto: default VPC, its first subnet, an AMI.
struct World {
  aws::AwsClient* client = nullptr;
  std::string account = "123456789012";
  std::string vpc, subnet, ami;

  void init(aws::AwsClient& c, const std::string& acct = "123456789012") {
    client = &c;
    account = acct;
    aws::Params f;
    ec2::add_filter(f, 1, "is-default", {"true"});
    vpc = text(items(q(c, "ec2", "DescribeVpcs", f).root(), "vpcSet").at(0), "vpcId");
    aws::Params s;
    ec2::add_filter(s, 1, "vpc-id", {vpc});
    subnet = text(items(q(c, "ec2", "DescribeSubnets", s).root(), "subnetSet").at(0), "subnetId");
    auto images = q(c, "ec2", "DescribeImages", {{"Owner.1", "amazon"}});
    ami = text(items(images.root(), "imagesSet").at(0), "imageId");
  }

  std::string group(const std::string& name) {
    return text(q(*client, "ec2", "CreateSecurityGroup",
                  {{"GroupName", name}, {"GroupDescription", name}, {"VpcId", vpc}}).root(), "groupId");
  }

  // Groups on the interface (not the instance): moto then changes them cleanly (moto-notes §1.8).
  std::string launch(const std::vector<std::string>& groups) {
    aws::Params p = {{"ImageId", ami}, {"MinCount", "1"}, {"MaxCount", "1"}, {"InstanceType", "t3.micro"},
                     {"NetworkInterface.1.DeviceIndex", "0"}, {"NetworkInterface.1.SubnetId", subnet}};
    for (size_t i = 0; i < groups.size(); ++i)
      p.emplace_back("NetworkInterface.1.SecurityGroupId." + std::to_string(i + 1), groups[i]);
    auto r = q(*client, "ec2", "RunInstances", p);
    return text(items(r.root(), "instancesSet").at(0), "instanceId");
  }

  std::string add_interface(const std::string& instance, const std::vector<std::string>& groups, int index) {
    aws::Params p = {{"SubnetId", subnet}};
    for (size_t i = 0; i < groups.size(); ++i) p.emplace_back("SecurityGroupId." + std::to_string(i + 1), groups[i]);
    std::string eni = text(q(*client, "ec2", "CreateNetworkInterface", p).root(), "networkInterface/networkInterfaceId");
    q(*client, "ec2", "AttachNetworkInterface",
      {{"NetworkInterfaceId", eni}, {"InstanceId", instance}, {"DeviceIndex", std::to_string(index)}});
    return eni;
  }

  std::string target_group(const std::string& name) {
    auto r = q(*client, "elasticloadbalancing", "CreateTargetGroup",
               {{"Name", name}, {"Protocol", "HTTP"}, {"Port", "80"}, {"VpcId", vpc}, {"TargetType", "instance"}});
    return aws::xml_text(r.root(), "TargetGroupArn");
  }

  // An Auto Scaling group from a launch template; returns its single instance.
  std::string asg(const std::string& name, int min, int desired, int max, const std::string& group) {
    q(*client, "ec2", "CreateLaunchTemplate",
      {{"LaunchTemplateName", name + "-lt"}, {"LaunchTemplateData.ImageId", ami},
       {"LaunchTemplateData.InstanceType", "t3.micro"},
       {"LaunchTemplateData.NetworkInterface.1.DeviceIndex", "0"},
       {"LaunchTemplateData.NetworkInterface.1.SubnetId", subnet},
       {"LaunchTemplateData.NetworkInterface.1.SecurityGroupId.1", group}});
    q(*client, "autoscaling", "CreateAutoScalingGroup",
      {{"AutoScalingGroupName", name}, {"LaunchTemplate.LaunchTemplateName", name + "-lt"},
       {"MinSize", std::to_string(min)}, {"DesiredCapacity", std::to_string(desired)},
       {"MaxSize", std::to_string(max)}, {"VPCZoneIdentifier", subnet}});
    auto r = q(*client, "autoscaling", "DescribeAutoScalingGroups", {{"AutoScalingGroupNames.member.1", name}});
    return text(items(aws::xml_list(r.root(), "AutoScalingGroups").at(0), "Instances").at(0), "InstanceId");
  }

  Target target(const std::string& instance) const {
    auto t = parse_target_arn("arn:aws:ec2:us-east-1:" + account + ":instance/" + instance);
    if (!t.ok()) throw std::runtime_error(t.error().describe());
    return *t;
  }
};

// A journal entry as the executor keeps it.
struct Applied {
  Step step;
  json before;
  json applied;  // null when apply failed or never returned
};

// discover -> plan, as `containctl plan` does.
inline Result<TargetPlan> plan_of(ActionFamily& family, Context& ctx) {
  CC_ASSIGN(json d, family.discover(ctx));
  return family.plan(ctx, d);
}

// Drives one plan as the executor does (capture, journal, apply, verify); stops at the first
// failure and returns the error. `done` receives every step whose capture was journaled.
inline Status execute(ActionFamily& family, Context& ctx, const TargetPlan& plan, std::vector<Applied>& done) {
  for (const Step& step : plan.steps) {
    auto before = family.capture(ctx, step);
    if (!before.ok()) return before.error();
    done.push_back({step, *before, nullptr});
    auto applied = family.apply(ctx, step, *before);
    if (!applied.ok()) return applied.error();
    done.back().applied = *applied;
    Status v = family.verify_applied(ctx, step, *applied);
    if (!v.ok()) return v;
  }
  return Ok{};
}

// The journal records the planner hands to the family (ctx.journal) after `done` applied.
inline json journal_of(const std::vector<Applied>& done, const std::string& run_id) {
  json out = json::array();
  for (const Applied& a : done)
    if (!a.applied.is_null())
      out.push_back({{"run_id", run_id}, {"step_id", a.step.id}, {"state", "verified"}, {"applied", a.applied}});
  return out;
}

inline Status roll_back(ActionFamily& family, Context& ctx, const std::vector<Applied>& done, bool force = true) {
  RollbackOptions options;
  options.force = force;
  for (auto it = done.rbegin(); it != done.rend(); ++it) {
    Status s = family.rollback(ctx, it->step, it->before, it->applied, options);
    if (!s.ok()) return s;
    s = family.verify_rollback(ctx, it->step, it->before, options);
    if (!s.ok()) return s;
  }
  return Ok{};
}

inline Status roll_back_unforced(ActionFamily& family, Context& ctx, const std::vector<Applied>& done) {
  return roll_back(family, ctx, done, false);
}

// Everything containment may change, normalized so equal states compare equal.
inline json read_state(aws::AwsClient& c, const std::string& instance, const std::string& asg_name = "",
                       const std::vector<std::string>& target_groups = {}) {
  json s;
  aws::Params f;
  ec2::add_filter(f, 1, "attachment.instance-id", {instance});
  auto enis_resp = q(c, "ec2", "DescribeNetworkInterfaces", f);
  for (auto e : items(enis_resp.root(), "networkInterfaceSet")) {
    std::vector<std::string> groups;
    for (auto g : items(e, "groupSet")) groups.push_back(text(g, "groupId"));
    std::sort(groups.begin(), groups.end());
    s["interfaces"][text(e, "networkInterfaceId")] = groups;
  }
  for (const char* a : {"disableApiTermination", "instanceInitiatedShutdownBehavior"})
    s["attributes"][a] = text(q(c, "ec2", "DescribeInstanceAttribute", {{"InstanceId", instance}, {"Attribute", a}}).root(),
                              (std::string(a) + "/value").c_str());
  aws::Params t;
  ec2::add_filter(t, 1, "resource-id", {instance});
  s["tags"] = json::object();
  auto tags_resp = q(c, "ec2", "DescribeTags", t);
  for (auto tag : items(tags_resp.root(), "tagSet")) s["tags"][text(tag, "key")] = text(tag, "value");
  // Elastic IPs by interface: moto does not set the instance on an association made by interface.
  s["addresses"] = json::array();
  auto addr_resp = q(c, "ec2", "DescribeAddresses");
  for (auto addr : items(addr_resp.root(), "addressesSet"))
    if (s["interfaces"].contains(text(addr, "networkInterfaceId")))
      s["addresses"].push_back(text(addr, "allocationId") + "@" + text(addr, "networkInterfaceId"));
  if (!asg_name.empty()) {
    auto r = q(c, "autoscaling", "DescribeAutoScalingGroups", {{"AutoScalingGroupNames.member.1", asg_name}});
    auto g = aws::xml_list(r.root(), "AutoScalingGroups").at(0);
    s["asg"] = {{"min", text(g, "MinSize")}, {"max", text(g, "MaxSize")}, {"desired", text(g, "DesiredCapacity")}};
    for (auto i : items(g, "Instances")) s["asg"]["lifecycle"][text(i, "InstanceId")] = text(i, "LifecycleState");
  }
  for (const auto& tg : target_groups) {
    json targets = json::array();
    auto r = q(c, "elasticloadbalancing", "DescribeTargetHealth", {{"TargetGroupArn", tg}});
    for (auto m : aws::xml_list(r.root(), "TargetHealthDescriptions"))
      targets.push_back(text(m, "Target/Id") + ":" + text(m, "Target/Port") + ":" + text(m, "TargetHealth/State"));
    std::sort(targets.begin(), targets.end());
    s["target_groups"][tg] = targets;
  }
  return s;
}

// Ids of the security groups the family created (by tag), in any VPC.
inline std::vector<std::string> family_groups(aws::AwsClient& c) {
  aws::Params f;
  ec2::add_filter(f, 1, std::string("tag-key"), {ec2::kTagPurpose});
  std::vector<std::string> out;
  auto groups_resp = q(c, "ec2", "DescribeSecurityGroups", f);
  for (auto g : items(groups_resp.root(), "securityGroupInfo"))
    out.push_back(text(g, "groupId"));
  return out;
}

// A transport wrapper: counts logical round-trip depth per call and can fail chosen calls.
class ProbeTransport final : public aws::HttpTransport {
 public:
  explicit ProbeTransport(std::shared_ptr<aws::HttpTransport> inner) : inner_(std::move(inner)) {}
  Result<aws::HttpResponse> send(const aws::HttpRequest& request) override {
    const std::string action = action_of(request.body);
    int& depth = ec2::round_trip_depth();
    ++depth;
    {
      std::lock_guard l(mu_);
      calls_.push_back(action);
      bodies_.push_back(request.body);
      int seen = ++seen_[action];
      if (lose_action_ == action && seen == lose_nth_) {
        // The server processes the request; its answer never arrives (a timeout after the fact).
        auto r = forward(request, action);
        (void)r;
        return Error{ErrorKind::kTimeout, "OperationTimedOut", "injected by the test: response lost"};
      }
      if (fail_action_ == action && seen == fail_nth_) {
        aws::HttpResponse r;
        r.status = 400;
        r.body = "<Response><Errors><Error><Code>InjectedFailure</Code><Message>injected by the test</Message>"
                 "</Error></Errors><RequestID>test</RequestID></Response>";
        return r;
      }
      if (honour_client_tokens_) return forward(request, action);
    }
    return inner_->send(request);
  }
  // EC2's idempotency, which moto lacks (it ignores ClientToken): a request whose ClientToken was
  // seen before gets the first request's answer, or IdempotentParameterMismatch when its
  // parameters differ ("Ensuring idempotency", Amazon EC2 Developer Guide), and changes nothing.
  void honour_client_tokens() {
    std::lock_guard l(mu_);
    honour_client_tokens_ = true;
  }
  void fail(const std::string& action, int nth) {
    std::lock_guard l(mu_);
    fail_action_ = action;
    fail_nth_ = nth;
    seen_.clear();
  }
  void lose_response(const std::string& action, int nth) {
    std::lock_guard l(mu_);
    lose_action_ = action;
    lose_nth_ = nth;
    seen_.clear();
  }
  size_t count(const std::string& action) {
    std::lock_guard l(mu_);
    return static_cast<size_t>(std::count(calls_.begin(), calls_.end(), action));
  }
  std::vector<std::string> calls() {
    std::lock_guard l(mu_);
    return calls_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard l(mu_);
    return bodies_;
  }
  static std::string param_of(const std::string& body, const std::string& name) {
    const std::string key = name + "=";
    for (size_t at = 0; at < body.size();) {
      size_t end = body.find('&', at);
      if (end == std::string::npos) end = body.size();
      if (body.compare(at, key.size(), key) == 0) return body.substr(at + key.size(), end - at - key.size());
      at = end + 1;
    }
    return "";
  }
  static std::string action_of(const std::string& body) {
    auto p = body.find("Action=");
    if (p == std::string::npos) return "";
    auto e = body.find('&', p);
    return body.substr(p + 7, e == std::string::npos ? std::string::npos : e - p - 7);
  }

 private:
  // Sends to moto, or answers from the token memo (honour_client_tokens). Called under mu_.
  Result<aws::HttpResponse> forward(const aws::HttpRequest& request, const std::string& action) {
    const std::string token = honour_client_tokens_ ? param_of(request.body, "ClientToken") : "";
    if (token.empty()) return inner_->send(request);
    // Signed bodies differ by nothing but the parameters: compare them without the token.
    const auto [it, fresh] = by_token_.try_emplace(action + "/" + token);
    if (!fresh) {
      if (it->second.first != request.body) {
        aws::HttpResponse r;
        r.status = 400;
        r.body = "<Response><Errors><Error><Code>IdempotentParameterMismatch</Code><Message>token reused with other "
                 "parameters</Message></Error></Errors><RequestID>test</RequestID></Response>";
        return r;
      }
      return it->second.second;
    }
    auto r = inner_->send(request);
    if (r.ok() && r->status / 100 == 2) {
      it->second = {request.body, *r};
    } else {
      by_token_.erase(it);
    }
    return r;
  }

  std::shared_ptr<aws::HttpTransport> inner_;
  bool honour_client_tokens_ = false;
  std::map<std::string, std::pair<std::string, aws::HttpResponse>> by_token_;  // action/token -> body, answer
  std::mutex mu_;
  std::vector<std::string> calls_;
  std::vector<std::string> bodies_;
  std::map<std::string, int> seen_;
  std::string fail_action_;
  int fail_nth_ = 0;
  std::string lose_action_;
  int lose_nth_ = 0;
};

// A client on `moto` whose transport goes through a ProbeTransport; `observer` sees every call.
inline std::unique_ptr<aws::AwsClient> probed_client(const testing::MotoServer& moto,
                                                      std::shared_ptr<ProbeTransport>& probe,
                                                      aws::CallObserver observer = {},
                                                      const aws::Credentials& creds = testing::MotoServer::default_credentials()) {
  aws::ClientConfig cfg = moto.client(creds)->config();
  probe = std::make_shared<ProbeTransport>(cfg.transport);
  cfg.transport = probe;
  cfg.observer = std::move(observer);
  return std::make_unique<aws::AwsClient>(cfg);
}

inline bool has_step(const TargetPlan& plan, const std::string& id) {
  return std::any_of(plan.steps.begin(), plan.steps.end(), [&](const Step& s) { return s.id == id; });
}

}  // namespace containctl::actions::ec2test
