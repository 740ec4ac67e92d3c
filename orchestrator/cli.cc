#include "orchestrator/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "aws/sigv4.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/version.h"

namespace containctl::orch {

int exit_code_for(const Error& e) {
  if (e.kind == ErrorKind::kRefused) return kExitRefused;
  if (e.kind == ErrorKind::kUsage) return kExitUsage;
  return kExitError;
}

int report_error(const GlobalOptions& g, const Error& raw) {
  // Last line of defence: whatever built the error, no signed-request material leaves here.
  Error e = raw;
  e.message = aws::redact_service_text(e.message);
  if (g.json()) {
    nlohmann::json doc = {{"error", {{"code", e.code}, {"message", e.message}, {"kind", to_string(e.kind)}}}};
    if (e.http_status) doc["error"]["http_status"] = e.http_status;
    if (!e.request_id.empty()) doc["error"]["request_id"] = e.request_id;
    std::cout << doc.dump(2) << std::endl;
  }
  std::cerr << "containctl: " << e.describe() << std::endl;
  return exit_code_for(e);
}

void print_result(const GlobalOptions& g, const nlohmann::json& doc, const std::string& text) {
  if (g.json()) {
    std::cout << doc.dump(2) << std::endl;
  } else {
    std::cout << text;
    if (!text.empty() && text.back() != '\n') std::cout << '\n';
    std::cout.flush();
  }
}

int run_cli(int argc, char** argv) {
  CLI::App app{"containctl: plan, approve, apply and roll back reversible containment of AWS resources"};
  app.set_version_flag("--version", version_text(), "print the version and the git commit, and exit");
  app.require_subcommand(1);
  GlobalOptions g;
  app.add_option("--region", g.region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1)");
  app.add_option("--profile", g.profile, "shared config/credentials profile (also AWS_PROFILE)");
  app.add_option("--endpoint-url", g.endpoint_url, "send every service to this URL (also AWS_ENDPOINT_URL)");
  app.add_option("--state-dir", g.state_dir, "journal, runs and audit log directory");
  app.add_option("--settings", g.settings, "containment settings: a file, s3://BUCKET/KEY or ssm:PARAMETER_NAME");
  app.add_option("--output", g.output, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  int rc = kExitOk;
  add_plan_commands(app, g, rc);
  add_apply_commands(app, g, rc);
  add_approval_commands(app, g, rc);
  add_audit_commands(app, g, rc);
  add_stackset_commands(app, g, rc);
  add_debug_commands(app, g, rc);
  add_state_commands(app, g, rc);
  add_targets_commands(app, g, rc);
  add_lambda_commands(app, g, rc);
  add_deploy_commands(app, g, rc);
  add_docs_commands(app, g, rc);  // hidden debug man/completion: walk the tree when run
  add_case_commands(app, g, rc);
  app.parse_complete_callback([&] {
    auto logger = spdlog::stderr_color_mt("containctl");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(g.log_level));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return rc;
}

}  // namespace containctl::orch
