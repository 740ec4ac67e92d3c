// iam-rotate-keys against moto: zero, one and two existing keys, file and Secrets Manager delivery,
// the two-key limit, the interlock on the caller's own key, and rollback.
#include <gtest/gtest.h>

#include <filesystem>

#include "actions/iam_rotate_keys.h"
#include "actions/registry.h"
#include "tests/actions/iam_test_util.h"

namespace containctl::actions {
namespace {

using namespace iamtest;

class IamRotateKeysTest : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() {
    static testing::MotoServer server;
    return server;
  }
  void SetUp() override {
    moto().reset();
    client_ = moto().client();
    iam_ok(*client_, "CreateUser", {{"UserName", "svc"}});
    dir_ = temp_dir();
    opts_.values["iam.secret_out"] = dir_ + "/new-key.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Context ctx() { return Context{*client_, target_, "us-east-1", "run-rot-1", caller_, opts_, {}, clock_}; }
  json keys() { return user_state(*client_, "svc")["keys"]; }

  std::unique_ptr<aws::AwsClient> client_;
  Target target_ = *parse_target_arn("arn:aws:iam::123456789012:user/svc");
  Identity caller_{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDARESP", "AKIARESPONDERKEY0001"};
  Options opts_;
  aws::ManualClock clock_{std::chrono::system_clock::now()};
  std::unique_ptr<ActionFamily> family_ = make_iam_rotate_keys();
  std::string dir_;
};

TEST_F(IamRotateKeysTest, Registered) {
  ActionFamily* f = find_family("iam-rotate-keys");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->handles(target_));
  EXPECT_FALSE(f->handles(*parse_target_arn("arn:aws:iam::123456789012:role/r")));
}

TEST_F(IamRotateKeysTest, ZeroKeysCreatesAFirstKeyAndRollbackRemovesIt) {
  Context c = ctx();
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_EQ(plan->steps[0].id, "create-new-key");
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  json k = keys();
  ASSERT_EQ(k.size(), 1u);
  const std::string id = k.begin().key();
  EXPECT_EQ(k[id], "Active");
  const std::string out = dir_ + "/new-key.json";
  EXPECT_EQ(file_mode(out), 0600);
  json file = json::parse(read_file(out));
  EXPECT_EQ(file["AccessKeyId"], id);
  EXPECT_EQ(file["UserName"], "svc");
  EXPECT_FALSE(file["SecretAccessKey"].get<std::string>().empty());
  EXPECT_EQ((*applied)[0].applied["new_access_key_id"], id);

  must("rollback", rollback_all(*family_, c, *applied, {}));
  EXPECT_TRUE(keys().empty());
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(IamRotateKeysTest, OneKeyIsReplacedByExactIdAndRollbackReactivatesIt) {
  const std::string old = create_key(*client_, "svc").access_key_id;
  Context c = ctx();
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_EQ(plan->steps.size(), 2u);
  EXPECT_EQ(plan->steps[1].id, "deactivate-old-key");
  EXPECT_EQ(plan->steps[1].args["key_ids"], json::array({old}));
  EXPECT_EQ(plan->steps[1].depends_on, std::vector<std::string>{"create-new-key"});
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  json k = keys();
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[old], "Inactive");
  const std::string fresh = (*applied)[0].applied["new_access_key_id"];
  EXPECT_EQ(k[fresh], "Active");

  // Resume: applying again is a no-op (no third key, file untouched).
  const std::string file_before = read_file(dir_ + "/new-key.json");
  for (const auto& j : *applied) ASSERT_TRUE(family_->apply(c, j.step, j.before).ok());
  EXPECT_EQ(keys(), k);
  EXPECT_EQ(read_file(dir_ + "/new-key.json"), file_before);

  must("rollback", rollback_all(*family_, c, *applied, {}));
  EXPECT_EQ(keys(), json({{old, "Active"}}));
  must("rollback twice", rollback_all(*family_, c, *applied, {}));
}

TEST_F(IamRotateKeysTest, TwoKeysNeedTheInactiveOneDeletedExplicitly) {
  const std::string active = create_key(*client_, "svc").access_key_id;
  const std::string inactive = create_key(*client_, "svc").access_key_id;
  iam_ok(*client_, "UpdateAccessKey", {{"UserName", "svc"}, {"AccessKeyId", inactive}, {"Status", "Inactive"}});
  Context c = ctx();
  auto refused = plan_for(*family_, c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "AccessKeyLimit");
  EXPECT_NE(refused.error().message.find(inactive), std::string::npos);
  EXPECT_NE(refused.error().message.find("iam.delete_inactive_key=true"), std::string::npos);

  opts_.values["iam.delete_inactive_key"] = "true";
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_EQ(plan->steps.size(), 3u);
  EXPECT_EQ(plan->steps[0].id, "delete-inactive-key");
  EXPECT_FALSE(plan->steps[0].reversible);
  EXPECT_EQ(plan->steps[0].args["key_id"], inactive);
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  json k = keys();
  EXPECT_FALSE(k.contains(inactive));
  EXPECT_EQ(k[active], "Inactive");
  must("rollback", rollback_all(*family_, c, *applied, {}));
  EXPECT_EQ(keys(), json({{active, "Active"}}));  // the deleted key cannot come back
}

TEST_F(IamRotateKeysTest, TwoActiveKeysAreRefusedClearly) {
  const std::string a = create_key(*client_, "svc").access_key_id;
  const std::string b = create_key(*client_, "svc").access_key_id;
  Context c = ctx();
  auto plan = plan_for(*family_, c);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code, "AccessKeyLimit");
  EXPECT_NE(plan.error().message.find("two access keys"), std::string::npos);
  EXPECT_EQ(keys(), json({{a, "Active"}, {b, "Active"}}));
}

TEST_F(IamRotateKeysTest, NeverRotatesTheKeyTheToolSignsWith) {
  const std::string own = create_key(*client_, "svc").access_key_id;
  caller_.access_key_id = own;
  Context c = ctx();
  auto plan = plan_for(*family_, c);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().kind, ErrorKind::kRefused);
  EXPECT_NE(plan.error().message.find(own), std::string::npos);

