// apply: re-check the plan, the gate (against the settings in force now) and the approvals, then
// create the run in the journal and execute it. Shared by `apply` and `respond`.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/executor.h"
#include "orchestrator/runtime.h"

namespace containctl::orch {

struct ApplyRequest {
  std::vector<std::string> approval_paths;
  std::string resume_run_id;
  bool automated = false;  // respond: never asks, never waits
  std::chrono::milliseconds wait_lock{0};  // --wait-lock: wait this long for another run's leases
};

// Prints progress and the result; returns the exit code.
int apply_plan(Runtime& rt, const nlohmann::json& plan, const ApplyRequest& request);

// How long a lease lasts without renewal (settings "state": {"lease_seconds"}).
std::chrono::seconds lease_ttl(const Settings& settings);

// The ExecutionEnv for a run of this plan: clients per account, the caller, options, audit.

void fill_execution_env(Runtime& rt, const nlohmann::json& plan, const actions::Identity& caller, ExecutionEnv& env);

}  // namespace containctl::orch
