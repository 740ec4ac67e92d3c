// ec2-isolate against moto: single- and multi-interface instances, Auto Scaling, direct target
// groups, an already-contained instance, terminated and unknown instances, a second account, and
// the original state read back equal after rollback.
#include "tests/actions/ec2_fixture.h"

#include "aws/assume_role.h"

namespace containctl::actions::ec2test {
namespace {

class Ec2Isolate : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }
  void SetUp() override {
    moto().reset();
    client_ = probed_client(moto(), probe_, [this](const aws::CallRecord& r) {
      std::lock_guard l(mu_);
      records_.push_back(r);
    });
    world_.init(*client_);
    family_ = make_ec2_isolate();
  }

  Context context(const Target& target, aws::AwsClient* client = nullptr) {
    target_ = target;
    return Context{client ? *client : *client_, target_, "us-east-1", "run-test-1", caller_, options_, {}, clock_};
  }

  TargetPlan plan_for(Context& ctx) {
    auto d = family_->discover(ctx);
    EXPECT_TRUE(d.ok()) << d.error().describe();
    auto p = family_->plan(ctx, *d);
    EXPECT_TRUE(p.ok()) << p.error().describe();
    return *p;
  }

  std::vector<std::string> mutating_calls() {
    std::lock_guard l(mu_);
    std::vector<std::string> out;
    for (const auto& r : records_)
      if (r.operation.rfind("Describe", 0) != 0 && r.operation.rfind("Get", 0) != 0) out.push_back(r.operation);
    return out;
  }

  void clear_records() {
    std::lock_guard l(mu_);
    records_.clear();
  }

  std::shared_ptr<ProbeTransport> probe_;
  std::unique_ptr<aws::AwsClient> client_;
  World world_;
  std::unique_ptr<ActionFamily> family_;
  Identity caller_{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDA", "AKIATEST"};
  Options options_;
  aws::ManualClock clock_{std::chrono::system_clock::now()};
  Target target_;
  std::mutex mu_;
  std::vector<aws::CallRecord> records_;
};

json eni_groups(aws::AwsClient& c, const std::string& instance) { return read_state(c, instance)["interfaces"]; }

TEST_F(Ec2Isolate, SingleInterfaceContainAlreadyContainedAndRestore) {
  const std::string web = world_.group("web");
  const std::string id = world_.launch({web});
  const json original = read_state(*client_, id);
  Context ctx = context(world_.target(id));
  TargetPlan plan = plan_for(ctx);
  ASSERT_FALSE(plan.already_contained);
  for (const char* s : {"snapshot", "instance-attributes", "isolate-network", "tag-instance"})
    EXPECT_TRUE(has_step(plan, s)) << s;
  // "isolated" is written only once isolation verified: the executor runs cosmetic steps last.
  for (const auto& s : plan.steps) EXPECT_EQ(s.cosmetic, s.id == "tag-instance") << s.id;
  EXPECT_FALSE(has_step(plan, "asg-standby"));
  EXPECT_FALSE(has_step(plan, "nacl-hard-cut"));  // options are off by default
  std::string warnings;
  for (const auto& w : plan.warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("ICMP"), std::string::npos);
  EXPECT_NE(warnings.find("Network Load Balancers"), std::string::npos);
  EXPECT_NE(warnings.find("Route 53 Resolver DNS Firewall"), std::string::npos);
  for (const Step& s : plan.steps) EXPECT_TRUE(s.depends_on.empty()) << s.id << " should run in parallel";

  std::vector<Applied> done;
  Status st = execute(*family_, ctx, plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();

  // The interface is only in the isolation group, which has no rules; the temporary group is gone.
  json groups = eni_groups(*client_, id);
  ASSERT_EQ(groups.size(), 1u);
  const std::string iso = groups.begin().value().at(0);
  EXPECT_EQ(groups.begin().value().size(), 1u);
  auto sg_resp = q(*client_, "ec2", "DescribeSecurityGroups", {{"GroupId.1", iso}});
  auto sg = items(sg_resp.root(), "securityGroupInfo").at(0);
  EXPECT_TRUE(items(sg, "ipPermissions").empty());
  EXPECT_TRUE(items(sg, "ipPermissionsEgress").empty());
  EXPECT_EQ(family_groups(*client_), std::vector<std::string>{iso});
  json state = read_state(*client_, id);
  EXPECT_EQ(state["attributes"]["disableApiTermination"], "true");
  EXPECT_EQ(state["attributes"]["instanceInitiatedShutdownBehavior"], "stop");
  EXPECT_EQ(state["tags"][ec2::kTagContainment], "isolated");
  EXPECT_EQ(state["tags"][ec2::kTagRunId], "run-test-1");
  aws::Params sf;
  ec2::add_filter(sf, 1, std::string("tag:") + ec2::kTagRunId, {"run-test-1"});
  auto snaps_resp = q(*client_, "ec2", "DescribeSnapshots", sf);
  auto snaps = items(snaps_resp.root(), "snapshotSet");
  EXPECT_GE(snaps.size(), 1u);

  // Planning again with the journal of this run: already contained, nothing to do, nothing
  // changed. Without it, the group on the interface is nobody's the plan can trust.
  clear_records();
  TargetPlan unknown = plan_for(ctx);
  EXPECT_FALSE(unknown.already_contained);
  ctx.journal = journal_of(done, "run-test-1");
  TargetPlan again = plan_for(ctx);
  EXPECT_TRUE(again.already_contained);
  EXPECT_TRUE(again.steps.empty());
  EXPECT_NE(again.note.find("already contained"), std::string::npos);
  EXPECT_TRUE(mutating_calls().empty());
  // A rule added to the run's own group: no longer contained.
  q(*client_, "ec2", "AuthorizeSecurityGroupEgress",
    {{"GroupId", iso}, {"IpPermissions.1.IpProtocol", "-1"}, {"IpPermissions.1.Ipv6Ranges.1.CidrIpv6", "::/0"}});
  EXPECT_FALSE(plan_for(ctx).already_contained);
  q(*client_, "ec2", "RevokeSecurityGroupEgress",
    {{"GroupId", iso}, {"IpPermissions.1.IpProtocol", "-1"}, {"IpPermissions.1.Ipv6Ranges.1.CidrIpv6", "::/0"}});
  clear_records();

  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id), original);
  EXPECT_TRUE(family_groups(*client_).empty());
  // Evidence stays.
  EXPECT_EQ(items(q(*client_, "ec2", "DescribeSnapshots", sf).root(), "snapshotSet").size(), snaps.size());
  // Rollback is idempotent.
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id), original);
}

