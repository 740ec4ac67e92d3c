// iam-contain against moto with signature checking off: plan contents, apply/verify, exact restore,
// idempotency, interlocks, options, roles and a second account. Enforcement under signature checking
// is in iam_contain_auth_test.cc.
#include <gtest/gtest.h>

#include "actions/iam_common.h"
#include "actions/iam_contain.h"
#include "actions/registry.h"
#include "aws/assume_role.h"
#include "tests/actions/iam_test_util.h"

namespace containctl::actions {
namespace {

using namespace iamtest;

aws::TimePoint t0() {
  aws::TimePoint t;
  aws::parse_time("2026-03-01T10:00:00Z", t);
  return t;
}

class IamContainTest : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() {
    static testing::MotoServer server;
    return server;
  }
  void SetUp() override {
    moto().reset();
    client_ = moto().client();
    caller_ = {"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDARESPONDER", "AKIARESPONDERKEY0001"};
  }
  Context ctx(const Target& t) { return Context{*client_, t, "us-east-1", "run-test-1", caller_, opts_, {}, clock_}; }
  Target user_target(const std::string& name, const std::string& account = "123456789012") {
    auto t = parse_target_arn("arn:aws:iam::" + account + ":user/" + name);
    EXPECT_TRUE(t.ok());
    return *t;
  }
  Target role_target(const std::string& name) { return *parse_target_arn("arn:aws:iam::123456789012:role/" + name); }

  // mallory: one active and one inactive key, a console password, two inline policies, a managed
  // policy, a group and a tag.
  void make_mallory(aws::AwsClient& c) {
    iam_ok(c, "CreateUser", {{"UserName", "mallory"}});
    active_ = create_key(c, "mallory").access_key_id;
    inactive_ = create_key(c, "mallory").access_key_id;
    iam_ok(c, "UpdateAccessKey", {{"UserName", "mallory"}, {"AccessKeyId", inactive_}, {"Status", "Inactive"}});
    iam_ok(c, "CreateLoginProfile", {{"UserName", "mallory"}, {"Password", "Orig-Passw0rd!x"}});
    iam_ok(c, "PutUserPolicy", {{"UserName", "mallory"}, {"PolicyName", "AllowAll"}, {"PolicyDocument", allow_all_policy()}});
    iam_ok(c, "PutUserPolicy",
           {{"UserName", "mallory"},
            {"PolicyName", "ReadBuckets"},
            {"PolicyDocument",
             R"({"Version":"2012-10-17","Statement":[{"Sid":"R","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]})"}});
    auto pol = iam_ok(c, "CreatePolicy", {{"PolicyName", "Managed"}, {"PolicyDocument", allow_all_policy()}});
    iam_ok(c, "AttachUserPolicy", {{"UserName", "mallory"}, {"PolicyArn", aws::xml_text(pol.root(), "Arn")}});
    iam_ok(c, "CreateGroup", {{"GroupName", "devs"}});
    iam_ok(c, "AddUserToGroup", {{"GroupName", "devs"}, {"UserName", "mallory"}});
    iam_ok(c, "TagUser", {{"UserName", "mallory"}, {"Tags.member.1.Key", "team"}, {"Tags.member.1.Value", "red"}});
  }

  std::unique_ptr<aws::AwsClient> client_;
  Identity caller_;
  Options opts_;
  aws::ManualClock clock_{t0()};
  std::unique_ptr<ActionFamily> family_ = make_iam_contain();
  std::string active_, inactive_;
};

TEST_F(IamContainTest, RegisteredAndHandlesUsersAndRoles) {
  ActionFamily* f = find_family("iam-contain");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->handles(user_target("a")));
  EXPECT_TRUE(f->handles(role_target("r")));
  EXPECT_FALSE(f->handles(*parse_target_arn("arn:aws:s3:::some-bucket")));
}

