// ec2-isolate when AWS is slow or the plan is damaged: a create whose answer is lost is read back,
// never blindly retried (no orphan group, no duplicate evidence); a hand-edited plan is refused
// with the field named before any change; a rollback meets a later containment and stops.
#include "tests/actions/ec2_fixture.h"

namespace containctl::actions::ec2test {
namespace {

class Ec2Robustness : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }
  void SetUp() override {
    moto().reset();
    client_ = probed_client(moto(), probe_);
    // The product's retry policy (moto's test client makes one attempt): a lost answer is retried
    // only when the call is safe to repeat, so these tests see what the retry layer really does.
    aws::ClientConfig cfg = client_->config();
    cfg.retry = aws::RetryPolicy{};
    cfg.jitter = [] { return 0.0; };
    client_ = std::make_unique<aws::AwsClient>(cfg);
    world_.init(*client_);
    family_ = make_ec2_isolate();
    id_ = world_.launch({world_.group("web")});
    target_ = world_.target(id_);
    original_ = read_state(*client_, id_);
  }
  Context context(const std::string& run_id = "run-rob-1") {
    return Context{*client_, target_, "us-east-1", run_id, caller_, options_, {}, clock_};
  }
  TargetPlan plan(Context& ctx) {
    auto p = plan_of(*family_, ctx);
    EXPECT_TRUE(p.ok()) << p.error().describe();
    return p.ok() ? *p : TargetPlan{};
  }
  std::vector<std::string> mutating() {
    std::vector<std::string> out;
    for (const auto& c : probe_->calls())
      if (c.rfind("Describe", 0) != 0) out.push_back(c);
    return out;
  }

  std::shared_ptr<ProbeTransport> probe_;
  std::unique_ptr<aws::AwsClient> client_;
  World world_;
  std::unique_ptr<ActionFamily> family_;
  std::string id_;
  Target target_;
  json original_;
  Identity caller_{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDA", "AKIATEST"};
  Options options_;
  aws::ManualClock clock_{std::chrono::system_clock::now()};
};

TEST_F(Ec2Robustness, LostCreateSecurityGroupAnswerIsReadBackNotRetried) {
  Context ctx = context();
  TargetPlan p = plan(ctx);
  const size_t creates = probe_->count("CreateSecurityGroup");  // the test's own "web" group
  probe_->lose_response("CreateSecurityGroup", 1);
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, p, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(probe_->count("CreateSecurityGroup") - creates, 2u);  // isolation + all-traffic, none sent twice
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id_), original_);
  EXPECT_TRUE(family_groups(*client_).empty());  // no orphan group
}

// CreateNetworkAcl carries a ClientToken: when its answer is lost, the client retries with the
// same token, and EC2 (emulated: moto ignores the token) answers with the ACL the first request
// made. One ACL exists, the instance's subnet is on it, and rollback leaves none behind.
TEST_F(Ec2Robustness, LostCreateNetworkAclAnswerIsRetriedWithTheSameClientToken) {
  options_.values = {{"ec2.nacl_hard_cut", "true"}};
  probe_->honour_client_tokens();
  Context ctx = context();
  TargetPlan p = plan(ctx);
  probe_->lose_response("CreateNetworkAcl", 1);
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, p, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  std::vector<std::string> tokens;
  for (const auto& b : probe_->bodies())
    if (ProbeTransport::action_of(b) == "CreateNetworkAcl") tokens.push_back(ProbeTransport::param_of(b, "ClientToken"));
  ASSERT_EQ(tokens.size(), 2u) << "one lost answer, one retry";
  EXPECT_EQ(tokens[1], tokens[0]) << "the retry must re-send the same token";
  EXPECT_LE(tokens[0].size(), 64u) << tokens[0];  // EC2's limit
  EXPECT_TRUE(tokens[0].starts_with("containctl-")) << tokens[0];
  auto hard_cut_acls = [&] {
    aws::Params f;
    ec2::add_filter(f, 1, std::string("tag:") + ec2::kTagPurpose, {"hard-cut"});
    return items(q(*client_, "ec2", "DescribeNetworkAcls", f).root(), "networkAclSet").size();
  };
  EXPECT_EQ(hard_cut_acls(), 1u) << "the retry made a second ACL";
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id_), original_);
  EXPECT_EQ(hard_cut_acls(), 0u);
}

