// Steps of different targets that write one resource (ActionFamily::shared_resources) never run
// at once and go back newest first. The family below does what s3-contain does to a bucket policy:
// read the document, make a call, write it back with its statement merged in (objects), or replace
// it whole (the bucket); rollback puts back the captured document. Real executor, virtual time.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "aws/client.h"
#include "aws/virtual_clock.h"
#include "orchestrator/executor.h"
#include "orchestrator/journal.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

class PolicyFamily : public actions::ActionFamily {
 public:
  std::mutex mu;
  std::map<std::string, std::set<std::string>> policy;  // resource -> statements
  bool declare = true;                                    // false: the family declares nothing shared
  int dwell_ms = 0;                                       // a wait without calls while applying

  std::string name() const override { return "policy"; }
  bool handles(const actions::Target&) const override { return true; }
  Result<json> discover(actions::Context&) override { return json::object(); }
  Result<actions::TargetPlan> plan(actions::Context&, const json&) override { return actions::TargetPlan{}; }
  Result<json> capture(actions::Context& ctx, const actions::Step& s) override { return json(read(ctx, s)); }
  Result<json> apply(actions::Context& ctx, const actions::Step& s, const json&) override {
    std::set<std::string> doc = read(ctx, s);
    if (dwell_ms) actions::wait_without_calls(ctx, milliseconds(dwell_ms));
    if (s.args.value("replace", false)) doc.clear();
    doc.insert(ctx.target.name);
    write(ctx, s, doc);
    return json::object();
  }
  Status verify(actions::Context& ctx, const actions::Step& s) override {
    std::set<std::string> doc = read(ctx, s);
    if (doc.count(ctx.target.name)) return Ok{};
    return Error{ErrorKind::kClient, "VerificationFailed", ctx.target.name + " is not in the policy"};
  }
  Status rollback(actions::Context& ctx, const actions::Step& s, const json& before, const json&,
                  const actions::RollbackOptions&) override {
    read(ctx, s);
    write(ctx, s, before.get<std::set<std::string>>());
    return Ok{};
  }
  Status verify_rollback(actions::Context&, const actions::Step&, const json&, const actions::RollbackOptions&) override {
    return Ok{};
  }
  std::vector<std::string> iam_actions() const override { return {}; }
  std::vector<std::string> shared_resources(const actions::Target&, const actions::Step& s) const override {
    if (!declare) return {};
    return {"policy:" + s.args.value("resource", "")};
  }

 private:
  // Each read and write is a 100 ms call.
  std::set<std::string> read(actions::Context& ctx, const actions::Step& s) {
    ctx.clock.sleep_for(milliseconds(100));
    std::lock_guard lock(mu);
    return policy[s.args.value("resource", "")];
  }
  void write(actions::Context& ctx, const actions::Step& s, const std::set<std::string>& doc) {
    ctx.clock.sleep_for(milliseconds(100));
    std::lock_guard lock(mu);
    policy[s.args.value("resource", "")] = doc;
  }
};

PlanEntry entry(int n, const std::string& resource, bool replace = false) {
  PlanEntry e;
  char id[32];
  std::snprintf(id, sizeof id, "i-%017d", n);
  e.target = *actions::parse_target_arn(std::string("arn:aws:ec2:us-east-1:123456789012:instance/") + id);
  e.family = "policy";
  e.account = "123456789012";
  e.region = "us-east-1";
  actions::Step st;
  st.id = "policy";
  st.description = "policy";
  st.args = {{"resource", resource}, {"replace", replace}};
  e.steps.push_back(st);
  return e;
}