TEST_F(IamContainTest, UserContainThenRollbackRestoresExactState) {
  make_mallory(*client_);
  const json original = user_state(*client_, "mallory");
  Target t = user_target("mallory");
  Context c = ctx(t);

  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_FALSE(plan->already_contained);
  const Step* keys = find_step(*plan, "deactivate-keys");
  ASSERT_NE(keys, nullptr);
  EXPECT_EQ(keys->args["key_ids"], json::array({active_}));  // only the active key
  EXPECT_NE(find_step(*plan, "deny-all"), nullptr);
  ASSERT_NE(find_step(*plan, "tag"), nullptr);
  EXPECT_TRUE(find_step(*plan, "tag")->cosmetic) << "the run tag never holds up the deny";
  EXPECT_FALSE(find_step(*plan, "deny-all")->cosmetic);
  EXPECT_EQ(find_step(*plan, "disable-console"), nullptr);  // only with the option
  bool says_keys_stay_off = false;
  for (const auto& w : plan->warnings) says_keys_stay_off |= w.find("--reactivate-keys") != std::string::npos;
  EXPECT_TRUE(says_keys_stay_off);
  for (const auto& s : plan->steps) EXPECT_TRUE(s.depends_on.empty()) << s.id << " should run in parallel";

  // The cutoff is the apply time, not the plan time.
  clock_.advance(std::chrono::minutes(7));
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  json contained = user_state(*client_, "mallory");
  EXPECT_EQ(contained["keys"][active_], "Inactive");
  EXPECT_EQ(contained["keys"][inactive_], "Inactive");
  ASSERT_TRUE(contained["inline"].contains(iam::kUserDenyPolicy));
  const json& deny = contained["inline"][iam::kUserDenyPolicy];
  EXPECT_EQ(iam::cutoff_of(deny.dump()), "2026-03-01T10:07:00Z");
  EXPECT_TRUE(iam::has_sid(deny.dump(), iam::kSidDenyAll));
  EXPECT_EQ(contained["tags"][iam::kRunTagKey], "run-test-1");
  EXPECT_EQ(contained["inline"]["AllowAll"], original["inline"]["AllowAll"]);
  EXPECT_TRUE(contained["login_profile"].get<bool>());

  RollbackOptions ro;
  ro.reactivate_keys = true;
  must("rollback", rollback_all(*family_, c, *applied, ro));
  EXPECT_EQ(user_state(*client_, "mallory"), original);
}

TEST_F(IamContainTest, RollbackLeavesKeysInactiveUnlessAskedAndIsIdempotent) {
  make_mallory(*client_);
  json original = user_state(*client_, "mallory");
  Target t = user_target("mallory");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();

  // Re-applying (resume after a crash) changes nothing, even later: the first cutoff stays.
  const json first = user_state(*client_, "mallory");
  clock_.advance(std::chrono::hours(1));
  for (const auto& j : *applied) {
    auto again = family_->apply(c, j.step, j.before);
    ASSERT_TRUE(again.ok()) << j.step.id << ": " << again.error().describe();
  }
  EXPECT_EQ(user_state(*client_, "mallory"), first);

  RollbackOptions ro;  // default: keys stay off
  must("rollback", rollback_all(*family_, c, *applied, ro));
  must("rollback twice", rollback_all(*family_, c, *applied, ro));
  // The process died mid-step: applied is null.
  std::vector<Journaled> unjournaled = *applied;
  for (auto& j : unjournaled) j.applied = nullptr;
  must("rollback with null applied", rollback_all(*family_, c, unjournaled, ro));

  json after = user_state(*client_, "mallory");
  EXPECT_EQ(after["keys"][active_], "Inactive");
  after["keys"][active_] = "Active";
  EXPECT_EQ(after, original);
}

