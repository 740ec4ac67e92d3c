// Targets that share a bucket, through the real executor and s3-contain against moto. Two objects
// of one bucket both merge a statement into the bucket policy (read, merge, write); the bucket
// and one of its objects both write the policy and the ACL mode. A rendezvous after the policy
// read makes the race certain when the executor lets the steps overlap.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "actions/s3_policy.h"
#include "orchestrator/executor.h"
#include "orchestrator/journal.h"
#include "tests/actions/s3_test_util.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
namespace s3 = actions::s3;
namespace s3test = actions::s3test;

thread_local bool g_in_policy_apply = false;

// Holds the first thread that has read the bucket policy while applying until a second one has
// read it too, or 1.5 s pass (which is what happens when the executor serializes them).
struct Rendezvous {
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  int met = 0;
  void arrive() {
    std::unique_lock lock(mu);
    if (++arrived % 2 == 0) {
      met++;
      cv.notify_all();
      return;
    }
    int seen = met;
    cv.wait_for(lock, std::chrono::milliseconds(1500), [&] { return met != seen; });
  }
};

// s3-contain, with the rendezvous inside its policy applies; `declare` false hides its shared
// resources (what the executor saw before it knew of them).
class RacingS3 : public actions::ActionFamily {
 public:
  s3::S3ContainFamily real;
  bool declare = true;
  std::string name() const override { return real.name(); }
  bool handles(const actions::Target& t) const override { return real.handles(t); }
  Result<json> discover(actions::Context& ctx) override { return real.discover(ctx); }
  Result<actions::TargetPlan> plan(actions::Context& ctx, const json& d) override { return real.plan(ctx, d); }
  Result<json> capture(actions::Context& ctx, const actions::Step& s) override { return real.capture(ctx, s); }
  Result<json> apply(actions::Context& ctx, const actions::Step& s, const json& before) override {
    g_in_policy_apply = s.id == s3::kStepDenyPolicy || s.id == s3::kStepObjectDeny;
    auto out = real.apply(ctx, s, before);
    g_in_policy_apply = false;
    return out;
  }
  Status verify(actions::Context& ctx, const actions::Step& s) override { return real.verify(ctx, s); }
  Status rollback(actions::Context& ctx, const actions::Step& s, const json& b, const json& a,
                  const actions::RollbackOptions& o) override {
    return real.rollback(ctx, s, b, a, o);
  }
  Status verify_rollback(actions::Context& ctx, const actions::Step& s, const json& b,
                         const actions::RollbackOptions& o) override {
    return real.verify_rollback(ctx, s, b, o);
  }
  std::vector<std::string> iam_actions() const override { return real.iam_actions(); }
  std::vector<std::string> shared_resources(const actions::Target& t, const actions::Step& s) const override {
    return declare ? real.shared_resources(t, s) : std::vector<std::string>{};
  }
};

class ExecutorS3Shared : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MotoServer::shared().reset();
    auto tool = s3test::tool_client(testing::MotoServer::shared());
    aws::ClientConfig cfg = tool->config();
    cfg.observer = [this](const aws::CallRecord& r) {
      if (g_in_policy_apply && r.operation == "GetBucketPolicy") rendezvous_.arrive();
    };
    client_ = std::make_unique<aws::AwsClient>(cfg);
    dir_ = std::filesystem::temp_directory_path() /
           ("cc-s3shared-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    journal_ = Journal::open(dir_.string(), aws::SystemClock::instance()).value();
    env_.client_for = [this](const PlanEntry&) -> Result<aws::AwsClient*> { return client_.get(); };
    env_.family_for = [this](const std::string&) -> actions::ActionFamily* { return &family_; };
    env_.caller = {"123456789012", "arn:aws:iam::123456789012:user/containctl-tool", "AIDAEXAMPLE", "testing"};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  PlanEntry planned(const std::string& arn) {
    s3test::Env env(*client_, arn);
    auto d = family_.discover(*env.ctx);
    EXPECT_TRUE(d.ok()) << d.error().describe();
    auto tp = family_.plan(*env.ctx, d.ok() ? *d : json::object());
    EXPECT_TRUE(tp.ok()) << tp.error().describe();
    PlanEntry e;
    e.target = env.target;
    e.family = family_.name();
    e.account = "123456789012";
    e.region = "us-east-1";
    e.confidence = "confirmed";
    if (tp.ok()) e.steps = tp->steps;
    return e;
  }
  RunOutcome apply(const std::vector<PlanEntry>& entries) {
    run_ = new_run_id(aws::SystemClock::instance().now());
    EXPECT_TRUE(journal_->create_run({.run_id = run_, .plan_hash = "hash", .status = "running",
                                      .requester = "req", .mode = "auto", .plan = json::object()}, entries).ok());
    return execute_run(*journal_, run_, entries, env_);
  }
  json policy_doc(const std::string& bucket) {
    auto p = s3::get_policy(*client_, {bucket, "us-east-1", ""});
    EXPECT_TRUE(p.ok());
    if (!p.ok() || !(*p)["present"].get<bool>()) return nullptr;
    return json::parse((*p)["text"].get<std::string>());
  }

  Rendezvous rendezvous_;
  RacingS3 family_;
  std::unique_ptr<aws::AwsClient> client_;
  std::filesystem::path dir_;
  std::unique_ptr<Journal> journal_;
  ExecutionEnv env_;
  std::string run_;
};

