// The journal's group commit: concurrent step writes share commits, every write is there after
// reopening (what returned Ok was committed), and the first before-state still wins.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "orchestrator/journal.h"

namespace containctl::orch {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/journal-test.XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::vector<PlanEntry> entries(int n) {
  std::vector<PlanEntry> out(n);
  for (int i = 0; i < n; ++i) {
    out[i].target.arn = "arn:aws:ec2:us-east-1:111122223333:instance/i-" + std::to_string(i);
    out[i].family = "test";
    out[i].steps.resize(1);
    out[i].steps[0].id = "s";
  }
  return out;
}

RunRecord run_record() {
  return {.run_id = "r1", .plan_hash = "h", .status = "running", .requester = "me", .mode = "auto",
          .plan = nlohmann::json::object()};
}

TEST(JournalTest, ConcurrentStepWritesShareCommitsAndAllSurviveReopening) {
  TempDir dir;
  const int kSteps = 400, kThreads = 16;
  {
    auto j = Journal::open(dir.path, aws::SystemClock::instance());
    ASSERT_TRUE(j.ok()) << j.error().describe();
    ASSERT_TRUE((*j)->create_run(run_record(), entries(kSteps)).ok());
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = t; i < kSteps; i += kThreads) {
          Journal& jr = **j;
          bool ok = jr.record_before("r1", i, "s", {{"n", i}}).ok() &&
                    jr.set_state("r1", i, "s", step_state::kApplying).ok() &&
                    jr.record_applied("r1", i, "s", {{"done", i}}).ok() &&
                    jr.record_before("r1", i, "s", {{"n", -1}}).ok() &&  // must not replace the first
                    jr.set_state("r1", i, "s", step_state::kVerified).ok();
          if (!ok) failures++;
        }
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures, 0);
    // 5 writes per step; with 16 writers many share a commit.
    EXPECT_LT((*j)->step_commits(), 5u * kSteps);
    EXPECT_GT((*j)->step_commits(), 0u);
  }
  auto j = Journal::open(dir.path, aws::SystemClock::instance());
  ASSERT_TRUE(j.ok());
  auto steps = (*j)->steps("r1");
  ASSERT_TRUE(steps.ok());
  ASSERT_EQ(steps->size(), static_cast<size_t>(kSteps));
  std::set<long long> seqs;
  for (const auto& s : *steps) {
    EXPECT_EQ(s.state, step_state::kVerified) << s.entry;
    EXPECT_EQ(s.before, nlohmann::json({{"n", s.entry}})) << "the first before-state must stay";
    EXPECT_EQ(s.applied, nlohmann::json({{"done", s.entry}}));
    seqs.insert(s.apply_seq);
  }
  EXPECT_EQ(seqs.size(), static_cast<size_t>(kSteps)) << "apply order must stay unique inside shared commits";
}

TEST(JournalTest, OneWriterAloneCommitsEachWrite) {
  TempDir dir;
  auto j = Journal::open(dir.path, aws::SystemClock::instance());
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->create_run(run_record(), entries(3)).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*j)->record_before("r1", i, "s", {{"n", i}}).ok());
  EXPECT_EQ((*j)->step_commits(), 3u);  // nothing waits to be batched with
}

TEST(JournalTest, AWriteThatThrowsFailsOnlyItselfAndTheJournalGoesOn) {
  TempDir dir;
  auto j = Journal::open(dir.path, aws::SystemClock::instance());
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->create_run(run_record(), entries(2)).ok());
  // Invalid UTF-8 cannot be serialised: a bug in the caller, rethrown on the caller's thread.
  EXPECT_THROW((void)(*j)->record_before("r1", 0, "s", {{"bad", std::string("\xff")}}), nlohmann::json::exception);
  // The group commit is not left stuck, and the next writes land.
  ASSERT_TRUE((*j)->record_before("r1", 1, "s", {{"n", 1}}).ok());
  ASSERT_TRUE((*j)->record_before("r1", 0, "s", {{"n", 0}}).ok());
  auto steps = (*j)->steps("r1");
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(steps->at(0).before, nlohmann::json({{"n", 0}})) << "the throwing write must have left nothing";
  EXPECT_EQ(steps->at(1).before, nlohmann::json({{"n", 1}}));
}

