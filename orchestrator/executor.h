// Runs a plan's steps and rolls them back. For every step: capture the before-state, journal it
// (synced), mark the step applying (synced), then mutate. Targets run in parallel on a bounded
// pool with a limit per (account, region); a target's steps run as their dependencies allow.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actions/action.h"
#include "orchestrator/journal.h"
#include "orchestrator/plan_file.h"

namespace containctl::orch {

struct ExecutionEnv {
  // The client acting in an entry's account (AssumeRole for member accounts).
  std::function<Result<aws::AwsClient*>(const PlanEntry&)> client_for;
  actions::Identity caller;
  actions::Options options;
  std::vector<std::string> allow_principals;
  // Time, sleeps and every wait between the executor's threads go through this clock, so the
  // scale simulation runs this executor in virtual time (aws/virtual_clock.h; the thread calling
  // execute_run or rollback_run must then be one of the clock's participants).
  aws::Clock* clock = &aws::SystemClock::instance();
  // Audit sink (event name, fields) and text progress; both optional.
  std::function<void(const std::string&, const nlohmann::json&)> audit;
  std::function<void(const std::string&)> progress;
  int workers = 8;             // targets in flight at once, in all
  int per_account_region = 4;  // targets in flight at once per (account, region)
  // Asked before every mutating step (apply and rollback), after its before-state is durable; an
  // error fails that step untouched (the run's leases were lost, or the audit log failed: it fails
  // closed through this). Optional.
  std::function<Status()> may_mutate;
  // Family lookup; defaults to the registry (tests inject fakes).
  std::function<actions::ActionFamily*(const std::string&)> family_for;
};

struct RunOutcome {
  std::string status;  // succeeded | partial | failed | rolled_back | rollback_partial
  int steps_done = 0;
  int steps_failed = 0;
  std::vector<std::string> errors;  // "<target> <step>: <error>"
};

// Applies (or resumes) a run already created in the journal.
RunOutcome execute_run(Journal& journal, const std::string& run_id, const std::vector<PlanEntry>& entries,
                       ExecutionEnv& env);

struct RollbackRequest {
  actions::RollbackOptions options;
  bool dry_run = false;
};

// Steps that rollback would reverse, in the order it would reverse them.
struct RollbackItem {
  const PlanEntry* entry;
  const actions::Step* step;
  StepRecord record;
};
Result<std::vector<RollbackItem>> rollback_order(Journal& journal, const std::string& run_id,
                                                 const std::vector<PlanEntry>& entries);

// Reverses every step that was applied or might have been; refuses (kRefused) up front when a
// step must stay in place longer and --force was not given.
Result<RunOutcome> rollback_run(Journal& journal, const std::string& run_id, const std::vector<PlanEntry>& entries,
                                ExecutionEnv& env, const RollbackRequest& request);

}  // namespace containctl::orch
