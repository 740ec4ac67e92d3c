// The planner: targets (ARNs or a finding) -> read-only discovery -> steps -> the gate's decision
// per target -> a deterministic plan document. It makes read-only calls only. Targets are
// discovered in parallel (the settings' executor bounds); the plan lists them in request order whatever order their
// discoveries finish in, and the error of a failed plan is that of the first failing target.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/runtime.h"

namespace containctl::orch {

struct PlanRequest {
  std::vector<std::string> target_arns;
  std::string finding_path;  // or "-" for stdin; with finding_doc: names it in messages and the plan
  nlohmann::json finding_doc;  // a finding document already read (the Lambda's event); null: read finding_path
  std::vector<std::string> actions;  // family filter; empty = the default family per target type
  std::string confidence;            // override; default confirmed (ARNs) or suspected (findings)
  std::string requester;             // default: the caller's ARN
  std::map<std::string, std::string> options;
};

Result<nlohmann::json> build_plan(Runtime& rt, const PlanRequest& request);

// The dry-run text for people.
std::string render_plan_text(const nlohmann::json& plan);

// The plan-wide decision: refused (nothing executable), auto (every entry auto), or approval.
struct PlanDecision {
  std::string decision;
  int approvals_required = 0;
};
PlanDecision overall_decision(const nlohmann::json& plan);

}  // namespace containctl::orch