TEST_F(Ec2Isolate, MultiInterfaceEachInterfaceIsolatedAndRestoredExactly) {
  const std::string a = world_.group("a"), b = world_.group("b"), c = world_.group("c");
  const std::string id = world_.launch({a});
  const std::string eni2 = world_.add_interface(id, {b, c}, 1);
  const json original = read_state(*client_, id);
  ASSERT_EQ(original["interfaces"].size(), 2u);
  EXPECT_EQ(original["interfaces"][eni2].size(), 2u);
  Context ctx = context(world_.target(id));
  TargetPlan plan = plan_for(ctx);
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  json groups = eni_groups(*client_, id);
  std::set<std::string> isolation;
  for (const auto& [eni, g] : groups.items()) {
    ASSERT_EQ(g.size(), 1u) << eni;
    isolation.insert(g[0].get<std::string>());
  }
  EXPECT_EQ(isolation.size(), 1u);  // one isolation group per VPC, shared
  // Never through the instance's Groups attribute (fails on multi-interface instances in AWS).
  for (const std::string& body : probe_->bodies()) {
    if (ProbeTransport::action_of(body) == "ModifyInstanceAttribute") {
      EXPECT_EQ(body.find("GroupId"), std::string::npos);
    }
  }
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id), original);
  EXPECT_TRUE(family_groups(*client_).empty());
}