TEST(JournalTest, LeasesRefuseAnotherLiveOwnerAndLapse) {
  TempDir dir;
  aws::ManualClock clock(aws::TimePoint(std::chrono::hours(24 * 20000)));
  auto j = Journal::open(dir.path, clock);
  ASSERT_TRUE(j.ok());
  const std::string arn = "arn:aws:ec2:us-east-1:111122223333:instance/i-1";
  Lease a{arn, "run-a", "host-a:1:x", "arn:aws:iam::111122223333:user/alice", "2026-12-01T03:00:00Z",
          clock.now() + std::chrono::seconds(60)};
  ASSERT_TRUE((*j)->take_lease(a).ok());
  Lease b = a;
  b.run_id = "run-b";
  b.owner = "host-b:2:y";
  auto refused = (*j)->take_lease(b);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kRefused);
  EXPECT_EQ(refused.error().code, "LeaseHeld");
  for (const char* part : {"run run-a", "user/alice", "2026-12-01T03:00:00Z"})
    EXPECT_NE(refused.error().message.find(part), std::string::npos) << refused.error().message;
  // B's release touches nothing of A's; A renews its own.
  ASSERT_TRUE((*j)->release_lease(b).ok());
  EXPECT_FALSE((*j)->take_lease(b).ok());
  ASSERT_TRUE((*j)->renew_lease(a, clock.now() + std::chrono::seconds(90)).ok());
  clock.advance(std::chrono::seconds(91));
  // A's lease lapsed: B takes over, and A can no longer renew.
  b.expires = clock.now() + std::chrono::seconds(60);
  ASSERT_TRUE((*j)->take_lease(b).ok());
  EXPECT_FALSE((*j)->renew_lease(a, clock.now() + std::chrono::seconds(60)).ok());
  auto all = (*j)->leases();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->at(0).run_id, "run-b");
}

// An approval recorded for a run stands when that run records it again (a resume); another run's
// record of it is refused naming the first, and writes nothing of its batch.
TEST(JournalTest, AnApprovalRecordedForOneRunIsRefusedToAnother) {
  TempDir dir;
  aws::ManualClock clock(aws::TimePoint(std::chrono::hours(24 * 20000)));
  auto j = Journal::open(dir.path, clock);
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->record_approvals_used({{"ap-1", "run-a", "bob", "h", ""}}).ok());
  Status again = (*j)->record_approvals_used({{"ap-1", "run-a", "bob", "h", ""}});
  EXPECT_TRUE(again.ok()) << again.error().describe();
  Status other = (*j)->record_approvals_used({{"ap-2", "run-b", "carol", "h", ""}, {"ap-1", "run-b", "bob", "h", ""}});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "ApprovalUsed");
  EXPECT_NE(other.error().message.find("already used by run run-a"), std::string::npos) << other.error().message;
  auto ap2 = (*j)->approval_used("ap-2");
  ASSERT_TRUE(ap2.ok());
  EXPECT_FALSE(ap2->has_value()) << "a refused batch recorded part of itself";
}

// A run moves only from the statuses it may come from: once a rollback began, a resume cannot take
// it back to running (the check before the resume may be stale).
TEST(JournalTest, ARunBeingRolledBackCannotBeMovedBackToRunning) {
  TempDir dir;
  aws::ManualClock clock(aws::TimePoint(std::chrono::hours(24 * 20000)));
  auto j = Journal::open(dir.path, clock);
  ASSERT_TRUE(j.ok());
  ASSERT_TRUE((*j)->create_run(run_record(), entries(1)).ok());
  ASSERT_TRUE((*j)->set_run_status("r1", "partial").ok());
  ASSERT_TRUE((*j)->set_run_status("r1", "running").ok()) << "a resume of a partial run";
  ASSERT_TRUE((*j)->set_run_status("r1", "succeeded").ok());
  ASSERT_TRUE((*j)->set_run_status("r1", "rolling_back").ok());
  Status resume = (*j)->set_run_status("r1", "running");
  ASSERT_FALSE(resume.ok());
  EXPECT_EQ(resume.error().code, "StateConflict");
  EXPECT_NE(resume.error().message.find("'rolling_back'"), std::string::npos) << resume.error().message;
  ASSERT_TRUE((*j)->set_run_status("r1", "rolled_back").ok());
  EXPECT_FALSE((*j)->set_run_status("r1", "running").ok());
  EXPECT_EQ((*j)->run("r1")->status, "rolled_back");
  EXPECT_FALSE((*j)->set_run_status("no-such-run", "rolling_back").ok());
}

