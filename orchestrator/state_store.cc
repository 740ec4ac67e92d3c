#include "orchestrator/state_store.h"

#include "orchestrator/journal_aws.h"
#include "orchestrator/journal_sqlite.h"

namespace containctl::orch {

Result<std::unique_ptr<Journal>> open_journal(const StateSettings& state, const std::string& state_dir,
                                              aws::Clock& clock, const aws::ClientConfig* aws) {
  if (state.backend == "sqlite") {
    CC_ASSIGN(std::unique_ptr<SqliteJournal> j, SqliteJournal::open(state_dir, clock));
    return std::unique_ptr<Journal>(std::move(j));
  }
  if (state.backend != "aws" || !aws)
    return Error::invalid("settings: state backend '" + state.backend + "' needs AWS credentials", "InvalidSettings");
  aws::ClientConfig config = *aws;
  config.observer = nullptr;  // the store's own calls are not audit events (the audit log may live there)
  auto client = std::make_shared<aws::AwsClient>(config);
  return std::unique_ptr<Journal>(std::make_unique<AwsJournal>(client, state.region, state.table, state.bucket, clock));
}

}  // namespace containctl::orch
