// s3-contain on whole buckets, against moto: discovery, plan, containment, idempotence, the
// already-contained case, and rollback back to the exact recorded state.
#include <gtest/gtest.h>

#include "actions/s3_policy.h"
#include "tests/actions/s3_test_util.h"

namespace containctl::actions::s3test {
namespace {

class S3Bucket : public ::testing::Test {
 protected:
  void SetUp() override {
    moto().reset();
    client_ = tool_client(moto());
  }
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }
  std::unique_ptr<aws::AwsClient> client_;
  s3::S3ContainFamily family_;
};

TEST_F(S3Bucket, NoPolicyNoPabWithAclGrantsContainsAndRestoresExactly) {
  aws::AwsClient& c = *client_;
  create_bucket(c, "evidence-open");
  must(s3_raw(c, "us-east-1", "PutBucketAcl", "PUT", "evidence-open", "", {{"acl", ""}}, "", {{"x-amz-acl", "public-read"}}),
       "PutBucketAcl");
  must(s3_raw(c, "us-east-1", "PutBucketTagging", "PUT", "evidence-open", "", {{"tagging", ""}},
              xml_tags({{"env", "prod"}, {"team", "data"}})),
       "PutBucketTagging");
  BucketState original = read_state(c, "evidence-open", "us-east-1");
  ASSERT_EQ(original.policy_status, 404);
  ASSERT_EQ(original.pab_status, 404);
  ASSERT_EQ(original.ownership_status, 404);
  ASSERT_EQ(original.acl["grants"].size(), 2u);

  Env env(c, "arn:aws:s3:::evidence-open", {"arn:aws:iam::123456789012:role/IncidentResponder"});
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  EXPECT_EQ((*d)["region"], "us-east-1");
  EXPECT_FALSE((*d)["policy"]["present"].get<bool>());
  EXPECT_FALSE((*d)["public_access_block"]["present"].get<bool>());
  EXPECT_FALSE((*d)["ownership"]["present"].get<bool>());
  EXPECT_EQ((*d)["bucket_acl"]["grants"].size(), 2u);
  EXPECT_EQ((*d)["tags"]["tags"].size(), 2u);
  EXPECT_TRUE((*d)["account_public_access_block"]["readable"].get<bool>());

  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_FALSE(plan->already_contained);
  EXPECT_EQ(step_ids(*plan),
            (std::vector<std::string>{"deny-policy", "disable-acls", "block-public-access", "tag-bucket"}));
  // One chain so rollback relaxes Block Public Access before the ACL and the policy come back.
  EXPECT_EQ(plan->steps[1].depends_on, std::vector<std::string>{"deny-policy"});
  EXPECT_EQ(plan->steps[2].depends_on, std::vector<std::string>{"disable-acls"});
  EXPECT_TRUE(plan->steps[3].depends_on.empty());
  // The tag is cosmetic: the executor runs it last and a refused PutBucketTagging blocks nothing.
  EXPECT_TRUE(plan->steps[3].cosmetic);
  EXPECT_FALSE(plan->steps[0].cosmetic || plan->steps[1].cosmetic || plan->steps[2].cosmetic);
  EXPECT_EQ(plan->steps[1].calls.front().operation, "PutBucketAcl");  // the ACL must be private first
  EXPECT_TRUE(any_contains(plan->warnings, "Presigned URLs"));
  EXPECT_TRUE(any_contains(plan->warnings, "Access points"));
  EXPECT_TRUE(any_contains(plan->warnings, "Account-level Block Public Access is reported, not changed"));
  EXPECT_TRUE(any_contains(plan->warnings, "already issued to allow-listed principals"));
  for (const auto& s : plan->steps) EXPECT_EQ(s.args["region"], "us-east-1");

  auto done = apply_plan(family_, *env.ctx, *plan);
  ASSERT_EQ(done.size(), 4u);

  // The contained state, read with raw calls.
  BucketState contained = read_state(c, "evidence-open", "us-east-1");
  ASSERT_EQ(contained.policy_status, 200);
  auto doc = s3::parse_policy(contained.policy);
  ASSERT_TRUE(doc.ok());
  auto st = s3::find_statement(*doc, s3::kBucketDenySid);
  ASSERT_FALSE(st.is_null());
  EXPECT_EQ(st["Effect"], "Deny");
  EXPECT_EQ(st["Principal"], "*");
  EXPECT_EQ(st["Action"], "s3:*");
  EXPECT_EQ(st["Resource"], (s3::ordered_json{"arn:aws:s3:::evidence-open", "arn:aws:s3:::evidence-open/*"}));
  auto allowed = st["Condition"]["ArnNotLike"]["aws:PrincipalArn"];
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "arn:aws:iam::123456789012:role/IncidentResponder"), allowed.end());
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "arn:aws:iam::123456789012:user/containctl-tool"), allowed.end());
  EXPECT_NE(contained.pab.find("<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
                               "<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true"),
            std::string::npos);
  EXPECT_NE(contained.ownership.find("BucketOwnerEnforced"), std::string::npos);
  EXPECT_TRUE(s3::acl_is_private(contained.acl));
  EXPECT_EQ(contained.tags["tags"].size(), 3u);
  EXPECT_TRUE(s3::same_tags(contained.tags, json{{"tags", {{{"Key", "env"}, {"Value", "prod"}},
                                                           {{"Key", "team"}, {"Value", "data"}},
                                                           {{"Key", "containctl:contained-by-run"}, {"Value", "run-test-1"}}}}}));

  // The tool's own client is not locked out of the policy it must later put back.
  s3::Where w{"evidence-open", "us-east-1", ""};
  auto own_read = s3::get_policy(c, w);
  ASSERT_TRUE(own_read.ok()) << own_read.error().describe();
  EXPECT_TRUE(s3::put_policy(c, w, (*own_read)["text"].get<std::string>()).ok());

  // Re-applying (a resumed run) changes nothing.
  for (const auto& a : done) {
    auto again = family_.apply(*env.ctx, a.step, a.before);
    ASSERT_TRUE(again.ok()) << a.step.id;
    EXPECT_FALSE((*again)["changed"].get<bool>()) << a.step.id;
  }
  BucketState after_reapply = read_state(c, "evidence-open", "us-east-1");
  EXPECT_EQ(after_reapply.policy, contained.policy);

  // Already contained: the plan says so and has no steps.
  auto d2 = family_.discover(*env.ctx);
  ASSERT_TRUE(d2.ok()) << d2.error().describe();
  auto plan2 = family_.plan(*env.ctx, *d2);
  ASSERT_TRUE(plan2.ok());
  EXPECT_TRUE(plan2->already_contained);
  EXPECT_TRUE(plan2->steps.empty());
  EXPECT_NE(plan2->note.find("already contained"), std::string::npos);
  EXPECT_NE(plan2->note.find("run-test-1"), std::string::npos);

  rollback_plan(family_, *env.ctx, done);
  expect_same_state(read_state(c, "evidence-open", "us-east-1"), original);
  // Rolling back twice is safe.
  rollback_plan(family_, *env.ctx, done);
  expect_same_state(read_state(c, "evidence-open", "us-east-1"), original);
}