// Every RunRecord field survives the journal next to the others (a field added after `owner` by two
// changes once shifted positional initializers: the recovery JSON went into case_pending).
TEST(JournalTest, EveryRunFieldReadsBackByName) {
  TempDir dir;
  auto j = Journal::open(dir.path, aws::SystemClock::instance());
  ASSERT_TRUE(j.ok());
  RunRecord run = run_record();
  run.owner = {.pid = 4242, .host = "ir-laptop", .boot_id = "b-1", .start_ticks = 77};
  run.recovery = {{"member_role_name", "ContainRole"}, {"settings_sha256", "abc"}};
  ASSERT_TRUE((*j)->create_run(run, entries(1)).ok());
  auto claimed = (*j)->swap_run_case("r1", "", std::string(kCasePendingPrefix) + "2026-12-01T00:00:00Z tok");
  ASSERT_TRUE(claimed.ok() && *claimed);
  for (const RunRecord& back : {(*j)->run("r1").value(), (*j)->runs().value().at(0)}) {
    EXPECT_EQ(back.recovery, run.recovery);
    EXPECT_EQ(back.owner.pid, 4242);
    EXPECT_EQ(back.owner.host, "ir-laptop");
    EXPECT_EQ(back.case_pending, "2026-12-01T00:00:00Z tok");
    EXPECT_EQ(back.case_id, "");
    EXPECT_EQ(back.requester, "me");
    EXPECT_EQ(back.mode, "auto");
  }
  EXPECT_EQ((*j)->run("r1")->plan, run.plan);
}

TEST(JournalTest, ImportedRunReadsBackAsExported) {
  TempDir dir;
  auto j = Journal::open(dir.path, aws::SystemClock::instance());
  ASSERT_TRUE(j.ok());
  RunRecord run{.run_id = "run-x",
                .plan_hash = "h",
                .status = "rolled_back",
                .started_at = "2026-12-01T03:00:00Z",
                .finished_at = "2026-12-01T04:00:00Z",
                .requester = "me",
                .mode = "auto",
                .plan = nlohmann::json{{"targets", nlohmann::json::array()}},
                .recovery = {{"member_role_name", "ContainRole"}}};
  StepRecord s;
  s.run_id = "run-x";
  s.entry = 0;
  s.step_id = "isolate";
  s.target = "arn:aws:ec2:us-east-1:111122223333:instance/i-1";
  s.family = "ec2-isolate";
  s.state = step_state::kRolledBack;
  s.before = {{"groups", {"sg-1"}}};
  s.applied = {{"groups", {"sg-q"}}};
  s.updated_at = "2026-12-01T04:00:00Z";
  s.applied_at = "2026-12-01T03:00:01Z";
  s.apply_seq = 1;
  ASSERT_TRUE((*j)->import_run(run, {s}).ok());
  EXPECT_FALSE((*j)->import_run(run, {s}).ok()) << "an existing run id is never overwritten";
  auto back = (*j)->run("run-x");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->status, "rolled_back");
  EXPECT_EQ(back->started_at, run.started_at);
  EXPECT_EQ(back->plan, run.plan);
  EXPECT_EQ(back->recovery, run.recovery) << "what recovery falls back to travels with an imported run";
  auto steps = (*j)->steps("run-x");
  ASSERT_TRUE(steps.ok());
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ(steps->at(0).before, s.before);
  EXPECT_EQ(steps->at(0).applied, s.applied);
  EXPECT_EQ(steps->at(0).state, s.state);
  EXPECT_EQ(steps->at(0).apply_seq, 1);
  EXPECT_TRUE((*j)->last_rollback(s.target).has_value());
}

}  // namespace
}  // namespace containctl::orch
