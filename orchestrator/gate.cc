#include "orchestrator/gate.h"

#include <algorithm>

namespace containctl::orch {

nlohmann::json GateDecision::to_json() const {
  nlohmann::json j = {{"decision", decision}, {"reason", reason}};
  if (decision == "approval") j["approvals_required"] = approvals_required;
  return j;
}

std::string principal_arn(const std::string& arn) {
  // arn:PART:sts::ACCT:assumed-role/ROLE/SESSION
  const std::string marker = ":assumed-role/";
  size_t m = arn.find(marker);
  if (arn.rfind("arn:", 0) != 0 || m == std::string::npos || arn.find(":sts:") == std::string::npos) return arn;
  size_t role_start = m + marker.size();
  size_t slash = arn.find('/', role_start);
  std::string role = arn.substr(role_start, slash == std::string::npos ? std::string::npos : slash - role_start);
  std::string prefix = arn.substr(0, m);  // arn:PART:sts::ACCT
  std::string part = prefix.substr(4, prefix.find(':', 4) - 4);
  std::string acct = prefix.substr(prefix.rfind(':') + 1);
  return "arn:" + part + ":iam::" + acct + ":role/" + role;
}

namespace {

// Role ARNs carry a path the caller's STS ARN does not: compare account and final name.
bool same_role(const std::string& role_arn_without_path, const std::string& target) {
  auto split = [](const std::string& a) {
    size_t c = a.find(":iam::");
    if (c == std::string::npos) return std::pair<std::string, std::string>{};
    std::string acct = a.substr(c + 6, 12);
    std::string name = a.substr(a.rfind('/') + 1);
    return std::pair{acct, name};
  };
  if (target.find(":role/") == std::string::npos) return false;
  auto [a1, n1] = split(role_arn_without_path);
  auto [a2, n2] = split(target);
  return !a1.empty() && a1 == a2 && n1 == n2;
}

}  // namespace

std::string protection_reason(const Settings& s, const actions::Identity& caller, const std::string& arn) {
  for (const auto& glob : s.protected_arns)
    if (glob_match(glob, arn)) return "protected by settings (matches '" + glob + "')";
  if (!caller.arn.empty()) {
    std::string me = principal_arn(caller.arn);
    if (me == arn || same_role(me, arn)) return "it is the identity containctl runs as (" + caller.arn + ")";
  }
  if (!s.member_role_name.empty() && arn.find(":role/") != std::string::npos &&
      arn.substr(arn.rfind('/') + 1) == s.member_role_name)
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
