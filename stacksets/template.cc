#include "stacksets/template.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "aws/endpoints.h"
#include "stacksets/roles.h"

namespace containctl::stacksets {
namespace {

Error usage(std::string message) { return Error{ErrorKind::kUsage, "Usage", std::move(message)}; }

// Splits comma-separated entries, trims, sorts and deduplicates (sorted so that the output does not
// depend on flag order).
std::vector<std::string> split_all(const std::vector<std::string>& entries) {
  std::set<std::string> out;
  for (const auto& e : entries) {
    std::stringstream ss(e);
    std::string item;
    while (std::getline(ss, item, ',')) {
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) out.insert(item);
    }
  }
  return {out.begin(), out.end()};
}

Doc operation_preferences() {
  Doc p;
  p["RegionConcurrencyType"] = "PARALLEL";
  p["MaxConcurrentPercentage"] = 100;
  p["FailureTolerancePercentage"] = 10;
  return p;
}

Doc stackset_template(const Resolved& r, const Doc& member, const std::string& description) {
  Doc props;
  props["StackSetName"] = r.stack_set_name;
  props["Description"] = description;
  Doc targets;
  if (r.model == Model::kServiceManaged) {
    props["PermissionModel"] = "SERVICE_MANAGED";
    props["AutoDeployment"] = Doc{{"Enabled", true}, {"RetainStacksOnAccountRemoval", false}};
    targets["OrganizationalUnitIds"] = r.ous;
  } else {
    props["PermissionModel"] = "SELF_MANAGED";
    props["AdministrationRoleARN"] =
        Doc{{"Fn::Sub", std::string("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/") +
                            kStackSetAdministrationRoleName}};
    props["ExecutionRoleName"] = kStackSetExecutionRoleName;
    targets["Accounts"] = r.accounts;
  }
  props["Capabilities"] = Doc::array({"CAPABILITY_NAMED_IAM"});
  props["OperationPreferences"] = operation_preferences();
  props["StackInstancesGroup"] =
      Doc::array({Doc{{"DeploymentTargets", std::move(targets)}, {"Regions", Doc::array({r.region})}}});
  props["TemplateBody"] = emit(member, r.format);

  Doc t;
  t["AWSTemplateFormatVersion"] = "2010-09-09";
  t["Description"] = description;
  t["Resources"]["ContainmentRolesStackSet"] =
      Doc{{"Type", "AWS::CloudFormation::StackSet"}, {"Properties", std::move(props)}};
  t["Outputs"]["StackSetId"] = Doc{{"Description", "StackSet id"},
                                   {"Value", Doc{{"Fn::GetAtt", Doc::array({"ContainmentRolesStackSet", "StackSetId"})}}}};
  return t;
}

}  // namespace

Result<Variant> parse_variant(const std::string& text) {
  if (text == "containctl") return Variant::kContainctl;
  if (text == "aws-sir") return Variant::kAwsSir;
  return Error::invalid("unknown --variant '" + text + "' (containctl or aws-sir)");
}

Result<Model> parse_model(const std::string& text) {
  if (text == "service-managed") return Model::kServiceManaged;
  if (text == "self-managed") return Model::kSelfManaged;
  if (text == "stack") return Model::kStack;
  return Error::invalid("unknown --model '" + text + "' (service-managed, self-managed or stack)");
}

const char* to_string(Variant v) { return v == Variant::kAwsSir ? "aws-sir" : "containctl"; }
const char* to_string(Model m) {
  switch (m) {
    case Model::kServiceManaged: return "service-managed";
    case Model::kSelfManaged: return "self-managed";
    default: return "stack";
  }
}