// rollback --reactivate-keys with a journaled before-state that holds no access_keys list (a
// damaged journal row) must fail the step, not reactivate nothing and report success.
TEST_F(IamContainTest, ReactivateWithAMalformedBeforeStateFails) {
  make_mallory(*client_);
  Target t = user_target("mallory");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  const Step* keys = find_step(*plan, "deactivate-keys");
  ASSERT_NE(keys, nullptr);
  const json contained = user_state(*client_, "mallory");
  ASSERT_EQ(contained["keys"][active_], "Inactive");
  RollbackOptions ro;
  ro.reactivate_keys = true;
  for (const json& bad : {json(nullptr), json::object(), json{{"access_keys", "x"}}, json{{"access_keys", json::array({1})}}}) {
    SCOPED_TRACE(bad.dump());
    Status r = family_->rollback(c, *keys, bad, json::object(), ro);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("access_keys"), std::string::npos) << r.error().describe();
    Status v = family_->verify_rollback(c, *keys, bad, ro);
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("access_keys"), std::string::npos) << v.error().describe();
    EXPECT_EQ(user_state(*client_, "mallory"), contained);
  }
}

TEST_F(IamContainTest, AlreadyContainedUserHasNoSteps) {
  make_mallory(*client_);
  Target t = user_target("mallory");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok());
  ASSERT_TRUE(apply_all(*family_, c, *plan).ok());
  auto again = plan_for(*family_, c);
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_TRUE(again->already_contained);
  EXPECT_TRUE(again->steps.empty());
  EXPECT_NE(again->note.find("already contained"), std::string::npos);
}

TEST_F(IamContainTest, FindingKeyIsDeactivatedFirstAndBadKeysAreRejected) {
  iam_ok(*client_, "CreateUser", {{"UserName", "bob"}});
  std::string k1 = create_key(*client_, "bob").access_key_id;
  std::string k2 = create_key(*client_, "bob").access_key_id;
  Target t = user_target("bob");
  opts_.values["iam.access_key_id"] = k2;
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const Step* keys = find_step(*plan, "deactivate-keys");
  ASSERT_NE(keys, nullptr);
  EXPECT_EQ(keys->args["key_ids"], json::array({k2, k1}));
  EXPECT_EQ(keys->calls.front().params["AccessKeyId"], k2);
  EXPECT_NE(keys->description.find("named in the finding"), std::string::npos);

  opts_.values["iam.access_key_id"] = "ASIAEXAMPLETEMPKEY01";
  auto asia = plan_for(*family_, c);
  ASSERT_FALSE(asia.ok());
  EXPECT_EQ(asia.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(asia.error().message.find("role"), std::string::npos);

  opts_.values["iam.access_key_id"] = "AKIANOTBOBSKEY000001";
  auto other = plan_for(*family_, c);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("AKIANOTBOBSKEY000001"), std::string::npos);
}

TEST_F(IamContainTest, RefusesTheCallerItselfAndTheUserOwningTheCallersKey) {
  iam_ok(*client_, "CreateUser", {{"UserName", "responder"}});
  std::string own = create_key(*client_, "responder").access_key_id;
  const json before = user_state(*client_, "responder");
  Target t = user_target("responder");
  Context c = ctx(t);
  auto by_arn = family_->discover(c);
  ASSERT_FALSE(by_arn.ok());
  EXPECT_EQ(by_arn.error().kind, ErrorKind::kRefused);

  caller_.arn = "arn:aws:sts::123456789012:assumed-role/Other/s";
  caller_.user_id = "AROAOTHER:s";
  caller_.access_key_id = own;
  auto by_key = family_->discover(c);
  ASSERT_FALSE(by_key.ok());
  EXPECT_EQ(by_key.error().kind, ErrorKind::kRefused);
  EXPECT_NE(by_key.error().message.find(own), std::string::npos);
  EXPECT_EQ(user_state(*client_, "responder"), before);
}

TEST_F(IamContainTest, UnknownUserIsAnErrorNamingIt) {
  Target t = user_target("ghost");
  Context c = ctx(t);
  auto d = family_->discover(c);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("ghost"), std::string::npos);
}

