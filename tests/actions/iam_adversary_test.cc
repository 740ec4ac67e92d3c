// iam-contain against what an adversary holding credentials in the account can write: policy
// names, Sids, tags. None of it may make containctl skip, adopt or verify containment; only the
// effective content of a policy counts (docs/iam.md "What counts as contained").
#include <gtest/gtest.h>

#include "actions/iam_common.h"
#include "actions/iam_contain.h"
#include "tests/actions/iam_test_util.h"

namespace containctl::actions {
namespace {

using namespace iamtest;

aws::TimePoint t0() {
  aws::TimePoint t;
  aws::parse_time("2026-03-01T10:00:00Z", t);
  return t;
}

// ContainctlDenyAll with both of containctl's Sids, but it allows everything.
std::string decoy_user_policy() {
  return R"({"Version":"2012-10-17","Statement":[)"
         R"({"Sid":"ContainctlDenyAll","Effect":"Allow","Action":"*","Resource":"*"},)"
         R"({"Sid":"ContainctlDenyOlderSessions","Effect":"Allow","Action":"*","Resource":"*",)"
         R"("Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T09:00:00Z"}}}]})";
}

class IamAdversaryTest : public ::testing::Test {
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
  Context ctx(const Target& t, const std::string& run_id = "run-adv-1") {
    return Context{*client_, t, "us-east-1", run_id, caller_, opts_, {}, clock_};
  }
  Target user_target(const std::string& name) { return *parse_target_arn("arn:aws:iam::123456789012:user/" + name); }
  Target role_target(const std::string& name) { return *parse_target_arn("arn:aws:iam::123456789012:role/" + name); }
  void put_user_policy(const std::string& user, const std::string& name, const std::string& doc) {
    iam_ok(*client_, "PutUserPolicy", {{"UserName", user}, {"PolicyName", name}, {"PolicyDocument", doc}});
  }
  void put_role_policy(const std::string& role, const std::string& name, const std::string& doc) {
    iam_ok(*client_, "PutRolePolicy", {{"RoleName", role}, {"PolicyName", name}, {"PolicyDocument", doc}});
  }
  // A user whose only key is Inactive, so the deny policy alone decides "already contained".
  void make_user_without_active_key(const std::string& user) {
    iam_ok(*client_, "CreateUser", {{"UserName", user}});
    const std::string key = create_key(*client_, user).access_key_id;
    iam_ok(*client_, "UpdateAccessKey", {{"UserName", user}, {"AccessKeyId", key}, {"Status", "Inactive"}});
    put_user_policy(user, "AllowAll", allow_all_policy());
  }

  std::unique_ptr<aws::AwsClient> client_;
  Identity caller_;
  Options opts_;
  aws::ManualClock clock_{t0()};
  std::unique_ptr<ActionFamily> family_ = make_iam_contain();
};

TEST_F(IamAdversaryTest, DecoyUserPolicyWithOurNameAndSidsIsNotContainment) {
  make_user_without_active_key("mallory");
  put_user_policy("mallory", iam::kUserDenyPolicy, decoy_user_policy());
  const json original = user_state(*client_, "mallory");
  Target t = user_target("mallory");
  Context c = ctx(t);

  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_FALSE(plan->already_contained) << plan->note;
  const Step* deny = find_step(*plan, "deny-all");
  ASSERT_NE(deny, nullptr) << "the decoy must not stand in for the deny policy";

  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  const json contained = user_state(*client_, "mallory")["inline"][iam::kUserDenyPolicy];
  for (const auto& s : contained["Statement"]) EXPECT_EQ(s["Effect"], "Deny") << contained.dump();
  EXPECT_EQ(contained["Statement"].size(), 2u);

  // The decoy is the before-state: rollback puts it back byte for byte (as JSON).
  must("rollback", rollback_all(*family_, c, *applied, {}));
  EXPECT_EQ(user_state(*client_, "mallory"), original);
}

TEST_F(IamAdversaryTest, AnyNonEquivalentContentIsNotContainment) {
  make_user_without_active_key("eve");
  // Each differs from what containctl writes in one field; only the last two are equivalent.
  const std::vector<std::pair<std::string, bool>> cases = {
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"},)"
       R"({"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T09:00:00Z"}}}]})",
       false},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","Resource":"*"},)"
       R"({"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T09:00:00Z"}}}]})",
       false},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",)"
       R"("Condition":{"StringEquals":{"aws:username":"nobody"}}},)"
       R"({"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T09:00:00Z"}}}]})",
       false},
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"arn:aws:s3:::x"},)"
       R"({"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T09:00:00Z"}}}]})",
       false},
      // Same content without Sids and with single values as lists: that is containment.
      {R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"]},)"
       R"({"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T09:00:00Z"}}}]})",
       true},
      {R"({"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T09:00:00Z"}}},)"
       R"({"Sid":"y","Effect":"Deny","Action":"*","Resource":"*"}]})",
       true},
  };
  for (const auto& [doc, equivalent] : cases) {
    put_user_policy("eve", iam::kUserDenyPolicy, doc);
    Target t = user_target("eve");
    Context c = ctx(t);
    auto plan = plan_for(*family_, c);
    ASSERT_TRUE(plan.ok()) << plan.error().describe();
    EXPECT_EQ(plan->already_contained, equivalent) << doc;
    EXPECT_EQ(find_step(*plan, "deny-all") == nullptr, equivalent) << doc;
  }
}

