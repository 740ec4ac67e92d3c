// The factory for the state backend the settings name ("state": {"backend": "sqlite"} by default,
// or "aws"). Commands open their journal through Runtime::open_journal(), which calls this.
#pragma once

#include <memory>
#include <string>

#include "aws/client.h"
#include "orchestrator/journal.h"
#include "orchestrator/settings.h"

namespace containctl::orch {

// The team store's client, from the session's: its calls are not audit events (the audit log may
// live in the store), and it retries with botocore's budget for DynamoDB (10 attempts; throttles
// back off from 1 s, other errors from 50 ms) without the session's adaptive limiter. That limiter has one
// bucket per account, region and service, so one throttled partition key or a table at its
// on-demand limit for a moment slowed every journal write of the process for minutes
// (docs/benchmarks.md: 1,000 targets, 71 throttles, 1,302 s against a store bound of 1.5 s);
// DynamoDB's guidance for throttling is to retry with backoff, which is what this does.
aws::ClientConfig team_store_client_config(const aws::ClientConfig& session);

// `aws` configures the team store's client (credentials, endpoints, transport; aws backend only).
// Its calls are not reported to the audit log: the audit log may itself live in the store.
Result<std::unique_ptr<Journal>> open_journal(const StateSettings& state, const std::string& state_dir,
                                              aws::Clock& clock, const aws::ClientConfig* aws);

}  // namespace containctl::orch
