// `containctl targets --finding FILE|-`: what a finding would contain, read-only. No AWS call, no
// credentials, no settings: the same function `plan --finding` and `respond` use.
#include <string>

#include "orchestrator/cli_common.h"
#include "orchestrator/findings.h"

namespace containctl::orch {

void add_targets_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  static std::string finding;
  auto* cmd = app.add_subcommand("targets", "list the targets a finding yields and what it skips (no AWS call)");
  cmd->add_option("--finding", finding, "GuardDuty, EventBridge or Security Hub ASFF finding file, or - for stdin")
      ->required();
  cmd->callback([&] {
    auto found = load_finding_file(finding);
    if (!found.ok()) {
      rc = report_error(g, found.error());
      return;
    }
    print_result(g, to_json(*found), to_text(*found));
    rc = kExitOk;
  });
}

}  // namespace containctl::orch
