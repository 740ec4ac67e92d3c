// Principal shapes, partial answers and attacks. The edge_* fixtures are written by hand in the
// shapes of botocore's guardduty/securityhub models (tests/data/findings/SOURCES.md).
#include <gtest/gtest.h>

#include "tests/orchestrator/findings_util.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using namespace testing;

TEST(FindingsEdgeTest, EveryAsffPrincipalShapeOnItsOwn) {
  auto f = judge_file("edge_asff_principal_shapes.json");
  EXPECT_EQ(arns(f), (std::vector<std::string>{"arn:aws:iam::111122223333:user/alice",
                                                "arn:aws:iam::111122223333:user/ci-deploy",
                                                "arn:aws:iam::111122223333:role/service/web-server-role",
                                                "arn:aws:iam::111122223333:user/ops/legacy-admin"}));
  // Console login: AWS::IAM::AccessKey:null is no key at all.
  EXPECT_EQ(f.targets[0].access_key_id, "");
  EXPECT_EQ(f.targets[0].finding_id, "edge/console-login");
  // Older findings: the deprecated UserName, the key only in the Id.
  EXPECT_EQ(f.targets[1].access_key_id, "AKIAIOSFODNN7EXAMPLE");
  // ASIA with no type: a session of the issuer the finding names (its path kept).
  EXPECT_EQ(f.targets[2].access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_NE(f.targets[2].note.find("issued by arn:aws:iam::111122223333:role/service/web-server-role"), std::string::npos)
      << f.targets[2].note;
  // Type Other with an IAM user ARN in Id.
  EXPECT_EQ(f.targets[3].finding_id, "edge/other-arn");
  ASSERT_EQ(f.skipped.size(), 2u);
  EXPECT_EQ(f.skipped[0].finding_id, "edge/no-key-id");
  EXPECT_NE(f.skipped[0].reason.find("neither Details.AwsIamAccessKey nor a key id"), std::string::npos);
  EXPECT_EQ(f.skipped[1].finding_id, "edge/root");
  EXPECT_NE(f.skipped[1].reason.find("root user of 111122223333"), std::string::npos) << f.skipped[1].reason;
}

TEST(FindingsEdgeTest, SessionIssuerWithoutArnAndFederatedUsers) {
  json doc = read_finding("edge_asff_principal_shapes.json");
  json f = doc["Findings"][2];
  auto& d = f["Resources"][0]["Details"]["AwsIamAccessKey"];
  d["SessionContext"]["SessionIssuer"].erase("Arn");
  EXPECT_EQ(arns(judge(f)), std::vector<std::string>{"arn:aws:iam::111122223333:role/web-server-role"});
  d["PrincipalType"] = "FederatedUser";
  d["SessionContext"]["SessionIssuer"]["Type"] = "User";
  d["SessionContext"]["SessionIssuer"]["UserName"] = "broker";
  EXPECT_EQ(arns(judge(f)), std::vector<std::string>{"arn:aws:iam::111122223333:user/broker"});
  d.erase("SessionContext");
  auto r = judge(f);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_NE(r.skipped.at(0).reason.find("federated user"), std::string::npos);
  d["PrincipalType"] = "AWSService";
  r = judge(f);
  EXPECT_NE(r.skipped.at(0).reason.find("'AWSService' cannot be contained"), std::string::npos);
}

// Attack sequences give the session issuer as an ARN: an sts assumed-role ARN means its role (not
// the caller-chosen session name), the root ARN means root, anything else is no principal.
TEST(FindingsEdgeTest, SessionIssuerArnsOfEveryKind) {
  json doc = read_finding("edge_guardduty_attack_sequence.json");
  auto& issuer = doc["Findings"][0]["Service"]["Detection"]["Sequence"]["Actors"][0]["Session"]["Issuer"];
  issuer = "arn:aws:sts::111122223333:assumed-role/web-server-role/BreakGlass";
  EXPECT_EQ(judge(doc).targets.at(0).arn, "arn:aws:iam::111122223333:role/web-server-role");
  issuer = "arn:aws:iam::111122223333:root";
  auto r = judge(doc);
  EXPECT_NE(r.targets.at(0).arn, "arn:aws:iam::111122223333:role/web-server-role");
  ASSERT_NE(skipped(r, "Actors[0]"), nullptr);
  EXPECT_NE(skipped(r, "Actors[0]")->reason.find("root user"), std::string::npos);
  issuer = "arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234ef567890";
  r = judge(doc);
  ASSERT_NE(skipped(r, "Actors[0]"), nullptr);
  EXPECT_NE(skipped(r, "Actors[0]")->reason.find("not an IAM user or role"), std::string::npos)
      << skipped(r, "Actors[0]")->reason;
}

// The GuardDuty sample S3 finding names the placeholder bucket "bucketName": the bucket is skipped,
// the IAM user it also names is still contained.
TEST(FindingsEdgeTest, OneBadResourceDoesNotSinkItsNeighbours) {
  auto f = judge_file("edge_guardduty_sample_s3_placeholder.json");
  EXPECT_EQ(arns(f), std::vector<std::string>{"arn:aws:iam::111122223333:user/GeneratedFindingUserName"});
  EXPECT_EQ(f.targets[0].access_key_id, "");
  EXPECT_NE(f.targets[0].note.find("'GeneratedFindingAccessKeyId' is not an AWS access key id"), std::string::npos);
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].resource, "Resource.S3BucketDetails[0] (bucketName)");
  EXPECT_NE(f.skipped[0].reason.find("not a valid bucket name"), std::string::npos) << f.skipped[0].reason;
}