Result<Resolved> resolve(const Selection& s, const std::vector<actions::ActionFamily*>& catalog,
                         const std::string& default_region) {
  Resolved r;
  r.variant = s.variant;
  r.format = s.format;
  r.accounts = split_all(s.accounts);
  r.ous = split_all(s.ous);
  bool has_org_root = !s.org_root.empty();
  if (has_org_root && !r.ous.empty()) return usage("--org-root and --ou are exclusive: give the root or the OUs");
  if (has_org_root) r.ous = {s.org_root};
  if (!r.ous.empty() && !r.accounts.empty())
    return usage("--accounts (self-managed) cannot be combined with --org-root/--ou (service-managed)");

  if (s.model.empty()) {
    r.model = !r.accounts.empty() ? Model::kSelfManaged : !r.ous.empty() ? Model::kServiceManaged : Model::kStack;
  } else {
    CC_ASSIGN(r.model, parse_model(s.model));
  }
  switch (r.model) {
    case Model::kServiceManaged:
      if (r.ous.empty()) return usage("--model service-managed needs --org-root ID or --ou ID");
      if (!r.accounts.empty()) return usage("--model service-managed targets OUs; use --org-root/--ou, not --accounts");
      break;
    case Model::kSelfManaged:
      if (r.accounts.empty()) return usage("--model self-managed needs --accounts ID,...");
      if (!r.ous.empty()) return usage("--model self-managed targets accounts; use --accounts, not --org-root/--ou");
      break;
    case Model::kStack:
      if (!r.ous.empty() || !r.accounts.empty())
        return usage("--model stack deploys into the current account only; drop --org-root/--ou/--accounts");
      break;
  }

  static const std::regex account_re("^[0-9]{12}$");
  static const std::regex ou_re("^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$");
  for (const auto& a : r.accounts)
    if (!std::regex_match(a, account_re)) return Error::invalid("--accounts: '" + a + "' is not a 12-digit account id");
  for (const auto& o : r.ous)
    if (!std::regex_match(o, ou_re))
      return Error::invalid("'" + o + "' is not an organization root (r-xxxx) or OU id (ou-xxxx-xxxxxxxx)");

  std::vector<std::string> regions = split_all(s.regions);
  if (regions.empty() && !default_region.empty()) regions = {default_region};
  if (regions.empty()) regions = {"us-east-1"};
  if (regions.size() > 1)
    return Error::invalid(
        "--regions lists " + std::to_string(regions.size()) +
            " regions, but IAM is global: the roles have fixed names, so a stack instance in a second region would "
            "try to create the same roles again and fail. Give one region (e.g. --regions " + regions.front() + ")",
        "TooManyRegions");
  r.region = regions.front();
  CC_TRY(aws::partition_for_region(r.region));

  static const std::regex role_name_re("^[A-Za-z0-9+=,.@_-]{1,64}$");
  r.member_role_name = s.member_role_name.empty() ? kDefaultMemberRoleName : s.member_role_name;
  if (!std::regex_match(r.member_role_name, role_name_re))
    return Error::invalid("--member-role-name '" + r.member_role_name + "' is not a valid IAM role name");

  r.trusted_principals = split_all(s.trusted_principals);
  if (r.variant == Variant::kContainctl) {
    if (r.trusted_principals.empty())
      return usage("--variant containctl needs --trusted-principal ARN (who may assume the containment role)");
    static const std::regex principal_re(
        "^arn:aws(-cn|-us-gov)?:(iam::[0-9]{12}:(root|role/.+|user/.+)|sts::[0-9]{12}:assumed-role/.+)$");
    for (const auto& p : r.trusted_principals)
      if (!std::regex_match(p, principal_re))
        return Error::invalid("--trusted-principal '" + p +
                              "' is not an IAM principal ARN (arn:aws:iam::ACCOUNT:root|role/NAME|user/NAME)");
    CC_ASSIGN(r.families, select_families(catalog, s.actions));
    r.file_prefix = "containctl";
  } else {
    if (!s.actions.empty()) return usage("--actions selects containctl action families; it does not apply to --variant aws-sir");
    if (!r.trusted_principals.empty())
      return usage("--variant aws-sir is trusted by " + std::string(kSirServicePrincipal) +
                   "; --trusted-principal does not apply");
    r.file_prefix = "aws-sir";
  }

  static const std::regex stack_name_re("^[A-Za-z][-A-Za-z0-9]{0,127}$");
  r.stack_set_name = !s.stack_set_name.empty() ? s.stack_set_name
                     : r.variant == Variant::kAwsSir ? "SecurityIRContainmentRoles"
                                                     : "ContainctlContainmentRoles";
  if (!std::regex_match(r.stack_set_name, stack_name_re))
    return Error::invalid("stack set name '" + r.stack_set_name + "' must match [A-Za-z][-A-Za-z0-9]*");
  r.management_stack_name = r.stack_set_name + (r.model == Model::kStack ? "" : "-ManagementAccount");
  return r;
}

