// audit verify, audit show.
#include <filesystem>
#include <algorithm>
#include <optional>
#include <regex>
#include <memory>
#include <set>
#include <sstream>

#include "aws/clock.h"
#include "orchestrator/audit_log.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/journal.h"
#include "orchestrator/runtime.h"
#include "orchestrator/session.h"
#include "orchestrator/settings_source.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

struct AuditArgs {
  std::string log;
  std::string run_id;
  std::string expect_head;
  std::string run_flag;             // audit show --run (the same as the positional RUN_ID)
  std::vector<std::string> events;  // audit show --event (repeatable, or comma-separated)
  std::string since;                // audit show --since: a time (2026-12-01T03:00:00Z) or an age (30m, 2h, 1d)
};

// --since: an ISO-8601 time, or an age back from now (90s, 30m, 2h, 1d).
Result<aws::TimePoint> since_time(const std::string& text) {
  aws::TimePoint t;
  if (aws::parse_time(text, t)) return t;
  static const std::regex kAge("^([0-9]{1,7})([smhd])$");
  std::smatch m;
  if (!std::regex_match(text, m, kAge))
    return Error{ErrorKind::kUsage, "Usage",
                 "--since " + text + ": give a time (2026-12-01T03:00:00Z) or an age (90s, 30m, 2h, 1d)"};
  const long long n = std::stoll(m[1].str());
  const long long unit = m[2] == "s" ? 1 : m[2] == "m" ? 60 : m[2] == "h" ? 3600 : 86400;
  // An age past 1970 means every record (no record is older); capped, so the clock's nanoseconds
  // cannot overflow (9999999d is 8.6e20 ns: it wrapped into the future and hid every record).
  const auto now = aws::SystemClock::instance().now();
  const long long to_epoch = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return now - std::chrono::seconds(std::min(n * unit, to_epoch));
}

