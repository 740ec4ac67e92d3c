#include "orchestrator/cli.h"

#include <CLI/CLI.hpp>

#include <iostream>

namespace containctl::orch {

int run_cli(int argc, char** argv) {
  CLI::App app{"containctl: plan, approve, apply and roll back reversible containment of AWS resources"};
  app.set_version_flag("--version", "containctl 0.1.0");
  app.require_subcommand(1);
  app.add_subcommand("status", "show runs and their steps");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return 0;
}

}  // namespace containctl::orch
