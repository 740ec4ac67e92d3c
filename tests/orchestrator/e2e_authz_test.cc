// Authorization that holds, through the real binary against moto_server: the requester is who AWS
// says made the plan, approvals are single use and checked when given, the audit log fails closed,
// and the state files are checked before they are trusted.
#include <sys/stat.h>

#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eAuthzTest : public E2eTest {
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
  // An IAM user of moto's account with a key: commands run with `as(name)` are made by them.
  std::map<std::string, std::string> as(const std::string& name) {
    if (!people_.count(name)) people_[name] = json::parse(python("person " + name));
    return {{"AWS_ACCESS_KEY_ID", people_[name]["key_id"].get<std::string>()}};
  }
  std::string arn_of(const std::string& name) { return people_.at(name)["arn"]; }
  json approval_settings(json approvers) {
    json s = org_settings("approval");
    s["approvers"] = std::move(approvers);
    return s;
  }
  std::string pub(const std::string& name) const { return dir_ + "/keys/" + name + ".pub.pem"; }
  Proc approve(const std::string& who, const std::string& out, const std::string& key = "") {
    return run({"approve", "plan.json", "--approver", who, "--key", "keys/" + (key.empty() ? who : key) + ".key.pem",
                "-o", out});
  }
  Proc refused_apply(std::vector<std::string> args, int code, const std::map<std::string, std::string>& env = {}) {
    json before = world_state();
    size_t mark = audit_count();
    Proc a = run(args, env);
    EXPECT_EQ(a.code, code) << a.all();
    EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{}) << a.all();
    EXPECT_EQ(world_state(), before);
    return a;
  }
  std::map<std::string, json> people_;
};

// The attack of issue 14: alice plans "for bob", approves her own plan, and someone applies it.
TEST_F(E2eAuthzTest, SelfApprovalUnderAnotherRequesterLabelIsRefused) {
  keys("alice");
  keys("bob");
  auto alice = as("alice");
  write_settings(approval_settings({{"alice", pub("alice")}, {"bob", pub("bob")}}));
  Proc p = run({"plan", "--target", seed_["user_arn"].get<std::string>(), "--requester", "bob", "-o", "plan.json"}, alice);
  ASSERT_EQ(p.code, 0) << p.all();
  json plan = json::parse(slurp(dir_ + "/plan.json"));
  EXPECT_EQ(plan["requester"], "bob") << "the label stays as given";
  EXPECT_EQ(plan["caller"]["arn"], arn_of("alice")) << "the identity is AWS's answer";

  Proc ap = approve("alice", "alice.json");
  ASSERT_EQ(ap.code, 0) << ap.all();
  EXPECT_NE(ap.out.find("made this plan"), std::string::npos) << ap.out;
  Proc a = refused_apply({"apply", "plan.json", "--approval", "alice.json"}, 3);
  EXPECT_NE(a.err.find("the plan's caller (" + arn_of("alice") + ")"), std::string::npos) << a.err;

  // Nor may the one who applies approve: bob approving and applying himself.
  ap = approve("bob", "bob.json");
  ASSERT_EQ(ap.code, 0) << ap.all();
  a = refused_apply({"apply", "plan.json", "--approval", "bob.json"}, 3, as("bob"));
  EXPECT_NE(a.err.find("the apply caller (" + arn_of("bob") + ")"), std::string::npos) << a.err;

  // bob's approval, applied by the responder: the separation holds and the plan applies.
  Proc ok = run({"--output", "json", "apply", "plan.json", "--approval", "bob.json"});
  ASSERT_EQ(ok.code, 0) << ok.all();
  EXPECT_EQ(json::parse(ok.out)["status"], "succeeded");
}

TEST_F(E2eAuthzTest, ApproversBoundToPrincipalsAndPinnedKeys) {
  keys("carol");
  keys("bob");
  auto alice = as("alice");
  // "carol" is alice's approver name: only the principal binding tells them apart.
  Proc fp = run({"--output", "json", "keys", "generate", "--name", "dave", "--out", "keys"});
  ASSERT_EQ(fp.code, 0) << fp.all();
  std::string dave_fp = json::parse(fp.out)["fingerprint"];
  ASSERT_EQ(dave_fp.rfind("sha256:", 0), 0u) << dave_fp;
  write_settings(approval_settings(
      {{"carol", {{"public_key", pub("carol")}, {"principals", {arn_of("alice")}}}},
       {"bob", {{"public_key", pub("bob")}, {"fingerprint", dave_fp}}}}));
  ASSERT_EQ(run({"plan", "--target", seed_["user_arn"].get<std::string>(), "-o", "plan.json"}, alice).code, 0);
  ASSERT_EQ(approve("carol", "carol.json").code, 0);
  Proc a = refused_apply({"apply", "plan.json", "--approval", "carol.json"}, 3);
  EXPECT_NE(a.err.find("approval by 'carol' refused: the approver is the plan's caller"), std::string::npos) << a.err;

  // bob's key file is not the one the settings pin: approve says so before signing.
  Proc ap = approve("bob", "bob.json");
  EXPECT_EQ(ap.code, 3) << ap.all();
  EXPECT_NE(ap.err.find("fingerprint"), std::string::npos) << ap.err;
  EXPECT_FALSE(fs::exists(dir_ + "/bob.json"));
}

