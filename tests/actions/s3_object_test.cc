// s3-contain on objects, on a bucket in another region and on a bucket in a member account,
// against moto.
#include <gtest/gtest.h>

#include <mutex>

#include "actions/s3_policy.h"
#include "aws/assume_role.h"
#include "tests/actions/s3_test_util.h"

namespace containctl::actions::s3test {
namespace {

class S3Object : public ::testing::Test {
 protected:
  void SetUp() override {
    moto().reset();
    client_ = tool_client(moto());
  }
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }
  std::unique_ptr<aws::AwsClient> client_;
  s3::S3ContainFamily family_;
};

int get_object_status(aws::AwsClient& c, const std::string& bucket, const std::string& key) {
  auto r = s3_raw(c, "us-east-1", "GetObject", "GET", bucket, key, {});
  return r.ok() ? r->status : r.error().http_status;
}

TEST_F(S3Object, DenyIsAddedToTheOwnersPolicyAndRemovedExactly) {
  aws::AwsClient& c = *client_;
  create_bucket(c, "evidence-objects");
  put_object(c, "evidence-objects", "dir/leak 1.csv");
  put_object(c, "evidence-objects", "dir/other.csv");
  must(s3_raw(c, "us-east-1", "PutObjectAcl", "PUT", "evidence-objects", "dir/leak 1.csv", {{"acl", ""}}, "",
              {{"x-amz-acl", "public-read"}}),
       "PutObjectAcl");
  const std::string policy =
      "{\"Version\": \"2012-10-17\", \"Statement\": {\"Sid\": \"Analytics\", \"Effect\": \"Allow\", \"Principal\": "
      "{\"AWS\": \"arn:aws:iam::123456789012:role/Analytics\"}, \"Action\": \"s3:GetObject\", \"Resource\": "
      "\"arn:aws:s3:::evidence-objects/*\"}}";
  must(s3_raw(c, "us-east-1", "PutBucketPolicy", "PUT", "evidence-objects", "", {{"policy", ""}}, policy), "policy");
  s3::Where ow{"evidence-objects", "us-east-1", "dir/leak 1.csv"};
  auto acl_before = s3::get_acl(c, ow, true);
  ASSERT_TRUE(acl_before.ok());
  ASSERT_FALSE(s3::acl_is_private(*acl_before));
  ASSERT_EQ(get_object_status(c, "evidence-objects", "dir/leak 1.csv"), 200);

  Env env(c, "arn:aws:s3:::evidence-objects/dir/leak 1.csv", {"arn:aws:iam::123456789012:role/IncidentResponder"});
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  EXPECT_EQ((*d)["key"], "dir/leak 1.csv");
  EXPECT_TRUE((*d).contains("object_acl"));
  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_EQ(step_ids(*plan), (std::vector<std::string>{"object-acl-private", "object-deny"}));
  EXPECT_EQ(plan->steps[1].depends_on, std::vector<std::string>{"object-acl-private"});
  EXPECT_TRUE(any_contains(plan->warnings, "not changed"));

  auto done = apply_plan(family_, *env.ctx, *plan);
  ASSERT_EQ(done.size(), 2u);
  auto now = s3::get_policy(c, {"evidence-objects", "us-east-1", ""});
  ASSERT_TRUE(now.ok());
  auto doc = s3::parse_policy((*now)["text"]);
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ((*doc)["Statement"].size(), 2u);
  EXPECT_EQ((*doc)["Statement"][0]["Sid"], "Analytics");  // the owner's statement stays
  auto ours = s3::find_statement(*doc, s3::object_deny_sid("dir/leak 1.csv"));
  ASSERT_FALSE(ours.is_null());
  EXPECT_EQ(ours["Resource"], "arn:aws:s3:::evidence-objects/dir/leak 1.csv");
  EXPECT_EQ(ours["Effect"], "Deny");
  // moto evaluates object-level Deny statements for GetObject (ignoring the condition): the deny
  // covers exactly this object.
  EXPECT_EQ(get_object_status(c, "evidence-objects", "dir/leak 1.csv"), 403);
  EXPECT_EQ(get_object_status(c, "evidence-objects", "dir/other.csv"), 200);

  // Re-applying keeps one statement (fixed Sid), not two.
  auto again = family_.apply(*env.ctx, done[1].step, done[1].before);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)["changed"].get<bool>());
  auto still = s3::get_policy(c, {"evidence-objects", "us-east-1", ""});
  EXPECT_EQ((*still)["text"], (*now)["text"]);

  rollback_plan(family_, *env.ctx, done);
  auto back = s3::get_policy(c, {"evidence-objects", "us-east-1", ""});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)["text"], policy);  // byte for byte
  EXPECT_EQ(get_object_status(c, "evidence-objects", "dir/leak 1.csv"), 200);
  auto acl_after = s3::get_acl(c, ow, true);
  ASSERT_TRUE(acl_after.ok());
  EXPECT_TRUE(s3::same_acl(*acl_after, *acl_before)) << acl_after->dump();
}

