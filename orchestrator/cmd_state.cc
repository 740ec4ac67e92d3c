// state init, state export, state import: set up the team store and move runs between backends.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "orchestrator/cli_common.h"
#include "orchestrator/journal_sqlite.h"
#include "orchestrator/runtime.h"
#include "orchestrator/state_init.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

constexpr const char* kExportFormat = "containctl-state-export/1";

struct StateArgs {
  bool object_lock = false;
  std::string kms_key;
  std::string file;
  std::string from;  // export: "" (the settings' backend) or "sqlite" (the state directory's journal)
  std::vector<std::string> runs;
};

int run_init(GlobalOptions& g, const StateArgs& a) {
  auto rt = Runtime::open(g, true, RuntimeOptions{.team_store_being_made = true});
  if (!rt.ok()) return report_error(g, rt.error());
  StateSettings st = (*rt)->settings().state;
  if (st.region.empty()) st.region = (*rt)->session().region();
  auto made = init_team_store((*rt)->session().client(), st, a.object_lock, a.kms_key);
  if (!made.ok()) return report_error(g, made.error());
  json steps = json::array();
  std::ostringstream text;
  text << "Team store in " << st.region << ":\n";
  for (const auto& s : *made) {
    steps.push_back({{"what", s.what}, {"result", s.result}});
    text << "  " << s.what << ": " << s.result << "\n";
  }
  (*rt)->start_team_audit();
  (*rt)->audit("state_init", {{"table", st.table}, {"bucket", st.bucket}, {"region", st.region},
                              {"object_lock", a.object_lock}});
  print_result(g, {{"table", st.table}, {"bucket", st.bucket}, {"region", st.region}, {"steps", steps}}, text.str());
  return kExitOk;
}

json step_json(const StepRecord& s) {
  return {{"entry", s.entry}, {"step_id", s.step_id}, {"target", s.target}, {"family", s.family}, {"state", s.state},
          {"before", s.before}, {"applied", s.applied}, {"error", s.error}, {"updated_at", s.updated_at},
          {"applied_at", s.applied_at}, {"apply_seq", s.apply_seq}, {"exposure", s.exposure}};
}

json used_json(const UsedApproval& u) {
  return {{"approval_id", u.approval_id}, {"approver", u.approver}, {"plan_hash", u.plan_hash}, {"used_at", u.used_at}};
}

