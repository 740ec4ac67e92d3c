#include "orchestrator/state_store.h"

#include "orchestrator/journal_aws.h"
#include "orchestrator/journal_sqlite.h"

namespace containctl::orch {

aws::ClientConfig team_store_client_config(const aws::ClientConfig& session) {
  aws::ClientConfig config = session;
  config.observer = nullptr;
  config.limiter = nullptr;
  config.retry.max_attempts = 10;
  config.retry.base_delay = std::chrono::milliseconds(50);
  config.retry.transient_base_delay = std::chrono::milliseconds(50);
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
