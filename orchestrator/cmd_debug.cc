#include "orchestrator/cli_common.h"

namespace containctl::orch {

void add_debug_commands(CLI::App& app, GlobalOptions& g, int& rc) {}

}  // namespace containctl::orch
