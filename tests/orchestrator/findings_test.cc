// The finding readers on the hand-written fixtures of the first version (GuardDuty and ASFF shapes),
// now that every resource is judged on its own. Real published documents: findings_real_test.cc;
// principal shapes and attacks: findings_edge_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/orchestrator/findings_util.h"

namespace containctl::orch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace testing;

std::vector<std::string> families(const FindingTarget& t) { return t.families; }

TEST(FindingsTest, GuardDutyInstance) {
  auto f = judge_file("guardduty_instance.json");
  ASSERT_EQ(f.targets.size(), 1u);
  EXPECT_TRUE(f.skipped.empty());
  const auto& t = f.targets[0];
  EXPECT_EQ(t.arn, "arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234ef567890");
  EXPECT_EQ(t.confidence, "suspected");
  EXPECT_EQ(t.finding_id, "8cc0e1f3c5a3b4e8a1f2d3c4b5a69788");
  EXPECT_EQ(t.finding_type, "Backdoor:EC2/C&CActivity.B!DNS");
  EXPECT_EQ(t.source, finding_data("guardduty_instance.json"));
  EXPECT_EQ(families(t), std::vector<std::string>{"ec2-isolate"});
}

TEST(FindingsTest, GuardDutyAkiaKeyMeansItsUser) {
  auto f = judge_file("guardduty_accesskey_user.json");
  ASSERT_EQ(f.targets.size(), 1u);
  const auto& t = f.targets[0];
  EXPECT_EQ(t.arn, "arn:aws:iam::111122223333:user/ci-deploy");
  EXPECT_EQ(t.access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_NE(t.note.find("AKIAIOSFODNN7EXAMPLE"), std::string::npos) << t.note;
  EXPECT_EQ(t.finding_type, "Discovery:IAMUser/MaliciousIPCaller");
  EXPECT_EQ(families(t), (std::vector<std::string>{"iam-contain", "iam-rotate-keys"}));
}

TEST(FindingsTest, GuardDutyEventBridgeAsiaKeyMeansTheRole) {
  auto f = judge_file("guardduty_accesskey_role_event.json");
  ASSERT_EQ(f.targets.size(), 1u);
  EXPECT_EQ(f.targets[0].arn, "arn:aws:iam::111122223333:role/web-server-role");
  EXPECT_EQ(f.targets[0].access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_NE(f.targets[0].note.find("session of role web-server-role"), std::string::npos) << f.targets[0].note;
  EXPECT_EQ(f.targets[0].finding_id, "6ac0e1f3c5a3b4e8a1f2d3c4b5a69722");
  EXPECT_EQ(families(f.targets[0]), std::vector<std::string>{"iam-contain"});
}

TEST(FindingsTest, KeyPrefixAndPrincipalIdDecideWhenTheTypeIsAbsent) {
  json f = read_finding("guardduty_accesskey_user.json")["Findings"][0];
  auto& d = f["Resource"]["AccessKeyDetails"];
  d.erase("UserType");
  EXPECT_EQ(arns(judge(f)), std::vector<std::string>{"arn:aws:iam::111122223333:user/ci-deploy"});
  // An ASIA key with neither type nor issuer could be a role session or a user's session token.
  d["AccessKeyId"] = "ASIAIOSFODNN7EXAMPLE";
  d.erase("PrincipalId");
  auto r = judge(f);
  EXPECT_TRUE(r.targets.empty());
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].reason.find("cannot tell a role session"), std::string::npos) << r.skipped[0].reason;
  d["PrincipalId"] = "AROAEXAMPLEROLEID0003:session";
  EXPECT_EQ(arns(judge(f)), std::vector<std::string>{"arn:aws:iam::111122223333:role/ci-deploy"});
  d["PrincipalId"] = "AIDAEXAMPLEUSERID0001";
  EXPECT_EQ(arns(judge(f)), std::vector<std::string>{"arn:aws:iam::111122223333:user/ci-deploy"});
}

TEST(FindingsTest, GuardDutyRootKeyIsSkippedWithTheReason) {
  auto f = judge_file("guardduty_accesskey_root.json");
  EXPECT_TRUE(f.targets.empty());
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].finding_id, "9fc0e1f3c5a3b4e8a1f2d3c4b5a69733");
  EXPECT_NE(f.skipped[0].resource.find("Resource.AccessKeyDetails"), std::string::npos);
  EXPECT_NE(f.skipped[0].reason.find("root user"), std::string::npos) << f.skipped[0].reason;
}

