// stackset generate | policy | deploy: the containment roles as CloudFormation templates and
// StackSets. The work lives in stacksets/; this file maps flags to it.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "actions/registry.h"
#include "aws/credential_chain.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/session.h"
#include "stacksets/deploy.h"
#include "stacksets/roles.h"
#include "stacksets/template.h"

namespace containctl::orch {
namespace {

struct StacksetFlags {
  std::string variant = "containctl";
  std::string format = "yaml";
  std::string out;
  bool wait = false;
  int timeout_minutes = 30;
  stacksets::Selection sel;
};

void add_selection_flags(CLI::App* cmd, StacksetFlags& f) {
  cmd->add_option("--variant", f.variant, "containctl (default) or aws-sir")
      ->check(CLI::IsMember({"containctl", "aws-sir"}));
  cmd->add_option("--model", f.sel.model,
                  "service-managed, self-managed or stack (default: from the targets: --org-root/--ou -> "
                  "service-managed, --accounts -> self-managed, none -> stack)")
      ->check(CLI::IsMember({"service-managed", "self-managed", "stack"}));
  cmd->add_option("--format", f.format, "yaml (default) or json")->check(CLI::IsMember({"yaml", "json"}));
  cmd->add_option("--org-root", f.sel.org_root, "organization root id (r-xxxx): every account of the organization");
  cmd->add_option("--ou", f.sel.ous, "organizational unit id(s) (service-managed)");
  cmd->add_option("--accounts", f.sel.accounts, "target account ids, comma-separated (self-managed)");
  cmd->add_option("--regions", f.sel.regions, "the one region of the stack instances (IAM is global)");
  cmd->add_option("--trusted-principal", f.sel.trusted_principals,
                  "IAM principal ARN allowed to assume the containctl role (repeatable)");
  cmd->add_option("--actions", f.sel.actions, "action families whose permissions the role gets (default: all)");
  cmd->add_option("--member-role-name", f.sel.member_role_name, "name of the containctl member role")
      ->default_str(stacksets::kDefaultMemberRoleName);
  cmd->add_option("--stack-set-name", f.sel.stack_set_name,
                  "StackSet name (default ContainctlContainmentRoles / SecurityIRContainmentRoles)");
}

Result<stacksets::Resolved> resolve_flags(const GlobalOptions& g, const StacksetFlags& f,
                                          const std::string& default_region) {
  stacksets::Selection sel = f.sel;
  CC_ASSIGN(sel.variant, stacksets::parse_variant(f.variant));
  CC_ASSIGN(sel.format, stacksets::parse_format(f.format));
  return stacksets::resolve(sel, actions::all_families(), default_region);
}

std::string offline_region(const GlobalOptions& g) {
  const char* profile = std::getenv("AWS_PROFILE");
  return aws::resolve_region(g.region, !g.profile.empty() ? g.profile : profile ? profile : "");
}

int run_generate(const GlobalOptions& g, const StacksetFlags& f) {
  auto resolved = resolve_flags(g, f, offline_region(g));
  if (!resolved.ok()) return report_error(g, resolved.error());
  auto bundle = stacksets::generate(*resolved);
  if (!bundle.ok()) return report_error(g, bundle.error());
  if (f.out.empty() && g.json()) {  // --output json: one JSON document holding the templates
    stacksets::Doc doc = stacksets::Doc::object();
    doc["templates"] = stacksets::Doc::array();
    for (const auto& file : bundle->files) {
      stacksets::Doc item = stacksets::Doc::object();
      item["name"] = file.name;
      item["purpose"] = file.purpose;
      item["template"] = file.doc;  // key order kept, as the YAML and JSON files have it
      doc["templates"].push_back(std::move(item));
    }
    std::cout << doc.dump(2) << std::endl;
    return kExitOk;
  }
  if (f.out.empty()) {
    std::cout << stacksets::render(*bundle, resolved->format);
    std::cout.flush();
    return kExitOk;
  }
  if (Status s = stacksets::write_bundle(*bundle, resolved->format, f.out); !s.ok()) return report_error(g, s.error());
  nlohmann::json doc = {{"written", nlohmann::json::array()}};
  std::string text;
  for (const auto& file : bundle->files) {
    std::string path = bundle->files.size() == 1 ? f.out : f.out + "/" + file.name;
    doc["written"].push_back({{"path", path}, {"purpose", file.purpose}});
    text += "wrote " + path + ": " + file.purpose + "\n";
  }
  print_result(g, doc, text);
  return kExitOk;
}

int run_policy(const GlobalOptions& g, const std::string& actions_list) {
  auto families = stacksets::select_families(actions::all_families(), actions_list);
  if (!families.ok()) return report_error(g, families.error());
  stacksets::Doc all = stacksets::Doc::object();
  std::string text;
  for (const auto* f : *families) {
    auto policy = stacksets::permission_policy({f});
    if (!policy.ok()) return report_error(g, policy.error());
    all[f->name()] = *policy;
    text += "# " + f->name() + " (" + std::to_string((*policy)["Statement"][0]["Action"].size()) + " actions)\n" +
            policy->dump(2) + "\n";
  }
  print_result(g, nlohmann::json::parse(all.dump()), text);
  return kExitOk;
}

int run_deploy(const GlobalOptions& g, const StacksetFlags& f) {
  // Validate the flags before touching credentials, so bad input fails fast and changes nothing.
  auto pre = resolve_flags(g, f, offline_region(g));
  if (!pre.ok()) return report_error(g, pre.error());
  auto session = Session::open(g);
  if (!session.ok()) return report_error(g, session.error());
  auto resolved = resolve_flags(g, f, (*session)->region());
  if (!resolved.ok()) return report_error(g, resolved.error());
  auto me = (*session)->caller();
  if (!me.ok()) return report_error(g, me.error());
  auto member = stacksets::member_role_template(*resolved);
  if (!member.ok()) return report_error(g, member.error());
  auto partition = aws::partition_for_region((*session)->region());
  if (!partition.ok()) return report_error(g, partition.error());

  stacksets::DeployRequest req;
  req.selection = *resolved;
  req.template_body = stacksets::emit(*member, resolved->format);
  req.caller_account = me->account;
  req.partition = partition->name;
  req.region = (*session)->region();
  req.wait = f.wait;
  req.timeout = std::chrono::minutes(f.timeout_minutes);
  auto report = stacksets::deploy((*session)->client(), aws::SystemClock::instance(), req);
  if (!report.ok()) return report_error(g, report.error());
  print_result(g, report->to_json(), report->to_text());
  if (!report->failures.empty()) {
    std::string all;
    for (const auto& fl : report->failures) all += (all.empty() ? "" : "; ") + fl;
    std::cerr << "containctl: stackset deploy failed: " << all << std::endl;
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void add_stackset_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  CLI::App* stackset = app.add_subcommand("stackset", "generate and deploy the containment roles (CloudFormation)");
  stackset->require_subcommand(1);

  auto gen_flags = std::make_shared<StacksetFlags>();
  CLI::App* gen = stackset->add_subcommand("generate", "print (or write) the role templates for a deployment model");
  add_selection_flags(gen, *gen_flags);
  gen->add_option("-o,--out", gen_flags->out,
                  "output file (one template) or directory (models with several templates); default stdout");
  gen->callback([&g, &rc, gen_flags] { rc = run_generate(g, *gen_flags); });

  auto policy_actions = std::make_shared<std::string>();
  CLI::App* policy = stackset->add_subcommand("policy", "print each action family's permission policy for review");
  policy->add_option("--actions", *policy_actions, "action families (default: all)");
  policy->callback([&g, &rc, policy_actions] { rc = run_policy(g, *policy_actions); });

  auto dep_flags = std::make_shared<StacksetFlags>();
  CLI::App* dep = stackset->add_subcommand("deploy", "create or update the StackSet, its instances and stacks");
  add_selection_flags(dep, *dep_flags);
  dep->add_flag("--wait", dep_flags->wait, "wait for the operations to finish and report per-account results");
  dep->add_option("--timeout-minutes", dep_flags->timeout_minutes, "give up waiting after this long (default 30)")
      ->check(CLI::PositiveNumber);
  dep->callback([&g, &rc, dep_flags] { rc = run_deploy(g, *dep_flags); });
}

}  // namespace containctl::orch
