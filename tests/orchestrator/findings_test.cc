#include "orchestrator/findings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace containctl::orch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string data(const std::string& name) { return std::string(CONTAINCTL_SOURCE_DIR) + "/tests/data/findings/" + name; }

std::vector<FindingTarget> load_ok(const std::string& name) {
  auto r = load_finding_file(data(name));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  return r.ok() ? *r : std::vector<FindingTarget>{};
}

json read_json(const std::string& name) {
  std::ifstream in(data(name));
  return json::parse(in);
}

// The error names the source and the field path.
void expect_error(const json& doc, const std::string& field, const std::string& what = "") {
  auto r = targets_from_finding(doc, "finding.json");
  ASSERT_FALSE(r.ok()) << doc.dump();
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().message.rfind("finding.json: ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
  if (!what.empty()) {
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
  }
}

TEST(FindingsTest, GuardDutyInstance) {
  auto t = load_ok("guardduty_instance.json");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].arn, "arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234ef567890");
  EXPECT_EQ(t[0].confidence, "suspected");
  EXPECT_EQ(t[0].finding_id, "8cc0e1f3c5a3b4e8a1f2d3c4b5a69788");
  EXPECT_EQ(t[0].finding_type, "Backdoor:EC2/C&CActivity.B!DNS");
  EXPECT_EQ(t[0].source, data("guardduty_instance.json"));
}

TEST(FindingsTest, GuardDutyAkiaKeyMeansItsUser) {
  auto t = load_ok("guardduty_accesskey_user.json");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].arn, "arn:aws:iam::111122223333:user/ci-deploy");
  EXPECT_EQ(t[0].access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_NE(t[0].note.find("AKIAIOSFODNN7EXAMPLE"), std::string::npos) << t[0].note;
  EXPECT_EQ(t[0].finding_type, "Discovery:IAMUser/MaliciousIPCaller");
}

TEST(FindingsTest, GuardDutyEventBridgeAsiaKeyMeansTheRole) {
  auto t = load_ok("guardduty_accesskey_role_event.json");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].arn, "arn:aws:iam::111122223333:role/web-server-role");
  EXPECT_EQ(t[0].access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_NE(t[0].note.find("session of role web-server-role"), std::string::npos) << t[0].note;
  EXPECT_EQ(t[0].finding_id, "6ac0e1f3c5a3b4e8a1f2d3c4b5a69722");
}

TEST(FindingsTest, KeyPrefixDecidesWhenThePrincipalTypeIsAbsent) {
  json f = read_json("guardduty_accesskey_user.json")["Findings"][0];
  f["Resource"]["AccessKeyDetails"].erase("UserType");
  auto t = targets_from_finding(f, "f.json");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].arn, "arn:aws:iam::111122223333:user/ci-deploy");
  f["Resource"]["AccessKeyDetails"]["AccessKeyId"] = "ASIAIOSFODNN7EXAMPLE";
  t = targets_from_finding(f, "f.json");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].arn, "arn:aws:iam::111122223333:role/ci-deploy");
  f["Resource"]["AccessKeyDetails"]["AccessKeyId"] = "ABIAIOSFODNN7EXAMPLE";
  expect_error(f, "Resource.AccessKeyDetails", "neither AKIA nor ASIA");
}

TEST(FindingsTest, GuardDutyRootKeyIsRefused) {
  auto r = load_finding_file(data("guardduty_accesskey_root.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("root"), std::string::npos);
  EXPECT_NE(r.error().message.find("guardduty_accesskey_root.json"), std::string::npos);
  EXPECT_NE(r.error().message.find("Resource.AccessKeyDetails"), std::string::npos);
}

TEST(FindingsTest, GuardDutyS3BucketsEveryBucket) {
  auto t = load_ok("guardduty_s3bucket.json");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].arn, "arn:aws:s3:::customer-exports-prod");
  EXPECT_EQ(t[1].arn, "arn:aws:s3:::customer-exports-archive");
  EXPECT_NE(t[0].note.find("AKIAIOSFODNN7EXAMPLE"), std::string::npos);
}

TEST(FindingsTest, GuardDutyUnsupportedType) {
  auto r = load_finding_file(data("guardduty_unsupported_eks.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Resource.ResourceType"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("EKSCluster"), std::string::npos);
}

TEST(FindingsTest, AsffInstanceByArnAndById) {
  auto t = load_ok("asff_ec2_instance.json");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].arn, "arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234ef567890");
  EXPECT_EQ(t[0].finding_type, "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS");
  t = load_ok("asff_ec2_instance_id_govcloud.json");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].arn, "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0123456789abcdef0");
}

TEST(FindingsTest, AsffUserByArnAndRoleByDetails) {
  auto t = load_ok("asff_iam_principals.json");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].arn, "arn:aws:iam::111122223333:user/ops/legacy-admin");
  EXPECT_EQ(t[1].arn, "arn:aws:iam::111122223333:role/batch-worker");
  EXPECT_EQ(t[1].finding_id, "custom-detector/finding/role-0001");
}

