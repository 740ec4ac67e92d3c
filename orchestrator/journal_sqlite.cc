#include "orchestrator/journal_sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace containctl::orch {
namespace {

using nlohmann::json;

Error db_error(sqlite3* db, const std::string& what) {
  return Error::io("journal: " + what + ": " + (db ? sqlite3_errmsg(db) : "unknown error"));
}

// RAII prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, long long v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  std::string text(int col) {
    auto p = sqlite3_column_text(s_, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  long long integer(int col) { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

json parse_or_null(const std::string& s) { return s.empty() ? json() : json::parse(s, nullptr, false); }

// The runs columns every read selects, in this order (the plan only when asked for: runs() skips it).
constexpr const char* kRunColumns =
    "run_id, plan_hash, status, started_at, finished_at, requester, mode, case_id, owner, recovery";

// One row of SELECT kRunColumns[, plan]; fields set by name, so a new field cannot shift the others.
RunRecord run_row(Stmt& s, bool with_plan) {
  RunRecord r;
  r.run_id = s.text(0);
  r.plan_hash = s.text(1);
  r.status = s.text(2);
  r.started_at = s.text(3);
  r.finished_at = s.text(4);
  r.requester = s.text(5);
  r.mode = s.text(6);
  r.case_id = s.text(7);
  r.owner = RunOwner::from_json(parse_or_null(s.text(8)));
  r.recovery = parse_or_null(s.text(9));
  if (r.recovery.is_discarded()) r.recovery = json();
  if (with_plan) r.plan = parse_or_null(s.text(10));
  split_case_marker(r);
  return r;
}

}  // namespace

Result<std::unique_ptr<SqliteJournal>> SqliteJournal::open(const std::string& state_dir, aws::Clock& clock) {
  CC_TRY(ensure_state_dir(state_dir));
  std::string path = state_dir + "/journal.db";
  // Create 0600 before SQLite does (it would honour the umask).
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return Error::io("journal " + path + ": " + std::strerror(errno) +
                     (errno == ELOOP ? " (a symbolic link: refused)" : ""));
  ::close(fd);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW, nullptr) != SQLITE_OK) {
    Error e = db_error(db, "cannot open " + path);
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 10000);
  std::unique_ptr<SqliteJournal> j(new SqliteJournal(db, state_dir, clock));
  CC_TRY(j->exec("PRAGMA journal_mode=WAL"));
  CC_TRY(j->exec("PRAGMA synchronous=FULL"));
  CC_TRY(j->exec(
      "CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, plan_hash TEXT, status TEXT, started_at TEXT,"
      " finished_at TEXT, requester TEXT, mode TEXT, plan TEXT);"
      "CREATE TABLE IF NOT EXISTS steps(run_id TEXT, entry INTEGER, step_id TEXT, target TEXT, family TEXT,"
      " state TEXT, before TEXT, applied TEXT, error TEXT, updated_at TEXT, applied_at TEXT, apply_seq INTEGER,"
      " ord INTEGER, PRIMARY KEY(run_id, entry, step_id));"
      "CREATE TABLE IF NOT EXISTS rollbacks(target TEXT, run_id TEXT, at TEXT);"
      "CREATE INDEX IF NOT EXISTS rollbacks_target ON rollbacks(target);"
      "CREATE TABLE IF NOT EXISTS leases(resource TEXT PRIMARY KEY, run_id TEXT, owner TEXT, caller TEXT,"
      " started_at TEXT, expires INTEGER);"
      // Single-use approvals: each accepted approval and the run it authorized.
      "CREATE TABLE IF NOT EXISTS approvals_used(approval_id TEXT PRIMARY KEY, run_id TEXT, approver TEXT,"
      " plan_hash TEXT, used_at TEXT);"
      // Who AWS said ran each run (and who made its plan), whatever --requester said.
      "CREATE TABLE IF NOT EXISTS run_callers(run_id TEXT PRIMARY KEY, caller TEXT, plan_caller TEXT);"));
  // Columns added after the first release: older journals get them on open.
  CC_TRY(j->add_column("runs", "case_id TEXT"));
  CC_TRY(j->add_column("runs", "owner TEXT"));
  CC_TRY(j->add_column("steps", "exposure TEXT"));
  CC_TRY(j->add_column("runs", "recovery TEXT"));
  return j;
}

