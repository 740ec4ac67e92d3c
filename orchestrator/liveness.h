// Whether the process that owns a run is still alive: `status` shows a run whose process is gone
// as `interrupted`, never `running`.
#pragma once

#include <string>

#include "orchestrator/journal.h"

namespace containctl::orch {

RunOwner this_process();

enum class Liveness { kAlive, kGone, kUnknown };  // kUnknown: another host, or no owner recorded
Liveness owner_liveness(const RunOwner& owner);

// The run's status as a reader should see it: `running` / `rolling_back` of a process that is gone
// is `interrupted`.
std::string effective_status(const RunRecord& run);

}  // namespace containctl::orch
