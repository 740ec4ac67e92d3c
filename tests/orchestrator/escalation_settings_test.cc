// The "escalation" settings: parsed field by field, bad values named, defaults when absent, and
// what the case options take from them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "orchestrator/escalation.h"
#include "orchestrator/settings.h"

namespace containctl::orch {
namespace {

namespace fs = std::filesystem;

class EscalationSettings_ : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/containctl-esc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  Result<Settings> load(const std::string& text) {
    std::ofstream(dir_ + "/s.json") << text;
    return load_settings(dir_ + "/s.json");
  }
  std::string dir_;
};

TEST_F(EscalationSettings_, ParsedAndUsedForTheCase) {
  auto s = load(R"({"escalation": {"open_case": "on-auto-containment", "support_plan": "enterprise",
                   "cc": ["soc@example.com"], "language": "ja", "service_code": "other-code"}})");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->escalation.open_case, "on-auto-containment");
  CaseOptions o = case_options_from_settings(*s);
  ASSERT_TRUE(check_case_options(o).ok());
  EXPECT_EQ(o.severity, "critical");
  EXPECT_EQ(o.language, "ja");
  EXPECT_EQ(o.cc, std::vector<std::string>{"soc@example.com"});
  EXPECT_EQ(o.service_code, "other-code");
  EXPECT_EQ(o.category_code, "security");
  EXPECT_EQ(o.issue_type, "customer-service");
}

TEST_F(EscalationSettings_, AbsentMeansNever) {
  auto s = load(R"({"organization": {"mode": "auto"}})");
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(s->escalation.open_case, "never");
}

TEST_F(EscalationSettings_, BadValuesAreNamed) {
  auto bad = load(R"({"escalation": {"open_case": "always"}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("escalation.open_case"), std::string::npos) << bad.error().message;
  auto typo = load(R"({"escalation": {"suport_plan": "business"}})");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("support_plan"), std::string::npos) << typo.error().message;
  auto plan = load(R"({"escalation": {"support_plan": "gold"}})");
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("escalation.support_plan"), std::string::npos);
  auto cc = load(R"({"escalation": {"cc": "soc@example.com"}})");
  ASSERT_FALSE(cc.ok());
  EXPECT_NE(cc.error().message.find("escalation.cc"), std::string::npos);
}

}  // namespace
}  // namespace containctl::orch