TEST_F(IamAdversaryTest, VerifyJudgesContentNotSids) {
  make_user_without_active_key("trudy");
  Target t = user_target("trudy");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  const Step* deny = find_step(*plan, "deny-all");
  ASSERT_NE(deny, nullptr);
  // The adversary swaps our policy for the decoy (same name, same Sids): verify must say so.
  put_user_policy("trudy", iam::kUserDenyPolicy, decoy_user_policy());
  Status v = family_->verify(c, *deny);
  EXPECT_FALSE(v.ok());
  // And an apply resumed now must not take the decoy for its own work.
  auto again = family_->apply(c, *deny, (*applied)[1].before);
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_TRUE(family_->verify(c, *deny).ok());
}

TEST_F(IamAdversaryTest, DecoyRolePoliciesAreNotContainment) {
  iam_ok(*client_, "CreateRole", {{"RoleName", "app"}, {"AssumeRolePolicyDocument", "{}"}});
  // Our names and Sids, Effect Allow.
  put_role_policy("app", iam::kRoleRevokePolicy,
                  R"({"Version":"2012-10-17","Statement":[{"Sid":"ContainctlDenyOlderSessions","Effect":"Allow",)"
                  R"("Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T09:59:00Z"}}}]})");
  put_role_policy("app", iam::kRoleDenyPolicy,
                  R"({"Version":"2012-10-17","Statement":[{"Sid":"ContainctlDenyAll","Effect":"Allow","Action":"*","Resource":"*"}]})");
  const json original = role_state(*client_, "app");
  opts_.values["iam.full_deny"] = "true";
  Target t = role_target("app");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_FALSE(plan->already_contained) << plan->note;
  EXPECT_NE(find_step(*plan, "revoke-sessions"), nullptr);
  EXPECT_NE(find_step(*plan, "deny-all"), nullptr);

  clock_.advance(std::chrono::seconds(10));
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  const json contained = role_state(*client_, "app")["inline"];
  EXPECT_EQ(contained[iam::kRoleRevokePolicy]["Statement"][0]["Effect"], "Deny");
  EXPECT_EQ(contained[iam::kRoleDenyPolicy]["Statement"][0]["Effect"], "Deny");
  RollbackOptions forced;
  forced.force = true;
  must("rollback", rollback_all(*family_, c, *applied, forced));
  EXPECT_EQ(role_state(*client_, "app"), original);
}

TEST_F(IamAdversaryTest, RevocationWhoseCutoffRevokesNothingLiveIsNotContainment) {
  iam_ok(*client_, "CreateRole", {{"RoleName", "old"}, {"AssumeRolePolicyDocument", "{}"}});
  // containctl's exact content, but sessions issued before 2001 have all expired long ago.
  put_role_policy("old", iam::kRoleRevokePolicy,
                  R"({"Version":"2012-10-17","Statement":[{"Sid":"ContainctlDenyOlderSessions","Effect":"Deny","Action":"*",)"
                  R"("Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2001-01-01T00:00:00Z"}}}]})");
  Target t = role_target("old");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_FALSE(plan->already_contained) << plan->note;
  EXPECT_NE(find_step(*plan, "revoke-sessions"), nullptr);
}

TEST_F(IamAdversaryTest, RunTagIsNeverEvidenceOfContainment) {
  make_user_without_active_key("oscar");
  iam_ok(*client_, "TagUser",
         {{"UserName", "oscar"}, {"Tags.member.1.Key", iam::kRunTagKey}, {"Tags.member.1.Value", "run-adv-1"}});
  Target t = user_target("oscar");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_FALSE(plan->already_contained);
  EXPECT_NE(find_step(*plan, "deny-all"), nullptr);
}

