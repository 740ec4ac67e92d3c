// The executor against a fake action family: journal-before-mutate, dependency waves with real
// concurrency, failure isolation, resume, and rollback order and holds. No AWS, no sleeps; one
// fixture (ExecutorTeamStoreTest) keeps the journal in the team store, DynamoDB and S3 in moto.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <filesystem>
#include <mutex>
#include <set>

#include "orchestrator/executor.h"
#include "orchestrator/journal.h"
#include "orchestrator/journal_aws.h"
#include "orchestrator/state_init.h"
#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/curl_transport.h"
#include "tests/support/moto_server.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

// Records every call; its "state" is a map step id -> "after" or absent.
class FakeFamily : public actions::ActionFamily {
 public:
  Journal* journal = nullptr;
  std::string run_id;
  std::mutex mu;
  std::map<std::string, std::string> state;  // step -> value now
  std::vector<std::string> log;
  std::set<std::string> fail_apply;
  // Steps whose apply, rollback or shared_resources throws, as a surprising field or answer does
  // (std::out_of_range from json::at, std::stoi, ...).
  std::set<std::string> throw_apply, throw_rollback, throw_shared;
  std::mutex active_mu;  // guards active and max_active's updates; active_cv wakes waiting steps
  std::condition_variable active_cv;
  std::atomic<int> active{0}, max_active{0};
  std::atomic<bool> before_missing{false};
  std::function<void(actions::Context&, const actions::Step&)> on_apply;  // runs inside apply
  std::set<std::string> keeps_contained;  // steps whose rollback without --reactivate-keys keeps them
  std::vector<bool> reactivated;          // the reactivate option of each rollback of a kept step

  std::string name() const override { return "fake"; }
  bool handles(const actions::Target&) const override { return true; }
  Result<json> discover(actions::Context&) override { return json::object(); }
  Result<actions::TargetPlan> plan(actions::Context&, const json&) override { return actions::TargetPlan{}; }
  Result<json> capture(actions::Context& ctx, const actions::Step& s) override {
    std::lock_guard l(mu);
    log.push_back("capture " + ctx.target.name + "/" + s.id);
    auto it = state.find(key(ctx, s));
    return json{{"value", it == state.end() ? "orig" : it->second}};
  }
  Result<json> apply(actions::Context& ctx, const actions::Step& s, const json& before) override {
    // The before-state must already be durable in the journal.
    auto steps = journal->steps(run_id);
    bool found = false;
    for (const auto& r : *steps)
      if (r.step_id == s.id && r.target == ctx.target.arn && !r.before.is_null() && r.state == "applying") found = true;
    if (!found) before_missing = true;
    {
      std::unique_lock l(active_mu);
      const int now = ++active;
      if (now > max_active) max_active = now;
      active_cv.notify_all();
      // Give a sibling the chance to overlap: wait until two steps were active at once, or 2 s of
      // real time (a bound in time, not in spins: yielding 2 million times took minutes under
      // ThreadSanitizer on a loaded machine). Only a run that never overlaps waits the full bound.
      if (s.args.value("wait_sibling", false))
        active_cv.wait_for(l, std::chrono::seconds(2), [&] { return max_active.load() >= 2; });
      --active;
    }
    if (on_apply) on_apply(ctx, s);
    std::lock_guard l(mu);
    log.push_back("apply " + ctx.target.name + "/" + s.id);
    if (fail_apply.count(s.id)) return Error{ErrorKind::kClient, "Boom", "injected failure in " + s.id};
    if (throw_apply.count(s.id)) throw std::out_of_range("injected throw in apply of " + s.id);
    state[key(ctx, s)] = "after";
    return json{{"done", true}};
  }
  Status verify(actions::Context& ctx, const actions::Step& s) override {
    std::lock_guard l(mu);
    return state[key(ctx, s)] == "after" ? Status() : Status(Error::internal("not applied"));
  }
  std::map<std::string, json> verified_with;  // step -> the apply record verify_applied was given
  Status verify_applied(actions::Context& ctx, const actions::Step& s, const json& applied) override {
    {
      std::lock_guard l(mu);
      verified_with[key(ctx, s)] = applied;
    }
    return verify(ctx, s);
  }
  Status rollback(actions::Context& ctx, const actions::Step& s, const json& before, const json&,
                  const actions::RollbackOptions& o) override {
    std::lock_guard l(mu);
    log.push_back("rollback " + ctx.target.name + "/" + s.id);
    if (throw_rollback.count(s.id)) throw std::out_of_range("injected throw in rollback of " + s.id);
    if (keeps_contained.count(s.id)) {
      reactivated.push_back(o.reactivate_keys);
      if (!o.reactivate_keys) return Ok{};  // stays "after", like a key left inactive
    }
    if (before["value"] == "orig")
      state.erase(key(ctx, s));
    else
      state[key(ctx, s)] = before["value"];
    return Ok{};
  }
  Status verify_rollback(actions::Context& ctx, const actions::Step& s, const json&,
                         const actions::RollbackOptions& o) override {
    std::lock_guard l(mu);
    if (keeps_contained.count(s.id) && !o.reactivate_keys) return Ok{};
    return state.count(key(ctx, s)) ? Status(Error::internal("still applied")) : Status();
  }
  std::vector<std::string> iam_actions() const override { return {}; }
  std::vector<std::string> shared_resources(const actions::Target&, const actions::Step& s) const override {
    if (throw_shared.count(s.id)) throw std::out_of_range("injected throw in shared_resources of " + s.id);
    return {};
  }
  bool rollback_keeps_contained(const actions::Step& s, const actions::RollbackOptions& o) const override {
    return keeps_contained.count(s.id) && !o.reactivate_keys;
  }

