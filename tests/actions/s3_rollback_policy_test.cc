// s3-contain against a bucket policy that others write too, against moto: an object's rollback
// takes out only its own statement; the bucket's rollback refuses to discard a later change unless
// forced; a decoy named like our statement never counts as containment; a key that is not UTF-8
// is a clear error.
#include <gtest/gtest.h>

#include "actions/s3_policy.h"
#include "tests/actions/s3_test_util.h"

namespace containctl::actions::s3test {
namespace {

class S3RollbackPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    moto().reset();
    client_ = tool_client(moto());
  }
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }
  std::string policy_text(const std::string& bucket) {
    auto p = s3::get_policy(*client_, {bucket, "us-east-1", ""});
    EXPECT_TRUE(p.ok());
    return p.ok() && (*p)["present"].get<bool>() ? (*p)["text"].get<std::string>() : "";
  }
  void put_policy(const std::string& bucket, const std::string& text) {
    must(s3_raw(*client_, "us-east-1", "PutBucketPolicy", "PUT", bucket, "", {{"policy", ""}}, text), "policy");
  }
  TargetPlan planned(Env& env) {
    auto d = family_.discover(*env.ctx);
    EXPECT_TRUE(d.ok()) << d.error().describe();
    auto p = family_.plan(*env.ctx, d.ok() ? *d : json::object());
    EXPECT_TRUE(p.ok()) << p.error().describe();
    return p.ok() ? *p : TargetPlan{};
  }
  std::unique_ptr<aws::AwsClient> client_;
  s3::S3ContainFamily family_;
};

const std::string kOwner =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Analytics\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
    "\"arn:aws:iam::123456789012:role/Analytics\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::pol-b/*\"}]}";

bool has_sid(const std::string& text, const std::string& sid) {
  auto doc = s3::parse_policy(text);
  return doc.ok() && !s3::find_statement(*doc, sid).is_null();
}

