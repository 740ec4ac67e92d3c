// iam_actions() of ec2-isolate is complete and minimal: every call the family makes during full
// lifecycles (discover, plan, capture, apply, verify, rollback, verify_rollback, with every option)
// maps to a listed IAM action, and every listed action is used by some path.
#include "tests/actions/ec2_fixture.h"

namespace containctl::actions::ec2test {
namespace {

// Where the IAM action name differs from "<service>:<Operation>". EC2, Auto Scaling, ELBv2 and
// IAM name their actions after the operations the family calls, so this map is empty; it stays
// here so a future call with a different action name has one obvious place to go.
const std::map<std::string, std::string> kActionFor = {};

std::string iam_action(const aws::CallRecord& r) {
  const std::string key = r.service + ":" + r.operation;
  auto it = kActionFor.find(key);
  return it == kActionFor.end() ? key : it->second;
}

// Actions needed by AWS beyond the operation names: tag-on-create (CreateSecurityGroup,
// CreateSnapshots and CreateNetworkAcl with TagSpecifications) is authorized as ec2:CreateTags,
// which the tag step also calls directly, so no extra entry is needed.

TEST(Ec2IamActions, EveryCallIsListedAndEveryListedActionIsUsed) {
  testing::MotoServer& moto = testing::MotoServer::shared();
  moto.reset();
  std::mutex mu;
  std::set<std::string> used;
  std::vector<std::string> unlisted;
  auto family = make_ec2_isolate();
  const auto listed_vec = family->iam_actions();
  const std::set<std::string> listed(listed_vec.begin(), listed_vec.end());
  EXPECT_EQ(listed.size(), listed_vec.size()) << "duplicates in iam_actions()";

  // Set-up calls go through a separate client so they are not counted.
  auto setup = moto.client();
  World world;
  world.init(*setup);
  const std::string id = world.asg("iam-asg", 1, 1, 2, world.group("web"));
  world.add_interface(id, {world.group("mgmt")}, 1);
  const std::string tg = world.target_group("iam-tg");
  q(*setup, "elasticloadbalancing", "RegisterTargets", {{"TargetGroupArn", tg}, {"Targets.member.1.Id", id}});
  const std::string alloc = aws::xml_text(q(*setup, "ec2", "AllocateAddress", {{"Domain", "vpc"}}).root(), "allocationId");
  q(*setup, "ec2", "AssociateAddress", {{"AllocationId", alloc}, {"InstanceId", id}});
  q(*setup, "iam", "CreateRole", {{"RoleName", "r"}, {"AssumeRolePolicyDocument", R"({"Version":"2012-10-17","Statement":[]})"}});
  q(*setup, "iam", "CreateInstanceProfile", {{"InstanceProfileName", "p"}});
  q(*setup, "iam", "AddRoleToInstanceProfile", {{"InstanceProfileName", "p"}, {"RoleName", "r"}});
  q(*setup, "ec2", "AssociateIamInstanceProfile", {{"InstanceId", id}, {"IamInstanceProfile.Name", "p"}});

  std::shared_ptr<ProbeTransport> probe;
  auto client = probed_client(moto, probe, [&](const aws::CallRecord& r) {
    std::lock_guard l(mu);
    const std::string action = iam_action(r);
    used.insert(action);
    if (!listed.count(action)) unlisted.push_back(action);
  });
  Target target = world.target(id);
  Identity caller{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDA", "AKIATEST"};
  Options options;
  options.values = {{"ec2.disassociate_eips", "true"}, {"ec2.revoke_instance_role_sessions", "true"},
                    {"ec2.nacl_hard_cut", "true"}};
  aws::ManualClock clock{std::chrono::system_clock::now()};
  Context ctx{*client, target, "us-east-1", "run-iam-1", caller, options, {}, clock};
  auto d = family->discover(ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  auto plan = family->plan(ctx, *d);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  std::vector<Applied> done;
  Status st = execute(*family, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  st = roll_back(*family, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  // The failure paths: an isolation whose last step fails is rolled back with applied=null.
  std::stable_partition(plan->steps.begin(), plan->steps.end(), [](const Step& s) { return s.id != "isolate-network"; });
  probe->fail("ModifyNetworkInterfaceAttribute", 2);
  done.clear();
  EXPECT_FALSE(execute(*family, ctx, *plan, done).ok());
  probe->fail("", 0);
  st = roll_back(*family, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();

  EXPECT_TRUE(unlisted.empty()) << "called but not in iam_actions(): " << json(unlisted).dump();
  std::vector<std::string> unused;
  for (const auto& a : listed)
    if (!used.count(a)) unused.push_back(a);
  EXPECT_TRUE(unused.empty()) << "listed but never called: " << json(unused).dump();
}

}  // namespace
}  // namespace containctl::actions::ec2test
