// keys generate and approve, through the real binary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "approvals/approval.h"
#include "aws/sigv4.h"
#include "orchestrator/plan_file.h"

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

class ApprovalCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/containctl-approvecli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(fs::exists(CONTAINCTL_BINARY)) << "build the containctl target first";
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun run(const std::string& args) {
    std::string cmd = "cd '" + dir_ + "' && env -u CONTAINCTL_SETTINGS CONTAINCTL_STATE_DIR='" + dir_ +
                      "/state' '" CONTAINCTL_BINARY "' " + args + " >'" + dir_ + "/out' 2>'" + dir_ + "/err'";
    int status = std::system(cmd.c_str());
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(dir_ + "/out");
    r.err = slurp(dir_ + "/err");
    return r;
  }
  // A plan in the shape the planner writes, hashed by the documented rule.
  std::string write_plan(json plan, const std::string& name = "plan.json") {
    plan.erase("plan_hash");
    plan["plan_hash"] = aws::sha256_hex(json(plan).dump());
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << plan.dump(2) << "\n";
    return p;
  }
  // Steps whose arguments the families accept: approve loads the plan as apply will.
  static json step(const std::string& id, json args, const std::string& service) {
    actions::Step s;
    s.id = id;
    s.description = "step " + id + " of the sample plan";
    s.args = std::move(args);
    s.calls.push_back({service, "Modify" + id, {{"Id", id}}, true});
    return step_to_json(s);
  }
  // A plan in the shape apply reads (load_plan validates every target and step).
  static json sample_plan() {
    const std::string instance = "i-0abcd1234ef567890";
    return {{"format", "containctl-plan/1"},
            {"requester", "arn:aws:sts::111122223333:assumed-role/Responder/dave"},
            {"caller", {{"account", "111122223333"}, {"arn", "arn:aws:sts::111122223333:assumed-role/Responder/dave"}}},
            {"created_at", "2026-11-23T07:00:00Z"},
            {"options", {{"ec2.min_conntrack_timeouts", "true"}}},
            {"targets",
             {{{"target", "arn:aws:ec2:us-east-1:111122223333:instance/" + instance},
               {"family", "ec2-isolate"},
               {"account", "111122223333"},
               {"region", "us-east-1"},
               {"confidence", "confirmed"},
               {"steps",
                {step("s1", {{"kind", "instance-attributes"}, {"instance_id", instance}}, "ec2"),
                 step("s2", {{"kind", "asg-standby"}, {"instance_id", instance}, {"asg_name", "web"}}, "ec2"),
                 step("s3", {{"kind", "tag-instance"}, {"instance_id", instance}, {"tags", json::object()}}, "ec2")}}},
              {{"target", "arn:aws:iam::111122223333:user/ci-deploy"},
               {"family", "iam-contain"},
               {"account", "111122223333"},
               {"region", "us-east-1"},
               {"confidence", "confirmed"},
               {"steps", {step("deny-all", {{"kind", "user"}, {"user_name", "ci-deploy"}, {"account", "111122223333"}}, "iam")}}}}}};
  }
  // The settings approve reads: approval mode, with these approvers (absolute key paths).
  void write_settings(const std::vector<std::string>& approvers) {
    json a = json::object();
    for (const auto& n : approvers) a[n] = dir_ + "/keys/" + n + ".pub.pem";
    json s = {{"organization", {{"mode", "approval"}, {"actions", {"ec2-isolate", "iam-contain"}}}}, {"approvers", a}};
    fs::create_directories(dir_ + "/state");
    std::ofstream(dir_ + "/state/settings.json") << s.dump(2);
  }
  std::string dir_;
};

TEST_F(ApprovalCliTest, KeysGenerateMakesA0600KeyAndRefusesToOverwrite) {
  CliRun r = run("keys generate --name alice --out keys");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("keys/alice.pub.pem"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"alice\": \"" + dir_ + "/keys/alice.pub.pem\""), std::string::npos) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/keys/alice.key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::string key = slurp(dir_ + "/keys/alice.key.pem");
  EXPECT_EQ(r.out.find("PRIVATE KEY"), std::string::npos) << "the key itself is never printed";

  r = run("keys generate --name alice --out keys");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(dir_ + "/keys/alice.key.pem"), key);

  r = run("--output json keys generate --name bob --out keys");
  ASSERT_EQ(r.code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["public_key"], "keys/bob.pub.pem");
  EXPECT_EQ(doc["approvers_entry"]["bob"], dir_ + "/keys/bob.pub.pem");

  EXPECT_EQ(run("keys generate --name ../evil --out keys").code, 1);
  EXPECT_EQ(run("keys generate --name carol").code, 2);
}