TEST(FindingsTest, GuardDutyS3BucketsEveryBucketAndTheActor) {
  auto f = judge_file("guardduty_s3bucket.json");
  EXPECT_EQ(arns(f), (std::vector<std::string>{"arn:aws:iam::111122223333:user/ci-deploy",
                                                "arn:aws:s3:::customer-exports-prod",
                                                "arn:aws:s3:::customer-exports-archive"}));
  EXPECT_NE(target(f, "arn:aws:s3:::customer-exports-prod")->note.find("AKIAIOSFODNN7EXAMPLE"), std::string::npos);
}

TEST(FindingsTest, GuardDutyUnsupportedTypeIsSkipped) {
  auto f = judge_file("guardduty_unsupported_eks.json");
  EXPECT_TRUE(f.targets.empty());
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_NE(f.skipped[0].reason.find("EKSCluster"), std::string::npos) << f.skipped[0].reason;
}

TEST(FindingsTest, AsffInstanceByArnAndById) {
  auto f = judge_file("asff_ec2_instance.json");
  ASSERT_EQ(f.targets.size(), 1u);
  EXPECT_EQ(f.targets[0].arn, "arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234ef567890");
  EXPECT_EQ(f.targets[0].finding_type, "TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS");
  f = judge_file("asff_ec2_instance_id_govcloud.json");
  EXPECT_EQ(arns(f), std::vector<std::string>{"arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0123456789abcdef0"});
}

TEST(FindingsTest, AsffUserByArnAndRoleByDetails) {
  auto f = judge_file("asff_iam_principals.json");
  EXPECT_EQ(arns(f), (std::vector<std::string>{"arn:aws:iam::111122223333:user/ops/legacy-admin",
                                                "arn:aws:iam::111122223333:role/batch-worker"}));
  EXPECT_EQ(f.targets[1].finding_id, "custom-detector/finding/role-0001");
}

TEST(FindingsTest, AsffAccessKeysFollowTheSameRule) {
  auto f = judge_file("asff_access_keys.json");
  ASSERT_EQ(f.targets.size(), 2u);
  EXPECT_EQ(f.targets[0].arn, "arn:aws:iam::111122223333:user/ci-deploy");
  EXPECT_EQ(f.targets[0].access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(f.targets[1].arn, "arn:aws:iam::444455556666:role/app-role");
  EXPECT_EQ(f.targets[1].access_key_id, "ASIAIOSFODNN7EXAMPLE");
}

TEST(FindingsTest, SecurityHubEventSkipsUnsupportedNeighbours) {
  auto f = judge_file("asff_s3_bucket_event.json");
  EXPECT_EQ(arns(f), std::vector<std::string>{"arn:aws:s3:::customer-exports-prod"});
  ASSERT_NE(skipped(f, "AWS::::Account:111122223333"), nullptr);
  EXPECT_NE(skipped(f, "AWS::::Account")->reason.find("AwsAccount"), std::string::npos);
  // Macie is AWS's, but neither GuardDuty nor Security Hub: said so.
  EXPECT_NE(f.targets[0].note.find("product/aws/macie"), std::string::npos) << f.targets[0].note;
}

TEST(FindingsTest, AsffOnlyUnsupportedIsSkippedNotAnError) {
  auto f = judge_file("asff_unsupported_only.json");
  EXPECT_TRUE(f.targets.empty());
  ASSERT_FALSE(f.skipped.empty());
  EXPECT_NE(f.skipped[0].reason.find("AwsLambdaFunction"), std::string::npos) << f.skipped[0].reason;
}

TEST(FindingsTest, DuplicateTargetsAcrossFindingsCountOnce) {
  json a = read_finding("guardduty_accesskey_user.json");
  a["Findings"].push_back(a["Findings"][0]);
  a["Findings"][1]["Id"] = "another-finding";
  auto f = judge(a);
  EXPECT_EQ(f.targets.size(), 1u);
  EXPECT_EQ(f.targets[0].finding_id, a["Findings"][0]["Id"]);
}

TEST(FindingsTest, BareArrayOfFindings) {
  json arr = json::array({read_finding("guardduty_instance.json"), read_finding("asff_ec2_instance_id_govcloud.json")});
  EXPECT_EQ(judge(arr).targets.size(), 2u);
}

TEST(FindingsTest, BrokenResourcesAreSkippedOneByOne) {
  json gd = read_finding("guardduty_instance.json");
  json f = gd;
  f["Resource"]["InstanceDetails"].erase("InstanceId");
  EXPECT_NE(skipped(judge(f), "Resource.InstanceDetails"), nullptr);
  f = gd;
  f.erase("Region");
  auto r = judge(f);
  ASSERT_NE(skipped(r, "Resource.InstanceDetails"), nullptr);
  EXPECT_NE(skipped(r, "Resource.InstanceDetails")->reason.find("Region"), std::string::npos);
  f = gd;
  f.erase("AccountId");
  r = judge(f);
  ASSERT_NE(skipped(r, "AccountId"), nullptr);
  f = gd;
  f["Resource"]["InstanceDetails"]["InstanceId"] = "not-an-instance";
  r = judge(f);
  EXPECT_TRUE(r.targets.empty());
  ASSERT_NE(skipped(r, "not-an-instance"), nullptr);
  f = gd;
  f["Partition"] = "aws-iso";
  r = judge(f);
  EXPECT_TRUE(r.targets.empty());
  ASSERT_NE(skipped(r, "Partition"), nullptr);
  EXPECT_NE(skipped(r, "Partition")->reason.find("aws-iso"), std::string::npos);

  json s3 = read_finding("guardduty_s3bucket.json");
  s3["Findings"][0]["Resource"]["S3BucketDetails"][1].erase("Name");
  s3["Findings"][0]["Resource"]["S3BucketDetails"][1].erase("Arn");
  r = judge(s3);
  EXPECT_EQ(r.targets.size(), 2u);  // the user and the first bucket go on
  EXPECT_NE(skipped(r, "S3BucketDetails[1]"), nullptr);

  json keys = read_finding("asff_access_keys.json");
  keys["Findings"][1]["Resources"][0]["Details"]["AwsIamAccessKey"].erase("PrincipalName");
  r = judge(keys);
  EXPECT_EQ(arns(r), std::vector<std::string>{"arn:aws:iam::111122223333:user/ci-deploy"});
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].reason.find("neither the role's name nor the session issuer"), std::string::npos)
      << r.skipped[0].reason;

  json role = read_finding("asff_iam_principals.json");
  role["Findings"][1]["Resources"][0]["Details"]["AwsIamRole"].erase("RoleName");
  r = judge(role);
  EXPECT_EQ(r.targets.size(), 1u);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].reason.find("RoleName"), std::string::npos);

  json inst = read_finding("asff_ec2_instance_id_govcloud.json");
  inst["Resources"][0].erase("Region");
  r = judge(inst);
  EXPECT_TRUE(r.targets.empty());
  EXPECT_NE(r.skipped.at(0).reason.find("Region"), std::string::npos);
}

