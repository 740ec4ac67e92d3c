// The version of this build and the git commit it was built from (captured at build time by
// cmake/build_info.cmake; "unknown" for a tree without git metadata).
#pragma once

#include <string>

namespace containctl::orch {

const char* version();     // "0.1.0"
const char* git_commit();  // "1a2b3c4d5e6f", "1a2b3c4d5e6f-dirty" or "unknown"
// "containctl 0.1.0 (commit 1a2b3c4d5e6f)": what --version prints.
std::string version_text();

}  // namespace containctl::orch