TEST_F(Ec2Isolate, AutoScalingInstanceEntersStandbyWithLoweredMinAndIsRestored) {
  const std::string web = world_.group("web");
  const std::string id = world_.asg("web-asg", 1, 1, 3, web);
  const json original = read_state(*client_, id, "web-asg");
  Context ctx = context(world_.target(id));
  TargetPlan plan = plan_for(ctx);
  ASSERT_TRUE(has_step(plan, "asg-standby"));
  const Step& asg = *std::find_if(plan.steps.begin(), plan.steps.end(), [](const Step& s) { return s.id == "asg-standby"; });
  ASSERT_EQ(asg.calls.size(), 2u);  // MinSize must drop to 0 for the decrement
  EXPECT_EQ(asg.calls[0].operation, "UpdateAutoScalingGroup");
  EXPECT_EQ(asg.calls[0].params["MinSize"], "0");
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  json contained = read_state(*client_, id, "web-asg");
  EXPECT_EQ(contained["asg"]["lifecycle"][id], "Standby");
  EXPECT_EQ(contained["asg"]["desired"], "0");
  EXPECT_EQ(contained["asg"]["min"], "0");
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id, "web-asg"), original);
}

TEST_F(Ec2Isolate, DirectTargetGroupRegistrationIsRemovedAndRestored) {
  const std::string web = world_.group("web");
  const std::string id = world_.launch({web});
  const std::string tg = world_.target_group("web-tg");
  const std::string other_tg = world_.target_group("other-tg");  // instance not in it
  q(*client_, "elasticloadbalancing", "RegisterTargets",
    {{"TargetGroupArn", tg}, {"Targets.member.1.Id", id}, {"Targets.member.1.Port", "8080"}});
  const json original = read_state(*client_, id, "", {tg, other_tg});
  Context ctx = context(world_.target(id));
  auto d = family_->discover(ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  ASSERT_EQ((*d)["target_registrations"].size(), 1u);
  EXPECT_EQ((*d)["target_registrations"][0]["target_group_arn"], tg);
  EXPECT_EQ((*d)["target_registrations"][0]["port"], "8080");
  TargetPlan plan = *family_->plan(ctx, *d);
  ASSERT_TRUE(has_step(plan, "deregister-targets"));
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_TRUE(read_state(*client_, id, "", {tg})["target_groups"][tg].empty());
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id, "", {tg, other_tg}), original);
}

TEST_F(Ec2Isolate, TerminatedAndUnknownInstancesAreClearErrorsAndChangeNothing) {
  const std::string id = world_.launch({world_.group("web")});
  q(*client_, "ec2", "TerminateInstances", {{"InstanceId.1", id}});
  clear_records();
  Context ctx = context(world_.target(id));
  auto d = family_->discover(ctx);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "InstanceTerminated");
  EXPECT_NE(d.error().message.find(id), std::string::npos);

  Context unknown = context(world_.target("i-0123456789abcdef0"));
  auto u = family_->discover(unknown);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code, "InstanceNotFound");
  EXPECT_NE(u.error().message.find("i-0123456789abcdef0"), std::string::npos);
  EXPECT_TRUE(mutating_calls().empty());
  EXPECT_TRUE(family_groups(*client_).empty());
}

TEST_F(Ec2Isolate, SecondAccountReachedByAssumeRole) {
  auto creds = aws::assume_role(*client_, {"arn:aws:iam::222222222222:role/ContainctlContainment", "222222222222",
                                           "test", 3600, "us-east-1"});
  ASSERT_TRUE(creds.ok()) << creds.error().describe();
  auto member = moto().client(*creds);
  World other;
  other.init(*member, "222222222222");
  const std::string id = other.launch({other.group("app")});
  // The management account cannot see it.
  EXPECT_FALSE(client_->query("ec2", "us-east-1", "DescribeInstances", {{"InstanceId.1", id}}).ok());
  const json original = read_state(*member, id);
  Context ctx = context(other.target(id), member.get());
  TargetPlan plan = plan_for(ctx);
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(family_groups(*member).size(), 1u);
  EXPECT_TRUE(family_groups(*client_).empty());  // nothing landed in the caller's account
  json groups = eni_groups(*member, id);
  EXPECT_EQ(groups.begin().value(), json::array({family_groups(*member).at(0)}));
  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*member, id), original);
}

