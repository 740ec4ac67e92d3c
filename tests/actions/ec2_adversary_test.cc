// ec2-isolate against an adversary who holds EC2 write access in the account: groups dressed up
// as containctl's (tag, name) must never make an instance count as contained, never be adopted,
// and a decoy on the instance is the before-state that rollback puts back.
#include "aws/sigv4.h"
#include "tests/actions/ec2_fixture.h"

namespace containctl::actions::ec2test {
namespace {

class Ec2Adversary : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }
  void SetUp() override {
    moto().reset();
    client_ = probed_client(moto(), probe_);
    world_.init(*client_);
    family_ = make_ec2_isolate();
  }

  Context context(const std::string& instance, const std::string& run_id = "run-adv-1") {
    target_ = world_.target(instance);
    return Context{*client_, target_, "us-east-1", run_id, caller_, options_, {}, clock_};
  }

  // The attacker's group: tagged and named like containctl's isolation group, default egress
  // removed, one egress rule to their server (or none when `egress_to` is empty).
  std::string decoy(const std::string& name, const std::string& egress_to) {
    aws::Params p = {{"GroupName", name}, {"GroupDescription", "isolation"}, {"VpcId", world_.vpc}};
    ec2::add_tag_spec(p, "security-group", {{ec2::kTagPurpose, "isolation"}, {ec2::kTagRunId, "run-adv-1"}});
    const std::string id = text(q(*client_, "ec2", "CreateSecurityGroup", p).root(), "groupId");
    q(*client_, "ec2", "RevokeSecurityGroupEgress",
      {{"GroupId", id}, {"IpPermissions.1.IpProtocol", "-1"}, {"IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"}});
    if (!egress_to.empty())
      q(*client_, "ec2", "AuthorizeSecurityGroupEgress",
        {{"GroupId", id}, {"IpPermissions.1.IpProtocol", "tcp"}, {"IpPermissions.1.FromPort", "443"},
         {"IpPermissions.1.ToPort", "443"}, {"IpPermissions.1.IpRanges.1.CidrIp", egress_to}});
    return id;
  }

  // An instance whose profile carries role app-role.
  std::string launch_with_role() {
    const std::string id = world_.launch({world_.group("web")});
    q(*client_, "iam", "CreateRole",
      {{"RoleName", "app-role"}, {"AssumeRolePolicyDocument", R"({"Version":"2012-10-17","Statement":[]})"}});
    q(*client_, "iam", "CreateInstanceProfile", {{"InstanceProfileName", "app-profile"}});
    q(*client_, "iam", "AddRoleToInstanceProfile", {{"InstanceProfileName", "app-profile"}, {"RoleName", "app-role"}});
    q(*client_, "ec2", "AssociateIamInstanceProfile", {{"InstanceId", id}, {"IamInstanceProfile.Name", "app-profile"}});
    return id;
  }

  void put_on(const std::string& instance, const std::string& group) {
    const json interfaces = read_state(*client_, instance)["interfaces"];
    for (const auto& [eni, groups] : interfaces.items())
      q(*client_, "ec2", "ModifyNetworkInterfaceAttribute", {{"NetworkInterfaceId", eni}, {"SecurityGroupId.1", group}});
  }

  size_t egress_rules(const std::string& group) {
    auto r = q(*client_, "ec2", "DescribeSecurityGroups", {{"GroupId.1", group}});
    return items(items(r.root(), "securityGroupInfo").at(0), "ipPermissionsEgress").size();
  }

