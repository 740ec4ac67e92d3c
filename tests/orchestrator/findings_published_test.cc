// Findings as AWS and others published them (tests/data/findings/SOURCES.md names each one's source,
// commit and licence), through the real `containctl targets --finding FILE --output json`. The
// expected targets and skip reasons were worked out by reading each document, not copied from the
// output.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/orchestrator/findings_util.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using namespace testing;

json targets_of(const std::string& name) {
  CliRun r = containctl("--output json targets --finding " + finding_data(name));
  EXPECT_EQ(r.code, 0) << r.out;
  try {
    return json::parse(r.out);
  } catch (const json::exception&) {
    ADD_FAILURE() << "not one JSON document: " << r.out;
    return json{{"targets", json::array()}, {"skipped", json::array()}};
  }
}

std::vector<std::string> arns_of(const json& doc) {
  std::vector<std::string> out;
  for (const auto& t : doc["targets"]) out.push_back(t["arn"].get<std::string>());
  return out;
}

std::vector<std::string> families(const json& t) { return t["families"].get<std::vector<std::string>>(); }

bool has(const json& v, const std::string& part) { return v.get<std::string>().find(part) != std::string::npos; }

constexpr const char* kImported =
    "imported by product 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default'";

// The GuardDuty user guide's GetFindings sample response: the REST API's own camelCase body
// ({"findings": [...]}), an RDP brute force against instance i-99999999 in us-west-2.
TEST(FindingsPublishedTest, GuardDutyApiResponseInstance) {
  json doc = targets_of("awsdocs_guardduty_getfindings_instance.json");
  ASSERT_EQ(arns_of(doc), std::vector<std::string>{"arn:aws:ec2:us-west-2:123456789012:instance/i-99999999"});
  const json& t = doc["targets"][0];
  EXPECT_EQ(families(t), std::vector<std::string>{"ec2-isolate"});
  EXPECT_EQ(t["finding_id"], "9cb0be64df8ba1df249c45eb8a0bf584");
  EXPECT_EQ(t["finding_type"], "UnauthorizedAccess:EC2/RDPBruteForce");
  EXPECT_EQ(t["confidence"], "suspected");
  EXPECT_EQ(t["access_key_id"], "");
  EXPECT_TRUE(doc["skipped"].empty()) << doc.dump(2);
}

// A GuardDuty sample finding as `aws guardduty get-findings` printed it (PascalCase), published by
// alertchain: the instance is i-99999999 in ap-northeast-1; the instance profile ARN beside it is
// not a containment target.
TEST(FindingsPublishedTest, GuardDutyGetFindingsSampleInstance) {
  json doc = targets_of("alertchain_guardduty_sample_instance.json");
  ASSERT_EQ(arns_of(doc), std::vector<std::string>{"arn:aws:ec2:ap-northeast-1:783957204773:instance/i-99999999"});
  EXPECT_EQ(families(doc["targets"][0]), std::vector<std::string>{"ec2-isolate"});
  EXPECT_EQ(doc["targets"][0]["finding_id"], "034f3664616c49cb85349d0511ecd306");
  EXPECT_EQ(doc["targets"][0]["finding_type"], "Trojan:EC2/DropPoint!DNS");
  EXPECT_TRUE(doc["skipped"].empty()) << doc.dump(2);
}

// HMRC's captured "GuardDuty Finding" event, Policy:S3/BucketBlockPublicAccessDisabled: the role
// session that called PutBucketPublicAccessBlock (AssumedRole RoleSandboxAccess, key ASIA...) and
// the bucket. The test copy's detail says account 987654321098 while the envelope says
// 123456789012: the finding's account is the one used, and the notes say so.
TEST(FindingsPublishedTest, GuardDutyS3EventWithItsActor) {
  json doc = targets_of("hmrc_guardduty_s3_event.json");
  ASSERT_EQ(arns_of(doc), (std::vector<std::string>{"arn:aws:iam::987654321098:role/RoleSandboxAccess",
                                                    "arn:aws:s3:::test-gd-324237984731208478901374"}));
  const json& role = doc["targets"][0];
  EXPECT_EQ(families(role), std::vector<std::string>{"iam-contain"});
  EXPECT_EQ(role["access_key_id"], "ASIAUN7WV6J25JBV2AW4");
  EXPECT_TRUE(has(role["note"], "session of role RoleSandboxAccess")) << role["note"];
  const json& bucket = doc["targets"][1];
  EXPECT_EQ(families(bucket), std::vector<std::string>{"s3-contain"});
  for (const auto& t : doc["targets"]) {
    EXPECT_EQ(t["finding_id"], "a6bfa2f07893be4f3c3174d5af7e2f80");
    EXPECT_EQ(t["finding_type"], "Policy:S3/BucketBlockPublicAccessDisabled");
    EXPECT_TRUE(has(t["note"], "the event came from account 123456789012, the finding is about account 987654321098"))
        << t["note"];
  }
  EXPECT_TRUE(doc["skipped"].empty()) << doc.dump(2);
}

