// The containment gate: whether a target may be contained, automatically or with approval, under
// the settings in force. Evaluated at plan time (shown in the dry-run) and again at apply time.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "actions/action.h"
#include "aws/clock.h"
#include "orchestrator/settings.h"

namespace containctl::orch {

struct GateInput {
  std::string account;
  std::string family;
  std::string target_arn;
  std::string confidence;  // confirmed | suspected
  std::optional<aws::TimePoint> last_rollback;  // of this target, from the journal
  aws::TimePoint now;
};

struct GateDecision {
  std::string decision;  // auto | approval | refused
  std::string reason;
  int approvals_required = 0;
  nlohmann::json to_json() const;
};

GateDecision evaluate_gate(const Settings& settings, const actions::Identity& caller, const GateInput& in);

// Why `arn` is protected, or "": settings globs (IAM users and roles also ignoring path and case),
// the caller's own identity and every link of its chain (caller.chain: source profiles behind an
// assumed role, the instance serving metadata credentials), the containment role.
std::string protection_reason(const Settings& settings, const actions::Identity& caller, const std::string& arn);

// The IAM ARN behind an STS assumed-role ARN (arn:aws:sts::A:assumed-role/R/S -> arn:aws:iam::A:role/R);
// other ARNs unchanged.
std::string principal_arn(const std::string& arn);

}  // namespace containctl::orch
