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
      if (req.body.find("Action=" + lose_answer_of_) != std::string::npos && losses_left_ > 0) {
        --losses_left_;
        return Error{ErrorKind::kNetwork, "NetworkError", "Operation timed out after 30000 milliseconds"};
      }
      return answer;
    });
    cfg.transport = fake_;
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
  EXPECT_GE(sent("CreateAccessKey").size(), 1u);
  // Every key besides the old one is the delivered one: its id is in the delivery file.
  const json keys = user_state(*setup_, "svc")["keys"];
  for (const auto& [id, status] : keys.items()) {
    if (id == old) continue;
    EXPECT_TRUE(iam::file_mentions(dir_ + "/new-key.json", id)) << "key " << id << " exists but nobody holds its secret";
  }
  if (applied.ok()) {
    EXPECT_EQ(keys.size(), 2u) << keys.dump();
  } else {
    EXPECT_EQ(keys.size(), 1u) << keys.dump();
  }
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

}  // namespace
}  // namespace containctl::actions
