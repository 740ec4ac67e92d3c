// The team store end to end: the real binary, two responders (two state directories, one set of
// "state": {"backend": "aws"} settings) on DynamoDB and S3 in moto_server on 127.0.0.1.
#include <csignal>
#include <functional>

#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eTeamTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    state_a_ = dir_ + "/responder-a";
    state_b_ = dir_ + "/responder-b";
    fs::create_directories(state_a_);
    fs::create_directories(state_b_);
  }

  static json team_settings() {
    json s = org_settings("auto");
    s["state"] = team_state_settings();
    return s;
  }
  // Both responders get the same settings; each has its own state directory (and audit file).
  void write_team_settings(const json& s = team_settings()) {
    write_file(state_a_ + "/settings.json", s.dump(2));
    write_file(state_b_ + "/settings.json", s.dump(2));
  }
  Proc as(const std::string& who, const std::vector<std::string>& args, std::map<std::string, std::string> extra = {},
          std::chrono::seconds timeout = std::chrono::seconds(120)) {
    extra["CONTAINCTL_STATE_DIR"] = who == "a" ? state_a_ : state_b_;
    return run(args, extra, Stdin::kDevNull, timeout);
  }
  json as_json(const std::string& who, std::vector<std::string> args, int want = 0) {
    args.insert(args.begin(), {"--output", "json"});
    Proc p = as(who, args);
    EXPECT_EQ(p.code, want) << p.all();
    json doc = json::parse(p.out, nullptr, false);
    return doc.is_discarded() ? json::object() : doc;
  }
  void init_store() {
    json made = as_json("a", {"state", "init"});
    ASSERT_TRUE(made.contains("steps")) << made.dump();
  }

  // Starts containctl as `who` without waiting; finish() collects it.
  struct Running {
    pid_t pid;
    std::string out, err;
  };
  Running start(const std::string& who, const std::vector<std::string>& args) {
    auto env = base_env();
    env["CONTAINCTL_STATE_DIR"] = who == "a" ? state_a_ : state_b_;
    Running r{-1, dir_ + "/" + who + ".out", dir_ + "/" + who + ".err"};
    ExecLine line(args, env);
    r.pid = ::fork();
    if (r.pid == 0) {
      if (::chdir(dir_.c_str()) != 0) _exit(126);
      int o = ::open(r.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(r.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int i = ::open("/dev/null", O_RDONLY);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::dup2(i, 0);
      line.exec();
    }
    return r;
  }
  Proc finish(const Running& r) {
    int status = 0;
    ::waitpid(r.pid, &status, 0);
    Proc p;
    if (WIFEXITED(status)) p.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) p.signal = WTERMSIG(status);
    p.out = slurp(r.out);
    p.err = slurp(r.err);
    return p;
  }
  size_t mutating_calls(const std::string& who) { return mutating_calls_after(who, 0).size(); }
  std::vector<std::string> mutating_calls_after(const std::string& who, size_t mark) {
    std::string saved = state_;
    state_ = who == "a" ? state_a_ : state_b_;
    auto calls = mutating_calls_since(mark);
    state_ = saved;
    return calls;
  }
  size_t audit_count_of(const std::string& who) {
    std::string saved = state_;
    state_ = who == "a" ? state_a_ : state_b_;
    size_t n = audit_count();
    state_ = saved;
    return n;
  }
  // Polls world.py until `done` says yes (at most `limit`).
  bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(60)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // The state of each step of a run, by step id (one target).
  std::map<std::string, std::string> step_states(const std::string& who, const std::string& run_id) {
    std::map<std::string, std::string> out;
    const json doc = as_json(who, {"status", run_id});
    for (const auto& s : doc.value("steps", json::array())) out[s.value("step", "")] = s.value("state", "");
    return out;
  }

  // Team settings whose lease lasts 3 s (so it must be renewed while a run works), and the store.
  void init_store_with_short_lease() {
    json s = team_settings();
    s["state"]["lease_seconds"] = 3;
    write_team_settings(s);
    init_store();
  }
  // A plans the first instance with an 8 s untrack dwell (its interfaces stay in the untrack
  // window that long) into `plan_file`, and starts applying it.
  void start_dwelling_apply(const std::string& plan_file, Running& ra) {
    Proc p = as("a", {"plan", "--target", seed_["instance_arns"][0].get<std::string>(), "--option",
                      "ec2.untrack_dwell_seconds=8", "-o", plan_file});
    ASSERT_EQ(p.code, 0) << p.all();
    ra = start("a", {"--output", "json", "apply", plan_file});
  }
  // After A's audit record `mark` (when `what` happened), A's run made only the calls that close
  // the window of its step in flight (interfaces to isolation, its all-traffic group deleted),
  // started no later step, and left no exposure. Gives the run id and its step states.
  void expect_only_the_window_closed_after(size_t mark, const Proc& a, const std::string& what, std::string& run_id,
                                           std::map<std::string, std::string>& states) {
    for (const auto& call : mutating_calls_after("a", mark))
      EXPECT_TRUE(call == "ec2:ModifyNetworkInterfaceAttribute" || call == "ec2:DeleteSecurityGroup")
          << call << ": a mutating call after " << what;
    run_id = json::parse(a.out, nullptr, false).value("run_id", "");
    ASSERT_FALSE(run_id.empty()) << a.out;
    states = step_states("b", run_id);
    EXPECT_TRUE(states["tag-instance"] == "pending" || states["tag-instance"] == "captured" ||
                states["tag-instance"] == "failed")
        << "a step started after " << what << ": " << ::testing::PrintToString(states);
    EXPECT_EQ(python("team-exposure containctl-state"), "[]\n") << "the window was left open";
  }

  std::string state_a_, state_b_;
};

