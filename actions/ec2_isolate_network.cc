// Network isolation per interface (never through the instance's Groups attribute, which fails on
// multi-interface instances): original groups -> a temporary all-traffic group, which makes
// TCP/UDP flows untracked, -> an isolation group with no rules, which then cuts those untracked
// flows at once. The isolation group is shared per VPC (found by tag and name); the all-traffic
// group belongs to one instance, so deleting it after the move can never race another containment.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>

#include "actions/ec2_isolate_util.h"

namespace containctl::actions::ec2 {
namespace {

std::string isolation_name(const std::string& vpc) { return "containctl-isolation-" + vpc; }
std::string all_traffic_name(const std::string& instance) { return "containctl-all-traffic-" + instance; }

std::vector<std::string> vpcs_of(const Step& step) {
  std::set<std::string> vpcs;
  for (const auto& e : step.args["interfaces"]) vpcs.insert(e["vpc_id"].get<std::string>());
  return {vpcs.begin(), vpcs.end()};
}

std::vector<std::string> sorted_groups(const json& groups) {
  std::vector<std::string> out;
  for (const auto& g : groups) out.push_back(g.get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

// Current groups of the step's interfaces: id -> sorted group ids.
Result<std::map<std::string, std::vector<std::string>>> interface_groups(Context& ctx, const Step& step) {
  aws::Params p;
  int n = 0;
  for (const auto& e : step.args["interfaces"]) p.emplace_back("NetworkInterfaceId." + std::to_string(++n), e["id"]);
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeNetworkInterfaces", p));
  std::map<std::string, std::vector<std::string>> out;
  for (auto eni : items(r.root(), "networkInterfaceSet")) {
    std::vector<std::string> groups;
    for (auto g : items(eni, "groupSet")) groups.push_back(text(g, "groupId"));
    std::sort(groups.begin(), groups.end());
    out[text(eni, "networkInterfaceId")] = groups;
  }
  return out;
}

struct FamilyGroups {
  std::map<std::string, json> isolation;    // vpc -> {id, ingress, egress}
  std::map<std::string, json> all_traffic;  // vpc -> {id}
};

// The family's groups in the step's VPCs, found by tag: isolation groups (any), and the
// all-traffic group of this instance.
Result<FamilyGroups> family_groups(Context& ctx, const Step& step) {
  aws::Params p;
  add_filter(p, 1, std::string("tag:") + kTagPurpose, {"isolation", "all-traffic"});
  add_filter(p, 2, "vpc-id", vpcs_of(step));
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeSecurityGroups", p));
  FamilyGroups out;
  const std::string instance = step.args["instance_id"];
  for (auto g : items(r.root(), "securityGroupInfo")) {
    std::map<std::string, std::string> tags;
    for (auto t : items(g, "tagSet")) tags[text(t, "key")] = text(t, "value");
    const std::string vpc = text(g, "vpcId");
    json info = {{"id", text(g, "groupId")},
                 {"ingress", items(g, "ipPermissions").size()},
                 {"egress", items(g, "ipPermissionsEgress").size()}};
    if (tags[kTagPurpose] == "isolation") {
      // Prefer the group with the family's name: several tagged groups can exist after a race.
      auto it = out.isolation.find(vpc);
      if (it == out.isolation.end() || text(g, "groupName") == isolation_name(vpc)) out.isolation[vpc] = info;
    } else if (tags[kTagInstance] == instance) {
      out.all_traffic[vpc] = info;
    }
  }
  return out;
}

// CreateSecurityGroup, or the id of the group of that name when it already exists (a concurrent
// containment in the same VPC created it first).
Result<std::string> create_group(Context& ctx, const std::string& vpc, const std::string& name,
                                 const std::string& description,
                                 const std::vector<std::pair<std::string, std::string>>& tags) {
  aws::Params p = {{"GroupName", name}, {"GroupDescription", description}, {"VpcId", vpc}};
  add_tag_spec(p, "security-group", tags);
  auto r = call(ctx, "ec2", "CreateSecurityGroup", p);
  if (r.ok()) return text(r->root(), "groupId");
  if (!has_code(r.error(), {"InvalidGroup.Duplicate"})) return r.error();
  aws::Params q;
  add_filter(q, 1, "vpc-id", {vpc});
  add_filter(q, 2, "group-name", {name});
  CC_ASSIGN(auto d, call(ctx, "ec2", "DescribeSecurityGroups", q));
  for (auto g : items(d.root(), "securityGroupInfo")) return text(g, "groupId");
  return r.error();
}

Status tolerate(Status s, std::initializer_list<const char*> codes) {
  if (!s.ok() && has_code(s.error(), codes)) return Ok{};
  return s;
}

Status as_status(const Result<aws::XmlResponse>& r) {
  if (r.ok()) return Ok{};
  return r.error();
}

aws::Params all_traffic_rule(bool ipv4, bool ipv6) {
  aws::Params p = {{"IpPermissions.1.IpProtocol", "-1"}};
  if (ipv4) p.emplace_back("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0");
  if (ipv6) p.emplace_back("IpPermissions.1.Ipv6Ranges.1.CidrIpv6", "::/0");
  return p;
}

Status set_groups(Context& ctx, const std::string& eni, const std::vector<std::string>& groups) {
  aws::Params p = {{"NetworkInterfaceId", eni}};
  for (size_t i = 0; i < groups.size(); ++i) p.emplace_back("SecurityGroupId." + std::to_string(i + 1), groups[i]);
  return as_status(call(ctx, "ec2", "ModifyNetworkInterfaceAttribute", p));
}

Result<json> capture(Context& ctx, const Step& step) {
  std::map<std::string, std::vector<std::string>> groups;
  FamilyGroups fam;
  CC_TRY(parallel(ctx.clock, {[&]() -> Status {
                     CC_ASSIGN(groups, interface_groups(ctx, step));
                     return Ok{};
                   },
                   [&]() -> Status {
                     CC_ASSIGN(fam, family_groups(ctx, step));
                     return Ok{};
                   }}));
  json before = {{"interfaces", json::array()}, {"isolation_groups", json::object()},
                 {"all_traffic_groups", json::object()}};
  for (const auto& e : step.args["interfaces"]) {
    auto it = groups.find(e["id"]);
    if (it == groups.end()) return Error::invalid("network interface " + e["id"].get<std::string>() + " no longer exists");
    before["interfaces"].push_back({{"id", e["id"]}, {"vpc_id", e["vpc_id"]}, {"groups", it->second}});
  }
  for (const auto& [vpc, g] : fam.isolation) before["isolation_groups"][vpc] = g;
  for (const auto& [vpc, g] : fam.all_traffic) before["all_traffic_groups"][vpc] = g;
  return before;
}

Result<json> apply(Context& ctx, const Step& step, const json& before) {
  const std::string instance = step.args["instance_id"];
  std::mutex mu;
  std::map<std::string, std::string> iso, temp;  // vpc -> group id
  std::vector<std::string> created;
  std::vector<std::function<Status()>> creates, rules;
  for (const std::string& vpc : vpcs_of(step)) {
    const json& have_iso = before["isolation_groups"].value(vpc, json());
    if (!have_iso.is_null()) {
      iso[vpc] = have_iso["id"];
      if (have_iso["ingress"].get<int>() > 0)
        return Error::invalid("isolation group " + iso[vpc] + " has ingress rules; refusing to use it");
    }
    const json& have_temp = before["all_traffic_groups"].value(vpc, json());
    if (!have_temp.is_null()) temp[vpc] = have_temp["id"];
    if (have_iso.is_null())
      creates.push_back([&, vpc]() -> Status {
        CC_ASSIGN(std::string id, create_group(ctx, vpc, isolation_name(vpc),
                                               "containctl isolation: no inbound, no outbound",
                                               {{kTagPurpose, "isolation"}, {kTagRunId, ctx.run_id}}));
        std::lock_guard l(mu);
        iso[vpc] = id;
        created.push_back(id);
        return Ok{};
      });
    if (have_temp.is_null())
      creates.push_back([&, vpc]() -> Status {
        CC_ASSIGN(std::string id, create_group(ctx, vpc, all_traffic_name(instance),
                                               "containctl temporary all-traffic group (untracks flows)",
                                               {{kTagPurpose, "all-traffic"}, {kTagInstance, instance},
                                                {kTagRunId, ctx.run_id}}));
        std::lock_guard l(mu);
        temp[vpc] = id;
        return Ok{};
      });
  }
  // On resume the journaled groups are the originals while the interfaces may already be isolated:
  // read them again (in the same round as the creates) so an isolated interface is never reopened.
  std::map<std::string, std::vector<std::string>> current;
  creates.push_back([&]() -> Status {
    CC_ASSIGN(auto groups, interface_groups(ctx, step));
    std::lock_guard l(mu);
    current = std::move(groups);
    return Ok{};
  });
  CC_TRY(parallel(ctx.clock, std::move(creates)));

  for (const std::string& vpc : vpcs_of(step)) {
    const json& have_iso = before["isolation_groups"].value(vpc, json());
    if (have_iso.is_null() || have_iso["egress"].get<int>() > 0) {
      rules.push_back([&, vpc] {
        aws::Params p = {{"GroupId", iso[vpc]}};
        for (auto& kv : all_traffic_rule(true, false)) p.push_back(kv);
        return tolerate(as_status(call(ctx, "ec2", "RevokeSecurityGroupEgress", p)), {"InvalidPermission.NotFound"});
      });
    }
    // Untracked needs all traffic in both directions for IPv4 and IPv6; a new group already has
    // the IPv4 egress rule.
    rules.push_back([&, vpc] {
      aws::Params p = {{"GroupId", temp[vpc]}};
      for (auto& kv : all_traffic_rule(true, true)) p.push_back(kv);
      return tolerate(as_status(call(ctx, "ec2", "AuthorizeSecurityGroupIngress", p)), {"InvalidPermission.Duplicate"});
    });
    rules.push_back([&, vpc] {
      aws::Params p = {{"GroupId", temp[vpc]}};
      for (auto& kv : all_traffic_rule(false, true)) p.push_back(kv);
      return tolerate(as_status(call(ctx, "ec2", "AuthorizeSecurityGroupEgress", p)), {"InvalidPermission.Duplicate"});
    });
  }
  CC_TRY(parallel(ctx.clock, std::move(rules)));

  std::vector<json> to_move;
  for (const auto& e : before["interfaces"]) {
    const std::vector<std::string> target = {iso[e["vpc_id"]]};
    auto it = current.find(e["id"]);
    if (it == current.end()) return Error::invalid("network interface " + e["id"].get<std::string>() + " no longer exists");
    if (it->second != target) to_move.push_back(e);
  }
  std::vector<std::function<Status()>> moves;
  for (const auto& e : to_move)
    moves.push_back([&, e] { return set_groups(ctx, e["id"], {temp[e["vpc_id"]]}); });
  CC_TRY(parallel(ctx.clock, std::move(moves)));
  if (!to_move.empty()) {
    const int dwell = step.args.value("dwell_seconds", 0);
    if (dwell > 0) wait_without_calls(ctx, std::chrono::seconds(dwell));  // no calls: others use the slot
  }
  moves.clear();
  for (const auto& e : to_move) moves.push_back([&, e] { return set_groups(ctx, e["id"], {iso[e["vpc_id"]]}); });
  CC_TRY(parallel(ctx.clock, std::move(moves)));

  std::vector<std::function<Status()>> deletes;
  std::vector<std::string> kept;
  for (const auto& [vpc, id] : temp)
    deletes.push_back([&, id = id]() -> Status {
      Status s = tolerate(as_status(call(ctx, "ec2", "DeleteSecurityGroup", {{"GroupId", id}})), {"InvalidGroup.NotFound"});
      if (!s.ok()) {
        // Containment holds; rollback (or a re-run) deletes the leftover group.
        spdlog::warn("ec2-isolate: temporary group {} not deleted yet: {}", id, s.error().describe());
        std::lock_guard l(mu);
        kept.push_back(id);
      }
      return Ok{};
    });
  CC_TRY(parallel(ctx.clock, std::move(deletes)));
  json applied = {{"isolation_groups", iso}, {"created_isolation_groups", created}, {"all_traffic_groups", temp},
                  {"all_traffic_groups_kept", kept}};
  return applied;
}

Status verify(Context& ctx, const Step& step) {
  std::map<std::string, std::vector<std::string>> groups;
  FamilyGroups fam;
  CC_TRY(parallel(ctx.clock, {[&]() -> Status {
                     CC_ASSIGN(groups, interface_groups(ctx, step));
                     return Ok{};
                   },
                   [&]() -> Status {
                     CC_ASSIGN(fam, family_groups(ctx, step));
                     return Ok{};
                   }}));
  for (const auto& e : step.args["interfaces"]) {
    const std::string id = e["id"];
    auto g = fam.isolation.find(e["vpc_id"]);
    if (g == fam.isolation.end()) return not_holding("no isolation group exists in " + e["vpc_id"].get<std::string>());
    if (g->second["ingress"].get<int>() != 0 || g->second["egress"].get<int>() != 0)
      return not_holding("isolation group " + g->second["id"].get<std::string>() + " has rules");
    const std::vector<std::string> want = {g->second["id"]};
    if (groups[id] != want)
      return not_holding("interface " + id + " is in [" + json(groups[id]).dump() + "], not only the isolation group " +
                         want[0]);
  }
  return Ok{};
}

// Deletes `group` unless an interface still uses it (another contained instance).
Status delete_if_unused(Context& ctx, const std::string& group) {
  aws::Params p;
  add_filter(p, 1, "group-id", {group});
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeNetworkInterfaces", p));
  if (!items(r.root(), "networkInterfaceSet").empty()) return Ok{};
  return tolerate(as_status(call(ctx, "ec2", "DeleteSecurityGroup", {{"GroupId", group}})),
                  {"InvalidGroup.NotFound", "DependencyViolation"});
}

Status rollback(Context& ctx, const Step& step, const json& before, const json& applied) {
  std::vector<std::function<Status()>> restores;
  for (const auto& e : before["interfaces"])
    restores.push_back([&, e] {
      return tolerate(set_groups(ctx, e["id"], e["groups"].get<std::vector<std::string>>()),
                      {"InvalidNetworkInterfaceID.NotFound"});
    });
  FamilyGroups fam;
  restores.push_back([&]() -> Status {
    CC_ASSIGN(fam, family_groups(ctx, step));
    return Ok{};
  });
  CC_TRY(parallel(ctx.clock, std::move(restores)));
  std::vector<std::function<Status()>> deletes;
  for (const auto& [vpc, g] : fam.all_traffic)
    deletes.push_back([&, id = g["id"].get<std::string>()] { return delete_if_unused(ctx, id); });
  for (const auto& [vpc, g] : fam.isolation)
    deletes.push_back([&, id = g["id"].get<std::string>()] { return delete_if_unused(ctx, id); });
  return parallel(ctx.clock, std::move(deletes));
}

Status verify_rollback(Context& ctx, const Step& step, const json& before) {
  CC_ASSIGN(auto groups, interface_groups(ctx, step));
  for (const auto& e : before["interfaces"]) {
    const std::string id = e["id"];
    auto it = groups.find(id);
    if (it == groups.end()) continue;  // the interface was deleted since; nothing to restore
    if (it->second != sorted_groups(e["groups"]))
      return not_holding("interface " + id + " is in " + json(it->second).dump() + ", originally " + e["groups"].dump());
  }
  return Ok{};
}

}  // namespace

StepOps isolate_network_ops() { return {capture, apply, verify, rollback, verify_rollback}; }

}  // namespace containctl::actions::ec2