  // A plan made under another identity, applied by a tool signing with that key: apply refuses too.
  caller_.access_key_id = "AKIARESPONDERKEY0001";
  auto other = plan_for(*family_, c);
  ASSERT_TRUE(other.ok()) << other.error().describe();
  caller_.access_key_id = own;
  const Step* deact = find_step(*other, "deactivate-old-key");
  ASSERT_NE(deact, nullptr);
  auto before = family_->capture(c, *deact);
  ASSERT_TRUE(before.ok());
  auto r = family_->apply(c, *deact, *before);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kRefused);
  EXPECT_EQ(keys()[own], "Active");
}

TEST_F(IamRotateKeysTest, DeliveryToSecretsManagerAndRollbackDeletesTheSecret) {
  const std::string old = create_key(*client_, "svc").access_key_id;
  opts_.values.erase("iam.secret_out");
  opts_.values["iam.secret_manager_name"] = "containctl/svc-key";
  Context c = ctx();
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  const std::string fresh = (*applied)[0].applied["new_access_key_id"];
  auto value = client_->json("secretsmanager", "us-east-1", "secretsmanager", "GetSecretValue",
                             {{"SecretId", "containctl/svc-key"}});
  ASSERT_TRUE(value.ok()) << value.error().describe();
  json secret = json::parse((*value)["SecretString"].get<std::string>());
  EXPECT_EQ(secret["AccessKeyId"], fresh);
  EXPECT_FALSE(secret["SecretAccessKey"].get<std::string>().empty());

  must("rollback", rollback_all(*family_, c, *applied, {}));
  EXPECT_EQ(keys(), json({{old, "Active"}}));
  auto gone = client_->json("secretsmanager", "us-east-1", "secretsmanager", "DescribeSecret",
                            {{"SecretId", "containctl/svc-key"}});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "ResourceNotFoundException");
}

TEST_F(IamRotateKeysTest, DeliveryTargetIsNeverOverwritten) {
  create_key(*client_, "svc");
  Context c = ctx();
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok());
  // Someone creates the file between plan and apply: apply refuses before creating any key.
  std::ofstream(dir_ + "/new-key.json") << "precious";
  const json k = keys();
  auto r = apply_all(*family_, c, *plan);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(read_file(dir_ + "/new-key.json"), "precious");
  EXPECT_EQ(keys(), k);
  // And a plan with an existing file is rejected up front.
  auto again = plan_for(*family_, c);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kInvalidInput);
}