// The decoy-detector finding Panther tests with (a custom integration's ASFF import): the decoy
// role that was assumed is a target. The actor's AwsIamAccessKey says AssumedRole with a session
// issuer of Type "Role" whose ARN is an IAM user, and the next AwsIamRole resource's Id is that
// user's ARN: both contradict themselves and are skipped, never guessed.
TEST(FindingsPublishedTest, SecurityHubDecoyRoleAssumed) {
  json doc = targets_of("panther_securityhub_decoy_iam_assumed.json");
  ASSERT_EQ(arns_of(doc), std::vector<std::string>{"arn:aws:iam::123456789012:role/Dummy-Test-InfoRole-ab21cde50f"});
  const json& t = doc["targets"][0];
  EXPECT_EQ(families(t), std::vector<std::string>{"iam-contain"});
  EXPECT_EQ(t["finding_id"], "1abc2de3-69ea-4e15-91c6-27eb4a07bd21");
  EXPECT_TRUE(has(t["note"], kImported)) << t["note"];
  ASSERT_EQ(doc["skipped"].size(), 2u) << doc.dump(2);
  EXPECT_EQ(doc["skipped"][0]["resource"], "Resources[1] (ABC9ONWNS3155VIEJC8U)");
  EXPECT_TRUE(has(doc["skipped"][0]["reason"],
                  "the session issuer's Type is 'Role' but its ARN arn:aws:iam::123456789012:user/tester names a user"))
      << doc["skipped"][0]["reason"];
  EXPECT_EQ(doc["skipped"][1]["resource"], "Resources[2] (arn:aws:iam::123456789012:user/tester)");
  EXPECT_TRUE(has(doc["skipped"][1]["reason"], "the resource's type is 'role' but the ARN says 'user'"))
      << doc["skipped"][1]["reason"];
  for (const auto& s : doc["skipped"]) EXPECT_TRUE(has(s["reason"], kImported)) << s["reason"];
}

// The same decoy detector on S3: the bucket, the object, and the role whose session read them
// (SessionIssuer Type Role, ARN role/tester: they agree). Its key id is not an AWS key id and is
// dropped; the last AwsIamRole resource has a key id for Id and no details, so it names nothing.
TEST(FindingsPublishedTest, SecurityHubDecoyS3Accessed) {
  json doc = targets_of("panther_securityhub_decoy_s3_accessed.json");
  ASSERT_EQ(arns_of(doc), (std::vector<std::string>{"arn:aws:s3:::panther-databucket",
                                                    "arn:aws:s3:::panther-databucket/object",
                                                    "arn:aws:iam::123456789012:role/tester"}));
  EXPECT_EQ(families(doc["targets"][0]), std::vector<std::string>{"s3-contain"});
  EXPECT_EQ(families(doc["targets"][2]), std::vector<std::string>{"iam-contain"});
  const json& role = doc["targets"][2];
  EXPECT_EQ(role["access_key_id"], "");
  EXPECT_TRUE(has(role["note"], "issued by arn:aws:iam::123456789012:role/tester")) << role["note"];
  EXPECT_TRUE(has(role["note"], "key id 'ABCDEFG1HIJ2KLMNOPQR' is not an AWS access key id")) << role["note"];
  for (const auto& t : doc["targets"]) EXPECT_TRUE(has(t["note"], kImported)) << t["note"];
  ASSERT_EQ(doc["skipped"].size(), 1u) << doc.dump(2);
  EXPECT_EQ(doc["skipped"][0]["resource"], "Resources[3] (ABCDEFG1HIJ2KLMNOPQR)");
  EXPECT_TRUE(has(doc["skipped"][0]["reason"], "Details.AwsIamRole.RoleName is missing")) << doc["skipped"][0]["reason"];
}

// AWS's Automated Security Response test finding for control IAM.3 (an AwsIamUser with its
// details): a control result, skipped whole. The same resource in a threat finding (Compliance
// removed) is the user, from its ARN or, without one, from Details.AwsIamUser's name and path.
TEST(FindingsPublishedTest, SecurityHubIamUserControlFinding) {
  json doc = targets_of("asr_securityhub_afsbp_iam3_user.json");
  EXPECT_TRUE(doc["targets"].empty()) << doc.dump(2);
  ASSERT_EQ(doc["skipped"].size(), 1u);
  EXPECT_EQ(doc["skipped"][0]["resource"], "Compliance");
  EXPECT_TRUE(has(doc["skipped"][0]["reason"], "a compliance check result")) << doc["skipped"][0]["reason"];

  json f = read_finding("asr_securityhub_afsbp_iam3_user.json");
  f.erase("Compliance");
  auto r = judge(f);
  EXPECT_EQ(arns(r), std::vector<std::string>{"arn:aws:iam::111111111111:user/test-admin2"});
  f["Resources"][0]["Id"] = "AIDACKCEVSQ6C2EXAMPLE";
  r = judge(f);
  EXPECT_EQ(arns(r), std::vector<std::string>{"arn:aws:iam::111111111111:user/test-admin2"});
  f["Resources"][0]["Details"]["AwsIamUser"]["Path"] = "/ops/";
  EXPECT_EQ(arns(judge(f)), std::vector<std::string>{"arn:aws:iam::111111111111:user/ops/test-admin2"});
}