 private:
  static std::string key(actions::Context& ctx, const actions::Step& s) { return ctx.target.name + "/" + s.id; }
};

actions::Step step(const std::string& id, std::vector<std::string> deps = {}, bool wait_sibling = false) {
  actions::Step s;
  s.id = id;
  s.description = id;
  s.depends_on = std::move(deps);
  s.args = {{"wait_sibling", wait_sibling}};
  return s;
}

PlanEntry entry(const std::string& instance, std::vector<actions::Step> steps) {
  PlanEntry e;
  e.target = *actions::parse_target_arn("arn:aws:ec2:us-east-1:123456789012:instance/" + instance);
  e.family = "fake";
  e.account = "123456789012";
  e.region = "us-east-1";
  e.confidence = "confirmed";
  e.steps = std::move(steps);
  return e;
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cc-exec-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    journal_ = Journal::open(dir_.string(), clock_).value();
    client_ = std::make_unique<aws::AwsClient>(aws::ClientConfig{});  // never called by the fake
    fake_.journal = journal_.get();
    env_.client_for = [this](const PlanEntry&) -> Result<aws::AwsClient*> { return client_.get(); };
    env_.family_for = [this](const std::string&) -> actions::ActionFamily* { return &fake_; };
    env_.clock = &clock_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string start(const std::vector<PlanEntry>& entries) {
    std::string id = new_run_id(clock_.now());
    EXPECT_TRUE(journal_->create_run({.run_id = id, .plan_hash = "hash", .status = "running",
                                      .requester = "req", .mode = "auto", .plan = json::object()}, entries).ok());
    fake_.run_id = id;
    return id;
  }
  std::filesystem::path dir_;
  aws::ManualClock clock_{std::chrono::system_clock::from_time_t(1'790'000'000)};
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<aws::AwsClient> client_;
  FakeFamily fake_;
  ExecutionEnv env_;
};

TEST_F(ExecutorTest, JournalsBeforeStateBeforeMutatingAndRunsIndependentStepsConcurrently) {
  std::vector<PlanEntry> entries = {
      entry("i-0000000000000000a", {step("a", {}, true), step("b", {}, true), step("c", {"a", "b"})})};
  std::string run = start(entries);
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "succeeded");
  EXPECT_EQ(out.steps_done, 3);
  EXPECT_FALSE(fake_.before_missing.load());
  EXPECT_EQ(fake_.max_active.load(), 2) << "a and b have no dependency between them";
  // c waited for both.
  auto pos = [&](const std::string& what) {
    return std::find(fake_.log.begin(), fake_.log.end(), what) - fake_.log.begin();
  };
  EXPECT_GT(pos("apply i-0000000000000000a/c"), pos("apply i-0000000000000000a/a"));
  EXPECT_GT(pos("apply i-0000000000000000a/c"), pos("apply i-0000000000000000a/b"));
  auto steps = journal_->steps(run).value();
  for (const auto& s : steps) EXPECT_EQ(s.state, "verified") << s.step_id;
}

TEST_F(ExecutorTest, TargetsInOneAccountAndRegionRespectTheConcurrencyLimit) {
  // Each step waits for a sibling to become active, so the observed concurrency is the most the
  // executor allowed at once.
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("s", {}, true)}),
                                    entry("i-0000000000000000b", {step("s", {}, true)}),
                                    entry("i-0000000000000000c", {step("s", {}, true)})};
  env_.per_account_region = 1;
  std::string run = start(entries);
  EXPECT_EQ(execute_run(*journal_, run, entries, env_).status, "succeeded");
  EXPECT_EQ(fake_.max_active.load(), 1) << "one target at a time in 123456789012/us-east-1";

  fake_.max_active = 0;
  fake_.state.clear();
  env_.per_account_region = 2;
  std::string run2 = start(entries);
  EXPECT_EQ(execute_run(*journal_, run2, entries, env_).status, "succeeded");
  EXPECT_EQ(fake_.max_active.load(), 2);
}