bool has_sid(const json& doc, const std::string& sid) {
  if (!doc.is_object()) return false;
  for (const auto& st : doc["Statement"])
    if (st.value("Sid", "") == sid) return true;
  return false;
}

const std::string kOwnerPolicy =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Analytics\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
    "\"arn:aws:iam::123456789012:role/Analytics\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::shared-b/*\"}]}";

void seed(aws::AwsClient& c) {
  s3test::create_bucket(c, "shared-b");
  s3test::put_object(c, "shared-b", "one.csv");
  s3test::put_object(c, "shared-b", "two.csv");
  s3test::must(s3test::s3_raw(c, "us-east-1", "PutBucketPolicy", "PUT", "shared-b", "", {{"policy", ""}}, kOwnerPolicy),
               "policy");
}

TEST_F(ExecutorS3Shared, TwoObjectsOfOneBucketAreBothContainedAndBothGoBack) {
  seed(*client_);
  s3test::BucketState original = s3test::read_state(*client_, "shared-b", "us-east-1");
  std::vector<PlanEntry> entries = {planned("arn:aws:s3:::shared-b/one.csv"), planned("arn:aws:s3:::shared-b/two.csv")};
  RunOutcome out = apply(entries);
  EXPECT_EQ(out.status, "succeeded") << (out.errors.empty() ? "" : out.errors[0]);
  json doc = policy_doc("shared-b");
  EXPECT_TRUE(has_sid(doc, s3::object_deny_sid("one.csv"))) << doc.dump();
  EXPECT_TRUE(has_sid(doc, s3::object_deny_sid("two.csv"))) << doc.dump();
  EXPECT_TRUE(has_sid(doc, "Analytics")) << doc.dump();
  auto rb = rollback_run(*journal_, run_, entries, env_, {});
  ASSERT_TRUE(rb.ok()) << rb.error().describe();
  EXPECT_EQ(rb->status, "rolled_back") << (rb->errors.empty() ? "" : rb->errors[0]);
  s3test::expect_same_state(s3test::read_state(*client_, "shared-b", "us-east-1"), original);
}

TEST_F(ExecutorS3Shared, WithoutTheDeclarationOneObjectEndsUncontained) {
  // The attack the test above guards against: the same run, the executor not told what is shared.
  family_.declare = false;
  seed(*client_);
  std::vector<PlanEntry> entries = {planned("arn:aws:s3:::shared-b/one.csv"), planned("arn:aws:s3:::shared-b/two.csv")};
  RunOutcome out = apply(entries);
  EXPECT_EQ(out.status, "partial");
  json doc = policy_doc("shared-b");
  EXPECT_NE(has_sid(doc, s3::object_deny_sid("one.csv")), has_sid(doc, s3::object_deny_sid("two.csv"))) << doc.dump();
}

TEST_F(ExecutorS3Shared, ABucketAndAnObjectOfItAreContainedAndGoBackExactly) {
  seed(*client_);
  s3test::must(s3test::s3_raw(*client_, "us-east-1", "PutObjectAcl", "PUT", "shared-b", "one.csv", {{"acl", ""}}, "",
                              {{"x-amz-acl", "public-read"}}),
               "PutObjectAcl");
  s3test::BucketState original = s3test::read_state(*client_, "shared-b", "us-east-1");
  auto acl_before = s3::get_acl(*client_, {"shared-b", "us-east-1", "one.csv"}, true);
  ASSERT_TRUE(acl_before.ok());
  std::vector<PlanEntry> entries = {planned("arn:aws:s3:::shared-b/one.csv"), planned("arn:aws:s3:::shared-b")};
  RunOutcome out = apply(entries);
  EXPECT_EQ(out.status, "succeeded") << (out.errors.empty() ? "" : out.errors[0]);
  json doc = policy_doc("shared-b");
  EXPECT_TRUE(has_sid(doc, s3::kBucketDenySid)) << doc.dump();
  auto rb = rollback_run(*journal_, run_, entries, env_, {});
  ASSERT_TRUE(rb.ok()) << rb.error().describe();
  EXPECT_EQ(rb->status, "rolled_back") << (rb->errors.empty() ? "" : rb->errors[0]);
  s3test::expect_same_state(s3test::read_state(*client_, "shared-b", "us-east-1"), original);
  auto acl_after = s3::get_acl(*client_, {"shared-b", "us-east-1", "one.csv"}, true);
  ASSERT_TRUE(acl_after.ok());
  EXPECT_TRUE(s3::same_acl(*acl_after, *acl_before)) << acl_after->dump();
}

}  // namespace
}  // namespace containctl::orch