TEST_F(ApprovalCliTest, ApproveSignsTheExactPlan) {
  ASSERT_EQ(run("keys generate --name alice --out keys").code, 0);
  write_settings({"alice"});
  std::string plan = write_plan(sample_plan());
  CliRun r = run("approve plan.json --approver alice --key keys/alice.key.pem --ttl 30m -o approval.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 targets, 4 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("arn:aws:ec2:us-east-1:111122223333:instance/i-0abcd1234ef567890  (3 steps)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("assumed-role/Responder/dave"), std::string::npos);

  auto a = approvals::load_approval(dir_ + "/approval.json");
  ASSERT_TRUE(a.ok()) << a.error().describe();
  json p = json::parse(slurp(plan));
  EXPECT_EQ(a->plan_hash, p["plan_hash"]);
  EXPECT_EQ(a->approver, "alice");
  aws::TimePoint issued, expires;
  ASSERT_TRUE(aws::parse_time(a->issued_at, issued));
  ASSERT_TRUE(aws::parse_time(a->expires_at, expires));
  EXPECT_EQ(expires - issued, std::chrono::minutes(30));
  auto d = approvals::evaluate_approvals({{"approval.json", *a}}, p["plan_hash"], p["requester"],
                                         {{"alice", dir_ + "/keys/alice.pub.pem"}}, 1, issued);
  EXPECT_TRUE(d.satisfied) << (d.refusals.empty() ? "" : d.refusals[0]);
}

TEST_F(ApprovalCliTest, ApproveRefusesAPlanEditedAfterPlanning) {
  ASSERT_EQ(run("keys generate --name alice --out keys").code, 0);
  write_settings({"alice"});
  std::string plan = write_plan(sample_plan());
  json edited = json::parse(slurp(plan));
  edited["targets"][1]["target"] = "arn:aws:iam::111122223333:user/someone-else";
  std::ofstream(plan, std::ios::trunc) << edited.dump(2);
  CliRun r = run("approve plan.json --approver alice --key keys/alice.key.pem -o approval.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("plan.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("edited after planning"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ + "/approval.json"));
}

TEST_F(ApprovalCliTest, ApproveRejectsBadInputAndNamesIt) {
  ASSERT_EQ(run("keys generate --name alice --out keys").code, 0);
  write_settings({"alice"});
  std::string text = slurp(write_plan(sample_plan()));
  std::ofstream(dir_ + "/cut.json") << text.substr(0, text.size() / 2);
  CliRun r = run("approve cut.json --approver alice --key keys/alice.key.pem -o a.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cut.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;

  json no_hash = sample_plan();
  std::ofstream(dir_ + "/nohash.json") << no_hash.dump();
  r = run("approve nohash.json --approver alice --key keys/alice.key.pem -o a.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("plan_hash"), std::string::npos) << r.err;

  r = run("approve plan.json --approver alice --key keys/alice.pub.pem -o a.json");
  EXPECT_EQ(r.code, 1) << "a public key cannot sign";
  r = run("approve plan.json --approver alice --key keys/missing.pem -o a.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.pem"), std::string::npos) << r.err;
  r = run("approve plan.json --approver alice --key keys/alice.key.pem --ttl 4 -o a.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--ttl"), std::string::npos) << r.err;
  r = run("approve plan.json --approver alice --key keys/alice.key.pem --ttl 30d -o a.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(run("approve plan.json --key keys/alice.key.pem -o a.json").code, 2);
  EXPECT_FALSE(fs::exists(dir_ + "/a.json"));
}

TEST_F(ApprovalCliTest, ApproveWarnsTheRequesterTheirApprovalWillNotCount) {
  ASSERT_EQ(run("keys generate --name dave --out keys").code, 0);
  write_settings({"dave"});
  write_plan(sample_plan());
  CliRun r = run("--output json approve plan.json --approver dave --key keys/dave.key.pem -o approval.json");
  ASSERT_EQ(r.code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["self_approval"], true);
  EXPECT_EQ(doc["steps"], 4);
  // The review names every step, call and option.
  const std::string review = doc["review"];
  for (const char* want : {"s1: step s1 of the sample plan", "ec2:Modifys3", "iam:Modifydeny-all", "ec2.min_conntrack_timeouts = true"})
    EXPECT_NE(review.find(want), std::string::npos) << want << "\n" << review;
  EXPECT_FALSE(doc.contains("signature"));
}

}  // namespace
}  // namespace containctl::orch