// A session issuer must be what its Type says, and a session's kind fixes its issuer's kind
// (AssumeRole: a role; GetFederationToken: a user). Each disagreement is skipped with the reason.
TEST(FindingsPublishedTest, SessionIssuerTypeAndArnMustAgree) {
  json f = read_finding("panther_securityhub_decoy_s3_accessed.json");
  json& d = f["Resources"][2]["Details"]["AwsIamAccessKey"];
  json& issuer = d["SessionContext"]["SessionIssuer"];
  issuer["Type"] = "User";  // the ARN is role/tester
  auto r = judge(f);
  EXPECT_EQ(target(r, "arn:aws:iam::123456789012:role/tester"), nullptr);
  ASSERT_NE(skipped(r, "Resources[2]"), nullptr);
  EXPECT_NE(skipped(r, "Resources[2]")->reason.find("Type is 'User' but its ARN"), std::string::npos)
      << skipped(r, "Resources[2]")->reason;
  // An assumed-role session issued by a user (Type and ARN agreeing on the user).
  issuer["Arn"] = "arn:aws:iam::123456789012:user/tester";
  r = judge(f);
  EXPECT_EQ(target(r, "arn:aws:iam::123456789012:user/tester"), nullptr);
  ASSERT_NE(skipped(r, "Resources[2]"), nullptr);
  EXPECT_NE(skipped(r, "Resources[2]")->reason.find("a role session is issued by a role"), std::string::npos)
      << skipped(r, "Resources[2]")->reason;
  // A federated user's session issued by that user: the user.
  d["PrincipalType"] = "FederatedUser";
  EXPECT_NE(target(judge(f), "arn:aws:iam::123456789012:user/tester"), nullptr);
  // ... but not by a role.
  issuer["Arn"] = "arn:aws:iam::123456789012:role/tester";
  issuer["Type"] = "Role";
  r = judge(f);
  EXPECT_EQ(target(r, "arn:aws:iam::123456789012:role/tester"), nullptr);
  ASSERT_NE(skipped(r, "Resources[2]"), nullptr);
  EXPECT_NE(skipped(r, "Resources[2]")->reason.find("a federated user session is issued by a user"), std::string::npos)
      << skipped(r, "Resources[2]")->reason;
  // With no Type for the issuer its ARN decides, as before.
  d["PrincipalType"] = "AssumedRole";
  issuer.erase("Type");
  EXPECT_NE(target(judge(f), "arn:aws:iam::123456789012:role/tester"), nullptr);
}

// The Security Hub user guide's "Security Hub Findings - Custom Action" envelope (what a responder's
// custom action sends) around the GuardDuty user guide's typical ASFF finding: the instance, with
// the finding's account (193043430472), not the envelope's (111122223333). The finding's own
// ProductArn has the same empty field as its resource ARN (arn:aws::securityhub:...), so it is not
// recognised as GuardDuty's and the note says so.
TEST(FindingsPublishedTest, SecurityHubCustomActionEvent) {
  json doc = targets_of("awsdocs_securityhub_custom_action_event.json");
  ASSERT_EQ(arns_of(doc), std::vector<std::string>{"arn:aws:ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356"});
  const json& t = doc["targets"][0];
  EXPECT_EQ(t["finding_type"], "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce");
  EXPECT_TRUE(has(t["note"], "the event came from account 111122223333, the finding is about account 193043430472"))
      << t["note"];
  EXPECT_TRUE(has(t["note"], "imported by product 'arn:aws::securityhub:us-east-1::product/aws/guardduty'")) << t["note"];
  EXPECT_TRUE(doc["skipped"].empty()) << doc.dump(2);
}

// The same guide's "Security Hub Insight Results" event carries insight counts, not findings: exit 1,
// naming the event types that are findings.
TEST(FindingsPublishedTest, InsightResultsEventIsNotAFinding) {
  CliRun r = containctl("--output json targets --finding " + finding_data("awsdocs_securityhub_insight_results_event.json"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("detail-type 'Security Hub Insight Results' is not a finding event"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("'Security Hub Findings - Custom Action'"), std::string::npos) << r.out;
}

// Some writers print absent members as null: ASFF written out with "Compliance": null (as in a
// Security Hub walk-through of a GuardDuty finding) is a threat finding, not a control result.
// Only a Compliance object with something in it marks a control check.
TEST(FindingsPublishedTest, NullOrEmptyComplianceIsNotAControlResult) {
  json f = read_finding("awsdocs_guardduty_asff_ec2_malformed_arn.json");
  const std::vector<std::string> instance{"arn:aws:ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356"};
  f["Compliance"] = nullptr;
  EXPECT_EQ(arns(judge(f)), instance);
  f["Compliance"] = json::object();
  EXPECT_EQ(arns(judge(f)), instance);
  f["Compliance"] = {{"Status", "FAILED"}};
  auto r = judge(f);
  EXPECT_TRUE(r.targets.empty());
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].resource, "Compliance");
}

}  // namespace
}  // namespace containctl::orch
