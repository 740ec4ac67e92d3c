// The file `state export` writes and `state import` reads: runs with their steps, before-states,
// used approvals and callers, moved between backends (and between responders, so read as input
// someone else wrote: every field is checked before anything is imported).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/result.h"
#include "orchestrator/journal.h"

namespace containctl::orch {

inline constexpr const char* kStateExportFormat = "containctl-state-export/1";

struct ExportedRun {
  RunRecord run;
  std::vector<StepRecord> steps;
  std::vector<UsedApproval> used;
  std::string caller, plan_caller;
};

// One element of the export's "runs".
nlohmann::json exported_run_json(const ExportedRun& r);
// The whole file's runs; an error names `file`, the run and the field, and nothing is returned.
Result<std::vector<ExportedRun>> parse_state_export(const std::string& text, const std::string& file);

}  // namespace containctl::orch
