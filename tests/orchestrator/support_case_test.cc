// The case text built from a run (pure, no AWS): every field the playbook asks for, nothing
// secret whatever the journal, the plan or the responder's text holds, cut to the API's limits
// with a note, and the severity that follows the support plan.
#include <gtest/gtest.h>

#include "orchestrator/support_case.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

const std::string kCanary = "Zq3KcanaryR7xW2mLr8vBn4Hj6Ys1Pd0Zc5GaT9uE";  // 40 chars, like a secret key
const std::string kToken = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + std::string(120, 'A') + "canaryTOKEN";

CaseFacts facts() {
  CaseFacts f;
  f.run.run_id = "run-20261201T101010Z-abcd";
  f.run.plan_hash = "5f2b9c0d7e1a4b3c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
  f.run.status = "succeeded";
  f.run.started_at = "2026-12-01T10:10:10Z";
  f.run.plan = {
      {"created_at", "2026-12-01T10:09:00Z"},
      {"caller", {{"account", "111122223333"}, {"arn", "arn:aws:iam::111122223333:role/Responder"}}},
      {"options", {{"iam.secret_out", "/tmp/" + kCanary}}},
      {"targets",
       {{{"target", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"},
         {"account", "111122223333"},
         {"family", "ec2-isolate"},
         {"note", "SecretAccessKey: " + kCanary},
         {"discovered", {{"instance_profile_role", "arn:aws:iam::111122223333:role/app-role"}}},
         {"finding_id", "gd-1"},
         {"finding", {{"id", "gd-1"}, {"type", "UnauthorizedAccess:EC2/TorClient"}, {"first_seen", "2026-12-01T09:00:00Z"}}}},
        {{"target", "arn:aws:iam::111122223333:user/mallory"},
         {"account", "111122223333"},
         {"family", "iam-rotate-keys"},
         {"finding", {{"id", "sh-2"}, {"type", "TTPs/Credential Access"}, {"first_seen", "2026-12-01T08:30:00Z"},
                      {"product_arn", "arn:aws:securityhub:us-east-1::product/aws/securityhub"}}}}}}};
  StepRecord s1;
  s1.target = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc";
  s1.family = "ec2-isolate";
  s1.step_id = "snapshot-volumes";
  s1.state = "verified";
  s1.applied_at = "2026-12-01T10:10:12Z";
  s1.before = {{"SecretAccessKey", kCanary}};
  s1.applied = {{"snapshots", {"snap-0123456789abcdef0"}}, {"group", "sg-0fedcba9876543210"}, {"password", kCanary}};
  StepRecord s2;
  s2.target = "arn:aws:iam::111122223333:user/mallory";
  s2.family = "iam-rotate-keys";
  s2.step_id = "create-new-key";
  s2.state = "verified";
  s2.applied = {{"AccessKeyId", "AKIAEXAMPLENEWKEY123"}, {"SecretAccessKey", kCanary}, {"SessionToken", kToken}};
  s2.error = "echo: secret=" + kCanary;
  f.steps = {s1, s2};
  f.audit = {{{"time", "2026-12-01T10:10:10.000Z"}, {"event", "run_started"}},
             {{"time", "2026-12-01T10:10:11.000Z"}, {"event", "aws_call"}, {"operation", "DescribeInstances"}},
             {{"time", "2026-12-01T10:10:12.000Z"}, {"event", "step_applied"},
              {"target", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"}, {"step", "snapshot-volumes"}},
             {{"time", "2026-12-01T10:10:13.000Z"}, {"event", "step_failed"}, {"reason", "token=" + kToken}},
             {{"time", "2026-12-01T10:10:14.000Z"}, {"event", "run_finished"}, {"status", "succeeded"}}};
  f.audit_head = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
  f.caller_arn = "arn:aws:iam::111122223333:role/Responder";
  return f;
}

CaseOptions options() {
  CaseOptions o;
  o.support_plan = "enterprise";
  o.impact = "payments API down; password=" + kCanary;
  o.engagement = "CISO and legal engaged";
  o.cc = {"soc@example.com"};
  EXPECT_TRUE(check_case_options(o).ok());
  return o;
}

TEST(SupportCase, BodyCarriesEveryFieldThePlaybookAsksFor) {
  CaseDraft d = build_case(facts(), options());
  const std::string& b = d.request.communication_body;
  for (const std::string want :
       {"run-20261201T101010Z-abcd",                                     // run id
        "gd-1", "UnauthorizedAccess:EC2/TorClient", "2026-12-01T09:00:00Z",  // finding, type, first seen
        "sh-2", "TTPs/Credential Access",
        "Earliest activity a finding reports: 2026-12-01T08:30:00Z",     // when first noticed
        "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",            // targets
        "ec2-isolate snapshot-volumes: verified at 2026-12-01T10:10:12Z",  // what was done
        "2026-12-01T10:10:12.000Z  step_applied",                        // timeline
        "snap-0123456789abcdef0", "sg-0fedcba9876543210",                // artifacts
        "5f2b9c0d7e1a4b3c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e",  // plan hash
        "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",  // audit head
        "arn:aws:iam::111122223333:user/mallory", "arn:aws:iam::111122223333:role/app-role",  // principals
        "payments API down", "CISO and legal engaged",                   // impact, engagement
        "Language: en; method: email"})
    EXPECT_NE(b.find(want), std::string::npos) << "missing '" << want << "' in:\n" << b;
  EXPECT_EQ(b.find("DescribeInstances"), std::string::npos) << "the timeline is one line per step, not per call";
  EXPECT_NE(d.request.subject.find("run-20261201T101010Z-abcd"), std::string::npos);
  EXPECT_EQ(d.request.issue_type, "customer-service");
  EXPECT_EQ(d.request.service_code, "customer-account");
  EXPECT_EQ(d.request.category_code, "security");
  EXPECT_EQ(d.request.severity_code, "critical");
  EXPECT_TRUE(d.cuts.empty());
}

// A finding's type is whatever its writer (or anyone allowed BatchUpdateFindings) put there: a
// newline in it must not open a forged section of the case, and the case says it is unverified.
TEST(SupportCase, FindingTextCannotForgeASectionOfTheCase) {
  CaseFacts f = facts();
  f.run.plan["targets"][0]["finding"]["type"] = "Recon\n\n3. Affected resources and what was done\nnone: all clear";
  CaseDraft d = build_case(f, options());
  const std::string& b = d.request.communication_body;
  EXPECT_EQ(b.find("\nnone: all clear"), std::string::npos) << b;
  EXPECT_NE(b.find("not verified by containctl"), std::string::npos) << b;
  size_t sections = 0;
  for (size_t at = b.find("\n3. Affected resources"); at != std::string::npos; at = b.find("\n3. Affected resources", at + 1))
    ++sections;
  EXPECT_EQ(sections, 1u) << b;
}

// A finding field longer than the 200 bytes kept is cut on a character boundary: half a UTF-8
// sequence would make the request body unserialisable and the case could not be opened.
TEST(SupportCase, ALongFindingFieldIsCutOnACharacterBoundary) {
  CaseFacts f = facts();
  std::string type = "x";
  while (type.size() < 300) type += "\xc3\xa9";  // é, two bytes: byte 200 falls inside one
  f.run.plan["targets"][0]["finding"]["type"] = type;
  CaseDraft d = build_case(f, options());
  EXPECT_NO_THROW((void)d.request.to_json().dump()) << "the body holds a broken UTF-8 sequence";
  EXPECT_NE(d.request.communication_body.find("x\xc3\xa9\xc3\xa9"), std::string::npos);
}

TEST(SupportCase, NoSecretFromJournalPlanOrResponderText) {
  CaseDraft d = build_case(facts(), options());
  const std::string all = d.request.to_json().dump();
  EXPECT_EQ(all.find(kCanary), std::string::npos) << all;
  EXPECT_EQ(all.find("canaryTOKEN"), std::string::npos) << all;
  EXPECT_NE(all.find("[REDACTED]"), std::string::npos) << "the responder's password=... was replaced, not dropped silently";
}

TEST(SupportCase, ScrubKeepsIdentifiersAndRemovesSecrets) {
  EXPECT_EQ(scrub_secrets("key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "key AKIAIOSFODNN7EXAMPLE secret [REDACTED]");
  EXPECT_EQ(scrub_secrets("Password = hunter2!x"), "Password = [REDACTED]");
  const std::string hash = "5f2b9c0d7e1a4b3c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";
  EXPECT_EQ(scrub_secrets(hash), hash);
  EXPECT_EQ(scrub_secrets("arn:aws:iam::111122223333:role/path/To/Role"), "arn:aws:iam::111122223333:role/path/To/Role");
  // An AWS error echoing a signed header: no signature, no token.
  const std::string echoed = scrub_secrets("The request was X-Amz-Security-Token: " + kToken + " and SecretAccessKey=" + kCanary);
  EXPECT_EQ(echoed.find(kCanary), std::string::npos) << echoed;
  EXPECT_EQ(echoed.find("canaryTOKEN"), std::string::npos) << echoed;
}

// Errors echo whatever text AWS was sent, so a value can be huge and names can repeat: both are
// scrubbed like any other (std::regex, used before, recursed once per character and overflowed the
// stack on these).
TEST(SupportCase, ScrubHandlesHugeEchoedValuesAndRepeatedNames) {
  const std::string value(200000, 'x');
  EXPECT_EQ(scrub_secrets("token=" + value + " end"), "token=[REDACTED] end");
  std::string names;
  for (int i = 0; i < 40000; ++i) names += "token";
  EXPECT_EQ(scrub_secrets(names + "=v"), names + "=[REDACTED]");
  EXPECT_EQ(scrub_secrets("Private Key: abc; private_key=def, privatekey \"ghi\""),
            "Private Key: [REDACTED]; private_key=[REDACTED], privatekey \"ghi\"");
}

TEST(SupportCase, LongRunsAreCutToTheLimitWithANote) {
  CaseFacts f = facts();
  for (int i = 0; i < 400; ++i)
    f.audit.push_back({{"time", "2026-12-01T10:11:00.000Z"}, {"event", "step_applied"},
                       {"target", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc" + std::to_string(i)},
                       {"step", "isolate-security-groups"}});
  CaseDraft d = build_case(f, options());
  const std::string& b = d.request.communication_body;
  EXPECT_LE(b.size(), 8000u);
  EXPECT_NE(b.find("characters cut to fit"), std::string::npos);
  EXPECT_NE(b.find("containctl audit show run-20261201T101010Z-abcd"), std::string::npos);
  ASSERT_EQ(d.cuts.size(), 1u);
  EXPECT_NE(d.cuts[0].find("communicationBody"), std::string::npos);
  EXPECT_EQ(fit_text("short", 8000, "x", "", d.cuts), "short");
}

TEST(SupportCase, SeverityFollowsTheSupportPlan) {
  EXPECT_EQ(severity_for_plan("enterprise"), "critical");
  EXPECT_EQ(severity_for_plan("enterprise-on-ramp"), "critical");
  EXPECT_EQ(severity_for_plan("business"), "urgent");
  EXPECT_EQ(severity_for_plan("developer"), "low");
  EXPECT_EQ(severity_for_plan("basic"), "low");
  CaseOptions o;
  ASSERT_TRUE(check_case_options(o).ok());
  EXPECT_EQ(o.support_plan, "business");
  EXPECT_EQ(o.severity, "urgent");
  CaseOptions explicit_sev;
  explicit_sev.support_plan = "enterprise";
  explicit_sev.severity = "high";
  ASSERT_TRUE(check_case_options(explicit_sev).ok());
  EXPECT_EQ(explicit_sev.severity, "high");
  CaseOptions bad;
  bad.cc = {"not an email"};
  EXPECT_FALSE(check_case_options(bad).ok());
  CaseOptions many;
  many.cc = std::vector<std::string>(11, "a@example.com");
  EXPECT_FALSE(check_case_options(many).ok());
}

}  // namespace
}  // namespace containctl::orch
