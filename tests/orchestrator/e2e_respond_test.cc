// respond with a GuardDuty finding (automatic tiers), and a secret canary through plan/apply/rollback.
#include <regex>

#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eRespondTest : public E2eTest {
 protected:
  // The sample GuardDuty instance finding, pointed at the seeded instance in moto's account.
  std::string finding_file() {
    std::string text = slurp(CONTAINCTL_SOURCE_DIR "/tests/data/findings/guardduty_instance.json");
    EXPECT_FALSE(text.empty());
    text = std::regex_replace(text, std::regex("111122223333"), "123456789012");
    text = std::regex_replace(text, std::regex("i-0abcd1234ef567890"), seed_["instances"][0].get<std::string>());
    std::string path = dir_ + "/finding.json";
    write_file(path, text);
    return path;
  }
};

TEST_F(E2eRespondTest, AutoSuspectedAppliesAndNeverReadsStdin) {
  seed(1);
  write_settings(org_settings("auto", "suspected"));
  json before = seeded_state();
  // stdin is a pipe that stays open: a read would block until the timeout.
  Proc r = run({"--output", "json", "respond", "--finding", finding_file()}, {}, Stdin::kOpenPipe,
               std::chrono::seconds(60));
  ASSERT_FALSE(r.timed_out) << "respond read stdin although given a file";
  ASSERT_EQ(r.code, 0) << r.all();
  json out = json::parse(r.out);
  std::string run_id = out["run_id"];
  json st = status_json();
  ASSERT_EQ(st["runs"].size(), 1u);
  EXPECT_EQ(st["runs"][0]["run_id"], run_id);
  EXPECT_EQ(st["runs"][0]["status"], "succeeded");
  json after = world_state();
  std::string iid = seed_["instances"][0];
  EXPECT_NE(after["instances"][iid], before["instances"][iid]) << "the instance was isolated";
  EXPECT_EQ(after["user_keys"], before["user_keys"]) << "only the finding's instance is a target";
  EXPECT_EQ(after["bucket_policy"], before["bucket_policy"]);
}

TEST_F(E2eRespondTest, AutoConfirmedOnlyWritesThePlanAndExits3) {
  seed(1);
  write_settings(org_settings("auto", "confirmed"));
  json before = seeded_state();
  Proc r = run({"respond", "--finding", finding_file()}, {}, Stdin::kOpenPipe, std::chrono::seconds(60));
  ASSERT_FALSE(r.timed_out) << "respond read stdin although given a file";
  EXPECT_EQ(r.code, 3) << r.all();
  EXPECT_NE(r.err.find("approval"), std::string::npos) << r.err;
  std::vector<fs::path> plans;
  if (fs::exists(state_ + "/plans"))
    for (const auto& e : fs::directory_iterator(state_ + "/plans")) plans.push_back(e.path());
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_NE(r.err.find(plans[0].string()), std::string::npos) << r.err;
  json plan = json::parse(slurp(plans[0]));
  EXPECT_EQ(plan["targets"].size(), 1u);
  EXPECT_EQ(plan["targets"][0]["confidence"], "suspected");
  EXPECT_EQ(mutating_calls_since(0), std::vector<std::string>{});
  EXPECT_EQ(world_state(), before);
  EXPECT_EQ(status_json()["runs"].size(), 0u);
}

TEST_F(E2eRespondTest, SecretCanaryAppearsNowhere) {
  const std::string canary = "E2eCanary9f3Kq7XwT2mLr8vBn4Hj6Ys1Pd0Zc5Ga";
  secret_ = canary;
  seed(2);
  write_settings(org_settings("auto"));
  std::string outputs;
  std::vector<std::string> plan_args = {"--log-level", "trace", "plan", "-o", "plan.json"};
  for (const auto& t : all_target_args()) plan_args.push_back(t);
  Proc p = run(plan_args);
  ASSERT_EQ(p.code, 0) << p.all();
  outputs += p.all();
  Proc a = run({"--log-level", "trace", "--output", "json", "apply", "plan.json"});
  ASSERT_EQ(a.code, 0) << a.all();
  outputs += a.all();
  std::string run_id = json::parse(a.out)["run_id"];
  for (auto args : std::vector<std::vector<std::string>>{
           {"--log-level", "trace", "status", run_id},
           {"--log-level", "trace", "rollback", run_id, "--dry-run"},
           {"--log-level", "trace", "rollback", run_id, "--reactivate-keys", "--force"},
           {"audit", "show", run_id}}) {
    Proc r = run(args);
    EXPECT_EQ(r.code, 0) << r.all();
    outputs += r.all();
  }
  EXPECT_EQ(outputs.find(canary), std::string::npos) << "canary in command output";
  EXPECT_EQ(slurp(dir_ + "/plan.json").find(canary), std::string::npos) << "canary in the plan";
  // Every file the tool wrote: journal (and its WAL), audit log, plans.
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(state_)) {
    if (!e.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(slurp(e.path()).find(canary), std::string::npos) << "canary in " << e.path();
  }
  EXPECT_GE(files, 2);
  EXPECT_TRUE(fs::exists(state_ + "/journal.db"));
  EXPECT_TRUE(fs::exists(state_ + "/audit.jsonl"));
  // The run really made its calls with the canary credentials (moto does not check signatures here).
  EXPECT_GT(audit_count(), 20u);
}

}  // namespace
}  // namespace containctl::e2e
