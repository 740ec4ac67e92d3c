// What the journal says is contained now, across runs: one containment per resource, and the
// all-traffic windows (or other exposures) a dead process left open.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/journal.h"

namespace containctl::orch {

// A run holds (target, family) while one of its steps for it was, or may have been, applied and
// has not been rolled back. A second run on it would journal the contained state as its
// "before", and rolling the runs back in the wrong order would bring containment back.
struct Holding {
  std::string run_id;
  std::string target;
  std::string family;
  bool complete = false;  // every non-cosmetic step of the entry verified
};
// Every run that may hold or have applied something (not rolled back, not refused), with its
// steps: read once, since a plan consults both what runs hold and what they applied.
struct RunSteps {
  RunRecord run;
  std::vector<StepRecord> steps;
};
Result<std::vector<RunSteps>> read_history(Journal& journal);
std::vector<Holding> current_holdings(Journal& journal, const std::vector<RunSteps>& history);
Result<std::vector<Holding>> current_holdings(Journal& journal);
// The run (other than `except_run`) that holds (target, family), if any.
std::optional<Holding> held_by(const std::vector<Holding>& holdings, const std::string& target,
                               const std::string& family, const std::string& except_run = "");
// "already contained by run X" / "already partly contained by run X (finish: ...)".
std::string held_note(const Holding& h);

// What a step opened for a moment and never closed: recorded by a run that is not running any
// more (or by `run_id` when given, whatever its state).
struct OpenExposure {
  std::string run_id;
  std::string target;
  std::string step;
  nlohmann::json what;
};
Result<std::vector<OpenExposure>> open_exposures(Journal& journal, const std::string& run_id = "");
// One paragraph naming the exposed resources and the commands that close them.
std::string describe_exposures(const std::vector<OpenExposure>& exposures);

}  // namespace containctl::orch
