// plan is read-only; the settings gate and approvals decide apply; bad plan and settings files are
// refused by name before any mutating call. All through the real binary against moto_server.
#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eGateTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    seed(1);
  }
  std::vector<std::string> user_target() const { return {"--target", seed_["user_arn"].get<std::string>()}; }
  void keys(const std::string& name) {
    Proc k = run({"keys", "generate", "--name", name, "--out", "keys"});
    ASSERT_EQ(k.code, 0) << k.all();
  }
  json approval_settings() {
    json s = org_settings("approval");
    s["approvers"] = {{"alice", dir_ + "/keys/alice.pub.pem"}, {"bob", dir_ + "/keys/bob.pub.pem"}};
    return s;
  }
  // Apply, expecting it to be stopped with `code` and no mutating call; the world is unchanged.
  Proc refused_apply(std::vector<std::string> args, int code, const json& before) {
    size_t mark = audit_count();
    Proc a = run(args);
    EXPECT_EQ(a.code, code) << a.all();
    EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{}) << a.all();
    EXPECT_EQ(world_state(), before);
    return a;
  }
};

TEST_F(E2eGateTest, PlanMakesReadOnlyCallsOnlyAndChangesNothing) {
  write_settings(org_settings("auto"));
  json before = seeded_state();
  Proc p = plan(all_target_args());
  ASSERT_EQ(p.code, 0) << p.all();
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  ASSERT_EQ(doc["targets"].size(), 3u) << "instance, user, bucket";

  auto recs = audit_records();
  std::set<std::string> services, ops;
  for (const auto& r : recs) {
    if (r["event"] != "aws_call") continue;
    services.insert(r["service"].get<std::string>());
    ops.insert(r["operation"].get<std::string>());
    EXPECT_TRUE(is_read_operation(r["operation"])) << "plan made a mutating call: " << r.dump();
  }
  // The recorder really saw the discovery of all three families.
  for (const char* s : {"sts", "ec2", "iam", "s3"}) EXPECT_TRUE(services.count(s)) << s;
  EXPECT_TRUE(ops.count("GetCallerIdentity"));
  EXPECT_TRUE(ops.count("DescribeNetworkInterfaces") || ops.count("DescribeInstances"));
  EXPECT_TRUE(ops.count("ListAccessKeys"));
  EXPECT_TRUE(ops.count("GetBucketPolicy"));
  EXPECT_EQ(world_state(), before);
  EXPECT_EQ(status_json()["runs"].size(), 0u) << "plan must not start a run";
}

TEST_F(E2eGateTest, NoSettingsFileMeansPlanShowsRefusedAndApplyExits3WithoutMutating) {
  ASSERT_FALSE(fs::exists(state_ + "/settings.json"));
  json before = seeded_state();
  Proc p = plan(all_target_args());
  ASSERT_EQ(p.code, 0) << p.all();
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  EXPECT_EQ(doc["decision"]["decision"], "refused") << doc["decision"].dump();
  EXPECT_NE(p.out.find("refused"), std::string::npos) << p.out;

  Proc a = refused_apply({"apply", "plan.json"}, 3, before);
  EXPECT_NE(a.err.find("mode"), std::string::npos) << a.err;
  EXPECT_EQ(status_json()["runs"].size(), 0u);
}

