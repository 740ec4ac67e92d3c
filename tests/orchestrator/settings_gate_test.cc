// Settings parsing (org/account override, typos, bad values) and the gate's decisions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "orchestrator/gate.h"
#include "orchestrator/plan_file.h"
#include "orchestrator/settings.h"

namespace containctl::orch {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("cc-settings-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << text;
  return p.string();
}

const char* kSettings = R"({
  "organization": {"id": "o-1", "mode": "approval", "actions": ["ec2-isolate", "iam-contain", "s3-contain"],
                   "auto_scope": "confirmed", "approvals_required": 2},
  "accounts": {"111122223333": {"mode": "auto", "actions": ["ec2-isolate"]},
               "444455556666": {"mode": "none"}},
  "approvers": {"alice": "keys/alice.pub.pem"},
  "protected": ["arn:aws:iam::*:role/BreakGlass*"],
  "member_role_name": "ContainctlContainment",
  "max_targets_per_run": 5
})";

actions::Identity caller() {
  return {"999988887777", "arn:aws:sts::999988887777:assumed-role/IncidentResponder/bob", "AROA:bob", "ASIAEXAMPLE"};
}

GateInput in(const std::string& account, const std::string& family, const std::string& arn,
             const std::string& confidence = "confirmed") {
  return {account, family, arn, confidence, std::nullopt, std::chrono::system_clock::now()};
}

TEST(Settings, NoFileMeansModeNoneAndEverythingRefused) {
  auto s = load_settings("/nonexistent/settings.json");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->present);
  auto d = evaluate_gate(*s, caller(), in("111122223333", "ec2-isolate", "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0"));
  EXPECT_EQ(d.decision, "refused");
  EXPECT_NE(d.reason.find("no settings file"), std::string::npos);
}

TEST(Settings, AccountOverridesOrganizationFieldByField) {
  auto s = load_settings(write_temp("ok.json", kSettings));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EffectiveSettings e = effective_settings(*s, "111122223333");
  EXPECT_EQ(e.mode, "auto");
  EXPECT_EQ(e.source["mode"], "account");
  EXPECT_EQ(e.actions, std::vector<std::string>{"ec2-isolate"});
  EXPECT_EQ(e.approvals_required, 2);  // inherited
  EXPECT_EQ(e.source["approvals_required"], "organization");
  EXPECT_EQ(effective_settings(*s, "000000000000").mode, "approval");
  EXPECT_TRUE(s->approvers["alice"].public_key.ends_with("/keys/alice.pub.pem")) << "relative to the settings file";
}

TEST(Settings, TyposAndBadValuesNameTheFileAndField) {
  auto typo = load_settings(write_temp("typo.json", R"({"organization": {"mdoe": "auto"}})"));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("organization.mdoe"), std::string::npos);
  EXPECT_NE(typo.error().message.find("did you mean 'mode'"), std::string::npos);
  auto mode = load_settings(write_temp("mode.json", R"({"organization": {"mode": "automatic"}})"));
  ASSERT_FALSE(mode.ok());
  EXPECT_NE(mode.error().message.find("organization.mode"), std::string::npos);
  auto fam = load_settings(write_temp("fam.json", R"({"accounts": {"111122223333": {"actions": ["ec2-isolat"]}}})"));
  ASSERT_FALSE(fam.ok());
  EXPECT_NE(fam.error().message.find("ec2-isolate"), std::string::npos);
  auto acct = load_settings(write_temp("acct.json", R"({"accounts": {"1234": {"mode": "auto"}}})"));
  ASSERT_FALSE(acct.ok());
  auto trunc = load_settings(write_temp("trunc.json", R"({"organization": {"mode": )"));
  ASSERT_FALSE(trunc.ok());
  EXPECT_NE(trunc.error().message.find("trunc.json"), std::string::npos);
}