TEST_F(S3Bucket, PolicyTextAndPartialPabComeBackByteForByte) {
  aws::AwsClient& c = *client_;
  create_bucket(c, "evidence-policy");
  // Odd spacing, key order and a trailing newline: rollback must not re-serialise it.
  const std::string policy =
      "{\n  \"Version\":\"2012-10-17\",\n   \"Statement\": [{\"Sid\":\"ReadForAnalytics\", \"Effect\":\"Allow\","
      "\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:role/Analytics\"},\"Action\":[\"s3:GetObject\"],"
      "\"Resource\":\"arn:aws:s3:::evidence-policy/*\"}]}\n";
  must(s3_raw(c, "us-east-1", "PutBucketPolicy", "PUT", "evidence-policy", "", {{"policy", ""}}, policy), "policy");
  must(s3_raw(c, "us-east-1", "PutPublicAccessBlock", "PUT", "evidence-policy", "", {{"publicAccessBlock", ""}},
              xml_pab(true, false, false, false)),
       "pab");
  must(s3_raw(c, "us-east-1", "PutBucketOwnershipControls", "PUT", "evidence-policy", "", {{"ownershipControls", ""}},
              "<OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ObjectOwnership>ObjectWriter"
              "</ObjectOwnership></Rule></OwnershipControls>"),
       "ownership");
  BucketState original = read_state(c, "evidence-policy", "us-east-1");
  ASSERT_EQ(original.policy, policy);
  ASSERT_EQ(original.tags["present"], false);

  Env env(c, "arn:aws:s3:::evidence-policy", {}, "arn:aws:sts::123456789012:assumed-role/Responder/alice");
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  EXPECT_EQ((*d)["policy"]["text"], policy);
  EXPECT_TRUE((*d)["public_access_block"]["BlockPublicAcls"].get<bool>());
  EXPECT_FALSE((*d)["public_access_block"]["IgnorePublicAcls"].get<bool>());
  EXPECT_EQ((*d)["ownership"]["object_ownership"], "ObjectWriter");
  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_EQ(plan->steps.size(), 4u);
  EXPECT_EQ(plan->steps[0].before["policy"], policy);
  // The assumed-role caller is allowed as its role, with and without a path.
  auto allowed = plan->steps[0].after["allowed_principal_arns"];
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "arn:aws:iam::123456789012:role/Responder"), allowed.end());
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "arn:aws:iam::123456789012:role/*/Responder"), allowed.end());
  for (const auto& a : allowed) EXPECT_EQ(a.get<std::string>().find("assumed-role"), std::string::npos);

  auto done = apply_plan(family_, *env.ctx, *plan);
  ASSERT_EQ(done.size(), 4u);
  EXPECT_EQ(done[0].before["policy"]["text"], policy);
  EXPECT_NE(read_state(c, "evidence-policy", "us-east-1").policy, policy);

  rollback_plan(family_, *env.ctx, done);
  BucketState back = read_state(c, "evidence-policy", "us-east-1");
  EXPECT_EQ(back.policy, policy);
  expect_same_state(back, original);
}