TEST(FindingsEdgeTest, AttackSequenceActorsAndResources) {
  auto f = judge_file("edge_guardduty_attack_sequence.json");
  EXPECT_EQ(arns(f), (std::vector<std::string>{"arn:aws:iam::111122223333:role/web-server-role",
                                                "arn:aws:iam::111122223333:user/ci-deploy",
                                                "arn:aws:s3:::customer-exports-prod",
                                                "arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234ef567890"}));
  EXPECT_EQ(f.targets[1].access_key_id, "AKIAIOSFODNN7EXAMPLE");
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_NE(f.skipped[0].reason.find("EKS_CLUSTER"), std::string::npos);
}

TEST(FindingsEdgeTest, ApiCallWithoutResourceSaysWhyNothingIsContained) {
  auto f = judge_file("edge_guardduty_api_call_no_resource.json");
  EXPECT_TRUE(f.targets.empty());
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].resource, "Service.Action.AwsApiCallAction");
  EXPECT_NE(f.skipped[0].reason.find("s3.amazonaws.com ListBuckets, remote account 444455556666"), std::string::npos)
      << f.skipped[0].reason;
}

// Security Hub's control findings (Compliance set) name resources that failed a configuration check:
// with auto-containment on, each would isolate a healthy instance. They are skipped, saying why.
TEST(FindingsEdgeTest, ComplianceCheckResultsAreNotThreats) {
  json control = read_finding("awsdocs_securityhub_control_finding_fsbp.json");
  control["Resources"] = read_finding("asff_ec2_instance.json")["Resources"];
  control["AwsAccountId"] = "111122223333";
  auto f = judge(control);
  EXPECT_TRUE(f.targets.empty()) << arns(f).size();
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_NE(f.skipped[0].reason.find("compliance check"), std::string::npos) << f.skipped[0].reason;
  auto threat = judge(read_finding("asff_ec2_instance.json"));
  EXPECT_EQ(threat.targets.size(), 1u) << "a threat finding on the same instance is still contained";
}

TEST(FindingsEdgeTest, TheFindingsAccountWinsOverTheEnvelopes) {
  json ev = read_finding("awsdocs_guardduty_event.json");
  ev["account"] = "999988887777";  // the delegated administrator that received it
  auto f = judge(ev);
  ASSERT_EQ(arns(f), std::vector<std::string>{"arn:aws:iam::111122223333:user/testuser"});
  EXPECT_NE(f.targets[0].note.find("event came from account 999988887777"), std::string::npos) << f.targets[0].note;
}

TEST(FindingsEdgeTest, PartitionsAreHonoured) {
  json f = read_finding("awscli_guardduty_get_findings.json");
  f["Findings"][0]["Partition"] = "aws-us-gov";
  f["Findings"][0]["Region"] = "us-gov-west-1";
  EXPECT_EQ(arns(judge(f)), std::vector<std::string>{"arn:aws-us-gov:iam::111122223333:user/testuser"});
  json inst = read_finding("guardduty_instance.json");
  inst["Partition"] = "aws-cn";
  inst["Region"] = "cn-northwest-1";
  EXPECT_EQ(arns(judge(inst)), std::vector<std::string>{"arn:aws-cn:ec2:cn-northwest-1:111122223333:instance/i-0abcd1234ef567890"});
  inst["Region"] = "us-east-1";  // a region outside the partition is not an instance ARN
  auto r = judge(inst);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_NE(r.skipped.at(0).reason.find("not in partition aws-cn"), std::string::npos) << r.skipped[0].reason;
}

TEST(FindingsEdgeTest, DuplicatesCollapseAcrossEnvelopesAndFindings) {
  // The same instance from GuardDuty's ASFF copy twice and from a second resource entry.
  json a = read_finding("awsdocs_guardduty_asff_ec2_malformed_arn.json");
  json b = a;
  b["Id"] = "second";
  b["Resources"].push_back(a["Resources"][0]);
  b["Resources"][1]["Id"] = "arn:aws:ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356";
  auto f = judge(json{{"Findings", {a, b, a}}});
  ASSERT_EQ(f.targets.size(), 1u);
  EXPECT_EQ(f.targets[0].finding_id, a["Id"]);
  EXPECT_TRUE(f.skipped.empty());
}

