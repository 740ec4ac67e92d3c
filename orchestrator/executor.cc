#include "orchestrator/executor.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "actions/registry.h"
#include "aws/concurrency.h"
#include "orchestrator/shared_resources.h"
#include "orchestrator/target_pool.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

// Fault injection for the crash tests: CONTAINCTL_FAULT=before_apply:N|after_apply:N kills the
// process with SIGKILL at the N-th mutating step of the process (1-based).
void fault_point(const char* where) {
#ifdef CONTAINCTL_FAULT_INJECTION
  static std::atomic<int> counter_before{0}, counter_after{0};
  const char* spec = std::getenv("CONTAINCTL_FAULT");
  if (!spec) return;
  std::string s(spec);
  size_t colon = s.find(':');
  if (colon == std::string::npos || s.substr(0, colon) != where) return;
  int n = std::atoi(s.c_str() + colon + 1);
  auto& counter = std::string(where) == "before_apply" ? counter_before : counter_after;
  if (++counter == n) ::raise(SIGKILL);
#else
  (void)where;
#endif
}

bool is_done(const std::string& state) {
  return state == step_state::kVerified;
}

// The steps of one target that wait without calls (actions::wait_without_calls). When every
// running step of the target is waiting, the target hands its pool slot back; the first to wake
// takes it back, and the others wait for that, before any of them calls again.
class IdleHold {
 public:
  IdleHold(aws::Clock& clock, PoolSlot& slot, const std::function<bool()>& interrupted)
      : clock_(clock), slot_(slot), interrupted_(interrupted) {}
  void wave_started(int steps) {
    std::lock_guard lock(mu_);
    running_ = steps;
  }
  void step_finished() {
    std::lock_guard lock(mu_);
    running_--;
    release_if_all_wait();
  }
  void wait(std::chrono::milliseconds d, const std::function<void(std::chrono::seconds)>& tick = {}) {
    idle([&] { sleep(d, tick); });
  }
  // Runs `block`, a wait that makes no calls (a dwell, or waiting for a shared resource that
  // another target's step writes), with the slot handed back when every running step waits.
  void idle(const std::function<void()>& block) {
    {
      std::lock_guard lock(mu_);
      waiting_++;
      release_if_all_wait();
    }
    block();
    bool mine = false;
    aws::wait_until(clock_, mu_, [&] {
      if (!released_) {
        waiting_--;
        return true;
      }
      if (reacquiring_) return false;
      reacquiring_ = mine = true;
      return true;
    });
    if (!mine) return;
    slot_.reacquire();
    {
      std::lock_guard lock(mu_);
      released_ = reacquiring_ = false;
      waiting_--;
    }
    aws::notify_waiters(clock_);
  }

 private:
  // Wakes early once the run is interrupted: the waiting step goes on to close what it opened.
  // With `tick`, says how long is left at the start and every kBeat after.
  void sleep(std::chrono::milliseconds d, const std::function<void(std::chrono::seconds)>& tick) {
    if (!interrupted_ && !tick) {
      clock_.sleep_for(d);
      return;
    }
    constexpr std::chrono::milliseconds kSlice{100}, kBeat{5000};
    std::chrono::milliseconds since_beat = kBeat;
    while (d.count() > 0 && !(interrupted_ && interrupted_())) {
      if (tick && since_beat >= kBeat) {
        tick(std::chrono::duration_cast<std::chrono::seconds>(d + std::chrono::milliseconds(999)));
        since_beat = std::chrono::milliseconds(0);
      }
      auto slice = std::min(d, kSlice);
      clock_.sleep_for(slice);
      d -= slice;
      since_beat += slice;
    }
  }
  void release_if_all_wait() {  // mu_ held
    if (released_ || running_ == 0 || waiting_ < running_) return;
    slot_.release();
    released_ = true;
  }
  aws::Clock& clock_;
  PoolSlot& slot_;
  const std::function<bool()>& interrupted_;
  std::mutex mu_;
  int running_ = 0, waiting_ = 0;
  bool released_ = false, reacquiring_ = false;
};

