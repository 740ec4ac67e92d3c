// `plan --finding` uses the same reader as `targets`: the plan's targets are exactly what `targets`
// lists, a skipped resource never sinks its neighbours, and a finding with nothing containable
// fails before any AWS call, naming the reason.
#include <regex>
#include <set>

#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eFindingsTest : public E2eTest {
 protected:
  // GuardDuty's sample S3 finding (placeholder bucket "bucketName"), its user pointed at the seeded one.
  std::string finding_file() {
    std::string text = slurp(CONTAINCTL_SOURCE_DIR "/tests/data/findings/edge_guardduty_sample_s3_placeholder.json");
    EXPECT_FALSE(text.empty());
    text = std::regex_replace(text, std::regex("111122223333"), "123456789012");
    text = std::regex_replace(text, std::regex("GeneratedFindingUserName"), seed_["user"].get<std::string>());
    std::string path = dir_ + "/finding.json";
    write_file(path, text);
    return path;
  }
};

TEST_F(E2eFindingsTest, PlanContainsExactlyWhatTargetsLists) {
  seed(1);
  std::string finding = finding_file();
  Proc t = run({"--output", "json", "targets", "--finding", finding});
  ASSERT_EQ(t.code, 0) << t.all();
  json listed = json::parse(t.out);
  ASSERT_EQ(listed["targets"].size(), 1u);
  EXPECT_EQ(listed["targets"][0]["arn"], seed_["user_arn"]);
  ASSERT_EQ(listed["skipped"].size(), 1u);

  Proc p = run({"plan", "--finding", finding, "-o", dir_ + "/plan.json"});
  ASSERT_EQ(p.code, 0) << p.all();
  EXPECT_NE(p.err.find("bucketName"), std::string::npos) << "the skipped bucket is reported: " << p.err;
  json plan = json::parse(slurp(dir_ + "/plan.json"));
  std::set<std::string> planned, wanted;
  for (const auto& e : plan["targets"]) planned.insert(e["target"].get<std::string>());
  for (const auto& e : listed["targets"]) wanted.insert(e["arn"].get<std::string>());
  EXPECT_EQ(planned, wanted);
  for (const auto& e : plan["targets"]) EXPECT_EQ(e["confidence"], "suspected");
}

TEST_F(E2eFindingsTest, NothingContainableFailsNamingTheReason) {
  seed(1);
  // aws-cli's get-findings example is a control check result about the account.
  std::string control = CONTAINCTL_SOURCE_DIR "/tests/data/findings/awscli_securityhub_get_findings_account.json";
  Proc p = run({"plan", "--finding", control, "-o", dir_ + "/plan.json"});
  EXPECT_EQ(p.code, 1) << p.all();
  EXPECT_NE(p.err.find("nothing in the finding can be contained"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("a compliance check result"), std::string::npos) << p.err;
  EXPECT_FALSE(fs::exists(dir_ + "/plan.json"));

  // The same finding as a threat finding (no Compliance): the account resource is named as not containable.
  json threat = json::parse(slurp(control));
  threat["Findings"][0].erase("Compliance");
  std::string path = dir_ + "/threat.json";
  write_file(path, threat.dump());
  p = run({"plan", "--finding", path, "-o", dir_ + "/plan.json"});
  EXPECT_EQ(p.code, 1) << p.all();
  EXPECT_NE(p.err.find("'AwsAccount' is not containable"), std::string::npos) << p.err;
  EXPECT_FALSE(fs::exists(dir_ + "/plan.json"));
}

}  // namespace
}  // namespace containctl::e2e
