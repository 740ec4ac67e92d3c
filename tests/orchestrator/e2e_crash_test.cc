// Crash test: the real binary kills itself with SIGKILL at every mutating step of a multi-target run
// (CONTAINCTL_FAULT, compiled into test builds); rollback, or apply --resume then rollback, must bring
// back exactly the state read before apply. The trials run on both state backends: the embedded
// SQLite journal and the team store (DynamoDB and S3 in moto), whose leases a killed process leaves
// behind until they expire.
#include <csignal>

#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eCrashTest : public E2eTest {
 protected:
  // The settings of the backend under test; the team store is made (state init) in each fresh world.
  void write_backend_settings() {
    json s = org_settings("auto");
    if (backend_ == "aws") {
      s["state"] = team_state_settings();
      s["state"]["lease_seconds"] = 3;
    }
    write_settings(s);
    if (backend_ == "aws") {
      Proc init = run({"state", "init"});
      EXPECT_EQ(init.code, 0) << init.all();
    }
  }
  // A killed process's leases in the team store outlive it until they expire: wait for them.
  std::vector<std::string> after_crash(std::vector<std::string> args) const {
    if (backend_ == "aws") args.insert(args.end(), {"--wait-lock", "60s"});
    return args;
  }

  // A fresh world and state directory: two instances in one VPC, one user, one bucket; a plan in mode auto.
  // Returns the number of steps in the plan.
  int fresh_world(const std::string& name) {
    state_ = dir_ + "/" + name;
    fs::create_directories(state_);
    seed(2);
    write_backend_settings();
    Proc p = plan(all_target_args(), name + ".plan.json");
    EXPECT_EQ(p.code, 0) << p.all();
    plan_ = name + ".plan.json";
    json doc = json::parse(slurp(dir_ + "/" + plan_));
    EXPECT_EQ(doc["targets"].size(), 4u);
    int steps = 0;
    for (const auto& t : doc["targets"]) steps += static_cast<int>(t["steps"].size());
    before_ = seeded_state();
    // The two instances share a VPC: rollback restores both exactly and leaves no containctl group.
    const json& inst = before_["instances"];
    EXPECT_EQ(inst.size(), 2u);
    if (inst.size() == 2) EXPECT_EQ(inst.begin().value()["vpcs"], std::next(inst.begin()).value()["vpcs"]);
    return steps;
  }

  // A bucket and an object of it: two targets that write one bucket policy. Returns the steps.
  int fresh_shared_bucket_world(const std::string& name) {
    state_ = dir_ + "/" + name;
    fs::create_directories(state_);
    seed(1);
    write_backend_settings();
    const std::string bucket = seed_["bucket_arn"];
    Proc p = plan({"--target", bucket + "/2026/11/payroll.csv", "--target", bucket}, name + ".plan.json");
    EXPECT_EQ(p.code, 0) << p.all();
    plan_ = name + ".plan.json";
    json doc = json::parse(slurp(dir_ + "/" + plan_));
    int steps = 0;
    for (const auto& t : doc["targets"]) steps += static_cast<int>(t["steps"].size());
    before_ = seeded_state();
    return steps;
  }

  // After a crash: the run is listed, and the killed process left it unfinished.
  std::string crashed_run_id(const std::string& what) {
    json st = status_json();
    EXPECT_EQ(st["runs"].size(), 1u) << what << ": " << st.dump();
    if (st["runs"].size() != 1) return "";
    EXPECT_NE(st["runs"][0]["status"], "succeeded") << what;
    EXPECT_EQ(st["runs"][0]["finished_at"], "") << what;
    return st["runs"][0]["run_id"];
  }

  void rollback_restores(const std::string& run_id, const std::string& what) {
    Proc rb = run(after_crash({"rollback", run_id, "--reactivate-keys", "--force"}));
    EXPECT_EQ(rb.code, 0) << what << "\n" << rb.all();
    json after = world_state();
    EXPECT_EQ(after, before_) << what << "\nbefore: " << before_.dump(1) << "\nafter:  " << after.dump(1);
  }

  void crash_then_rollback(const std::string& phase, int n) {
    std::string what = phase + ":" + std::to_string(n);
    fresh_world(phase + "-" + std::to_string(n));
    Proc a = run({"apply", plan_}, {{"CONTAINCTL_FAULT", what}});
    EXPECT_EQ(a.signal, SIGKILL) << what << " exit " << a.code << "\n" << a.all();
    std::string run_id = crashed_run_id(what);
    ASSERT_FALSE(run_id.empty());
    json one = status_json(run_id);
    EXPECT_EQ(one["run_id"], run_id);
    EXPECT_FALSE(one["steps"].empty()) << what;
    rollback_restores(run_id, what);
  }

  std::string plan_;
  json before_;
  std::string backend_ = "sqlite";
};

