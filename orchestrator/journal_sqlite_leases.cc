// SqliteJournal: state import and resource leases. The state-directory lock keeps a second run
// off this journal (it is refused naming the holder's pid), so under that lock a lease left by
// another owner is a killed process's and is taken over; the leases still show `status` which
// unfinished runs no process is working on.
#include <sqlite3.h>

#include <chrono>

#include "orchestrator/journal_sqlite.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

long long to_ms(aws::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
aws::TimePoint from_ms(long long ms) { return aws::TimePoint(std::chrono::milliseconds(ms)); }

Error db_error(sqlite3* db, const std::string& what) {
  return Error::io("journal: " + what + ": " + (db ? sqlite3_errmsg(db) : "unknown error"));
}

// The few statements below, prepared and finalised in one place.
struct Q {
  sqlite3_stmt* s = nullptr;
  Q(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
  ~Q() { sqlite3_finalize(s); }
  Q& text(int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Q& num(int i, long long v) {
    sqlite3_bind_int64(s, i, v);
    return *this;
  }
  int step() { return sqlite3_step(s); }
  std::string col(int c) {
    auto p = sqlite3_column_text(s, c);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  long long coln(int c) { return sqlite3_column_int64(s, c); }
};

std::string dump_or_empty(const json& v) { return v.is_null() ? std::string() : v.dump(); }

}  // namespace

Status SqliteJournal::import_run(const RunRecord& run, const std::vector<StepRecord>& steps) {
  std::lock_guard lock(mu_);
  CC_TRY(exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) {
    Error e = db_error(db_, what);
    logged(exec("ROLLBACK"));
    return e;
  };
  {
    Q q(db_, "INSERT INTO runs(run_id, plan_hash, status, started_at, finished_at, requester, mode, plan, recovery)"
             " VALUES(?,?,?,?,?,?,?,?,NULLIF(?, ''))");
    q.text(1, run.run_id).text(2, run.plan_hash).text(3, run.status).text(4, run.started_at).text(5, run.finished_at)
        .text(6, run.requester).text(7, run.mode).text(8, run.plan.dump()).text(9, dump_or_empty(run.recovery));
    if (q.step() != SQLITE_DONE) return fail("import run " + run.run_id);
  }
  long long ord = 0;
  for (const auto& s : steps) {
    Q q(db_, "INSERT INTO steps(run_id, entry, step_id, target, family, state, before, applied, error, updated_at,"
             " applied_at, apply_seq, ord, exposure) VALUES(?,?,?,?,?,?,NULLIF(?, ''),NULLIF(?, ''),?,?,?,?,?,NULLIF(?, ''))");
    q.text(1, run.run_id).num(2, s.entry).text(3, s.step_id).text(4, s.target).text(5, s.family).text(6, s.state)
        .text(7, dump_or_empty(s.before)).text(8, dump_or_empty(s.applied)).text(9, s.error).text(10, s.updated_at)
        .text(11, s.applied_at).num(12, s.apply_seq).num(13, ord++).text(14, dump_or_empty(s.exposure));
    if (q.step() != SQLITE_DONE) return fail("import step " + s.step_id + " of " + run.run_id);
    if (s.state == step_state::kRolledBack) {
      Q r(db_, "INSERT INTO rollbacks(target, run_id, at) VALUES(?,?,?)");
      r.text(1, s.target).text(2, run.run_id).text(3, s.updated_at);
      if (r.step() != SQLITE_DONE) return fail("import rollback of " + s.step_id);
    }
  }
  return exec("COMMIT");
}

Result<Lease> SqliteJournal::take_lease(const Lease& want) {
  std::lock_guard lock(mu_);
  CC_TRY(exec("BEGIN IMMEDIATE"));
  {
    Q q(db_, "SELECT run_id, owner, caller, started_at, expires FROM leases WHERE resource = ?");
    q.text(1, want.resource);
    if (q.step() == SQLITE_ROW) {
      Lease held{want.resource, q.col(0), q.col(1), q.col(2), q.col(3), from_ms(q.coln(4))};
      if (held.owner != want.owner && held.expires > clock_.now() && !guarded_) {
        logged(exec("ROLLBACK"));
        return Error::refused(want.resource + " is being contained by " + describe_lease_holder(held) +
                                  "; nothing was changed (wait for it, or use --wait-lock)",
                              "LeaseHeld");
      }
    }
  }
  Q up(db_, "INSERT OR REPLACE INTO leases(resource, run_id, owner, caller, started_at, expires) VALUES(?,?,?,?,?,?)");
  up.text(1, want.resource).text(2, want.run_id).text(3, want.owner).text(4, want.caller).text(5, want.started_at)
      .num(6, to_ms(want.expires));
  if (up.step() != SQLITE_DONE) {
    Error e = db_error(db_, "take lease on " + want.resource);
    logged(exec("ROLLBACK"));
    return e;
  }
  CC_TRY(exec("COMMIT"));
  return want;
}

Status SqliteJournal::renew_lease(const Lease& held, aws::TimePoint expires) {
  std::lock_guard lock(mu_);
  Q q(db_, "UPDATE leases SET expires = ? WHERE resource = ? AND owner = ?");
  q.num(1, to_ms(expires)).text(2, held.resource).text(3, held.owner);
  if (q.step() != SQLITE_DONE) return db_error(db_, "renew lease on " + held.resource);
  if (sqlite3_changes(db_) != 1) return Error::io("lease on " + held.resource + " was taken over by another run");
  return Ok{};
}

Status SqliteJournal::release_lease(const Lease& held) {
  std::lock_guard lock(mu_);
  Q q(db_, "DELETE FROM leases WHERE resource = ? AND owner = ?");
  q.text(1, held.resource).text(2, held.owner);
  if (q.step() != SQLITE_DONE) return db_error(db_, "release lease on " + held.resource);
  return Ok{};
}

Result<std::vector<Lease>> SqliteJournal::leases() {
  std::lock_guard lock(mu_);
  Q q(db_, "SELECT resource, run_id, owner, caller, started_at, expires FROM leases ORDER BY resource");
  std::vector<Lease> out;
  while (q.step() == SQLITE_ROW) out.push_back({q.col(0), q.col(1), q.col(2), q.col(3), q.col(4), from_ms(q.coln(5))});
  return out;
}

}  // namespace containctl::orch
