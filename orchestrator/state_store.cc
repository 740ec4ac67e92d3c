#include "orchestrator/state_store.h"

#include "orchestrator/journal_sqlite.h"

namespace containctl::orch {

Result<std::unique_ptr<Journal>> open_journal(const StateSettings& state, const std::string& state_dir,
                                              aws::Clock& clock, const aws::ClientConfig* aws) {
  if (state.backend == "sqlite") {
    CC_ASSIGN(std::unique_ptr<SqliteJournal> j, SqliteJournal::open(state_dir, clock));
    return std::unique_ptr<Journal>(std::move(j));
  }
  return Error::invalid("settings: state backend '" + state.backend + "' is not available in this build", "InvalidSettings");
}

}  // namespace containctl::orch