struct Sim {
  const aws::TimePoint t0 = std::chrono::system_clock::from_time_t(1'790'000'000);
  aws::VirtualClock clock{t0};
  std::filesystem::path dir;
  std::unique_ptr<Journal> journal;
  PolicyFamily family;
  aws::AwsClient client{aws::ClientConfig{}};  // never called
  ExecutionEnv env;

  Sim(int workers, int per_key) {
    dir = std::filesystem::temp_directory_path() /
          ("cc-shared-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    journal = Journal::open(dir.string(), clock).value();
    env.client_for = [this](const PlanEntry&) -> Result<aws::AwsClient*> { return &client; };
    env.family_for = [this](const std::string&) -> actions::ActionFamily* { return &family; };
    env.clock = &clock;
    env.workers = workers;
    env.per_account_region = per_key;
  }
  ~Sim() { std::filesystem::remove_all(dir); }
  RunOutcome apply(const std::vector<PlanEntry>& entries) {
    EXPECT_TRUE(journal->create_run({.run_id = "r1", .plan_hash = "hash", .status = "running",
                                     .requester = "req", .mode = "auto", .plan = json::object()}, entries).ok());
    clock.thread_enter();
    RunOutcome out = execute_run(*journal, "r1", entries, env);
    clock.thread_leave();
    return out;
  }
  RunOutcome rollback(const std::vector<PlanEntry>& entries) {
    clock.thread_enter();
    auto out = rollback_run(*journal, "r1", entries, env, {});
    clock.thread_leave();
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : RunOutcome{};
  }
  double seconds() const { return std::chrono::duration<double>(clock.now() - t0).count(); }
};

TEST(ExecutorSharedTest, TwoTargetsMergingIntoOneResourceBothHold) {
  Sim sim(8, 4);
  sim.family.policy["b"] = {"owner"};
  std::vector<PlanEntry> entries = {entry(1, "b"), entry(2, "b")};
  RunOutcome out = sim.apply(entries);
  EXPECT_EQ(out.status, "succeeded") << (out.errors.empty() ? "" : out.errors[0]);
  EXPECT_EQ(sim.family.policy["b"], (std::set<std::string>{"owner", "i-00000000000000001", "i-00000000000000002"}));
  EXPECT_EQ(sim.rollback(entries).status, "rolled_back");
  EXPECT_EQ(sim.family.policy["b"], (std::set<std::string>{"owner"}));
}

TEST(ExecutorSharedTest, WithoutTheDeclarationTheMergeLosesOne) {
  // What the test above guards against: the same run with nothing declared races.
  Sim sim(8, 4);
  sim.family.declare = false;
  std::vector<PlanEntry> entries = {entry(1, "b"), entry(2, "b")};
  RunOutcome out = sim.apply(entries);
  EXPECT_EQ(out.status, "partial");
  EXPECT_EQ(sim.family.policy["b"].size(), 1u);
}

TEST(ExecutorSharedTest, AWholeRestoreAndAMergeGoBackNewestFirst) {
  // The bucket (replace) and an object (merge) of it; other resources run in parallel meanwhile.
  Sim sim(8, 4);
  sim.family.policy["b"] = {"owner"};
  std::vector<PlanEntry> entries = {entry(1, "b"), entry(2, "b", true), entry(3, "c"), entry(4, "b")};
  RunOutcome out = sim.apply(entries);
  EXPECT_EQ(out.status, "succeeded") << (out.errors.empty() ? "" : out.errors[0]);
  EXPECT_TRUE(sim.family.policy["b"].count("i-00000000000000002"));
  EXPECT_EQ(sim.rollback(entries).status, "rolled_back");
  EXPECT_EQ(sim.family.policy["b"], (std::set<std::string>{"owner"}));
  EXPECT_EQ(sim.family.policy["c"], (std::set<std::string>{}));
}

TEST(ExecutorSharedTest, DifferentResourcesStillRunInParallel) {
  Sim sim(8, 8);
  std::vector<PlanEntry> entries;
  for (int i = 0; i < 8; ++i) entries.push_back(entry(i, "r" + std::to_string(i)));
  EXPECT_EQ(sim.apply(entries).status, "succeeded");
  EXPECT_LT(sim.seconds(), 1.0) << "8 independent targets of 0.4 s each";
}

TEST(ExecutorSharedTest, WaitingForAResourceHandsTheSlotOverAndNeverDeadlocksWithADwell) {
  // One slot per key, one worker: the holder dwells (slot handed back), the next target takes the
  // slot and waits for the resource (hands it back too), a third needs another resource only.
  Sim sim(1, 1);
  sim.family.dwell_ms = 2000;
  std::vector<PlanEntry> entries = {entry(1, "b"), entry(2, "b"), entry(3, "c"), entry(4, "b")};
  RunOutcome out = sim.apply(entries);
  EXPECT_EQ(out.status, "succeeded") << (out.errors.empty() ? "" : out.errors[0]);
  EXPECT_EQ(sim.family.policy["b"].size(), 3u);
  // Three dwells on "b" one after another; the one on "c" overlaps them.
  EXPECT_GE(sim.seconds(), 3 * 2.2);
  EXPECT_LT(sim.seconds(), 4 * 2.2);
  EXPECT_EQ(sim.rollback(entries).status, "rolled_back");
  EXPECT_TRUE(sim.family.policy["b"].empty());
}

}  // namespace
}  // namespace containctl::orch
