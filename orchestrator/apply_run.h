// apply: re-check the plan, the gate (against the settings in force now) and the approvals, then
// create the run in the journal and execute it. Shared by `apply` and `respond`.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/executor.h"
#include "orchestrator/runtime.h"

namespace containctl::orch {

// Called once a run has finished (any status), before its result is printed: adds to the result
// document and text (respond: the support case and the Security Hub note). It cannot change the
// run's status or exit code.
using AfterRunHook = std::function<void(Journal& journal, const std::string& run_id, const std::string& status,
                                        nlohmann::json& doc, std::string& text)>;

struct ApplyRequest {
  std::vector<std::string> approval_paths;
  std::string resume_run_id;
  bool automated = false;  // respond: never asks, never waits
  std::chrono::milliseconds wait_lock{0};  // --wait-lock: wait this long for another run's leases
  AfterRunHook after_run;                  // optional
  std::string plan_path;   // for the next commands it prints
};

// Prints progress and the result; returns the exit code.
int apply_plan(Runtime& rt, const nlohmann::json& plan, const ApplyRequest& request);

// How long a lease lasts without renewal (settings "state": {"lease_seconds"}).
std::chrono::seconds lease_ttl(const Settings& settings);

// The ExecutionEnv for a run of this plan: clients per account, the caller, options, audit.

void fill_execution_env(Runtime& rt, const nlohmann::json& plan, const actions::Identity& caller, ExecutionEnv& env);

}  // namespace containctl::orch
