// The run journal: the records of runs and steps, and the interface every state backend implements.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/result.h"
#include "orchestrator/plan_file.h"

namespace containctl::orch {

// Step states. A step is mutated only after `applying` is durable; rollback reverses steps in
// applying (in flight when the process died), applied, verified and failed.
namespace step_state {
inline constexpr const char* kPending = "pending";
inline constexpr const char* kCaptured = "captured";
inline constexpr const char* kApplying = "applying";
inline constexpr const char* kApplied = "applied";
inline constexpr const char* kVerified = "verified";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kSkipped = "skipped";
inline constexpr const char* kRollingBack = "rolling_back";
inline constexpr const char* kRolledBack = "rolled_back";
inline constexpr const char* kRollbackFailed = "rollback_failed";
// Rolled back except what a rollback option keeps contained by default (access keys stay
// inactive); `rollback --reactivate-keys` finishes it.
inline constexpr const char* kPartlyRestored = "partly_restored";
}  // namespace step_state

struct StepRecord {
  std::string run_id;
  int entry = 0;  // index into the plan's targets
  std::string step_id;
  std::string target;
  std::string family;
  std::string state;
  nlohmann::json before;   // null until captured
  nlohmann::json applied;  // null until apply returned
  std::string error;
  std::string updated_at;
  std::string applied_at;
  long long apply_seq = 0;  // order of application across the run (rollback reverses it)
  // What the step has opened for a moment and not closed yet (EC2: interfaces in the all-traffic
  // group during the untrack dwell); null when nothing is open. Set durably before the opening.
  nlohmann::json exposure;
};

// The process that owns a running run (apply or rollback), so `status` can tell a live run from
// one whose process is gone.
struct RunOwner {
  long long pid = 0;
  std::string host;
  std::string boot_id;        // /proc/sys/kernel/random/boot_id: a pid is only meaningful within one boot
  long long start_ticks = 0;  // the process's start time (/proc/PID/stat), so a reused pid is not taken for it
  nlohmann::json to_json() const;
  static RunOwner from_json(const nlohmann::json& j);
};

struct RunRecord {
  std::string run_id;
  std::string plan_hash;
  // running, succeeded, partial, failed, refused, interrupted, rolling_back, rolled_back,
  // partly_rolled_back, rollback_partial
  std::string status;
  std::string started_at;
  std::string finished_at;
  std::string requester;
  std::string mode;  // auto | approval
  nlohmann::json plan;
  std::string case_id;  // the AWS Support case opened for the run ("" when none)
  RunOwner owner;  // pid 0: not recorded (older journals)
  // Set while a `case open` is between its claim and CreateCase's answer ("<time> <token>"): the
  // case_id column holds kCasePendingPrefix + this, so two openers cannot both create a case.
  std::string case_pending;
  // What recovery (status, rollback) needs of the settings in force when the run started, so a
  // broken or missing settings file never blocks the way back: {"member_role_name",
  // "s3_allow_access", "settings", "settings_sha256", "state_backend"}. Null in older journals.
  nlohmann::json recovery;
};

inline constexpr const char* kCasePendingPrefix = "pending:";
// After reading the case_id column: a pending marker goes to case_pending, case_id stays "".
void split_case_marker(RunRecord& run);

// An approval the journal accepted, and the run it authorized (approvals are single use).
struct UsedApproval {
  std::string approval_id;  // approvals::approval_id: SHA-256 of the signature
  std::string run_id;
  std::string approver;
  std::string plan_hash;
  std::string used_at;
};

// The state store's run journal: one interface, two backends (settings "state": {"backend": ...}):
// `sqlite` (journal_sqlite.h, the embedded default in the state directory) and `aws` (a DynamoDB
// table and an S3 bucket shared by a team). Every backend keeps the durability rule: a write
// returns Ok only once it is durable (synced to disk, or acknowledged by the store), so a
// before-state is recorded before the first mutating call of its step.
// A lease on one resource (see leases.h): who holds it, for which run, until when.
struct Lease {
  std::string resource;  // the target ARN
  std::string run_id;
  std::string owner;     // the holding process (lease_owner_id())
  std::string caller;    // the holder's authenticated identity
  std::string started_at;
  aws::TimePoint expires;
};

// "run R (caller C, started S, lease until T)" for messages.
std::string describe_lease_holder(const Lease& l);

// Whatever keeps a second run off the state for the length of an apply or rollback.
class RunGuard {
 public:
  virtual ~RunGuard() = default;
};

class Journal {
 public:
  // The SQLite journal in `state_dir` (kept for callers that have no settings, e.g. tests).
  static Result<std::unique_ptr<Journal>> open(const std::string& state_dir, aws::Clock& clock);
  virtual ~Journal() = default;

  // With its owner (when set), in the same write: a run is never without one.
  virtual Status create_run(const RunRecord& run, const std::vector<PlanEntry>& entries) = 0;
  virtual Result<RunRecord> run(const std::string& run_id) = 0;
  virtual Result<std::vector<RunRecord>> runs() = 0;  // oldest first
  virtual Result<std::vector<StepRecord>> steps(const std::string& run_id) = 0;

