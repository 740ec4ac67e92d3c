// `containctl targets`: the real binary, with no credentials and an endpoint nothing listens on, so
// any AWS call would fail the command.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/orchestrator/findings_util.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using namespace testing;

TEST(TargetsCliTest, JsonDocumentFromAFileWithoutCredentials) {
  CliRun r = containctl("--output json targets --finding " + finding_data("edge_guardduty_sample_s3_placeholder.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  json doc = json::parse(r.out);
  ASSERT_EQ(doc["targets"].size(), 1u);
  EXPECT_EQ(doc["targets"][0]["arn"], "arn:aws:iam::111122223333:user/GeneratedFindingUserName");
  EXPECT_EQ(doc["targets"][0]["confidence"], "suspected");
  ASSERT_EQ(doc["skipped"].size(), 1u);
  EXPECT_EQ(doc["skipped"][0]["resource"], "Resource.S3BucketDetails[0] (bucketName)");
}

TEST(TargetsCliTest, StdinAndEverythingSkippedStillExitsZero) {
  CliRun r = containctl("--output json targets --finding -", finding_data("awscli_securityhub_get_findings_account.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  json doc = json::parse(r.out);
  EXPECT_TRUE(doc["targets"].empty());
  ASSERT_EQ(doc["skipped"].size(), 1u);
  EXPECT_EQ(doc["skipped"][0]["finding_id"],
            "arn:aws:securityhub:eu-central-1:123456789012:subscription/pci-dss/v/3.2.1/PCI.Lambda.2/finding/"
            "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111");
}

TEST(TargetsCliTest, NotAFindingExitsOneAndSaysWhatWasExpected) {
  CliRun r = containctl("targets --finding " + std::string(CONTAINCTL_SOURCE_DIR) + "/tests/data/e2e/world.py");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("not valid JSON"), std::string::npos) << r.out;
  r = containctl("--output json targets --finding -", "/dev/null");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("empty"), std::string::npos) << r.out;
  // Valid JSON that is not a finding (a plan-like document).
  std::string other = "/tmp/containctl-targets-" + std::to_string(::getpid()) + ".json";
  { std::ofstream(other) << R"({"format": 1, "targets": ["arn:aws:s3:::b"]})"; }
  r = containctl("--output json targets --finding " + other);
  std::remove(other.c_str());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("expected a GuardDuty finding"), std::string::npos) << r.out;
}

TEST(TargetsCliTest, TextOutputForPeople) {
  CliRun r = containctl("targets --finding " + finding_data("awsdocs_securityhub_imported_event.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1 target(s), 1 skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("target  arn:aws:ec2:us-east-1:193043430472:instance/i-0c10c2c7863d1a356  [ec2-isolate]"),
            std::string::npos)
      << r.out;
}

TEST(TargetsCliTest, FindingIsRequired) {
  CliRun r = containctl("targets");
  EXPECT_EQ(r.code, 2) << r.out;
}

}  // namespace
}  // namespace containctl::orch
