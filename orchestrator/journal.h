// The run journal: SQLite in the state directory (WAL, synchronous FULL), so a before-state that
// record_before() returned for is on disk before the first mutating call of its step. Step writes
// from concurrent threads share commits (group commit): one fsync for many steps, and still no
// write returns before the transaction holding it is durable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/result.h"
#include "orchestrator/plan_file.h"

struct sqlite3;

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
};

struct RunRecord {
  std::string run_id;
  std::string plan_hash;
  std::string status;  // running, succeeded, partial, failed, refused, rolling_back, rolled_back, rollback_partial
  std::string started_at;
  std::string finished_at;
  std::string requester;
  std::string mode;  // auto | approval
  nlohmann::json plan;
};

class Journal {
 public:
  static Result<std::unique_ptr<Journal>> open(const std::string& state_dir, aws::Clock& clock);
  ~Journal();

  Status create_run(const RunRecord& run, const std::vector<PlanEntry>& entries);
  Result<RunRecord> run(const std::string& run_id);
  Result<std::vector<RunRecord>> runs();  // oldest first
  Result<std::vector<StepRecord>> steps(const std::string& run_id);

  // Keeps the FIRST captured before-state: a resumed step never re-captures its own after-state.
  Status record_before(const std::string& run_id, int entry, const std::string& step_id, const nlohmann::json& before);
  Status set_state(const std::string& run_id, int entry, const std::string& step_id, const std::string& state,
                   const std::string& error = "");
  Status record_applied(const std::string& run_id, int entry, const std::string& step_id, const nlohmann::json& applied);
  Status set_run_status(const std::string& run_id, const std::string& status);
  // When a step of `target_arn` was last rolled back (the re-containment guard).
  std::optional<aws::TimePoint> last_rollback(const std::string& target_arn);

  // Transactions the step writes have committed (each one synced); fewer than the writes when
  // concurrent writers shared a commit.
  uint64_t step_commits() const;

 private:
  // One queued step write. A write that throws (a bug, e.g. JSON that cannot be serialised) fails
  // only itself: the leader keeps the exception and result() rethrows it on the writer's thread.
  struct PendingWrite {
    const std::function<Status()>* op;
    Status status;
    bool done = false;
    std::exception_ptr thrown;
    Status run();
    Status result() const;
  };
  Journal(sqlite3* db, aws::Clock& clock) : db_(db), clock_(clock) {}
  Status exec(const std::string& sql);
  // Runs `op` (statements on db_, mu_ held) in a group commit; returns once its transaction is durable.
  Status write(const std::function<Status()>& op);
  sqlite3* db_;
  aws::Clock& clock_;
  std::mutex mu_;  // the connection
  mutable std::mutex group_mu_;  // the queue below
  std::condition_variable group_cv_;
  std::vector<PendingWrite*> queue_;
  bool committing_ = false;
  uint64_t commits_ = 0;
};

// An exclusive lock on the state directory for the length of an apply or rollback. A second
// run gets an error naming the holder's pid instead of interleaving with it.
class StateLock {
 public:
  static Result<std::unique_ptr<StateLock>> acquire(const std::string& state_dir);
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

// Creates the state directory (0700) if needed; errors name it when it is not writable.
Status ensure_state_dir(const std::string& state_dir);

std::string new_run_id(aws::TimePoint now);

// For journal writes on paths that are already failing: the first error is the one reported,
// a failed bookkeeping write is logged rather than lost.
void logged(const Status& status);

}  // namespace containctl::orch
