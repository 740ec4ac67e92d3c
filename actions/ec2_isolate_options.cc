// The optional steps, off by default: minimum connection-tracking timeouts, revoking the
// instance-profile role's sessions for this instance only, and the subnet network-ACL hard cut.
#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>

#include "actions/ec2_isolate_util.h"
#include "actions/iam_common.h"
#include "aws/idempotency.h"
#include "aws/sigv4.h"

namespace containctl::actions::ec2 {
namespace {

Status ok_or(const Result<aws::XmlResponse>& r) { return r.ok() ? Status(Ok{}) : Status(r.error()); }

// ---- conntrack-timeouts (ec2.min_conntrack_timeouts) ----

// EC2's defaults, restored when an interface had no explicit configuration. There is no call that
// removes the configuration, and Nitro v6 instances default TCP to 350 s (docs/ec2-isolate.md).
const Timeouts kDefaultTimeouts{432000, 180, 30};

Result<json> conntrack_capture(Context& ctx, const Step& step, const StepArgs& a) {
  aws::Params p;
  int n = 0;
  for (const auto& id : a.interface_ids) p.emplace_back("NetworkInterfaceId." + std::to_string(++n), id);
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeNetworkInterfaces", p));
  json out = json::object();
  for (auto eni : items(r.root(), "networkInterfaceSet")) {
    json ct = nullptr;
    if (pugi::xml_node c = eni.child("connectionTrackingConfiguration")) {
      ct = json::object();
      for (const char* k : {"tcpEstablishedTimeout", "udpStreamTimeout", "udpTimeout"})
        if (!text(c, k).empty()) ct[k] = std::stoi(text(c, k));
    }
    out[text(eni, "networkInterfaceId")] = ct;
  }
  return json{{"interfaces", out}};
}

Status set_timeouts(Context& ctx, const std::string& eni, const Timeouts& t) {
  return ok_or(call(ctx, "ec2", "ModifyNetworkInterfaceAttribute",
                    {{"NetworkInterfaceId", eni},
                     {"ConnectionTrackingSpecification.TcpEstablishedTimeout", std::to_string(t.tcp_established)},
                     {"ConnectionTrackingSpecification.UdpStreamTimeout", std::to_string(t.udp_stream)},
                     {"ConnectionTrackingSpecification.UdpTimeout", std::to_string(t.udp)}}));
}

// A journaled before-state's timeouts (null: the interface had no explicit configuration).
Result<Timeouts> journaled_timeouts(const std::string& eni, const json& t) {
  if (t.is_null()) return kDefaultTimeouts;
  Timeouts out;
  for (auto [key, field] : {std::pair{"tcpEstablishedTimeout", &out.tcp_established},
                            std::pair{"udpStreamTimeout", &out.udp_stream}, std::pair{"udpTimeout", &out.udp}}) {
    auto it = t.is_object() ? t.find(key) : t.end();
    if (!t.is_object() || it == t.end() || !it->is_number_integer())
      return Error::invalid("the journaled connection tracking of " + eni + " has no integer " + key, "InvalidJournal");
    *field = it->get<int>();
  }
  return out;
}

Result<json> conntrack_apply(Context& ctx, const Step& step, const StepArgs& a, const json&) {
  std::vector<std::function<Status()>> calls;
  for (const auto& id : a.interface_ids) calls.push_back([&, id] { return set_timeouts(ctx, id, a.timeouts); });
  CC_TRY(parallel(ctx.clock, std::move(calls)));
  return json::object();
}

Status conntrack_verify(Context& ctx, const Step& step, const StepArgs& a) {
  CC_ASSIGN(json now, conntrack_capture(ctx, step, a));
  for (const auto& id : a.interface_ids)
    if (now["interfaces"].value(id, json()) != a.timeouts.to_json())
      return not_holding("connection tracking of " + id + " is " + now["interfaces"].value(id, json()).dump());
  return Ok{};
}

Status conntrack_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json&) {
  std::vector<std::function<Status()>> calls;
  const json journaled = before.value("interfaces", json::object());
  for (const auto& [id, t] : journaled.items()) {
    CC_ASSIGN(Timeouts want, journaled_timeouts(id, t));
    calls.push_back([&, id = id, want] { return set_timeouts(ctx, id, want); });
  }
  return parallel(ctx.clock, std::move(calls));
}

Status conntrack_verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  CC_ASSIGN(json now, conntrack_capture(ctx, step, a));
  for (const auto& [id, t] : before.at("interfaces").items()) {
    const json is = now["interfaces"].value(id, json());
    if (is != t && !(t.is_null() && is == kDefaultTimeouts.to_json()))
      return not_holding("connection tracking of " + id + " is " + is.dump() + ", originally " + t.dump());
  }
  return Ok{};
}