enum class StepResult { kDone, kFailed, kNotStarted };

struct Runner {
  Journal& journal;
  const std::string& run_id;
  ExecutionEnv& env;
  std::mutex mu;
  RunOutcome outcome;
  ResourceLocks locks{*env.clock};

  bool interrupted() const { return env.interrupted && env.interrupted(); }
  actions::ActionFamily* family(const std::string& name) {
    return env.family_for ? env.family_for(name) : actions::find_family(name);
  }
  void note(const std::string& line) {
    if (env.progress) env.progress(line);
  }
  void audit(const std::string& event, json fields) {
    if (env.audit) {
      fields["run_id"] = run_id;
      env.audit(event, fields);
    }
  }
  void failed(const PlanEntry& e, const actions::Step& s, const std::string& why) {
    std::lock_guard lock(mu);
    outcome.steps_failed++;
    outcome.errors.push_back(e.target.arn + " " + s.id + ": " + why);
  }

  // One step: capture -> journal -> applying -> apply -> applied -> verify -> verified. Once the
  // run is interrupted, a step that has not made its first mutating call does not start.
  StepResult run_step(int idx, const PlanEntry& e, const actions::Step& s, const StepRecord& rec,
                      actions::ActionFamily& fam, actions::Context& ctx) {
    json before = rec.before;
    json applied_record = rec.applied;  // what verify checks against; the journaled one on resume
    if (rec.state != step_state::kApplied) {
      if (interrupted()) return StepResult::kNotStarted;
      if (before.is_null()) {
        auto cap = fam.capture(ctx, s);
        if (!cap.ok()) {
          logged(journal.set_state(run_id, idx, s.id, step_state::kFailed, "capture: " + cap.error().describe()));
          failed(e, s, "capture: " + cap.error().describe());
          audit("step_failed", {{"target", e.target.arn}, {"step", s.id}, {"phase", "capture"},
                                {"error", cap.error().describe()}});
          return StepResult::kFailed;
        }
        before = *cap;
        if (auto st = journal.record_before(run_id, idx, s.id, before); !st.ok()) {
          failed(e, s, st.error().describe());
          return StepResult::kFailed;  // never mutate without a durable before-state
        }
        audit("step_captured", {{"target", e.target.arn}, {"step", s.id}});
      }
      if (env.may_mutate) {
        if (Status ok = env.may_mutate(); !ok.ok()) {
          logged(journal.set_state(run_id, idx, s.id, step_state::kFailed, "not started: " + ok.error().message));
          failed(e, s, "not started: " + ok.error().message);
          return StepResult::kFailed;
        }
      }
      if (interrupted()) return StepResult::kNotStarted;  // captured, never applied: nothing to undo
      if (auto st = journal.set_state(run_id, idx, s.id, step_state::kApplying); !st.ok()) {
        failed(e, s, st.error().describe());
        return StepResult::kFailed;
      }
      fault_point("before_apply");
      note("  " + e.target.arn + "  " + s.id + ": applying");
      auto applied = fam.apply(ctx, s, before);
      if (!applied.ok()) {
        logged(journal.set_state(run_id, idx, s.id, step_state::kFailed, applied.error().describe()));
        failed(e, s, applied.error().describe());
        audit("step_failed", {{"target", e.target.arn}, {"step", s.id}, {"phase", "apply"},
                              {"error", applied.error().describe()}});
        note("  " + e.target.arn + "  " + s.id + ": FAILED: " + applied.error().describe());
        return StepResult::kFailed;
      }
      fault_point("after_apply");
      if (auto st = journal.record_applied(run_id, idx, s.id, *applied); !st.ok()) {
        failed(e, s, st.error().describe());
        return StepResult::kFailed;
      }
      audit("step_applied", {{"target", e.target.arn}, {"step", s.id}});
      applied_record = *applied;
    }
    Status v = fam.verify_applied(ctx, s, applied_record);
    if (!v.ok()) {
      logged(journal.set_state(run_id, idx, s.id, step_state::kFailed, "verify: " + v.error().describe()));
      failed(e, s, "verify: " + v.error().describe());
      audit("step_failed", {{"target", e.target.arn}, {"step", s.id}, {"phase", "verify"},
                            {"error", v.error().describe()}});
      note("  " + e.target.arn + "  " + s.id + ": verify FAILED: " + v.error().describe());
      return StepResult::kFailed;
    }
    if (Status recorded = journal.set_state(run_id, idx, s.id, step_state::kVerified); !recorded.ok()) {
      // The step holds (verify passed), so the steps after it may go on; but the journal still
      // says applied, so the run is not a success: status shows the step applied, not verified,
      // and apply --resume verifies it again.
      const std::string why = "verified, but the journal could not record it (" + recorded.error().describe() +
                              "): it stays applied, not verified, until apply --resume verifies it again";
      audit("step_verified", {{"target", e.target.arn}, {"step", s.id}, {"journal_error", recorded.error().describe()}});
      note("  " + e.target.arn + "  " + s.id + ": " + why);
      std::lock_guard lock(mu);
      outcome.steps_unrecorded++;
      outcome.errors.push_back(e.target.arn + " " + s.id + ": " + why);
      return StepResult::kDone;
    }
    if (!rec.exposure.is_null()) logged(journal.set_exposure(run_id, idx, s.id, json()));  // a killed run's window
    audit("step_verified", {{"target", e.target.arn}, {"step", s.id}});
    note("  " + e.target.arn + "  " + s.id + ": done");
    std::lock_guard lock(mu);
    outcome.steps_done++;
    return StepResult::kDone;
  }