TEST_F(E2eGateTest, ApprovalModeNeedsAListedApproverWhoIsNotTheRequester) {
  keys("alice");
  keys("bob");
  keys("mallory");
  write_settings(approval_settings());
  json before = seeded_state();
  Proc p = plan(user_target(), "plan.json", {"--requester", "alice"});
  ASSERT_EQ(p.code, 0) << p.all();
  EXPECT_EQ(json::parse(slurp(dir_ + "/plan.json"))["decision"]["decision"], "approval");

  // No approval at all.
  Proc a = refused_apply({"apply", "plan.json"}, 3, before);
  EXPECT_NE(a.err.find("approval"), std::string::npos) << a.err;

  // (The requester label is not an identity: self-approval by who AWS says made or applies the
  // plan is e2e_authz_test's subject.)
  // Someone who signs with a key but is not listed in the settings: approve refuses to sign, and an
  // approval file made anyway is refused at apply.
  Proc ap = run({"approve", "plan.json", "--approver", "mallory", "--key", "keys/mallory.key.pem", "-o", "mallory.json"});
  EXPECT_EQ(ap.code, 3) << ap.all();
  EXPECT_FALSE(fs::exists(dir_ + "/mallory.json"));
  json listed = approval_settings();
  listed["approvers"]["mallory"] = dir_ + "/keys/mallory.pub.pem";
  write_settings(listed);
  ap = run({"approve", "plan.json", "--approver", "mallory", "--key", "keys/mallory.key.pem", "-o", "mallory.json"});
  ASSERT_EQ(ap.code, 0) << ap.all();
  write_settings(approval_settings());
  a = refused_apply({"apply", "plan.json", "--approval", "mallory.json"}, 3, before);
  EXPECT_NE(a.err.find("mallory"), std::string::npos) << a.err;

  // A listed approver other than the requester: applied.
  ap = run({"approve", "plan.json", "--approver", "bob", "--key", "keys/bob.key.pem", "-o", "bob.json"});
  ASSERT_EQ(ap.code, 0) << ap.all();
  Proc ok = run({"--output", "json", "apply", "plan.json", "--approval", "bob.json"});
  ASSERT_EQ(ok.code, 0) << ok.all();
  json out = json::parse(ok.out);
  EXPECT_EQ(out["status"], "succeeded") << ok.out;
  json after = world_state();
  EXPECT_NE(after["user_keys"], before["user_keys"]) << "the active key should be deactivated";
  for (const auto& k : after["user_keys"]) EXPECT_EQ(k[1], "Inactive") << after.dump();
}

TEST_F(E2eGateTest, PlanEditedAfterPlanningIsRefusedByName) {
  keys("alice");
  keys("bob");
  write_settings(approval_settings());
  json before = seeded_state();
  ASSERT_EQ(plan(user_target(), "plan.json", {"--requester", "alice"}).code, 0);
  Proc ap = run({"approve", "plan.json", "--approver", "bob", "--key", "keys/bob.key.pem", "-o", "bob.json"});
  ASSERT_EQ(ap.code, 0) << ap.all();
  // Point the approved plan at another principal, keeping the old hash.
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  doc["targets"][0]["target"] = "arn:aws:iam::123456789012:user/e2e-responder";
  write_file(dir_ + "/plan.json", doc.dump(2));
  Proc a = refused_apply({"apply", "plan.json", "--approval", "bob.json"}, 1, before);
  EXPECT_NE(a.err.find("plan.json"), std::string::npos) << a.err;
  EXPECT_EQ(status_json()["runs"].size(), 0u);
}

TEST_F(E2eGateTest, ProtectedTargetIsRefused) {
  json s = org_settings("auto");
  s["protected"] = {"arn:aws:iam::*:user/svc-*"};
  write_settings(s);
  json before = seeded_state();
  Proc p = plan(user_target());
  ASSERT_EQ(p.code, 0) << p.all();
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  ASSERT_EQ(doc["refused"].size(), 1u) << doc.dump(1);
  EXPECT_EQ(doc["refused"][0]["target"], seed_["user_arn"]);
  EXPECT_NE(p.out.find("protected"), std::string::npos) << p.out;
  // Applying a plan whose only target was refused is a refusal (exit 3, naming why), not "nothing to do".
  Proc a = refused_apply({"apply", "plan.json"}, 3, before);
  EXPECT_NE(a.err.find("protected"), std::string::npos) << a.all();
}

TEST_F(E2eGateTest, ProtectionAddedAfterPlanningIsEnforcedAtApply) {
  write_settings(org_settings("auto"));
  json before = seeded_state();
  ASSERT_EQ(plan(user_target()).code, 0);
  json s = org_settings("auto");
  s["protected"] = {"arn:aws:iam::*:user/svc-*"};
  write_settings(s);
  Proc a = refused_apply({"apply", "plan.json"}, 3, before);
  EXPECT_NE(a.err.find("protected"), std::string::npos) << a.err;
}

