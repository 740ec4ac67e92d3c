#include "orchestrator/state_export.h"

#include <limits>

namespace containctl::orch {
namespace {

using nlohmann::json;

// Reads the fields of one object of the file, naming where a bad one sits.
struct Fields {
  const json& obj;
  std::string where;  // "<file>: run <id>: step 3"

  Error bad(const std::string& key, const std::string& why) const {
    return Error::invalid(where + ": " + key + " " + why, "InvalidExport");
  }
  Result<std::string> str(const std::string& key, bool required = false) const {
    auto it = obj.find(key);
    if (it == obj.end() || (!required && it->is_null())) {
      if (required) return bad(key, "is missing");
      return std::string();
    }
    if (!it->is_string()) return bad(key, "is not a string");
    return it->get<std::string>();
  }
  // An integer in [0, max]. A JSON number written as 1e300 or 2.5 is refused, not converted:
  // a double beyond the integer's range is undefined behaviour to cast.
  Result<long long> count(const std::string& key, long long max, bool required = false) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) return bad(key, "is missing");
      return 0LL;
    }
    if (it->is_number_unsigned()) {
      if (it->get<unsigned long long>() > static_cast<unsigned long long>(max))
        return bad(key, "is out of range (at most " + std::to_string(max) + ")");
      return static_cast<long long>(it->get<unsigned long long>());
    }
    if (it->is_number_integer()) return bad(key, "is negative");
    return bad(key, "is not a whole number");
  }
  json any(const std::string& key) const {
    auto it = obj.find(key);
    return it == obj.end() ? json() : *it;
  }
};

json step_json(const StepRecord& s) {
  return {{"entry", s.entry}, {"step_id", s.step_id}, {"target", s.target}, {"family", s.family}, {"state", s.state},
          {"before", s.before}, {"applied", s.applied}, {"error", s.error}, {"updated_at", s.updated_at},
          {"applied_at", s.applied_at}, {"apply_seq", s.apply_seq}, {"exposure", s.exposure}};
}

Result<StepRecord> step_from(const json& s, const std::string& where, const std::string& run_id) {
  if (!s.is_object()) return Error::invalid(where + " is not an object", "InvalidExport");
  Fields f{s, where};
  StepRecord r;
  r.run_id = run_id;
  CC_ASSIGN(long long entry, f.count("entry", std::numeric_limits<int>::max(), true));
  r.entry = static_cast<int>(entry);
  CC_ASSIGN(r.step_id, f.str("step_id", true));
  CC_ASSIGN(r.target, f.str("target", true));
  CC_ASSIGN(r.family, f.str("family", true));
  CC_ASSIGN(r.state, f.str("state", true));
  CC_ASSIGN(r.error, f.str("error"));
  CC_ASSIGN(r.updated_at, f.str("updated_at"));
  CC_ASSIGN(r.applied_at, f.str("applied_at"));
  CC_ASSIGN(r.apply_seq, f.count("apply_seq", std::numeric_limits<long long>::max()));
  r.before = f.any("before");
  r.applied = f.any("applied");
  r.exposure = f.any("exposure");
  return r;
}

Result<std::vector<UsedApproval>> used_from(const Fields& run, const std::string& run_id) {
  std::vector<UsedApproval> out;
  json list = run.any("approvals_used");
  if (list.is_null()) return out;  // exports from before they were carried
  if (!list.is_array()) return run.bad("approvals_used", "is not a list");
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) return run.bad("approvals_used", "holds something that is not an object");
    Fields u{list[i], run.where + ": approvals_used " + std::to_string(i + 1)};
    UsedApproval x;
    x.run_id = run_id;
    CC_ASSIGN(x.approval_id, u.str("approval_id", true));
    if (x.approval_id.empty()) return u.bad("approval_id", "is empty");
    CC_ASSIGN(x.approver, u.str("approver"));
    CC_ASSIGN(x.plan_hash, u.str("plan_hash"));
    CC_ASSIGN(x.used_at, u.str("used_at"));
    out.push_back(std::move(x));
  }
  return out;
}

Result<ExportedRun> run_from(const json& r, const std::string& file) {
  if (!r.is_object() || !r.contains("run_id") || !r.at("run_id").is_string() || !r.contains("steps") ||
      !r.at("steps").is_array())
    return Error::invalid(file + ": a run without run_id or steps", "InvalidExport");
  ExportedRun out;
  RunRecord& rec = out.run;
  rec.run_id = r.at("run_id").get<std::string>();
  if (rec.run_id.rfind("run-", 0) != 0 || rec.run_id.find_first_of("#/ \t\n") != std::string::npos)
    return Error::invalid(file + ": '" + rec.run_id + "' is not a run id", "InvalidExport");
  Fields f{r, file + ": run " + rec.run_id};
  CC_ASSIGN(rec.plan_hash, f.str("plan_hash"));
  CC_ASSIGN(rec.status, f.str("status"));
  CC_ASSIGN(rec.started_at, f.str("started_at"));
  CC_ASSIGN(rec.finished_at, f.str("finished_at"));
  CC_ASSIGN(rec.requester, f.str("requester"));
  CC_ASSIGN(rec.mode, f.str("mode"));
  CC_ASSIGN(rec.case_id, f.str("case_id"));
  rec.plan = f.any("plan");
  rec.recovery = f.any("recovery");
  if (!rec.recovery.is_null() && !rec.recovery.is_object()) return f.bad("recovery", "is not an object");
  const json& steps = r.at("steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    CC_ASSIGN(StepRecord s, step_from(steps[i], f.where + ": step " + std::to_string(i + 1), rec.run_id));
    out.steps.push_back(std::move(s));
  }
  CC_ASSIGN(out.used, used_from(f, rec.run_id));
  CC_ASSIGN(out.caller, f.str("caller"));
  CC_ASSIGN(out.plan_caller, f.str("plan_caller"));
  return out;
}

}  // namespace

json exported_run_json(const ExportedRun& e) {
  const RunRecord& run = e.run;
  json r = {{"run_id", run.run_id}, {"plan_hash", run.plan_hash}, {"status", run.status},
            {"started_at", run.started_at}, {"finished_at", run.finished_at}, {"requester", run.requester},
            {"mode", run.mode}, {"plan", run.plan}, {"steps", json::array()}};
  if (!run.case_id.empty()) r["case_id"] = run.case_id;
  // What status and rollback fall back to when the settings are broken, wherever it is imported.
  if (!run.recovery.is_null()) r["recovery"] = run.recovery;
  for (const auto& s : e.steps) r["steps"].push_back(step_json(s));
  // What keeps the run's approvals single use and names who ran it, wherever it is imported.
  r["approvals_used"] = json::array();
  for (const auto& u : e.used)
    r["approvals_used"].push_back(
        {{"approval_id", u.approval_id}, {"approver", u.approver}, {"plan_hash", u.plan_hash}, {"used_at", u.used_at}});
  r["caller"] = e.caller;
  r["plan_caller"] = e.plan_caller;
  return r;
}

Result<std::vector<ExportedRun>> parse_state_export(const std::string& text, const std::string& file) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("format") || doc.at("format") != kStateExportFormat ||
      !doc.contains("runs") || !doc.at("runs").is_array())
    return Error::invalid(file + ": not a containctl state export (" + kStateExportFormat + ")", "InvalidExport");
  std::vector<ExportedRun> runs;
  for (const auto& r : doc.at("runs")) {
    CC_ASSIGN(ExportedRun run, run_from(r, file));
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace containctl::orch
