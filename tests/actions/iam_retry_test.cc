// Non-idempotent IAM calls whose answer is lost after IAM processed them: the request reaches moto,
// moto acts on it, and the caller sees a network error (a timeout). Whatever the retry layer does
// next, no access key or console password may be left behind that nobody holds the secret of.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "actions/iam_contain.h"
#include "actions/iam_rotate_keys.h"
#include "actions/secret_delivery.h"
#include "tests/actions/iam_test_util.h"
#include "tests/support/fake_transport.h"

namespace containctl::actions {
namespace {

using namespace iamtest;

class IamRetryTest : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() {
    static testing::MotoServer server;
    return server;
  }
  void SetUp() override {
    moto().reset();
    setup_ = moto().client();
    aws::ClientConfig cfg = setup_->config();
    real_ = cfg.transport;
    fake_ = std::make_shared<testing::FakeTransport>();
    fake_->set_handler([this](const aws::HttpRequest& req) -> Result<aws::HttpResponse> {
      auto answer = real_->send(req);
      const bool target = !lose_answer_of_.empty() && req.header("X-Amz-Target").ends_with("." + lose_answer_of_);
      if ((req.body.find("Action=" + lose_answer_of_) != std::string::npos || target) && losses_left_ > 0) {
        --losses_left_;
        return Error{ErrorKind::kNetwork, "NetworkError", "Operation timed out after 30000 milliseconds"};
      }
      return answer;
    });
    cfg.transport = fake_;
    // The product's retry policy (moto's test client makes one attempt): a lost answer is retried
    // only when the call is safe to repeat, so these tests see what the retry layer really does.
    cfg.retry = aws::RetryPolicy{};
    cfg.jitter = [] { return 0.0; };
    client_ = std::make_unique<aws::AwsClient>(cfg);
    dir_ = temp_dir();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // The next `times` answers to `action` are lost after moto processed the request.
  void lose_answers(const std::string& action, int times) {
    lose_answer_of_ = action;
    losses_left_ = times;
  }
  std::vector<std::string> sent(const std::string& action) {
    std::vector<std::string> out;
    for (const auto& r : fake_->requests())
      if (r.body.find("Action=" + action + "&") != std::string::npos) out.push_back(r.body);
    return out;
  }

  // Bodies of the JSON-protocol requests for `target` ("secretsmanager.CreateSecret").
  std::vector<json> json_sent(const std::string& target) {
    std::vector<json> out;
    for (const auto& r : fake_->requests())
      if (r.header("X-Amz-Target") == target) out.push_back(json::parse(r.body));
    return out;
  }

  std::unique_ptr<aws::AwsClient> setup_, client_;
  std::shared_ptr<aws::HttpTransport> real_;
  std::shared_ptr<testing::FakeTransport> fake_;
  std::string lose_answer_of_;
  std::atomic<int> losses_left_{0};
  Identity caller_{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDARESP", "AKIARESPONDERKEY0001"};
  Options opts_;
  aws::ManualClock clock_{std::chrono::system_clock::now()};
  std::string dir_;
};

TEST_F(IamRetryTest, CreateAccessKeyAnswerLostLeavesNoKeyWithoutItsSecret) {
  iam_ok(*setup_, "CreateUser", {{"UserName", "svc"}});
  const std::string old = create_key(*setup_, "svc").access_key_id;
  opts_.values["iam.secret_out"] = dir_ + "/new-key.json";
  auto family = make_iam_rotate_keys();
  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/svc");
  Context c{*client_, t, "us-east-1", "run-retry-1", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();

  lose_answers("CreateAccessKey", 1);
  auto applied = apply_all(*family, c, *plan);
  // Not resent blindly (a second key would be made): read back, the orphan deleted, the step failed.
  EXPECT_EQ(sent("CreateAccessKey").size(), 1u);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("were deleted"), std::string::npos) << applied.error().message;
  EXPECT_EQ(user_state(*setup_, "svc")["keys"], json({{old, "Active"}})) << "no key nobody holds the secret of";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/new-key.json"));
}

TEST_F(IamRetryTest, EveryCreateAccessKeyAnswerLostFailsCleanlyNamingWhatWasDeleted) {
  iam_ok(*setup_, "CreateUser", {{"UserName", "svc"}});
  const std::string old = create_key(*setup_, "svc").access_key_id;
  opts_.values["iam.secret_out"] = dir_ + "/new-key.json";
  auto family = make_iam_rotate_keys();
  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/svc");
  Context c{*client_, t, "us-east-1", "run-retry-2", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();

  lose_answers("CreateAccessKey", 1000);
  auto applied = apply_all(*family, c, *plan);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().message.find("were deleted"), std::string::npos) << applied.error().message;
  const json keys = user_state(*setup_, "svc")["keys"];
  EXPECT_EQ(keys, json({{old, "Active"}})) << "the old key stays, and no key without a holder is left";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/new-key.json"));
}

TEST_F(IamRetryTest, CreateLoginProfileAnswerLostStillLeavesThePasswordInTheFile) {
  iam_ok(*setup_, "CreateUser", {{"UserName", "mallory"}});
  iam_ok(*setup_, "CreateLoginProfile", {{"UserName", "mallory"}, {"Password", "Orig-Passw0rd!x"}});
  opts_.values["iam.disable_console"] = "true";
  opts_.values["iam.password_out"] = dir_ + "/pw.json";
  auto family = make_iam_contain();
  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/mallory");
  Context c{*client_, t, "us-east-1", "run-retry-3", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  EXPECT_FALSE(user_state(*setup_, "mallory")["login_profile"].get<bool>());

  // Every answer lost: the first request creates the profile, later ones meet EntityAlreadyExists.
  lose_answers("CreateLoginProfile", 1000);
  must("rollback", rollback_all(*family, c, *applied, {}));
  EXPECT_TRUE(user_state(*setup_, "mallory")["login_profile"].get<bool>());
  ASSERT_TRUE(std::filesystem::exists(dir_ + "/pw.json"));
  EXPECT_EQ(file_mode(dir_ + "/pw.json"), 0600);
  // The profile's password is the file's: the last password IAM was given is the one in the file.
  const std::string password = json::parse(read_file(dir_ + "/pw.json"))["Password"];
  std::string last;
  for (const auto& r : fake_->requests()) {
    const bool sets = r.body.find("Action=CreateLoginProfile&") != std::string::npos ||
                      r.body.find("Action=UpdateLoginProfile&") != std::string::npos;
    if (!sets) continue;
    const auto at = r.body.find("Password=");
    ASSERT_NE(at, std::string::npos);
    last = aws::uri_decode(r.body.substr(at + 9, r.body.find('&', at) - at - 9));
  }
  EXPECT_EQ(last, password);
  EXPECT_FALSE(sent("UpdateLoginProfile").empty()) << "a lost answer must be read back and settled";
}

TEST_F(IamRetryTest, CreateLoginProfileThatReallyFailedRemovesTheFile) {
  iam_ok(*setup_, "CreateUser", {{"UserName", "mallory"}});
  iam_ok(*setup_, "CreateLoginProfile", {{"UserName", "mallory"}, {"Password", "Orig-Passw0rd!x"}});
  opts_.values["iam.disable_console"] = "true";
  opts_.values["iam.password_out"] = dir_ + "/pw.json";
  auto family = make_iam_contain();
  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/mallory");
  Context c{*client_, t, "us-east-1", "run-retry-4", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  // CreateLoginProfile fails for real (IAM answered): no profile exists to read back.
  fake_->set_handler([this](const aws::HttpRequest& req) -> Result<aws::HttpResponse> {
    if (req.body.find("Action=CreateLoginProfile&") != std::string::npos) {
      aws::HttpResponse r;
      r.status = 400;
      r.body = testing::query_error_body("PasswordPolicyViolation", "Password does not conform");
      return r;
    }
    return real_->send(req);
  });
  const Step* console = find_step(*plan, "disable-console");
  ASSERT_NE(console, nullptr);
  Status st = family->rollback(c, *console, json{{"login_profile", {{"CreateDate", "x"}}}}, json::object(), {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("PasswordPolicyViolation"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/pw.json"));
  EXPECT_TRUE(sent("UpdateLoginProfile").empty());
}

// CreateSecret carries a ClientRequestToken: when its answer is lost after Secrets Manager stored
// the secret, the client retries with the same token, so it finds the stored version instead of
// failing with ResourceExistsException (and the new key is still delivered).
TEST_F(IamRetryTest, CreateSecretAnswerLostIsRetriedWithTheSameClientRequestToken) {
  iam_ok(*setup_, "CreateUser", {{"UserName", "svc"}});
  create_key(*setup_, "svc");
  opts_.values["iam.secret_manager_name"] = "containctl/svc-key";
  auto family = make_iam_rotate_keys();
  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/svc");
  Context c{*client_, t, "us-east-1", "run-retry-5", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();

  lose_answers("CreateSecret", 1);
  auto applied = apply_all(*family, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  const std::vector<json> creates = json_sent("secretsmanager.CreateSecret");
  ASSERT_EQ(creates.size(), 2u) << "one lost answer, one retry";
  ASSERT_TRUE(creates[0].contains("ClientRequestToken"));
  const std::string token = creates[0]["ClientRequestToken"];
  EXPECT_EQ(token.size(), 36u) << token;  // UUID-shaped, within CreateSecret's 32-64
  EXPECT_EQ(creates[1]["ClientRequestToken"], token) << "the retry must re-send the same token";
  EXPECT_EQ(sent("CreateAccessKey").size(), 1u);
  auto value = setup_->json("secretsmanager", "us-east-1", "secretsmanager", "GetSecretValue",
                            {{"SecretId", "containctl/svc-key"}});
  ASSERT_TRUE(value.ok()) << value.error().describe();
  EXPECT_EQ(json::parse((*value)["SecretString"].get<std::string>())["AccessKeyId"],
            (*applied)[0].applied["new_access_key_id"]);
  EXPECT_EQ((*value)["VersionId"], token) << "the stored version is the first request's";
}

// The token names the request (run, step, user, destination), not the attempt: the same step
// applied again in the same run (a resumed apply) sends the same token, another run another one.
// A random token per call would let a re-sent request store a second version.
TEST_F(IamRetryTest, CreateSecretTokenIsTheSameForTheSameStepOfTheSameRun) {
  iam_ok(*setup_, "CreateUser", {{"UserName", "svc"}});
  create_key(*setup_, "svc");
  opts_.values["iam.secret_manager_name"] = "containctl/svc-key";
  auto family = make_iam_rotate_keys();
  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/svc");
  auto token_of_run = [&](const std::string& run_id) -> std::string {
    Context c{*client_, t, "us-east-1", run_id, caller_, opts_, {}, clock_};
    auto plan = plan_for(*family, c);
    if (!plan.ok()) return "plan: " + plan.error().describe();
    auto applied = apply_all(*family, c, *plan);
    if (!applied.ok()) return "apply: " + applied.error().describe();
    const std::string token = json_sent("secretsmanager.CreateSecret").back().value("ClientRequestToken", "");
    auto back = rollback_all(*family, c, *applied, {});  // deletes the secret and the new key
    if (!back.ok()) return "rollback: " + back.error().describe();
    return token;
  };
  const std::string first = token_of_run("run-retry-6");
  const std::string again = token_of_run("run-retry-6");
  const std::string other = token_of_run("run-retry-7");
  EXPECT_EQ(first.size(), 36u) << first;
  EXPECT_EQ(again, first) << "the same step of the same run must send the same token";
  EXPECT_NE(other, first) << "another run must not reuse the token";
  EXPECT_EQ(json_sent("secretsmanager.CreateSecret").size(), 3u);
}

}  // namespace
}  // namespace containctl::actions
