#include "orchestrator/state_store.h"

#include "orchestrator/journal_aws.h"
#include "orchestrator/journal_sqlite.h"

namespace containctl::orch {

aws::ClientConfig team_store_client_config(const aws::ClientConfig& session) {
  aws::ClientConfig config = session;
  config.observer = nullptr;
  config.limiter = nullptr;
  config.retry.max_attempts = 10;
  // Throttles back off from the policy's 1 s (up to 20 s each): a table held at its limit for tens
  // of seconds must not exhaust a write's attempts (that fails the step).
  return config;
}

Result<std::unique_ptr<Journal>> open_journal(const StateSettings& state, const std::string& state_dir,
                                              aws::Clock& clock, const aws::ClientConfig* aws) {
  if (state.backend == "sqlite") {
    CC_ASSIGN(std::unique_ptr<SqliteJournal> j, SqliteJournal::open(state_dir, clock));
    return std::unique_ptr<Journal>(std::move(j));
  }
  if (state.backend != "aws" || !aws)
    return Error::invalid("settings: state backend '" + state.backend + "' needs AWS credentials", "InvalidSettings");
  aws::ClientConfig config = team_store_client_config(*aws);
  auto client = std::make_shared<aws::AwsClient>(config);
  return std::unique_ptr<Journal>(std::make_unique<AwsJournal>(client, state.region, state.table, state.bucket, clock));
}

}  // namespace containctl::orch