// ---- revoke-role-sessions (ec2.revoke_instance_role_sessions) ----

// GetRolePolicy text for each role (null: no such inline policy).
Result<json> role_capture(Context& ctx, const Step& step, const StepArgs& a) {
  json out = json::object();
  std::mutex mu;
  std::vector<std::function<Status()>> calls;
  for (const auto& role : a.roles)
    calls.push_back([&, role]() -> Status {
      auto r = ctx.client.query("iam", ctx.region, "GetRolePolicy", {{"RoleName", role}, {"PolicyName", a.policy_name}});
      json doc = nullptr;
      if (r.ok()) {
        doc = aws::uri_decode(aws::xml_text(r->root(), "PolicyDocument"));
      } else if (!has_code(r.error(), {"NoSuchEntity"})) {
        return r.error();
      }
      std::lock_guard l(mu);
      out[role] = doc;
      return Ok{};
    });
  CC_TRY(parallel(ctx.clock, std::move(calls)));
  return json{{"policies", out}};
}

// Sessions issued before `cutoff`, to this instance only: other instances sharing the role keep
// working, and the contained instance can still fetch fresh credentials (it is isolated).
std::string revocation_document(const std::string& instance_arn, const std::string& cutoff) {
  json policy = {{"Version", "2012-10-17"},
                 {"Statement",
                  {{{"Sid", "ContainctlRevokeInstanceSessions"},
                    {"Effect", "Deny"},
                    {"Action", "*"},
                    {"Resource", "*"},
                    {"Condition",
                     {{"StringEquals", {{"ec2:SourceInstanceARN", instance_arn}}},
                      {"DateLessThan", {{"aws:TokenIssueTime", cutoff}}}}}}}}};
  return policy.dump();
}

// The document's cutoff when it is exactly what role_apply writes, whatever cutoff; nullopt
// otherwise. Judged on the document's content, never its Sid or name (an adversary can write a
// policy under our name with our Sid and Effect Allow).
std::optional<std::string> our_cutoff(const json& doc, const StepArgs& a) {
  if (!doc.is_string()) return std::nullopt;
  const std::string& instance_arn = a.instance_arn;
  return iam::match_document(doc.get<std::string>(), true, [&](const std::string& cutoff) {
    return revocation_document(instance_arn, cutoff);
  });
}

Result<json> role_apply(Context& ctx, const Step& step, const StepArgs& a, const json&) {
  const std::string issued_before = aws::format_iso8601(ctx.clock.now());
  const std::string policy = revocation_document(a.instance_arn, issued_before);
  std::vector<std::function<Status()>> calls;
  // Always written, with this apply's cutoff: a document already there in our exact shape may be
  // an adversary's, dated so that it revokes nothing (a resumed apply writing again is harmless).
  for (const auto& role : a.roles) {
    calls.push_back([&, role] {
      return ok_or(ctx.client.query("iam", ctx.region, "PutRolePolicy",
                                    {{"RoleName", role}, {"PolicyName", a.policy_name}, {"PolicyDocument", policy}}));
    });
  }
  CC_TRY(parallel(ctx.clock, std::move(calls)));
  return json{{"token_issue_time", issued_before}};
}