// The run's journaled steps by the target's last letter and the step id ("ax": step x of the
// target ending in a).
std::map<std::string, StepRecord> records_of(Journal& j, const std::string& run) {
  std::map<std::string, StepRecord> out;
  const std::vector<StepRecord> steps = j.steps(run).value();
  for (const auto& s : steps) out[s.target.substr(s.target.size() - 1) + s.step_id] = s;
  return out;
}

std::map<std::string, std::string> states_of(Journal& j, const std::string& run) {
  std::map<std::string, std::string> out;
  for (const auto& [k, r] : records_of(j, run)) out[k] = r.state;
  return out;
}

// Two targets: a's chain x -> y -> z and b's p -> q.
std::vector<PlanEntry> chain_and_pair() {
  return {entry("i-0000000000000000a", {step("x"), step("y", {"x"}), step("z", {"y"})}),
          entry("i-0000000000000000b", {step("p"), step("q", {"p"})})};
}

// The journal refuses the write of y's "verified" (here a trigger; on the team store a failed
// UpdateItem takes the same path). y holds, so z after it still runs, but the run must not read
// as succeeded with y stuck at applied: it is partial, names y, and apply --resume verifies y
// again (no second apply) and then succeeds.
TEST_F(ExecutorTest, AVerifiedTheJournalCouldNotRecordLeavesTheRunPartialAndResumeVerifiesIt) {
  std::vector<PlanEntry> entries = chain_and_pair();
  std::string run = start(entries);
  auto sql = [&](const std::string& text) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "journal.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  };
  sql("CREATE TRIGGER no_verified_y BEFORE UPDATE OF state ON steps WHEN NEW.state = 'verified' AND NEW.step_id = 'y' "
      "BEGIN SELECT RAISE(ABORT, 'journal write refused (test)'); END;");
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "partial") << "a step the journal still holds as applied was reported as succeeded";
  EXPECT_EQ(out.steps_unrecorded, 1);
  EXPECT_EQ(out.steps_done, 4);  // x, z, p, q
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_NE(out.errors[0].find(" y: verified, but the journal could not record it"), std::string::npos) << out.errors[0];
  EXPECT_NE(out.errors[0].find("apply --resume"), std::string::npos) << out.errors[0];
  auto states = states_of(*journal_, run);
  EXPECT_EQ(states["ay"], "applied");
  EXPECT_EQ(states["az"], "verified") << "y holds, so the step after it went on";
  EXPECT_EQ(journal_->run(run)->status, "partial");

  sql("DROP TRIGGER no_verified_y;");
  fake_.log.clear();
  RunOutcome resumed = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(resumed.status, "succeeded");
  EXPECT_EQ(states_of(*journal_, run)["ay"], "verified");
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "apply i-0000000000000000a/y"), 0) << "resume applied y again";
}

// Passes every request to moto but refuses (AccessDenied, as a policy on the table would) each
// DynamoDB UpdateItem that moves the item `refused_key` to "verified".
class RefusingTransport : public aws::HttpTransport {
 public:
  Result<aws::HttpResponse> send(const aws::HttpRequest& req) override {
    if (req.header("X-Amz-Target") == "DynamoDB_20120810.UpdateItem" && !refused_key.is_null()) {
      json body = json::parse(req.body, nullptr, false);
      if (!body.is_discarded() && body.value("Key", json()) == refused_key &&
          body["ExpressionAttributeValues"].value(":to", json()) == json{{"S", "verified"}}) {
        refused++;
        aws::HttpResponse r;
        r.status = 400;
        r.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
        r.body = R"j({"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","Message":"refused (test)"})j";
        return r;
      }
    }
    return real.send(req);
  }
  aws::CurlTransport real;
  json refused_key;  // null: nothing refused
  std::atomic<int> refused{0};
};