TEST(FindingsTest, AsffAccessKeysFollowTheSameRule) {
  auto t = load_ok("asff_access_keys.json");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].arn, "arn:aws:iam::111122223333:user/ci-deploy");
  EXPECT_EQ(t[0].access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(t[1].arn, "arn:aws:iam::444455556666:role/app-role");
  EXPECT_EQ(t[1].access_key_id, "ASIAIOSFODNN7EXAMPLE");
}

TEST(FindingsTest, SecurityHubEventSkipsUnsupportedNeighbours) {
  auto t = load_ok("asff_s3_bucket_event.json");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].arn, "arn:aws:s3:::customer-exports-prod");
}

TEST(FindingsTest, AsffOnlyUnsupportedIsAnError) {
  auto r = load_finding_file(data("asff_unsupported_only.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Resources[0].Type"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("AwsLambdaFunction"), std::string::npos);
}

TEST(FindingsTest, DuplicateTargetsAcrossFindingsCountOnce) {
  json a = read_json("guardduty_accesskey_user.json");
  a["Findings"].push_back(a["Findings"][0]);
  auto t = targets_from_finding(a, "x.json");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->size(), 1u);
}

TEST(FindingsTest, BareArrayOfFindings) {
  json arr = json::array({read_json("guardduty_instance.json"), read_json("asff_ec2_instance_id_govcloud.json")});
  auto t = targets_from_finding(arr, "x.json");
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_EQ(t->size(), 2u);
}

TEST(FindingsTest, MissingFieldsAreNamed) {
  json gd = read_json("guardduty_instance.json");
  json f = gd;
  f["Resource"]["InstanceDetails"].erase("InstanceId");
  expect_error(f, "Resource.InstanceDetails.InstanceId", "is missing");
  f = gd;
  f["Resource"].erase("InstanceDetails");
  expect_error(f, "Resource.InstanceDetails", "is missing");
  f = gd;
  f.erase("Region");
  expect_error(f, "Region", "is missing");
  f = gd;
  f.erase("AccountId");
  expect_error(f, "AccountId");
  f = gd;
  f["Resource"]["ResourceType"] = 7;
  expect_error(f, "Resource.ResourceType", "non-empty string");
  f = gd;
  f["Resource"]["InstanceDetails"]["InstanceId"] = "not-an-instance";
  expect_error(f, "Resource.InstanceDetails.InstanceId", "not usable");
  f = gd;
  f["Partition"] = "aws-iso";
  expect_error(f, "InstanceId", "not usable");

  json s3 = read_json("guardduty_s3bucket.json");
  s3["Findings"][0]["Resource"]["S3BucketDetails"][1].erase("Name");
  expect_error(s3, "Findings[0].Resource.S3BucketDetails[1].Name", "is missing");
  s3["Findings"][0]["Resource"]["S3BucketDetails"] = json::array();
  expect_error(s3, "Findings[0].Resource.S3BucketDetails", "non-empty array");

  json ev = read_json("guardduty_accesskey_role_event.json");
  ev["detail"]["resource"]["accessKeyDetails"].erase("userName");
  expect_error(ev, "detail.resource.accessKeyDetails.userName", "is missing");
  ev["detail-type"] = "AWS API Call via CloudTrail";
  expect_error(ev, "detail-type", "not a GuardDuty or Security Hub");

  json keys = read_json("asff_access_keys.json");
  keys["Findings"][1]["Resources"][0]["Details"]["AwsIamAccessKey"].erase("PrincipalName");
  expect_error(keys, "Findings[1].Resources[0].Details.AwsIamAccessKey.PrincipalName", "is missing");
  keys = read_json("asff_access_keys.json");
  keys["Findings"][0]["Resources"][0]["Details"]["AwsIamAccessKey"]["PrincipalType"] = "Root";
  expect_error(keys, "Findings[0].Resources[0].Details.AwsIamAccessKey", "root");

  json role = read_json("asff_iam_principals.json");
  role["Findings"][1]["Resources"][0]["Details"]["AwsIamRole"].erase("RoleName");
  expect_error(role, "Findings[1].Resources[0].Details.AwsIamRole.RoleName", "is missing");

  json inst = read_json("asff_ec2_instance_id_govcloud.json");
  inst["Resources"][0].erase("Region");
  expect_error(inst, "Resources[0].Region", "is missing");
  inst = read_json("asff_ec2_instance.json");
  inst["Resources"] = json::array();
  expect_error(inst, "Resources", "non-empty array");

  expect_error(json{{"Findings", json::array()}}, "Findings", "no findings");
  expect_error(json{{"hello", "world"}}, "neither a GuardDuty finding");
  expect_error(json("text"), "JSON object");
}

class FindingFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/containctl-findings-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FindingFileTest, TruncatedEmptyAndMissingFiles) {
  std::ifstream in(data("guardduty_instance.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::string cut = dir_ + "/cut.json";
  std::ofstream(cut) << text.substr(0, text.size() / 3);
  auto r = load_finding_file(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(cut), std::string::npos);
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos);

  std::string empty = dir_ + "/empty.json";
  std::ofstream(empty) << "\n";
  r = load_finding_file(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("empty"), std::string::npos);

  r = load_finding_file(dir_ + "/missing.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("missing.json"), std::string::npos);
}

}  // namespace
}  // namespace containctl::orch
