// The state export file: what export writes, import reads back; a file someone else wrote or
// edited is refused field by field, naming the file, the run and the field, before anything is
// imported (it used to end the process on a number where a string belongs, and to cast 1e300 into
// a step's plan entry).
#include "orchestrator/state_export.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

namespace containctl::orch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

ExportedRun sample_run() {
  ExportedRun e;
  e.run = RunRecord{.run_id = "run-20261202-abc",
                    .plan_hash = "ab12",
                    .status = "succeeded",
                    .started_at = "2026-12-02T08:00:00Z",
                    .finished_at = "2026-12-02T08:01:00Z",
                    .requester = "arn:aws:iam::111122223333:user/dave",
                    .mode = "approval",
                    .plan = {{"format", "containctl-plan/1"}, {"entries", json::array()}},
                    .case_id = "case-1",
                    .recovery = {{"member_role_name", "ContainctlMember"}}};
  StepRecord s;
  s.run_id = e.run.run_id;
  s.entry = 3;
  s.step_id = "isolate-sg";
  s.target = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0";
  s.family = "ec2-isolate";
  s.state = "verified";
  s.before = {{"groups", {"sg-1", "sg-2"}}};
  s.applied = {{"group", "sg-9"}};
  s.updated_at = "2026-12-02T08:00:30Z";
  s.applied_at = "2026-12-02T08:00:20Z";
  s.apply_seq = 9007199254740993LL;  // beyond a double's exact integers: kept exact
  e.steps.push_back(s);
  e.used.push_back({"approval-1", e.run.run_id, "carol", "ab12", "2026-12-02T07:59:00Z"});
  e.caller = "arn:aws:sts::111122223333:assumed-role/Responder/dave";
  e.plan_caller = "arn:aws:iam::111122223333:user/erin";
  return e;
}

std::string file_of(const json& runs) {
  return json{{"format", kStateExportFormat}, {"backend", "sqlite"}, {"runs", runs}}.dump();
}

TEST(StateExport, WhatExportWritesImportReadsBack) {
  ExportedRun e = sample_run();
  auto back = parse_state_export(file_of(json::array({exported_run_json(e)})), "runs.json");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  ASSERT_EQ(back->size(), 1u);
  const ExportedRun& r = back->front();
  EXPECT_EQ(r.run.run_id, e.run.run_id);
  EXPECT_EQ(r.run.status, "succeeded");
  EXPECT_EQ(r.run.case_id, "case-1");
  EXPECT_EQ(r.run.plan, e.run.plan);
  EXPECT_EQ(r.run.recovery, e.run.recovery);
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.steps[0].entry, 3);
  EXPECT_EQ(r.steps[0].apply_seq, 9007199254740993LL);
  EXPECT_EQ(r.steps[0].before, e.steps[0].before);
  EXPECT_EQ(r.steps[0].run_id, e.run.run_id);
  ASSERT_EQ(r.used.size(), 1u);
  EXPECT_EQ(r.used[0].approval_id, "approval-1");
  EXPECT_EQ(r.used[0].run_id, e.run.run_id);
  EXPECT_EQ(r.caller, e.caller);
  EXPECT_EQ(r.plan_caller, e.plan_caller);
  EXPECT_EQ(exported_run_json(r), exported_run_json(e)) << "a second export differs from the first";
}

TEST(StateExport, AnOlderExportWithoutApprovalsOrCallersIsRead) {
  json run = exported_run_json(sample_run());
  run.erase("approvals_used");
  run.erase("caller");
  run.erase("plan_caller");
  run.erase("recovery");
  auto back = parse_state_export(file_of(json::array({run})), "old.json");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_TRUE(back->front().used.empty());
  EXPECT_TRUE(back->front().run.recovery.is_null());
}

struct Broken {
  const char* what;
  std::function<void(json& doc)> edit;
  const char* named;  // what the message must name
};