// Each role holds our revocation document, with a cutoff no earlier than `not_before` when set.
Status role_expect(Context& ctx, const Step& step, const StepArgs& a, const std::optional<aws::TimePoint>& not_before) {
  CC_ASSIGN(json now, role_capture(ctx, step, a));
  for (const auto& role : a.roles) {
    const auto cutoff = our_cutoff(now["policies"].value(role, json()), a);
    if (!cutoff)
      return not_holding("role " + role + " has no session-revocation policy for this instance");
    aws::TimePoint at;
    if (not_before && (!aws::parse_time(*cutoff, at) || at < *not_before))
      return not_holding("the session-revocation policy on role " + role + " revokes sessions issued before " +
                         *cutoff + ", not those before " + aws::format_iso8601(*not_before) + " as applied");
  }
  return Ok{};
}

// Without the apply record: the content only.
Status role_verify(Context& ctx, const Step& step, const StepArgs& a) { return role_expect(ctx, step, a, std::nullopt); }

// Apply always writes its own cutoff, so a document of ours dated earlier than the one it
// recorded (say planted after apply, before a resumed run's verify) revokes too little.
Status role_verify_applied(Context& ctx, const Step& step, const StepArgs& a, const json& applied) {
  const json& t = applied.is_object() && applied.contains("token_issue_time") ? applied.at("token_issue_time") : json();
  aws::TimePoint cutoff;
  if (!t.is_string() || !aws::parse_time(t.get<std::string>(), cutoff))
    return not_holding("the apply record of " + step.id + " holds no token_issue_time to check the revocation against");
  return role_expect(ctx, step, a, cutoff);
}

Status role_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json&) {
  std::vector<std::function<Status()>> calls;
  for (const auto& [role, doc] : before.at("policies").items())
    calls.push_back([&, role = role, doc = doc]() -> Status {
      if (doc.is_string())
        return ok_or(ctx.client.query("iam", ctx.region, "PutRolePolicy",
                                      {{"RoleName", role}, {"PolicyName", a.policy_name},
                                       {"PolicyDocument", doc.get<std::string>()}}));
      auto r = ctx.client.query("iam", ctx.region, "DeleteRolePolicy",
                                {{"RoleName", role}, {"PolicyName", a.policy_name}});
      if (!r.ok() && !has_code(r.error(), {"NoSuchEntity"})) return r.error();
      return Ok{};
    });
  return parallel(ctx.clock, std::move(calls));
}

Status role_verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  CC_ASSIGN(json now, role_capture(ctx, step, a));
  for (const auto& [role, doc] : before.at("policies").items()) {
    const json& is = now["policies"][role];
    bool same = doc.is_null() ? is.is_null()
                              : is.is_string() && json::parse(is.get<std::string>(), nullptr, false) ==
                                                      json::parse(doc.get<std::string>(), nullptr, false);
    if (!same) return not_holding("inline policy on role " + role + " is not as it was");
  }
  return Ok{};
}

// ---- nacl-hard-cut (ec2.nacl_hard_cut): subnet-wide ----

// subnet -> {network_acl_id, association_id} now.
Result<json> nacl_capture(Context& ctx, const Step& step, const StepArgs& a) {
  const std::vector<std::string>& subnets = a.subnets;
  aws::Params p;
  add_filter(p, 1, "association.subnet-id", subnets);
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeNetworkAcls", p));
  json out = json::object();
  for (auto acl : items(r.root(), "networkAclSet"))
    for (auto a : items(acl, "associationSet"))
      for (const auto& s : subnets)
        if (text(a, "subnetId") == s)
          out[s] = {{"network_acl_id", text(acl, "networkAclId")}, {"association_id", text(a, "networkAclAssociationId")}};
  return json{{"subnets", out}};
}