  // The steps of one entry, in waves of steps whose dependencies are done. A failed step blocks
  // the steps that depend on it (and the cosmetic ones); the others still run: containment that
  // can go on, goes on. Cosmetic steps (tags) start only once every other step verified, and a
  // dependency of a security step on a cosmetic one is ignored, so a tag never holds one up.
  // True when every step of the entry is done.
  bool run_entry(int idx, const PlanEntry& e, std::map<std::string, StepRecord>& records, PoolSlot& slot) {
    actions::ActionFamily* fam = family(e.family);
    if (!fam) {
      for (const auto& s : e.steps) failed(e, s, "unknown action family " + e.family);
      return false;
    }
    if (interrupted()) return false;  // a target that has not started does not start
    auto client = env.client_for(e);
    if (!client.ok()) {
      for (const auto& s : e.steps) failed(e, s, client.error().describe());
      return false;
    }
    aws::AwsClient target_client = (*client)->with_context(e.target.arn);  // audit records name the target
    actions::Context ctx{target_client, e.target, e.region, run_id, env.caller, env.options, env.allow_principals,
                         *env.clock};
    IdleHold hold(*env.clock, slot, env.interrupted);
    ctx.idle_wait = [&hold, &e, this](std::chrono::milliseconds d) {
      if (!env.heartbeat) return hold.wait(d);
      hold.wait(d, [&](std::chrono::seconds left) { env.heartbeat(e.target.arn, left); });
    };
    ctx.exposure = [this, idx](const actions::Step& s, const json& what) {
      return journal.set_exposure(run_id, idx, s.id, what);
    };
    std::map<std::string, bool> cosmetic;
    for (const auto& s : e.steps) cosmetic[s.id] = s.cosmetic;
    std::set<std::string> done, blocked;
    for (const auto& s : e.steps) {
      if (!is_done(records[s.id].state)) continue;
      done.insert(s.id);
      std::lock_guard lock(mu);
      outcome.steps_done++;
    }
    auto security_left = [&] {
      return std::any_of(e.steps.begin(), e.steps.end(),
                         [&](const actions::Step& s) { return !s.cosmetic && !done.count(s.id); });
    };
    while (done.size() + blocked.size() < e.steps.size()) {
      if (interrupted()) return false;
      std::vector<const actions::Step*> wave;
      for (const auto& s : e.steps) {
        if (done.count(s.id) || blocked.count(s.id)) continue;
        if (s.cosmetic && security_left()) continue;
        bool ready = std::all_of(s.depends_on.begin(), s.depends_on.end(), [&](const std::string& d) {
          return done.count(d) > 0 || (!s.cosmetic && cosmetic[d]);
        });
        if (ready) wave.push_back(&s);
      }
      if (wave.empty()) return false;  // what is left waits on a failed step
      std::vector<StepResult> results(wave.size(), StepResult::kNotStarted);
      std::vector<std::function<void()>> tasks;
      for (size_t i = 0; i < wave.size(); ++i) {
        const StepRecord rec = records[wave[i]->id];
        tasks.push_back([this, idx, &e, s = wave[i], rec, fam, &ctx, &results, i, &hold] {
          // A step that writes a resource another target's step writes runs alone on it; waiting
          // for it makes no calls, so the slot may go to other targets meanwhile. A family that
          // throws (a bad field in a hand-edited plan, a surprising answer) fails its step like an
          // error would; the journal keeps its before-state for rollback.
          // shared_resources reads the step's args too, so it runs inside the catch.
          Status st = aws::catch_all(e.target.arn + " " + s->id, [&] {
            ResourceLocks::Held held(locks, fam->shared_resources(e.target, *s),
                                     [&hold](const std::function<void()>& wait) { hold.idle(wait); });
            results[i] = run_step(idx, e, *s, rec, *fam, ctx);
          });
          if (!st.ok()) {
            logged(journal.set_state(run_id, idx, s->id, step_state::kFailed, st.error().describe()));
            failed(e, *s, st.error().describe());
            note("  " + e.target.arn + "  " + s->id + ": FAILED: " + st.error().describe());
            results[i] = StepResult::kFailed;
          }
          hold.step_finished();
        });
      }
      hold.wave_started(static_cast<int>(tasks.size()));
      // Independent steps at once; one runs inline. Each task catches its own exceptions.
      logged(aws::fork_join(*env.clock, std::move(tasks)));
      for (size_t i = 0; i < wave.size(); ++i) {
        if (results[i] == StepResult::kDone) done.insert(wave[i]->id);
        if (results[i] == StepResult::kFailed) block_from(e, wave[i]->id, blocked);
      }
      if (std::count(results.begin(), results.end(), StepResult::kNotStarted) > 0) return false;  // interrupted
    }
    return blocked.empty();
  }

