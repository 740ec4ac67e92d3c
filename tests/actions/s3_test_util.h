// Helpers for the s3-contain tests: raw S3 setup calls (independent of the family's own helpers),
// a context builder, and an executor stand-in that runs a plan the way the orchestrator does
// (capture -> apply -> verify per step; rollback + verify_rollback in reverse).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "actions/s3_api.h"
#include "actions/s3_contain.h"
#include "actions/target.h"
#include "aws/clock.h"
#include "tests/support/moto_server.h"

namespace containctl::actions::s3test {

using nlohmann::json;

// One raw S3 request; fails the test on an error unless `may_fail`.
inline Result<aws::HttpResponse> s3_raw(aws::AwsClient& c, const std::string& region, const std::string& op,
                                        const std::string& method, const std::string& bucket, const std::string& key,
                                        aws::Params query, std::string body = "", std::vector<aws::Header> headers = {}) {
  aws::RestRequest r;
  r.operation = op;
  r.method = method;
  r.bucket = bucket;
  r.key = key;
  r.query = std::move(query);
  r.body = std::move(body);
  r.headers = std::move(headers);
  if (method == "PUT" && !r.query.empty()) r.headers.push_back({"Content-MD5", s3::content_md5(r.body)});
  return c.rest_xml("s3", region, r);
}

inline void must(const Result<aws::HttpResponse>& r, const std::string& what) {
  ASSERT_TRUE(r.ok()) << what << ": " << r.error().describe();
}

inline void create_bucket(aws::AwsClient& c, const std::string& bucket, const std::string& region = "us-east-1") {
  std::string body;
  if (region != "us-east-1")
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" + region +
           "</LocationConstraint></CreateBucketConfiguration>";
  must(s3_raw(c, region, "CreateBucket", "PUT", bucket, "", {}, body), "CreateBucket " + bucket);
}

inline void put_object(aws::AwsClient& c, const std::string& bucket, const std::string& key, const std::string& region = "us-east-1") {
  must(s3_raw(c, region, "PutObject", "PUT", bucket, key, {}, "evidence"), "PutObject " + key);
}

inline std::string xml_tags(const std::vector<std::pair<std::string, std::string>>& tags) {
  std::string x = "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>";
  for (const auto& [k, v] : tags) x += "<Tag><Key>" + k + "</Key><Value>" + v + "</Value></Tag>";
  return x + "</TagSet></Tagging>";
}

inline std::string xml_pab(bool a, bool b, bool c, bool d) {
  auto v = [](bool x) { return x ? "true" : "false"; };
  return std::string("<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><BlockPublicAcls>") +
         v(a) + "</BlockPublicAcls><IgnorePublicAcls>" + v(b) + "</IgnorePublicAcls><BlockPublicPolicy>" + v(c) +
         "</BlockPublicPolicy><RestrictPublicBuckets>" + v(d) + "</RestrictPublicBuckets></PublicAccessBlockConfiguration>";
}

// Everything rollback must put back, read with raw calls: policy text, PAB, ownership, ACL, tags.
struct BucketState {
  int policy_status = 0;
  std::string policy;  // exact bytes
  int pab_status = 0;
  std::string pab;
  int ownership_status = 0;
  std::string ownership;
  json acl;
  json tags;
};

inline BucketState read_state(aws::AwsClient& c, const std::string& bucket, const std::string& region) {
  BucketState s;
  auto get = [&](const char* op, const char* sub, int& status, std::string& body) {
    auto r = s3_raw(c, region, op, "GET", bucket, "", {{sub, ""}});
    status = r.ok() ? r->status : r.error().http_status;
    body = r.ok() ? r->body : r.error().code;
  };
  get("GetBucketPolicy", "policy", s.policy_status, s.policy);
  get("GetPublicAccessBlock", "publicAccessBlock", s.pab_status, s.pab);
  get("GetBucketOwnershipControls", "ownershipControls", s.ownership_status, s.ownership);
  s3::Where w{bucket, region, ""};
  auto acl = s3::get_acl(c, w, false);
  EXPECT_TRUE(acl.ok());
  if (acl.ok()) s.acl = *acl;
  auto tags = s3::get_tags(c, w);
  EXPECT_TRUE(tags.ok());
  if (tags.ok()) s.tags = *tags;
  return s;
}

inline void expect_same_state(const BucketState& a, const BucketState& b) {
  EXPECT_EQ(a.policy_status, b.policy_status);
  EXPECT_EQ(a.policy, b.policy);  // byte for byte
  EXPECT_EQ(a.pab_status, b.pab_status);
  EXPECT_EQ(a.pab, b.pab);
  EXPECT_EQ(a.ownership_status, b.ownership_status);
  EXPECT_EQ(a.ownership, b.ownership);
  EXPECT_TRUE(s3::same_acl(a.acl, b.acl)) << a.acl.dump() << "\nvs\n" << b.acl.dump();
  EXPECT_TRUE(s3::same_tags(a.tags, b.tags)) << a.tags.dump() << "\nvs\n" << b.tags.dump();
}

// A client signing as an IAM user. moto answers GetCallerIdentity for its default "testing" key
// with arn:aws:sts::123456789012:user/moto, a form AWS never returns and the allow-list rightly
// refuses; a real user's key gets the AWS form arn:aws:iam::123456789012:user/NAME.
inline std::unique_ptr<aws::AwsClient> tool_client(testing::MotoServer& moto, const std::string& user = "containctl-tool") {
  auto admin = moto.client();
  auto made = admin->query("iam", "us-east-1", "CreateUser", {{"UserName", user}});
  EXPECT_TRUE(made.ok()) << made.error().describe();
  auto key = admin->query("iam", "us-east-1", "CreateAccessKey", {{"UserName", user}});
  EXPECT_TRUE(key.ok()) << key.error().describe();
  aws::Credentials creds;
  if (key.ok()) {
    creds.access_key_id = aws::xml_text(key->root(), "AccessKeyId");
    creds.secret_access_key = aws::xml_text(key->root(), "SecretAccessKey");
  }
  creds.source = "test";
  return moto.client(creds);
}

// Owns what a Context points at.
struct Env {
  Target target;
  Identity caller;
  Options options;
  aws::ManualClock clock{aws::TimePoint{}};
  std::unique_ptr<Context> ctx;