// Writes `text` to a new file, 0600, never through a symlink.
Status write_private(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Error::io(path + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      ::close(fd);
      return Error::io(path + ": write failed: " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Error::io(path + ": fsync failed");
  return Ok{};
}

int run_export(GlobalOptions& g, const StateArgs& a) {
  auto rt_r = Runtime::open(g, false);
  if (!rt_r.ok()) return report_error(g, rt_r.error());
  Runtime& rt = **rt_r;
  Result<std::unique_ptr<Journal>> j = a.from == "sqlite" ? Journal::open(rt.state_dir(), rt.clock()) : rt.open_journal();
  if (!j.ok()) return report_error(g, j.error());
  auto runs = (*j)->runs();
  if (!runs.ok()) return report_error(g, runs.error());
  std::set<std::string> wanted(a.runs.begin(), a.runs.end());
  json doc = {{"format", kExportFormat}, {"backend", (*j)->backend()}, {"source", (*j)->location()}, {"runs", json::array()}};
  for (const auto& summary : *runs) {
    if (!wanted.empty() && !wanted.count(summary.run_id)) continue;
    auto run = (*j)->run(summary.run_id);
    if (!run.ok()) return report_error(g, run.error());
    auto steps = (*j)->steps(summary.run_id);
    if (!steps.ok()) return report_error(g, steps.error());
    json r = {{"run_id", run->run_id}, {"plan_hash", run->plan_hash}, {"status", run->status},
              {"started_at", run->started_at}, {"finished_at", run->finished_at}, {"requester", run->requester},
              {"mode", run->mode}, {"plan", run->plan}, {"steps", json::array()}};
    if (!run->case_id.empty()) r["case_id"] = run->case_id;
    // What status and rollback fall back to when the settings are broken, wherever it is imported.
    if (!run->recovery.is_null()) r["recovery"] = run->recovery;
    for (const auto& s : *steps) r["steps"].push_back(step_json(s));
    // What keeps the run's approvals single use and names who ran it, wherever it is imported.
    auto used = (*j)->approvals_used_by(run->run_id);
    if (!used.ok()) return report_error(g, used.error());
    r["approvals_used"] = json::array();
    for (const auto& u : *used) r["approvals_used"].push_back(used_json(u));
    auto caller = (*j)->run_caller(run->run_id);
    if (!caller.ok()) return report_error(g, caller.error());
    r["caller"] = caller->first;
    r["plan_caller"] = caller->second;
    doc["runs"].push_back(r);
  }
  for (const auto& id : wanted) {
    bool found = false;
    for (const auto& r : doc["runs"]) found = found || r.value("run_id", "") == id;
    if (!found) return report_error(g, Error::invalid("no run '" + id + "' in " + (*j)->location(), "UnknownRun"));
  }
  // Before-states can hold what a rollback needs to restore: the file is private.
  if (auto st = write_private(a.file, doc.dump(1) + "\n"); !st.ok()) return report_error(g, st.error());
  rt.audit("state_exported", {{"file", a.file}, {"runs", doc["runs"].size()}, {"backend", (*j)->backend()}});
  print_result(g, {{"file", a.file}, {"runs", doc["runs"].size()}, {"backend", (*j)->backend()}},
               "Exported " + std::to_string(doc["runs"].size()) + " run(s) from " + (*j)->location() + " to " + a.file);
  return kExitOk;
}

Result<StepRecord> step_from(const json& s, const std::string& run_id) {
  StepRecord r;
  r.run_id = run_id;
  try {
    r.entry = s.at("entry").get<int>();
    r.step_id = s.at("step_id").get<std::string>();
    r.target = s.at("target").get<std::string>();
    r.family = s.at("family").get<std::string>();
    r.state = s.at("state").get<std::string>();
    r.before = s.value("before", json());
    r.applied = s.value("applied", json());
    r.error = s.value("error", "");
    r.updated_at = s.value("updated_at", "");
    r.applied_at = s.value("applied_at", "");
    r.apply_seq = s.value("apply_seq", 0LL);
    r.exposure = s.value("exposure", json());
  } catch (const json::exception& e) {
    return Error::invalid("run " + run_id + ": a step is malformed: " + e.what());
  }
  return r;
}

struct ImportedRun {
  RunRecord run;
  std::vector<StepRecord> steps;
  std::vector<UsedApproval> used;
  std::string caller, plan_caller;
};

Result<std::vector<UsedApproval>> used_from(const json& r, const std::string& run_id) {
  std::vector<UsedApproval> out;
  if (!r.contains("approvals_used")) return out;  // exports from before they were carried
  if (!r.at("approvals_used").is_array()) return Error::invalid("run " + run_id + ": approvals_used is not a list");
  try {
    for (const auto& u : r.at("approvals_used")) {
      UsedApproval x{u.at("approval_id").get<std::string>(), run_id, u.value("approver", ""), u.value("plan_hash", ""),
                     u.value("used_at", "")};
      if (x.approval_id.empty()) return Error::invalid("run " + run_id + ": a used approval without approval_id");
      out.push_back(std::move(x));
    }
  } catch (const json::exception& e) {
    return Error::invalid("run " + run_id + ": a used approval is malformed: " + e.what());
  }
  return out;
}

// Records the run's used approvals unless already recorded for it; one recorded for another run
// is an error (the store says the approval authorized something else).
Status import_used(Journal& j, const std::string& run_id, const std::vector<UsedApproval>& used) {
  Status st = j.record_approvals_used(used);  // one already recorded for this run stands
  if (st.ok()) return st;
  Error e = st.error();
  e.message = j.location() + ": " + e.message + "; nothing of " + run_id + " was imported";
  return e;
}

int run_import(GlobalOptions& g, const StateArgs& a) {
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return report_error(g, Error::io(a.file + ": cannot read"));
  std::stringstream buf;
  buf << in.rdbuf();
  json doc = json::parse(buf.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("format", "") != kExportFormat || !doc["runs"].is_array())
    return report_error(g, Error::invalid(a.file + ": not a containctl state export (" + kExportFormat + ")"));
  // Everything is checked before anything is written.
  std::vector<ImportedRun> runs;
  for (const auto& r : doc["runs"]) {
    if (!r.is_object() || !r.contains("run_id") || !r.at("run_id").is_string() || !r.contains("steps") ||
        !r.at("steps").is_array())
      return report_error(g, Error::invalid(a.file + ": a run without run_id or steps"));
    RunRecord rec{.run_id = r.at("run_id").get<std::string>(),
                  .plan_hash = r.value("plan_hash", ""),
                  .status = r.value("status", ""),
                  .started_at = r.value("started_at", ""),
                  .finished_at = r.value("finished_at", ""),
                  .requester = r.value("requester", ""),
                  .mode = r.value("mode", ""),
                  .plan = r.value("plan", json()),
                  .case_id = r.value("case_id", ""),
                  .recovery = r.value("recovery", json())};
    if (!rec.recovery.is_null() && !rec.recovery.is_object())
      return report_error(g, Error::invalid(a.file + ": run " + rec.run_id + ": recovery is not an object"));
    if (rec.run_id.rfind("run-", 0) != 0 || rec.run_id.find_first_of("#/ \t\n") != std::string::npos)
      return report_error(g, Error::invalid(a.file + ": '" + rec.run_id + "' is not a run id"));
    std::vector<StepRecord> steps;
    for (const auto& s : r.at("steps")) {
      auto st = step_from(s, rec.run_id);
      if (!st.ok()) return report_error(g, st.error());
      steps.push_back(*st);
    }
    auto used = used_from(r, rec.run_id);
    if (!used.ok()) return report_error(g, used.error());
    if ((r.contains("caller") && !r["caller"].is_string()) || (r.contains("plan_caller") && !r["plan_caller"].is_string()))
      return report_error(g, Error::invalid(a.file + ": run " + rec.run_id + ": caller is not a string"));
    runs.push_back({rec, steps, *used, r.value("caller", ""), r.value("plan_caller", "")});
  }
  auto rt_r = Runtime::open(g, false);
  if (!rt_r.ok()) return report_error(g, rt_r.error());
  Runtime& rt = **rt_r;
  auto j = rt.open_journal();
  if (!j.ok()) return report_error(g, j.error());
  int imported = 0, present = 0;
  std::ostringstream text;
  for (const auto& [rec, steps, used, caller, plan_caller] : runs) {
    // Approvals first, for runs already present too: an approval is never usable again because
    // its run moved (and a failure part-way leaves approvals used, not runs without them).
    if (auto st = import_used(**j, rec.run_id, used); !st.ok()) return report_error(g, st.error());
    if ((*j)->run(rec.run_id).ok()) {
      present++;
      text << "  " << rec.run_id << ": already in " << (*j)->backend() << ", kept as it is\n";
      continue;
    }
    if (auto st = (*j)->import_run(rec, steps); !st.ok()) return report_error(g, st.error());
    if (!rec.case_id.empty()) {
      if (auto st = (*j)->set_run_case(rec.run_id, rec.case_id); !st.ok()) return report_error(g, st.error());
    }
    if (!caller.empty() || !plan_caller.empty()) {
      if (auto st = (*j)->record_run_caller(rec.run_id, caller, plan_caller); !st.ok()) return report_error(g, st.error());
    }
    imported++;
    text << "  " << rec.run_id << ": imported (" << steps.size() << " steps, " << rec.status << ")\n";
  }
  rt.audit("state_imported", {{"file", a.file}, {"imported", imported}, {"already_present", present},
                              {"backend", (*j)->backend()}});
  print_result(g, {{"file", a.file}, {"imported", imported}, {"already_present", present}, {"backend", (*j)->backend()}},
               "Import into " + (*j)->location() + ": " + std::to_string(imported) + " run(s) imported, " +
                   std::to_string(present) + " already present\n" + text.str());
  return kExitOk;
}

}  // namespace

void add_state_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  static StateArgs a;
  CLI::App* state = app.add_subcommand("state", "the state backend: set up the team store, move runs between backends");
  state->require_subcommand(1);
  CLI::App* init = state->add_subcommand("init", "create the team store's DynamoDB table and S3 bucket (idempotent)");
  init->add_flag("--object-lock", a.object_lock, "enable S3 Object Lock on the bucket (cannot be undone)");
  init->add_option("--kms-key", a.kms_key, "encrypt the bucket with this KMS key instead of SSE-S3");
  init->callback([&] { rc = run_init(g, a); });
  CLI::App* exp = state->add_subcommand("export", "write runs (with their steps and before-states) to a file (0600)");
  exp->add_option("file", a.file, "output file")->required();
  exp->add_option("--run", a.runs, "only this run (repeatable)");
  exp->add_option("--from", a.from, "sqlite: read the state directory's journal whatever the settings say")
      ->check(CLI::IsMember({"sqlite"}));
  exp->callback([&] { rc = run_export(g, a); });
  CLI::App* imp = state->add_subcommand("import", "add the runs of an export file to the backend in the settings");
  imp->add_option("file", a.file, "file written by state export")->required();
  imp->callback([&] { rc = run_import(g, a); });
}

}  // namespace containctl::orch