// The records `audit show` keeps: of the events asked for, at or after `since`.
Result<std::vector<json>> filtered(std::vector<json> records, const AuditArgs& a) {
  std::set<std::string> events;
  for (const auto& e : a.events) {
    std::stringstream in(e);
    for (std::string one; std::getline(in, one, ',');)
      if (!one.empty()) events.insert(one);
  }
  std::optional<aws::TimePoint> since;
  if (!a.since.empty()) {
    CC_ASSIGN(aws::TimePoint t, since_time(a.since));
    since = t;
  }
  std::vector<json> out;
  for (auto& r : records) {
    if (!events.empty() && !events.count(r.value("event", ""))) continue;
    if (since) {
      aws::TimePoint at;
      if (!r.contains("time") || !r["time"].is_string() || !aws::parse_time(r["time"].get<std::string>(), at) ||
          at < *since)
        continue;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string log_path(const GlobalOptions& g, const AuditArgs& a) {
  return a.log.empty() ? resolve_state_dir(g) + "/audit.jsonl" : a.log;
}

// The team store's log when the settings name the aws backend and no --log was given.
Result<std::unique_ptr<Runtime>> team_runtime(const GlobalOptions& g, const AuditArgs& a) {
  if (!a.log.empty()) return std::unique_ptr<Runtime>();
  std::unique_ptr<Session> session;
  auto settings = load_settings_for(g, session);
  if (!settings.ok()) {
    // Reading the trail never needs the settings, unless they name the team store.
    if (settings.error().kind == ErrorKind::kUsage) return settings.error();
    CC_TRY(recover_without_settings(resolve_settings_path(g), settings.error(),
                                    "the local audit log " + log_path(g, a)));
    return std::unique_ptr<Runtime>();
  }
  if (settings->state.backend != "aws") return std::unique_ptr<Runtime>();
  return Runtime::open(g, true);
}

int run_team_verify(const GlobalOptions& g, Runtime& rt) {
  auto r = rt.team_audit()->verify();
  if (!r.ok()) return report_error(g, r.error());
  std::string where = rt.team_audit()->location();
  json doc = {{"log", where}, {"ok", r->ok}, {"records", r->records}};
  if (!r->ok) {
    doc["problem"] = r->problem;
    if (r->bad_seq) doc["seq"] = r->bad_seq;
    if (g.json()) std::cout << doc.dump(2) << std::endl;
    std::cerr << "containctl: audit log " << where << " was altered: " << r->problem << std::endl;
    return kExitAudit;
  }
  doc["last_hash"] = r->last_hash;
  doc["anchored"] = r->anchored;
  print_result(g, doc, "audit log " + where + ": " + std::to_string(r->records) +
                           " records, hash chain intact, head and checkpoints match\n  last hash " + r->last_hash + "\n");
  return kExitOk;
}

// Every run the journal (next to the log) knows must have started in the log: a run whose
// records were cut out is named even when what remains chains.
void cross_check_journal(const std::string& path, AuditVerifyResult& r) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::exists(dir + "/journal.db", ec)) return;
  auto journal = Journal::open(dir, aws::SystemClock::instance());
  if (!journal.ok()) {
    r.notes.push_back("journal not cross-checked: " + journal.error().message);
    return;
  }
  auto runs = (*journal)->runs();
  auto recs = read_audit_log(path);
  if (!runs.ok() || !recs.ok()) return;
  std::set<std::string> started;
  for (const auto& rec : *recs)
    if (rec.value("event", "") == "run_started" && rec.contains("run_id") && rec["run_id"].is_string())
      started.insert(rec["run_id"].get<std::string>());
  for (const auto& run : *runs) {
    if (started.count(run.run_id)) continue;
    r.ok = false;
    r.problem = "run " + run.run_id + " (started " + run.started_at + ") is in the journal but the audit log has no "
                "run_started record for it: its records were removed";
    return;
  }
  r.notes.push_back(std::to_string(runs->size()) + " journal run(s) cross-checked against the log");
}

int run_verify(const GlobalOptions& g, const AuditArgs& a) {
  if (!a.expect_head.empty() && (a.expect_head.size() != 64 ||
                                 a.expect_head.find_first_not_of("0123456789abcdef") != std::string::npos))
    return report_error(g, Error{ErrorKind::kUsage, "Usage", "--expect-head must be a record hash: 64 lower-case hex digits"});
  auto team = team_runtime(g, a);
  if (!team.ok()) return report_error(g, team.error());
  if (*team) {
    if (!a.expect_head.empty())
      return report_error(g, Error{ErrorKind::kUsage, "Usage",
                                   "--expect-head checks a local audit log: pass --log <state-dir>/audit.jsonl (the "
                                   "team store's log is checked against its own head and checkpoints)"});
    return run_team_verify(g, **team);
  }
  std::string path = log_path(g, a);
  auto r = verify_audit_log(path, a.expect_head);
  if (!r.ok()) return report_error(g, r.error());
  if (r->ok) cross_check_journal(path, *r);
  json doc = {{"log", path}, {"ok", r->ok}, {"records", r->records}};
  if (!r->ok) {
    doc["problem"] = r->problem;
    if (r->bad_line) doc["line"] = r->bad_line;
    if (r->bad_seq) doc["seq"] = r->bad_seq;
    doc["notes"] = r->notes;
    if (g.json()) std::cout << doc.dump(2) << std::endl;
    std::cerr << "containctl: audit log " << path << " was altered: " << r->problem << std::endl;
    return kExitAudit;
  }
  doc["last_hash"] = r->last_hash;
  doc["anchored"] = r->anchored;
  doc["notes"] = r->notes;
  if (!a.expect_head.empty()) doc["expected_head_seq"] = r->expected_head_seq;
  std::ostringstream text;
  if (r->records == 0) {
    text << "audit log " << path << ": empty, nothing to verify\n";
  } else {
    text << "audit log " << path << ": " << r->records << (r->records == 1 ? " record" : " records")
         << ", hash chain intact, last record matches " << audit_head_path(path) << "\n"
         << "  anchor signed by the state directory's audit key\n"
         << "  last hash " << r->last_hash << " (keep a copy elsewhere and check it later with --expect-head)\n";
  }
  if (!a.expect_head.empty())
    text << "  expected head found: record seq " << r->expected_head_seq << "\n";
  for (const auto& n : r->notes) text << "  note: " << n << "\n";
  print_result(g, doc, text.str());
  return kExitOk;
}

// One readable line per record: "#SEQ TIME EVENT [run RUN] key=value ...".
std::string render(const json& rec) {
  std::ostringstream out;
  out << "#" << rec.value("seq", json(0)).dump() << " " << rec.value("time", "") << " " << rec.value("event", "");
  if (rec.contains("run_id") && rec["run_id"].is_string()) out << " run=" << rec["run_id"].get<std::string>();
  for (const auto& [k, v] : rec.items()) {
    if (k == "seq" || k == "time" || k == "event" || k == "run_id" || k == "prev_hash" || k == "hash") continue;
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    if (v.is_string() && (value.empty() || value.find_first_of(" \t\"=") != std::string::npos)) value = v.dump();
    if (value.size() > 160) value = value.substr(0, 157) + "...";
    out << " " << k << "=" << value;
  }
  return out.str();
}

int run_show(const GlobalOptions& g, AuditArgs a) {
  if (!a.run_flag.empty()) {
    if (!a.run_id.empty() && a.run_id != a.run_flag)
      return report_error(g, Error{ErrorKind::kUsage, "Usage", "audit show: RUN_ID " + a.run_id + " and --run " +
                                                                   a.run_flag + " name different runs"});
    a.run_id = a.run_flag;
  }
  auto team = team_runtime(g, a);
  if (!team.ok()) return report_error(g, team.error());
  std::string path = *team ? (*team)->team_audit()->location() : log_path(g, a);
  auto recs = *team ? (*team)->team_audit()->records(a.run_id) : read_audit_log(path, a.run_id);
  if (!recs.ok()) return report_error(g, recs.error());
  if (!a.run_id.empty() && recs->empty())
    return report_error(g, Error::invalid("no audit records for run " + a.run_id + " in " + path, "NotFound"));
  const bool filtering = !a.events.empty() || !a.since.empty();
  auto kept = filtered(std::move(recs).value(), a);
  if (!kept.ok()) return report_error(g, kept.error());
  const std::vector<json>& shown = *kept;
  std::ostringstream text;
  if (shown.empty()) text << "audit log " << path << (filtering ? ": no record matches" : " is empty") << "\n";
  for (const auto& r : shown) text << render(r) << "\n";
  print_result(g, {{"log", path}, {"records", shown}}, text.str());
  return kExitOk;
}

int run_repair(const GlobalOptions& g, const AuditArgs& a) {
  std::string path = log_path(g, a);
  auto r = repair_audit_log(path, aws::SystemClock::instance(), "containctl audit repair");
  if (!r.ok()) return report_error(g, r.error());
  json doc = {{"log", path}, {"repaired", r->repaired}};
  std::string text = "audit log " + path + ": nothing to repair (the last record is complete)";
  if (r->repaired) {
    doc["quarantine"] = r->quarantine;
    doc["bytes"] = r->bytes;
    text = "audit log " + path + ": moved a torn last record (" + std::to_string(r->bytes) + " bytes) to " +
           r->quarantine + " and recorded that (audit_repaired); run `containctl audit verify`";
  }
  print_result(g, doc, text);
  return kExitOk;
}

}  // namespace