TEST_F(IamContainTest, ConsoleAndMfaOptionsAreIrreversibleAndPasswordGoesToA0600File) {
  make_mallory(*client_);
  auto mfa = iam_ok(*client_, "CreateVirtualMFADevice", {{"VirtualMFADeviceName", "evil"}});
  const std::string serial = aws::xml_text(mfa.root(), "SerialNumber");
  iam_ok(*client_, "EnableMFADevice", {{"UserName", "mallory"}, {"SerialNumber", serial},
                                       {"AuthenticationCode1", "123456"}, {"AuthenticationCode2", "654321"}});
  const std::string dir = temp_dir();
  const std::string pw = dir + "/pw.json";
  opts_.values["iam.disable_console"] = "true";
  opts_.values["iam.deactivate_mfa"] = serial;
  opts_.values["iam.password_out"] = pw;
  Target t = user_target("mallory");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const Step* console = find_step(*plan, "disable-console");
  const Step* dev = find_step(*plan, "deactivate-mfa");
  ASSERT_TRUE(console && dev);
  EXPECT_FALSE(console->reversible);
  EXPECT_FALSE(dev->reversible);
  EXPECT_NE(console->warnings.front().find("IRREVERSIBLE"), std::string::npos);
  EXPECT_NE(console->warnings.front().find(pw), std::string::npos);

  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  json contained = user_state(*client_, "mallory");
  EXPECT_FALSE(contained["login_profile"].get<bool>());
  EXPECT_TRUE(contained["mfa"].empty());

  RollbackOptions ro;
  ro.reactivate_keys = true;
  must("rollback", rollback_all(*family_, c, *applied, ro));
  json after = user_state(*client_, "mallory");
  EXPECT_TRUE(after["login_profile"].get<bool>());
  EXPECT_TRUE(after["mfa"].empty());  // irreversible
  EXPECT_EQ(file_mode(pw), 0600);
  json file = json::parse(read_file(pw));
  EXPECT_EQ(file["UserName"], "mallory");
  EXPECT_GE(file["Password"].get<std::string>().size(), 20u);
  EXPECT_TRUE(file["PasswordResetRequired"].get<bool>());
  // A second rollback finds the profile in place and writes nothing new.
  must("rollback twice", rollback_all(*family_, c, *applied, ro));
  EXPECT_EQ(json::parse(read_file(pw)), file);

  // An MFA serial the user does not have is rejected at plan time.
  opts_.values["iam.deactivate_mfa"] = "arn:aws:iam::123456789012:mfa/nope";
  opts_.values.erase("iam.password_out");
  auto bad = plan_for(*family_, c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("mfa/nope"), std::string::npos);
}

TEST_F(IamContainTest, PasswordOutMustBeANewFile) {
  make_mallory(*client_);
  const std::string dir = temp_dir();
  std::ofstream(dir + "/exists.json") << "x";
  opts_.values["iam.disable_console"] = "true";
  opts_.values["iam.password_out"] = dir + "/exists.json";
  Target t = user_target("mallory");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(plan.error().message.find("exists"), std::string::npos);
}

TEST_F(IamContainTest, RoleRevocationHoldsForMaxSessionDurationUnlessForced) {
  iam_ok(*client_, "CreateRole", {{"RoleName", "app"}, {"AssumeRolePolicyDocument", "{}"}, {"MaxSessionDuration", "7200"}});
  iam_ok(*client_, "PutRolePolicy", {{"RoleName", "app"}, {"PolicyName", "AllowAll"}, {"PolicyDocument", allow_all_policy()}});
  const json original = role_state(*client_, "app");
  Target t = role_target("app");
  opts_.values["iam.full_deny"] = "true";
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const Step* revoke = find_step(*plan, "revoke-sessions");
  ASSERT_NE(revoke, nullptr);
  EXPECT_EQ(revoke->min_hold_seconds, 7200);
  std::string warnings;
  for (const auto& w : revoke->warnings) warnings += w;
  EXPECT_NE(warnings.find("legitimate"), std::string::npos);
  EXPECT_NE(warnings.find("7200"), std::string::npos);
  ASSERT_NE(find_step(*plan, "deny-all"), nullptr);

  clock_.advance(std::chrono::seconds(30));
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  json contained = role_state(*client_, "app");
  EXPECT_EQ(iam::cutoff_of(contained["inline"][iam::kRoleRevokePolicy].dump()), "2026-03-01T10:00:30Z");
  EXPECT_TRUE(contained["inline"].contains(iam::kRoleDenyPolicy));

  // Too early: refused, and the revocation stays.
  clock_.advance(std::chrono::seconds(7100));
  Status early = rollback_all(*family_, c, *applied, {});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().kind, ErrorKind::kRefused);
  EXPECT_NE(early.error().message.find("--force"), std::string::npos);
  EXPECT_TRUE(role_state(*client_, "app")["inline"].contains(iam::kRoleRevokePolicy));
  // Also with applied lost (crash): the cutoff is read back from the live policy.
  Status early_null = family_->rollback(c, (*applied)[0].step, (*applied)[0].before, nullptr, {});
  ASSERT_FALSE(early_null.ok());
  EXPECT_EQ(early_null.error().kind, ErrorKind::kRefused);

  RollbackOptions forced;
  forced.force = true;
  must("forced rollback", rollback_all(*family_, c, *applied, forced));
  EXPECT_EQ(role_state(*client_, "app"), original);
}