TEST_F(S3Bucket, RollbackAfterDeathMidApplyRestoresFromCapture) {
  aws::AwsClient& c = *client_;
  create_bucket(c, "evidence-crash");
  Env env(c, "arn:aws:s3:::evidence-crash");
  BucketState original = read_state(c, "evidence-crash", "us-east-1");
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok());
  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_TRUE(plan.ok());
  // The process died after capture + apply but before journaling `applied`: applied is null.
  std::vector<AppliedStep> done;
  for (const auto& s : plan->steps) {
    auto before = family_.capture(*env.ctx, s);
    ASSERT_TRUE(before.ok());
    ASSERT_TRUE(family_.apply(*env.ctx, s, *before).ok());
    done.push_back({s, *before, nullptr});
  }
  rollback_plan(family_, *env.ctx, done);
  expect_same_state(read_state(c, "evidence-crash", "us-east-1"), original);
}

TEST_F(S3Bucket, PlanWithoutRunIdTagsWithTheApplyTimeRunId) {
  aws::AwsClient& c = *client_;
  create_bucket(c, "evidence-runid");
  Env env(c, "arn:aws:s3:::evidence-runid");
  env.ctx->run_id = "";  // `plan` has no run yet
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok());
  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->steps.back().id, "tag-bucket");
  EXPECT_NE(plan->steps.back().description.find("<run id>"), std::string::npos);
  env.ctx->run_id = "run-20261123-apply";  // `apply`, another process, knows it
  auto done = apply_plan(family_, *env.ctx, *plan);
  ASSERT_EQ(done.size(), plan->steps.size());
  auto tags = s3::get_tags(c, {"evidence-runid", "us-east-1", ""});
  ASSERT_TRUE(tags.ok());
  EXPECT_TRUE(s3::same_tags(*tags, json{{"tags", {{{"Key", s3::kRunTagKey}, {"Value", "run-20261123-apply"}}}}}));
  rollback_plan(family_, *env.ctx, done);
  EXPECT_FALSE((*s3::get_tags(c, {"evidence-runid", "us-east-1", ""}))["present"].get<bool>());
}

TEST_F(S3Bucket, UnknownBucketIsAnErrorNamingIt) {
  Env env(*client_, "arn:aws:s3:::no-such-evidence-bucket");
  auto d = family_.discover(*env.ctx);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "NoSuchBucket");
  EXPECT_NE(d.error().message.find("no-such-evidence-bucket"), std::string::npos) << d.error().message;
}

TEST_F(S3Bucket, BadAllowListEntryIsRefusedAtPlanTime) {
  create_bucket(*client_, "evidence-allow");
  Env env(*client_, "arn:aws:s3:::evidence-allow", {"arn:aws:iam::123456789012:role/*"});
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok());
  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("arn:aws:iam::123456789012:role/*"), std::string::npos);
  EXPECT_EQ(read_state(*client_, "evidence-allow", "us-east-1").policy_status, 404);  // nothing changed
}

}  // namespace
}  // namespace containctl::actions::s3test