  // Keeps the FIRST captured before-state: a resumed step never re-captures its own after-state.
  virtual Status record_before(const std::string& run_id, int entry, const std::string& step_id,
                               const nlohmann::json& before) = 0;
  virtual Status set_state(const std::string& run_id, int entry, const std::string& step_id, const std::string& state,
                           const std::string& error = "") = 0;
  virtual Status record_applied(const std::string& run_id, int entry, const std::string& step_id,
                                const nlohmann::json& applied) = 0;
  virtual Status set_run_status(const std::string& run_id, const std::string& status) = 0;
  // Single-use approvals: recording one another run recorded is refused ("ApprovalUsed", naming
  // that run); one already recorded for the same run stands (a resume, a retried write).
  // record_approvals_used writes all or none. approval_used: the run that consumed it, if any.
  virtual Status record_approvals_used(const std::vector<UsedApproval>& used) = 0;
  virtual Result<std::optional<UsedApproval>> approval_used(const std::string& approval_id) = 0;
  // The approvals `run_id` consumed (state export carries them, so an import keeps them used).
  virtual Result<std::vector<UsedApproval>> approvals_used_by(const std::string& run_id) = 0;
  // The authenticated caller of a run and of its plan (per GetCallerIdentity); ("", "") when not
  // recorded.
  virtual Status record_run_caller(const std::string& run_id, const std::string& caller,
                                   const std::string& plan_caller) = 0;
  virtual Result<std::pair<std::string, std::string>> run_caller(const std::string& run_id) = 0;

  // The AWS Support case opened for the run (containctl case open); durable before it returns.
  virtual Status set_run_case(const std::string& run_id, const std::string& case_id) = 0;
  // Compare-and-set of the run's case_id column (pending markers included): false when it no
  // longer holds `expected` ("" also matches a run without one). Durable before it returns true.
  virtual Result<bool> swap_run_case(const std::string& run_id, const std::string& expected,
                                     const std::string& desired) = 0;
  // The process now working on the run (apply --resume, rollback). Durable on return.
  virtual Status set_run_owner(const std::string& run_id, const RunOwner& owner) = 0;
  // Records (durably) what a step is about to open, or clears it (null) once closed.
  virtual Status set_exposure(const std::string& run_id, int entry, const std::string& step_id,
                              const nlohmann::json& exposure) = 0;
  // When a step of `target_arn` was last rolled back (the re-containment guard).
  virtual std::optional<aws::TimePoint> last_rollback(const std::string& target_arn) = 0;

  // Held for the length of an apply or rollback (sqlite: the state-directory lock, so a second
  // run on the same journal is refused with the holder's pid).
  virtual Result<std::unique_ptr<RunGuard>> guard_run() = 0;

  // Writes a run and its steps as they are (state export/import); an existing run id is an error.
  virtual Status import_run(const RunRecord& run, const std::vector<StepRecord>& steps) = 0;

  // Leases. take_lease: the lease on want.resource for want.owner until want.expires, unless
  // another owner holds a lease that has not expired (then a Refused error, code "LeaseHeld",
  // naming the holder's run, caller and start). A lease of the same owner is renewed; an expired
  // one is taken over. renew/release only touch a lease this owner still holds.
  virtual Result<Lease> take_lease(const Lease& want) = 0;
  virtual Status renew_lease(const Lease& held, aws::TimePoint expires) = 0;
  virtual Status release_lease(const Lease& held) = 0;
  virtual Result<std::vector<Lease>> leases() = 0;

  // Durable commits the step writes took; fewer than the writes when concurrent writers shared one.
  virtual uint64_t step_commits() const = 0;
  // "sqlite" or "aws", and where the state lives (for messages).
  virtual std::string backend() const = 0;
  virtual std::string location() const = 0;
};

// An exclusive lock on the state directory for the length of an apply or rollback. A second
// run gets an error naming the holder's pid instead of interleaving with it.
class StateLock : public RunGuard {
 public:
  static Result<std::unique_ptr<StateLock>> acquire(const std::string& state_dir);
  ~StateLock() override;

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

// Creates the state directory (0700) if needed; errors name it when it is not writable.
Status ensure_state_dir(const std::string& state_dir);

std::string new_run_id(aws::TimePoint now);

// The statuses a run may move to `to` from (both backends refuse any other move, so a resume
// never takes a run a rollback has begun back to "running"); empty for an unknown status.
const std::vector<std::string>& run_statuses_before(const std::string& to);

// For journal writes on paths that are already failing: the first error is the one reported,
// a failed bookkeeping write is logged rather than lost.
void logged(const Status& status);

// Fault injection for the end-to-end tests (compiled only with CONTAINCTL_FAULT_INJECTION):
// CONTAINCTL_FAULT=refuse_verified:N refuses the N-th move of a step to "verified" this process
// asks either backend for (1-based), as a store that refuses the write would; the step stays as
// it was. Ok otherwise, and always Ok without fault injection.
Status fault_refuses_step_state(const std::string& state);

}  // namespace containctl::orch
