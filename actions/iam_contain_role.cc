// iam-contain for IAM roles. Steps (independent of each other):
//   revoke-sessions  inline ContainctlRevokeOlderSessions: deny sessions issued before the apply time
//                    (the console's AWSRevokeOlderSessions pattern); must stay MaxSessionDuration
//   deny-all         (iam.full_deny=true) inline ContainctlDenyAll: deny everything, new sessions too
//   tag              containctl:contained-by-run = run id
#include <spdlog/spdlog.h>

#include "actions/iam_common.h"
#include "actions/iam_contain.h"
#include "actions/iam_contain_steps.h"

namespace containctl::actions::iam {

namespace {

constexpr Principal kRole = Principal::kRole;

std::string revoke_document(const std::string& cutoff) { return our_document(OurPolicy::kRoleRevoke, cutoff); }
std::string full_deny_document() { return our_document(OurPolicy::kRoleDeny, ""); }


// A revocation that is containctl's by content and still cuts sessions that may be alive: its
// cutoff is less than the role's maximum session duration ago. An older cutoff (an old run's, or
// an adversary's copy dated 2001) only denies sessions that have expired anyway.
std::optional<std::string> live_revocation(const Context& ctx, const json& policy, int max_session) {
  auto cutoff = match_ours(OurPolicy::kRoleRevoke, policy);
  aws::TimePoint at;
  if (!cutoff || !aws::parse_time(*cutoff, at)) return std::nullopt;
  if (at + std::chrono::seconds(max_session) <= ctx.clock.now()) return std::nullopt;
  return cutoff;
}

// True when the caller is a session of `role` (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION).
bool caller_is_role(const Identity& caller, const std::string& account, const std::string& role) {
  auto arn = aws::parse_arn(caller.arn);
  return arn.ok() && arn->kind == aws::ArnKind::kStsAssumedRole && arn->account == account &&
         aws::iam_name_equal(arn->name, role);
}

}  // namespace

Result<json> discover_role(Context& ctx) {
  const std::string& name = ctx.target.name;
  auto got = call(ctx, "GetRole", {{"RoleName", name}});
  if (!got.ok()) {
    if (is_no_such_entity(got.error()))
      return Error{ErrorKind::kClient, "NoSuchEntity",
                   "IAM role '" + name + "' does not exist in account " + ctx.target.account + " (" + ctx.target.arn +
                       ")"};
    return got.error();
  }
  pugi::xml_node r = got->root().find_node([](pugi::xml_node n) { return std::string_view(n.name()) == "Role"; });
  json d = {{"kind", "role"},
            {"role_name", aws::xml_text(r, "RoleName")},
            {"arn", aws::xml_text(r, "Arn")},
            {"role_id", aws::xml_text(r, "RoleId")},
            {"path", aws::xml_text(r, "Path")},
            {"create_date", aws::xml_text(r, "CreateDate")},
            {"max_session_duration", r.child("MaxSessionDuration").text().as_int(3600)},
            {"last_used", aws::xml_text(r, "LastUsedDate")}};
  if (d["path"].get<std::string>().rfind("/aws-service-role/", 0) == 0)
    return Error::refused("iam-contain refuses role " + name +
                              ": it is a service-linked role (path /aws-service-role/); AWS does not allow revoking its "
                              "sessions or changing its policies. Contain the principal that misuses the service instead.",
                          "ServiceLinkedRole");
  if (caller_is_role(ctx.caller, ctx.target.account, name))
    return Error::refused("iam-contain refuses to contain role " + name + ": containctl is running as a session of it",
                          "SelfContainment");
  CC_ASSIGN(d["inline_policies"], list_inline_policy_names(ctx, kRole, name));
  CC_ASSIGN(d["attached_policies"], list_attached_policies(ctx, kRole, name));
  CC_ASSIGN(d["tags"], list_tags(ctx, kRole, name));
  CC_ASSIGN(d["revoke_policy"], get_inline_policy(ctx, kRole, name, kRoleRevokePolicy));
  CC_ASSIGN(d["deny_policy"], get_inline_policy(ctx, kRole, name, kRoleDenyPolicy));
  return d;
}

Result<TargetPlan> plan_role(Context& ctx, const json& d) {
  TargetPlan p;
  p.target = ctx.target;
  p.family = "iam-contain";
  p.discovered = d;
  const std::string role = d.value("role_name", "");
  if (role.empty()) return Error::invalid("iam-contain: discovery of " + ctx.target.arn + " has no role_name");
  const int max_session = d.value("max_session_duration", 3600);
  const json base_args = {{"kind", "role"}, {"role_name", role}, {"account", ctx.target.account}};
  const std::string key = ctx.options.get("iam.access_key_id");
  if (key.rfind("ASIA", 0) == 0)
    p.note = "The finding names temporary key " + key +
             ": temporary credentials have no IAM user behind them, so the role whose session issued them (" + role +
             ") is contained; revoking older sessions cuts that session.";

  const auto revoke_in_place = live_revocation(ctx, d["revoke_policy"], max_session);
  const bool refresh = ctx.options.flag("iam.refresh_revocation");
  if (!revoke_in_place || refresh) {
    Step s;
    s.id = "revoke-sessions";
    s.description = std::string("Attach inline policy ") + kRoleRevokePolicy + " to IAM role " + role +
                    ": deny every session of the role issued before the apply time (aws:TokenIssueTime)";
    s.calls.push_back(api_call("PutRolePolicy", {{"RoleName", role},
                                                 {"PolicyName", kRoleRevokePolicy},
                                                 {"PolicyDocument", json::parse(revoke_document(kApplyTimePlaceholder))}}));
    s.before = {{"inline_policy", d["revoke_policy"]}};
    s.after = {{"inline_policy", {{"exists", true}, {"name", kRoleRevokePolicy}}}};
    s.min_hold_seconds = max_session;
    s.warnings.push_back("Every current session of role " + role +
                         " is cut, legitimate ones included (people, instances and services using it); sessions "
                         "issued after the apply time keep working.");
    s.warnings.push_back("The policy must stay at least the role's maximum session duration (" +
                         std::to_string(max_session) +
                         " s) after apply; rollback refuses to remove it earlier without --force.");
    s.args = base_args;
    s.args["max_session_duration"] = max_session;
    p.steps.push_back(std::move(s));
  }
  const bool full_deny = ctx.options.flag("iam.full_deny");
  if (full_deny && !match_ours(OurPolicy::kRoleDeny, d["deny_policy"])) {
    Step s;
    s.id = "deny-all";
    s.description = std::string("Attach inline policy ") + kRoleDenyPolicy + " to IAM role " + role +
                    ": deny every action to every session, new ones included";
    s.calls.push_back(api_call("PutRolePolicy", {{"RoleName", role},
                                                 {"PolicyName", kRoleDenyPolicy},
                                                 {"PolicyDocument", json::parse(full_deny_document())}}));
    s.before = {{"inline_policy", d["deny_policy"]}};
    s.after = {{"inline_policy", {{"exists", true}, {"name", kRoleDenyPolicy}}}};
    s.warnings.push_back("Everything that uses role " + role + " stops working until rollback.");
    s.args = base_args;
    p.steps.push_back(std::move(s));
  }
  if (p.steps.empty()) {
    p.already_contained = true;
    p.note += std::string(p.note.empty() ? "" : " ") + "IAM role " + role + " is already contained: " +
              kRoleRevokePolicy + " denies sessions issued before " + revoke_in_place.value_or("") +
              (full_deny ? std::string(" and ") + kRoleDenyPolicy + " denies everything" : "") +
              ". --option iam.refresh_revocation=true moves the cutoff to a new apply time.";
    return p;
  }
  Step t;
  t.id = "tag";
  t.description = std::string("Tag IAM role ") + role + " with " + kRunTagKey + "=" + run_id_shown(ctx);
  t.calls.push_back(
      api_call("TagRole", {{"RoleName", role}, {"Tags", {{{"Key", kRunTagKey}, {"Value", run_id_shown(ctx)}}}}}));
  t.before = {{"tag", d["tags"].contains(kRunTagKey) ? d["tags"][kRunTagKey] : json(nullptr)}};
  t.after = {{"tag", run_id_shown(ctx)}};
  t.args = base_args;
  t.cosmetic = true;
  p.steps.push_back(std::move(t));
  p.warnings.push_back("Sessions of role " + role + " issued before containment are cut, legitimate ones included.");
  return p;
}

namespace {

// ---- revoke-sessions and deny-all: one inline policy each ----

ContainOps policy_ops(const char* policy, OurPolicy kind) {
  ContainOps ops;
  ops.capture = [policy](Context& ctx, const Step&, const ContainArgs& a) -> Result<json> {
    CC_ASSIGN(json pol, get_inline_policy(ctx, kRole, a.name, policy));
    return json{{"inline_policy", pol}};
  };
  ops.verify = [policy, kind](Context& ctx, const Step& step, const ContainArgs& a) -> Status {
    CC_ASSIGN(json current, get_inline_policy(ctx, kRole, a.name, policy));
    if (!match_ours(kind, current))
      return step_error(step, std::string("inline policy ") + policy + " is missing or does not say what containctl wrote");
    return Ok{};
  };
  ops.verify_rollback = [policy](Context& ctx, const Step& step, const ContainArgs& a, const json& before,
                                 const RollbackOptions&) -> Status {
    CC_ASSIGN(json current, get_inline_policy(ctx, kRole, a.name, policy));
    if (!same_policy(current, field(before, "inline_policy")))
      return step_error(step, std::string("inline policy ") + policy + " differs from its state before containment");
    return Ok{};
  };
  return ops;
}

Result<json> revoke_apply(Context& ctx, const Step&, const ContainArgs& a, const json& before) {
  CC_ASSIGN(json current, get_inline_policy(ctx, kRole, a.name, kRoleRevokePolicy));
  // Resumed after a crash: our revocation is there and was not before (judged by content).
  if (auto ours = match_ours(OurPolicy::kRoleRevoke, current); ours && !same_policy(current, field(before, "inline_policy")))
    return json{{"policy", kRoleRevokePolicy}, {"sessions_issued_before", *ours}};
  const std::string cutoff = now_iso(ctx);  // apply time, not plan time
  CC_TRY(put_inline_policy(ctx, kRole, a.name, kRoleRevokePolicy, revoke_document(cutoff)));
  return json{{"policy", kRoleRevokePolicy}, {"sessions_issued_before", cutoff}};
}

Status revoke_rollback(Context& ctx, const Step& step, const ContainArgs& a, const json& before, const json& applied,
                       const RollbackOptions& options) {
  const std::string& role = a.name;
  const json& was = field(before, "inline_policy");
  CC_ASSIGN(json current, get_inline_policy(ctx, kRole, role, kRoleRevokePolicy));
  if (same_policy(current, was)) return Ok{};  // never applied, or already rolled back
  // The hold is checked here too, so the family is safe even when driven without the executor.
  const std::string applied_cutoff = applied.is_object() ? applied.value("sessions_issued_before", "") : "";
  std::string cutoff = applied_cutoff;
  if (cutoff.empty()) cutoff = match_ours(OurPolicy::kRoleRevoke, current).value_or("");
  aws::TimePoint applied_at;
  const int hold = std::max(step.min_hold_seconds, a.max_session_duration);
  if (!options.force && hold > 0 && !cutoff.empty() && aws::parse_time(cutoff, applied_at)) {
    const aws::TimePoint until = applied_at + std::chrono::seconds(hold);
    if (ctx.clock.now() < until)
      return Error::refused("rollback of " + std::string(kRoleRevokePolicy) + " on role " + role +
                                " refused: sessions issued before " + cutoff + " may still be valid until " +
                                aws::format_iso8601(until) + " (maximum session duration " + std::to_string(hold) +
                                " s); rerun rollback with --force to remove it anyway",
                            "HoldNotElapsed");
  }
  return restore_our_policy(ctx, kRole, role, kRoleRevokePolicy, OurPolicy::kRoleRevoke, was, applied_cutoff,
                            options.force);
}

Result<json> deny_apply(Context& ctx, const Step&, const ContainArgs& a, const json&) {
  CC_ASSIGN(json current, get_inline_policy(ctx, kRole, a.name, kRoleDenyPolicy));
  if (!match_ours(OurPolicy::kRoleDeny, current))
    CC_TRY(put_inline_policy(ctx, kRole, a.name, kRoleDenyPolicy, full_deny_document()));
  return json{{"policy", kRoleDenyPolicy}};
}

Status deny_rollback(Context& ctx, const Step&, const ContainArgs& a, const json& before, const json&,
                     const RollbackOptions& options) {
  return restore_our_policy(ctx, kRole, a.name, kRoleDenyPolicy, OurPolicy::kRoleDeny, field(before, "inline_policy"),
                            "", options.force);
}

}  // namespace

const std::map<std::string, ContainOps>& role_step_ops() {
  static const std::map<std::string, ContainOps> table = [] {
    ContainOps revoke = policy_ops(kRoleRevokePolicy, OurPolicy::kRoleRevoke);
    revoke.apply = revoke_apply;
    revoke.rollback = revoke_rollback;
    ContainOps deny = policy_ops(kRoleDenyPolicy, OurPolicy::kRoleDeny);
    deny.apply = deny_apply;
    deny.rollback = deny_rollback;
    return std::map<std::string, ContainOps>{{"revoke-sessions", revoke}, {"deny-all", deny}, {"tag", run_tag_ops()}};
  }();
  return table;
}

}  // namespace containctl::actions::iam
