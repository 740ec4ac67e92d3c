// respond: plan a finding and, where the gate allows automatic containment, apply at once;
// otherwise store the plan for approval. One function shared by `containctl respond` and the
// Lambda runtime (`containctl lambda`), so both handle a finding the same way.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "orchestrator/planner.h"
#include "orchestrator/runtime.h"

namespace containctl::orch {

struct RespondResult {
  int exit_code = 0;         // as the CLI exits: 0 done, 3 approval needed or refused, 4 partial, 1 error
  std::string decision;      // auto | nothing | approval | refused (overall_decision)
  nlohmann::json plan;       // the plan as written
  std::string plan_file;     // the plan in the state directory
  std::string plan_stored;   // the plan in the team store (s3://BUCKET/plans/...), aws backend only
  std::string run_id;        // the run apply created ("" when none was)
};

// Prints what `respond` prints (text or json per the global options). An error before the plan
// was written is returned; errors of the apply are in exit_code (and were reported by apply).
Result<RespondResult> respond(Runtime& rt, const PlanRequest& request);

}  // namespace containctl::orch