SqliteJournal::~SqliteJournal() { sqlite3_close(db_); }

Status SqliteJournal::add_column(const std::string& table, const std::string& column_def) {
  const std::string name = column_def.substr(0, column_def.find(' '));
  {
    Stmt s(db_, ("SELECT 1 FROM pragma_table_info('" + table + "') WHERE name = ?").c_str());
    s.bind(1, name);
    if (s.step() == SQLITE_ROW) return Ok{};
  }
  return exec("ALTER TABLE " + table + " ADD COLUMN " + column_def);
}

Status SqliteJournal::set_run_owner(const std::string& run_id, const RunOwner& owner) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "UPDATE runs SET owner = ? WHERE run_id = ?");
  s.bind(1, owner.to_json().dump()).bind(2, run_id);
  if (s.step() != SQLITE_DONE) return db_error(db_, "set run owner");
  return Ok{};
}

Status SqliteJournal::set_exposure(const std::string& run_id, int entry, const std::string& step_id,
                                   const json& exposure) {
  return write([&]() -> Status {
    Stmt s(db_, "UPDATE steps SET exposure = ?, updated_at = ? WHERE run_id = ? AND entry = ? AND step_id = ?");
    s.bind(1, exposure.is_null() ? std::string() : exposure.dump()).bind(2, aws::format_iso8601(clock_.now()))
        .bind(3, run_id).bind(4, static_cast<long long>(entry)).bind(5, step_id);
    if (s.step() != SQLITE_DONE) return db_error(db_, "record exposure of " + step_id);
    return Ok{};
  });
}

Status SqliteJournal::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    if (msg.find("locked") != std::string::npos || msg.find("busy") != std::string::npos)
      return Error::io("journal is locked by another run: " + msg);
    return Error::io("journal: " + msg);
  }
  return Ok{};
}

Status SqliteJournal::create_run(const RunRecord& run, const std::vector<PlanEntry>& entries) {
  std::lock_guard lock(mu_);
  CC_TRY(exec("BEGIN IMMEDIATE"));
  std::string now = aws::format_iso8601(clock_.now());
  {
    Stmt s(db_, "INSERT INTO runs(run_id, plan_hash, status, started_at, finished_at, requester, mode, plan, owner,"
                " recovery) VALUES(?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, run.run_id).bind(2, run.plan_hash).bind(3, run.status).bind(4, now).bind(5, std::string())
        .bind(6, run.requester).bind(7, run.mode).bind(8, run.plan.dump())
        .bind(9, run.owner.pid > 0 ? run.owner.to_json().dump() : std::string())
        .bind(10, run.recovery.is_null() ? std::string() : run.recovery.dump());
    if (s.step() != SQLITE_DONE) {
      Error e = db_error(db_, "create run " + run.run_id);
      logged(exec("ROLLBACK"));
      return e;
    }
  }
  long long ord = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    for (const auto& step : entries[i].steps) {
      Stmt s(db_, "INSERT INTO steps(run_id, entry, step_id, target, family, state, updated_at, apply_seq, ord)"
                  " VALUES(?,?,?,?,?,?,?,0,?)");
      s.bind(1, run.run_id).bind(2, static_cast<long long>(i)).bind(3, step.id).bind(4, entries[i].target.arn)
          .bind(5, entries[i].family).bind(6, std::string(step_state::kPending)).bind(7, now).bind(8, ord++);
      if (s.step() != SQLITE_DONE) {
        Error e = db_error(db_, "create step " + step.id);
        logged(exec("ROLLBACK"));
        return e;
      }
    }
  }
  return exec("COMMIT");
}

Result<std::vector<RunRecord>> SqliteJournal::runs() {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY started_at, rowid").c_str());
  std::vector<RunRecord> out;
  for (int rc; (rc = s.step()) == SQLITE_ROW;) out.push_back(run_row(s, false));
  return out;
}

Result<RunRecord> SqliteJournal::run(const std::string& run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kRunColumns + ", plan FROM runs WHERE run_id = ?").c_str());
  s.bind(1, run_id);
  if (s.step() != SQLITE_ROW) return Error::invalid("no run '" + run_id + "' in the journal", "UnknownRun");
  return run_row(s, true);
}