TEST(Settings, ExecutorAndRateLimits) {
  auto none = load_settings("/nonexistent/settings.json");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->workers, 8);
  EXPECT_EQ(none->per_account_region, 4);
  EXPECT_TRUE(none->rate_limits.empty());
  auto s = load_settings(write_temp("limits.json", R"({"executor": {"workers": 64, "per_account_region": 16},
      "rate_limits": {"iam": {"rate_per_second": 10, "burst": 20}, "s3/PutBucketPolicy": {"rate_per_second": 3}}})"));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->workers, 64);
  EXPECT_EQ(s->per_account_region, 16);
  ASSERT_EQ(s->rate_limits.size(), 2u);
  EXPECT_EQ(s->rate_limits["iam"].rate_per_second, 10);
  EXPECT_EQ(s->rate_limits["iam"].burst, 20);
  EXPECT_EQ(s->rate_limits["s3/PutBucketPolicy"].burst, 3);  // burst defaults to one second's worth
  struct Bad {
    const char* text;
    const char* names;
  } bad[] = {
      {R"({"executor": {"worker": 4}})", "executor.worker"},
      {R"({"executor": {"workers": 0}})", "executor.workers"},
      {R"({"rate_limits": {"iam": {"rate_per_second": 0}}})", "rate_limits.iam.rate_per_second"},
      {R"({"rate_limits": {"iam": {"rate_per_second": 5, "burst": 0.5}}})", "rate_limits.iam.burst"},
      {R"({"rate_limits": {"IAM Service": {"rate_per_second": 5}}})", "rate_limits.IAM Service"},
      {R"({"rate_limits": {"iam": {"rate": 5}}})", "rate_limits.iam.rate"},
  };
  for (const auto& b : bad) {
    auto r = load_settings(write_temp("bad.json", b.text));
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_NE(r.error().message.find(b.names), std::string::npos) << r.error().message;
  }
}

TEST(Settings, StateBackend) {
  auto none = load_settings("/nonexistent/settings.json");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->state.backend, "sqlite");
  auto team = load_settings(write_temp("state.json", R"({"state": {"backend": "aws", "table": "containctl-state",
      "bucket": "containctl-state-111122223333", "region": "us-east-1"}})"));
  ASSERT_TRUE(team.ok()) << team.error().describe();
  EXPECT_EQ(team->state.backend, "aws");
  EXPECT_EQ(team->state.table, "containctl-state");
  EXPECT_EQ(team->state.bucket, "containctl-state-111122223333");
  EXPECT_EQ(team->state.region, "us-east-1");
  struct Bad { const char* text; const char* field; };
  for (const Bad& b : {Bad{R"({"state": {"backend": "dynamo"}})", "state.backend"},
                       Bad{R"({"state": {"backend": "aws", "bucket": "b-123"}})", "state.table"},
                       Bad{R"({"state": {"backend": "aws", "table": "t-1"}})", "state.bucket"},
                       Bad{R"({"state": {"backend": "aws", "table": "t-1", "bucket": "Not_A_Bucket"}})", "state.bucket"},
                       Bad{R"({"state": {"backend": "sqlite", "table": "t-1"}})", "state.table"},
                       Bad{R"({"state": {"backend": "aws", "table": "t-1", "bucket": "b-1", "tabel": "x"}})", "state.tabel"},
                       Bad{R"({"state": "aws"})", "state"}}) {
    auto r = load_settings(write_temp("badstate.json", b.text));
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_NE(r.error().message.find(std::string("'") + b.field + "'"), std::string::npos) << r.error().message;
  }
}

// A settings file (or the organization's copy from S3 or SSM) with a huge value gets the same clear
// error as any bad value; std::regex recursed once per character and overflowed the stack.
TEST(Settings, HugeValuesAreRefusedWithTheFieldNamed) {
  const std::string huge(200000, 'a');
  struct Bad { std::string text; const char* field; };
  for (const Bad& b : {Bad{R"({"approvers": {"alice": {"public_key": "a.pem", "principals": ["arn:aws:iam::111122223333:user/)" +
                               huge + R"("]}}})", "approvers.alice.principals[0]"},
                       Bad{R"({"state": {"backend": "aws", "table": "t-1", "bucket": "b-1", "region": "us-)" + huge + R"(-1"}})",
                           "state.region"},
                       Bad{R"({"rate_limits": {")" + huge + R"(": {"rate_per_second": 5}}})", "rate_limits.aaaa"}}) {
    auto r = load_settings(write_temp("huge.json", b.text));
    ASSERT_FALSE(r.ok()) << b.field;
    EXPECT_NE(r.error().message.find(b.field), std::string::npos) << r.error().message.substr(0, 300);
  }
}

