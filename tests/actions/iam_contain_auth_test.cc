// iam-contain under moto's signature checking: the contained principal's own signed calls are denied
// after containment and allowed again after rollback. moto enforces deny policies but not Inactive
// keys (moto-notes §3), so key status is judged by ListAccessKeys, and the deny decides the calls.
#include <gtest/gtest.h>

#include "actions/iam_common.h"
#include "actions/iam_contain.h"
#include "aws/assume_role.h"
#include "tests/actions/iam_test_util.h"

namespace containctl::actions {
namespace {

using namespace iamtest;

class IamContainAuthTest : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() {
    static testing::MotoServer server(3);
    return server;
  }
  // Bootstraps an admin inside the three unauthenticated requests; everything after is signed.
  void SetUp() override {
    moto().reset();
    moto().reset_auth(3);
    auto anon = moto().client();
    iam_ok(*anon, "CreateUser", {{"UserName", "admin"}});
    admin_creds_ = create_key(*anon, "admin");
    iam_ok(*anon, "PutUserPolicy", {{"UserName", "admin"}, {"PolicyName", "Admin"}, {"PolicyDocument", allow_all_policy()}});
    admin_ = moto().client(admin_creds_);
    caller_ = {"123456789012", "arn:aws:iam::123456789012:user/admin", "", admin_creds_.access_key_id};
    // Signature checking is on from here: an unsigned-by-a-known-key call fails.
    auto anon_call = anon->query("iam", "us-east-1", "ListUsers", {});
    ASSERT_FALSE(anon_call.ok());
  }
  void TearDown() override { moto().reset_auth(-1); }

  std::unique_ptr<aws::AwsClient> admin_;
  aws::Credentials admin_creds_;
  Identity caller_;
  Options opts_;
  aws::ManualClock clock_{std::chrono::system_clock::now()};
  std::unique_ptr<ActionFamily> family_ = make_iam_contain();
};

TEST_F(IamContainAuthTest, ContainedUsersOwnCallsAreDeniedAndAllowedAgainAfterRollback) {
  iam_ok(*admin_, "CreateUser", {{"UserName", "mallory"}});
  aws::Credentials mallory = create_key(*admin_, "mallory");
  std::string spare = create_key(*admin_, "mallory").access_key_id;
  iam_ok(*admin_, "UpdateAccessKey", {{"UserName", "mallory"}, {"AccessKeyId", spare}, {"Status", "Inactive"}});
  iam_ok(*admin_, "CreateLoginProfile", {{"UserName", "mallory"}, {"Password", "Orig-Passw0rd!x"}});
  iam_ok(*admin_, "PutUserPolicy", {{"UserName", "mallory"}, {"PolicyName", "AllowAll"}, {"PolicyDocument", allow_all_policy()}});
  const json original = user_state(*admin_, "mallory");

  auto as_mallory = moto().client(mallory);
  auto probe = [&] { return as_mallory->query("ec2", "us-east-1", "DescribeInstances", {}); };
  ASSERT_TRUE(probe().ok()) << probe().error().describe();

  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/mallory");
  Context c{*admin_, t, "us-east-1", "run-auth-1", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();

  auto denied = probe();
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "AccessDenied");
  EXPECT_EQ(user_state(*admin_, "mallory")["keys"][mallory.access_key_id], "Inactive");

  RollbackOptions ro;
  ro.reactivate_keys = true;
  must("rollback", rollback_all(*family_, c, *applied, ro));
  EXPECT_TRUE(probe().ok());
  EXPECT_EQ(user_state(*admin_, "mallory"), original);
}

TEST_F(IamContainAuthTest, UserWithDecoyDenyPolicyIsReallyDeniedAndGetsTheDecoyBack) {
  iam_ok(*admin_, "CreateUser", {{"UserName", "mallory"}});
  aws::Credentials mallory = create_key(*admin_, "mallory");
  // The adversary's decoy: containctl's policy name and Sids, Effect Allow.
  iam_ok(*admin_, "PutUserPolicy",
         {{"UserName", "mallory"},
          {"PolicyName", iam::kUserDenyPolicy},
          {"PolicyDocument",
           R"({"Version":"2012-10-17","Statement":[{"Sid":"ContainctlDenyAll","Effect":"Allow","Action":"*","Resource":"*"},)"
           R"({"Sid":"ContainctlDenyOlderSessions","Effect":"Allow","Action":"*","Resource":"*"}]})"}});
  const json original = user_state(*admin_, "mallory");
  auto as_mallory = moto().client(mallory);
  auto probe = [&] { return as_mallory->query("ec2", "us-east-1", "DescribeInstances", {}); };
  ASSERT_TRUE(probe().ok()) << probe().error().describe();

  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/mallory");
  Context c{*admin_, t, "us-east-1", "run-auth-3", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  // moto does not enforce Inactive keys (moto-notes §2): the deny alone stops the call.
  auto denied = probe();
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "AccessDenied");

  RollbackOptions ro;
  ro.reactivate_keys = true;
  must("rollback", rollback_all(*family_, c, *applied, ro));
  EXPECT_TRUE(probe().ok());
  EXPECT_EQ(user_state(*admin_, "mallory"), original);
}

TEST_F(IamContainAuthTest, AssumedRoleSessionIsCutAndWorksAgainAfterRollback) {
  const std::string trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"sts:AssumeRole"}]})";
  iam_ok(*admin_, "CreateRole", {{"RoleName", "app"}, {"AssumeRolePolicyDocument", trust}});
  iam_ok(*admin_, "PutRolePolicy", {{"RoleName", "app"}, {"PolicyName", "AllowAll"}, {"PolicyDocument", allow_all_policy()}});
  const json original = role_state(*admin_, "app");
  auto session = aws::assume_role(*admin_, {"arn:aws:iam::123456789012:role/app", "", "attacker", 3600, "us-east-1"});
  ASSERT_TRUE(session.ok()) << session.error().describe();
  auto as_session = moto().client(*session);
  auto probe = [&] { return as_session->query("ec2", "us-east-1", "DescribeInstances", {}); };
  ASSERT_TRUE(probe().ok()) << probe().error().describe();

  Target t = *parse_target_arn("arn:aws:iam::123456789012:role/app");
  Context c{*admin_, t, "us-east-1", "run-auth-2", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  auto denied = probe();
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, "AccessDenied");

  ASSERT_FALSE(rollback_all(*family_, c, *applied, {}).ok());  // hold not elapsed
  EXPECT_FALSE(probe().ok());
  clock_.advance(std::chrono::seconds(3600));
  must("rollback", rollback_all(*family_, c, *applied, {}));
  EXPECT_TRUE(probe().ok());
  EXPECT_EQ(role_state(*admin_, "app"), original);
}

}  // namespace
}  // namespace containctl::actions