TEST_F(E2eTeamTest, StateInitCreatesTableAndBucketAndIsIdempotent) {
  seed(1);
  write_team_settings();
  json first = as_json("a", {"state", "init"});
  ASSERT_TRUE(first["steps"].is_array()) << first.dump();
  std::map<std::string, std::string> r1;
  for (const auto& s : first["steps"]) r1[s["what"]] = s["result"];
  EXPECT_EQ(r1["dynamodb table containctl-state"].rfind("created", 0), 0u) << first.dump();
  EXPECT_EQ(r1["s3 bucket containctl-state-123456789012"].rfind("created", 0), 0u) << first.dump();
  EXPECT_EQ(r1["s3 bucket containctl-state-123456789012 versioning"], "enabled");
  EXPECT_EQ(r1["s3 bucket containctl-state-123456789012 public access block"], "all four blocked");
  json second = as_json("b", {"state", "init"});
  std::map<std::string, std::string> r2;
  for (const auto& s : second["steps"]) r2[s["what"]] = s["result"];
  EXPECT_EQ(r2["dynamodb table containctl-state"], "present") << second.dump();
  EXPECT_EQ(r2["s3 bucket containctl-state-123456789012"], "present") << second.dump();
  // What AWS holds, read back with boto3 (not with containctl's own reads).
  json store = json::parse(python("store containctl-state containctl-state-123456789012"));
  EXPECT_EQ(store["key_schema"], json::parse(R"([["pk","HASH"],["sk","RANGE"]])")) << store.dump();
  EXPECT_EQ(store["versioning"], "Enabled");
  EXPECT_EQ(store["public_access_block"], json::parse(R"([true,true,true,true])")) << store.dump();
  EXPECT_EQ(store["encryption"], "AES256") << store.dump();
  EXPECT_TRUE(store.at("object_lock").is_null()) << "Object Lock on without --object-lock: " << store.dump();
  EXPECT_EQ(store.at("checkpoints"), json::object()) << store.dump();
}

// The calls that make the store cannot be recorded in it: they go to the local log only, and the
// team chain starts with the init itself (they were each an "could not record" error before).
TEST_F(E2eTeamTest, StateInitAuditsIntoTheStoreOnlyOnceItExists) {
  seed(1);
  write_team_settings();
  Proc p = as("a", {"state", "init"});
  ASSERT_EQ(p.code, 0) << p.all();
  EXPECT_EQ(p.err.find("could not record"), std::string::npos) << p.err;
  json v = as_json("b", {"audit", "verify"});
  EXPECT_EQ(v["ok"], true) << v.dump();
  EXPECT_EQ(v["records"], 1) << v.dump();
}

TEST_F(E2eTeamTest, BadTeamSettingsAreRefusedBeforeAnyCall) {
  seed(1);
  json s = team_settings();
  s["state"]["bucket"] = "Bad_Bucket";
  write_team_settings(s);
  Proc p = as("a", {"status"});
  EXPECT_EQ(p.code, 1) << p.all();
  EXPECT_NE(p.err.find("state.bucket"), std::string::npos) << p.err;
}