// The token names the request (run, step, instance), not the attempt: a resumed run re-sends the
// same one; another run, or another instance, sends another.
TEST_F(Ec2Robustness, CreateNetworkAclTokenIsTheSameForTheSameStepOfTheSameRun) {
  options_.values = {{"ec2.nacl_hard_cut", "true"}};
  auto token_of = [&](const std::string& run_id, const Target& target) -> std::string {
    Context ctx{*client_, target, "us-east-1", run_id, caller_, options_, {}, clock_};
    auto d = family_->discover(ctx);
    if (!d.ok()) return d.error().describe();
    auto p = family_->plan(ctx, *d);
    if (!p.ok()) return p.error().describe();
    for (const Step& s : p->steps)
      if (s.id == "nacl-hard-cut") return ec2::nacl_token(ctx, s, ec2::parse_step_args(s).value());
    return "no nacl-hard-cut step";
  };
  const Target other = world_.target(world_.launch({world_.group("db")}));
  const std::string first = token_of("run-rob-1", target_);
  EXPECT_TRUE(first.starts_with("containctl-")) << first;
  EXPECT_LE(first.size(), 64u);
  EXPECT_EQ(token_of("run-rob-1", target_), first);
  EXPECT_NE(token_of("run-rob-2", target_), first);
  EXPECT_NE(token_of("run-rob-1", other), first);
  // Bounded whatever the run id's length (EC2 takes at most 64 ASCII characters).
  const std::string long_run = token_of("run-" + std::string(80, 'x'), target_);
  EXPECT_LE(long_run.size(), 64u) << long_run;
}

TEST_F(Ec2Robustness, LostCreateSnapshotsAnswerStartsNoSecondSetOfSnapshots) {
  Context ctx = context();
  TargetPlan p = plan(ctx);
  ASSERT_EQ(probe_->count("CreateSnapshots"), 0u);
  probe_->lose_response("CreateSnapshots", 1);
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, p, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(probe_->count("CreateSnapshots"), 1u);
  aws::Params f;
  ec2::add_filter(f, 1, std::string("tag:") + ec2::kTagRunId, {"run-rob-1"});
  auto snaps = q(*client_, "ec2", "DescribeSnapshots", f);
  size_t volumes = 0;
  for (const Applied& a : done)
    if (a.step.id == "snapshot") volumes = a.step.args["volumes"].size();
  EXPECT_EQ(items(snaps.root(), "snapshotSet").size(), volumes);
  for (const Applied& a : done)
    if (a.step.id == "snapshot") {
      EXPECT_EQ(a.applied["snapshots"].size(), volumes);
    }
}

// One interface's move to isolation fails: only that interface goes back to its groups. The other
// one reached isolation and stays there (putting every interface back would open the contained ones).
TEST_F(Ec2Robustness, AFailedMoveToIsolationRevertsOnlyThatInterface) {
  world_.add_interface(id_, {world_.group("db")}, 1);
  const json before = read_state(*client_, id_);
  ASSERT_EQ(before["interfaces"].size(), 2u) << before.dump();
  Context ctx = context();
  TargetPlan p = plan(ctx);
  // Two moves to the all-traffic group, then two to isolation: the second of those fails.
  probe_->fail("ModifyNetworkInterfaceAttribute", static_cast<int>(probe_->count("ModifyNetworkInterfaceAttribute")) + 4);
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, p, done);
  ASSERT_FALSE(st.ok());
  const json after = read_state(*client_, id_);
  int back = 0, isolated = 0;
  for (const auto& [eni, groups] : after["interfaces"].items()) {
    if (groups == before["interfaces"][eni]) ++back;
    else if (groups.size() == 1) ++isolated;
  }
  EXPECT_EQ(back, 1) << after.dump();
  EXPECT_EQ(isolated, 1) << "the interface that reached isolation was put back: " << after.dump();
}

