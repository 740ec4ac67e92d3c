// Operating under stress, end to end against moto with the real binary: SIGINT/SIGTERM and kill -9
// during apply (no interface left in an all-traffic group, the run `interrupted`, resume and
// rollback exact), one containment per resource, a refused tag that leaves the access-cutting steps
// done, partial plans, and rollback by target with a held role step.
#include <csignal>
#include <random>

#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eOpsTest : public E2eTest {
 protected:
  void TearDown() override {
    moto().reset_auth(-1);
    E2eTest::TearDown();
  }

  // A fresh state directory named `name` (runs of earlier iterations stay out of the way).
  void fresh_state(const std::string& name) {
    state_ = dir_ + "/" + name;
    fs::create_directories(state_);
    write_settings(org_settings("auto"));
  }

  // Starts containctl without waiting; stdout/stderr go to files named after `tag`.
  pid_t spawn(const std::vector<std::string>& args, const std::string& tag) {
    ExecLine line(args, base_env());
    std::string out = dir_ + "/" + tag + ".out", err = dir_ + "/" + tag + ".err";
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir_.c_str()) != 0) _exit(126);
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int i = ::open("/dev/null", O_RDONLY);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::dup2(i, 0);
      line.exec();
    }
    return pid;
  }
  // Waits for `pid` at most `limit`; the Proc carries the files of `tag`.
  Proc reap(pid_t pid, const std::string& tag, std::chrono::seconds limit = std::chrono::seconds(120)) {
    Proc r;
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (::waitpid(pid, &status, WNOHANG) != pid) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        r.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = slurp(dir_ + "/" + tag + ".out");
    r.err = slurp(dir_ + "/" + tag + ".err");
    return r;
  }
  // Waits until the output of `tag` contains `text` (false after `limit`).
  bool wait_output(const std::string& tag, const std::string& text, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (slurp(dir_ + "/" + tag + ".out").find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  json exposed() { return json::parse(python("exposed '" + dir_ + "/seed.json'")); }

  std::string only_run_id() {
    json st = status_json();
    EXPECT_EQ(st["runs"].size(), 1u) << st.dump();
    return st["runs"].empty() ? "" : st["runs"].back()["run_id"].get<std::string>();
  }

  void expect_original_world(const std::string& what) {
    json after = world_state();
    EXPECT_EQ(after, seeded_state()) << what << "\nbefore: " << seeded_state().dump(1) << "\nafter: " << after.dump(1);
  }
};

// SIGINT and SIGTERM at random points of an apply whose dwell is long: the process ends soon
// (the dwell is cut short), no interface stays in an all-traffic group, the run is `interrupted`
// and its message names resume and rollback; resume then rollback, or rollback, restore exactly.
TEST_F(E2eOpsTest, SignalsAtRandomPointsNeverLeaveAnAllTrafficGroupAndRecoveryIsExact) {
  const unsigned seed_value = std::random_device{}();
  std::mt19937 rng(seed_value);
  SCOPED_TRACE("random seed " + std::to_string(seed_value));
  std::uniform_int_distribution<int> delay_ms(500, 4000);
  int interrupted_runs = 0;
  for (int sig : {SIGINT, SIGTERM, SIGINT, SIGTERM}) {
    const int iteration = interrupted_runs + 1;
    const std::string name = "sig" + std::to_string(sig) + "-" + std::to_string(iteration) + "-" +
                             std::to_string(rng());
    fresh_state(name);
    seed(2);
    Proc p = plan(all_target_args(), name + ".plan.json", {"--option", "ec2.untrack_dwell_seconds=8"});
    ASSERT_EQ(p.code, 0) << p.all();
    const int wait_ms = delay_ms(rng);
    SCOPED_TRACE(name + " signal after " + std::to_string(wait_ms) + " ms");
    pid_t pid = spawn({"apply", name + ".plan.json"}, name);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    const auto signalled = std::chrono::steady_clock::now();
    ::kill(pid, sig);
    Proc a = reap(pid, name);
    const auto took = std::chrono::steady_clock::now() - signalled;
    ASSERT_FALSE(a.timed_out);
    if (a.signal == sig || a.code == 128 + sig) {
      // Before apply took the signal over (process start-up) or before the run existed: nothing
      // may have changed.
      EXPECT_TRUE(status_json()["runs"].empty()) << a.all();
      expect_original_world(name + " (signal before the run)");
      continue;
    }
    EXPECT_EQ(a.signal, 0) << "the first signal never kills a started apply outright";
    EXPECT_LT(took, std::chrono::seconds(7)) << "the 8 s dwell is cut short\n" << a.all();
    json ex = exposed();
    EXPECT_TRUE(ex["exposed"].empty()) << ex.dump() << "\n" << a.all();
    EXPECT_TRUE(ex["all_traffic_groups"].empty()) << ex.dump();
    std::string run_id = only_run_id();
    ASSERT_FALSE(run_id.empty());
    if (a.code == 0) continue;  // it finished before the signal: nothing to recover
    interrupted_runs++;
    EXPECT_EQ(a.code, 4) << a.all();
    EXPECT_EQ(status_json()["runs"][0]["status"], "interrupted");
    EXPECT_NE(a.out.find("apply " + name + ".plan.json --resume " + run_id), std::string::npos) << a.out;
    EXPECT_NE(a.out.find("containctl rollback " + run_id), std::string::npos) << a.out;
    if (sig == SIGTERM) {
      Proc r = run({"apply", name + ".plan.json", "--resume", run_id});
      EXPECT_EQ(r.code, 0) << r.all();
      EXPECT_EQ(status_json()["runs"][0]["status"], "succeeded");
    }
    Proc rb = run({"rollback", run_id, "--reactivate-keys", "--force"});
    EXPECT_EQ(rb.code, 0) << rb.all();
    expect_original_world(name);
    EXPECT_TRUE(exposed()["all_traffic_groups"].empty());
  }
  EXPECT_GT(interrupted_runs, 0) << "no signal arrived during an apply";
}

// kill -9 inside the all-traffic window: the next status says the run is interrupted (its process
// is gone) and names the exposed interfaces first; rollback closes them and restores exactly. A
// live run in its dwell is `running`.
TEST_F(E2eOpsTest, KillNineInTheWindowIsNamedByStatusAndRollbackClosesIt) {
  fresh_state("kill9");
  seed(1);
  std::vector<std::string> targets = {"--target", seed_["instance_arns"][0].get<std::string>()};
  ASSERT_EQ(plan(targets, "k.plan.json", {"--option", "ec2.untrack_dwell_seconds=60"}).code, 0);
  pid_t pid = spawn({"apply", "k.plan.json"}, "k");
  ASSERT_TRUE(wait_output("k", "isolate-network: applying", std::chrono::seconds(60)));
  // Inside the dwell: the interfaces are in the all-traffic group.
  json ex;
  for (int i = 0; i < 500 && (ex = exposed())["exposed"].empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(ex["exposed"].empty()) << "never saw the all-traffic window";
  EXPECT_EQ(status_json()["runs"][0]["status"], "running") << "a live run is running";
  ::kill(pid, SIGKILL);
  Proc a = reap(pid, "k");
  EXPECT_EQ(a.signal, SIGKILL);

  Proc st = run({"status"});
  EXPECT_EQ(st.code, 0);
  EXPECT_NE(st.out.find("interrupted"), std::string::npos) << st.out;
  EXPECT_EQ(st.out.find("running"), std::string::npos) << "a dead run is not running: " << st.out;
  const std::string eni = ex["exposed"][0][0];
  const std::string group = ex["exposed"][0][1];
  EXPECT_NE(st.err.find("EXPOSED"), std::string::npos) << st.err;
  EXPECT_NE(st.err.find(eni), std::string::npos) << st.err;
  EXPECT_NE(st.err.find(group), std::string::npos) << st.err;
  json sj = status_json();
  ASSERT_EQ(sj["exposed"].size(), 1u) << sj.dump();

  std::string run_id = sj["runs"][0]["run_id"];
  Proc rb = run({"rollback", run_id, "--force"});
  EXPECT_EQ(rb.code, 0) << rb.all();
  EXPECT_NE(rb.err.find(eni), std::string::npos) << "rollback names the exposed interface first: " << rb.err;
  expect_original_world("kill -9");
  ex = exposed();
  EXPECT_TRUE(ex["exposed"].empty());
  EXPECT_TRUE(ex["all_traffic_groups"].empty()) << ex.dump();
  EXPECT_TRUE(status_json()["exposed"].empty());
}

// A second signal exits at once; the journal stays readable and consistent, and whatever was open
// is named and closed by rollback.
TEST_F(E2eOpsTest, SecondSignalExitsAtOnceWithAConsistentJournal) {
  fresh_state("twice");
  seed(1);
  std::vector<std::string> targets = {"--target", seed_["instance_arns"][0].get<std::string>()};
  ASSERT_EQ(plan(targets, "t.plan.json", {"--option", "ec2.untrack_dwell_seconds=60"}).code, 0);
  pid_t pid = spawn({"apply", "t.plan.json"}, "t");
  ASSERT_TRUE(wait_output("t", "isolate-network: applying", std::chrono::seconds(60)));
  // Two different signals: both stay pending (a second SIGINT sent before the first was delivered
  // would merge with it), so the second one always arrives while the first is being handled.
  ::kill(pid, SIGINT);
  ::kill(pid, SIGTERM);
  Proc a = reap(pid, "t", std::chrono::seconds(5));
  ASSERT_FALSE(a.timed_out);
  // Which of the two is handled first is the kernel's choice; the exit names the second.
  EXPECT_TRUE(a.code == 128 + SIGTERM || a.code == 128 + SIGINT) << a.code << "\n" << a.all();
  EXPECT_NE(a.err.find("exiting at once"), std::string::npos) << a.err;
  json sj = status_json();
  ASSERT_EQ(sj["runs"].size(), 1u);
  EXPECT_EQ(sj["runs"][0]["status"], "interrupted");
  json ex = exposed();
  EXPECT_EQ(sj["exposed"].empty(), ex["exposed"].empty()) << "status names exactly what is open: " << sj.dump()
                                                          << ex.dump();
  Proc rb = run({"rollback", sj["runs"][0]["run_id"].get<std::string>(), "--force"});
  EXPECT_EQ(rb.code, 0) << rb.all();
  expect_original_world("second signal");
  EXPECT_TRUE(exposed()["all_traffic_groups"].empty());
}

// The same plan applied twice contains once; a second plan says "already contained by run X";
// rolling back run 1 then run 2 gives back exactly the original state, and status says so.
TEST_F(E2eOpsTest, SamePlanTwiceContainsOnceAndRollbacksInAnyOrderRestoreTheOriginal) {
  fresh_state("twice-applied");
  seed(2);
  const std::string i1 = seed_["instance_arns"][0], i2 = seed_["instance_arns"][1];
  const std::string user = seed_["user_arn"], bucket = seed_["bucket_arn"];
  ASSERT_EQ(plan({"--target", i1, "--target", user, "--target", bucket}, "p1.json").code, 0);
  Proc a1 = run({"apply", "p1.json"});
  ASSERT_EQ(a1.code, 0) << a1.all();
  const std::string run1 = only_run_id();

  Proc a2 = run({"apply", "p1.json"});
  EXPECT_EQ(a2.code, 0) << a2.all();
  EXPECT_NE(a2.out.find("already contained by run " + run1), std::string::npos) << a2.out;
  EXPECT_EQ(status_json()["runs"].size(), 1u) << "no second run";

  Proc p2 = plan({"--target", i1, "--target", i2, "--target", user, "--target", bucket}, "p2.json");
  ASSERT_EQ(p2.code, 0) << p2.all();
  EXPECT_NE(p2.out.find("already contained by run " + run1), std::string::npos) << p2.out;
  json doc = json::parse(slurp(dir_ + "/p2.json"));
  int planned = 0;
  for (const auto& t : doc["targets"]) {
    if (t["target"] == i2) {
      EXPECT_FALSE(t["steps"].empty());
      planned++;
    } else {
      EXPECT_TRUE(t["steps"].empty()) << t["target"];
      EXPECT_EQ(t["contained_by_run"], run1);
    }
  }
  EXPECT_EQ(planned, 1);
  Proc a3 = run({"apply", "p2.json"});
  ASSERT_EQ(a3.code, 0) << a3.all();
  json runs = status_json()["runs"];
  ASSERT_EQ(runs.size(), 2u);
  const std::string run2 = runs[1]["run_id"];

  Proc r1 = run({"rollback", run1, "--reactivate-keys", "--force"});
  EXPECT_EQ(r1.code, 0) << r1.all();
  Proc r2 = run({"rollback", run2, "--reactivate-keys", "--force"});
  EXPECT_EQ(r2.code, 0) << r2.all();
  expect_original_world("rollback run 1 then run 2");
  runs = status_json()["runs"];
  EXPECT_EQ(runs[0]["status"], "rolled_back");
  EXPECT_EQ(runs[1]["status"], "rolled_back");
  // Nothing holds the targets any more: planning again contains them again.
  Proc p3 = plan({"--target", i1}, "p3.json");
  EXPECT_EQ(p3.out.find("already contained by run"), std::string::npos) << p3.out;
}

// PutBucketTagging is denied to the responder (moto's IAM enforcement): the access-cutting steps
// are all done anyway, the tag step failed, the summary says the bucket is contained and names
// the next commands.
TEST_F(E2eOpsTest, RefusedTagLeavesTheAccessCuttingStepsDone) {
  fresh_state("tag-denied");
  seed(0);
  const std::string bucket = seed_["bucket_arn"];
  ASSERT_EQ(plan({"--target", bucket}, "b.json").code, 0);
  python("deny-responder s3:PutBucketTagging");
  secret_ = seed_["responder_secret"];  // moto checks signatures from here
  moto().reset_auth(0);  // every request is checked from here
  Proc a = run({"apply", "b.json"});
  moto().reset_auth(-1);
  EXPECT_EQ(a.code, 4) << a.all();
  const std::string run_id = only_run_id();
  json one = status_json(run_id);
  std::map<std::string, std::string> states;
  for (const auto& s : one["steps"]) states[s["step"]] = s["state"];
  EXPECT_EQ(states["deny-policy"], "verified") << one.dump();
  EXPECT_EQ(states["disable-acls"], "verified") << one.dump();
  EXPECT_EQ(states["block-public-access"], "verified") << one.dump();
  EXPECT_EQ(states["tag-bucket"], "failed") << one.dump();
  EXPECT_NE(a.out.find(bucket + " [s3-contain]: contained"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("tags not written"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("--resume " + run_id), std::string::npos) << a.out;
  Proc rb = run({"rollback", run_id});
  EXPECT_EQ(rb.code, 0) << rb.all();
  expect_original_world("after the refused tag");
}

// A target that cannot be planned is reported and skipped; the others' plan is written; exit 4.
TEST_F(E2eOpsTest, PartialPlanIsWrittenAndExits4) {
  fresh_state("partial");
  seed(1);
  const std::string missing = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
  const std::string bucket = seed_["bucket_arn"];
  Proc p = plan({"--target", missing, "--target", bucket}, "partial.json");
  EXPECT_EQ(p.code, 4) << p.all();
  EXPECT_NE(p.out.find("NOT PLANNED: " + missing), std::string::npos) << p.out;
  ASSERT_TRUE(fs::exists(dir_ + "/partial.json"));
  json doc = json::parse(slurp(dir_ + "/partial.json"));
  ASSERT_EQ(doc["targets"].size(), 1u);
  EXPECT_EQ(doc["targets"][0]["target"], bucket);
  ASSERT_EQ(doc["unplanned"].size(), 1u);
  EXPECT_EQ(doc["unplanned"][0]["target"], missing);
  Proc a = run({"apply", "partial.json"});
  EXPECT_EQ(a.code, 0) << a.all();

  Proc none = plan({"--target", missing}, "none.json");
  EXPECT_EQ(none.code, 1) << none.all();
  EXPECT_FALSE(fs::exists(dir_ + "/none.json")) << "nothing could be planned: no plan file";
}

// Rollback by target, with a role whose session revocation is held: the bucket goes back alone;
// then the role's other steps go back while the revocation stays, with its release time; --dry-run
// shows the hold; --force finishes.
TEST_F(E2eOpsTest, RollbackByTargetAndHeldRoleStep) {
  fresh_state("held");
  seed(0);
  const std::string role = json::parse(python("role app-role"))["role_arn"];
  const std::string bucket = seed_["bucket_arn"];
  const json role_before = json::parse(python("role-state app-role"));
  ASSERT_EQ(plan({"--target", role, "--target", bucket}, "h.json").code, 0);
  Proc a = run({"apply", "h.json"});
  ASSERT_EQ(a.code, 0) << a.all();
  const std::string run_id = only_run_id();

  Proc only_bucket = run({"rollback", run_id, "--target", bucket});
  EXPECT_EQ(only_bucket.code, 0) << only_bucket.all();
  json w = world_state();
  EXPECT_EQ(w["bucket_policy"], seeded_state()["bucket_policy"]);
  EXPECT_EQ(w["bucket_public_access_block"], seeded_state()["bucket_public_access_block"]);
  EXPECT_NE(json::parse(python("role-state app-role")), role_before) << "the role stays contained";
  EXPECT_EQ(status_json()["runs"][0]["status"], "partly_rolled_back");

  Proc dry = run({"rollback", run_id, "--dry-run"});
  EXPECT_EQ(dry.code, 0);
  EXPECT_NE(dry.out.find("HELD until"), std::string::npos) << dry.out;

  Proc rest = run({"rollback", run_id});
  EXPECT_EQ(rest.code, 0) << rest.all();
  EXPECT_NE(rest.out.find("revoke-sessions until"), std::string::npos) << rest.out;
  json role_now = json::parse(python("role-state app-role"));
  EXPECT_EQ(role_now.size(), 1u) << "only the held revocation policy is left: " << role_now.dump();
  EXPECT_EQ(status_json()["runs"][0]["status"], "partly_rolled_back");

  Proc forced = run({"rollback", run_id, "--force"});
  EXPECT_EQ(forced.code, 0) << forced.all();
  EXPECT_EQ(json::parse(python("role-state app-role")), role_before);
  EXPECT_EQ(status_json()["runs"][0]["status"], "rolled_back");
  expect_original_world("role and bucket rolled back");
}

// A rollback that left the user's keys inactive, then rollback --reactivate-keys: keys back on.
TEST_F(E2eOpsTest, ReactivateKeysAfterACompletedRollback) {
  fresh_state("keys");
  seed(0);
  ASSERT_EQ(plan({"--target", seed_["user_arn"].get<std::string>()}, "u.json").code, 0);
  ASSERT_EQ(run({"apply", "u.json"}).code, 0);
  const std::string run_id = only_run_id();
  Proc rb = run({"rollback", run_id});
  EXPECT_EQ(rb.code, 0) << rb.all();
  EXPECT_NE(rb.out.find("--reactivate-keys"), std::string::npos) << rb.out;
  EXPECT_NE(world_state()["user_keys"], seeded_state()["user_keys"]) << "keys stay off by default";
  Proc again = run({"rollback", run_id, "--reactivate-keys"});
  EXPECT_EQ(again.code, 0) << again.all();
  EXPECT_NE(again.out.find("1 step(s) restored"), std::string::npos) << again.out;
  expect_original_world("after --reactivate-keys");
}

// Recovery never needs valid settings: after an apply the settings file is broken ('{'); status,
// rollback and audit show work from the local state and what the run recorded (its member role),
// warning what they fell back to, and rollback restores the world exactly. plan refuses naming the
// file, line and column; a --settings file that does not exist is an error, not mode none; broken
// settings that name the team store stop recovery with what to do.
TEST_F(E2eOpsTest, BrokenSettingsNeverBlockRecovery) {
  fresh_state("broken-settings");
  seed(1);
  json s = org_settings("auto");
  s["member_role_name"] = "OpsRecoveryRole";
  write_settings(s);
  ASSERT_EQ(plan(all_target_args(), "r.json").code, 0);
  Proc a = run({"apply", "r.json"});
  ASSERT_EQ(a.code, 0) << a.all();
  const std::string run_id = only_run_id();
  const std::string settings = state_ + "/settings.json";
  write_file(settings, "{");

  Proc st = run({"status"});
  EXPECT_EQ(st.code, 0) << st.all();
  EXPECT_NE(st.out.find(run_id), std::string::npos) << st.out;
  EXPECT_NE(st.err.find(settings), std::string::npos) << "the warning names the file: " << st.err;
  EXPECT_NE(st.err.find("going on without the settings"), std::string::npos) << st.err;
  Proc sj = run({"--output", "json", "status", run_id});
  ASSERT_EQ(sj.code, 0) << sj.all();
  EXPECT_EQ(json::parse(sj.out)["run_id"], run_id) << "stdout stays one JSON document";

  Proc show = run({"audit", "show", run_id});
  EXPECT_EQ(show.code, 0) << show.all();
  EXPECT_NE(show.out.find("run_started"), std::string::npos) << show.out;
  EXPECT_NE(show.err.find("going on without the settings"), std::string::npos) << show.err;
  Proc verify = run({"audit", "verify"});
  EXPECT_EQ(verify.code, 0) << verify.all();

  Proc rb = run({"rollback", run_id, "--reactivate-keys", "--force"});
  EXPECT_EQ(rb.code, 0) << rb.all();
  EXPECT_NE(rb.err.find("member role 'OpsRecoveryRole' as the run recorded it"), std::string::npos) << rb.err;
  expect_original_world("rollback with a broken settings file");
  EXPECT_EQ(status_json()["runs"][0]["status"], "rolled_back");

  // What needs the settings refuses, naming the file, the line and the column; nothing changes.
  write_file(settings, "{\n  \"organization\": {\"mode\": \"auto\"},\n  oops\n}\n");
  const size_t calls = audit_count();
  Proc p = plan(all_target_args(), "again.json");
  EXPECT_EQ(p.code, 1) << p.all();
  EXPECT_NE(p.err.find(settings), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("line 3, column 3"), std::string::npos) << p.err;
  EXPECT_FALSE(fs::exists(dir_ + "/again.json"));
  Proc ap = run({"apply", "r.json"});
  EXPECT_EQ(ap.code, 1) << ap.all();
  EXPECT_NE(ap.err.find("line 3, column 3"), std::string::npos) << ap.err;
  EXPECT_TRUE(mutating_calls_since(calls).empty());

  // A settings file named on purpose that does not exist is an error, not mode none.
  const std::string missing = state_ + "/no-such-settings.json";
  Proc m = run({"--settings", missing, "plan", "--target", seed_["bucket_arn"].get<std::string>(), "-o", "m.json"});
  EXPECT_EQ(m.code, 1) << m.all();
  EXPECT_NE(m.err.find(missing), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("no such file"), std::string::npos) << m.err;
  Proc menv = run({"plan", "--target", seed_["bucket_arn"].get<std::string>(), "-o", "m.json"},
                  {{"CONTAINCTL_SETTINGS", missing}});
  EXPECT_EQ(menv.code, 1) << menv.all();
  EXPECT_NE(menv.err.find("CONTAINCTL_SETTINGS"), std::string::npos) << menv.err;
  EXPECT_FALSE(fs::exists(dir_ + "/m.json"));

  // Broken settings that name the team store: its table and bucket are only in them.
  write_file(settings, "{\"state\": {\"backend\": \"aws\", \"table\": \"containctl-state\",");
  Proc team = run({"status"});
  EXPECT_EQ(team.code, 1) << team.all();
  EXPECT_NE(team.err.find(settings), std::string::npos) << team.err;
  EXPECT_NE(team.err.find("team store"), std::string::npos) << team.err;
  EXPECT_NE(team.err.find("--settings"), std::string::npos) << team.err;
  Proc team_rb = run({"rollback", run_id});
  EXPECT_EQ(team_rb.code, 1) << team_rb.all();
  EXPECT_NE(team_rb.err.find("team store"), std::string::npos) << team_rb.err;
}

// Evidence in view: the apply summary, status RUN (text and JSON) and the rollback output show the
// ids each step left (the isolation group, snapshots, ...); status lists each run's targets and
// what is contained now; audit show RUN holds the run's apply-time gate decisions and approvals.
TEST_F(E2eOpsTest, EvidenceIsInViewAndTheRunsAuditTrailIsWhole) {
  fresh_state("evidence");
  seed(1);
  const std::string inst = seed_["instance_arns"][0], user = seed_["user_arn"];
  ASSERT_EQ(plan({"--target", inst}, "e.json").code, 0);
  Proc a = run({"apply", "e.json"});
  ASSERT_EQ(a.code, 0) << a.all();
  const std::string run_id = only_run_id();
  json one = status_json(run_id);
  std::string group;
  for (const auto& s : one["steps"])
    if (s["step"] == "isolate-network" && s.contains("evidence"))
      for (const auto& [vpc, sg] : s["evidence"]["isolation_groups"].items()) group = sg;
  ASSERT_EQ(group.rfind("sg-", 0), 0u) << "status RUN --output json carries the isolation group: " << one.dump();
  EXPECT_NE(a.out.find(group), std::string::npos) << "the apply summary names it: " << a.out;
  Proc st = run({"status", run_id});
  EXPECT_NE(st.out.find(group), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("run by arn:aws:"), std::string::npos) << st.out;
  EXPECT_TRUE(one.contains("caller")) << one.dump();

  json list = status_json();
  ASSERT_EQ(list["runs"].size(), 1u);
  EXPECT_EQ(list["runs"][0]["targets"], json::array({inst})) << list.dump();
  ASSERT_EQ(list["contained_now"].size(), 1u) << list.dump();
  EXPECT_EQ(list["contained_now"][0]["target"], inst);
  EXPECT_EQ(list["contained_now"][0]["run_id"], run_id);
  Proc lt = run({"status"});
  EXPECT_NE(lt.out.find("Contained now:"), std::string::npos) << lt.out;

  // The apply-time gate decision is in the run's own trail.
  Proc show = run({"--output", "json", "audit", "show", run_id});
  ASSERT_EQ(show.code, 0) << show.all();
  bool gate = false;
  const json shown = json::parse(show.out);
  for (const auto& r : shown["records"])
    gate = gate || (r["event"] == "gate_decision" && r.value("phase", "") == "apply" && r.value("target", "") == inst);
  EXPECT_TRUE(gate) << show.out;

  Proc rb = run({"rollback", run_id, "--force"});
  EXPECT_EQ(rb.code, 0) << rb.all();
  EXPECT_NE(rb.out.find(group), std::string::npos) << "rollback lists the ids: " << rb.out;
  EXPECT_TRUE(status_json()["contained_now"].empty());

  // With an approval: approval_accepted is in the run's trail too.
  fresh_state("evidence-approval");
  ASSERT_EQ(run({"keys", "generate", "--name", "bob", "--out", "keys"}).code, 0);
  json s = org_settings("approval");
  s["approvers"] = {{"bob", dir_ + "/keys/bob.pub.pem"}};
  write_settings(s);
  ASSERT_EQ(plan({"--target", user}, "u.json").code, 0);
  ASSERT_EQ(run({"approve", "u.json", "--approver", "bob", "--key", "keys/bob.key.pem", "-o", "bob.json"}).code, 0);
  Proc ua = run({"apply", "u.json", "--approval", "bob.json"});
  ASSERT_EQ(ua.code, 0) << ua.all();
  const std::string run2 = only_run_id();
  Proc show2 = run({"--output", "json", "audit", "show", run2});
  ASSERT_EQ(show2.code, 0) << show2.all();
  bool accepted = false, gate2 = false;
  const json shown2 = json::parse(show2.out);
  for (const auto& r : shown2["records"]) {
    accepted = accepted || (r["event"] == "approval_accepted" && r.value("approver", "") == "bob");
    gate2 = gate2 || (r["event"] == "gate_decision" && r.value("phase", "") == "apply");
  }
  EXPECT_TRUE(accepted) << show2.out;
  EXPECT_TRUE(gate2) << show2.out;
  ASSERT_EQ(run({"rollback", run2, "--reactivate-keys", "--force"}).code, 0);
  expect_original_world("evidence");
}

}  // namespace
}  // namespace containctl::e2e
