// stackset generate: every variant x model x format is cfn-lint clean and deterministic, the
// containctl role's permissions are exactly the families' iam_actions(), and bad selections fail.
#include "aws/securityhub.h"
#include "aws/support.h"
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>

#include "actions/registry.h"
#include "stacksets/roles.h"
#include "stacksets/template.h"
#include "tests/stacksets/fake_family.h"

namespace containctl::stacksets {
namespace {

namespace fs = std::filesystem;
using testing::fake_catalog;

const std::string kPrincipal = "arn:aws:iam::999999999999:role/IncidentResponder";

Selection base(Variant v, const std::string& model, Format f) {
  Selection s;
  s.variant = v;
  s.model = model;
  s.format = f;
  if (model == "service-managed") s.ous = {"ou-ab12-cdef3456,ou-zz99-yyyy8888"};
  if (model == "self-managed") s.accounts = {"222222222222", "111111111111"};
  s.regions = {"eu-west-1"};
  if (v == Variant::kContainctl) s.trusted_principals = {kPrincipal};
  return s;
}

Resolved must_resolve(const Selection& s, const std::vector<actions::ActionFamily*>& catalog = fake_catalog()) {
  auto r = resolve(s, catalog, "us-east-1");
  EXPECT_TRUE(r.ok()) << r.error().describe();
  return r.ok() ? *r : Resolved{};
}

Bundle must_generate(const Resolved& r) {
  auto b = generate(r);
  EXPECT_TRUE(b.ok()) << b.error().describe();
  return b.ok() ? *b : Bundle{};
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult run(const std::string& command) {
  RunResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

fs::path temp_dir(const std::string& tag) {
  fs::path d = fs::temp_directory_path() / ("containctl-stacksets-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

const std::vector<std::pair<Variant, std::string>> kCombos = {
    {Variant::kContainctl, "service-managed"}, {Variant::kContainctl, "self-managed"},
    {Variant::kContainctl, "stack"},           {Variant::kAwsSir, "service-managed"},
    {Variant::kAwsSir, "self-managed"},        {Variant::kAwsSir, "stack"}};

TEST(Generate, EveryVariantModelAndFormatIsCfnLintCleanAndDeterministic) {
  fs::path dir = temp_dir("lint");
  std::vector<std::string> files;
  for (auto [variant, model] : kCombos) {
    for (Format f : {Format::kYaml, Format::kJson}) {
      SCOPED_TRACE(std::string(to_string(variant)) + " " + model + " " + extension(f));
      Resolved r = must_resolve(base(variant, model, f));
      Bundle a = must_generate(r);
      Bundle b = must_generate(must_resolve(base(variant, model, f)));
      ASSERT_FALSE(a.files.empty());
      EXPECT_EQ(render(a, f), render(b, f));  // byte-identical for the same input
      size_t expected_files = model == "stack" ? 1 : model == "service-managed" ? 2 : 3;
      EXPECT_EQ(a.files.size(), expected_files);
      fs::path sub = dir / (std::string(to_string(variant)) + "-" + model + "-" + extension(f));
      ASSERT_TRUE(write_bundle(a, f, sub.string()).ok());
      for (const auto& file : a.files) {
        fs::path p = model == "stack" ? sub : sub / file.name;
        ASSERT_TRUE(fs::is_regular_file(p)) << p;
        files.push_back(p.string());
        if (f == Format::kJson) {  // JSON output parses back to the same document
          std::ifstream in(p);
          EXPECT_EQ(Doc::parse(in), file.doc);
        }
      }
    }
  }
  std::string cmd = "cfn-lint --format parseable --";
  for (const auto& f : files) cmd += " '" + f + "'";
  RunResult lint = run(cmd);
  EXPECT_EQ(lint.exit_code, 0) << lint.output;
  EXPECT_EQ(lint.output, "") << "cfn-lint reported issues";
  EXPECT_EQ(files.size(), 24u);  // 2 variants x (2 + 3 + 1) templates x 2 formats
  fs::remove_all(dir);
}

TEST(Generate, FlagOrderDoesNotChangeOutput) {
  Selection a = base(Variant::kContainctl, "self-managed", Format::kYaml);
  Selection b = a;
  b.accounts = {"111111111111", "222222222222,111111111111"};
  b.trusted_principals = {kPrincipal, kPrincipal};
  b.actions = "fake-deny,fake-isolate";
  EXPECT_EQ(render(must_generate(must_resolve(a)), Format::kYaml), render(must_generate(must_resolve(b)), Format::kYaml));
}

TEST(Generate, YamlQuotesScalarsThatWouldChangeType) {
  Resolved r = must_resolve(base(Variant::kContainctl, "self-managed", Format::kYaml));
  std::string text = render(must_generate(r), Format::kYaml);
  EXPECT_NE(text.find("Version: \"2012-10-17\""), std::string::npos) << text;
  EXPECT_NE(text.find("- \"111111111111\""), std::string::npos) << text;
  EXPECT_NE(text.find("TemplateBody: |"), std::string::npos) << text;
}

// The "no drift" proof: the role's permissions are exactly the union of the selected families'
// iam_actions(), one statement per family holding exactly that family's actions, then the
// escalation statement (the Support and Security Hub calls' own lists).
void expect_policy_matches(const Doc& role_template, const std::vector<const actions::ActionFamily*>& families) {
  const Doc& props = role_template["Resources"]["ContainmentRole"]["Properties"];
  ASSERT_EQ(props["Policies"].size(), 1u);
  const Doc& statements = props["Policies"][0]["PolicyDocument"]["Statement"];
  ASSERT_EQ(statements.size(), families.size() + 1);
  const Doc& esc = statements[families.size()];
  EXPECT_EQ(esc["Sid"], "Escalation");
  std::vector<std::string> esc_acts = esc["Action"].get<std::vector<std::string>>();
  std::set<std::string> want_esc(aws::support_iam_actions().begin(), aws::support_iam_actions().end());
  want_esc.insert(aws::securityhub_iam_actions().begin(), aws::securityhub_iam_actions().end());
  EXPECT_EQ(std::set<std::string>(esc_acts.begin(), esc_acts.end()), want_esc);
  EXPECT_TRUE(want_esc.count("support:CreateCase") && want_esc.count("securityhub:BatchUpdateFindings"));
  std::set<std::string> granted, declared;
  for (size_t i = 0; i < families.size(); ++i) {
    const Doc& st = statements[i];
    std::vector<std::string> acts = families[i]->iam_actions();
    std::set<std::string> family_set(acts.begin(), acts.end());
    declared.insert(acts.begin(), acts.end());
    EXPECT_EQ(st["Sid"], sid_for_family(families[i]->name()));
    EXPECT_EQ(st["Effect"], "Allow");
    EXPECT_EQ(st["Resource"], "*");
    std::vector<std::string> got = st["Action"].get<std::vector<std::string>>();
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size()) << "duplicates";
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), family_set) << families[i]->name();
    granted.insert(got.begin(), got.end());
  }
  EXPECT_EQ(granted, declared);
}

TEST(Generate, ContainctlRolePermissionsAreExactlyTheFamiliesActions) {
  Resolved all = must_resolve(base(Variant::kContainctl, "stack", Format::kYaml));
  ASSERT_EQ(all.families.size(), 2u);
  expect_policy_matches(must_generate(all).member_template, all.families);

  Selection one = base(Variant::kContainctl, "stack", Format::kYaml);
  one.actions = "fake-deny";
  Resolved r = must_resolve(one);
  ASSERT_EQ(r.families.size(), 1u);
  EXPECT_EQ(r.families[0]->name(), "fake-deny");
  Doc t = must_generate(r).member_template;
  expect_policy_matches(t, r.families);
  std::string text = t.dump();
  EXPECT_EQ(text.find("ec2:ModifyNetworkInterfaceAttribute"), std::string::npos);
  EXPECT_EQ(t["Resources"]["ContainmentRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"],
            Doc({"ec2:DescribeInstances", "iam:GetUser", "iam:PutUserPolicy"}));
}

TEST(Generate, RealRegistryFamiliesGiveExactlyTheirActions) {
  const auto& catalog = actions::all_families();
  ASSERT_FALSE(catalog.empty()) << "no action family is registered";
  Resolved r = must_resolve(base(Variant::kContainctl, "stack", Format::kJson), catalog);
  ASSERT_EQ(r.families.size(), catalog.size());
  expect_policy_matches(must_generate(r).member_template, r.families);
  for (auto* f : catalog) {  // and each family alone
    Selection s = base(Variant::kContainctl, "stack", Format::kJson);
    s.actions = f->name();
    Resolved one = must_resolve(s, catalog);
    expect_policy_matches(must_generate(one).member_template, one.families);
  }
}

TEST(Generate, ContainctlTrustRequiresAccountExternalIdAndAllowsTagSession) {
  Resolved r = must_resolve(base(Variant::kContainctl, "stack", Format::kYaml));
  Doc role = must_generate(r).member_template["Resources"]["ContainmentRole"];
  EXPECT_EQ(role["Type"], "AWS::IAM::Role");
  EXPECT_EQ(role["Properties"]["RoleName"], "ContainctlContainment");
  const Doc& st = role["Properties"]["AssumeRolePolicyDocument"]["Statement"];
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0]["Action"], "sts:AssumeRole");
  EXPECT_EQ(st[0]["Principal"]["AWS"], kPrincipal);
  EXPECT_EQ(st[0]["Condition"]["StringEquals"]["sts:ExternalId"]["Fn::Sub"], "${AWS::AccountId}");
  EXPECT_EQ(st[1]["Action"], "sts:TagSession");
  EXPECT_EQ(st[1]["Principal"]["AWS"], kPrincipal);
  EXPECT_FALSE(st[1].contains("Condition"));