TEST_F(S3RollbackPolicy, ObjectRollbackRemovesOnlyItsOwnStatement) {
  create_bucket(*client_, "pol-b");
  put_object(*client_, "pol-b", "one.csv");
  put_object(*client_, "pol-b", "two.csv");
  put_policy("pol-b", kOwner);
  Env first(*client_, "arn:aws:s3:::pol-b/one.csv");
  auto done_one = apply_plan(family_, *first.ctx, planned(first));
  ASSERT_FALSE(done_one.empty());
  // Later, another run contains another object of the bucket.
  Env second(*client_, "arn:aws:s3:::pol-b/two.csv");
  second.ctx->run_id = "run-test-2";
  auto done_two = apply_plan(family_, *second.ctx, planned(second));
  ASSERT_FALSE(done_two.empty());
  ASSERT_TRUE(has_sid(policy_text("pol-b"), s3::object_deny_sid("two.csv")));

  // The first run goes back: the second run's containment stays.
  rollback_plan(family_, *first.ctx, done_one);
  std::string now = policy_text("pol-b");
  EXPECT_FALSE(has_sid(now, s3::object_deny_sid("one.csv"))) << now;
  EXPECT_TRUE(has_sid(now, s3::object_deny_sid("two.csv"))) << now;
  EXPECT_TRUE(has_sid(now, "Analytics")) << now;
  // Then the second: the owner's policy comes back (its statements; the text is the second run's
  // rewrite, since the first run's byte-exact original is not what the second one captured).
  rollback_plan(family_, *second.ctx, done_two);
  auto back = s3::parse_policy(policy_text("pol-b"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(s3::same_json(*back, *s3::parse_policy(kOwner))) << back->dump();
}

TEST_F(S3RollbackPolicy, BucketRollbackRefusesToDiscardALaterChangeUnlessForced) {
  create_bucket(*client_, "pol-b");
  put_object(*client_, "pol-b", "one.csv");
  put_policy("pol-b", kOwner);
  Env bucket(*client_, "arn:aws:s3:::pol-b");
  TargetPlan plan = planned(bucket);
  auto done = apply_plan(family_, *bucket.ctx, plan);
  ASSERT_EQ(done.size(), plan.steps.size());
  ASSERT_EQ(done[0].step.id, s3::kStepDenyPolicy);
  // Another run contains an object of the bucket afterwards: its statement joins ours. (Written
  // directly: moto applies our deny to the tool too, as it ignores the condition, so the second
  // run could not read the object.)
  auto doc = s3::parse_policy(policy_text("pol-b"));
  ASSERT_TRUE(doc.ok());
  auto st = s3::object_deny_statement("aws", "pol-b", "one.csv", {"arn:aws:iam::123456789012:user/containctl-tool"}, true).value();
  auto merged = s3::with_statement(policy_text("pol-b"), st);
  ASSERT_TRUE(merged.ok());
  put_policy("pol-b", *merged);
  const std::string contained = policy_text("pol-b");
  ASSERT_TRUE(has_sid(contained, s3::object_deny_sid("one.csv")));

  auto refused = family_.rollback(*bucket.ctx, done[0].step, done[0].before, done[0].applied, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "PolicyChangedSinceApply");
  EXPECT_NE(refused.error().message.find("--force"), std::string::npos) << refused.error().message;
  EXPECT_EQ(policy_text("pol-b"), contained) << "a refused rollback changes nothing";

  RollbackOptions force;
  force.force = true;
  ASSERT_TRUE(family_.rollback(*bucket.ctx, done[0].step, done[0].before, done[0].applied, force).ok());
  EXPECT_EQ(policy_text("pol-b"), kOwner);
  EXPECT_TRUE(family_.verify_rollback(*bucket.ctx, done[0].step, done[0].before, force).ok());
}

// A crash after the policy was written but before the journal recorded the apply: the resumed
// apply finds its own deny in place and says "changed": false. Rollback must still put back the
// journaled original (the first capture), for the bucket and for an object.
TEST_F(S3RollbackPolicy, ResumedApplyThatFoundItsOwnDenyStillRollsBackToTheOriginal) {
  create_bucket(*client_, "pol-b");
  put_object(*client_, "pol-b", "one.csv");
  for (const std::string target : {"arn:aws:s3:::pol-b", "arn:aws:s3:::pol-b/one.csv"}) {
    SCOPED_TRACE(target);
    put_policy("pol-b", kOwner);
    Env env(*client_, target);
    TargetPlan plan = planned(env);
    const Step* deny = nullptr;
    for (const Step& s : plan.steps)
      if (s.id == s3::kStepDenyPolicy || s.id == s3::kStepObjectDeny) deny = &s;
    ASSERT_NE(deny, nullptr);
    auto before = family_.capture(*env.ctx, *deny);  // journaled before the first apply
    ASSERT_TRUE(before.ok()) << before.error().describe();
    ASSERT_TRUE(family_.apply(*env.ctx, *deny, *before).ok());  // the process dies here
    auto resumed = family_.apply(*env.ctx, *deny, *before);     // apply --resume
    ASSERT_TRUE(resumed.ok()) << resumed.error().describe();
    ASSERT_TRUE(family_.rollback(*env.ctx, *deny, *before, *resumed, {}).ok());
    EXPECT_EQ(policy_text("pol-b"), kOwner);
    EXPECT_TRUE(family_.verify_rollback(*env.ctx, *deny, *before, {}).ok());
  }
}

TEST_F(S3RollbackPolicy, ADecoyNamedLikeOurStatementIsNotContainmentAndComesBack) {
  create_bucket(*client_, "pol-b");
  put_object(*client_, "pol-b", "one.csv");
  // The attacker's statements carry containctl's Sids but allow.
  const std::string sid = s3::object_deny_sid("one.csv");
  const std::string decoy =
      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"" + sid +
      "\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::pol-b/one.csv\"},"
      "{\"Sid\":\"" + std::string(s3::kBucketDenySid) +
      "\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::pol-b\","
      "\"arn:aws:s3:::pol-b/*\"]}]}";
  put_policy("pol-b", decoy);

  Env object(*client_, "arn:aws:s3:::pol-b/one.csv");
  TargetPlan op = planned(object);
  EXPECT_FALSE(op.already_contained) << op.note;
  ASSERT_FALSE(op.steps.empty());
  EXPECT_EQ(op.steps.back().id, s3::kStepObjectDeny);
  auto done = apply_plan(family_, *object.ctx, op);
  ASSERT_EQ(done.size(), op.steps.size());
  auto doc = s3::parse_policy(policy_text("pol-b"));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(s3::find_statement(*doc, sid)["Effect"], "Deny");
  rollback_plan(family_, *object.ctx, done);
  EXPECT_EQ(policy_text("pol-b"), decoy) << "the decoy is the before-state rollback restores";

  Env bucket(*client_, "arn:aws:s3:::pol-b");
  TargetPlan bp = planned(bucket);
  EXPECT_FALSE(bp.already_contained) << bp.note;
  ASSERT_FALSE(bp.steps.empty());
  EXPECT_EQ(bp.steps[0].id, s3::kStepDenyPolicy);
  auto bdone = apply_plan(family_, *bucket.ctx, bp);
  ASSERT_EQ(bdone.size(), bp.steps.size());
  rollback_plan(family_, *bucket.ctx, bdone);
  EXPECT_EQ(policy_text("pol-b"), decoy);
}

TEST_F(S3RollbackPolicy, OurDenyUnderAnotherSidCountsAsContainment) {
  // What matters is what a statement does, not its name.
  create_bucket(*client_, "pol-b");
  Env bucket(*client_, "arn:aws:s3:::pol-b");
  auto done = apply_plan(family_, *bucket.ctx, planned(bucket));
  ASSERT_FALSE(done.empty());
  std::string text = policy_text("pol-b");
  const std::string sid = s3::kBucketDenySid;
  text.replace(text.find(sid), sid.size(), "RenamedByTheOwner");
  put_policy("pol-b", text);
  TargetPlan again = planned(bucket);
  EXPECT_TRUE(again.already_contained) << again.note;
}

TEST_F(S3RollbackPolicy, AKeyThatIsNotUtf8IsAClearErrorNotACrash) {
  create_bucket(*client_, "pol-b");
  Env object(*client_, "arn:aws:s3:::pol-b/bad\xff" "key");
  auto d = family_.discover(*object.ctx);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "InvalidObjectKey");
  EXPECT_NE(d.error().message.find("not valid UTF-8"), std::string::npos) << d.error().message;
  // And the pure merge refuses instead of throwing.
  auto st = s3::object_deny_statement("aws", "pol-b", "bad\xff", {"arn:aws:iam::123456789012:role/R"}, true).value();
  auto merged = s3::with_statement("", st);
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.error().code, "InvalidUtf8");
  EXPECT_EQ(policy_text("pol-b"), "");
}