// What containctl judges a hard-cut ACL by: its allow entries and its subnet associations.
struct CutAcl {
  std::string id;  // "" when none was found
  bool allows = false;
  bool associated = false;
};

// The run's hard-cut ACL: `known_id` (apply's record) or the id apply got in this process;
// otherwise (a restarted process without an apply record) the ACL tagged for this instance and
// run. Tags are anyone's to write, so what is found by them only counts as ours when its content
// is what CreateNetworkAcl made: see nacl_rollback.
Result<CutAcl> find_cut_acl(Context& ctx, const Step& step, const StepArgs& a, std::string known_id = "") {
  if (known_id.empty()) known_id = created_in_process("nacl/" + nacl_token(ctx, step, a));
  aws::Params p;
  if (!known_id.empty()) {
    p.emplace_back("NetworkAclId.1", known_id);
  } else {
    add_filter(p, 1, std::string("tag:") + kTagPurpose, {"hard-cut"});
    add_filter(p, 2, std::string("tag:") + kTagInstance, {a.instance_id});
    add_filter(p, 3, std::string("tag:") + kTagRunId, {ctx.run_id});
  }
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeNetworkAcls", p));
  for (auto acl : items(r.root(), "networkAclSet")) {
    CutAcl out{text(acl, "networkAclId")};
    for (auto e : items(acl, "entrySet")) out.allows |= text(e, "ruleAction") == "allow";
    out.associated = !items(acl, "associationSet").empty();
    return out;
  }
  return CutAcl{};
}

Result<json> nacl_apply(Context& ctx, const Step& step, const StepArgs& a, const json&) {
  if (ctx.run_id.empty()) return Error::internal("nacl-hard-cut applied without a run id");
  // Current associations, not the journaled ones: a resumed apply finds them already replaced
  // (an association id changes with every replacement).
  std::string acl;
  json now;
  CC_TRY(parallel(ctx.clock, {[&]() -> Status {
                     // A new custom network ACL has no entries: it denies all traffic both ways.
                     aws::Params p = {{"VpcId", a.vpc_id}, {"ClientToken", nacl_token(ctx, step, a)}};
                     add_tag_spec(p, "network-acl",
                                  {{kTagPurpose, "hard-cut"}, {kTagInstance, a.instance_id},
                                   {kTagRunId, ctx.run_id}});
                     CC_ASSIGN(auto r, call(ctx, "ec2", "CreateNetworkAcl", p));
                     acl = text(r.root(), "networkAcl/networkAclId");
                     remember_created("nacl/" + nacl_token(ctx, step, a), acl);
                     return Ok{};
                   },
                   [&]() -> Status {
                     CC_ASSIGN(now, nacl_capture(ctx, step, a));
                     return Ok{};
                   }}));
  std::vector<std::function<Status()>> calls;
  for (const auto& [subnet, cur] : now["subnets"].items()) {
    if (cur["network_acl_id"] == acl) continue;
    calls.push_back([&, cur = cur] {
      return ok_or(call(ctx, "ec2", "ReplaceNetworkAclAssociation",
                        {{"AssociationId", cur["association_id"]}, {"NetworkAclId", acl}}));
    });
  }
  CC_TRY(parallel(ctx.clock, std::move(calls)));
  return json{{"network_acl_id", acl}};
}

Status nacl_check(Context& ctx, const Step& step, const StepArgs& a, const CutAcl& acl) {
  CC_ASSIGN(json now, nacl_capture(ctx, step, a));
  if (acl.allows) return not_holding("hard-cut network ACL " + acl.id + " has an allow entry");
  for (const auto& s : a.subnets)
    if (acl.id.empty() || now["subnets"].value(s, json::object()).value("network_acl_id", "") != acl.id)
      return not_holding("subnet " + s + " is not on the hard-cut network ACL");
  return Ok{};
}