void add_audit_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* audit = app.add_subcommand("audit", "the tamper-evident audit log");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand("verify", "check the hash chain; exit 5 naming the first altered record");
  verify->add_option("--log", args->log, "audit log (default: <state-dir>/audit.jsonl)");
  verify->add_option("--expect-head", args->expect_head,
                     "a record hash kept elsewhere (a ticket, a WORM bucket): the log must still hold it");
  verify->callback([&g, &rc, args] { rc = run_verify(g, *args); });
  CLI::App* show = audit->add_subcommand("show", "print the audit trail, or one run's");
  show->add_option("run_id", args->run_id, "run id");
  show->add_option("--log", args->log, "audit log (default: <state-dir>/audit.jsonl)");
  show->add_option("--run", args->run_flag, "only this run's records (as RUN_ID)");
  show->add_option("--event", args->events, "only these events (repeatable or comma-separated: gate_decision,step_applied)");
  show->add_option("--since", args->since, "only records at or after a time (2026-12-01T03:00:00Z) or an age (30m, 2h, 1d)");
  show->callback([&g, &rc, args] { rc = run_show(g, *args); });
  CLI::App* repair = audit->add_subcommand("repair", "move a torn last record (a crash mid-append) to a quarantine file");
  repair->add_option("--log", args->log, "audit log (default: <state-dir>/audit.jsonl)");
  repair->callback([&g, &rc, args] { rc = run_repair(g, *args); });
}

}  // namespace containctl::orch