// The executor with its journal in the team store (AwsJournal on DynamoDB and S3 in moto).
class ExecutorTeamStoreTest : public ExecutorTest {
 protected:
  void SetUp() override {
    ExecutorTest::SetUp();
    auto& moto = testing::MotoServer::shared();
    moto.reset();
    transport_ = std::make_shared<RefusingTransport>();
    aws::ClientConfig cfg = moto.client_config(transport_);
    cfg.retry.max_attempts = 3;
    store_client_ = std::make_shared<aws::AwsClient>(cfg);
    StateSettings st;
    st.backend = "aws";
    st.table = "containctl-state";
    st.bucket = "containctl-state-123456789012";
    st.region = "us-east-1";
    auto made = init_team_store(*store_client_, st, false, "");
    ASSERT_TRUE(made.ok()) << made.error().describe();
    auto aws_journal = std::make_unique<AwsJournal>(store_client_, st.region, st.table, st.bucket,
                                                    aws::SystemClock::instance());
    aws_ = aws_journal.get();
    journal_ = std::move(aws_journal);
    fake_.journal = journal_.get();
  }
  std::shared_ptr<RefusingTransport> transport_;
  std::shared_ptr<aws::AwsClient> store_client_;
  AwsJournal* aws_ = nullptr;
};

// The same on the team store: DynamoDB refuses the UpdateItem that moves y to "verified". The run
// is partial and names y, y stays applied in the table, and apply --resume verifies y without
// applying it again.
TEST_F(ExecutorTeamStoreTest, AVerifiedTheTeamStoreCouldNotRecordLeavesTheRunPartialAndResumeVerifiesIt) {
  std::vector<PlanEntry> entries = chain_and_pair();
  std::string run = start(entries);
  auto key = aws_->step_item_key(run, 0, "y");
  ASSERT_TRUE(key.ok()) << key.error().describe();
  transport_->refused_key = *key;
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_GE(transport_->refused.load(), 1) << "the refusal never fired: the test would prove nothing";
  EXPECT_EQ(out.status, "partial") << "a step the team store still holds as applied was reported as succeeded";
  EXPECT_EQ(out.steps_unrecorded, 1);
  EXPECT_EQ(out.steps_done, 4);  // x, z, p, q
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_NE(out.errors[0].find(" y: verified, but the journal could not record it"), std::string::npos) << out.errors[0];
  EXPECT_NE(out.errors[0].find("AccessDenied"), std::string::npos) << "the store's own refusal is named: " << out.errors[0];
  EXPECT_NE(out.errors[0].find("apply --resume"), std::string::npos) << out.errors[0];
  auto states = states_of(*journal_, run);
  EXPECT_EQ(states["ay"], "applied");
  EXPECT_EQ(states["az"], "verified") << "y holds, so the step after it went on";
  EXPECT_EQ(journal_->run(run)->status, "partial");

  transport_->refused_key = json();
  fake_.log.clear();
  // apply --resume moves the run back to running first (apply_run); the store allows partial -> running only.
  ASSERT_TRUE(journal_->set_run_status(run, "running").ok());
  RunOutcome resumed = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(resumed.status, "succeeded");
  EXPECT_TRUE(resumed.errors.empty()) << resumed.errors[0];
  EXPECT_EQ(states_of(*journal_, run)["ay"], "verified");
  EXPECT_EQ(journal_->run(run)->status, "succeeded");
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "apply i-0000000000000000a/y"), 0) << "resume applied y again";
}