// Each damaged field is named, and nothing is called that changes anything.
TEST_F(Ec2Robustness, HandEditedPlanIsRefusedNamingTheFieldAndChangesNothing) {
  Context ctx = context();
  TargetPlan p = plan(ctx);
  auto step_of = [&](const std::string& id) {
    return *std::find_if(p.steps.begin(), p.steps.end(), [&](const Step& s) { return s.id == id; });
  };
  struct Case {
    std::string step;
    std::function<void(json&)> edit;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"isolate-network", [](json& a) { a["interfaces"][0]["id"] = "eni-../../x"; }, "interfaces[0].id"},
      {"isolate-network", [](json& a) { a["dwell_seconds"] = "2"; }, "dwell_seconds"},
      {"isolate-network", [](json& a) { a["interfaces"] = json::object(); }, "interfaces"},
      {"isolate-network", [](json& a) { a["interface"] = a["interfaces"]; }, "unknown field 'interface'"},
      {"tag-instance", [](json& a) { a.erase("instance_id"); }, "no field 'instance_id'"},
      {"tag-instance", [](json& a) { a["instance_id"] = 42; }, "instance_id"},
      {"snapshot", [](json& a) { a["volumes"][0]["volume_id"] = nullptr; }, "volumes[0].volume_id"},
      {"instance-attributes", [](json& a) { a["kind"] = "instance-attribute"; }, "instance-attribute"},
  };
  const size_t before_calls = mutating().size();
  for (const Case& c : cases) {
    Step s = step_of(c.step);
    c.edit(s.args);
    auto cap = family_->capture(ctx, s);
    ASSERT_FALSE(cap.ok()) << c.field;
    EXPECT_EQ(cap.error().code, "InvalidPlan") << c.field;
    EXPECT_NE(cap.error().message.find(c.field), std::string::npos) << c.field << ": " << cap.error().message;
    EXPECT_NE(cap.error().message.find(c.step), std::string::npos) << cap.error().message;
    EXPECT_FALSE(family_->apply(ctx, s, json::object()).ok()) << c.field;
    EXPECT_FALSE(family_->verify(ctx, s).ok()) << c.field;
    EXPECT_FALSE(family_->rollback(ctx, s, json::object(), nullptr, {}).ok()) << c.field;
  }
  EXPECT_EQ(mutating().size(), before_calls);
  EXPECT_EQ(read_state(*client_, id_), original_);
}

