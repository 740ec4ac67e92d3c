// iam_actions() of both IAM families against what they really call: every call made during full
// lifecycles (discover, plan, capture, apply, verify, rollback, verify_rollback, with every option)
// maps to an entry, and every entry is used by some path.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "actions/iam_contain.h"
#include "actions/iam_rotate_keys.h"
#include "tests/actions/iam_test_util.h"

namespace containctl::actions {
namespace {

using namespace iamtest;

// SDK operation -> IAM action. IAM, STS and Secrets Manager operations share their action's name,
// so the mapping is "<service>:<Operation>"; written out here so a difference would have to be added.
std::string iam_action_for(const std::string& service, const std::string& operation) {
  if (service == "iam" || service == "sts" || service == "secretsmanager") return service + ":" + operation;
  return "unmapped:" + service + ":" + operation;
}

struct Recorder {
  std::mutex mu;
  std::set<std::string> actions;
  aws::CallObserver observer() {
    return [this](const aws::CallRecord& r) {
      std::lock_guard lock(mu);
      actions.insert(iam_action_for(r.service, r.operation));
    };
  }
};

class IamActionsTest : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() {
    static testing::MotoServer server;
    return server;
  }
  void SetUp() override {
    moto().reset();
    setup_ = moto().client();
    aws::ClientConfig cfg = setup_->config();
    cfg.observer = rec_.observer();
    observed_ = std::make_unique<aws::AwsClient>(cfg);
    dir_ = temp_dir();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<aws::AwsClient> setup_, observed_;
  Recorder rec_;
  Identity caller_{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDARESP", "AKIARESPONDERKEY0001"};
  aws::ManualClock clock_{std::chrono::system_clock::now()};
  std::string dir_;
};

void check(const std::set<std::string>& used, const std::vector<std::string>& declared,
           const std::set<std::string>& declared_but_implicit) {
  std::set<std::string> decl(declared.begin(), declared.end());
  for (const auto& a : used) EXPECT_TRUE(decl.count(a)) << a << " is called but missing from iam_actions()";
  for (const auto& a : decl)
    EXPECT_TRUE(used.count(a) || declared_but_implicit.count(a)) << a << " is declared but no path calls it";
}

TEST_F(IamActionsTest, IamContainDeclaresExactlyWhatItCalls) {
  // A user with everything the options touch.
  iam_ok(*setup_, "CreateUser", {{"UserName", "mallory"}});
  const std::string key = create_key(*setup_, "mallory").access_key_id;
  iam_ok(*setup_, "CreateLoginProfile", {{"UserName", "mallory"}, {"Password", "Orig-Passw0rd!x"}});
  auto mfa = iam_ok(*setup_, "CreateVirtualMFADevice", {{"VirtualMFADeviceName", "evil"}});
  const std::string serial = aws::xml_text(mfa.root(), "SerialNumber");
  iam_ok(*setup_, "EnableMFADevice", {{"UserName", "mallory"}, {"SerialNumber", serial},
                                      {"AuthenticationCode1", "123456"}, {"AuthenticationCode2", "654321"}});
  auto family = make_iam_contain();
  Options uo;
  uo.values = {{"iam.disable_console", "true"}, {"iam.deactivate_mfa", serial},
               {"iam.password_out", dir_ + "/pw.json"}, {"iam.access_key_id", key}};
  Target ut = *parse_target_arn("arn:aws:iam::123456789012:user/mallory");
  Context uc{*observed_, ut, "us-east-1", "run-cov", caller_, uo, {}, clock_};
  auto up = plan_for(*family, uc);
  ASSERT_TRUE(up.ok()) << up.error().describe();
  auto ua = apply_all(*family, uc, *up);
  ASSERT_TRUE(ua.ok()) << ua.error().describe();
  uo.values.erase("iam.deactivate_mfa");  // the device is gone now
  auto replan = plan_for(*family, uc);     // re-discovery sees the deny policy (GetUserPolicy)
  ASSERT_TRUE(replan.ok()) << replan.error().describe();
  RollbackOptions ro;
  ro.reactivate_keys = true;
  must("user rollback", rollback_all(*family, uc, *ua, ro));

  iam_ok(*setup_, "CreateRole", {{"RoleName", "app"}, {"AssumeRolePolicyDocument", "{}"}});
  Options roo;
  roo.values = {{"iam.full_deny", "true"}};
  Target rt = *parse_target_arn("arn:aws:iam::123456789012:role/app");
  Context rc{*observed_, rt, "us-east-1", "run-cov", caller_, roo, {}, clock_};
  auto rp = plan_for(*family, rc);
  ASSERT_TRUE(rp.ok()) << rp.error().describe();
  auto ra = apply_all(*family, rc, *rp);
  ASSERT_TRUE(ra.ok()) << ra.error().describe();
  RollbackOptions forced;
  forced.force = true;
  must("role rollback", rollback_all(*family, rc, *ra, forced));

  // iam:UpdateLoginProfile: only after a lost CreateLoginProfile answer (iam_retry_test covers it).
  check(rec_.actions, family->iam_actions(), {"iam:UpdateLoginProfile"});
}

TEST_F(IamActionsTest, IamRotateKeysDeclaresExactlyWhatItCalls) {
  iam_ok(*setup_, "CreateUser", {{"UserName", "svc"}});
  create_key(*setup_, "svc");
  const std::string inactive = create_key(*setup_, "svc").access_key_id;
  iam_ok(*setup_, "UpdateAccessKey", {{"UserName", "svc"}, {"AccessKeyId", inactive}, {"Status", "Inactive"}});
  auto family = make_iam_rotate_keys();
  Options o;
  o.values = {{"iam.secret_manager_name", "containctl/svc"}, {"iam.delete_inactive_key", "true"}};
  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/svc");
  Context c{*observed_, t, "us-east-1", "run-cov", caller_, o, {}, clock_};
  auto p = plan_for(*family, c);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  auto a = apply_all(*family, c, *p);
  ASSERT_TRUE(a.ok()) << a.error().describe();
  must("rotate rollback", rollback_all(*family, c, *a, {}));

  // secretsmanager:TagResource: CreateSecret carries Tags, which AWS authorises as TagResource
  // without a separate call.
  check(rec_.actions, family->iam_actions(), {"secretsmanager:TagResource"});
}

}  // namespace
}  // namespace containctl::actions