TEST_F(ExecutorTest, FailedStepStopsItsTargetOthersGoOnAndRollbackRestoresInReverse) {
  fake_.fail_apply = {"y"};
  std::vector<PlanEntry> entries = chain_and_pair();
  std::string run = start(entries);
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "partial");
  EXPECT_EQ(out.steps_failed, 1);
  EXPECT_EQ(out.steps_done, 3);  // x, p, q
  auto states = states_of(*journal_, run);
  EXPECT_EQ(states["ax"], "verified");
  EXPECT_EQ(states["ay"], "failed");
  EXPECT_EQ(states["az"], "pending");  // never started: nothing to undo
  EXPECT_EQ(states["bq"], "verified");

  fake_.log.clear();
  auto rb = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(rb.ok()) << rb.error().describe();
  EXPECT_EQ(rb->status, "rolled_back");
  EXPECT_TRUE(fake_.state.empty()) << "every applied change reverted";
  // Within a target, newest first: y (failed, maybe half-applied) before x; q before p.
  auto pos = [&](const std::string& what) {
    return std::find(fake_.log.begin(), fake_.log.end(), what) - fake_.log.begin();
  };
  EXPECT_LT(pos("rollback i-0000000000000000a/y"), pos("rollback i-0000000000000000a/x"));
  EXPECT_LT(pos("rollback i-0000000000000000b/q"), pos("rollback i-0000000000000000b/p"));
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "rollback i-0000000000000000a/z"), 0);
  // Idempotent: a second rollback has nothing left to do.
  fake_.log.clear();
  auto again = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(fake_.log.empty());
  EXPECT_TRUE(journal_->last_rollback(entries[0].target.arn).has_value());
}

TEST_F(ExecutorTest, ResumeSkipsVerifiedStepsAndKeepsTheFirstBeforeState) {
  fake_.fail_apply = {"b"};
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("a"), step("b", {"a"})})};
  std::string run = start(entries);
  EXPECT_EQ(execute_run(*journal_, run, entries, env_).status, "partial");
  // Someone changed the resource meanwhile; resume must keep the before-state captured first.
  fake_.state["i-0000000000000000a/b"] = "tampered";
  fake_.fail_apply.clear();
  fake_.log.clear();
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "succeeded");
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "apply i-0000000000000000a/a"), 0) << "a was verified";
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "capture i-0000000000000000a/b"), 0)
      << "b's before-state was already journaled";
  auto recs = records_of(*journal_, run);
  ASSERT_EQ(recs.count("ab"), 1u);
  EXPECT_EQ(recs["ab"].before.at("value"), "orig");
}

// Verify is given what apply returned (a revocation's cutoff is checked against it). On a resumed
// run whose step is journaled applied (the process died before verify), apply is skipped and verify
// gets the journaled record, not null.
TEST_F(ExecutorTest, VerifyGetsTheApplyRecordFreshOrJournaled) {
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("a")}), entry("i-0000000000000000b", {step("a")})};
  std::string run = start(entries);
  const json journaled = {{"done", true}, {"cutoff", "2026-12-02T01:00:00Z"}};
  ASSERT_TRUE(journal_->record_before(run, 1, "a", json{{"value", "orig"}}).ok());
  ASSERT_TRUE(journal_->set_state(run, 1, "a", step_state::kApplying).ok());
  fake_.state["i-0000000000000000b/a"] = "after";
  ASSERT_TRUE(journal_->record_applied(run, 1, "a", journaled).ok());
  ASSERT_EQ(states_of(*journal_, run)["ba"], step_state::kApplied);
  EXPECT_EQ(execute_run(*journal_, run, entries, env_).status, "succeeded");
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "apply i-0000000000000000b/a"), 0) << "b/a was applied";
  EXPECT_EQ(fake_.verified_with["i-0000000000000000a/a"], json({{"done", true}}));
  EXPECT_EQ(fake_.verified_with["i-0000000000000000b/a"], journaled);
}

// The audit log fails closed: once may_mutate says no (a failed append), no further step starts
// mutating; what was applied stays journaled and rolls back.
TEST_F(ExecutorTest, StepsStopMutatingOnceMayMutateRefuses) {
  std::atomic<int> asked{0};
  env_.may_mutate = [&asked]() -> Status {
    if (asked++ == 0) return Ok{};
    return Error{ErrorKind::kIo, "AuditLogFailed", "audit log: could not record 'step_applied'"};
  };
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("x"), step("y", {"x"}), step("z", {"y"})})};
  std::string run = start(entries);
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "partial");
  EXPECT_EQ(out.steps_done, 1);
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "apply i-0000000000000000a/y"), 0)
      << "y must not mutate after the refusal";
  ASSERT_FALSE(out.errors.empty());
  EXPECT_NE(out.errors[0].find("could not record"), std::string::npos) << out.errors[0];
  auto states = states_of(*journal_, run);
  EXPECT_EQ(states["ax"], "verified");
  EXPECT_EQ(states["ay"], "failed");
  EXPECT_EQ(states["az"], "pending");
  // Rollback consults only the run's leases (containctl rollback never fails closed on the audit
  // log: it only takes containment away), so it runs without this refusal.
  env_.may_mutate = nullptr;
  auto rb = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(rb.ok()) << rb.error().describe();
  EXPECT_TRUE(fake_.state.empty()) << "x rolled back";
}