// A number too large for a double is a clear error, not an uncaught nlohmann out_of_range (found by
// fuzz_settings).
TEST(Settings, ANumberBeyondADoubleIsAClearError) {
  auto r = load_settings(write_temp("big.json", R"({"max_targets_per_run": 1e999})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidSettings");
  EXPECT_NE(r.error().message.find("number overflow"), std::string::npos) << r.error().message;
}

TEST(Gate, DecisionsFollowModeScopeFamilyAndProtection) {
  auto s = *load_settings(write_temp("gate.json", kSettings));
  const std::string inst = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0";
  EXPECT_EQ(evaluate_gate(s, caller(), in("111122223333", "ec2-isolate", inst)).decision, "auto");
  // auto_scope confirmed: a suspected target needs approval.
  EXPECT_EQ(evaluate_gate(s, caller(), in("111122223333", "ec2-isolate", inst, "suspected")).decision, "approval");
  // The account only allows ec2-isolate.
  EXPECT_EQ(evaluate_gate(s, caller(), in("111122223333", "iam-contain", "arn:aws:iam::111122223333:user/x")).decision,
            "refused");
  auto appr = evaluate_gate(s, caller(), in("000000000000", "iam-contain", "arn:aws:iam::000000000000:user/x"));
  EXPECT_EQ(appr.decision, "approval");
  EXPECT_EQ(appr.approvals_required, 2);
  EXPECT_EQ(evaluate_gate(s, caller(), in("444455556666", "iam-contain", "arn:aws:iam::444455556666:user/x")).decision,
            "refused");
  // Protected: settings globs, the caller itself (even across the STS/IAM ARN forms), the containment role.
  EXPECT_EQ(evaluate_gate(s, caller(), in("000000000000", "iam-contain", "arn:aws:iam::000000000000:role/BreakGlassAdmin")).decision,
            "refused");
  auto self = evaluate_gate(s, caller(), in("999988887777", "iam-contain", "arn:aws:iam::999988887777:role/ops/IncidentResponder"));
  EXPECT_EQ(self.decision, "refused");
  EXPECT_NE(self.reason.find("identity containctl runs as"), std::string::npos);
  EXPECT_EQ(evaluate_gate(s, caller(), in("000000000000", "iam-contain", "arn:aws:iam::000000000000:role/ContainctlContainment")).decision,
            "refused");
}

// IAM names are unique ignoring case and path: a protected role stays protected whichever path or
// spelling a target names it by, and so do the caller and the containment role.
TEST(Gate, ProtectionIgnoresIamPathAndCase) {
  Settings s = *load_settings(write_temp("gate-case.json", kSettings));
  s.protected_arns = {"arn:aws:iam::111122223333:role/BreakGlass"};
  for (const char* t : {"arn:aws:iam::111122223333:role/BreakGlass", "arn:aws:iam::111122223333:role/x/BreakGlass",
                        "arn:aws:iam::111122223333:role/breakglass", "arn:aws:iam::111122223333:role/a/b/BREAKGLASS"})
    EXPECT_NE(protection_reason(s, caller(), t).find("protected by settings"), std::string::npos) << t;
  EXPECT_EQ(protection_reason(s, caller(), "arn:aws:iam::111122223333:role/BreakGlass2"), "");
  EXPECT_EQ(protection_reason(s, caller(), "arn:aws:iam::111122223333:user/BreakGlass"), "");
  EXPECT_EQ(protection_reason(s, caller(), "arn:aws:iam::444455556666:role/BreakGlass"), "");
  EXPECT_NE(protection_reason(s, caller(), "arn:aws:iam::999988887777:role/incidentresponder").find("runs as"),
            std::string::npos);
  EXPECT_NE(protection_reason(s, caller(), "arn:aws:iam::000000000000:role/p/containctlcontainment").find("containment role"),
            std::string::npos);
}

// Every link of the identity chain is protected: the source user behind an assumed role, the
// instance serving metadata credentials (by id, whatever region the target names).
TEST(Gate, IdentityChainLinksAreProtected) {
  Settings s = *load_settings(write_temp("gate-chain.json", kSettings));
  actions::Identity me = caller();
  me.chain = {{"arn:aws:iam::999988887777:user/base-user", "AKIABASE", "the source identity behind role R"},
              {"arn:aws:ec2:us-east-1:999988887777:instance/i-0123456789abcdef0", "", "the instance"}};
  auto user = protection_reason(s, me, "arn:aws:iam::999988887777:user/ops/Base-User");
  EXPECT_NE(user.find("part of the identity containctl runs as"), std::string::npos) << user;
  EXPECT_NE(user.find("source identity"), std::string::npos) << user;
  EXPECT_NE(protection_reason(s, me, "arn:aws:ec2:eu-west-1:999988887777:instance/i-0123456789abcdef0"), "");
  EXPECT_EQ(protection_reason(s, me, "arn:aws:ec2:us-east-1:999988887777:instance/i-0123456789abcdef1"), "");
  EXPECT_EQ(protection_reason(s, me, "arn:aws:iam::111122223333:user/base-user"), "");
  EXPECT_EQ(protection_reason(s, caller(), "arn:aws:iam::999988887777:user/base-user"), "");  // no chain, no link
}

TEST(Gate, RecentRollbackNeedsApprovalForAutomaticRuns) {
  auto s = *load_settings(write_temp("guard.json", kSettings));
  GateInput g = in("111122223333", "ec2-isolate", "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0");
  g.last_rollback = g.now - std::chrono::hours(3);
  auto d = evaluate_gate(s, caller(), g);
  EXPECT_EQ(d.decision, "approval");
  EXPECT_NE(d.reason.find("rolled back"), std::string::npos);
  g.last_rollback = g.now - std::chrono::hours(25);
  EXPECT_EQ(evaluate_gate(s, caller(), g).decision, "auto");
}

TEST(Gate, GlobMatching) {
  EXPECT_TRUE(glob_match("arn:aws:iam::*:role/BreakGlass*", "arn:aws:iam::123456789012:role/BreakGlassOps"));
  EXPECT_FALSE(glob_match("arn:aws:iam::*:role/BreakGlass*", "arn:aws:iam::123456789012:user/BreakGlassOps"));
  EXPECT_TRUE(glob_match("arn:aws:s3:::logs-??", "arn:aws:s3:::logs-01"));
  EXPECT_EQ(principal_arn("arn:aws:sts::123456789012:assumed-role/R/s"), "arn:aws:iam::123456789012:role/R");
}

TEST(PlanFile, HashBindsEveryFieldAndEditsAreRefused) {
  nlohmann::json plan = {{"format", kPlanFormat}, {"requester", "bob"}, {"targets", nlohmann::json::array()}};
  auto path = write_temp("plan.json", "");
  ASSERT_TRUE(write_plan(path, plan).ok());
  ASSERT_TRUE(load_plan(path).ok());
  std::string h = plan["plan_hash"];
  plan["requester"] = "mallory";
  EXPECT_NE(compute_plan_hash(plan), h);
  std::ofstream(path) << plan.dump(2);  // edited, stale hash
  auto edited = load_plan(path);
  ASSERT_FALSE(edited.ok());
  EXPECT_NE(edited.error().message.find("edited after planning"), std::string::npos);
  std::ofstream(path) << R"({"format": "containctl-plan/1", "plan_hash": )";
  EXPECT_FALSE(load_plan(path).ok());
}

}  // namespace
}  // namespace containctl::orch
