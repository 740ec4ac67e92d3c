// What every command shares: the global options, the exit codes, and how a command reports an
// error. Each command family registers itself from its own cmd_*.cc file.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aws/error.h"

namespace containctl::orch {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,    // bad input, AWS error, I/O
  kExitUsage = 2,
  kExitRefused = 3,  // settings or approvals refused; nothing mutated
  kExitPartial = 4,  // some steps failed; rollback works
  kExitAudit = 5,    // audit verify found the log altered
};

struct GlobalOptions {
  std::string region;        // --region (resolved later through the chain when empty)
  std::string profile;       // --profile
  std::string endpoint_url;  // --endpoint-url
  std::string state_dir;     // --state-dir (resolved by resolve_state_dir)
  std::string settings;      // --settings
  std::string output = "text";
  std::string log_level = "warn";
  // --connect-timeout / --read-timeout SECONDS (the AWS CLI's --cli-connect-timeout and
  // --cli-read-timeout, also accepted): -1 keeps the defaults (5 s, 60 s); 0 means no limit.
  double connect_timeout = -1;
  double read_timeout = -1;
  bool json() const { return output == "json"; }
};

// Exit code for an error: refused -> 3, usage -> 2, everything else -> 1.
int exit_code_for(const Error& e);
// Prints "containctl: <describe>" on stderr (text) or {"error": {...}} on stdout (json).
int report_error(const GlobalOptions& g, const Error& e);
// ANSI colour for people: only when `fd` is a terminal, NO_COLOR is unset and the output is text.
bool color_on(const GlobalOptions& g, int fd);
inline constexpr const char* kRed = "31";
inline constexpr const char* kGreen = "32";
inline constexpr const char* kYellow = "33";
// `text` in the SGR colour `sgr` when `on`, else `text` unchanged.
std::string paint(const std::string& text, const char* sgr, bool on);
// Prints one JSON document (json output) or `text` (text output).
void print_result(const GlobalOptions& g, const nlohmann::json& doc, const std::string& text);

// Command families; each lives in its own cmd_*.cc and sets `rc` from its callback.
void add_plan_commands(CLI::App& app, GlobalOptions& g, int& rc);      // plan, respond
void add_apply_commands(CLI::App& app, GlobalOptions& g, int& rc);     // apply, rollback, status
void add_approval_commands(CLI::App& app, GlobalOptions& g, int& rc);  // approve, keys generate
void add_audit_commands(CLI::App& app, GlobalOptions& g, int& rc);     // audit verify, audit show
void add_stackset_commands(CLI::App& app, GlobalOptions& g, int& rc);  // stackset generate, deploy, policy
void add_debug_commands(CLI::App& app, GlobalOptions& g, int& rc);     // debug sign
void add_state_commands(CLI::App& app, GlobalOptions& g, int& rc);     // state init, export, import
void add_targets_commands(CLI::App& app, GlobalOptions& g, int& rc);   // targets (read-only)
void add_deploy_commands(CLI::App& app, GlobalOptions& g, int& rc);    // deploy generate
void add_docs_commands(CLI::App& app, GlobalOptions& g, int& rc);      // debug man, debug completion (hidden)
void add_lambda_commands(CLI::App& app, GlobalOptions& g, int& rc);    // lambda (the Runtime API loop)
void add_case_commands(CLI::App& app, GlobalOptions& g, int& rc);      // case open, show, update

}  // namespace containctl::orch