TEST_F(ExecutorTest, RollbackLeavesHeldStepsWithTheirReleaseTimeAndRestoresTheRest) {
  actions::Step held = step("revoke");
  held.min_hold_seconds = 3600;
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {held, step("deny")}),
                                    entry("i-0000000000000000b", {step("x")})};
  std::string run = start(entries);
  ASSERT_EQ(execute_run(*journal_, run, entries, env_).status, "succeeded");
  const auto applied_at = clock_.now();
  clock_.advance(std::chrono::minutes(10));
  RollbackRequest dry;
  dry.dry_run = true;
  auto shown = rollback_run(*journal_, run, entries, env_, dry);
  ASSERT_TRUE(shown.ok());
  ASSERT_EQ(shown->held.size(), 1u) << "--dry-run shows the hold";
  EXPECT_EQ(fake_.state.size(), 3u) << "a dry run changes nothing";

  auto out = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(out->status, "partly_rolled_back");
  ASSERT_EQ(out->held.size(), 1u);
  EXPECT_EQ(out->held[0].step, "revoke");
  EXPECT_EQ(out->held[0].until, applied_at + std::chrono::hours(1));
  auto st = states_of(*journal_, run);
  EXPECT_EQ(st["arevoke"], "verified") << "held: left in place";
  EXPECT_EQ(st["adeny"], "rolled_back") << "the other step of the same target goes back";
  EXPECT_EQ(st["bx"], "rolled_back") << "another target is not blocked by the hold";
  EXPECT_EQ(fake_.state.size(), 1u);

  // After the hold, the rest goes back without --force; a forced rollback would have done it now.
  clock_.advance(std::chrono::hours(1));
  auto rest = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->status, "rolled_back");
  EXPECT_TRUE(rest->held.empty());
  EXPECT_TRUE(fake_.state.empty());

  std::string run2 = start(entries);
  ASSERT_EQ(execute_run(*journal_, run2, entries, env_).status, "succeeded");
  RollbackRequest force;
  force.options.force = true;
  auto forced = rollback_run(*journal_, run2, entries, env_, force);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->status, "rolled_back");
  EXPECT_TRUE(forced->held.empty());
}

TEST_F(ExecutorTest, RollbackByTargetRestoresOnlyThatTarget) {
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("x")}),
                                    entry("i-0000000000000000b", {step("x")})};
  std::string run = start(entries);
  ASSERT_EQ(execute_run(*journal_, run, entries, env_).status, "succeeded");
  RollbackRequest only_b;
  only_b.targets = {entries[1].target.arn};
  auto out = rollback_run(*journal_, run, entries, env_, only_b);
  ASSERT_TRUE(out.ok()) << out.error().describe();
  EXPECT_EQ(out->status, "partly_rolled_back");
  auto st = states_of(*journal_, run);
  EXPECT_EQ(st["ax"], "verified");
  EXPECT_EQ(st["bx"], "rolled_back");
  RollbackRequest unknown;
  unknown.targets = {"arn:aws:ec2:us-east-1:123456789012:instance/i-0000000000000000c"};
  auto bad = rollback_run(*journal_, run, entries, env_, unknown);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("i-0000000000000000c"), std::string::npos);
  EXPECT_EQ(states_of(*journal_, run)["ax"], "verified") << "nothing changed";
  EXPECT_TRUE(rollback_run(*journal_, run, entries, env_, {}).ok());
  EXPECT_EQ(states_of(*journal_, run)["ax"], "rolled_back");
}

