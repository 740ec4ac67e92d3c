#include "orchestrator/version.h"

#include "containctl_build_info.h"

namespace containctl::orch {

const char* version() { return CONTAINCTL_VERSION; }
const char* git_commit() { return CONTAINCTL_GIT_COMMIT; }
std::string version_text() { return std::string("containctl ") + version() + " (commit " + git_commit() + ")"; }

}  // namespace containctl::orch
