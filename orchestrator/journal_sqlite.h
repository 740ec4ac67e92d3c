// The embedded state backend: SQLite in the state directory (WAL, synchronous FULL), so a
// before-state that record_before() returned for is on disk before the first mutating call of
// its step. Step writes from concurrent threads share commits (group commit): one fsync for many
// steps, and still no write returns before the transaction holding it is durable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>

#include "orchestrator/journal.h"

struct sqlite3;

namespace containctl::orch {

class SqliteJournal : public Journal {
 public:
  static Result<std::unique_ptr<SqliteJournal>> open(const std::string& state_dir, aws::Clock& clock);
  ~SqliteJournal() override;

  Status create_run(const RunRecord& run, const std::vector<PlanEntry>& entries) override;
  Result<RunRecord> run(const std::string& run_id) override;
  Result<std::vector<RunRecord>> runs() override;
  Result<std::vector<StepRecord>> steps(const std::string& run_id) override;
  Status record_before(const std::string& run_id, int entry, const std::string& step_id,
                       const nlohmann::json& before) override;
  Status set_state(const std::string& run_id, int entry, const std::string& step_id, const std::string& state,
                   const std::string& error = "") override;
  Status record_applied(const std::string& run_id, int entry, const std::string& step_id,
                        const nlohmann::json& applied) override;
  Status set_run_status(const std::string& run_id, const std::string& status) override;
  Status record_approvals_used(const std::vector<UsedApproval>& used) override;
  Result<std::optional<UsedApproval>> approval_used(const std::string& approval_id) override;
  Result<std::vector<UsedApproval>> approvals_used_by(const std::string& run_id) override;
  Status record_run_caller(const std::string& run_id, const std::string& caller, const std::string& plan_caller) override;
  Result<std::pair<std::string, std::string>> run_caller(const std::string& run_id) override;
  Status set_run_case(const std::string& run_id, const std::string& case_id) override;
  Result<bool> swap_run_case(const std::string& run_id, const std::string& expected,
                             const std::string& desired) override;
  Status set_run_owner(const std::string& run_id, const RunOwner& owner) override;
  Status set_exposure(const std::string& run_id, int entry, const std::string& step_id,
                      const nlohmann::json& exposure) override;
  std::optional<aws::TimePoint> last_rollback(const std::string& target_arn) override;
  Result<std::unique_ptr<RunGuard>> guard_run() override;
  Status import_run(const RunRecord& run, const std::vector<StepRecord>& steps) override;
  Result<Lease> take_lease(const Lease& want) override;
  Status renew_lease(const Lease& held, aws::TimePoint expires) override;
  Status release_lease(const Lease& held) override;
  Result<std::vector<Lease>> leases() override;

  // Transactions the step writes have committed (each one synced).
  uint64_t step_commits() const override;
  std::string backend() const override { return "sqlite"; }
  std::string location() const override { return state_dir_; }

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
  SqliteJournal(sqlite3* db, std::string state_dir, aws::Clock& clock)
      : db_(db), state_dir_(std::move(state_dir)), clock_(clock) {}
  Status exec(const std::string& sql);
  Status add_column(const std::string& table, const std::string& column_def);  // if missing
  // Runs `op` (statements on db_, mu_ held) in a group commit; returns once its transaction is durable.
  Status write(const std::function<Status()>& op);
  sqlite3* db_;
  std::string state_dir_;
  aws::Clock& clock_;
  std::mutex mu_;  // the connection
  mutable std::mutex group_mu_;  // the queue below
  std::condition_variable group_cv_;
  std::vector<PendingWrite*> queue_;
  bool committing_ = false;
  uint64_t commits_ = 0;
  // While this journal holds the state-directory lock no other process can be working on it, so
  // a lease another owner left behind is a dead process's: it is taken over at once.
  std::atomic<bool> guarded_{false};
};

}  // namespace containctl::orch