  // `failed` and every step that depends on it, directly or not, but for a security step's
  // dependency on a cosmetic one; and every cosmetic step (a tag says nothing false).
  static void block_from(const PlanEntry& e, const std::string& failed, std::set<std::string>& blocked) {
    std::set<std::string> cosmetic_ids;
    for (const auto& s : e.steps)
      if (s.cosmetic) cosmetic_ids.insert(s.id);
    blocked.insert(cosmetic_ids.begin(), cosmetic_ids.end());
    blocked.insert(failed);
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& s : e.steps) {
        if (blocked.count(s.id)) continue;
        for (const auto& d : s.depends_on) {
          if (cosmetic_ids.count(d)) continue;
          if (blocked.count(d)) {
            blocked.insert(s.id);
            grew = true;
            break;
          }
        }
      }
    }
  }
};


// The pool's limit applies per key: (account, region), and (account, "global") for IAM, which has
// no region, so an account's users and roles do not queue behind its instances.
std::string pool_key(const PlanEntry& e) {
  return e.account + "/" + (e.target.service == "iam" ? std::string("global") : e.region);
}

// Entries of the same target run one after another (their families touch the same resource).
void group_entries(const std::vector<PlanEntry>& entries, std::vector<std::vector<int>>& groups,
                   std::vector<std::string>& keys) {
  std::map<std::string, size_t> by_target;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto [it, fresh] = by_target.emplace(entries[i].target.arn, groups.size());
    if (fresh) {
      groups.push_back({});
      keys.push_back(pool_key(entries[i]));
    }
    groups[it->second].push_back(static_cast<int>(i));
  }
}

}  // namespace