TEST(StateExport, EachMalformedFieldIsRefusedNamingFileRunAndField) {
  const std::vector<Broken> cases = {
      {"format is a number", [](json& d) { d["format"] = 1; }, "not a containctl state export"},
      {"no runs", [](json& d) { d.erase("runs"); }, "not a containctl state export"},
      {"a run's status is a number", [](json& d) { d["runs"][0]["status"] = 5; }, "status is not a string"},
      {"the plan hash is a list", [](json& d) { d["runs"][0]["plan_hash"] = json::array(); }, "plan_hash"},
      {"a step's entry is 1e300", [](json& d) { d["runs"][0]["steps"][0]["entry"] = 1e300; },
       "step 1: entry is not a whole number"},
      {"a step's entry is negative", [](json& d) { d["runs"][0]["steps"][0]["entry"] = -1; }, "entry is negative"},
      {"a step's entry is past an int", [](json& d) { d["runs"][0]["steps"][0]["entry"] = 4294967296LL; },
       "entry is out of range"},
      {"a step's entry is 2.5", [](json& d) { d["runs"][0]["steps"][0]["entry"] = 2.5; }, "entry"},
      {"a step's entry is text", [](json& d) { d["runs"][0]["steps"][0]["entry"] = "3"; }, "entry"},
      {"a step without state", [](json& d) { d["runs"][0]["steps"][0].erase("state"); }, "state is missing"},
      {"apply_seq is 1e300", [](json& d) { d["runs"][0]["steps"][0]["apply_seq"] = 1e300; }, "apply_seq"},
      {"a step is a string", [](json& d) { d["runs"][0]["steps"][0] = "x"; }, "step 1 is not an object"},
      {"an approval id is a number", [](json& d) { d["runs"][0]["approvals_used"][0]["approval_id"] = 5; },
       "approvals_used 1: approval_id"},
      {"approvals_used is an object", [](json& d) { d["runs"][0]["approvals_used"] = json::object(); },
       "approvals_used is not a list"},
      {"the caller is a number", [](json& d) { d["runs"][0]["caller"] = 7; }, "caller is not a string"},
      {"recovery is text", [](json& d) { d["runs"][0]["recovery"] = "x"; }, "recovery is not an object"},
      {"the run id is not one", [](json& d) { d["runs"][0]["run_id"] = "../x"; }, "is not a run id"},
  };
  for (const auto& c : cases) {
    json doc = json::parse(file_of(json::array({exported_run_json(sample_run())})));
    c.edit(doc);
    auto r = parse_state_export(doc.dump(), "shared/runs.json");
    ASSERT_FALSE(r.ok()) << c.what << " was accepted";
    EXPECT_EQ(r.error().code, "InvalidExport") << c.what;
    EXPECT_NE(r.error().message.find("shared/runs.json"), std::string::npos) << c.what << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(c.named), std::string::npos) << c.what << ": " << r.error().message;
  }
}

// The command itself: exit 1 with the message, and no run imported (it used to abort, exit 134).
TEST(StateExport, ImportOfAMalformedFileExitsOneAndImportsNothing) {
  char tmpl[] = "/tmp/containctl-export-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_TRUE(fs::exists(CONTAINCTL_BINARY)) << "build the containctl target first";
  json doc = json::parse(file_of(json::array({exported_run_json(sample_run())})));
  json good_run = doc["runs"][0];
  good_run["run_id"] = "run-20261202-good";
  doc["runs"] = json::array({good_run, doc["runs"][0]});
  doc["runs"][1]["status"] = 5;
  std::ofstream(dir + "/runs.json") << doc.dump();
  auto cli = [&](const std::string& args) {
    std::string cmd = "cd '" + dir + "' && '" CONTAINCTL_BINARY "' --state-dir '" + dir + "/state' " + args + " >'" +
                      dir + "/out' 2>'" + dir + "/err'";
    int st = std::system(cmd.c_str());
    std::ifstream err(dir + "/err"), out(dir + "/out");
    std::stringstream ss;
    ss << err.rdbuf() << out.rdbuf();
    return std::make_pair(WIFEXITED(st) ? WEXITSTATUS(st) : -1, ss.str());
  };
  auto [code, text] = cli("state import runs.json");
  EXPECT_EQ(code, 1) << text;
  EXPECT_NE(text.find("runs.json: run run-20261202-abc: status is not a string"), std::string::npos) << text;
  auto [scode, status] = cli("--output json status");
  EXPECT_EQ(scode, 0) << status;
  EXPECT_EQ(status.find("run-20261202-good"), std::string::npos) << "a run was imported from a refused file";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace containctl::orch