// The optional steps read typed arguments like the others (StepArgs, parsed before any operation):
// each field they use, missing or mistyped in a hand-edited plan, is named, no operation reads a
// missing json field, and nothing changes.
TEST_F(Ec2Robustness, HandEditedOptionalStepsAreRefusedNamingTheFieldAndChangeNothing) {
  options_.values = {{"ec2.min_conntrack_timeouts", "true"}, {"ec2.nacl_hard_cut", "true"}};
  Context ctx = context();
  TargetPlan p = plan(ctx);
  auto step_of = [&](const std::string& id) {
    auto it = std::find_if(p.steps.begin(), p.steps.end(), [&](const Step& s) { return s.id == id; });
    EXPECT_NE(it, p.steps.end()) << id;
    return it == p.steps.end() ? Step{} : *it;
  };
  Step revoke;  // needs an instance profile the fixture's instance lacks: as the planner writes it
  revoke.id = "revoke-role-sessions";
  revoke.args = {{"kind", "revoke-role-sessions"},
                 {"roles", {"app-role"}},
                 {"policy_name", "ContainctlRevokeSessions-i"},
                 {"instance_arn", target_.arn}};
  const std::map<std::string, Step> steps = {{"conntrack-timeouts", step_of("conntrack-timeouts")},
                                             {"nacl-hard-cut", step_of("nacl-hard-cut")},
                                             {"revoke-role-sessions", revoke}};
  for (const auto& [id, s] : steps) ASSERT_TRUE(family_->check_step(s).ok()) << family_->check_step(s).error().describe();
  struct Case {
    std::string step;
    std::function<void(json&)> edit;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"conntrack-timeouts", [](json& a) { a.erase("interfaces"); }, "no field 'interfaces'"},
      {"conntrack-timeouts", [](json& a) { a.erase("timeouts"); }, "no field 'timeouts'"},
      {"conntrack-timeouts", [](json& a) { a["timeouts"]["udpTimeout"] = "30"; }, "timeouts.udpTimeout"},
      {"conntrack-timeouts", [](json& a) { a["interfaces"][0] = {{"id", "eni-0123456789abcdef0"}}; }, "interfaces[0]"},
      {"nacl-hard-cut", [](json& a) { a.erase("subnets"); }, "no field 'subnets'"},
      {"nacl-hard-cut", [](json& a) { a.erase("vpc_id"); }, "no field 'vpc_id'"},
      {"nacl-hard-cut", [](json& a) { a.erase("instance_id"); }, "no field 'instance_id'"},
      {"nacl-hard-cut", [](json& a) { a["subnets"][0] = 7; }, "subnets[0]"},
      {"revoke-role-sessions", [](json& a) { a.erase("roles"); }, "no field 'roles'"},
      {"revoke-role-sessions", [](json& a) { a.erase("policy_name"); }, "no field 'policy_name'"},
      {"revoke-role-sessions", [](json& a) { a.erase("instance_arn"); }, "no field 'instance_arn'"},
      {"revoke-role-sessions", [](json& a) { a["roles"] = json::array(); }, "roles must not be empty"},
      {"revoke-role-sessions", [](json& a) { a["policy_name"] = json::array({"P"}); }, "policy_name"},
  };
  const size_t before_calls = mutating().size();
  for (const Case& c : cases) {
    Step s = steps.at(c.step);
    c.edit(s.args);
    Status checked = family_->check_step(s);
    ASSERT_FALSE(checked.ok()) << c.field;
    EXPECT_NE(checked.error().message.find(c.field), std::string::npos) << c.field << ": " << checked.error().message;
    auto cap = family_->capture(ctx, s);
    ASSERT_FALSE(cap.ok()) << c.field;
    EXPECT_EQ(cap.error().code, "InvalidPlan") << c.field;
    EXPECT_NE(cap.error().message.find(c.field), std::string::npos) << c.field << ": " << cap.error().message;
    EXPECT_NE(cap.error().message.find(c.step), std::string::npos) << cap.error().message;
    EXPECT_FALSE(family_->apply(ctx, s, json::object()).ok()) << c.field;
    EXPECT_FALSE(family_->verify(ctx, s).ok()) << c.field;
    EXPECT_FALSE(family_->verify_applied(ctx, s, json::object()).ok()) << c.field;
    EXPECT_FALSE(family_->rollback(ctx, s, json::object(), nullptr, {}).ok()) << c.field;
    EXPECT_FALSE(family_->verify_rollback(ctx, s, json::object(), {}).ok()) << c.field;
    EXPECT_TRUE(family_->shared_resources(target_, s).empty()) << c.field;
  }
  EXPECT_EQ(mutating().size(), before_calls);
  EXPECT_EQ(read_state(*client_, id_), original_);
}

// Run 1 contains; run 2 (which did not know run 1's journal) contains again. Rolling back run 1
// must not undo run 2: it stops and says --force overrides; run 2's rollback then restores run 1's
// state, and run 1's forced rollback the original.
TEST_F(Ec2Robustness, RollbackStopsWhenALaterRunContainedTheInstanceAgain) {
  Context ctx1 = context("run-rob-1");
  std::vector<Applied> run1;
  ASSERT_TRUE(execute(*family_, ctx1, plan(ctx1), run1).ok());
  const json after1 = read_state(*client_, id_);
  Context ctx2 = context("run-rob-2");
  TargetPlan p2 = plan(ctx2);
  std::vector<Applied> run2;
  ASSERT_TRUE(execute(*family_, ctx2, p2, run2).ok());
  const json after2 = read_state(*client_, id_);
  ASSERT_NE(after2["interfaces"], after1["interfaces"]);

  Status st = roll_back_unforced(*family_, ctx1, run1);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "ChangedSinceApply");
  EXPECT_NE(st.error().message.find("--force"), std::string::npos);
  EXPECT_EQ(read_state(*client_, id_)["interfaces"], after2["interfaces"]);  // run 2's containment holds

  st = roll_back(*family_, ctx2, run2);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id_)["interfaces"], after1["interfaces"]);
  st = roll_back_unforced(*family_, ctx1, run1);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id_), original_);
  EXPECT_TRUE(family_groups(*client_).empty());
}

}  // namespace
}  // namespace containctl::actions::ec2test
