#include "orchestrator/gate.h"

#include <algorithm>
#include <cctype>

#include "aws/arn.h"

namespace containctl::orch {

nlohmann::json GateDecision::to_json() const {
  nlohmann::json j = {{"decision", decision}, {"reason", reason}};
  if (decision == "approval") j["approvals_required"] = approvals_required;
  return j;
}

std::string principal_arn(const std::string& arn) {
  auto parsed = aws::parse_arn(arn);
  return parsed.ok() ? aws::principal_of(*parsed).str() : arn;
}

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A settings glob protects a target when it matches the target's ARN. For IAM users and roles it
// also matches ignoring case and path: IAM names are unique in an account ignoring both, so
// "role/BreakGlass" protects the role whichever path or spelling a target names it by.
bool glob_protects(const std::string& glob, const std::string& text, const Result<aws::Arn>& target) {
  if (glob_match(glob, text)) return true;
  if (!target.ok() || !target->is_iam_principal()) return false;
  aws::Arn without_path = *target;
  without_path.path = "/";
  std::string g = lower(glob);
  return glob_match(g, lower(target->str())) || glob_match(g, lower(without_path.str()));
}

}  // namespace

std::string protection_reason(const Settings& s, const actions::Identity& caller, const std::string& arn) {
  auto target = aws::parse_arn(arn);
  for (const auto& glob : s.protected_arns)
    if (glob_protects(glob, arn, target)) return "protected by settings (matches '" + glob + "')";
  if (!caller.arn.empty()) {
    auto me = aws::parse_arn(caller.arn);
    if (caller.arn == arn || (me.ok() && target.ok() &&
                              (aws::principal_of(*me) == *target || aws::same_iam_entity(aws::principal_of(*me), *target))))
      return "it is the identity containctl runs as (" + caller.arn + ")";
  }
  if (target.ok()) {
    for (const auto& link : caller.chain) {
      auto l = aws::parse_arn(link.arn);
      if (!l.ok()) continue;
      aws::Arn who = aws::principal_of(*l);
      // Instances are named by id (the chain may not know the instance's region).
      bool same = who == *target || aws::same_iam_entity(who, *target) ||
                  (who.kind == aws::ArnKind::kEc2Instance && target->kind == aws::ArnKind::kEc2Instance &&
                   who.partition == target->partition && who.account == target->account && who.name == target->name);
      if (same) return "it is part of the identity containctl runs as (" + link.what + ": " + link.arn + ")";
    }
  }
  if (!s.member_role_name.empty() && target.ok() && target->kind == aws::ArnKind::kIamRole &&
      aws::iam_name_equal(target->name, s.member_role_name))
    return "it is the containment role containctl assumes (" + s.member_role_name + ")";
  return "";
}

GateDecision evaluate_gate(const Settings& s, const actions::Identity& caller, const GateInput& in) {
  GateDecision d;
  if (auto why = protection_reason(s, caller, in.target_arn); !why.empty()) {
    d.decision = "refused";
    d.reason = "target is protected: " + why;
    return d;
  }
  EffectiveSettings e = effective_settings(s, in.account);
  if (e.mode == "none") {
    d.decision = "refused";
    d.reason = s.present ? "containment is off for account " + in.account + " (mode none, set by " + e.source["mode"] + ")"
                         : "containment is off: no settings file (mode none until containment is authorized)";
    return d;
  }
  if (std::find(e.actions.begin(), e.actions.end(), in.family) == e.actions.end()) {
    d.decision = "refused";
    d.reason = "action family " + in.family + " is not allowed for account " + in.account + " (settings " +
               e.source["actions"] + " actions)";
    return d;
  }
  d.approvals_required = e.approvals_required;
  if (e.mode == "approval") {
    d.decision = "approval";
    d.reason = "account " + in.account + " requires approval (mode approval, set by " + e.source["mode"] + ")";
    return d;
  }
  bool in_scope = in.confidence == "confirmed" || e.auto_scope == "suspected";
  if (!in_scope) {
    d.decision = "approval";
    d.reason = "automatic containment covers confirmed targets only (auto_scope confirmed); this one is " + in.confidence;
    return d;
  }
  if (in.last_rollback && s.recontain_guard_hours > 0 &&
      in.now - *in.last_rollback < std::chrono::hours(s.recontain_guard_hours)) {
    d.decision = "approval";
    d.reason = "target was rolled back within the last " + std::to_string(s.recontain_guard_hours) +
               " hours; re-containing it needs an approval";
    return d;
  }
  d.decision = "auto";
  d.reason = "account " + in.account + " allows automatic containment of " + in.confidence + " targets";
  return d;
}

}  // namespace containctl::orch