TEST_F(IamAdversaryTest, TagCarriesTheRunIdOfTheApplyNotThePlan) {
  make_user_without_active_key("ivan");
  Target t = user_target("ivan");
  Context planning = ctx(t, "");  // plan has no run yet (orchestrator/planner.cc)
  auto plan = plan_for(*family_, planning);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const Step* tag = find_step(*plan, "tag");
  ASSERT_NE(tag, nullptr);
  EXPECT_FALSE(tag->args.contains("run_id")) << tag->args.dump();
  EXPECT_EQ(tag->after["tag"], iam::kRunIdPlaceholder);

  Context applying = ctx(t, "run-20260301-abc");
  auto applied = apply_all(*family_, applying, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  EXPECT_EQ(user_state(*client_, "ivan")["tags"][iam::kRunTagKey], "run-20260301-abc");
  // Verify compares with the run's id: another run's id does not hold.
  Context other = ctx(t, "run-other");
  EXPECT_FALSE(family_->verify(other, *tag).ok());
  EXPECT_TRUE(family_->verify(applying, *tag).ok());
}

TEST_F(IamAdversaryTest, UserPolicyChangedSinceApplyIsNotRolledBackWithoutForce) {
  make_user_without_active_key("judy");
  put_user_policy("judy", iam::kUserDenyPolicy, decoy_user_policy());
  const json original = user_state(*client_, "judy");
  Target t = user_target("judy");
  Context c = ctx(t);
  auto plan = plan_for(*family_, c);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  auto applied = apply_all(*family_, c, *plan);
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  // Someone changes the policy after apply (a stricter hand-written deny).
  const std::string changed =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]})";
  put_user_policy("judy", iam::kUserDenyPolicy, changed);
  Status st = rollback_all(*family_, c, *applied, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kRefused);
  EXPECT_NE(st.error().message.find("--force"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("changed since"), std::string::npos) << st.error().message;
  EXPECT_EQ(user_state(*client_, "judy")["inline"][iam::kUserDenyPolicy], json::parse(changed));
  RollbackOptions forced;
  forced.force = true;
  must("forced rollback", rollback_all(*family_, c, *applied, forced));
  EXPECT_EQ(user_state(*client_, "judy"), original);
}

TEST_F(IamAdversaryTest, RoleRollbackLeavesALaterRunsRevocationAndTag) {
  iam_ok(*client_, "CreateRole", {{"RoleName", "shared"}, {"AssumeRolePolicyDocument", "{}"}});
  const json original = role_state(*client_, "shared");
  Target t = role_target("shared");
  Context run_a = ctx(t, "run-a");
  auto plan_a = plan_for(*family_, run_a);
  ASSERT_TRUE(plan_a.ok()) << plan_a.error().describe();
  auto applied_a = apply_all(*family_, run_a, *plan_a);
  ASSERT_TRUE(applied_a.ok()) << applied_a.error().describe();

  // A second run moves the cutoff later (iam.refresh_revocation) and retags.
  clock_.advance(std::chrono::minutes(20));
  opts_.values["iam.refresh_revocation"] = "true";
  Context run_b = ctx(t, "run-b");
  auto plan_b = plan_for(*family_, run_b);
  ASSERT_TRUE(plan_b.ok()) << plan_b.error().describe();
  auto applied_b = apply_all(*family_, run_b, *plan_b);
  ASSERT_TRUE(applied_b.ok()) << applied_b.error().describe();
  const json after_b = role_state(*client_, "shared");
  EXPECT_EQ(iam::cutoff_of(after_b["inline"][iam::kRoleRevokePolicy].dump()), "2026-03-01T10:20:00Z");

  // Run A's rollback, after its hold: B's containment stays, with a message naming --force.
  clock_.advance(std::chrono::hours(2));
  Status st = rollback_all(*family_, run_a, *applied_a, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kRefused);
  EXPECT_NE(st.error().message.find("--force"), std::string::npos);
  EXPECT_EQ(role_state(*client_, "shared"), after_b);
  // The tag step alone: A's mark was replaced by B's, which stays.
  must("tag rollback", family_->rollback(run_a, (*applied_a)[1].step, (*applied_a)[1].before, (*applied_a)[1].applied, {}));
  must("tag verify", family_->verify_rollback(run_a, (*applied_a)[1].step, (*applied_a)[1].before, {}));
  EXPECT_EQ(role_state(*client_, "shared")["tags"][iam::kRunTagKey], "run-b");

  // B's rollback restores A's containment exactly; then A's rollback restores the original.
  must("rollback b", rollback_all(*family_, run_b, *applied_b, {}));
  EXPECT_EQ(iam::cutoff_of(role_state(*client_, "shared")["inline"][iam::kRoleRevokePolicy].dump()),
            "2026-03-01T10:00:00Z");
  must("rollback a", rollback_all(*family_, run_a, *applied_a, {}));
  EXPECT_EQ(role_state(*client_, "shared"), original);
}

}  // namespace
}  // namespace containctl::actions