TEST_F(E2eGateTest, TruncatedPlanFileIsRefusedByName) {
  write_settings(org_settings("auto"));
  json before = seeded_state();
  ASSERT_EQ(plan(all_target_args()).code, 0);
  std::string text = slurp(dir_ + "/plan.json");
  write_file(dir_ + "/plan.json", text.substr(0, text.size() / 2));
  Proc a = refused_apply({"apply", "plan.json"}, 1, before);
  EXPECT_NE(a.err.find("plan.json"), std::string::npos) << a.err;
  EXPECT_EQ(status_json()["runs"].size(), 0u);
}

TEST_F(E2eGateTest, SettingsTypoIsRefusedNamingFileAndField) {
  write_settings(org_settings("auto"));
  json before = seeded_state();
  ASSERT_EQ(plan(all_target_args()).code, 0);
  json s = org_settings("auto");
  s["organization"]["auto_scpoe"] = s["organization"]["auto_scope"];
  s["organization"].erase("auto_scope");
  write_settings(s);
  size_t mark = audit_count();
  Proc a = run({"apply", "plan.json"});
  EXPECT_TRUE(a.code == 1 || a.code == 2) << a.all();
  EXPECT_NE(a.err.find("settings.json"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("auto_scpoe"), std::string::npos) << a.err;
  EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{});
  EXPECT_EQ(world_state(), before);

  // A bad value, not just a bad name.
  s = org_settings("automatic");
  write_settings(s);
  mark = audit_count();
  a = run({"apply", "plan.json"});
  EXPECT_TRUE(a.code == 1 || a.code == 2) << a.all();
  EXPECT_NE(a.err.find("settings.json"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("mode"), std::string::npos) << a.err;
  EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{});
  EXPECT_EQ(world_state(), before);
}

TEST_F(E2eGateTest, StatusRollbackDryRunAndAuditVerifyAfterARun) {
  write_settings(org_settings("auto"));
  json before = seeded_state();
  ASSERT_EQ(plan(all_target_args()).code, 0);
  Proc a = run({"--output", "json", "apply", "plan.json"});
  ASSERT_EQ(a.code, 0) << a.all();
  std::string run_id = json::parse(a.out)["run_id"];
  json contained = world_state();
  EXPECT_NE(contained, before);

  json st = status_json();
  ASSERT_EQ(st["runs"].size(), 1u);
  EXPECT_EQ(st["runs"][0]["run_id"], run_id);
  EXPECT_EQ(st["runs"][0]["status"], "succeeded");
  EXPECT_FALSE(st["runs"][0]["started_at"].get<std::string>().empty());
  json one = status_json(run_id);
  ASSERT_EQ(one["steps"].size(), 11u) << one.dump(1);  // instance 4, user 3, bucket 4
  for (const auto& s : one["steps"]) EXPECT_EQ(s["state"], "verified") << s.dump();
  Proc text = run({"status", run_id});
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find(seed_["bucket_arn"].get<std::string>()), std::string::npos) << text.out;

  size_t mark = audit_count();
  Proc dry = run({"--output", "json", "rollback", run_id, "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.all();
  json d = json::parse(dry.out);
  EXPECT_EQ(d["dry_run"], true);
  EXPECT_EQ(d["steps"].size(), 11u) << dry.out;
  EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{});
  EXPECT_EQ(world_state(), contained) << "a dry-run changes nothing";

  Proc v = run({"audit", "verify"});
  EXPECT_EQ(v.code, 0) << v.all();
  Proc show = run({"audit", "show", run_id});
  EXPECT_EQ(show.code, 0) << show.all();
  EXPECT_NE(show.out.find("step_applied"), std::string::npos) << show.out.substr(0, 2000);

  Proc rb = run({"rollback", run_id, "--reactivate-keys", "--force"});
  ASSERT_EQ(rb.code, 0) << rb.all();
  EXPECT_EQ(world_state(), before);
  EXPECT_EQ(status_json(run_id)["status"], "rolled_back");
  EXPECT_EQ(run({"audit", "verify"}).code, 0);

  // Changing one record of the log is found and named.
  std::string log = slurp(state_ + "/audit.jsonl");
  size_t pos = log.find("\"step_applied\"");
  ASSERT_NE(pos, std::string::npos);
  log.replace(pos, 14, "\"step_skipped\"");
  write_file(state_ + "/audit.jsonl", log);
  v = run({"audit", "verify"});
  EXPECT_EQ(v.code, 5) << v.all();
}

}  // namespace
}  // namespace containctl::e2e
