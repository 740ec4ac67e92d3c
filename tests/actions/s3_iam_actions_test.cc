// Every call s3-contain makes (discover, capture, apply, verify, rollback, verify_rollback) maps to
// an entry of iam_actions(), and every entry is used. The StackSet's least-privilege role is built
// from that list, so a missing entry is an AccessDenied in production.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "tests/actions/s3_test_util.h"

namespace containctl::actions::s3test {
namespace {

// API operation -> IAM action, written out (S3 Authorization Reference, "Actions defined by
// Amazon S3"): several operations have an action of a different name.
const std::map<std::pair<std::string, std::string>, std::string> kOperationToAction = {
    {{"s3", "GetBucketLocation"}, "s3:GetBucketLocation"},
    {{"s3", "GetBucketPolicy"}, "s3:GetBucketPolicy"},
    {{"s3", "PutBucketPolicy"}, "s3:PutBucketPolicy"},
    {{"s3", "DeleteBucketPolicy"}, "s3:DeleteBucketPolicy"},
    {{"s3", "GetPublicAccessBlock"}, "s3:GetBucketPublicAccessBlock"},
    {{"s3", "PutPublicAccessBlock"}, "s3:PutBucketPublicAccessBlock"},
    {{"s3", "DeletePublicAccessBlock"}, "s3:PutBucketPublicAccessBlock"},
    {{"s3", "GetBucketOwnershipControls"}, "s3:GetBucketOwnershipControls"},
    {{"s3", "PutBucketOwnershipControls"}, "s3:PutBucketOwnershipControls"},
    {{"s3", "DeleteBucketOwnershipControls"}, "s3:PutBucketOwnershipControls"},
    {{"s3", "GetBucketAcl"}, "s3:GetBucketAcl"},
    {{"s3", "PutBucketAcl"}, "s3:PutBucketAcl"},
    {{"s3", "GetObjectAcl"}, "s3:GetObjectAcl"},
    {{"s3", "PutObjectAcl"}, "s3:PutObjectAcl"},
    {{"s3", "GetBucketTagging"}, "s3:GetBucketTagging"},
    {{"s3", "PutBucketTagging"}, "s3:PutBucketTagging"},
    {{"s3", "DeleteBucketTagging"}, "s3:PutBucketTagging"},
    {{"s3", "GetBucketReplication"}, "s3:GetReplicationConfiguration"},
    {{"s3control", "GetPublicAccessBlock"}, "s3:GetAccountPublicAccessBlock"},
    {{"sts", "GetCallerIdentity"}, "sts:GetCallerIdentity"},
};

TEST(S3IamActions, EveryCallIsListedAndEveryListedActionIsUsed) {
  auto& moto = testing::MotoServer::shared();
  moto.reset();
  auto setup = tool_client(moto);
  std::mutex mu;
  std::set<std::pair<std::string, std::string>> seen;
  aws::ClientConfig cfg = setup->config();
  cfg.observer = [&](const aws::CallRecord& r) {
    std::lock_guard lock(mu);
    seen.insert({r.service, r.operation});
  };
  aws::AwsClient observed(cfg);
  s3::S3ContainFamily family;

  // A bucket with nothing configured: rollback deletes what containment created
  // (DeleteBucketPolicy, DeletePublicAccessBlock, DeleteBucketOwnershipControls, DeleteBucketTagging)
  // and puts the public ACL back (PutBucketAcl).
  create_bucket(*setup, "iam-bare");
  must(s3_raw(*setup, "us-east-1", "PutBucketAcl", "PUT", "iam-bare", "", {{"acl", ""}}, "", {{"x-amz-acl", "public-read"}}),
       "acl");
  // An object with a public ACL (PutObjectAcl back on rollback).
  create_bucket(*setup, "iam-objects");
  put_object(*setup, "iam-objects", "k.txt");
  must(s3_raw(*setup, "us-east-1", "PutObjectAcl", "PUT", "iam-objects", "k.txt", {{"acl", ""}}, "",
              {{"x-amz-acl", "public-read"}}),
       "object acl");

  for (std::string arn : {"arn:aws:s3:::iam-bare", "arn:aws:s3:::iam-objects/k.txt"}) {
    Env env(observed, arn);
    auto d = family.discover(*env.ctx);
    ASSERT_TRUE(d.ok()) << arn << ": " << d.error().describe();
    auto plan = family.plan(*env.ctx, *d);
    ASSERT_TRUE(plan.ok()) << arn;
    ASSERT_FALSE(plan->steps.empty()) << arn;
    auto done = apply_plan(family, *env.ctx, *plan);
    ASSERT_EQ(done.size(), plan->steps.size()) << arn;
    rollback_plan(family, *env.ctx, done);
  }

  const auto listed = family.iam_actions();
  std::set<std::string> used;
  for (const auto& call : seen) {
    auto it = kOperationToAction.find(call);
    ASSERT_NE(it, kOperationToAction.end()) << "no IAM action written down for " << call.first << " " << call.second;
    EXPECT_NE(std::find(listed.begin(), listed.end(), it->second), listed.end())
        << call.first << " " << call.second << " needs " << it->second << ", which iam_actions() does not list";
    used.insert(it->second);
  }
  for (const auto& action : listed) EXPECT_TRUE(used.count(action)) << action << " is listed but never called";
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()).size(), listed.size()) << "duplicates";
}

}  // namespace
}  // namespace containctl::actions::s3test
