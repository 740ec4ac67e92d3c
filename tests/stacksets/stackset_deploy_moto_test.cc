// stackset deploy against moto_server: self-managed roles really land in two target accounts (read
// back with IAM GetRole inside each), a re-deploy updates, and service-managed creates the
// management-account stack.
#include "aws/securityhub.h"
#include "aws/support.h"
#include <gtest/gtest.h>

#include <set>

#include "aws/assume_role.h"
#include "stacksets/deploy.h"
#include "stacksets/roles.h"
#include "tests/stacksets/fake_family.h"
#include "tests/support/moto_server.h"

namespace containctl::stacksets {
namespace {

using containctl::testing::MotoServer;
using testing::fake_catalog;

const std::string kRegion = "us-east-1";
const std::string kManagement = "123456789012";  // moto's default account (the caller)

class DeployMoto : public ::testing::Test {
 protected:
  static MotoServer& moto() {
    static MotoServer server;
    return server;
  }
  void SetUp() override {
    moto().reset();
    client_ = moto().client();
  }

  DeployRequest request(const Selection& s) {
    auto r = resolve(s, fake_catalog(), kRegion);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    DeployRequest req;
    req.selection = *r;
    auto member = member_role_template(*r);
    EXPECT_TRUE(member.ok());
    req.template_body = emit(*member, r->format);
    req.caller_account = kManagement;
    req.region = kRegion;
    req.wait = true;
    return req;
  }

  // A client acting inside `account`: with auth off, moto maps AssumeRole credentials to the
  // account of the role ARN (moto-notes §5), so IAM calls made with them read that account.
  std::unique_ptr<aws::AwsClient> client_in(const std::string& account) {
    aws::AssumeRoleParams p;
    p.role_arn = "arn:aws:iam::" + account + ":role/" + kDefaultMemberRoleName;
    p.external_id = account;
    p.region = kRegion;
    auto creds = aws::assume_role(*client_, p);
    EXPECT_TRUE(creds.ok()) << creds.error().describe();
    return moto().client(*creds);
  }