TEST_F(S3Object, ObjectInBucketWithoutPolicyGetsItDeletedOnRollback) {
  aws::AwsClient& c = *client_;
  create_bucket(c, "evidence-nopolicy");
  put_object(c, "evidence-nopolicy", "report.txt");
  Env env(c, "arn:aws:s3:::evidence-nopolicy/report.txt");
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_TRUE(plan.ok());
  auto done = apply_plan(family_, *env.ctx, *plan);
  ASSERT_FALSE(done.empty());
  EXPECT_EQ(get_object_status(c, "evidence-nopolicy", "report.txt"), 403);
  rollback_plan(family_, *env.ctx, done);
  EXPECT_EQ(read_state(c, "evidence-nopolicy", "us-east-1").policy_status, 404);
  EXPECT_EQ(get_object_status(c, "evidence-nopolicy", "report.txt"), 200);
}

TEST_F(S3Object, UnknownObjectIsAnErrorNamingIt) {
  create_bucket(*client_, "evidence-empty");
  Env env(*client_, "arn:aws:s3:::evidence-empty/missing.txt");
  auto d = family_.discover(*env.ctx);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "NoSuchKey");
  EXPECT_NE(d.error().message.find("evidence-empty/missing.txt"), std::string::npos) << d.error().message;
}

TEST_F(S3Object, BucketInAnotherRegionIsAddressedInItsRegion) {
  std::mutex mu;
  std::vector<aws::CallRecord> calls;
  aws::ClientConfig cfg = client_->config();
  cfg.observer = [&](const aws::CallRecord& r) {
    std::lock_guard lock(mu);
    calls.push_back(r);
  };
  aws::AwsClient c(cfg);
  create_bucket(*client_, "evidence-dublin", "eu-west-1");
  must(s3_raw(*client_, "eu-west-1", "PutBucketTagging", "PUT", "evidence-dublin", "", {{"tagging", ""}},
              xml_tags({{"owner", "data-eng"}}), {}),
       "tags");
  BucketState original = read_state(*client_, "evidence-dublin", "eu-west-1");

  Env env(c, "arn:aws:s3:::evidence-dublin");  // the caller's region is us-east-1
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  EXPECT_EQ((*d)["region"], "eu-west-1");
  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->target.region, "eu-west-1");
  for (const auto& s : plan->steps) EXPECT_EQ(s.args["region"], "eu-west-1") << s.id;
  auto done = apply_plan(family_, *env.ctx, *plan);
  ASSERT_EQ(done.size(), plan->steps.size());
  rollback_plan(family_, *env.ctx, done);
  expect_same_state(read_state(*client_, "evidence-dublin", "eu-west-1"), original);

  // Only the region lookup and the identity lookup use the caller's region.
  for (const auto& r : calls) {
    if (r.operation == "GetBucketLocation" || r.operation == "GetCallerIdentity") continue;
    EXPECT_EQ(r.region, "eu-west-1") << r.service << " " << r.operation;
  }
}

TEST_F(S3Object, BucketInAMemberAccount) {
  auto creds = aws::assume_role(*client_, {"arn:aws:iam::222222222222:role/ContainctlContainment", "222222222222",
                                           "containctl", 3600, "us-east-1"});
  ASSERT_TRUE(creds.ok()) << creds.error().describe();
  aws::ClientConfig cfg = moto().client(*creds)->config();
  cfg.account_id = "222222222222";  // S3 Control's x-amz-account-id
  aws::AwsClient member(cfg);
  create_bucket(member, "evidence-member");
  const std::string policy = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
  must(s3_raw(member, "us-east-1", "PutBucketPolicy", "PUT", "evidence-member", "", {{"policy", ""}}, policy), "policy");
  BucketState original = read_state(member, "evidence-member", "us-east-1");

  // The tool runs as a user in the management account; ctx.client acts as the member role.
  Env env(member, "arn:aws:s3:::evidence-member");
  auto d = family_.discover(*env.ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  const std::string acting = (*d)["acting_identity"];
  EXPECT_EQ(acting.rfind("arn:aws:sts::222222222222:assumed-role/ContainctlContainment/", 0), 0u) << acting;
  auto plan = family_.plan(*env.ctx, *d);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  // The member role that will run the rollback is allowed, not only the management caller.
  auto allowed = plan->steps[0].after["allowed_principal_arns"];
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), "arn:aws:iam::222222222222:role/ContainctlContainment"),
            allowed.end());
  auto done = apply_plan(family_, *env.ctx, *plan);
  ASSERT_EQ(done.size(), plan->steps.size());
  rollback_plan(family_, *env.ctx, done);
  BucketState back = read_state(member, "evidence-member", "us-east-1");
  EXPECT_EQ(back.policy, policy);
  expect_same_state(back, original);
}

}  // namespace
}  // namespace containctl::actions::s3test
