// A wait without calls (the EC2 untrack dwell) hands the target's pool slot to the next target
// of its account and region, and the limit on targets making calls at once still holds. Runs the
// real executor in virtual time (no sleeps): a "call" is a 100 ms virtual sleep.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "aws/client.h"
#include "aws/virtual_clock.h"
#include "orchestrator/executor.h"
#include "orchestrator/journal.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Steps: "dwell" calls, waits 2 s without calls, calls again; "slow" calls for 3 s.
class DwellFamily : public actions::ActionFamily {
 public:
  std::mutex mu;
  std::map<std::string, int> calling_steps;  // target -> its steps calling now
  int calling_targets = 0, max_calling_targets = 0;

  std::string name() const override { return "dwell"; }
  bool handles(const actions::Target&) const override { return true; }
  Result<json> discover(actions::Context&) override { return json::object(); }
  Result<actions::TargetPlan> plan(actions::Context&, const json&) override { return actions::TargetPlan{}; }
  Result<json> capture(actions::Context&, const actions::Step&) override { return json::object(); }
  Result<json> apply(actions::Context& ctx, const actions::Step& s, const json&) override {
    if (s.id == "slow") {
      call(ctx, milliseconds(3000));
      return json::object();
    }
    call(ctx, milliseconds(100));
    actions::wait_without_calls(ctx, milliseconds(2000));
    call(ctx, milliseconds(100));
    return json::object();
  }
  Status verify(actions::Context&, const actions::Step&) override { return Ok{}; }
  Status rollback(actions::Context&, const actions::Step&, const json&, const json&,
                  const actions::RollbackOptions&) override {
    return Ok{};
  }
  Status verify_rollback(actions::Context&, const actions::Step&, const json&,
                         const actions::RollbackOptions&) override {
    return Ok{};
  }
  std::vector<std::string> iam_actions() const override { return {}; }

 private:
  void call(actions::Context& ctx, milliseconds d) {
    mark(ctx.target.name, +1);
    ctx.clock.sleep_for(d);
    mark(ctx.target.name, -1);
  }
  void mark(const std::string& target, int delta) {
    std::lock_guard lock(mu);
    int& n = calling_steps[target];
    if (delta > 0 && n++ == 0) max_calling_targets = std::max(max_calling_targets, ++calling_targets);
    if (delta < 0 && --n == 0) calling_targets--;
  }
};

struct Outcome {
  RunOutcome run;
  double seconds = 0;
  int max_calling_targets = 0;
};

Outcome run(int targets, std::vector<std::string> steps, int workers, int per_key) {
  const aws::TimePoint t0 = std::chrono::system_clock::from_time_t(1'790'000'000);
  aws::VirtualClock clock(t0);
  auto dir = std::filesystem::temp_directory_path() /
             ("cc-dwell-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  auto journal = Journal::open(dir.string(), clock).value();
  std::vector<PlanEntry> entries;
  for (int i = 0; i < targets; ++i) {
    PlanEntry e;
    char id[32];
    std::snprintf(id, sizeof id, "i-%017d", i);
    e.target = *actions::parse_target_arn(std::string("arn:aws:ec2:us-east-1:123456789012:instance/") + id);
    e.family = "dwell";
    e.account = "123456789012";
    e.region = "us-east-1";
    for (const auto& s : steps) {
      actions::Step st;
      st.id = s;
      st.description = s;
      e.steps.push_back(st);
    }
    entries.push_back(e);
  }
  EXPECT_TRUE(journal->create_run({.run_id = "r1", .plan_hash = "hash", .status = "running",
                                   .requester = "req", .mode = "auto", .plan = json::object()}, entries).ok());
  DwellFamily family;
  aws::AwsClient client{aws::ClientConfig{}};  // never called
  ExecutionEnv env;
  env.client_for = [&](const PlanEntry&) -> Result<aws::AwsClient*> { return &client; };
  env.family_for = [&](const std::string&) -> actions::ActionFamily* { return &family; };
  env.clock = &clock;
  env.workers = workers;
  env.per_account_region = per_key;
  clock.thread_enter();
  Outcome out;
  out.run = execute_run(*journal, "r1", entries, env);
  clock.thread_leave();
  out.seconds = std::chrono::duration<double>(clock.now() - t0).count();
  out.max_calling_targets = family.max_calling_targets;
  std::filesystem::remove_all(dir);
  return out;
}

TEST(ExecutorDwellTest, ADwellingTargetHandsItsSlotToTheNextTarget) {
  // 20 targets, 4 at a time: holding the slot through the dwell would take 5 waves x 2.2 s = 11 s.
  // Handing it over, the calls (20 x 200 ms at 4 at once = 1 s) overlap the dwells: about 3.2 s.
  Outcome out = run(20, {"dwell"}, 8, 4);
  EXPECT_EQ(out.run.status, "succeeded");
  EXPECT_EQ(out.run.steps_done, 20);
  EXPECT_LT(out.seconds, 4.0);
  EXPECT_GE(out.seconds, 2.2) << "one target's own calls and dwell";
  EXPECT_LE(out.max_calling_targets, 4) << "targets back from a dwell must not exceed the per-key limit";
  EXPECT_EQ(out.max_calling_targets, 4);
}

TEST(ExecutorDwellTest, ATargetKeepsItsSlotWhileAnotherOfItsStepsIsCalling) {
  // Each target dwells in one step while its "slow" step calls for 3 s: it is still making calls,
  // so with one slot per key the second target must not start during the first one's dwell.
  Outcome out = run(2, {"dwell", "slow"}, 8, 1);
  EXPECT_EQ(out.run.status, "succeeded");
  EXPECT_EQ(out.max_calling_targets, 1);
  EXPECT_GE(out.seconds, 6.0) << "two targets of 3 s of calls each, one at a time";
}

TEST(ExecutorDwellTest, OneWorkerStillOverlapsDwells) {
  // workers = 1: a released worker's place goes to a new thread, so the dwells overlap there too.
  Outcome out = run(5, {"dwell"}, 1, 1);
  EXPECT_EQ(out.run.status, "succeeded");
  EXPECT_EQ(out.max_calling_targets, 1);
  EXPECT_LT(out.seconds, 5 * 2.2) << "without the hand-over the targets run one after another";
}

}  // namespace
}  // namespace containctl::orch