TEST_F(E2eAuthzTest, ApprovalIsSingleUseEvenAfterRollback) {
  keys("bob");
  write_settings(approval_settings({{"bob", pub("bob")}}));
  ASSERT_EQ(plan(user_target()).code, 0);
  ASSERT_EQ(approve("bob", "bob.json").code, 0);
  Proc first = run({"--output", "json", "apply", "plan.json", "--approval", "bob.json"});
  ASSERT_EQ(first.code, 0) << first.all();
  std::string run1 = json::parse(first.out)["run_id"];

  // A second apply with the same approval while the first run holds the user does nothing (one
  // containment per target); after the rollback it is refused: the approval was used.
  Proc held = run({"apply", "plan.json", "--approval", "bob.json"});
  EXPECT_EQ(held.code, 0) << held.all();
  EXPECT_NE(held.all().find("already contained by run " + run1), std::string::npos) << held.all();
  Proc rb = run({"rollback", run1, "--force"});
  ASSERT_EQ(rb.code, 0) << rb.all();
  Proc again = refused_apply({"apply", "plan.json", "--approval", "bob.json"}, 3);
  EXPECT_NE(again.err.find("already used by run " + run1), std::string::npos) << again.err;

  // Resuming the rolled-back run would contain again without a fresh decision.
  Proc resume = refused_apply({"apply", "plan.json", "--approval", "bob.json", "--resume", run1}, 3);
  EXPECT_NE(resume.err.find("rolled back"), std::string::npos) << resume.err;

  // A fresh approval is a fresh decision.
  ASSERT_EQ(approve("bob", "bob2.json").code, 0);
  Proc second = run({"apply", "plan.json", "--approval", "bob2.json"});
  EXPECT_EQ(second.code, 0) << second.all();
}

TEST_F(E2eAuthzTest, ApproveChecksTheSettingsBeforeSigning) {
  keys("alice");
  keys("bob");
  keys("mallory");
  write_settings(approval_settings({{"alice", pub("alice")}, {"bob", pub("bob")}}));
  ASSERT_EQ(plan(user_target()).code, 0);
  Proc ap = approve("mallory", "m.json");
  EXPECT_EQ(ap.code, 3) << ap.all();
  EXPECT_NE(ap.err.find("'mallory' is not listed"), std::string::npos) << ap.err;
  ap = approve("bob", "b.json", "alice");  // alice's key under bob's name
  EXPECT_EQ(ap.code, 3) << ap.all();
  EXPECT_NE(ap.err.find("does not match the public key"), std::string::npos) << ap.err;
  EXPECT_FALSE(fs::exists(dir_ + "/m.json"));
  EXPECT_FALSE(fs::exists(dir_ + "/b.json"));

  // The review shows every step and option before the signature.
  ap = approve("bob", "b.json");
  ASSERT_EQ(ap.code, 0) << ap.all();
  json plan = json::parse(slurp(dir_ + "/plan.json"));
  for (const auto& s : plan["targets"][0]["steps"]) {
    EXPECT_NE(ap.out.find(s["id"].get<std::string>() + ": " + s["description"].get<std::string>()), std::string::npos)
        << ap.out;
    for (const auto& c : s["calls"])
      EXPECT_NE(ap.out.find(c["service"].get<std::string>() + ":" + c["operation"].get<std::string>()), std::string::npos);
  }
  EXPECT_NE(ap.out.find("options:"), std::string::npos) << ap.out;

  // A plan the gate now refuses (containment switched off) is not signed.
  json off = approval_settings({{"bob", pub("bob")}});
  off["organization"]["mode"] = "none";
  write_settings(off);
  ap = approve("bob", "c.json");
  EXPECT_EQ(ap.code, 3) << ap.all();
  EXPECT_FALSE(fs::exists(dir_ + "/c.json"));
}

TEST_F(E2eAuthzTest, AFailedAuditAppendStopsApplyBeforeAnyMutation) {
  write_settings(org_settings("auto"));
  ASSERT_EQ(plan(user_target()).code, 0);
  // The anchor cannot be written: every append fails from now on.
  fs::create_directory(state_ + "/audit.head.tmp");
  json before = world_state();
  size_t mark = audit_count();
  Proc a = run({"apply", "plan.json"});
  EXPECT_EQ(a.code, 4) << a.all();
  EXPECT_NE(a.err.find("fails closed"), std::string::npos) << a.err;
  EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{});
  EXPECT_EQ(world_state(), before);
  fs::remove(state_ + "/audit.head.tmp");
  Proc ok = run({"apply", "plan.json"});
  EXPECT_EQ(ok.code, 0) << ok.all();
}

TEST_F(E2eAuthzTest, UnsafeStateFilesAndCleartextEndpointsAreRefused) {
  write_settings(org_settings("auto"));
  ::chmod(state_.c_str(), 0777);
  Proc p = plan(user_target());
  EXPECT_EQ(p.code, 3) << p.all();
  EXPECT_NE(p.err.find("writable by group or others"), std::string::npos) << p.err;
  ::chmod(state_.c_str(), 0700);

  ::chmod((state_ + "/settings.json").c_str(), 0666);
  p = plan(user_target());
  EXPECT_EQ(p.code, 1) << p.all();
  EXPECT_NE(p.err.find("settings file is writable by group or others"), std::string::npos) << p.err;
  ::chmod((state_ + "/settings.json").c_str(), 0600);

  p = run({"plan", "--target", seed_["user_arn"].get<std::string>(), "-o", "plan.json"},
          {{"AWS_ENDPOINT_URL", "http://moto.example.com:" + std::to_string(moto().port())}});
  EXPECT_EQ(p.code, 1) << p.all();
  EXPECT_NE(p.err.find("plain http"), std::string::npos) << p.err;

  ASSERT_EQ(plan(user_target()).code, 0);
  fs::rename(state_ + "/journal.db", dir_ + "/elsewhere.db");
  fs::create_symlink(dir_ + "/elsewhere.db", state_ + "/journal.db");
  Proc a = run({"apply", "plan.json"});
  EXPECT_NE(a.code, 0) << a.all();
  EXPECT_NE(a.err.find("symbolic link"), std::string::npos) << a.err;
}

}  // namespace
}  // namespace containctl::e2e
