// Runs a plan's steps and rolls them back. For every step: capture the before-state, journal it
// (synced), mark the step applying (synced), then mutate. Targets run in parallel on a bounded
// pool with a limit per (account, region); a target's steps run as their dependencies allow.
#pragma once

#include <functional>
#include <optional>
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
  // During a wait without calls (a dwell): told at its start and every few seconds how long is
  // left, so a terminal never sits silent. Optional.
  std::function<void(const std::string& target, std::chrono::seconds left)> heartbeat;
  int workers = 8;             // targets in flight at once, in all
  int per_account_region = 4;  // targets in flight at once per (account, region)
  // Asked before every mutating step (apply and rollback), after its before-state is durable; an
  // error fails that step untouched (the run's leases were lost, or the audit log failed: it fails
  // closed through this). Optional.
  std::function<Status()> may_mutate;
  // Polled between steps and during waits without calls: once true, no new step starts, steps in
  // flight finish (a dwell is cut short) and the run ends `interrupted`. Unset: never.
  std::function<bool()> interrupted;
  // Family lookup; defaults to the registry (tests inject fakes).
  std::function<actions::ActionFamily*(const std::string&)> family_for;
};

// A step rollback left in place because its hold has not passed (min_hold_seconds).
struct HeldStep {
  std::string target;
  std::string step;
  aws::TimePoint until;
};

struct RunOutcome {
  // apply: succeeded | partial | failed | interrupted
  // rollback: rolled_back | partly_rolled_back (held or unselected steps remain) | rollback_partial
  //           (a step failed) | interrupted
  std::string status;
  int steps_done = 0;
  int steps_failed = 0;
  // apply: steps that verified but whose "verified" the journal could not record (still applied
  // there; apply --resume verifies them again). Not counted in steps_done.
  int steps_unrecorded = 0;
  std::vector<std::string> errors;  // "<target> <step>: <error>"
  std::vector<HeldStep> held;       // rollback only
};

// Applies (or resumes) a run already created in the journal.
RunOutcome execute_run(Journal& journal, const std::string& run_id, const std::vector<PlanEntry>& entries,
                       ExecutionEnv& env);

struct RollbackRequest {
  actions::RollbackOptions options;
  bool dry_run = false;
  std::vector<std::string> targets;  // only these targets (ARNs as in the plan); empty: every target
};

// Steps that rollback would reverse, in the order it would reverse them.
struct RollbackItem {
  const PlanEntry* entry;
  const actions::Step* step;
  StepRecord record;
};
// With --reactivate-keys it also lists steps a rollback left partly_restored; with targets, only
// theirs (an ARN the run does not hold is an error naming it).
Result<std::vector<RollbackItem>> rollback_order(Journal& journal, const std::string& run_id,
                                                 const std::vector<PlanEntry>& entries,
                                                 const RollbackRequest& request = {});

// When `item` may be rolled back (min_hold_seconds after it was applied); nullopt: now.
std::optional<aws::TimePoint> held_until(const RollbackItem& item, aws::TimePoint now);

// Reverses every selected step that was applied or might have been. A step whose hold has not
// passed is left in place and listed in `held` (unless --force); the others go back.
Result<RunOutcome> rollback_run(Journal& journal, const std::string& run_id, const std::vector<PlanEntry>& entries,
                                ExecutionEnv& env, const RollbackRequest& request);

}  // namespace containctl::orch