TEST_F(IamContainTest, RoleRollbackAfterTheHoldNeedsNoForce) {
  iam_ok(*client_, "CreateRole", {{"RoleName", "app"}, {"AssumeRolePolicyDocument", "{}"}});
  const json original = role_state(*client_, "app");
  Target t = role_target("app");
  opts_.values["iam.access_key_id"] = "ASIAFINDINGKEY000001";
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_NE(plan->note.find("ASIAFINDINGKEY000001"), std::string::npos);
  EXPECT_EQ(find_step(*plan, "revoke-sessions")->min_hold_seconds, 3600);
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  auto again = plan_for(*family_, c);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_contained);
  clock_.advance(std::chrono::seconds(3601));
  must("rollback", rollback_all(*family_, c, *applied, {}));
  EXPECT_EQ(role_state(*client_, "app"), original);
}

TEST_F(IamContainTest, ServiceLinkedRoleAndOwnRoleAreRefused) {
  auto slr = iam_ok(*client_, "CreateServiceLinkedRole", {{"AWSServiceName", "elasticbeanstalk.amazonaws.com"}});
  const std::string name = aws::xml_text(slr.root(), "RoleName");
  Target t = role_target(name);
  Context c = ctx(t);
  auto d = family_->discover(c);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().kind, ErrorKind::kRefused);
  EXPECT_NE(d.error().message.find("service-linked"), std::string::npos);
  EXPECT_TRUE(role_state(*client_, name)["inline"].empty());

  iam_ok(*client_, "CreateRole", {{"RoleName", "ContainctlContainment"}, {"AssumeRolePolicyDocument", "{}"}});
  caller_.arn = "arn:aws:sts::123456789012:assumed-role/ContainctlContainment/containctl";
  Target own = role_target("ContainctlContainment");
  Context c2 = ctx(own);
  auto self = family_->discover(c2);
  ASSERT_FALSE(self.ok());
  EXPECT_EQ(self.error().kind, ErrorKind::kRefused);
}

TEST_F(IamContainTest, UserInASecondAccountThroughAssumeRole) {
  auto creds = aws::assume_role(*client_, {"arn:aws:iam::222222222222:role/ContainctlContainment", "222222222222",
                                           "test", 3600, "us-east-1"});
  ASSERT_TRUE(creds.ok()) << creds.error().describe();
  auto member = moto().client(*creds);
  make_mallory(*member);
  const json original = user_state(*member, "mallory");
  // Not visible in the management account.
  EXPECT_FALSE(client_->query("iam", "us-east-1", "GetUser", {{"UserName", "mallory"}}).ok());

  Target t = user_target("mallory", "222222222222");
  Context c{*member, t, "us-east-1", "run-test-1", caller_, opts_, {}, clock_};
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_NE(plan->discovered["arn"].get<std::string>().find("222222222222"), std::string::npos);
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  EXPECT_TRUE(user_state(*member, "mallory")["inline"].contains(iam::kUserDenyPolicy));
  RollbackOptions ro;
  ro.reactivate_keys = true;
  must("rollback", rollback_all(*family_, c, *applied, ro));
  EXPECT_EQ(user_state(*member, "mallory"), original);
}

}  // namespace
}  // namespace containctl::actions
