// Real published finding documents (tests/data/findings/SOURCES.md names each one's source and
// licence): one of each envelope, and what containctl makes of them.
#include <gtest/gtest.h>

#include "tests/orchestrator/findings_util.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using namespace testing;

// aws-cli's `aws guardduty get-findings` example: an IAMUser whose key is ASIA (GetSessionToken).
TEST(FindingsRealTest, AwsCliGuardDutyGetFindings) {
  auto f = judge_file("awscli_guardduty_get_findings.json");
  ASSERT_EQ(arns(f), std::vector<std::string>{"arn:aws:iam::111122223333:user/testuser"});
  EXPECT_TRUE(f.skipped.empty());
  const auto& t = f.targets[0];
  EXPECT_EQ(t.finding_id, "1ab92989eaf0e742df4a014d5example");
  EXPECT_EQ(t.finding_type, "Recon:IAMUser/UserPermissions");
  EXPECT_EQ(t.access_key_id, "ASIASZ4SI7REEEXAMPLE");
  EXPECT_EQ(t.confidence, "suspected");
  EXPECT_NE(t.note.find("GetSessionToken"), std::string::npos) << t.note;
}

// The GuardDuty user guide's EventBridge envelope around the same finding (camelCase detail).
TEST(FindingsRealTest, GuardDutyEventBridgeEnvelope) {
  auto f = judge_file("awsdocs_guardduty_event.json");
  ASSERT_EQ(arns(f), std::vector<std::string>{"arn:aws:iam::111122223333:user/testuser"});
  EXPECT_EQ(f.targets[0].finding_id, "1ab92989eaf0e742df4a014d5example");
  // Same account in envelope and finding: nothing to say about it.
  EXPECT_EQ(f.targets[0].note.find("event came from account"), std::string::npos) << f.targets[0].note;
}

// The GuardDuty user guide's "typical finding" in ASFF: its Id is arn:aws::ec2:... (an empty field
// after the partition). Partition, Region, AwsAccountId and Type all agree, so the ARN is rebuilt.
TEST(FindingsRealTest, GuardDutyAsffWithTheDocumentedMalformedArn) {
  auto f = judge_file("awsdocs_guardduty_asff_ec2_malformed_arn.json");
  ASSERT_EQ(arns(f), std::vector<std::string>{"arn:aws:ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356"});
  EXPECT_NE(f.targets[0].note.find("rebuilt"), std::string::npos) << f.targets[0].note;
  EXPECT_EQ(f.targets[0].finding_type, "TTPs/Initial Access/UnauthorizedAccess:EC2-SSHBruteForce");
  EXPECT_EQ(f.targets[0].families, std::vector<std::string>{"ec2-isolate"});
}

TEST(FindingsRealTest, MalformedArnIsRebuiltOnlyWhenTheFieldsAgree) {
  json doc = read_finding("awsdocs_guardduty_asff_ec2_malformed_arn.json");
  json r = doc;
  r["Resources"][0]["Region"] = "us-west-2";
  auto f = judge(r);
  EXPECT_TRUE(f.targets.empty());
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_NE(f.skipped[0].reason.find("region is 'us-west-2'"), std::string::npos) << f.skipped[0].reason;
  r = doc;
  r["AwsAccountId"] = "111122223333";
  f = judge(r);
  EXPECT_TRUE(f.targets.empty());
  EXPECT_NE(f.skipped.at(0).reason.find("account"), std::string::npos) << f.skipped[0].reason;
  r = doc;
  r["Resources"][0].erase("Region");
  f = judge(r);
  EXPECT_TRUE(f.targets.empty());
  EXPECT_NE(f.skipped.at(0).reason.find("gives no region"), std::string::npos) << f.skipped[0].reason;
  r = doc;
  r["Resources"][0]["Type"] = "AwsIamUser";
  f = judge(r);
  EXPECT_TRUE(f.targets.empty());
  EXPECT_NE(f.skipped.at(0).reason.find("service"), std::string::npos) << f.skipped[0].reason;
  // The other partitions have the same malformation and the same rule.
  r = doc;
  r["Resources"][0]["Id"] = "arn:aws-cn::ec2:cn-north-1:193043430472:instance/i-0c10c2c7863d1a356";
  r["Resources"][0]["Partition"] = "aws-cn";
  r["Resources"][0]["Region"] = "cn-north-1";
  EXPECT_EQ(arns(judge(r)), std::vector<std::string>{"arn:aws-cn:ec2:cn-north-1:193043430472:instance/i-0c10c2c7863d1a356"});
}

// The Security Hub user guide's "Findings - Imported" envelope holding the GuardDuty finding above
// and the FSBP control finding: one target, one skipped, and the finding's account wins over the
// event's (a delegated administrator receives its members' findings).
TEST(FindingsRealTest, SecurityHubImportedEvent) {
  auto f = judge_file("awsdocs_securityhub_imported_event.json");
  ASSERT_EQ(arns(f), std::vector<std::string>{"arn:aws:ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356"});
  EXPECT_NE(f.targets[0].note.find("event came from account 111122223333"), std::string::npos) << f.targets[0].note;
  // The second finding is Security Hub's CloudTrail.2 control result: skipped as a whole, before
  // its trail resource is looked at.
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_NE(f.skipped[0].resource.find("Compliance"), std::string::npos) << f.skipped[0].resource;
  EXPECT_NE(f.skipped[0].reason.find("a compliance check result"), std::string::npos) << f.skipped[0].reason;
  EXPECT_NE(f.skipped[0].finding_id.find("CloudTrail.2"), std::string::npos);
}

// aws-cli's `aws securityhub get-findings` example: a control finding about the account itself.
// It carries Compliance, so it is skipped as a control result whatever its resources are.
TEST(FindingsRealTest, SecurityHubControlFindingOnTheAccountIsSkipped) {
  auto f = judge_file("awscli_securityhub_get_findings_account.json");
  EXPECT_TRUE(f.targets.empty());
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_NE(f.skipped[0].resource.find("Findings[0].Compliance"), std::string::npos) << f.skipped[0].resource;
  EXPECT_NE(f.skipped[0].reason.find("a compliance check result"), std::string::npos) << f.skipped[0].reason;
}

// aws-cli's batch-import-findings example: a finding a custom integration imports. It is judged
// like any other, and every reason says who wrote it.
TEST(FindingsRealTest, ThirdPartyImportedFindingIsFlagged) {
  auto f = judge_file("awscli_securityhub_batch_import_third_party.json");
  EXPECT_TRUE(f.targets.empty());
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_NE(f.skipped[0].reason.find("imported by product 'arn:aws:securityhub:us-west-1:123456789012:product/123456789012/default'"),
            std::string::npos)
      << f.skipped[0].reason;
}

}  // namespace
}  // namespace containctl::orch
