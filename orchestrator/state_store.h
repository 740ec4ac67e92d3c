// The factory for the state backend the settings name ("state": {"backend": "sqlite"} by default,
// or "aws"). Commands open their journal through Runtime::open_journal(), which calls this.
#pragma once

#include <memory>
#include <string>

#include "aws/client.h"
#include "orchestrator/journal.h"
#include "orchestrator/settings.h"

namespace containctl::orch {

// `aws` configures the team store's client (credentials, endpoints, transport; aws backend only).
// Its calls are not reported to the audit log: the audit log may itself live in the store.
Result<std::unique_ptr<Journal>> open_journal(const StateSettings& state, const std::string& state_dir,
                                              aws::Clock& clock, const aws::ClientConfig* aws);

}  // namespace containctl::orch