  aws::ManualClock clock_{std::chrono::system_clock::time_point{}};
  std::unique_ptr<aws::AwsClient> client_;
};

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// IAM returns policy documents URL-encoded. moto quirk: an inline policy created by CloudFormation
// is stored as a Python dict and comes back in Python's repr ({'Version': ...}); our documents have
// no quotes or booleans inside strings, so turning the repr into JSON is a plain substitution.
nlohmann::json policy_json(const std::string& raw) {
  std::string text = raw.find('%') != std::string::npos ? url_decode(raw) : raw;
  if (text.rfind("{'", 0) == 0) {
    for (char& c : text)
      if (c == '\'') c = '"';
  }
  return nlohmann::json::parse(text);
}

Selection self_managed(const std::string& actions = "") {
  Selection s;
  s.model = "self-managed";
  s.accounts = {"111111111111,222222222222"};
  s.regions = {kRegion};
  s.trusted_principals = {"arn:aws:iam::123456789012:role/IncidentResponder"};
  s.actions = actions;
  s.format = Format::kJson;
  return s;
}

// Reads the containctl role back in `account` and checks trust and permissions.
// `expected_actions` null: check the trust only.
void expect_role_in(aws::AwsClient& in_account, const std::string& account,
                    const std::set<std::string>* expected_actions) {
  SCOPED_TRACE("account " + account);
  auto role = in_account.query("iam", kRegion, "GetRole", {{"RoleName", kDefaultMemberRoleName}});
  ASSERT_TRUE(role.ok()) << role.error().describe();
  EXPECT_EQ(aws::xml_text(role->root(), "Arn"), "arn:aws:iam::" + account + ":role/" + kDefaultMemberRoleName);
  auto trust = policy_json(aws::xml_text(role->root(), "AssumeRolePolicyDocument"));
  ASSERT_EQ(trust["Statement"].size(), 2u) << trust.dump();
  // ${AWS::AccountId} resolved to the target account, not the administrator's.
  EXPECT_EQ(trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], account) << trust.dump();
  EXPECT_EQ(trust["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::123456789012:role/IncidentResponder");
  EXPECT_EQ(trust["Statement"][1]["Action"], "sts:TagSession");

  if (!expected_actions) return;
  auto pol = in_account.query("iam", kRegion, "GetRolePolicy",
                              {{"RoleName", kDefaultMemberRoleName},
                               {"PolicyName", std::string(kDefaultMemberRoleName) + "Policy"}});
  ASSERT_TRUE(pol.ok()) << pol.error().describe();
  auto doc = policy_json(aws::xml_text(pol->root(), "PolicyDocument"));
  std::set<std::string> granted;
  for (const auto& st : doc["Statement"])
    for (const auto& a : st["Action"]) granted.insert(a.get<std::string>());
  EXPECT_EQ(granted, *expected_actions);
}

std::set<std::string> actions_of(const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (auto* f : fake_catalog())
    if (std::find(names.begin(), names.end(), f->name()) != names.end())
      for (const auto& a : f->iam_actions()) out.insert(a);
  // Every role also carries the escalation statement (support case, Security Hub note).
  out.insert(aws::support_iam_actions().begin(), aws::support_iam_actions().end());
  out.insert(aws::securityhub_iam_actions().begin(), aws::securityhub_iam_actions().end());
  return out;
}

TEST_F(DeployMoto, SelfManagedDeploysRolesIntoBothTargetAccounts) {
  DeployRequest req = request(self_managed());
  auto report = deploy(*client_, clock_, req);
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(report->stack_set_action, "created");
  EXPECT_FALSE(report->stack_set_id.empty());
  EXPECT_TRUE(report->failures.empty()) << report->to_text();
  EXPECT_TRUE(report->complete);
  ASSERT_EQ(report->operations.size(), 1u);
  EXPECT_EQ(report->operations[0].action, "CREATE_STACK_INSTANCES");
  EXPECT_EQ(report->operations[0].status, "SUCCEEDED");
  std::set<std::string> accounts;
  for (const auto& i : report->instances) {
    accounts.insert(i.account);
    EXPECT_EQ(i.region, kRegion);
    EXPECT_EQ(i.status, "CURRENT");
  }
  EXPECT_EQ(accounts, (std::set<std::string>{"111111111111", "222222222222"}));
  EXPECT_FALSE(report->stack.has_value());  // self-managed has no management-account stack

  auto all = actions_of({"fake-isolate", "fake-deny"});
  for (const std::string account : {"111111111111", "222222222222"}) {
    auto in = client_in(account);
    expect_role_in(*in, account, &all);
  }
  // Nothing landed in the administrator account itself.
  auto none = client_->query("iam", kRegion, "GetRole", {{"RoleName", kDefaultMemberRoleName}});
  EXPECT_FALSE(none.ok());
}

TEST_F(DeployMoto, RedeployUpdatesTheStackSetInsteadOfFailing) {
  ASSERT_TRUE(deploy(*client_, clock_, request(self_managed())).ok());
  DeployRequest again = request(self_managed("fake-deny"));
  auto report = deploy(*client_, clock_, again);
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(report->stack_set_action, "updated");
  EXPECT_TRUE(report->failures.empty()) << report->to_text();
  ASSERT_EQ(report->operations.size(), 1u);  // both accounts already have instances: no CreateStackInstances
  EXPECT_EQ(report->operations[0].action, "UPDATE_STACK_SET");
  EXPECT_EQ(report->operations[0].status, "SUCCEEDED");
  EXPECT_EQ(report->instances.size(), 2u);

  auto ss = client_->query("cloudformation", kRegion, "DescribeStackSet",
                           {{"StackSetName", again.selection.stack_set_name}});
  ASSERT_TRUE(ss.ok()) << ss.error().describe();
  EXPECT_EQ(aws::xml_text(ss->root(), "TemplateBody"), again.template_body);  // the new template is in place

  // Adding an account creates only that account's instance.
  Selection more = self_managed("fake-deny");
  more.accounts = {"111111111111,222222222222,333333333333"};
  auto third = deploy(*client_, clock_, request(more));
  ASSERT_TRUE(third.ok()) << third.error().describe();
  ASSERT_EQ(third->operations.size(), 2u);
  EXPECT_EQ(third->operations[1].action, "CREATE_STACK_INSTANCES");
  EXPECT_EQ(third->instances.size(), 3u);
  // Only the trust is checked here: moto (unlike AWS) builds instances added after UpdateStackSet
  // from the template the StackSet was created with; the StackSet's template was checked above.
  auto in = client_in("333333333333");
  expect_role_in(*in, "333333333333", nullptr);
}

nlohmann::json org(aws::AwsClient& c, const std::string& op, const nlohmann::json& body) {
  auto r = c.json("organizations", kRegion, "AWSOrganizationsV20161128", op, body);
  EXPECT_TRUE(r.ok()) << op << ": " << r.error().describe();
  return r.ok() ? *r : nlohmann::json::object();
}

TEST_F(DeployMoto, ServiceManagedCreatesTheManagementAccountStack) {
  org(*client_, "CreateOrganization", {{"FeatureSet", "ALL"}});
  std::string root = org(*client_, "ListRoots", nlohmann::json::object())["Roots"][0]["Id"];
  std::string ou = org(*client_, "CreateOrganizationalUnit", {{"ParentId", root}, {"Name", "workloads"}})
                       ["OrganizationalUnit"]["Id"];
  std::string member = org(*client_, "CreateAccount", {{"Email", "w@example.com"}, {"AccountName", "workload"}})
                           ["CreateAccountStatus"]["AccountId"];
  ASSERT_FALSE(member.empty());
  org(*client_, "MoveAccount", {{"AccountId", member}, {"SourceParentId", root}, {"DestinationParentId", ou}});

  // Targeting the OU, not the root: moto deploys service-managed instances to every account under
  // the target INCLUDING the management account (AWS skips it), which would then collide with the
  // management-account stack. With the member in an OU, moto behaves like AWS here.
  Selection s;
  s.model = "service-managed";
  s.ous = {ou};
  s.regions = {kRegion};
  s.trusted_principals = {"arn:aws:iam::123456789012:role/IncidentResponder"};
  DeployRequest req = request(s);
  auto report = deploy(*client_, clock_, req);
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_TRUE(report->failures.empty()) << report->to_text();
  EXPECT_EQ(report->stack_set_action, "created");
  ASSERT_EQ(report->instances.size(), 1u) << report->to_text();
  EXPECT_EQ(report->instances[0].account, member);
  ASSERT_TRUE(report->stack.has_value());
  EXPECT_EQ(report->stack->name, req.selection.management_stack_name);
  EXPECT_EQ(report->stack->account, kManagement);
  EXPECT_EQ(report->stack->action, "created");
  EXPECT_EQ(report->stack->status, "CREATE_COMPLETE");

  auto stacks = client_->query("cloudformation", kRegion, "DescribeStacks", {{"StackName", req.selection.management_stack_name}});
  ASSERT_TRUE(stacks.ok()) << stacks.error().describe();
  auto all = actions_of({"fake-isolate", "fake-deny"});
  expect_role_in(*client_, kManagement, &all);  // the management account is protected too
  auto in = client_in(member);
  expect_role_in(*in, member, &all);

  auto ss = client_->query("cloudformation", kRegion, "DescribeStackSet", {{"StackSetName", req.selection.stack_set_name}});
  ASSERT_TRUE(ss.ok());
  EXPECT_EQ(aws::xml_text(ss->root(), "PermissionModel"), "SERVICE_MANAGED");
}

TEST_F(DeployMoto, StackModelDeploysIntoTheCallerAccountAndRedeploysCleanly) {
  Selection s;
  s.model = "stack";
  s.regions = {kRegion};
  s.trusted_principals = {"arn:aws:iam::123456789012:role/IncidentResponder"};
  auto first = deploy(*client_, clock_, request(s));
  ASSERT_TRUE(first.ok()) << first.error().describe();
  ASSERT_TRUE(first->stack.has_value());
  EXPECT_EQ(first->stack->action, "created");
  EXPECT_TRUE(first->stack_set_action.empty());
  auto all = actions_of({"fake-isolate", "fake-deny"});
  expect_role_in(*client_, kManagement, &all);
  auto second = deploy(*client_, clock_, request(s));
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_NE(second->stack->action, "created");
  EXPECT_TRUE(second->failures.empty()) << second->to_text();
}

TEST_F(DeployMoto, PermissionModelMismatchIsRefusedBeforeAnyChange) {
  ASSERT_TRUE(deploy(*client_, clock_, request(self_managed())).ok());
  DeployRequest req = request(self_managed());
  req.selection.model = Model::kServiceManaged;
  req.selection.accounts.clear();
  req.selection.ous = {"ou-ab12-cdef3456"};
  auto r = deploy(*client_, clock_, req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("SELF_MANAGED"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace containctl::stacksets