// A profile created under a path: EC2 reports instance-profile/svc/app/app-profile, and discovery
// reads the profile (and its role) by the name aws::Arn parses out of that ARN.
TEST_F(Ec2Isolate, InstanceProfileUnderAPathIsFoundByItsName) {
  const std::string id = world_.launch({world_.group("web")});
  q(*client_, "iam", "CreateRole",
    {{"RoleName", "app-role"}, {"AssumeRolePolicyDocument", R"({"Version":"2012-10-17","Statement":[]})"}});
  q(*client_, "iam", "CreateInstanceProfile", {{"InstanceProfileName", "app-profile"}, {"Path", "/svc/app/"}});
  q(*client_, "iam", "AddRoleToInstanceProfile", {{"InstanceProfileName", "app-profile"}, {"RoleName", "app-role"}});
  q(*client_, "ec2", "AssociateIamInstanceProfile", {{"InstanceId", id}, {"IamInstanceProfile.Name", "app-profile"}});
  Context ctx = context(world_.target(id));
  auto d = family_->discover(ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  const json& profile = (*d)["instance_profile"];
  EXPECT_EQ(profile.value("arn", ""), "arn:aws:iam::123456789012:instance-profile/svc/app/app-profile") << profile;
  EXPECT_EQ(profile.value("name", ""), "app-profile");
  EXPECT_EQ(profile.value("roles", json()), json::array({"app-role"}));
}

TEST_F(Ec2Isolate, OptionalStepsEipRoleSessionsAndNaclAreFlaggedAppliedAndRestored) {
  const std::string id = world_.launch({world_.group("web")});
  // An Elastic IP and an instance profile.
  const std::string alloc = aws::xml_text(q(*client_, "ec2", "AllocateAddress", {{"Domain", "vpc"}}).root(), "allocationId");
  q(*client_, "ec2", "AssociateAddress", {{"AllocationId", alloc}, {"InstanceId", id}});
  q(*client_, "iam", "CreateRole",
    {{"RoleName", "app-role"}, {"AssumeRolePolicyDocument", R"({"Version":"2012-10-17","Statement":[]})"}});
  q(*client_, "iam", "CreateInstanceProfile", {{"InstanceProfileName", "app-profile"}});
  q(*client_, "iam", "AddRoleToInstanceProfile", {{"InstanceProfileName", "app-profile"}, {"RoleName", "app-role"}});
  q(*client_, "ec2", "AssociateIamInstanceProfile", {{"InstanceId", id}, {"IamInstanceProfile.Name", "app-profile"}});
  const json original = read_state(*client_, id);
  aws::Params nf;
  ec2::add_filter(nf, 1, "association.subnet-id", {world_.subnet});
  const std::string original_acl =
      text(items(q(*client_, "ec2", "DescribeNetworkAcls", nf).root(), "networkAclSet").at(0), "networkAclId");

  Context ctx = context(world_.target(id));
  TargetPlan plain = plan_for(ctx);
  EXPECT_FALSE(has_step(plain, "disassociate-eips"));
  EXPECT_FALSE(has_step(plain, "revoke-role-sessions"));
  std::string warnings;
  for (const auto& w : plain.warnings) warnings += w;
  EXPECT_NE(warnings.find("ec2.disassociate_eips"), std::string::npos);
  EXPECT_NE(warnings.find("ec2.revoke_instance_role_sessions"), std::string::npos);

  options_.values = {{"ec2.disassociate_eips", "true"}, {"ec2.revoke_instance_role_sessions", "true"},
                     {"ec2.nacl_hard_cut", "true"}};
  TargetPlan plan = plan_for(ctx);
  for (const char* s : {"disassociate-eips", "revoke-role-sessions", "nacl-hard-cut"}) ASSERT_TRUE(has_step(plan, s)) << s;
  for (const Step& s : plan.steps) {
    if (s.id == "nacl-hard-cut") {
      EXPECT_NE(s.description.find("SUBNET-WIDE"), std::string::npos);
    }
  }
  std::vector<Applied> done;
  Status st = execute(*family_, ctx, plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_TRUE(read_state(*client_, id)["addresses"].empty());
  auto pol = q(*client_, "iam", "GetRolePolicy", {{"RoleName", "app-role"}, {"PolicyName", "containctl-revoke-" + id}});
  const std::string doc = aws::xml_text(pol.root(), "PolicyDocument");
  EXPECT_NE(doc.find("SourceInstanceARN"), std::string::npos);
  EXPECT_NE(doc.find("TokenIssueTime"), std::string::npos);
  const std::string cut_acl =
      text(items(q(*client_, "ec2", "DescribeNetworkAcls", nf).root(), "networkAclSet").at(0), "networkAclId");
  EXPECT_NE(cut_acl, original_acl);

  st = roll_back(*family_, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(read_state(*client_, id), original);
  EXPECT_FALSE(client_->query("iam", "us-east-1", "GetRolePolicy",
                              {{"RoleName", "app-role"}, {"PolicyName", "containctl-revoke-" + id}}).ok());
  EXPECT_EQ(text(items(q(*client_, "ec2", "DescribeNetworkAcls", nf).root(), "networkAclSet").at(0), "networkAclId"),
            original_acl);
  EXPECT_FALSE(client_->query("ec2", "us-east-1", "DescribeNetworkAcls", {{"NetworkAclId.1", cut_acl}}).ok() &&
               !items(q(*client_, "ec2", "DescribeNetworkAcls", {{"NetworkAclId.1", cut_acl}}).root(), "networkAclSet").empty());
}

TEST_F(Ec2Isolate, UnknownOptionIsRejectedByName) {
  const std::string id = world_.launch({world_.group("web")});
  options_.values = {{"ec2.dissociate_eips", "true"}};
  Context ctx = context(world_.target(id));
  auto d = family_->discover(ctx);
  ASSERT_TRUE(d.ok());
  auto p = family_->plan(ctx, *d);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("ec2.dissociate_eips"), std::string::npos);
}

// Pure planning over a discovery with interfaces the account cannot change.
TEST_F(Ec2Isolate, ManagedInterfacesAreSkippedAndReported) {
  json d = {{"instance", {{"id", "i-0123456789abcdef1"}, {"arn", "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef1"},
                          {"state", "running"}, {"vpc_id", "vpc-1"}, {"subnet_id", "subnet-1"},
                          {"volumes", json::array()}, {"tags", json::object()}}},
            {"network_interfaces",
             {{{"id", "eni-own"}, {"vpc_id", "vpc-1"}, {"subnet_id", "subnet-1"}, {"groups", {"sg-1"}},
               {"interface_type", "interface"}, {"requester_managed", false}, {"modifiable", true},
               {"skip_reason", ""}, {"conntrack", nullptr}},
              {{"id", "eni-lambda"}, {"vpc_id", "vpc-1"}, {"subnet_id", "subnet-1"}, {"groups", {"sg-2"}},
               {"interface_type", "lambda"}, {"requester_managed", true}, {"modifiable", false},
               {"skip_reason", "requester-managed interface (owned by an AWS service)"}, {"conntrack", nullptr}}}},
            {"isolation_groups", json::object()}, {"asg", nullptr}, {"target_registrations", json::array()},
            {"termination_protection", true}, {"shutdown_behavior", "stop"}, {"instance_profile", nullptr},
            {"elastic_ips", json::array()}, {"network_acls", json::array()}};
  json lambda = {{"requester_managed", false}, {"interface_type", "lambda"}};
  std::string reason;
  EXPECT_FALSE(ec2::interface_modifiable(lambda, &reason));
  EXPECT_NE(reason.find("lambda"), std::string::npos);
  EXPECT_FALSE(ec2::interface_modifiable({{"requester_managed", false}, {"interface_type", "nat_gateway"}}, &reason));
  EXPECT_TRUE(ec2::interface_modifiable({{"requester_managed", false}, {"interface_type", "interface"}}, &reason));

  Context ctx = context(world_.target("i-0123456789abcdef1"));
  auto p = family_->plan(ctx, d);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  std::string warnings;
  for (const auto& w : p->warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("eni-lambda is skipped"), std::string::npos);
  const Step& net = *std::find_if(p->steps.begin(), p->steps.end(), [](const Step& s) { return s.id == "isolate-network"; });
  ASSERT_EQ(net.args["interfaces"].size(), 1u);
  EXPECT_EQ(net.args["interfaces"][0]["id"], "eni-own");
  EXPECT_FALSE(has_step(*p, "instance-attributes"));  // both already hold
}

}  // namespace
}  // namespace containctl::actions::ec2test