TEST(S3StepArgs, AHandEditedStepIsRefusedNamingTheFieldAndNothingThrows) {
  s3::S3ContainFamily family;
  Step ok;
  ok.id = s3::kStepObjectDeny;
  ok.args = {{"bucket", "pol-b"}, {"region", "us-east-1"}, {"partition", "aws"}, {"key", "one.csv"}};
  ok.args["statement"] = json::parse(
      s3::object_deny_statement("aws", "pol-b", "one.csv", {"arn:aws:iam::123456789012:role/R"}, true).value().dump());
  ASSERT_TRUE(family.check_step(ok).ok()) << family.check_step(ok).error().describe();
  auto refused = [&](Step s, const std::string& field) {
    Status st = family.check_step(s);
    ASSERT_FALSE(st.ok()) << field;
    EXPECT_NE(st.error().message.find(field), std::string::npos) << st.error().message;
  };
  Step s = ok;
  s.args.erase("bucket");
  refused(s, "args.bucket");
  s = ok;
  s.args["region"] = 7;
  refused(s, "args.region");
  s = ok;
  s.args["statement"] = "not an object";
  refused(s, "args.statement");
  s = ok;
  s.args["statement"]["Sid"] = "ContainctlDenyObjectOfAnotherKey";
  refused(s, "args.statement.Sid");
  s = ok;
  s.args["key"] = "bad\xff";
  refused(s, "not valid UTF-8");
  s = ok;
  s.id = "delete-bucket";
  refused(s, "no step 'delete-bucket'");
  s = ok;
  s.id = s3::kStepDenyPolicy;
  s.args["policy"] = "{}";
  s.args["sid"] = s3::kBucketDenySid;
  refused(s, "args.policy");
  // The family's entry points refuse the same step instead of throwing.
  aws::AwsClient client{aws::ClientConfig{}};  // never called
  Env env(client, "arn:aws:s3:::pol-b/one.csv");
  s = ok;
  s.args["bucket"] = json::array();
  auto cap = family.capture(*env.ctx, s);
  ASSERT_FALSE(cap.ok());
  EXPECT_NE(cap.error().message.find("args.bucket"), std::string::npos) << cap.error().message;
}

}  // namespace
}  // namespace containctl::actions::s3test
