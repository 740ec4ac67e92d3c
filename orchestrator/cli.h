// The command-line surface (see ../shared/CLI-CONTRACT.md). Returns the process exit code.
#pragma once

namespace containctl::orch {

int run_cli(int argc, char** argv);

}  // namespace containctl::orch
