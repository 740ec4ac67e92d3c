#include "orchestrator/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <set>
#include <vector>

#include "aws/sigv4.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/version.h"

namespace containctl::orch {

int exit_code_for(const Error& e) {
  if (e.kind == ErrorKind::kRefused) return kExitRefused;
  if (e.kind == ErrorKind::kUsage) return kExitUsage;
  return kExitError;
}

bool color_on(const GlobalOptions& g, int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  return !g.json() && ::isatty(fd) && !(no_color && *no_color);
}

std::string paint(const std::string& text, const char* sgr, bool on) {
  return on ? std::string("\033[") + sgr + "m" + text + "\033[0m" : text;
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
  std::cerr << "containctl: " << paint(e.describe(), kRed, color_on(g, STDERR_FILENO)) << std::endl;
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

namespace {

// Edits between two words, a swap of neighbours counting one (`stauts` is one from `status`, two
// from `state`): the optimal string alignment distance.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string closest(const std::string& word, const std::set<std::string>& known) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& k : known)
    if (size_t d = edit_distance(word, k); d < best_d) best_d = d, best = k;
  return best;
}

// After a parse error: "did you mean" for a word that is no command or option here but is close
// to one (`stauts`, `--taget`).
void suggest_spelling(CLI::App& app, int argc, char** argv) {
  std::set<std::string> options;
  std::function<void(CLI::App*)> collect = [&](CLI::App* a) {
    for (const CLI::Option* o : a->get_options({}))
      for (const auto& n : o->get_lnames()) options.insert("--" + n);
  };
  CLI::App* at = &app;
  collect(at);
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word.rfind("--", 0) == 0) {
      word = word.substr(0, word.find('='));
      if (options.count(word)) continue;
      if (std::string s = closest(word, options); !s.empty()) {
        std::cerr << "containctl: unknown option '" << word << "': did you mean '" << s << "'?" << std::endl;
        return;
      }
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    // The value of the option before it, most likely.
    if (const std::string prev = argv[i - 1]; prev.rfind("-", 0) == 0 && prev.find('=') == std::string::npos) continue;
    std::set<std::string> commands;
    for (const CLI::App* sub : at->get_subcommands({})) commands.insert(sub->get_name());
    if (commands.empty()) continue;
    if (commands.count(word)) {
      at = at->get_subcommand(word);
      collect(at);
      continue;
    }
    if (std::string s = closest(word, commands); !s.empty()) {
      std::cerr << "containctl: unknown command '" << word << "': did you mean '" << s << "'?" << std::endl;
      return;
    }
  }
}

}  // namespace


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
  app.add_option("--connect-timeout,--cli-connect-timeout", g.connect_timeout,
                 "seconds to wait for a connection to AWS (default 5; 0: no limit of containctl's)")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--read-timeout,--cli-read-timeout", g.read_timeout,
                 "seconds to wait for AWS's answer to one request (default 60; 0: no limit)")
      ->check(CLI::Range(0.0, 3600.0));
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
  // Global options are accepted after the subcommand too (`status --output json`).
  std::function<void(CLI::App*)> fall = [&](CLI::App* a) {
    for (CLI::App* sub : a->get_subcommands({})) {
      sub->fallthrough();
      fall(sub);
    }
  };
  fall(&app);
  app.parse_complete_callback([&] {
    // Colour on a terminal only, and never with NO_COLOR set (https://no-color.org).
    const char* no_color = std::getenv("NO_COLOR");
    auto logger = spdlog::stderr_color_mt(
        "containctl", no_color && *no_color ? spdlog::color_mode::never : spdlog::color_mode::automatic);
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(g.log_level));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    if (code != 0) suggest_spelling(app, argc, argv);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return rc;
}

}  // namespace containctl::orch