Result<Doc> member_role_template(const Resolved& r) {
  if (r.variant == Variant::kAwsSir) return aws_sir_roles_template();
  return containctl_role_template(r.member_role_name, r.trusted_principals, r.families);
}

Result<Bundle> generate(const Resolved& r) {
  Bundle b;
  CC_ASSIGN(b.member_template, member_role_template(r));
  const std::string ext = std::string(".") + extension(r.format);
  const std::string& p = r.file_prefix;
  switch (r.model) {
    case Model::kStack:
      b.files.push_back({p + "-roles" + ext, "deploy as a stack in the account to protect", b.member_template});
      break;
    case Model::kServiceManaged:
      b.files.push_back({p + "-stackset" + ext,
                         "deploy as a stack in the organization management account (or a delegated administrator)",
                         stackset_template(r, b.member_template,
                                           "Containment roles in every account of the targeted OUs (service-managed "
                                           "StackSet, auto-deployed to new accounts)")});
      // StackSets never deploy to the management account, which must be protected too.
      b.files.push_back({p + "-management-account" + ext,
                         "deploy as a stack named " + r.management_stack_name +
                             " in the management account, which service-managed StackSets skip",
                         b.member_template});
      break;
    case Model::kSelfManaged:
      b.files.push_back({p + "-stackset" + ext, "deploy as a stack in the StackSet administrator account",
                         stackset_template(r, b.member_template,
                                           "Containment roles in the listed accounts (self-managed StackSet)")});
      b.files.push_back({p + "-stackset-administration-role" + ext,
                         "deploy once in the administrator account, before the StackSet",
                         stackset_administration_role_template()});
      b.files.push_back({p + "-stackset-execution-role" + ext,
                         "deploy in every target account before the StackSet (parameter AdministratorAccountId)",
                         stackset_execution_role_template(role_names_for_variant(to_string(r.variant),
                                                                                 r.member_role_name))});
      break;
  }
  return b;
}

std::string render(const Bundle& b, Format f) {
  if (b.files.size() == 1) return emit(b.files.front().doc, f);
  if (f == Format::kJson) {
    Doc all;
    for (const auto& file : b.files) all[file.name] = file.doc;
    return to_json(all);
  }
  std::string out;
  for (const auto& file : b.files) {
    out += "# " + file.name + ": " + file.purpose + "\n---\n";
    out += to_yaml(file.doc);
  }
  return out;
}

Status write_bundle(const Bundle& b, Format f, const std::string& path) {
  namespace fs = std::filesystem;
  auto write_file = [](const fs::path& p, const std::string& text) -> Status {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out) return Error::io("cannot write " + p.string());
    out << text;
    out.close();
    if (!out) return Error::io("cannot write " + p.string());
    return Ok{};
  };
  std::error_code ec;
  bool is_dir = fs::is_directory(path, ec);
  if (b.files.size() == 1 && !is_dir) return write_file(path, emit(b.files.front().doc, f));
  if (!is_dir && fs::exists(path, ec))
    return Error::invalid("-o " + path + " is a file, but this model produces " + std::to_string(b.files.size()) +
                          " templates; give a directory");
  fs::create_directories(path, ec);
  if (ec) return Error::io("cannot create directory " + path + ": " + ec.message());
  for (const auto& file : b.files) CC_TRY(write_file(fs::path(path) / file.name, emit(file.doc, f)));
  return Ok{};
}

}  // namespace containctl::stacksets