TEST_F(IamRotateKeysTest, RollbackKeepsTheNewKeyWhenTheOldOneIsGone) {
  const std::string old = create_key(*client_, "svc").access_key_id;
  Context c = ctx();
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok());
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok());
  iam_ok(*client_, "DeleteAccessKey", {{"UserName", "svc"}, {"AccessKeyId", old}});
  Status st = rollback_all(*family_, c, *applied, {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(old), std::string::npos);
  // The create-new-key rollback on its own refuses as well: the user keeps a working key.
  Status direct = family_->rollback(c, (*applied)[0].step, (*applied)[0].before, (*applied)[0].applied, {});
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.error().kind, ErrorKind::kRefused);
  EXPECT_EQ(keys().size(), 1u);
}

// A journaled before-state without a readable access_keys list (a damaged journal row) must fail
// the step, never read as "the user had no keys": that would make every current key look created
// since capture (apply-after-resume and rollback of create-new-key delete those) and make the
// rollback of deactivate-old-key reactivate nothing and pass.
TEST_F(IamRotateKeysTest, MalformedBeforeStateFailsTheStepAndChangesNoKey) {
  const std::string old = create_key(*client_, "svc").access_key_id;
  Context c = ctx();
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const Step* create = find_step(*plan, "create-new-key");
  const Step* deact = find_step(*plan, "deactivate-old-key");
  ASSERT_NE(create, nullptr);
  ASSERT_NE(deact, nullptr);
  const std::vector<json> malformed = {json(nullptr), json("garbage"), json::array(), json::object(),
                                       json{{"access_keys", "AKIA"}}, json{{"access_keys", json::object()}},
                                       json{{"access_keys", json::array({1})}}};
  const std::string out = dir_ + "/new-key.json";
  auto names_problem = [](const Error& e) { return e.message.find("access_keys") != std::string::npos; };
  for (const auto& bad : malformed) {
    SCOPED_TRACE(bad.dump());
    // Resumed apply with only the old key: it must not be taken for a key created since capture.
    auto r = family_->apply(c, *create, bad);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(names_problem(r.error())) << r.error().describe();
    EXPECT_EQ(keys(), json({{old, "Active"}}));
    EXPECT_FALSE(std::filesystem::exists(out));
  }

  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  const json after = keys();
  ASSERT_EQ(after.size(), 2u);
  ASSERT_EQ(after[old], "Inactive");
  for (const auto& bad : malformed) {
    SCOPED_TRACE(bad.dump());
    // Rollback of deactivate-old-key: fails rather than reactivating nothing and passing.
    Status d = family_->rollback(c, *deact, bad, json::object(), {});
    ASSERT_FALSE(d.ok());
    EXPECT_TRUE(names_problem(d.error())) << d.error().describe();
    Status dv = family_->verify_rollback(c, *deact, bad, {});
    ASSERT_FALSE(dv.ok());
    EXPECT_TRUE(names_problem(dv.error())) << dv.error().describe();
    // Rollback of create-new-key as after a crash in apply (nothing applied recorded): both keys
    // would count as new and be deleted.
    Status cr = family_->rollback(c, *create, bad, json::object(), {});
    ASSERT_FALSE(cr.ok());
    EXPECT_TRUE(names_problem(cr.error())) << cr.error().describe();
    EXPECT_EQ(keys(), after);
    EXPECT_TRUE(std::filesystem::exists(out));
  }
  // The journal's real before-states still roll back.
  must("rollback", rollback_all(*family_, c, *applied, {}));
  EXPECT_EQ(keys(), json({{old, "Active"}}));
}

TEST_F(IamRotateKeysTest, NeedsExactlyOneDeliveryTarget) {
  opts_.values.erase("iam.secret_out");
  Context c = ctx();
  auto none = plan_for(*family_, c);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("iam.secret_out"), std::string::npos);
  opts_.values["iam.secret_out"] = dir_ + "/a.json";
  opts_.values["iam.secret_manager_name"] = "x";
  EXPECT_FALSE(plan_for(*family_, c).ok());
}

}  // namespace
}  // namespace containctl::actions