Status nacl_verify(Context& ctx, const Step& step, const StepArgs& a) {
  CC_ASSIGN(CutAcl acl, find_cut_acl(ctx, step, a));
  return nacl_check(ctx, step, a, acl);
}

// The ACL apply recorded, never one found by its tags.
Status nacl_verify_applied(Context& ctx, const Step& step, const StepArgs& a, const json& applied) {
  const std::string id = applied.is_object() ? applied.value("network_acl_id", "") : "";
  if (id.empty()) return not_holding("the apply record of " + step.id + " holds no network_acl_id");
  CC_ASSIGN(CutAcl acl, find_cut_acl(ctx, step, a, id));
  return nacl_check(ctx, step, a, acl);
}

Status nacl_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json& applied) {
  CC_ASSIGN(json now, nacl_capture(ctx, step, a));
  std::vector<std::function<Status()>> calls;
  for (const auto& [subnet, orig] : before.at("subnets").items()) {
    const json cur = now["subnets"].value(subnet, json());
    if (cur.is_null() || cur["network_acl_id"] == orig.at("network_acl_id")) continue;
    calls.push_back([&, cur, orig = orig] {
      return ok_or(call(ctx, "ec2", "ReplaceNetworkAclAssociation",
                        {{"AssociationId", cur["association_id"]}, {"NetworkAclId", orig.at("network_acl_id")}}));
    });
  }
  CC_TRY(parallel(ctx.clock, std::move(calls)));
  std::string acl = applied.is_object() ? applied.value("network_acl_id", "") : "";
  if (acl.empty()) {
    // No apply record (the process died during apply): the ACL is looked up by its tags, which
    // anyone can write. Only one shaped as CreateNetworkAcl left it (no allow entry, and no subnet
    // now that theirs are back) is deleted; another is not containctl's to touch, and deleting
    // one still in use would fail and block the rollback.
    CC_ASSIGN(CutAcl found, find_cut_acl(ctx, step, a));
    if (!found.id.empty() && (found.allows || found.associated)) {
      spdlog::warn("network ACL {} carries the tags of run {}'s hard cut for {} but has {}: not containctl's, left as is",
                   found.id, ctx.run_id, a.instance_id,
                   found.allows ? "an allow entry" : "a subnet association");
      return Ok{};
    }
    acl = found.id;
  }
  if (acl.empty()) return Ok{};
  auto r = call(ctx, "ec2", "DeleteNetworkAcl", {{"NetworkAclId", acl}});
  if (!r.ok() && !has_code(r.error(), {"InvalidNetworkAclID.NotFound"})) return r.error();
  return Ok{};
}

Status nacl_verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  CC_ASSIGN(json now, nacl_capture(ctx, step, a));
  for (const auto& [subnet, orig] : before.at("subnets").items())
    if (now["subnets"].value(subnet, json::object()).value("network_acl_id", "") != orig.at("network_acl_id"))
      return not_holding("subnet " + subnet + " is not back on network ACL " + orig.at("network_acl_id").get<std::string>());
  return Ok{};
}

}  // namespace

// The idempotency token of the run's hard-cut ACL for this instance, the same in every attempt
// and every process: a retried (lost answer) or resumed CreateNetworkAcl returns the ACL the first
// request made instead of making a second one.
std::string nacl_token(const Context& ctx, const Step& step, const StepArgs& a) {
  return aws::ec2_client_token({ctx.run_id, step.id, a.instance_id});
}

StepOps conntrack_ops() {
  return {conntrack_capture, conntrack_apply, conntrack_verify, without_options(conntrack_rollback), conntrack_verify_rollback};
}
StepOps role_sessions_ops() {
  return {role_capture,         role_apply, role_verify, without_options(role_rollback), role_verify_rollback,
          role_verify_applied};
}
StepOps nacl_ops() {
  return {nacl_capture, nacl_apply, nacl_verify, without_options(nacl_rollback), nacl_verify_rollback,
          nacl_verify_applied};
}

}  // namespace containctl::actions::ec2