Result<std::vector<StepRecord>> SqliteJournal::steps(const std::string& run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT run_id, entry, step_id, target, family, state, before, applied, error, updated_at, applied_at,"
              " apply_seq, exposure FROM steps WHERE run_id = ? ORDER BY ord");
  s.bind(1, run_id);
  std::vector<StepRecord> out;
  while (s.step() == SQLITE_ROW) {
    StepRecord r;
    r.run_id = s.text(0);
    r.entry = static_cast<int>(s.integer(1));
    r.step_id = s.text(2);
    r.target = s.text(3);
    r.family = s.text(4);
    r.state = s.text(5);
    r.before = parse_or_null(s.text(6));
    r.applied = parse_or_null(s.text(7));
    r.error = s.text(8);
    r.updated_at = s.text(9);
    r.applied_at = s.text(10);
    r.apply_seq = s.integer(11);
    r.exposure = parse_or_null(s.text(12));
    out.push_back(std::move(r));
  }
  return out;
}

Status SqliteJournal::record_before(const std::string& run_id, int entry, const std::string& step_id, const json& before) {
  return write([&]() -> Status {
    Stmt s(db_, "UPDATE steps SET before = COALESCE(before, ?), state = ?, updated_at = ?"
                " WHERE run_id = ? AND entry = ? AND step_id = ?");
    s.bind(1, before.dump()).bind(2, std::string(step_state::kCaptured)).bind(3, aws::format_iso8601(clock_.now()))
        .bind(4, run_id).bind(5, static_cast<long long>(entry)).bind(6, step_id);
    if (s.step() != SQLITE_DONE) return db_error(db_, "record before-state of " + step_id);
    return Ok{};
  });
}

Status SqliteJournal::set_state(const std::string& run_id, int entry, const std::string& step_id, const std::string& state,
                          const std::string& error) {
  CC_TRY(fault_refuses_step_state(state));
  return write([&]() -> Status {
    std::string now = aws::format_iso8601(clock_.now());
    Stmt s(db_, "UPDATE steps SET state = ?, error = ?, updated_at = ? WHERE run_id = ? AND entry = ? AND step_id = ?");
    s.bind(1, state).bind(2, error).bind(3, now).bind(4, run_id).bind(5, static_cast<long long>(entry)).bind(6, step_id);
    if (s.step() != SQLITE_DONE) return db_error(db_, "set state of " + step_id);
    if (state == step_state::kRolledBack) {
      Stmt r(db_, "INSERT INTO rollbacks(target, run_id, at) SELECT target, run_id, ? FROM steps"
                  " WHERE run_id = ? AND entry = ? AND step_id = ?");
      r.bind(1, now).bind(2, run_id).bind(3, static_cast<long long>(entry)).bind(4, step_id);
      if (r.step() != SQLITE_DONE) return db_error(db_, "record rollback of " + step_id);
    }
    return Ok{};
  });
}

Status SqliteJournal::record_applied(const std::string& run_id, int entry, const std::string& step_id, const json& applied) {
  return write([&]() -> Status {
    Stmt s(db_, "UPDATE steps SET applied = ?, state = ?, applied_at = ?, updated_at = ?,"
                " apply_seq = (SELECT COALESCE(MAX(apply_seq), 0) + 1 FROM steps WHERE run_id = ?)"
                " WHERE run_id = ? AND entry = ? AND step_id = ?");
    std::string now = aws::format_iso8601(clock_.now());
    s.bind(1, applied.dump()).bind(2, std::string(step_state::kApplied)).bind(3, now).bind(4, now).bind(5, run_id)
        .bind(6, run_id).bind(7, static_cast<long long>(entry)).bind(8, step_id);
    if (s.step() != SQLITE_DONE) return db_error(db_, "record applied " + step_id);
    return Ok{};
  });
}

Status SqliteJournal::PendingWrite::run() {
  try {
    return (*op)();
  } catch (...) {
    thrown = std::current_exception();
    return Error::internal("journal: a step write threw");
  }
}

Status SqliteJournal::PendingWrite::result() const {
  if (thrown) std::rethrow_exception(thrown);
  return status;
}