  std::shared_ptr<ProbeTransport> probe_;
  std::unique_ptr<aws::AwsClient> client_;
  World world_;
  std::unique_ptr<ActionFamily> family_;
  Identity caller_{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDA", "AKIATEST"};
  Options options_;
  aws::ManualClock clock_{std::chrono::system_clock::now()};
  Target target_;
};

// What step `id` applied, or nullptr when it was not applied.
const Applied* applied_step(const std::vector<Applied>& done, const std::string& id) {
  for (const Applied& a : done)
    if (a.step.id == id) return &a;
  return nullptr;
}

// The issue's attack: a tagged decoy with an egress rule to the attacker's server, on the instance.
TEST_F(Ec2Adversary, TaggedDecoyWithAnEgressRuleIsNotContainmentAndRollbackPutsItBack) {
  const std::string id = world_.launch({world_.group("web")});
  const std::string bad = decoy("containctl-isolation-" + world_.vpc, "203.0.113.7/32");
  put_on(id, bad);
  const json original = read_state(*client_, id);
  Context ctx = context(id);
  auto plan = plan_of(*family_, ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_FALSE(plan->already_contained) << plan->note;
  ASSERT_TRUE(has_step(*plan, "isolate-network"));

  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  json contained = read_state(*client_, id);
  for (const auto& [eni, groups] : contained["interfaces"].items()) {
    ASSERT_EQ(groups.size(), 1u) << eni;
    EXPECT_NE(groups[0], bad) << "the decoy was adopted";
    auto r = q(*client_, "ec2", "DescribeSecurityGroups", {{"GroupId.1", groups[0].get<std::string>()}});
    auto g = items(r.root(), "securityGroupInfo").at(0);
    EXPECT_TRUE(items(g, "ipPermissions").empty());
    EXPECT_TRUE(items(g, "ipPermissionsEgress").empty());
  }
  EXPECT_EQ(egress_rules(bad), 1u);  // containctl never writes the attacker's group

  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id), original);  // back in the decoy: the state before containment
  EXPECT_EQ(family_groups(*client_), std::vector<std::string>{bad});  // only the attacker's group is left
}

