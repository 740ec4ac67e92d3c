// Network isolation per interface (never through the instance's Groups attribute, which fails on
// multi-interface instances): original groups -> a temporary all-traffic group, which makes
// TCP/UDP flows untracked, -> an isolation group with no rules, which then cuts those untracked
// flows at once. Both groups belong to one instance and one run, under names with a random part
// that capture journals before anything is created: no other target, run or person can have made
// a group of that name first, so the family never adopts, writes or deletes a group it did not
// create, whatever its tags say, and two targets never write one group.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>

#include "actions/ec2_isolate_util.h"

namespace containctl::actions::ec2 {
namespace {

std::string isolation_prefix(const std::string& instance) { return "containctl-isolation-" + instance + "-"; }
std::string all_traffic_prefix(const std::string& instance) { return "containctl-all-traffic-" + instance + "-"; }
std::string created_key(const Context& ctx, const std::string& instance, const std::string& vpc) {
  return ctx.run_id + "/" + ctx.target.account + "/" + ctx.region + "/" + instance + "/" + vpc;
}

std::vector<std::string> vpcs_of(const StepArgs& a) {
  std::set<std::string> vpcs;
  for (const auto& e : a.interfaces) vpcs.insert(e.vpc_id);
  return {vpcs.begin(), vpcs.end()};
}

std::vector<std::string> sorted_groups(const json& groups) {
  std::vector<std::string> out;
  for (const auto& g : groups) out.push_back(g.get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

// Current groups of the step's interfaces: id -> sorted group ids.
Result<std::map<std::string, std::vector<std::string>>> interface_groups(Context& ctx, const Step& step, const StepArgs& a) {
  aws::Params p;
  int n = 0;
  for (const auto& e : a.interfaces) p.emplace_back("NetworkInterfaceId." + std::to_string(++n), e.id);
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

// A security group as read back: its rules in each direction. Every <item> of ipPermissions or
// ipPermissionsEgress is a rule, whatever it names (IPv4 or IPv6 ranges, prefix lists, groups).
struct GroupInfo {
  std::string id, name, vpc, run_tag;
  size_t ingress = 0, egress = 0;
  bool rule_free() const { return ingress == 0 && egress == 0; }
};

std::vector<GroupInfo> parse_groups(const aws::XmlResponse& r) {
  std::vector<GroupInfo> out;
  for (auto g : items(r.root(), "securityGroupInfo")) {
    GroupInfo info{text(g, "groupId"), text(g, "groupName"), text(g, "vpcId"), "",
                   items(g, "ipPermissions").size(), items(g, "ipPermissionsEgress").size()};
    for (auto t : items(g, "tagSet"))
      if (text(t, "key") == kTagRunId) info.run_tag = text(t, "value");
    out.push_back(info);
  }
  return out;
}

// The group named `name` in `vpc`, if any. Only for names with an unguessable part.
Result<std::string> group_by_name(Context& ctx, const std::string& vpc, const std::string& name) {
  aws::Params q;
  add_filter(q, 1, "vpc-id", {vpc});
  add_filter(q, 2, "group-name", {name});
  CC_ASSIGN(auto d, call(ctx, "ec2", "DescribeSecurityGroups", q));
  for (auto g : items(d.root(), "securityGroupInfo")) return text(g, "groupId");
  return std::string();
}

// CreateSecurityGroup is not idempotent and takes no ClientToken: sent as not idempotent, and
// after an ambiguous failure (the request may have been processed) or a duplicate name, read the
// group back by its name before trying again. The name was journaled before the first attempt
// and has a random part, so a group found under it is this run's.
Result<std::string> create_group(Context& ctx, const std::string& vpc, const std::string& name,
                                 const std::string& description,
                                 const std::vector<std::pair<std::string, std::string>>& tags) {
  aws::Params p = {{"GroupName", name}, {"GroupDescription", description}, {"VpcId", vpc}};
  add_tag_spec(p, "security-group", tags);
  Error last = Error::internal("CreateSecurityGroup not attempted");
  for (int attempt = 1; attempt <= ctx.client.config().retry.max_attempts; ++attempt) {
    auto r = call_not_idempotent(ctx, "ec2", "CreateSecurityGroup", p);
    if (r.ok()) return text(r->root(), "groupId");
    last = r.error();
    const bool duplicate = has_code(last, {"InvalidGroup.Duplicate"});
    if (!duplicate && !ambiguous(last)) return last;
    CC_ASSIGN(std::string found, group_by_name(ctx, vpc, name));
    if (!found.empty()) return found;
    if (duplicate) return last;
  }
  return last;
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

// The all-traffic window: interfaces go to their all-traffic group (flows become untracked), stay
// for the dwell, then go to isolation. The window is journaled before it opens. It never stays
// open when this returns: an interface whose move to isolation fails goes back to the groups it
// had (the others stay isolated); only when that fails too does the window stay recorded, for
// status and rollback to name. An interrupted run cuts the dwell short and still isolates.
Status untrack_then_isolate(Context& ctx, const Step& step, const StepArgs& a, const std::vector<json>& to_move,
                            const std::map<std::string, std::vector<std::string>>& current,
                            const std::map<std::string, std::string>& temp,
                            const std::map<std::string, std::string>& iso) {
  if (to_move.empty()) return Ok{};
  json window = json::array();
  for (const auto& e : to_move) window.push_back({{"interface", e.at("id")}, {"all_traffic_group", temp.at(e.at("vpc_id"))}});
  CC_TRY(open_window(ctx, step,
                     {{"kind", "all-traffic"}, {"instance", a.instance_id}, {"interfaces", window},
                      {"why", "interfaces in a security group that allows all traffic in and out (untrack window)"}}));
  // Worker threads only read these maps (.at, never operator[], which may insert).
  std::vector<std::function<Status()>> moves;
  for (const auto& e : to_move) moves.push_back([&, e] { return set_groups(ctx, e.at("id"), {temp.at(e.at("vpc_id"))}); });
  Status untracked = parallel(ctx.clock, std::move(moves));
  // A failed move to the all-traffic group skips the dwell but still isolates: never left half-way.
  const int dwell = a.dwell_seconds;
  if (untracked.ok() && dwell > 0) wait_without_calls(ctx, std::chrono::seconds(dwell));  // others use the slot
  moves.clear();
  std::vector<char> in_isolation(to_move.size(), 0);  // one writer per element
  for (size_t i = 0; i < to_move.size(); ++i)
    moves.push_back([&, i] {
      Status st = set_groups(ctx, to_move[i]["id"], {iso.at(to_move[i]["vpc_id"])});
      in_isolation[i] = st.ok();
      return st;
    });
  Status isolated = parallel(ctx.clock, std::move(moves));
  if (isolated.ok()) {
    close_window(ctx, step);
    return untracked;
  }
  // Only the interfaces that did not reach isolation go back, to where each was when this apply
  // began (on a resume that may be the all-traffic group itself: then the groups before containment).
  moves.clear();
  for (size_t i = 0; i < to_move.size(); ++i) {
    if (in_isolation[i]) continue;
    const json& e = to_move[i];
    auto it = current.find(e.at("id"));
    std::vector<std::string> back = e.at("groups").get<std::vector<std::string>>();
    if (it != current.end() && it->second != std::vector<std::string>{temp.at(e.at("vpc_id"))}) back = it->second;
    moves.push_back([&, e, back] { return set_groups(ctx, e.at("id"), back); });
  }
  Status reverted = parallel(ctx.clock, std::move(moves));
  if (reverted.ok()) {
    close_window(ctx, step);
    Error e = isolated.error();
    e.message = "moving the interfaces to isolation failed (those that did not reach it are back in their original "
                "groups): " + e.message;
    return e;
  }
  spdlog::error("ec2-isolate: interfaces of {} may still be in the all-traffic group: {}; run apply --resume or "
                "rollback",
                a.instance_id, reverted.error().describe());
  return isolated;
}

// The interfaces' groups, and the names apply will create its groups under (journaled with the
// before-state, so that a resumed apply or a rollback after a crash finds exactly those).
Result<json> capture(Context& ctx, const Step& step, const StepArgs& a) {
  CC_ASSIGN(auto groups, interface_groups(ctx, step, a));
  const std::string& instance = a.instance_id;
  json before = {{"interfaces", json::array()}, {"group_names", json::object()}};
  for (const auto& e : a.interfaces) {
    auto it = groups.find(e.id);
    if (it == groups.end()) return Error::invalid("network interface " + e.id + " no longer exists");
    before["interfaces"].push_back({{"id", e.id}, {"vpc_id", e.vpc_id}, {"groups", it->second}});
  }
  for (const std::string& vpc : vpcs_of(a))
    before["group_names"][vpc] = {{"isolation", isolation_prefix(instance) + unguessable_suffix()},
                                  {"all_traffic", all_traffic_prefix(instance) + unguessable_suffix()}};
  return before;
}

Result<json> apply(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  const std::string& instance = a.instance_id;
  if (!before.contains("group_names") || !before.at("group_names").is_object())
    return Error::invalid("the journaled before-state of isolate-network names no groups (captured by an older "
                          "containctl): roll this run back and plan again", "InvalidPlan");
  std::mutex mu;
  std::map<std::string, std::string> iso, temp;  // vpc -> group id
  std::vector<std::function<Status()>> creates, rules;
  for (const std::string& vpc : vpcs_of(a)) {
    const json names = before.at("group_names").value(vpc, json::object());
    const std::string iso_name = names.value("isolation", ""), temp_name = names.value("all_traffic", "");
    if (iso_name.empty() || temp_name.empty())
      return Error::invalid("the journaled before-state of isolate-network names no groups for " + vpc, "InvalidPlan");
    creates.push_back([&, vpc, iso_name]() -> Status {
      CC_ASSIGN(std::string id, create_group(ctx, vpc, iso_name, "containctl isolation: no inbound, no outbound",
                                             {{kTagPurpose, "isolation"}, {kTagInstance, instance},
                                              {kTagRunId, ctx.run_id}}));
      remember_created(created_key(ctx, instance, vpc), id);
      std::lock_guard l(mu);
      iso[vpc] = id;
      return Ok{};
    });
    creates.push_back([&, vpc, temp_name]() -> Status {
      CC_ASSIGN(std::string id, create_group(ctx, vpc, temp_name,
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
    CC_ASSIGN(auto groups, interface_groups(ctx, step, a));
    std::lock_guard l(mu);
    current = std::move(groups);
    return Ok{};
  });
  CC_TRY(parallel(ctx.clock, std::move(creates)));

  for (const std::string& vpc : vpcs_of(a)) {
    // A new group allows all egress (IPv4, and IPv6 in a dual-stack VPC): the isolation group
    // keeps neither. Verify reads back that it has no rule at all.
    for (bool v6 : {false, true})
      rules.push_back([&, vpc, v6] {
        aws::Params p = {{"GroupId", iso[vpc]}};
        for (auto& kv : all_traffic_rule(!v6, v6)) p.push_back(kv);
        return tolerate(as_status(call(ctx, "ec2", "RevokeSecurityGroupEgress", p)), {"InvalidPermission.NotFound"});
      });
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
  for (const auto& e : before.at("interfaces")) {
    const std::vector<std::string> target = {iso[e.at("vpc_id")]};
    auto it = current.find(e.at("id"));
    if (it == current.end()) return Error::invalid("network interface " + e.at("id").get<std::string>() + " no longer exists");
    if (it->second != target) to_move.push_back(e);
  }
  CC_TRY(untrack_then_isolate(ctx, step, a, to_move, current, temp, iso));

  std::vector<std::function<Status()>> deletes;
  std::vector<std::string> kept;
  for (const auto& [vpc, id] : temp)
    deletes.push_back([&, id = id]() -> Status {
      Status s = tolerate(as_status(call(ctx, "ec2", "DeleteSecurityGroup", {{"GroupId", id}})), {"InvalidGroup.NotFound"});
      if (!s.ok()) {
        // Containment holds; rollback deletes the leftover group.
        spdlog::warn("ec2-isolate: temporary group {} not deleted yet: {}", id, s.error().describe());
        std::lock_guard l(mu);
        kept.push_back(id);
      }
      return Ok{};
    });
  CC_TRY(parallel(ctx.clock, std::move(deletes)));
  return json{{"isolation_groups", iso}, {"all_traffic_groups", temp}, {"all_traffic_groups_kept", kept}};
}

// The run's isolation group of each VPC: the id apply created in this process; after a restart,
// the group under this instance's isolation name carrying the run's id (the name's random part
// is in the journal, which verify does not see).
Result<std::map<std::string, GroupInfo>> run_isolation_groups(Context& ctx, const Step& step, const StepArgs& a) {
  const std::string& instance = a.instance_id;
  aws::Params p;
  std::map<std::string, std::string> known;
  for (const std::string& vpc : vpcs_of(a)) {
    const std::string id = created_in_process(created_key(ctx, instance, vpc));
    if (!id.empty()) known[vpc] = id;
  }
  if (known.size() == vpcs_of(a).size()) {
    int n = 0;
    for (const auto& [vpc, id] : known) p.emplace_back("GroupId." + std::to_string(++n), id);
  } else {
    add_filter(p, 1, "vpc-id", vpcs_of(a));
    add_filter(p, 2, std::string("tag:") + kTagInstance, {instance});
    add_filter(p, 3, std::string("tag:") + kTagRunId, {ctx.run_id});
  }
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeSecurityGroups", p));
  std::map<std::string, GroupInfo> out;
  for (const GroupInfo& g : parse_groups(r)) {
    if (known.count(g.vpc) ? known[g.vpc] != g.id : g.run_tag != ctx.run_id || ctx.run_id.empty()) continue;
    if (g.name.rfind(isolation_prefix(instance), 0) != 0) continue;
    out[g.vpc] = g;
  }
  return out;
}

Status verify(Context& ctx, const Step& step, const StepArgs& a) {
  std::map<std::string, std::vector<std::string>> groups;
  std::map<std::string, GroupInfo> iso;
  CC_TRY(parallel(ctx.clock, {[&]() -> Status {
                     CC_ASSIGN(groups, interface_groups(ctx, step, a));
                     return Ok{};
                   },
                   [&]() -> Status {
                     CC_ASSIGN(iso, run_isolation_groups(ctx, step, a));
                     return Ok{};
                   }}));
  for (const auto& e : a.interfaces) {
    const std::string& id = e.id;
    auto g = iso.find(e.vpc_id);
    if (g == iso.end()) return not_holding("this run has no isolation group in " + e.vpc_id);
    if (!g->second.rule_free())
      return not_holding("isolation group " + g->second.id + " has " + std::to_string(g->second.ingress) +
                         " inbound and " + std::to_string(g->second.egress) + " outbound rule(s)");
    const std::vector<std::string> want = {g->second.id};
    if (groups[id] != want)
      return not_holding("interface " + id + " is in " + json(groups[id]).dump() + ", not only this run's isolation group " +
                         want[0]);
  }
  return Ok{};
}

// Deletes `group` unless an interface still uses it.
Status delete_if_unused(Context& ctx, const std::string& group) {
  aws::Params p;
  add_filter(p, 1, "group-id", {group});
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeNetworkInterfaces", p));
  if (!items(r.root(), "networkInterfaceSet").empty()) return Ok{};
  return tolerate(as_status(call(ctx, "ec2", "DeleteSecurityGroup", {{"GroupId", group}})),
                  {"InvalidGroup.NotFound", "DependencyViolation"});
}

// The groups this run created: from apply's record, or (the process died during apply) by the
// journaled names, which only this run can have used.
Result<std::set<std::string>> run_created_groups(Context& ctx, const json& before, const json& applied) {
  std::set<std::string> out;
  if (applied.is_object()) {
    for (const char* k : {"isolation_groups", "all_traffic_groups"}) {
      const json groups = applied.value(k, json::object());
      for (const auto& [vpc, id] : groups.items())
        if (id.is_string()) out.insert(id.get<std::string>());
    }
    return out;
  }
  std::mutex mu;
  std::vector<std::function<Status()>> reads;
  const json all_names = before.value("group_names", json::object());
  for (const auto& [vpc, names] : all_names.items())
    for (const char* k : {"isolation", "all_traffic"})
      reads.push_back([&, vpc = vpc, name = names.value(k, "")]() -> Status {
        if (name.empty()) return Ok{};
        CC_ASSIGN(std::string id, group_by_name(ctx, vpc, name));
        std::lock_guard l(mu);
        if (!id.empty()) out.insert(id);
        return Ok{};
      });
  CC_TRY(parallel(ctx.clock, std::move(reads)));
  return out;
}

// Puts each interface back in its original groups when it is still in this run's groups. An
// interface in any other group changed after this run's apply (another run contained it again,
// or someone moved it): restoring would undo that, so rollback stops unless forced.
Status rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json& applied,
                const RollbackOptions& options) {
  std::set<std::string> ours;
  std::map<std::string, std::vector<std::string>> current;
  CC_TRY(parallel(ctx.clock, {[&]() -> Status {
                     CC_ASSIGN(ours, run_created_groups(ctx, before, applied));
                     return Ok{};
                   },
                   [&]() -> Status {
                     CC_ASSIGN(current, interface_groups(ctx, step, a));
                     return Ok{};
                   }}));
  std::vector<std::function<Status()>> restores;
  std::string conflicts;
  for (const auto& e : before.at("interfaces")) {
    auto it = current.find(e.at("id"));
    if (it == current.end()) continue;  // the interface was deleted since; nothing to restore
    const std::vector<std::string> original = sorted_groups(e.at("groups"));
    if (it->second == original) continue;
    const bool only_ours = !it->second.empty() && std::all_of(it->second.begin(), it->second.end(),
                                                              [&](const std::string& g) { return ours.count(g) > 0; });
    if (!only_ours && !options.force) {
      conflicts += (conflicts.empty() ? "" : "; ") + e.at("id").get<std::string>() + " is in " + json(it->second).dump() +
                   " (original " + json(original).dump() + ")";
      continue;
    }
    restores.push_back([&, e] {
      return tolerate(set_groups(ctx, e.at("id"), e.at("groups").get<std::vector<std::string>>()),
                      {"InvalidNetworkInterfaceID.NotFound"});
    });
  }
  CC_TRY(parallel(ctx.clock, std::move(restores)));
  std::vector<std::function<Status()>> deletes;
  for (const std::string& id : ours) deletes.push_back([&, id] { return delete_if_unused(ctx, id); });
  CC_TRY(parallel(ctx.clock, std::move(deletes)));
  if (!conflicts.empty())
    return Error{ErrorKind::kRefused, "ChangedSinceApply",
                 "network interface(s) changed since this run isolated them, not in this run's groups any more "
                 "(another run contained them again, or someone moved them): " + conflicts +
                     ". Rollback left them as they are; rollback --force puts the original groups back anyway"};
  return Ok{};
}

Status verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  CC_ASSIGN(auto groups, interface_groups(ctx, step, a));
  for (const auto& e : before.at("interfaces")) {
    const std::string id = e.at("id");
    auto it = groups.find(id);
    if (it == groups.end()) continue;  // the interface was deleted since; nothing to restore
    if (it->second != sorted_groups(e.at("groups")))
      return not_holding("interface " + id + " is in " + json(it->second).dump() + ", originally " + e.at("groups").dump());
  }
  return Ok{};
}

}  // namespace

StepOps isolate_network_ops() { return {capture, apply, verify, rollback, verify_rollback}; }

}  // namespace containctl::actions::ec2