TEST_F(E2eTeamTest, ResponderBListsAndRollsBackWhatResponderAApplied) {
  seed(1);
  write_team_settings();
  init_store();
  const json before = seeded_state();
  std::vector<std::string> targets = {"--target", seed_["instance_arns"][0].get<std::string>(), "--target",
                                      seed_["user_arn"].get<std::string>()};
  Proc p = as("a", [&] {
    std::vector<std::string> a = {"plan"};
    a.insert(a.end(), targets.begin(), targets.end());
    a.insert(a.end(), {"-o", "team.plan.json"});
    return a;
  }());
  ASSERT_EQ(p.code, 0) << p.all();
  json applied = as_json("a", {"apply", "team.plan.json"});
  ASSERT_EQ(applied.value("status", ""), "succeeded") << applied.dump();
  const std::string run_id = applied["run_id"];
  EXPECT_NE(world_state(), before) << "the run changed nothing";
  // Nothing of the run is in B's state directory; B sees it in the team store.
  EXPECT_FALSE(fs::exists(state_b_ + "/journal.db"));
  json listed = as_json("b", {"status"});
  ASSERT_EQ(listed["runs"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["runs"][0]["run_id"], run_id);
  EXPECT_EQ(listed["runs"][0]["status"], "succeeded");
  json one = as_json("b", {"status", run_id});
  EXPECT_EQ(one["steps"].size(), 7u) << one.dump();
  for (const auto& s : one["steps"]) EXPECT_EQ(s["state"], "verified") << s.dump();
  json rb = as_json("b", {"rollback", run_id, "--reactivate-keys", "--force"});
  EXPECT_EQ(rb.value("status", ""), "rolled_back") << rb.dump();
  EXPECT_EQ(world_state(), before);
  // A sees B's rollback.
  json after = as_json("a", {"status", run_id});
  EXPECT_EQ(after["status"], "rolled_back") << after.dump();
  for (const auto& s : after["steps"]) EXPECT_EQ(s["state"], "rolled_back") << s.dump();
}

// Approvals are single use in the team store too: the approval A applied with cannot be replayed by
// B (another machine, another state directory) after B rolled the run back, nor resume it.
TEST_F(E2eTeamTest, AnApprovalUsedByOneResponderIsRefusedToTheOther) {
  seed(1);
  json s = team_settings();
  s["organization"]["mode"] = "approval";
  s["approvers"] = {{"bob", dir_ + "/keys/bob.pub.pem"}};
  write_team_settings(s);
  init_store();
  ASSERT_EQ(as("a", {"keys", "generate", "--name", "bob", "--out", "keys"}).code, 0);
  const std::string user = seed_["user_arn"];
  ASSERT_EQ(as("a", {"plan", "--target", user, "-o", "plan.json"}).code, 0);
  Proc ap = as("a", {"approve", "plan.json", "--approver", "bob", "--key", "keys/bob.key.pem", "-o", "bob.json"});
  ASSERT_EQ(ap.code, 0) << ap.all();
  json applied = as_json("a", {"apply", "plan.json", "--approval", "bob.json"});
  ASSERT_EQ(applied.value("status", ""), "succeeded") << applied.dump();
  const std::string run1 = applied["run_id"];
  json rb = as_json("b", {"rollback", run1, "--reactivate-keys", "--force"});
  ASSERT_EQ(rb.value("status", ""), "rolled_back") << rb.dump();
  const json before = world_state();
  const size_t mutated_b = mutating_calls("b");
  Proc again = as("b", {"apply", "plan.json", "--approval", "bob.json"});
  EXPECT_EQ(again.code, 3) << again.all();
  EXPECT_NE(again.err.find("already used by run " + run1), std::string::npos) << again.err;
  Proc resume = as("b", {"apply", "plan.json", "--approval", "bob.json", "--resume", run1});
  EXPECT_EQ(resume.code, 3) << resume.all();
  EXPECT_EQ(mutating_calls("b"), mutated_b) << "a refused apply mutated something";
  EXPECT_EQ(world_state(), before);
}

TEST_F(E2eTeamTest, ExportAndImportMoveRunsFromSqliteToTheTeamStore) {
  seed(1);
  // A works alone first (sqlite), then the team adopts the store and imports A's runs.
  json solo = org_settings("auto");
  write_file(state_a_ + "/settings.json", solo.dump(2));
  const json before = seeded_state();
  Proc p = as("a", {"plan", "--target", seed_["instance_arns"][0].get<std::string>(), "-o", "solo.plan.json"});
  ASSERT_EQ(p.code, 0) << p.all();
  json applied = as_json("a", {"apply", "solo.plan.json"});
  ASSERT_EQ(applied.value("status", ""), "succeeded") << applied.dump();
  const std::string run_id = applied["run_id"];
  json exported = as_json("a", {"state", "export", dir_ + "/runs.json"});
  EXPECT_EQ(exported["runs"], 1) << exported.dump();
  EXPECT_EQ(fs::status(dir_ + "/runs.json").permissions() & fs::perms::group_all, fs::perms::none);

  write_team_settings();
  init_store();
  json imported = as_json("b", {"state", "import", dir_ + "/runs.json"});
  EXPECT_EQ(imported["imported"], 1) << imported.dump();
  json again = as_json("b", {"state", "import", dir_ + "/runs.json"});
  EXPECT_EQ(again["imported"], 0);
  EXPECT_EQ(again["already_present"], 1);
  // Same run, same steps, same before-states: B rolls A's solo run back from the team store.
  json re = as_json("b", {"state", "export", dir_ + "/team.json"});
  json a_doc = json::parse(slurp(dir_ + "/runs.json")), b_doc = json::parse(slurp(dir_ + "/team.json"));
  EXPECT_EQ(a_doc["runs"], b_doc["runs"]);
  json rb = as_json("b", {"rollback", run_id, "--force"});
  EXPECT_EQ(rb.value("status", ""), "rolled_back") << rb.dump();
  EXPECT_EQ(world_state(), before);
}

// A team adopting the store keeps what makes a run safe to move: the approvals it consumed stay
// used (a replay against the team store is refused), its callers and any window it left open
// come along.
TEST_F(E2eTeamTest, ImportedRunsKeepTheirUsedApprovalsCallersAndOpenWindows) {
  seed(1);
  json solo = org_settings("approval");
  solo["approvers"] = {{"bob", dir_ + "/keys/bob.pub.pem"}};
  write_file(state_a_ + "/settings.json", solo.dump(2));
  ASSERT_EQ(as("a", {"keys", "generate", "--name", "bob", "--out", "keys"}).code, 0);
  const std::string user = seed_["user_arn"];
  ASSERT_EQ(as("a", {"plan", "--target", user, "-o", "plan.json"}).code, 0);
  Proc ap = as("a", {"approve", "plan.json", "--approver", "bob", "--key", "keys/bob.key.pem", "-o", "bob.json"});
  ASSERT_EQ(ap.code, 0) << ap.all();
  json applied = as_json("a", {"apply", "plan.json", "--approval", "bob.json"});
  ASSERT_EQ(applied.value("status", ""), "succeeded") << applied.dump();
  const std::string run_id = applied["run_id"];
  json exported = as_json("a", {"state", "export", dir_ + "/runs.json"});
  ASSERT_EQ(exported["runs"], 1) << exported.dump();
  json doc = json::parse(slurp(dir_ + "/runs.json"));
  ASSERT_EQ(doc["runs"][0]["approvals_used"].size(), 1u) << doc.dump();
  EXPECT_NE(doc["runs"][0].value("caller", "").find("user/e2e-responder"), std::string::npos) << doc.dump();
  // A window the run left open (as a killed process leaves it): it must stay named after the move.
  const json window = {{"kind", "all-traffic"}, {"instance", "i-0123456789abcdef0"},
                       {"why", "interfaces in a security group that allows all traffic in and out (untrack window)"}};
  doc["runs"][0]["steps"][0]["exposure"] = window;
  write_file(dir_ + "/runs.json", doc.dump(1));

  json team = team_settings();
  team["organization"]["mode"] = "approval";
  team["approvers"] = solo["approvers"];
  write_team_settings(team);
  init_store();
  json imported = as_json("b", {"state", "import", dir_ + "/runs.json"});
  ASSERT_EQ(imported["imported"], 1) << imported.dump();
  // Caller and window came along: B's export of the team store is A's file.
  as_json("b", {"state", "export", dir_ + "/team.json"});
  json back = json::parse(slurp(dir_ + "/team.json"));
  EXPECT_EQ(back["runs"], doc["runs"]);
  json shown = as_json("b", {"status", run_id});
  ASSERT_EQ(shown["exposed"].size(), 1u) << shown.dump();
  EXPECT_EQ(shown["exposed"][0]["run_id"], run_id);
  // B rolls the imported run back; the approval A used is then refused to B against the team
  // store, before anything is mutated.
  json rb = as_json("b", {"rollback", run_id, "--reactivate-keys", "--force"});
  ASSERT_EQ(rb.value("status", ""), "rolled_back") << rb.dump();
  const json before = world_state();
  const size_t mutated_b = mutating_calls("b");
  Proc again = as("b", {"apply", "plan.json", "--approval", "bob.json"});
  EXPECT_EQ(again.code, 3) << again.all();
  EXPECT_NE(again.err.find("already used by run " + run_id), std::string::npos) << again.err;
  EXPECT_EQ(mutating_calls("b"), mutated_b);
  EXPECT_EQ(world_state(), before);
}

TEST_F(E2eTeamTest, TwoRunsOnOneInstanceAtOnceExactlyOneMutates) {
  seed(2);
  write_team_settings();
  init_store();
  const std::string shared = seed_["instance_arns"][0];
  Proc pa = as("a", {"plan", "--target", shared, "--target", seed_["instance_arns"][1].get<std::string>(), "-o", "a.plan.json"});
  ASSERT_EQ(pa.code, 0) << pa.all();
  Proc pb = as("b", {"plan", "--target", shared, "-o", "b.plan.json"});
  ASSERT_EQ(pb.code, 0) << pb.all();
  // (state init, run by A above, made mutating calls of its own: count only the applies')
  const size_t before_a = mutating_calls("a"), before_b = mutating_calls("b");
  Running ra = start("a", {"--output", "json", "apply", "a.plan.json"});
  Running rb = start("b", {"--output", "json", "apply", "b.plan.json"});
  Proc a = finish(ra), b = finish(rb);
  ASSERT_TRUE((a.code == 0) != (b.code == 0)) << "A:\n" << a.all() << "\nB:\n" << b.all();
  const Proc& winner = a.code == 0 ? a : b;
  const Proc& loser = a.code == 0 ? b : a;
  const std::string loser_who = a.code == 0 ? "b" : "a";
  EXPECT_EQ(loser.code, 3) << loser.all();
  const std::string won_run = json::parse(winner.out).value("run_id", "");
  ASSERT_FALSE(won_run.empty());
  // The refusal names the holder's run and its caller.
  EXPECT_NE(loser.err.find(won_run), std::string::npos) << loser.err;
  EXPECT_NE(loser.err.find("caller arn:aws:iam::"), std::string::npos) << loser.err;
  EXPECT_EQ(mutating_calls(loser_who), loser_who == "a" ? before_a : before_b) << "the refused run mutated something";
  // Only the winner's run is in the team store.
  json runs = as_json("b", {"status"});
  ASSERT_EQ(runs["runs"].size(), 1u) << runs.dump();
  EXPECT_EQ(runs["runs"][0]["run_id"], won_run);
}

// Both wait for each other's lease: the one that waits must not contain again what the other just
// contained (the team store has no run guard; the holdings are read again under the lease).
TEST_F(E2eTeamTest, ARunThatWaitedForTheLeaseDoesNotContainAgain) {
  seed(1);
  write_team_settings();
  init_store();
  const std::string target = seed_["instance_arns"][0];
  for (const char* who : {"a", "b"}) {
    Proc p = as(who, {"plan", "--target", target, "--option", "ec2.untrack_dwell_seconds=5", "-o",
                      std::string(who) + ".plan.json"});
    ASSERT_EQ(p.code, 0) << p.all();
  }
  const size_t before_a = mutating_calls("a"), before_b = mutating_calls("b");
  Running ra = start("a", {"--output", "json", "apply", "a.plan.json", "--wait-lock", "120s"});
  Running rb = start("b", {"--output", "json", "apply", "b.plan.json", "--wait-lock", "120s"});
  Proc a = finish(ra), b = finish(rb);
  json runs = as_json("b", {"status"});
  ASSERT_EQ(runs["runs"].size(), 1u) << "contained twice:\n" << runs.dump() << "\nA:\n" << a.all() << "\nB:\n" << b.all();
  const json a_doc = json::parse(a.out, nullptr, false);
  const bool a_won = a_doc.is_object() && runs["runs"][0]["run_id"] == a_doc.value("run_id", "");
  const Proc& loser = a_won ? b : a;
  EXPECT_TRUE(loser.code == 3 || loser.code == 0) << loser.all();
  EXPECT_EQ(mutating_calls(a_won ? "b" : "a"), a_won ? before_b : before_a) << "the waiting run mutated something";
}

TEST_F(E2eTeamTest, KilledMidApplyLeaseExpiresThenBRollsBackExactly) {
  seed(2);
  json s = team_settings();
  s["state"]["lease_seconds"] = 15;  // long enough for B's first tries on a loaded machine
  write_team_settings(s);
  init_store();
  const json before = seeded_state();
  Proc p = as("a", {"plan", "--target", seed_["instance_arns"][0].get<std::string>(), "--target",
                    seed_["instance_arns"][1].get<std::string>(), "-o", "kill.plan.json"});
  ASSERT_EQ(p.code, 0) << p.all();
  Proc a = as("a", {"apply", "kill.plan.json"}, {{"CONTAINCTL_FAULT", "after_apply:3"}});
  ASSERT_EQ(a.signal, SIGKILL) << a.all();
  json runs = as_json("b", {"status"});
  ASSERT_EQ(runs["runs"].size(), 1u) << runs.dump();
  const std::string run_id = runs["runs"][0]["run_id"];
  // A's leases are still live: B is refused, naming A's run, and changes nothing.
  EXPECT_EQ(runs["runs"][0]["stale"], false) << runs.dump();
  Proc early = as("b", {"rollback", run_id, "--force"});
  EXPECT_EQ(early.code, 3) << early.all();
  EXPECT_NE(early.err.find("run " + run_id), std::string::npos) << early.err;
  EXPECT_EQ(mutating_calls("b"), 0u);
  // Once they expire the run is listed as stale and B takes over.
  std::this_thread::sleep_for(std::chrono::seconds(16));
  json stale = as_json("b", {"status"});
  EXPECT_EQ(stale["runs"][0]["stale"], true) << stale.dump();
  json rb = as_json("b", {"rollback", run_id, "--force", "--reactivate-keys"});
  EXPECT_EQ(rb.value("status", ""), "rolled_back") << rb.dump();
  EXPECT_EQ(world_state(), before);
}

TEST_F(E2eTeamTest, KilledMidApplyBResumesAfterTheLeaseExpires) {
  seed(2);
  json s = team_settings();
  s["state"]["lease_seconds"] = 4;
  write_team_settings(s);
  init_store();
  const json before = seeded_state();
  Proc p = as("a", {"plan", "--target", seed_["instance_arns"][0].get<std::string>(), "-o", "resume.plan.json"});
  ASSERT_EQ(p.code, 0) << p.all();
  Proc a = as("a", {"apply", "resume.plan.json"}, {{"CONTAINCTL_FAULT", "before_apply:2"}});
  ASSERT_EQ(a.signal, SIGKILL) << a.all();
  const std::string run_id = as_json("b", {"status"})["runs"][0]["run_id"];
  // --wait-lock lets B wait for A's lease to lapse instead of being refused.
  json resumed = as_json("b", {"apply", "resume.plan.json", "--resume", run_id, "--wait-lock", "30s"});
  EXPECT_EQ(resumed.value("status", ""), "succeeded") << resumed.dump();
  EXPECT_EQ(resumed.value("run_id", ""), run_id);
  json one = as_json("a", {"status", run_id});
  for (const auto& st : one["steps"]) EXPECT_EQ(st["state"], "verified") << st.dump();
  json rb = as_json("a", {"rollback", run_id, "--force", "--reactivate-keys"});
  EXPECT_EQ(rb.value("status", ""), "rolled_back") << rb.dump();
  EXPECT_EQ(world_state(), before);
}

// A's lease (3 s) is renewed while A works (an 8 s dwell): after the lease it first took would have
// expired, B's rollback of A's run is still refused, naming A's run, caller and the lease's start.
TEST_F(E2eTeamTest, ALeaseIsRenewedWhileItsRunWorks) {
  seed(1);
  init_store_with_short_lease();
  const std::string target = seed_["instance_arns"][0];
  Running ra{-1, "", ""};
  ASSERT_NO_FATAL_FAILURE(start_dwelling_apply("renew.plan.json", ra));
  json lease;
  const bool leased = wait_for([&] {
    lease = json::parse(python("lease containctl-state " + target));
    return lease.contains("run_id");
  });
  const bool in_window = wait_for([&] { return python("team-exposure containctl-state") != "[]\n"; });
  // Past the first expiry (with a second to spare), A still in its dwell.
  const long long first_expiry_ms = lease.contains("expires") ? std::stoll(lease["expires"].get<std::string>()) : 0;
  while (std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
             .count() < first_expiry_ms + 1000)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const size_t mutated_b = mutating_calls("b");
  Proc b = as("b", {"rollback", lease.value("run_id", "?"), "--force"});
  Proc a = finish(ra);
  ASSERT_TRUE(leased && in_window) << a.all();
  EXPECT_EQ(a.code, 0) << a.all();
  EXPECT_EQ(b.code, 3) << "B took over a lease A was renewing:\n" << b.all() << "\nA:\n" << a.all();
  EXPECT_NE(b.err.find("run " + lease.value("run_id", "?")), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("caller " + lease.value("caller", "?")), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("started " + lease.value("started_at", "?")), std::string::npos) << b.err;
  EXPECT_EQ(mutating_calls("b"), mutated_b) << "the refused rollback mutated something";
  EXPECT_EQ(as_json("b", {"status", lease.value("run_id", "?")})["status"], "succeeded");
}

// Another writer overwrites A's lock item while A dwells: A's next renewal finds the lease gone, so
// A finishes the step in flight (closing its window) and makes no further mutating call, and says why.
TEST_F(E2eTeamTest, ARunThatLostItsLeaseMutatesNothingMore) {
  seed(1);
  init_store_with_short_lease();
  const std::string target = seed_["instance_arns"][0];
  Running ra{-1, "", ""};
  ASSERT_NO_FATAL_FAILURE(start_dwelling_apply("lost.plan.json", ra));
  const bool in_window = wait_for([&] { return python("team-exposure containctl-state") != "[]\n"; });
  const size_t mark = audit_count_of("a");
  json stolen = json::parse(python("steal-lease containctl-state " + target));
  Proc a = finish(ra);
  ASSERT_TRUE(in_window) << a.all();
  ASSERT_EQ(stolen.value("owner", ""), "intruder:1:00000000");
  EXPECT_EQ(a.code, 4) << a.all();
  EXPECT_NE(a.all().find("lease on " + target + " was taken over by another run"), std::string::npos) << a.all();
  std::string run_id;
  std::map<std::string, std::string> states;
  ASSERT_NO_FATAL_FAILURE(expect_only_the_window_closed_after(mark, a, "the lease was lost", run_id, states));
  // A did not release what is now the other writer's lease.
  EXPECT_EQ(json::parse(python("lease containctl-state " + target)).value("owner", ""), "intruder:1:00000000");
}

TEST_F(E2eTeamTest, AuditLogInTheTeamStoreIsOneChainForBothResponders) {
  seed(1);
  write_team_settings();
  init_store();
  Proc p = as("a", {"plan", "--target", seed_["instance_arns"][0].get<std::string>(), "-o", "audit.plan.json"});
  ASSERT_EQ(p.code, 0) << p.all();
  json applied = as_json("a", {"apply", "audit.plan.json"});
  ASSERT_EQ(applied.value("status", ""), "succeeded") << applied.dump();
  json rb = as_json("b", {"rollback", applied["run_id"], "--force"});
  ASSERT_EQ(rb.value("status", ""), "rolled_back") << rb.dump();
  // One log: A's run and B's rollback, verified the same from either machine.
  json shown = as_json("b", {"audit", "show", applied["run_id"]});
  std::set<std::string> events;
  for (const auto& r : shown["records"]) events.insert(r["event"]);
  EXPECT_TRUE(events.count("run_started") && events.count("run_finished") && events.count("rollback_finished"))
      << shown.dump();
  json va = as_json("a", {"audit", "verify"});
  json vb = as_json("b", {"audit", "verify"});
  EXPECT_EQ(va["ok"], true) << va.dump();
  EXPECT_EQ(va["last_hash"], vb["last_hash"]);
  EXPECT_GT(va["records"].get<int>(), 5);
  // A record changed in the table is named by seq, exit 5.
  python("tamper-audit containctl-state 3");
  json bad = as_json("b", {"audit", "verify"}, 5);
  EXPECT_EQ(bad["ok"], false);
  EXPECT_EQ(bad["seq"], 3) << bad.dump();
}

// The audit log in the team store fails closed like the file: while A's run holds an instance's
// interfaces in the untrack window, someone who can write the table takes the log's next sequence
// numbers. A finishes the step in flight (it closes the window: interfaces to isolation) and makes
// no further mutating call, exits 4 with the journal as it was, and B rolls the run back exactly.
TEST_F(E2eTeamTest, AFailedTeamAuditAppendStopsTheRunBeforeItsNextMutatingCall) {
  seed(1);
  write_team_settings();
  init_store();
  const json before = seeded_state();
  Running ra{-1, "", ""};
  ASSERT_NO_FATAL_FAILURE(start_dwelling_apply("squat.plan.json", ra));
  const bool in_window = wait_for([&] { return python("team-exposure containctl-state") != "[]\n"; });
  const size_t mark = audit_count_of("a");
  json squat = json::parse(python("squat-audit containctl-state 5"));
  Proc a = finish(ra);
  ASSERT_TRUE(in_window) << a.all();
  ASSERT_FALSE(squat["taken"].empty()) << squat.dump();
  EXPECT_EQ(a.code, 4) << a.all();
  EXPECT_NE(a.err.find("audit log in the team store"), std::string::npos) << a.err;
  EXPECT_NE(a.all().find("fails closed"), std::string::npos) << a.all();
  // After the log failed only the step in flight made calls: closing the window it had opened.
  std::string run_id;
  std::map<std::string, std::string> states;
  ASSERT_NO_FATAL_FAILURE(expect_only_the_window_closed_after(mark, a, "the audit log failed", run_id, states));
  EXPECT_TRUE(states["isolate-network"] == "applied" || states["isolate-network"] == "verified")
      << ::testing::PrintToString(states);
  // The way back does not depend on the audit log (rollback never fails closed on it).
  json rb = as_json("b", {"rollback", run_id, "--force", "--reactivate-keys"});
  EXPECT_EQ(rb.value("status", ""), "rolled_back") << rb.dump();
  EXPECT_EQ(world_state(), before);
}

TEST_F(E2eTeamTest, WithObjectLockARewrittenChainIsCaughtByItsCheckpoint) {
  seed(1);
  write_team_settings();
  json made = as_json("a", {"state", "init", "--object-lock"});
  ASSERT_TRUE(made.contains("steps")) << made.dump();
  Proc p = as("a", {"plan", "--target", seed_["instance_arns"][0].get<std::string>(), "-o", "lock.plan.json"});
  ASSERT_EQ(p.code, 0) << p.all();
  json applied = as_json("a", {"apply", "lock.plan.json"});
  ASSERT_EQ(applied.value("status", ""), "succeeded") << applied.dump();
  EXPECT_EQ(as_json("b", {"audit", "verify"})["ok"], true);
  // What S3 holds, read with boto3: Object Lock on, and each checkpoint of the chain head under
  // COMPLIANCE retention for a year.
  json store = json::parse(python("store containctl-state containctl-state-123456789012"));
  EXPECT_EQ(store.at("object_lock"), json::parse(R"({"enabled":"Enabled"})")) << store.dump();
  ASSERT_TRUE(store.at("checkpoints").is_object() && !store.at("checkpoints").empty()) << store.dump();
  for (const auto& [key, cp] : store.at("checkpoints").items()) {
    EXPECT_EQ(key.rfind("audit/checkpoints/", 0), 0u) << key;
    EXPECT_EQ(cp["mode"], "COMPLIANCE") << key;
    EXPECT_GE(cp["retain_days"].get<int>(), 364) << key;
    EXPECT_TRUE(cp["body"].contains("seq") && cp["body"].contains("hash")) << cp.dump();
  }
  // Every hash recomputed and the head moved: the chain alone looks intact...
  python("rewrite-audit containctl-state");
  json bad = as_json("b", {"audit", "verify"}, 5);
  EXPECT_EQ(bad["ok"], false) << bad.dump();
  // ...but a checkpoint under retention still holds the old hash.
  EXPECT_NE(bad.value("problem", "").find("checkpoint"), std::string::npos) << bad.dump();
}

}  // namespace
}  // namespace containctl::e2e