// A rule-free group, tagged and named like containctl's, that the attacker put there: tracked
// connections opened through their earlier rules survive such a move, so it is not containment.
TEST_F(Ec2Adversary, RuleFreeDecoyOnTheInstanceIsNotAlreadyContained) {
  const std::string id = world_.launch({world_.group("web")});
  const std::string bad = decoy("containctl-isolation-" + world_.vpc, "");
  put_on(id, bad);
  Context ctx = context(id);
  auto plan = plan_of(*family_, ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_FALSE(plan->already_contained) << plan->note;
  EXPECT_TRUE(has_step(*plan, "isolate-network"));

}

// A decoy that is not on the instance but carries the tag and the name containctl used to look
// for: apply must create its own group, never adopt (and never write) the attacker's.
TEST_F(Ec2Adversary, ApplyNeverAdoptsATaggedGroupItDidNotCreate) {
  const std::string id = world_.launch({world_.group("web")});
  const std::string bad = decoy("containctl-isolation-" + world_.vpc, "");
  Context ctx = context(id);
  auto plan = plan_of(*family_, ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  // The attacker adds a rule to their group afterwards: the instance must not be in it.
  q(*client_, "ec2", "AuthorizeSecurityGroupEgress",
    {{"GroupId", bad}, {"IpPermissions.1.IpProtocol", "-1"}, {"IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"}});
  const json now = read_state(*client_, id)["interfaces"];
  for (const auto& [eni, groups] : now.items()) {
    ASSERT_EQ(groups.size(), 1u) << eni;
    EXPECT_NE(groups[0], bad) << "the decoy was adopted";
  }
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(family_groups(*client_), std::vector<std::string>{bad});  // rollback never deletes it either
}

// The run id in tags is the run's, known only at apply time (plans are made without one).
TEST_F(Ec2Adversary, TagsCarryTheRunIdOfTheApplyNotOfThePlan) {
  const std::string id = world_.launch({world_.group("web")});
  Context plan_ctx = context(id, "");  // the planner has no run yet
  auto plan = plan_of(*family_, plan_ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  Context ctx = context(id, "run-20261201T150000Z-abc123");
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id)["tags"][ec2::kTagRunId], "run-20261201T150000Z-abc123");
  // Verify compares with the run's id: a run-id tag rewritten by someone else is not the run's.
  q(*client_, "ec2", "CreateTags", {{"ResourceId.1", id}, {"Tag.1.Key", ec2::kTagRunId}, {"Tag.1.Value", ""}});
  for (const Applied& a : done)
    if (a.step.id == "tag-instance") {
      EXPECT_FALSE(family_->verify(ctx, a.step).ok());
    }
}

// The instance-role session revocation is judged by its content: a policy under containctl's name
// holding its Sid and this instance's ARN, but with Effect Allow, revokes nothing. Apply must
// still write the deny, verify must not pass on the decoy, and rollback puts the decoy back.
TEST_F(Ec2Adversary, DecoySessionRevocationPolicyOnTheRoleIsNotTakenAsRevocation) {
  const std::string id = launch_with_role();
  const std::string instance_arn = world_.target(id).arn;
  const std::string policy_name = "containctl-revoke-" + id;
  const std::string decoy = json{{"Version", "2012-10-17"},
                                 {"Statement",
                                  {{{"Sid", "ContainctlRevokeInstanceSessions"},
                                    {"Effect", "Allow"},
                                    {"Action", "*"},
                                    {"Resource", "*"},
                                    {"Condition", {{"StringEquals", {{"ec2:SourceInstanceARN", instance_arn}}}}}}}}}
                                .dump();
  q(*client_, "iam", "PutRolePolicy", {{"RoleName", "app-role"}, {"PolicyName", policy_name}, {"PolicyDocument", decoy}});

  options_.values = {{"ec2.revoke_instance_role_sessions", "true"}};
  Context ctx = context(id);
  auto plan = plan_of(*family_, ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const Step* revoke = nullptr;
  for (const Step& s : plan->steps)
    if (s.id == "revoke-role-sessions") revoke = &s;
  ASSERT_NE(revoke, nullptr);
  EXPECT_FALSE(family_->verify(ctx, *revoke).ok()) << "the decoy passed for the revocation";

  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  auto pol = q(*client_, "iam", "GetRolePolicy", {{"RoleName", "app-role"}, {"PolicyName", policy_name}});
  const json written = json::parse(aws::uri_decode(aws::xml_text(pol.root(), "PolicyDocument")));
  EXPECT_EQ(written["Statement"][0]["Effect"], "Deny");
  EXPECT_TRUE(written["Statement"][0]["Condition"].contains("DateLessThan"));

  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  pol = q(*client_, "iam", "GetRolePolicy", {{"RoleName", "app-role"}, {"PolicyName", policy_name}});
  EXPECT_EQ(json::parse(aws::uri_decode(aws::xml_text(pol.root(), "PolicyDocument"))), json::parse(decoy));
}

// The exact revocation document, planted before containment with a cutoff long past: it revokes no
// live session. Apply must write its own cutoff, not take the planted one as "already done".
TEST_F(Ec2Adversary, PlantedRevocationWithAnOldCutoffIsReplacedByApply) {
  const std::string id = launch_with_role();
  const std::string instance_arn = world_.target(id).arn;
  const std::string policy_name = "containctl-revoke-" + id;
  q(*client_, "iam", "PutRolePolicy",
    {{"RoleName", "app-role"}, {"PolicyName", policy_name},
     {"PolicyDocument",
      json{{"Version", "2012-10-17"},
           {"Statement",
            {{{"Sid", "ContainctlRevokeInstanceSessions"},
              {"Effect", "Deny"},
              {"Action", "*"},
              {"Resource", "*"},
              {"Condition",
               {{"StringEquals", {{"ec2:SourceInstanceARN", instance_arn}}},
                {"DateLessThan", {{"aws:TokenIssueTime", "2001-01-01T00:00:00Z"}}}}}}}}}
          .dump()}});

  options_.values = {{"ec2.revoke_instance_role_sessions", "true"}};
  Context ctx = context(id);
  auto plan = plan_of(*family_, ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  auto pol = q(*client_, "iam", "GetRolePolicy", {{"RoleName", "app-role"}, {"PolicyName", policy_name}});
  const json written = json::parse(aws::uri_decode(aws::xml_text(pol.root(), "PolicyDocument")));
  const std::string cutoff = written["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"];
  EXPECT_NE(cutoff, "2001-01-01T00:00:00Z") << "the planted cutoff was kept: no live session is revoked";
  const Applied* revoke = applied_step(done, "revoke-role-sessions");
  ASSERT_NE(revoke, nullptr);
  EXPECT_EQ(cutoff, revoke->applied.value("token_issue_time", "")) << "the written cutoff is the one apply recorded";
}

// After apply, before a resumed run's verify (the step is journaled applied, so apply is skipped),
// the adversary puts back our exact document with an old cutoff: verify must not pass it.
TEST_F(Ec2Adversary, RevocationWithAnOlderCutoffThanAppliedFailsVerify) {
  const std::string id = launch_with_role();
  const std::string policy_name = "containctl-revoke-" + id;
  options_.values = {{"ec2.revoke_instance_role_sessions", "true"}};
  Context ctx = context(id);
  auto plan = plan_of(*family_, ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  const Applied* revoke = applied_step(done, "revoke-role-sessions");
  ASSERT_NE(revoke, nullptr);
  ASSERT_TRUE(family_->verify_applied(ctx, revoke->step, revoke->applied).ok());

  auto pol = q(*client_, "iam", "GetRolePolicy", {{"RoleName", "app-role"}, {"PolicyName", policy_name}});
  json planted = json::parse(aws::uri_decode(aws::xml_text(pol.root(), "PolicyDocument")));
  planted["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"] = "2001-01-01T00:00:00Z";
  q(*client_, "iam", "PutRolePolicy",
    {{"RoleName", "app-role"}, {"PolicyName", policy_name}, {"PolicyDocument", planted.dump()}});
  Status v = family_->verify_applied(ctx, revoke->step, revoke->applied);
  ASSERT_FALSE(v.ok()) << "an old cutoff passed for the revocation apply wrote";
  EXPECT_NE(v.error().message.find("2001-01-01T00:00:00Z"), std::string::npos) << v.error().describe();
  // Without a readable apply record there is nothing to hold the cutoff against: not verified.
  EXPECT_FALSE(family_->verify_applied(ctx, revoke->step, json::object()).ok());
}

// The adversary's network ACL, tagged as run run-adv-1's hard cut for `instance`, with an allow
// entry (one in use, say).
std::string tagged_acl(World& world, aws::AwsClient& client, const std::string& instance) {
  aws::Params p = {{"VpcId", world.vpc}};
  ec2::add_tag_spec(p, "network-acl",
                    {{ec2::kTagPurpose, "hard-cut"}, {ec2::kTagInstance, instance}, {ec2::kTagRunId, "run-adv-1"}});
  const std::string acl = text(q(client, "ec2", "CreateNetworkAcl", p).root(), "networkAcl/networkAclId");
  q(client, "ec2", "CreateNetworkAclEntry",
    {{"NetworkAclId", acl}, {"RuleNumber", "100"}, {"Protocol", "-1"}, {"RuleAction", "allow"}, {"Egress", "false"},
     {"CidrBlock", "0.0.0.0/0"}});
  return acl;
}

const Step& step_named(const TargetPlan& plan, const std::string& id) {
  for (const Step& s : plan.steps)
    if (s.id == id) return s;
  throw std::runtime_error("no step " + id);
}

// A process that died during the hard cut's apply left no apply record, so rollback looks the
// run's ACL up by its tags, which the adversary can write: their ACL is not containctl's to delete.
TEST_F(Ec2Adversary, RollbackWithoutAnApplyRecordLeavesATaggedAclItDidNotMake) {
  const std::string id = world_.launch({world_.group("web")});
  options_.values = {{"ec2.nacl_hard_cut", "true"}};
  Context ctx = context(id);
  auto plan = plan_of(*family_, ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  const Step& cut = step_named(*plan, "nacl-hard-cut");
  auto before = family_->capture(ctx, cut);
  ASSERT_TRUE(before.ok()) << before.error().describe();
  const std::string theirs = tagged_acl(world_, *client_, id);
  Status st = family_->rollback(ctx, cut, *before, json(nullptr), RollbackOptions{});
  ASSERT_TRUE(st.ok()) << st.error().describe();
  auto still = client_->query("ec2", "us-east-1", "DescribeNetworkAcls", {{"NetworkAclId.1", theirs}});
  ASSERT_TRUE(still.ok()) << "rollback deleted the adversary's tagged ACL: " << still.error().describe();
  EXPECT_EQ(items(still->root(), "networkAclSet").size(), 1u);
}

// Verify of a resumed run judges the ACL apply recorded, not one found by the run's tags.
TEST_F(Ec2Adversary, HardCutVerifyJudgesTheRecordedAclNotATaggedOne) {
  const std::string id = world_.launch({world_.group("web")});
  options_.values = {{"ec2.nacl_hard_cut", "true"}};
  Context ctx = context(id);
  auto plan = plan_of(*family_, ctx);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  const Applied* cut = applied_step(done, "nacl-hard-cut");
  ASSERT_NE(cut, nullptr);
  EXPECT_TRUE(family_->verify_applied(ctx, cut->step, cut->applied).ok());
  // A record naming another ACL (the adversary's, tagged as ours) does not verify.
  const std::string theirs = tagged_acl(world_, *client_, id);
  EXPECT_FALSE(family_->verify_applied(ctx, cut->step, json{{"network_acl_id", theirs}}).ok());
  EXPECT_FALSE(family_->verify_applied(ctx, cut->step, json::object()).ok());
}

}  // namespace
}  // namespace containctl::actions::ec2test