// Group commit. A writer queues its statements; if no commit is in progress it becomes the leader,
// runs everything queued (each writer's statements in a savepoint of their own, so one failing
// write undoes only itself) in one transaction and commits it, which syncs once. Writers that
// queue meanwhile wait for the next leader. Each returns only after its own transaction
// committed, so a returned Ok still means the write is on disk.
Status SqliteJournal::write(const std::function<Status()>& op) {
  PendingWrite me{&op, Ok{}, false};
  std::unique_lock group(group_mu_);
  queue_.push_back(&me);
  group_cv_.wait(group, [&] { return me.done || !committing_; });
  if (me.done) return me.result();
  committing_ = true;
  std::vector<PendingWrite*> batch;
  batch.swap(queue_);
  group.unlock();
  bool committed = false;
  {
    std::lock_guard lock(mu_);
    Status begin = exec("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (PendingWrite* w : batch) w->status = begin;
    } else {
      for (PendingWrite* w : batch) {
        Status mark = exec("SAVEPOINT step_write");
        w->status = mark.ok() ? w->run() : mark;
        if (!w->status.ok() && mark.ok()) logged(exec("ROLLBACK TO step_write"));
        if (mark.ok()) logged(exec("RELEASE step_write"));
      }
      Status commit = exec("COMMIT");
      committed = commit.ok();
      if (!committed) {
        logged(exec("ROLLBACK"));
        for (PendingWrite* w : batch)
          if (w->status.ok()) w->status = commit;
      }
    }
  }
  group.lock();
  if (committed) commits_++;
  for (PendingWrite* w : batch) w->done = true;
  committing_ = false;
  group.unlock();
  group_cv_.notify_all();
  return me.result();
}

namespace {
struct SqliteGuard : RunGuard {
  std::unique_ptr<StateLock> lock;
  std::atomic<bool>* guarded;
  SqliteGuard(std::unique_ptr<StateLock> l, std::atomic<bool>* g) : lock(std::move(l)), guarded(g) { *guarded = true; }
  ~SqliteGuard() override { *guarded = false; }
};
}  // namespace

Result<std::unique_ptr<RunGuard>> SqliteJournal::guard_run() {
  CC_ASSIGN(std::unique_ptr<StateLock> lock, StateLock::acquire(state_dir_));
  return std::unique_ptr<RunGuard>(new SqliteGuard(std::move(lock), &guarded_));
}

uint64_t SqliteJournal::step_commits() const {
  std::lock_guard group(group_mu_);
  return commits_;
}

Status SqliteJournal::set_run_status(const std::string& run_id, const std::string& status) {
  const std::vector<std::string>& from = run_statuses_before(status);
  if (from.empty()) return Error::internal("'" + status + "' is not a run status");
  std::lock_guard lock(mu_);
  bool final = status != "running" && status != "rolling_back";
  std::string sql = "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ? AND status IN (";
  for (size_t i = 0; i < from.size(); ++i) sql += i ? ",?" : "?";
  Stmt s(db_, (sql + ")").c_str());
  s.bind(1, status).bind(2, final ? aws::format_iso8601(clock_.now()) : std::string()).bind(3, run_id);
  for (size_t i = 0; i < from.size(); ++i) s.bind(static_cast<int>(4 + i), from[i]);
  if (s.step() != SQLITE_DONE) return db_error(db_, "set run status");
  if (sqlite3_changes(db_) == 1) return Ok{};
  Stmt now(db_, "SELECT status FROM runs WHERE run_id = ?");
  now.bind(1, run_id);
  if (now.step() != SQLITE_ROW) return Error::invalid("no run '" + run_id + "' in the journal", "UnknownRun");
  return Error{ErrorKind::kClient, "StateConflict",
               "run " + run_id + " is now '" + now.text(0) + "'; another process moved it (wanted '" + status + "')"};
}