  Env(aws::AwsClient& client, const std::string& arn, std::vector<std::string> allow = {},
      std::string caller_arn = "arn:aws:iam::123456789012:user/containctl-tool", std::string region = "us-east-1") {
    auto t = parse_target_arn(arn);
    EXPECT_TRUE(t.ok()) << arn;
    target = *t;
    caller = {"123456789012", caller_arn, "AIDAEXAMPLE", "testing"};
    ctx = std::make_unique<Context>(Context{client, target, region, "run-test-1", caller, options, std::move(allow), clock});
  }
};

// Plans pass through JSON between processes: round-trip args so nothing relies on memory.
inline Step reloaded(const Step& s) {
  Step out = s;
  out.args = json::parse(s.args.dump());
  return out;
}

struct AppliedStep {
  Step step;
  json before;
  json applied;
};

inline std::vector<AppliedStep> apply_plan(ActionFamily& f, Context& ctx, const TargetPlan& plan) {
  std::vector<AppliedStep> done;
  for (const Step& s0 : plan.steps) {
    Step s = reloaded(s0);
    for (const auto& dep : s.depends_on) {
      bool ok = false;
      for (const auto& d : done) ok = ok || d.step.id == dep;
      EXPECT_TRUE(ok) << s.id << " runs before its dependency " << dep;
    }
    auto before = f.capture(ctx, s);
    EXPECT_TRUE(before.ok()) << s.id << ": " << before.error().describe();
    if (!before.ok()) return done;
    json journaled = json::parse(before->dump());
    auto applied = f.apply(ctx, s, journaled);
    EXPECT_TRUE(applied.ok()) << s.id << ": " << applied.error().describe();
    if (!applied.ok()) return done;
    auto v = f.verify(ctx, s);
    EXPECT_TRUE(v.ok()) << s.id << ": " << v.error().describe();
    done.push_back({s, journaled, *applied});
  }
  return done;
}

inline void rollback_plan(ActionFamily& f, Context& ctx, const std::vector<AppliedStep>& done) {
  for (auto it = done.rbegin(); it != done.rend(); ++it) {
    auto r = f.rollback(ctx, it->step, it->before, it->applied, {});
    EXPECT_TRUE(r.ok()) << it->step.id << ": " << r.error().describe();
    auto v = f.verify_rollback(ctx, it->step, it->before, {});
    EXPECT_TRUE(v.ok()) << it->step.id << ": " << v.error().describe();
  }
}

inline std::vector<std::string> step_ids(const TargetPlan& p) {
  std::vector<std::string> out;
  for (const auto& s : p.steps) out.push_back(s.id);
  return out;
}

inline bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace containctl::actions::s3test
