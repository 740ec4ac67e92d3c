// ec2-isolate rollback after a failure half-way, resume (apply twice), and exact restore of an
// instance in an Auto Scaling group with a direct target-group registration and two interfaces.
#include "tests/actions/ec2_fixture.h"

namespace containctl::actions::ec2test {
namespace {

class Ec2Rollback : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }
  void SetUp() override {
    moto().reset();
    client_ = probed_client(moto(), probe_);
    world_.init(*client_);
    family_ = make_ec2_isolate();
    web_ = world_.group("web");
    id_ = world_.asg("web-asg", 1, 1, 2, web_);
    eni2_ = world_.add_interface(id_, {world_.group("mgmt"), world_.group("backup")}, 1);
    tg_ = world_.target_group("direct-tg");
    q(*client_, "elasticloadbalancing", "RegisterTargets",
      {{"TargetGroupArn", tg_}, {"Targets.member.1.Id", id_}, {"Targets.member.1.Port", "443"}});
    q(*client_, "ec2", "CreateTags", {{"ResourceId.1", id_}, {"Tag.1.Key", ec2::kTagRunId}, {"Tag.1.Value", "older-run"}});
    original_ = state();
    target_ = world_.target(id_);
  }
  json state() { return read_state(*client_, id_, "web-asg", {tg_}); }
  Context context() { return Context{*client_, target_, "us-east-1", "run-rb-1", caller_, options_, {}, clock_}; }

  std::shared_ptr<ProbeTransport> probe_;
  std::unique_ptr<aws::AwsClient> client_;
  World world_;
  std::unique_ptr<ActionFamily> family_;
  std::string web_, id_, eni2_, tg_;
  json original_;
  Target target_;
  Identity caller_{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDA", "AKIATEST"};
  Options options_;
  aws::ManualClock clock_{std::chrono::system_clock::now()};
};

TEST_F(Ec2Rollback, FailureHalfWayThroughIsolationIsRolledBackToTheExactOriginalState) {
  Context ctx = context();
  auto d = family_->discover(ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  auto plan = family_->plan(ctx, *d);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  // Order the network step last so the steps before it have applied; fail its third interface
  // move (the first interface already reached the all-traffic group, the second did not finish).
  std::stable_partition(plan->steps.begin(), plan->steps.end(), [](const Step& s) { return s.id != "isolate-network"; });
  probe_->fail("ModifyNetworkInterfaceAttribute", 3);
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "InjectedFailure");
  ASSERT_EQ(done.back().step.id, "isolate-network");
  EXPECT_TRUE(done.back().applied.is_null());
  // Something really changed before the failure.
  json mid = state();
  EXPECT_NE(mid, original_);
  EXPECT_EQ(mid["asg"]["lifecycle"][id_], "Standby");
  probe_->fail("", 0);

  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(state(), original_);
  EXPECT_TRUE(family_groups(*client_).empty());
}

TEST_F(Ec2Rollback, ResumedApplyIsIdempotentAndRestoreIsExact) {
  Context ctx = context();
  auto d = family_->discover(ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  auto plan = family_->plan(ctx, *d);
  ASSERT_TRUE(plan.ok());
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  const json contained = state();
  EXPECT_EQ(contained["target_groups"][tg_], json::array());
  for (const auto& [eni, groups] : contained["interfaces"].items()) EXPECT_EQ(groups.size(), 1u) << eni;
  EXPECT_EQ(contained["tags"][ec2::kTagRunId], "run-rb-1");
  // A crash before the journal write: the executor applies again with the first before-state.
  for (const Applied& a : done) {
    auto again = family_->apply(ctx, a.step, a.before);
    ASSERT_TRUE(again.ok()) << a.step.id << ": " << again.error().describe();
    Status v = family_->verify(ctx, a.step);
    EXPECT_TRUE(v.ok()) << a.step.id << ": " << v.error().describe();
  }
  EXPECT_EQ(state(), contained);
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(state(), original_);  // the older run-id tag value is back, not deleted
  EXPECT_TRUE(family_groups(*client_).empty());
}

TEST_F(Ec2Rollback, RollbackAfterCrashDuringApplyWithNullAppliedRestores) {
  Context ctx = context();
  auto d = family_->discover(ctx);
  ASSERT_TRUE(d.ok());
  auto plan = family_->plan(ctx, *d);
  ASSERT_TRUE(plan.ok());
  std::vector<Applied> done;
  ASSERT_TRUE(execute(*family_, ctx, *plan, done).ok());
  for (Applied& a : done) a.applied = nullptr;  // the process died before any apply result was journaled
  Status st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(state(), original_);
}

}  // namespace
}  // namespace containctl::actions::ec2test