// The trials, once per backend: killed before every step, after every other step, at every step of
// two targets sharing a bucket, and resumed after a crash.
class E2eCrashTrial : public E2eCrashTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    E2eCrashTest::SetUp();
    backend_ = GetParam();
  }
};
INSTANTIATE_TEST_SUITE_P(Backends, E2eCrashTrial, ::testing::Values("sqlite", "aws"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST_F(E2eCrashTest, StepCountIsWhatTheMatrixCovers) {
  // The matrix below loops to kSteps; if the families plan more or fewer steps, it must follow.
  EXPECT_EQ(fresh_world("count"), 15);
}

constexpr int kSteps = 15;  // 4 per instance (x2), 3 for the user, 4 for the bucket

TEST_P(E2eCrashTrial, KilledBeforeEveryStepRollbackRestoresTheWorld) {
  for (int n = 1; n <= kSteps; ++n) crash_then_rollback("before_apply", n);
}

// Every other step index (and the last) after the call: the full matrix twice is too slow on a shared
// 2-core machine; before_apply above covers every index.
TEST_P(E2eCrashTrial, KilledAfterEveryOtherStepRollbackRestoresTheWorld) {
  for (int n = 1; n <= kSteps; n += 2) crash_then_rollback("after_apply", n);
}

TEST_P(E2eCrashTrial, ResumeAfterACrashFinishesTheRunAndRollbackRestores) {
  for (std::string what : {"before_apply:1", "after_apply:5", "before_apply:9", "after_apply:14"}) {
    fresh_world("resume-" + what.substr(0, what.find(':')) + "-" + what.substr(what.find(':') + 1));
    Proc a = run({"apply", plan_}, {{"CONTAINCTL_FAULT", what}});
    ASSERT_EQ(a.signal, SIGKILL) << what << " exit " << a.code << "\n" << a.all();
    std::string run_id = crashed_run_id(what);
    ASSERT_FALSE(run_id.empty());

    Proc r = run(after_crash({"--output", "json", "apply", plan_, "--resume", run_id}));
    EXPECT_EQ(r.code, 0) << what << "\n" << r.all();
    json out = json::parse(r.out.empty() ? "{}" : r.out);
    EXPECT_EQ(out.value("run_id", ""), run_id) << r.out;
    json st = status_json(run_id);
    EXPECT_EQ(st["status"], "succeeded") << what << " " << st.dump();
    for (const auto& s : st["steps"]) EXPECT_EQ(s["state"], "verified") << what << " " << s.dump();
    EXPECT_EQ(st["steps"].size(), static_cast<size_t>(kSteps)) << what;
    json contained = world_state();
    EXPECT_NE(contained, before_) << what << ": the finished run changed nothing";
    rollback_restores(run_id, what + " then --resume");
  }
}

// The journal refuses to record a step's "verified" (CONTAINCTL_FAULT=refuse_verified:1, in the
// journal layer of either backend, as a store refusing the write would). The step holds, but the
// responder must read that the run is partial and which step is unrecorded: in the apply summary
// (text and --output json) and in `status RUN`. apply --resume then verifies it and succeeds.
TEST_P(E2eCrashTrial, AVerifiedTheJournalRefusedIsReportedPartialNamingTheStep) {
  const std::string plan_file = "refused.plan.json";
  // A fresh world with the user as the one target, applied with the fault; returns the run and
  // the one step the journal holds as applied.
  auto refused_run = [&](const std::string& name, bool json_out, Proc& a) -> std::pair<std::string, std::string> {
    state_ = dir_ + "/" + name;
    fs::create_directories(state_);
    seed(1);
    write_backend_settings();
    Proc p = plan({"--target", seed_["user_arn"].get<std::string>()}, plan_file);
    EXPECT_EQ(p.code, 0) << p.all();
    std::vector<std::string> args = {"apply", plan_file};
    if (json_out) args.insert(args.begin(), {"--output", "json"});
    a = run(args, {{"CONTAINCTL_FAULT", "refuse_verified:1"}});
    EXPECT_EQ(a.code, 4) << "partial exits 4\n" << a.all();
    json st = status_json();
    EXPECT_EQ(st["runs"].size(), 1u) << st.dump();
    if (st["runs"].size() != 1) return {"", ""};
    const std::string run_id = st["runs"][0]["run_id"];
    json one = status_json(run_id);
    EXPECT_EQ(one["status"], "partial") << one.dump();
    std::vector<std::string> applied;
    for (const auto& s : one["steps"]) {
      if (s["state"] == "applied") {
        applied.push_back(s["step"]);
        EXPECT_EQ(s.value("verified", true), false) << "status --output json marks it unverified: " << s.dump();
      } else {
        EXPECT_EQ(s["state"], "verified") << s.dump();
      }
    }
    EXPECT_EQ(applied.size(), 1u) << one.dump();
    return {run_id, applied.empty() ? "" : applied[0]};
  };
  const std::string unrecorded = ": verified, but the journal could not record it";

  Proc a;
  auto [run_id, step] = refused_run("refused-text", false, a);
  ASSERT_FALSE(step.empty());
  const std::string user = seed_["user_arn"];
  EXPECT_NE(a.out.find("Run " + run_id + " partial"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find(user + " " + step + unrecorded), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("until apply --resume verifies it again"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("containctl apply " + plan_file + " --resume " + run_id), std::string::npos) << a.out;
  Proc st = run({"status", run_id});
  EXPECT_EQ(st.code, 0) << st.all();
  EXPECT_NE(st.out.find(run_id + "  partial"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find(user + "  " + step + "  applied (not verified: apply --resume verifies it)"), std::string::npos)
      << st.out;
  EXPECT_NE(st.out.find("Next: containctl apply PLAN --resume " + run_id), std::string::npos) << st.out;

  Proc r = run({"apply", plan_file, "--resume", run_id});
  EXPECT_EQ(r.code, 0) << r.all();
  json done = status_json(run_id);
  EXPECT_EQ(done["status"], "succeeded") << done.dump();
  for (const auto& s : done["steps"]) EXPECT_EQ(s["state"], "verified") << s.dump();

  Proc j;
  auto [json_run, json_step] = refused_run("refused-json", true, j);
  ASSERT_FALSE(json_step.empty());
  json doc = json::parse(j.out.empty() ? "{}" : j.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << j.out;
  EXPECT_EQ(doc.value("run_id", ""), json_run) << j.out;
  EXPECT_EQ(doc.value("status", ""), "partial") << j.out;
  ASSERT_EQ(doc["errors"].size(), 1u) << j.out;
  const std::string err = doc["errors"][0];
  EXPECT_NE(err.find(seed_["user_arn"].get<std::string>() + " " + json_step + unrecorded), std::string::npos) << err;
  EXPECT_NE(err.find("apply --resume"), std::string::npos) << err;
  ASSERT_FALSE(doc["next"].empty()) << j.out;
  EXPECT_EQ(doc["next"][0], "containctl apply " + plan_file + " --resume " + json_run) << j.out;
}

// The bucket's whole-policy step and the object's statement share the bucket policy: killed at
// any of their steps, rollback still brings back the policy byte for byte.
TEST_P(E2eCrashTrial, TargetsSharingABucketRestoreExactlyAfterACrash) {
  ASSERT_EQ(fresh_shared_bucket_world("shared-count"), 5);  // 4 for the bucket, the object's deny
  for (const char* phase : {"before_apply", "after_apply"}) {
    for (int n = 1; n <= 5; ++n) {
      std::string what = std::string(phase) + ":" + std::to_string(n);
      fresh_shared_bucket_world(std::string("shared-") + phase + "-" + std::to_string(n));
      Proc a = run({"apply", plan_}, {{"CONTAINCTL_FAULT", what}});
      EXPECT_EQ(a.signal, SIGKILL) << what << " exit " << a.code << "\n" << a.all();
      std::string run_id = crashed_run_id(what);
      ASSERT_FALSE(run_id.empty());
      rollback_restores(run_id, "shared bucket " + what);
    }
  }
}

}  // namespace
}  // namespace containctl::e2e