Status SqliteJournal::record_approvals_used(const std::vector<UsedApproval>& used) {
  return write([&]() -> Status {
    for (const auto& u : used) {
      // Recorded already: by this run (a resume) it stands; by another run, nothing is recorded.
      Stmt prior(db_, "SELECT run_id FROM approvals_used WHERE approval_id = ?");
      prior.bind(1, u.approval_id);
      if (prior.step() == SQLITE_ROW) {
        if (prior.text(0) == u.run_id) continue;
        return Error::refused("the approval by " + u.approver + " was already used by run " + prior.text(0) +
                                  "; an approval authorizes one run",
                              "ApprovalUsed");
      }
      Stmt s(db_, "INSERT INTO approvals_used(approval_id, run_id, approver, plan_hash, used_at) VALUES(?,?,?,?,?)");
      s.bind(1, u.approval_id).bind(2, u.run_id).bind(3, u.approver).bind(4, u.plan_hash)
          .bind(5, u.used_at.empty() ? aws::format_iso8601(clock_.now()) : u.used_at);
      if (s.step() != SQLITE_DONE) return db_error(db_, "record approval by " + u.approver + " as used");
    }
    return Ok{};
  });
}

Status SqliteJournal::set_run_case(const std::string& run_id, const std::string& case_id) {
  return write([&]() -> Status {
    Stmt s(db_, "UPDATE runs SET case_id = ? WHERE run_id = ?");
    s.bind(1, case_id).bind(2, run_id);
    if (s.step() != SQLITE_DONE) return db_error(db_, "record the support case of run " + run_id);
    if (sqlite3_changes(db_) != 1) return Error::invalid("no run '" + run_id + "' in the journal", "UnknownRun");
    return Ok{};
  });
}

Result<bool> SqliteJournal::swap_run_case(const std::string& run_id, const std::string& expected,
                                          const std::string& desired) {
  bool swapped = false;
  CC_TRY(write([&]() -> Status {
    Stmt s(db_, "UPDATE runs SET case_id = ? WHERE run_id = ? AND COALESCE(case_id, '') = ?");
    s.bind(1, desired).bind(2, run_id).bind(3, expected);
    if (s.step() != SQLITE_DONE) return db_error(db_, "record the support case of run " + run_id);
    swapped = sqlite3_changes(db_) == 1;
    return Ok{};
  }));
  if (!swapped) {
    auto exists = run(run_id);
    if (!exists.ok()) return exists.error();
  }
  return swapped;
}

Result<std::optional<UsedApproval>> SqliteJournal::approval_used(const std::string& approval_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT approval_id, run_id, approver, plan_hash, used_at FROM approvals_used WHERE approval_id = ?");
  s.bind(1, approval_id);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<UsedApproval>();
  if (rc != SQLITE_ROW) return db_error(db_, "look up approval " + approval_id.substr(0, 12));
  return std::optional<UsedApproval>(UsedApproval{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
}

Result<std::vector<UsedApproval>> SqliteJournal::approvals_used_by(const std::string& run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT approval_id, run_id, approver, plan_hash, used_at FROM approvals_used WHERE run_id = ?"
              " ORDER BY approval_id");
  s.bind(1, run_id);
  std::vector<UsedApproval> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  if (rc != SQLITE_DONE) return db_error(db_, "list the approvals used by " + run_id);
  return out;
}

Status SqliteJournal::record_run_caller(const std::string& run_id, const std::string& caller,
                                        const std::string& plan_caller) {
  return write([&]() -> Status {
    Stmt s(db_, "INSERT OR REPLACE INTO run_callers(run_id, caller, plan_caller) VALUES(?,?,?)");
    s.bind(1, run_id).bind(2, caller).bind(3, plan_caller);
    if (s.step() != SQLITE_DONE) return db_error(db_, "record the caller of " + run_id);
    return Ok{};
  });
}

Result<std::pair<std::string, std::string>> SqliteJournal::run_caller(const std::string& run_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT caller, plan_caller FROM run_callers WHERE run_id = ?");
  s.bind(1, run_id);
  if (s.step() != SQLITE_ROW) return std::pair<std::string, std::string>();
  return std::pair<std::string, std::string>(s.text(0), s.text(1));
}

std::optional<aws::TimePoint> SqliteJournal::last_rollback(const std::string& target_arn) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT MAX(at) FROM rollbacks WHERE target = ?");
  s.bind(1, target_arn);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  aws::TimePoint t;
  if (!aws::parse_time(s.text(0), t)) return std::nullopt;
  return t;
}

}  // namespace containctl::orch