TEST_F(ExecutorTest, ReactivateKeysAfterARollbackThatKeptThemOffFinishesTheStep) {
  fake_.keeps_contained = {"keys"};
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("keys"), step("deny")})};
  std::string run = start(entries);
  ASSERT_EQ(execute_run(*journal_, run, entries, env_).status, "succeeded");
  auto first = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, "rolled_back");
  EXPECT_EQ(states_of(*journal_, run)["akeys"], "partly_restored");
  EXPECT_EQ(fake_.state.size(), 1u) << "the key stays off";
  RollbackRequest reactivate;
  reactivate.options.reactivate_keys = true;
  auto second = rollback_run(*journal_, run, entries, env_, reactivate);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->steps_done, 1) << "only the step left partly restored";
  EXPECT_EQ(states_of(*journal_, run)["akeys"], "rolled_back");
  EXPECT_TRUE(fake_.state.empty());
  EXPECT_EQ(fake_.reactivated, (std::vector<bool>{false, true}));
}

TEST_F(ExecutorTest, CosmeticStepsRunLastAndNeverHoldUpSecurityOnes) {
  actions::Step tag = step("tag");
  tag.cosmetic = true;
  fake_.fail_apply = {"tag"};
  // A security step that (wrongly) depends on the tag still runs.
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {tag, step("acls"), step("block", {"acls", "tag"})})};
  std::string run = start(entries);
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "partial");
  auto st = states_of(*journal_, run);
  EXPECT_EQ(st["aacls"], "verified");
  EXPECT_EQ(st["ablock"], "verified");
  EXPECT_EQ(st["atag"], "failed");
  auto pos = [&](const std::string& what) {
    return std::find(fake_.log.begin(), fake_.log.end(), what) - fake_.log.begin();
  };
  EXPECT_GT(pos("apply i-0000000000000000a/tag"), pos("apply i-0000000000000000a/block")) << "tags come last";

  // A failed security step: the tag (which would say "contained") is never written; a security
  // step that does not depend on the failed one still runs.
  fake_.log.clear();
  fake_.fail_apply = {"acls"};
  std::vector<PlanEntry> e2 = {entry("i-0000000000000000b", {tag, step("acls"), step("deny"), step("block", {"acls"})})};
  std::string run2 = start(e2);
  EXPECT_EQ(execute_run(*journal_, run2, e2, env_).status, "partial");
  auto st2 = states_of(*journal_, run2);
  EXPECT_EQ(st2["bdeny"], "verified");
  EXPECT_EQ(st2["bblock"], "pending");
  EXPECT_EQ(st2["btag"], "pending");
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "apply i-0000000000000000b/tag"), 0);
}

TEST_F(ExecutorTest, InterruptionStartsNoNewStepAndRecordsTheRunInterrupted) {
  std::atomic<bool> stop{false};
  env_.interrupted = [&] { return stop.load(); };
  env_.per_account_region = 1;
  fake_.on_apply = [&](actions::Context&, const actions::Step& s) {
    if (s.id == "a") stop = true;  // the signal arrives while `a` is in flight
  };
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("a"), step("b", {"a"})}),
                                    entry("i-0000000000000000b", {step("a")})};
  std::string run = start(entries);
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "interrupted");
  EXPECT_EQ(journal_->run(run)->status, "interrupted");
  auto st = states_of(*journal_, run);
  EXPECT_EQ(st["aa"], "verified") << "the step in flight finishes";
  EXPECT_EQ(st["ab"], "pending") << "no new step starts";
  EXPECT_EQ(st["ba"], "pending") << "no new target starts";
  // Resume finishes it; rollback would restore it.
  stop = false;
  fake_.on_apply = nullptr;
  EXPECT_EQ(execute_run(*journal_, run, entries, env_).status, "succeeded");
}

TEST_F(ExecutorTest, InterruptionCutsAWaitWithoutCallsShort) {
  std::atomic<bool> stop{false};
  env_.interrupted = [&] { return stop.load(); };
  const auto t0 = clock_.now();
  fake_.on_apply = [&](actions::Context& ctx, const actions::Step&) {
    stop = true;
    actions::wait_without_calls(ctx, std::chrono::hours(1));  // the untrack dwell
  };
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("isolate")})};
  std::string run = start(entries);
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "succeeded") << "the step in flight completes (its only step)";
  EXPECT_LT(clock_.now() - t0, std::chrono::seconds(1)) << "the dwell was cut short";
}

TEST_F(ExecutorTest, SecondRunCannotTakeTheStateLock) {
  auto first = StateLock::acquire(dir_.string());
  ASSERT_TRUE(first.ok());
  auto second = StateLock::acquire(dir_.string());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("locked by another run"), std::string::npos);
}