  Selection named = base(Variant::kContainctl, "stack", Format::kYaml);
  named.member_role_name = "IrContain";
  EXPECT_EQ(must_generate(must_resolve(named)).member_template["Resources"]["ContainmentRole"]["Properties"]["RoleName"],
            "IrContain");
}

TEST(Generate, AwsSirRolesMatchTheReference) {
  Doc t = must_generate(must_resolve(base(Variant::kAwsSir, "stack", Format::kYaml))).member_template;
  const Doc& c = t["Resources"]["ContainmentRole"]["Properties"];
  EXPECT_EQ(c["RoleName"], kSirRoleName);
  const Doc& trust = c["AssumeRolePolicyDocument"]["Statement"];
  EXPECT_EQ(trust[0]["Principal"]["Service"], "containment.security-ir.amazonaws.com");
  EXPECT_EQ(trust[0]["Condition"]["StringEquals"]["sts:ExternalId"]["Fn::Sub"], "${AWS::AccountId}");
  EXPECT_EQ(trust[1]["Action"], "sts:TagSession");
  EXPECT_EQ(c["Policies"][0]["PolicyName"], "AWSSecurityIncidentResponseContainmentPolicy");
  const Doc& st = c["Policies"][0]["PolicyDocument"]["Statement"];
  EXPECT_EQ(st[0]["Action"], "ssm:StartAutomationExecution");
  std::string resources = st[0]["Resource"].dump();
  for (const char* doc : {"AWSSupport-ContainEC2Instance", "AWSSupport-ContainS3Resource", "AWSSupport-ContainIAMPrincipal"})
    EXPECT_NE(resources.find(std::string("arn:${AWS::Partition}:ssm:*::document/") + doc), std::string::npos) << doc;
  EXPECT_NE(resources.find("arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:automation-execution/*"), std::string::npos);
  EXPECT_EQ(resources.find("automation-definition"), std::string::npos);
  EXPECT_EQ(st[1]["Action"], Doc({"ssm:DescribeInstanceInformation", "ssm:GetAutomationExecution",
                                  "ssm:ListCommandInvocations"}));
  EXPECT_EQ(st[2]["Action"], "iam:PassRole");
  EXPECT_EQ(st[2]["Resource"]["Fn::GetAtt"], Doc({"ContainmentExecutionRole", "Arn"}));
  EXPECT_EQ(st[2]["Condition"]["StringEquals"]["iam:PassedToService"], "ssm.amazonaws.com");

  const Doc& e = t["Resources"]["ContainmentExecutionRole"]["Properties"];
  EXPECT_EQ(e["RoleName"], kSirExecutionRoleName);
  EXPECT_EQ(e["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"], "ssm.amazonaws.com");
  EXPECT_EQ(e["ManagedPolicyArns"][0]["Fn::Sub"], "arn:${AWS::Partition}:iam::aws:policy/SecurityAudit");
  std::vector<std::string> sids;
  for (const auto& s : e["Policies"][0]["PolicyDocument"]["Statement"]) sids.push_back(s["Sid"]);
  EXPECT_EQ(sids, (std::vector<std::string>{"AllowIAMContainment", "AllowOrgListAccounts", "AllowSSOContainment",
                                            "AllowSSORead", "AllowS3Read", "AllowS3Write", "AllowAutoScalingWrite",
                                            "AllowEC2Containment", "AllowKMSActions", "AllowSSMActions"}));
  const Doc& ec2 = e["Policies"][0]["PolicyDocument"]["Statement"][7];
  EXPECT_EQ(ec2["Action"].size(), 16u);
  EXPECT_EQ(e["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"].size(), 31u + 6u);
}

TEST(Generate, ServiceManagedStackSetAndManagementAccountStack) {
  Resolved r = must_resolve(base(Variant::kContainctl, "service-managed", Format::kJson));
  Bundle b = must_generate(r);
  ASSERT_EQ(b.files.size(), 2u);
  EXPECT_EQ(b.files[0].name, "containctl-stackset.json");
  EXPECT_EQ(b.files[1].name, "containctl-management-account.json");
  EXPECT_EQ(b.files[1].doc, b.member_template);  // the management account gets the same roles
  const Doc& ss = b.files[0].doc["Resources"]["ContainmentRolesStackSet"];
  EXPECT_EQ(ss["Type"], "AWS::CloudFormation::StackSet");
  const Doc& p = ss["Properties"];
  EXPECT_EQ(p["PermissionModel"], "SERVICE_MANAGED");
  EXPECT_EQ(p["AutoDeployment"]["Enabled"], true);
  EXPECT_EQ(p["AutoDeployment"]["RetainStacksOnAccountRemoval"], false);
  EXPECT_EQ(p["Capabilities"], Doc({"CAPABILITY_NAMED_IAM"}));
  EXPECT_EQ(p["OperationPreferences"]["RegionConcurrencyType"], "PARALLEL");
  EXPECT_EQ(p["StackInstancesGroup"][0]["DeploymentTargets"]["OrganizationalUnitIds"],
            Doc({"ou-ab12-cdef3456", "ou-zz99-yyyy8888"}));
  EXPECT_EQ(p["StackInstancesGroup"][0]["Regions"], Doc({"eu-west-1"}));
  EXPECT_EQ(Doc::parse(p["TemplateBody"].get<std::string>()), b.member_template);

  Selection root = base(Variant::kContainctl, "service-managed", Format::kJson);
  root.ous.clear();
  root.org_root = "r-ab12";
  Bundle rb = must_generate(must_resolve(root));
  EXPECT_EQ(rb.files[0].doc["Resources"]["ContainmentRolesStackSet"]["Properties"]["StackInstancesGroup"][0]
                           ["DeploymentTargets"]["OrganizationalUnitIds"],
            Doc({"r-ab12"}));
}

TEST(Generate, SelfManagedHasAdministrationAndExecutionRoles) {
  Resolved r = must_resolve(base(Variant::kContainctl, "self-managed", Format::kJson));
  Bundle b = must_generate(r);
  ASSERT_EQ(b.files.size(), 3u);
  const Doc& p = b.files[0].doc["Resources"]["ContainmentRolesStackSet"]["Properties"];
  EXPECT_EQ(p["PermissionModel"], "SELF_MANAGED");
  EXPECT_EQ(p["ExecutionRoleName"], kStackSetExecutionRoleName);
  EXPECT_EQ(p["StackInstancesGroup"][0]["DeploymentTargets"]["Accounts"], Doc({"111111111111", "222222222222"}));
  EXPECT_EQ(b.files[1].doc["Resources"]["AdministrationRole"]["Properties"]["RoleName"],
            kStackSetAdministrationRoleName);
  const Doc& exec = b.files[2].doc["Resources"]["ExecutionRole"]["Properties"];
  EXPECT_EQ(exec["RoleName"], kStackSetExecutionRoleName);
  // The execution role may only manage the containment role, not every role in the account.
  EXPECT_EQ(exec["Policies"][0]["PolicyDocument"]["Statement"][1]["Resource"][0]["Fn::Sub"],
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ContainctlContainment");
}

TEST(Generate, MoreThanOneRegionIsAnErrorThatSaysWhy) {
  Selection s = base(Variant::kContainctl, "self-managed", Format::kYaml);
  s.regions = {"us-east-1,eu-west-1"};
  auto r = resolve(s, fake_catalog(), "us-east-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(r.error().message.find("IAM is global"), std::string::npos) << r.error().message;
  s.regions = {"us-east-1", "eu-west-1"};
  EXPECT_FALSE(resolve(s, fake_catalog(), "us-east-1").ok());
  s.regions = {"mars-north-1"};
  EXPECT_FALSE(resolve(s, fake_catalog(), "us-east-1").ok());
}

TEST(Generate, UnknownActionFamilyIsAnErrorListingTheKnownOnes) {
  Selection s = base(Variant::kContainctl, "stack", Format::kYaml);
  s.actions = "fake-deny,ec2-nuke";
  auto r = resolve(s, fake_catalog(), "us-east-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(r.error().message.find("ec2-nuke"), std::string::npos);
  EXPECT_NE(r.error().message.find("fake-isolate, fake-deny"), std::string::npos) << r.error().message;
}

TEST(Generate, BadCombinationsAreUsageErrorsAndBadValuesInvalidInput) {
  auto kind_of = [](Selection s) {
    auto r = resolve(s, fake_catalog(), "us-east-1");
    return r.ok() ? ErrorKind::kInternal : r.error().kind;
  };
  Selection s = base(Variant::kContainctl, "self-managed", Format::kYaml);
  s.ous = {"ou-ab12-cdef3456"};
  EXPECT_EQ(kind_of(s), ErrorKind::kUsage);  // accounts + OUs
  s = base(Variant::kContainctl, "service-managed", Format::kYaml);
  s.ous.clear();
  EXPECT_EQ(kind_of(s), ErrorKind::kUsage);  // service-managed without targets
  s = base(Variant::kContainctl, "stack", Format::kYaml);
  s.trusted_principals.clear();
  EXPECT_EQ(kind_of(s), ErrorKind::kUsage);  // containctl role trusted by nobody
  s = base(Variant::kAwsSir, "stack", Format::kYaml);
  s.actions = "fake-deny";
  EXPECT_EQ(kind_of(s), ErrorKind::kUsage);
  s = base(Variant::kContainctl, "self-managed", Format::kYaml);
  s.accounts = {"12345"};
  EXPECT_EQ(kind_of(s), ErrorKind::kInvalidInput);
  s = base(Variant::kContainctl, "stack", Format::kYaml);
  s.trusted_principals = {"bob"};
  EXPECT_EQ(kind_of(s), ErrorKind::kInvalidInput);
  s = base(Variant::kContainctl, "service-managed", Format::kYaml);
  s.ous = {"ou-BAD"};
  EXPECT_EQ(kind_of(s), ErrorKind::kInvalidInput);
}

TEST(Generate, ModelIsInferredFromTheTargets) {
  Selection s = base(Variant::kContainctl, "self-managed", Format::kYaml);
  s.model.clear();
  EXPECT_EQ(must_resolve(s).model, Model::kSelfManaged);
  s = base(Variant::kContainctl, "service-managed", Format::kYaml);
  s.model.clear();
  EXPECT_EQ(must_resolve(s).model, Model::kServiceManaged);
  s = base(Variant::kContainctl, "stack", Format::kYaml);
  s.model.clear();
  EXPECT_EQ(must_resolve(s).model, Model::kStack);
}

TEST(Policy, FamilyWithoutActionsOrWithMalformedOnesIsAnInternalError) {
  testing::FakeFamily empty("fake-empty", {});
  testing::FakeFamily bad("fake-bad", {"ec2 DescribeInstances"});
  EXPECT_EQ(family_statement(empty).error().kind, ErrorKind::kInternal);
  EXPECT_NE(family_statement(bad).error().message.find("fake-bad"), std::string::npos);
  EXPECT_EQ(sid_for_family("iam-rotate-keys"), "IamRotateKeys");
}

}  // namespace
}  // namespace containctl::stacksets