// Attack: anyone with securityhub:BatchImportFindings writes a finding naming the break-glass role
// and claims to be GuardDuty in every field Security Hub lets an importer set. The ProductArn,
// which Security Hub checks against the importer, is what decides: the target says who wrote it
// and stays suspected.
TEST(FindingsEdgeTest, ImportedFindingCannotPassForGuardDuty) {
  json f = read_finding("awscli_securityhub_batch_import_third_party.json")[0];
  f["Resources"] = json::array({{{"Type", "AwsIamRole"}, {"Id", "arn:aws:iam::123456789012:role/BreakGlass"},
                                 {"Partition", "aws"}, {"Region", "us-west-1"}}});
  f["ProductName"] = "GuardDuty";
  f["CompanyName"] = "Amazon";
  f["ProductFields"] = {{"aws/securityhub/ProductName", "GuardDuty"}, {"aws/securityhub/CompanyName", "Amazon"}};
  f["GeneratorId"] = "arn:aws:guardduty:us-west-1:123456789012:detector/x";
  f["Confidence"] = 100;
  f["Severity"] = {{"Label", "CRITICAL"}, {"Normalized", 100}};
  auto r = judge(f);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].confidence, "suspected");
  EXPECT_NE(r.targets[0].note.find("imported by product 'arn:aws:securityhub:us-west-1:123456789012:product/123456789012/default'"),
            std::string::npos)
      << r.targets[0].note;
  // GuardDuty's own ProductArn carries no such note.
  f["ProductArn"] = "arn:aws:securityhub:us-west-1::product/aws/guardduty";
  r = judge(f);
  EXPECT_EQ(r.targets.at(0).note.find("imported by"), std::string::npos) << r.targets[0].note;
  EXPECT_EQ(r.targets[0].confidence, "suspected");
}

// Nothing a finding says raises confidence: not GuardDuty's Confidence, nor its Severity.
TEST(FindingsEdgeTest, FindingTextNeverRaisesConfidence) {
  json f = read_finding("guardduty_instance.json");
  f["Confidence"] = 10;
  f["Severity"] = 8.9;
  f["Resource"]["InstanceDetails"]["Tags"] = json::array({{{"Key", "containctl"}, {"Value", "confirmed"}}});
  auto r = judge(f);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].confidence, "suspected");
}

// A resource whose Type and Id disagree is skipped, not contained as whatever the Id says.
TEST(FindingsEdgeTest, TypeAndIdMustAgree) {
  json f = read_finding("asff_ec2_instance.json");
  f["Resources"][0]["Id"] = "arn:aws:iam::111122223333:role/admin";
  auto r = judge(f);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_NE(r.skipped.at(0).reason.find("service is 'ec2'"), std::string::npos) << r.skipped[0].reason;
}

// Attack: the session name is the caller's choice. A principal name "role/session" (or a bucket
// name "bucket/key") must not be split into a path and a last segment the attacker picked.
TEST(FindingsEdgeTest, NamesWithSlashesAreNotSplit) {
  json f = read_finding("guardduty_accesskey_role_event.json");
  f["detail"]["resource"]["accessKeyDetails"]["userName"] = "web-server-role/BreakGlass";
  auto r = judge(f);
  EXPECT_TRUE(r.targets.empty()) << r.targets[0].arn;
  EXPECT_NE(r.skipped.at(0).reason.find("is not a user or role name"), std::string::npos) << r.skipped[0].reason;
  json u = read_finding("guardduty_accesskey_user.json");
  u["Findings"][0]["Resource"]["AccessKeyDetails"]["UserName"] = "ops/admin";
  EXPECT_TRUE(judge(u).targets.empty());
  json s3 = read_finding("guardduty_s3bucket.json");
  auto& b = s3["Findings"][0]["Resource"]["S3BucketDetails"][0];
  b["Name"] = "customer-exports-prod/secret.csv";
  b.erase("Arn");
  r = judge(s3);
  EXPECT_EQ(arns(r), (std::vector<std::string>{"arn:aws:iam::111122223333:user/ci-deploy",
                                                "arn:aws:s3:::customer-exports-archive"}));
  ASSERT_NE(skipped(r, "S3BucketDetails[0]"), nullptr);
}

TEST(FindingsEdgeTest, JsonOutputHasTheContractFields) {
  json out = to_json(judge_file("edge_guardduty_sample_s3_placeholder.json"));
  ASSERT_EQ(out["targets"].size(), 1u);
  for (const char* k : {"arn", "families", "confidence", "finding_id", "finding_type", "source", "note", "access_key_id"})
    EXPECT_TRUE(out["targets"][0].contains(k)) << k;
  EXPECT_EQ(out["targets"][0]["families"], json({"iam-contain", "iam-rotate-keys"}));
  ASSERT_EQ(out["skipped"].size(), 1u);
  for (const char* k : {"finding_id", "resource", "reason"}) EXPECT_TRUE(out["skipped"][0].contains(k)) << k;
}

}  // namespace
}  // namespace containctl::orch