// A family that throws (a hand-edited field read with .at(), std::stoi on an answer) fails only
// its step: journaled failed with the exception's text, its before-state kept for rollback, the
// rest of the run goes on, and the process lives. The same for a rollback that throws.
TEST_F(ExecutorTest, StepThatThrowsFailsOnlyItselfAndKeepsItsBeforeState) {
  fake_.throw_apply = {"y"};
  std::vector<PlanEntry> entries = chain_and_pair();
  std::string run = start(entries);
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "partial");
  EXPECT_EQ(out.steps_failed, 1);
  EXPECT_EQ(out.steps_done, 3);  // x, p, q
  auto recs = records_of(*journal_, run);
  EXPECT_EQ(recs["ay"].state, "failed");
  EXPECT_NE(recs["ay"].error.find("injected throw in apply of y"), std::string::npos) << recs["ay"].error;
  EXPECT_EQ(recs["ay"].before, (json{{"value", "orig"}})) << "the before-state stays for rollback";
  EXPECT_EQ(recs["ax"].state, "verified");
  EXPECT_EQ(recs["az"].state, "pending");
  EXPECT_EQ(recs["bq"].state, "verified") << "the other target goes on";

  // Rollback: x's rollback throws; it is journaled rollback_failed with its before-state, and the
  // other target still goes back.
  fake_.throw_rollback = {"x"};
  auto rb = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(rb.ok()) << rb.error().describe();
  EXPECT_EQ(rb->status, "rollback_partial");
  recs = records_of(*journal_, run);
  EXPECT_EQ(recs["ax"].state, "rollback_failed");
  EXPECT_NE(recs["ax"].error.find("injected throw in rollback of x"), std::string::npos) << recs["ax"].error;
  EXPECT_EQ(recs["ax"].before, (json{{"value", "orig"}}));
  EXPECT_EQ(recs["ay"].state, "rolled_back");
  EXPECT_EQ(recs["bp"].state, "rolled_back");
  EXPECT_EQ(recs["bq"].state, "rolled_back");
  // Once the family behaves, a second rollback finishes the step from the kept before-state.
  fake_.throw_rollback.clear();
  auto again = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->status, "rolled_back");
  EXPECT_TRUE(fake_.state.empty());
}

// shared_resources runs inside the step's own catch: a throw there fails only the step. In
// rollback the step is not run without the lock it cannot name (two targets could write one
// resource at once): it is journaled rollback_failed with the reason, and a later rollback
// finishes it.
TEST_F(ExecutorTest, SharedResourcesThatThrowFailOnlyTheStep) {
  fake_.throw_shared = {"y"};
  std::vector<PlanEntry> entries = {entry("i-0000000000000000a", {step("x"), step("y", {"x"})}),
                                    entry("i-0000000000000000b", {step("p")})};
  std::string run = start(entries);
  RunOutcome out = execute_run(*journal_, run, entries, env_);
  EXPECT_EQ(out.status, "partial");
  auto st = states_of(*journal_, run);
  EXPECT_EQ(st["ax"], "verified");
  EXPECT_EQ(st["ay"], "failed");
  EXPECT_EQ(st["bp"], "verified");
  // Rollback reads shared_resources of every applied step before it starts: x's throws now.
  fake_.throw_shared = {"x"};
  fake_.log.clear();
  auto rb = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(rb.ok()) << rb.error().describe();
  EXPECT_EQ(rb->status, "rollback_partial");
  auto recs = records_of(*journal_, run);
  EXPECT_EQ(recs["ax"].state, "rollback_failed");
  EXPECT_NE(recs["ax"].error.find("injected throw in shared_resources of x"), std::string::npos) << recs["ax"].error;
  EXPECT_EQ(std::count(fake_.log.begin(), fake_.log.end(), "rollback i-0000000000000000a/x"), 0)
      << "x must not go back without its resource lock";
  EXPECT_EQ(fake_.state.count("i-0000000000000000a/x"), 1u);
  EXPECT_EQ(recs["ay"].state, "failed") << "its apply never captured anything: nothing to undo";
  EXPECT_EQ(recs["bp"].state, "rolled_back");
  // Once shared_resources answers, a second rollback finishes x from its kept before-state.
  fake_.throw_shared.clear();
  auto again = rollback_run(*journal_, run, entries, env_, {});
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->status, "rolled_back");
  EXPECT_EQ(states_of(*journal_, run)["ax"], "rolled_back");
  EXPECT_TRUE(fake_.state.empty());
}

}  // namespace
}  // namespace containctl::orch