RunOutcome execute_run(Journal& journal, const std::string& run_id, const std::vector<PlanEntry>& entries,
                       ExecutionEnv& env) {
  Runner r{journal, run_id, env};
  auto steps = journal.steps(run_id);
  if (!steps.ok()) {
    r.outcome.status = "failed";
    r.outcome.errors.push_back(steps.error().describe());
    return r.outcome;
  }
  std::vector<std::map<std::string, StepRecord>> records(entries.size());
  for (const auto& s : *steps)
    if (s.entry >= 0 && static_cast<size_t>(s.entry) < entries.size()) records[s.entry][s.step_id] = s;
  std::vector<std::vector<int>> groups;
  std::vector<std::string> keys;
  group_entries(entries, groups, keys);
  Status pooled = run_pool(*env.clock, groups, keys, env.workers, env.per_account_region,
                           [&](const std::vector<int>& group, PoolSlot& slot) {
                             for (int idx : group)
                               if (!r.run_entry(idx, entries[idx], records[idx], slot)) break;
                           });
  if (!pooled.ok()) {
    std::lock_guard lock(r.mu);
    r.outcome.errors.push_back(pooled.error().describe());
    r.outcome.steps_failed++;  // a target stopped without finishing: the run is not a success
  }
  int total = 0;
  for (const auto& e : entries) total += static_cast<int>(e.steps.size());
  const bool complete = r.outcome.steps_failed == 0 && r.outcome.steps_done == total;
  // A step that holds but whose verification the journal could not record is not done (the
  // journal says applied), yet the run did contain something: partial, not failed.
  const bool nothing_held = r.outcome.steps_done == 0 && r.outcome.steps_unrecorded == 0;
  r.outcome.status = complete           ? "succeeded"
                     : r.interrupted()  ? "interrupted"
                     : nothing_held     ? "failed"
                                        : "partial";
  logged(journal.set_run_status(run_id, r.outcome.status));
  return r.outcome;
}

Result<std::vector<RollbackItem>> rollback_order(Journal& journal, const std::string& run_id,
                                                 const std::vector<PlanEntry>& entries, const RollbackRequest& request) {
  CC_ASSIGN(std::vector<StepRecord> steps, journal.steps(run_id));
  std::set<std::string> reverse = {step_state::kApplying, step_state::kApplied, step_state::kVerified,
                                   step_state::kFailed, step_state::kRollingBack, step_state::kRollbackFailed};
  if (request.options.reactivate_keys) reverse.insert(step_state::kPartlyRestored);
  std::set<std::string> wanted(request.targets.begin(), request.targets.end()), known;
  for (const auto& e : entries) known.insert(e.target.arn);
  for (const auto& t : wanted) {
    if (known.count(t)) continue;
    // A bare id or name (i-0abc, a user name) of one of the run's targets: name its ARN.
    std::string hint;
    for (const auto& k : known)
      if (k.size() > t.size() && k.ends_with(t) && (k[k.size() - t.size() - 1] == '/' || k[k.size() - t.size() - 1] == ':'))
        hint = "; did you mean " + k + "?";
    return Error::invalid("--target " + t + " is not a target of run " + run_id + hint, "UnknownTarget");
  }
  std::vector<RollbackItem> items;
  for (const auto& rec : steps) {
    if (!reverse.count(rec.state) || rec.before.is_null()) continue;  // never mutated
    if (rec.entry < 0 || static_cast<size_t>(rec.entry) >= entries.size()) continue;
    const PlanEntry& e = entries[rec.entry];
    if (!wanted.empty() && !wanted.count(e.target.arn)) continue;
    auto it = std::find_if(e.steps.begin(), e.steps.end(), [&](const actions::Step& s) { return s.id == rec.step_id; });
    if (it == e.steps.end()) return Error::internal("journal step " + rec.step_id + " is not in the run's plan");
    items.push_back({&e, &*it, rec});
  }
  // Newest application first; steps that never recorded `applied` were in flight last.
  std::stable_sort(items.begin(), items.end(), [](const RollbackItem& a, const RollbackItem& b) {
    long long sa = a.record.apply_seq == 0 ? LLONG_MAX : a.record.apply_seq;
    long long sb = b.record.apply_seq == 0 ? LLONG_MAX : b.record.apply_seq;
    return sa > sb;
  });
  return items;
}

