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
#include "orchestrator/state_export.h"
#include "orchestrator/state_init.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

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
  json doc = {{"format", kStateExportFormat}, {"backend", (*j)->backend()}, {"source", (*j)->location()}, {"runs", json::array()}};
  for (const auto& summary : *runs) {
    if (!wanted.empty() && !wanted.count(summary.run_id)) continue;
    auto run = (*j)->run(summary.run_id);
    if (!run.ok()) return report_error(g, run.error());
    auto steps = (*j)->steps(summary.run_id);
    if (!steps.ok()) return report_error(g, steps.error());
    ExportedRun e{.run = *run, .steps = *steps};
    auto used = (*j)->approvals_used_by(run->run_id);
    if (!used.ok()) return report_error(g, used.error());
    e.used = *used;
    auto caller = (*j)->run_caller(run->run_id);
    if (!caller.ok()) return report_error(g, caller.error());
    e.caller = caller->first;
    e.plan_caller = caller->second;
    json r = exported_run_json(e);
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
  // Everything is checked before anything is written.
  auto parsed = parse_state_export(buf.str(), a.file);
  if (!parsed.ok()) return report_error(g, parsed.error());
  const std::vector<ExportedRun>& runs = *parsed;
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
