#include "orchestrator/holdings.h"

#include <map>
#include <set>

#include "orchestrator/liveness.h"
#include "orchestrator/plan_file.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

bool holds(const StepRecord& s) {
  static const std::set<std::string> kHolding = {step_state::kApplying, step_state::kApplied, step_state::kVerified,
                                                 step_state::kFailed, step_state::kRollingBack,
                                                 step_state::kRollbackFailed};
  return kHolding.count(s.state) && !s.before.is_null();
}

// Cosmetic steps of each entry, from the run's plan (a plan that no longer parses counts none).
std::map<std::pair<int, std::string>, bool> cosmetic_steps(const RunRecord& run) {
  std::map<std::pair<int, std::string>, bool> out;
  auto entries = plan_entries(run.plan);
  if (!entries.ok()) return out;
  for (size_t i = 0; i < entries->size(); ++i)
    for (const auto& s : (*entries)[i].steps) out[{static_cast<int>(i), s.id}] = s.cosmetic;
  return out;
}

}  // namespace

Result<std::vector<RunSteps>> read_history(Journal& journal) {
  CC_ASSIGN(std::vector<RunRecord> runs, journal.runs());
  std::vector<RunSteps> out;
  out.reserve(runs.size());
  for (auto& r : runs) {
    if (r.status == "rolled_back" || r.status == "refused") continue;  // they hold and applied nothing
    CC_ASSIGN(std::vector<StepRecord> steps, journal.steps(r.run_id));
    out.push_back({std::move(r), std::move(steps)});
  }
  return out;
}

std::vector<Holding> current_holdings(Journal& journal, const std::vector<RunSteps>& history) {
  std::vector<Holding> out;
  for (const auto& [r, steps] : history) {
    std::map<int, Holding> by_entry;
    for (const auto& s : steps)
      if (holds(s)) by_entry.emplace(s.entry, Holding{r.run_id, s.target, s.family, false});
    if (by_entry.empty()) continue;
    auto run = journal.run(r.run_id);  // with its plan
    auto cosmetic = run.ok() ? cosmetic_steps(*run) : std::map<std::pair<int, std::string>, bool>{};
    for (auto& [entry, h] : by_entry) {
      bool all = true;
      for (const auto& s : steps)
        if (s.entry == entry && !cosmetic[{entry, s.step_id}] && s.state != step_state::kVerified) all = false;
      h.complete = all;
      out.push_back(h);
    }
  }
  return out;
}

Result<std::vector<Holding>> current_holdings(Journal& journal) {
  CC_ASSIGN(std::vector<RunSteps> history, read_history(journal));
  return current_holdings(journal, history);
}

std::optional<Holding> held_by(const std::vector<Holding>& holdings, const std::string& target,
                               const std::string& family, const std::string& except_run) {
  for (const auto& h : holdings)
    if (h.target == target && h.family == family && h.run_id != except_run) return h;
  return std::nullopt;
}

std::string held_note(const Holding& h) {
  if (h.complete) return "already contained by run " + h.run_id + " (containctl rollback " + h.run_id + " undoes it)";
  return "already partly contained by run " + h.run_id + ": finish it with containctl apply PLAN --resume " + h.run_id +
         ", or undo it with containctl rollback " + h.run_id;
}

Result<std::vector<OpenExposure>> open_exposures(Journal& journal, const std::string& run_id) {
  CC_ASSIGN(std::vector<RunRecord> runs, journal.runs());
  std::vector<OpenExposure> out;
  for (const auto& r : runs) {
    if (!run_id.empty() && r.run_id != run_id) continue;
    // A live run's window is open by design (for the dwell); only a dead process leaves one behind.
    if (run_id.empty() && effective_status(r) == r.status && (r.status == "running" || r.status == "rolling_back"))
      continue;
    CC_ASSIGN(std::vector<StepRecord> steps, journal.steps(r.run_id));
    for (const auto& s : steps)
      if (!s.exposure.is_null() && s.state != step_state::kRolledBack)
        out.push_back({r.run_id, s.target, s.step_id, s.exposure});
  }
  return out;
}

std::string describe_exposures(const std::vector<OpenExposure>& exposures) {
  if (exposures.empty()) return "";
  std::string text = "EXPOSED: a run ended while these were open:";
  std::set<std::string> runs;
  for (const auto& x : exposures) {
    text += "\n  " + x.target + "  " + x.step + " (run " + x.run_id + "): " + x.what.value("why", "open");
    for (const auto& i : x.what.value("interfaces", json::array()))
      text += "\n    " + i.value("interface", "") + " in " + i.value("all_traffic_group", "");
    runs.insert(x.run_id);
  }
  for (const auto& r : runs)
    text += "\n  close them: containctl apply PLAN --resume " + r + " (moves them to isolation), or containctl rollback " +
            r + " (back to the original groups)";
  return text;
}

}  // namespace containctl::orch