std::optional<aws::TimePoint> held_until(const RollbackItem& item, aws::TimePoint now) {
  if (item.step->min_hold_seconds <= 0 || item.record.applied_at.empty()) return std::nullopt;
  if (item.record.state == step_state::kPartlyRestored) return std::nullopt;  // its hold was dealt with
  aws::TimePoint applied;
  if (!aws::parse_time(item.record.applied_at, applied)) return std::nullopt;
  auto until = applied + std::chrono::seconds(item.step->min_hold_seconds);
  if (now < until) return until;
  return std::nullopt;
}

Result<RunOutcome> rollback_run(Journal& journal, const std::string& run_id, const std::vector<PlanEntry>& entries,
                                ExecutionEnv& env, const RollbackRequest& request) {
  CC_ASSIGN(std::vector<RollbackItem> all, rollback_order(journal, run_id, entries, request));
  RunOutcome held_only;
  std::vector<RollbackItem> items;
  for (auto& it : all) {
    auto until = request.options.force ? std::nullopt : held_until(it, env.clock->now());
    if (until)
      held_only.held.push_back({it.entry->target.arn, it.step->id, *until});
    else
      items.push_back(std::move(it));
  }
  if (request.dry_run) return held_only;
  logged(journal.set_run_status(run_id, "rolling_back"));
  Runner r{journal, run_id, env};
  r.outcome.held = held_only.held;
  for (const auto& h : r.outcome.held)
    r.note("  " + h.target + "  " + h.step + ": held until " + aws::format_iso8601(h.until) +
           " (rollback --force undoes it now)");
  // Group by target, keeping the reverse order inside each target.
  std::map<std::string, std::vector<size_t>> by_target;
  std::vector<std::string> order;
  for (size_t i = 0; i < items.size(); ++i) {
    auto [it, fresh] = by_target.emplace(items[i].entry->target.arn, std::vector<size_t>{});
    if (fresh) order.push_back(items[i].entry->target.arn);
    it->second.push_back(i);
  }
  std::vector<std::vector<int>> groups;
  std::vector<std::string> keys;
  for (const auto& t : order) {
    std::vector<int> g(by_target[t].begin(), by_target[t].end());
    groups.push_back(g);
    keys.push_back(pool_key(*items[g.front()].entry));
  }
  // Steps of different targets that wrote one resource go back newest first, one at a time.
  // A step whose resources cannot be named (shared_resources threw) is not run at all: without
  // its lock it could write a resource another target's rollback writes at the same time.
  std::vector<std::vector<std::string>> shared(items.size());
  std::vector<std::optional<Error>> unlockable(items.size());
  for (size_t i = 0; i < items.size(); ++i)
    if (actions::ActionFamily* fam = r.family(items[i].entry->family)) {
      Status named = aws::catch_all(items[i].entry->target.arn + " " + items[i].step->id + " shared resources",
                                    [&] { shared[i] = fam->shared_resources(items[i].entry->target, *items[i].step); });
      if (!named.ok()) unlockable[i] = named.error();
    }
  ReverseOrder reverse(*env.clock, shared);
  Status pooled = run_pool(*env.clock, groups, keys, env.workers, env.per_account_region, [&](const std::vector<int>& group, PoolSlot& slot) {
    for (int i : group) {
      if (!reverse.ready(i)) {  // no calls while waiting: the slot goes to other targets
        slot.release();
        reverse.wait(i);
        slot.reacquire();
      }
      struct Finished {
        ReverseOrder& order;
        size_t item;
        ~Finished() { order.finished(item); }
      } finished{reverse, static_cast<size_t>(i)};
      // No new step once interrupted (the ones done are journaled); `finished` still releases
      // whoever waits on this item.
      if (r.interrupted()) return;
      const RollbackItem& it = items[i];
      const PlanEntry& e = *it.entry;
      auto rollback_failed = [&](const std::string& why) {
        logged(journal.set_state(run_id, it.record.entry, it.step->id, step_state::kRollbackFailed, why));
        r.failed(e, *it.step, why);
        r.audit("step_rollback_failed", {{"target", e.target.arn}, {"step", it.step->id}, {"error", why}});
        r.note("  " + e.target.arn + "  " + it.step->id + ": rollback FAILED: " + why);
      };
      if (unlockable[i]) {
        rollback_failed("not rolled back: the resources it writes cannot be named, so it cannot be serialized "
                        "with other targets (" + unlockable[i]->describe() + ")");
        continue;
      }
      actions::ActionFamily* fam = r.family(e.family);
      auto client = fam ? env.client_for(e) : Result<aws::AwsClient*>(Error::internal("unknown family " + e.family));
      if (!client.ok()) {
        r.failed(e, *it.step, client.error().describe());
        continue;
      }
      aws::AwsClient target_client = (*client)->with_context(e.target.arn);
      actions::Context ctx{target_client, e.target, e.region, run_id, env.caller, env.options, env.allow_principals,
                           *env.clock};
      if (env.may_mutate) {
        if (Status held = env.may_mutate(); !held.ok()) {
          r.failed(e, *it.step, held.error().describe());
          continue;
        }
      }
      logged(journal.set_state(run_id, it.record.entry, it.step->id, step_state::kRollingBack));
      r.note("  " + e.target.arn + "  " + it.step->id + ": rolling back");
      Status st = aws::catch_all_status(e.target.arn + " " + it.step->id + " rollback", [&] {
        Status rolled = fam->rollback(ctx, *it.step, it.record.before, it.record.applied, request.options);
        return rolled.ok() ? fam->verify_rollback(ctx, *it.step, it.record.before, request.options) : rolled;
      });
      if (!st.ok()) {
        rollback_failed(st.error().describe());
        continue;  // the other steps of the target still go back
      }
      const bool partly = fam->rollback_keeps_contained(*it.step, request.options);
      logged(journal.set_state(run_id, it.record.entry, it.step->id,
                               partly ? step_state::kPartlyRestored : step_state::kRolledBack));
      if (!it.record.exposure.is_null()) logged(journal.set_exposure(run_id, it.record.entry, it.step->id, json()));
      r.audit("step_rolled_back", {{"target", e.target.arn}, {"step", it.step->id}, {"partly", partly}});
      r.note("  " + e.target.arn + "  " + it.step->id + (partly ? ": restored (kept contained by default)" : ": restored"));
      std::lock_guard lock(r.mu);
      r.outcome.steps_done++;
    }
  });
  if (!pooled.ok()) {
    r.outcome.errors.push_back(pooled.error().describe());
    r.outcome.steps_failed++;
  }
  // What the run still holds decides between rolled_back and partly_rolled_back.
  RollbackRequest everything;
  auto left = rollback_order(journal, run_id, entries, everything);
  const bool holds_more = !left.ok() || !left->empty();
  r.outcome.status = r.outcome.steps_failed > 0 ? "rollback_partial"
                     : r.interrupted()          ? "interrupted"
                     : holds_more               ? "partly_rolled_back"
                                                : "rolled_back";
  logged(journal.set_run_status(run_id, r.outcome.status));
  return r.outcome;
}

}  // namespace containctl::orch
