// `containctl deploy generate`: prints the auto-containment CloudFormation template
// (stacksets/deploy_template.h). Offline: no credentials, no AWS call.
#include <iostream>
#include <memory>
#include <optional>

#include "actions/registry.h"
#include "orchestrator/cli_common.h"
#include "stacksets/deploy_template.h"
#include "stacksets/roles.h"

namespace containctl::orch {
namespace {

struct DeployFlags {
  std::string format = "yaml";
  std::string sources;
  double min_severity = 0;
  std::string code_bucket;
  std::string code_key;
  std::string actions;
  std::string member_role_name = stacksets::kDefaultMemberRoleName;
};

int run_generate(const GlobalOptions& g, const DeployFlags& f, const CLI::App& cmd) {
  stacksets::DeployOptions o;
  auto format = stacksets::parse_format(f.format);
  if (!format.ok()) return report_error(g, format.error());
  o.format = *format;
  o.sources = f.sources;
  if (cmd.count("--min-severity")) o.min_severity = f.min_severity;
  o.code_bucket = f.code_bucket;
  o.code_key = f.code_key;
  o.actions = f.actions;
  o.member_role_name = f.member_role_name;
  auto t = stacksets::auto_containment_template(o, actions::all_families());
  if (!t.ok()) return report_error(g, t.error());
  if (g.json()) {  // --output json: one JSON document holding the template
    stacksets::Doc doc = stacksets::Doc::object();
    doc["template"] = *t;  // key order kept
    std::cout << doc.dump(2) << std::endl;
    return kExitOk;
  }
  std::cout << stacksets::emit(*t, o.format);
  std::cout.flush();
  return kExitOk;
}

}  // namespace

void add_deploy_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  CLI::App* deploy = app.add_subcommand("deploy", "auto-containment in AWS: EventBridge rules and the Lambda function");
  deploy->require_subcommand(1);
  auto f = std::make_shared<DeployFlags>();
  CLI::App* gen = deploy->add_subcommand(
      "generate", "print the CloudFormation template: rules, function, role, team store, dead-letter queue, alarms");
  gen->add_option("--format", f->format, "yaml (default) or json")->check(CLI::IsMember({"yaml", "json"}));
  gen->add_option("--sources", f->sources, "finding sources, comma-separated: guardduty, securityhub (default: both)");
  gen->add_option("--min-severity", f->min_severity,
                  "only findings at least this severe, GuardDuty's 0-10 scale (Security Hub: Normalized >= 10 x N)");
  gen->add_option("--code-bucket", f->code_bucket, "S3 bucket of containctl-lambda.zip (the CodeBucket default)");
  gen->add_option("--code-key", f->code_key, "S3 key of containctl-lambda.zip (the CodeKey default)");
  gen->add_option("--actions", f->actions, "action families the function's role may run (default: all)");
  gen->add_option("--member-role-name", f->member_role_name, "the member-account role the function assumes")
      ->default_str(stacksets::kDefaultMemberRoleName);
  gen->callback([&g, &rc, f, gen] { rc = run_generate(g, *f, *gen); });
}

}  // namespace containctl::orch