// Documents that are not findings at all are errors naming what was expected.
void expect_not_a_finding(const json& doc, const std::string& what) {
  auto r = targets_from_finding(doc, "finding.json");
  ASSERT_FALSE(r.ok()) << doc.dump();
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().message.rfind("finding.json: ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
}

TEST(FindingsTest, NotAFindingIsAnError) {
  expect_not_a_finding(json{{"Findings", json::array()}}, "holds no findings");
  expect_not_a_finding(json{{"hello", "world"}}, "expected a GuardDuty finding");
  expect_not_a_finding(json("text"), "expected a GuardDuty or Security Hub finding");
  expect_not_a_finding(json::array({1, 2}), "holds no GuardDuty or Security Hub finding");
  json ev = read_finding("guardduty_accesskey_role_event.json");
  ev["detail-type"] = "AWS API Call via CloudTrail";
  expect_not_a_finding(ev, "is not a finding event");
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
  std::ifstream in(finding_data("guardduty_instance.json"));
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

// A number beyond a double (1e999) is nlohmann's out_of_range, not a parse_error: anyone who can
// import a finding into Security Hub could end `targets`, `plan --finding` and the Lambda with it.
TEST_F(FindingFileTest, ANumberBeyondADoubleIsAnErrorNamingTheFileNotACrash) {
  std::ifstream in(finding_data("guardduty_instance.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  json doc = json::parse(ss.str());
  for (const char* number : {"1e999", "-1e999", "123456789e400"}) {
    std::string text = doc.dump();
    text.insert(text.rfind('}'), std::string(",\"Severity\":") + number);
    std::string path = dir_ + "/huge.json";
    std::ofstream(path, std::ios::trunc) << text;
    auto r = load_finding_file(path);
    ASSERT_FALSE(r.ok()) << number;
    EXPECT_EQ(r.error().code, "InvalidFinding") << number;
    EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("number"), std::string::npos) << r.error().message;
    auto t = findings_from_text(text, "stdin-like");
    ASSERT_FALSE(t.ok()) << number;
    EXPECT_NE(t.error().message.find("stdin-like"), std::string::npos) << t.error().message;
  }
}

}  // namespace
}  // namespace containctl::orch
