// audit verify and audit show, through the real binary.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/audit_log.h"
#include "orchestrator/journal.h"

namespace containctl::orch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/containctl-auditcli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_ = dir_ + "/state/audit.jsonl";
    ASSERT_TRUE(fs::exists(CONTAINCTL_BINARY)) << "build the containctl target first";
    aws::TimePoint t;
    aws::parse_time("2026-11-23T07:00:00Z", t);
    aws::ManualClock clock(t);
    auto log = AuditLog::open(log_, clock);
    ASSERT_TRUE(log.ok()) << log.error().describe();
    ASSERT_TRUE((*log)->append("plan_created", {{"plan_hash", "ab12"}, {"requester", "dave"}}).ok());
    ASSERT_TRUE((*log)->append("aws_call", {{"run_id", "run-1"}, {"service", "ec2"}, {"operation", "ModifyInstanceAttribute"},
                                            {"http_status", 200}, {"request_id", "req-1"}, {"duration_ms", 41}})
                    .ok());
    ASSERT_TRUE((*log)->append("aws_call", {{"run_id", "run-2"}, {"service", "iam"}, {"operation", "PutUserPolicy"},
                                            {"note", "two words"}})
                    .ok());
    ASSERT_TRUE((*log)->append("run_finished", {{"run_id", "run-1"}, {"status", "succeeded"}}).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun run(const std::string& args) {
    std::string cmd = "cd '" + dir_ + "' && '" CONTAINCTL_BINARY "' --state-dir '" + dir_ + "/state' " + args + " >'" +
                      dir_ + "/out' 2>'" + dir_ + "/err'";
    int status = std::system(cmd.c_str());
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ + "/out");
    r.err = slurp(dir_ + "/err");
    return r;
  }
  std::vector<std::string> lines() {
    std::ifstream in(log_);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void rewrite(const std::vector<std::string>& ls) {
    std::ofstream out(log_, std::ios::trunc);
    for (const auto& l : ls) out << l << "\n";
  }
  std::string dir_, log_;
};

TEST_F(AuditCliTest, VerifyIntactLog) {
  CliRun r = run("audit verify");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("4 records, hash chain intact"), std::string::npos) << r.out;
  r = run("--output json audit verify");
  ASSERT_EQ(r.code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["ok"], true);
  EXPECT_EQ(doc["records"], 4);
  EXPECT_EQ(doc["last_hash"], json::parse(lines().back())["hash"]);
}

TEST_F(AuditCliTest, VerifyExits5NamingTheChangedRecord) {
  auto ls = lines();
  ls[1].replace(ls[1].find("ModifyInstanceAttribute"), 6, "Delete");
  rewrite(ls);
  CliRun r = run("audit verify");
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("record seq 2 (line 2) was changed"), std::string::npos) << r.err;
  r = run("--output json audit verify --log '" + log_ + "'");
  EXPECT_EQ(r.code, 5);
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["seq"], 2);
  EXPECT_EQ(doc["line"], 2);
}

TEST_F(AuditCliTest, VerifyExits5OnRemovedOrReorderedRecords) {
  auto ls = lines();
  rewrite({ls[0], ls[1], ls[2]});
  CliRun r = run("audit verify");
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("record seq 4 was removed from the end"), std::string::npos) << r.err;
  rewrite({ls[0], ls[2], ls[1], ls[3]});
  r = run("audit verify");
  EXPECT_EQ(r.code, 5);
  EXPECT_NE(r.err.find("reordered"), std::string::npos) << r.err;
}

TEST_F(AuditCliTest, VerifyMissingLogIsAnError) {
  CliRun r = run("audit verify --log '" + dir_ + "/nope.jsonl'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nope.jsonl"), std::string::npos) << r.err;
}

TEST_F(AuditCliTest, ExpectHeadChecksAHashKeptElsewhere) {
  std::string kept = json::parse(lines()[1])["hash"];
  CliRun r = run("audit verify --expect-head " + kept);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("expected head found: record seq 2"), std::string::npos) << r.out;
  r = run("audit verify --expect-head " + std::string(64, 'a'));
  EXPECT_EQ(r.code, 5) << r.out << r.err;
  EXPECT_NE(r.err.find("is not a record of this log"), std::string::npos) << r.err;
  EXPECT_EQ(run("audit verify --expect-head nothex").code, 2);
}

TEST_F(AuditCliTest, TornLastLineIsReportedAndRepairMovesItAside) {
  { std::ofstream(log_, std::ios::app) << "{\"seq\":5,\"event\":\"aws_c"; }
  CliRun r = run("audit verify");
  EXPECT_EQ(r.code, 5) << r.out << r.err;
  EXPECT_NE(r.err.find("line 5 is a truncated record"), std::string::npos) << r.err;
  r = run("audit repair");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("quarantine"), std::string::npos) << r.out;
  r = run("--output json audit verify");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["records"], 5);  // the 4 and audit_repaired
  EXPECT_EQ(json::parse(lines().back())["event"], "audit_repaired");
  EXPECT_EQ(run("audit repair").code, 0) << "nothing left to repair";
}

TEST_F(AuditCliTest, JournalRunsMustHaveStartedInTheLog) {
  aws::ManualClock clock(aws::TimePoint{} + std::chrono::hours(24 * 365 * 56));
  {
    auto j = Journal::open(dir_ + "/state", clock);
    ASSERT_TRUE(j.ok()) << j.error().describe();
    ASSERT_TRUE((*j)->create_run({.run_id = "run-9", .plan_hash = "hash", .status = "succeeded",
                                  .requester = "dave", .mode = "auto", .plan = json::object()}, {}).ok());
  }
  CliRun r = run("audit verify");
  EXPECT_EQ(r.code, 5) << r.out << r.err;
  EXPECT_NE(r.err.find("run run-9"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no run_started record"), std::string::npos) << r.err;
}

TEST_F(AuditCliTest, ShowPrintsTheTrail) {
  CliRun r = run("audit show");
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream in(r.out);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  ASSERT_EQ(out.size(), 4u) << r.out;
  EXPECT_EQ(out[1].rfind("#2 2026-11-23T07:00:00.000Z aws_call run=run-1", 0), 0u) << out[1];
  EXPECT_NE(out[1].find("operation=ModifyInstanceAttribute"), std::string::npos);
  EXPECT_NE(out[1].find("http_status=200"), std::string::npos);
  EXPECT_NE(out[2].find("note=\"two words\""), std::string::npos) << out[2];
  EXPECT_EQ(r.out.find("prev_hash"), std::string::npos);

  r = run("audit show run-1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("#2 "), std::string::npos);
  EXPECT_NE(r.out.find("#4 "), std::string::npos);
  EXPECT_EQ(r.out.find("#3 "), std::string::npos);
  EXPECT_EQ(r.out.find("#1 "), std::string::npos);

  r = run("--output json audit show run-2");
  ASSERT_EQ(r.code, 0) << r.err;
  json doc = json::parse(r.out);
  ASSERT_EQ(doc["records"].size(), 1u);
  EXPECT_EQ(doc["records"][0]["operation"], "PutUserPolicy");
  EXPECT_EQ(doc["records"][0]["seq"], 3);

  r = run("audit show run-unknown");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("run-unknown"), std::string::npos);
}

}  // namespace
}  // namespace containctl::orch
