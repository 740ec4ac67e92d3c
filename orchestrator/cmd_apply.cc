// apply, rollback and status.
#include <unistd.h>

#include <iostream>
#include <sstream>

#include "orchestrator/apply_run.h"
#include "orchestrator/audit_log.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/escalation.h"
#include "orchestrator/evidence.h"
#include "orchestrator/executor.h"
#include "approvals/approval.h"
#include "orchestrator/holdings.h"
#include "orchestrator/interrupt.h"
#include "orchestrator/journal.h"
#include "orchestrator/leases.h"
#include "orchestrator/liveness.h"
#include "orchestrator/plan_file.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

Result<std::chrono::milliseconds> wait_lock_of(const std::string& text) {
  if (text.empty()) return std::chrono::milliseconds(0);
  auto d = approvals::parse_duration(text);
  if (!d.ok()) return Error{ErrorKind::kUsage, "InvalidDuration", "--wait-lock: " + d.error().message};
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

int run_apply(GlobalOptions& g, const std::string& plan_path, const std::vector<std::string>& approvals,
              const std::string& resume, const std::string& wait_lock, bool report_back) {
  auto wait = wait_lock_of(wait_lock);
  if (!wait.ok()) return report_error(g, wait.error());
  auto plan = load_plan(plan_path);
  if (!plan.ok()) return report_error(g, plan.error());
  auto rt = Runtime::open(g, true);
  if (!rt.ok()) return report_error(g, rt.error());
  ApplyRequest req{approvals, resume, false, *wait, {}, plan_path};
  if (report_back) req.after_run = escalation_hook(**rt, *plan, false, true);
  return apply_plan(**rt, *plan, req);
}

// After a rollback: a communication on the run's support case saying what was restored, and a note
// on the Security Hub findings the run reported back to. Failures are reported and audited; the
// rollback's own outcome stands.
json note_rollback(Runtime& rt, Journal& journal, const RunRecord& run, const std::string& status,
                   const std::vector<std::string>& errors) {
  json notes = json::object();
  if (!run.case_id.empty()) {
    auto steps = journal.steps(run.run_id);
    Status st = steps.ok() ? add_run_case_note(rt, journal, run.run_id,
                                               rollback_case_text(run.run_id, status, *steps, errors))
                           : Status(steps.error());
    notes["case_note"] = st.ok() ? "noted what was restored" : "NOT updated: " + scrub_secrets(st.error().describe());
  }
  if (plan_securityhub_findings(run.plan).empty()) return notes;
  bool reported = false;
  auto recs = read_audit_records(rt, run.run_id);
  if (recs.ok())
    for (const auto& r : *recs) reported = reported || (r.is_object() && r.value("event", "") == "securityhub_updated");
  if (!reported) return notes;
  auto r = report_back(rt, run.run_id, run.plan, status, run.case_id, true);
  if (r.ok()) {
    rt.audit("securityhub_updated", {{"updated", (*r)["updated"]}, {"rolled_back", true}});
    notes["security_hub"] = std::to_string((*r)["updated"].get<int>()) + " finding(s) noted as rolled back";
  } else {
    std::string why = scrub_secrets(r.error().describe());
    rt.audit("securityhub_update_failed", {{"error", why}, {"rolled_back", true}});
    notes["security_hub"] = "NOT updated: " + why;
  }
  return notes;
}

struct RollbackArgs {
  std::string run_id;
  bool dry_run = false, reactivate_keys = false, force = false;
  std::vector<std::string> targets;
  std::string wait_lock;
};

json held_json(const std::vector<HeldStep>& held) {
  json out = json::array();
  for (const auto& h : held)
    out.push_back({{"target", h.target}, {"step", h.step}, {"until", aws::format_iso8601(h.until)}});
  return out;
}

int run_rollback(GlobalOptions& g, const RollbackArgs& a) {
  const std::string& run_id = a.run_id;
  auto wait = wait_lock_of(a.wait_lock);
  if (!wait.ok()) return report_error(g, wait.error());
  // Recovery never waits on the audit log: a torn last record is quarantined (and recorded), and
  // rollback does not fail closed on a failed append (it only takes containment away).
  // Nor on the settings: a broken file falls back to what the run recorded (with a warning).
  auto rt_r = Runtime::open(g, !a.dry_run, RuntimeOptions{.repair_torn_audit = true, .recovery = true});
  if (!rt_r.ok()) return report_error(g, rt_r.error());
  Runtime& rt = **rt_r;
  auto journal_r = rt.open_journal();
  if (!journal_r.ok()) return report_error(g, journal_r.error());
  Journal& journal = **journal_r;
  auto run = journal.run(run_id);
  if (!run.ok()) return report_error(g, run.error());
  rt.adopt_run_settings(*run);
  auto entries_r = plan_entries(run->plan);
  if (!entries_r.ok()) return report_error(g, entries_r.error());
  const std::vector<PlanEntry> entries = std::move(entries_r).value();
  RollbackRequest req;
  req.options.reactivate_keys = a.reactivate_keys;
  req.options.force = a.force;
  req.dry_run = a.dry_run;
  req.targets = a.targets;
  auto order = rollback_order(journal, run_id, entries, req);
  if (!order.ok()) return report_error(g, order.error());
  // What a dead process left open comes first.
  if (auto open = open_exposures(journal, run_id); open.ok() && !open->empty())
    std::cerr << describe_exposures(*open) << std::endl;

  if (a.dry_run) {
    json items = json::array(), held = json::array();
    std::ostringstream text;
    text << "Rollback of " << run_id << " would reverse " << order->size() << " step(s), newest first:\n";
    for (const auto& it : *order) {
      auto until = a.force ? std::nullopt : held_until(it, rt.clock().now());
      json j = {{"target", it.entry->target.arn}, {"step", it.step->id}, {"state", it.record.state},
                {"restore", it.record.before}, {"reversible", it.step->reversible}};
      if (until) {
        j["held_until"] = aws::format_iso8601(*until);
        held.push_back({{"target", it.entry->target.arn}, {"step", it.step->id}, {"until", aws::format_iso8601(*until)}});
      }
      items.push_back(j);
      text << "  " << it.entry->target.arn << "  " << it.step->id << " (" << it.record.state << ")"
           << (it.step->reversible ? "" : "  [IRREVERSIBLE: cannot be restored exactly]")
           << (until ? "  [HELD until " + aws::format_iso8601(*until) + ": skipped unless --force]" : "") << "\n"
           << "      restore: " << it.record.before.dump() << "\n";
    }
    if (!held.empty())
      text << held.size() << " step(s) are held (min hold after apply); rollback leaves them in place and restores the "
           << "rest, --force undoes them too.\n";
    if (!a.reactivate_keys) text << "Access keys deactivated by containment stay inactive (use --reactivate-keys).\n";
    print_result(g, {{"run_id", run_id}, {"dry_run", true}, {"steps", items}, {"held", held}}, text.str());
    return kExitOk;
  }
  auto lock = journal.guard_run();
  if (!lock.ok()) return report_error(g, lock.error());
  auto caller = rt.session().caller();
  if (!caller.ok()) return report_error(g, caller.error());
  logged(journal.set_run_owner(run_id, this_process()));
  rt.set_run_id(run_id);
  // The run's targets, leased before anything is restored: while the run that contained them is
  // alive (here or on another machine) rollback is refused; once its leases expired, it takes over.
  std::vector<std::string> resources;
  for (const auto& it : *order) resources.push_back(it.entry->target.arn);
  auto leases = LeaseKeeper::acquire(journal, resources, run_id, caller->arn, rt.clock(),
                                     {lease_ttl(rt.settings()), *wait});
  if (!leases.ok()) {
    rt.audit("rollback_refused", {{"reason", leases.error().message}});
    return report_error(g, leases.error());
  }
  rt.audit("rollback_started", {{"steps", order->size()}, {"reactivate_keys", a.reactivate_keys}, {"force", a.force},
                                {"targets", a.targets}});
  if (!g.json()) std::cout << "Rolling back " << run_id << ": " << order->size() << " step(s)" << std::endl;
  ExecutionEnv env;
  fill_execution_env(rt, run->plan, *caller, env);
  env.may_mutate = [keeper = leases->get()] { return keeper->ok(); };
  InterruptGuard guard;  // SIGINT/SIGTERM: no new step; the ones done are journaled
  env.interrupted = [] { return interrupt_requested(); };
  auto out = rollback_run(journal, run_id, entries, env, req);
  if (!out.ok()) {
    rt.audit("rollback_refused", {{"reason", out.error().message}});
    return report_error(g, out.error());
  }
  rt.audit("rollback_finished", {{"status", out->status}, {"steps_done", out->steps_done},
                                 {"steps_failed", out->steps_failed}, {"held", held_json(out->held)}});
  std::string text = "Run " + run_id + " " + out->status + ": " + std::to_string(out->steps_done) + " step(s) restored, " +
                     std::to_string(out->steps_failed) + " failed";
  for (const auto& e : out->errors) text += "\n  " + e;
  if (!out->held.empty()) {
    text += "\nHeld (left in place; rollback " + run_id + " again after the time shown, or now with --force):";
    for (const auto& h : out->held) text += "\n  " + h.target + "  " + h.step + " until " + aws::format_iso8601(h.until);
  }
  if (out->status == "interrupted") text += "\nInterrupted: containctl rollback " + run_id + " goes on from here.";
  // Steps the rollback kept contained on purpose (access keys): say how to finish them.
  bool partly = false;
  if (auto steps = journal.steps(run_id); steps.ok())
    for (const auto& s : *steps) partly = partly || s.state == step_state::kPartlyRestored;
  if (partly && !a.reactivate_keys)
    text += "\nAccess keys deactivated by containment stay inactive: containctl rollback " + run_id +
            " --reactivate-keys turns them back on.";
  json evidence = json::array();
  if (auto steps = journal.steps(run_id); steps.ok()) {
    std::string lines;
    for (const auto& s : *steps) {
      json ev = step_evidence(s.applied);
      if (ev.is_null()) continue;
      evidence.push_back({{"target", s.target}, {"step", s.step_id}, {"state", s.state}, {"evidence", ev}});
      lines += "\n  " + s.target + "  " + s.step_id + " (" + s.state + "): " + evidence_text(ev);
    }
    if (!lines.empty()) text += "\nEvidence of the run (kept: snapshots are not deleted by rollback):" + lines;
  }
  json notes = note_rollback(rt, journal, *run, out->status, out->errors);
  if (notes.contains("case_note")) text += "\nSupport case " + run->case_id + ": " + notes["case_note"].get<std::string>();
  if (notes.contains("security_hub")) text += "\nSecurity Hub: " + notes["security_hub"].get<std::string>();
  json doc = {{"run_id", run_id}, {"status", out->status}, {"steps_restored", out->steps_done},
              {"steps_failed", out->steps_failed}, {"errors", out->errors}, {"held", held_json(out->held)},
              {"evidence", evidence}};
  if (!notes.empty()) doc["escalation"] = notes;
  print_result(g, doc, text);
  if (out->status == "rolled_back") return kExitOk;
  // Holds (or targets not asked for) leave steps in place by design: that is not a failure.
  if (out->status == "partly_rolled_back") return kExitOk;
  return kExitPartial;
}

// "  (pid 123 on host, gone)" for runs that should be running.
std::string owner_text(const RunRecord& r) {
  if (r.status != "running" && r.status != "rolling_back") return "";
  if (r.owner.pid <= 0) return "  (process not recorded)";
  Liveness l = owner_liveness(r.owner);
  return "  (pid " + std::to_string(r.owner.pid) + " on " + r.owner.host +
         (l == Liveness::kAlive ? ", alive)" : l == Liveness::kGone ? ", gone)" : ", another host: not checked)");
}

// A run's status for a terminal: done green, cut short or partial yellow, failed red.
std::string painted_status(const std::string& status, bool on) {
  if (status == "succeeded" || status == "rolled_back") return paint(status, kGreen, on);
  if (status == "failed" || status == "refused") return paint(status, kRed, on);
  if (status == "running" || status == "rolling_back") return status;
  return paint(status, kYellow, on);
}

int run_status(GlobalOptions& g, const std::string& run_id) {
  auto rt = Runtime::open(g, false, RuntimeOptions{.recovery = true});
  if (!rt.ok()) return report_error(g, rt.error());
  auto journal = (*rt)->open_journal();
  if (!journal.ok()) return report_error(g, journal.error());
  // Windows a dead process left open come first, on stderr so JSON on stdout stays one document.
  auto open = open_exposures(**journal, run_id);
  const bool color = color_on(g, STDOUT_FILENO);
  json exposures = json::array();
  if (open.ok()) {
    for (const auto& x : *open)
      exposures.push_back({{"run_id", x.run_id}, {"target", x.target}, {"step", x.step}, {"open", x.what}});
    if (!open->empty()) std::cerr << describe_exposures(*open) << std::endl;
  }
  if (run_id.empty()) {
    auto runs = (*journal)->runs();
    if (!runs.ok()) return report_error(g, runs.error());
    auto leases = (*journal)->leases();
    if (!leases.ok()) return report_error(g, leases.error());
    json list = json::array();
    std::ostringstream text;
    for (const auto& r : *runs) {
      const std::string status = effective_status(r);
      json targets = json::array();
      if (auto steps = (*journal)->steps(r.run_id); steps.ok())
        for (const auto& s : *steps)
          if (std::find(targets.begin(), targets.end(), s.target) == targets.end()) targets.push_back(s.target);
      json item = {{"run_id", r.run_id}, {"status", status}, {"started_at", r.started_at},
                   {"finished_at", r.finished_at}, {"plan_hash", r.plan_hash}, {"mode", r.mode}, {"targets", targets}};
      if (!r.case_id.empty()) item["case_id"] = r.case_id;
      if (r.owner.pid > 0) item["owner"] = r.owner.to_json();
      text << r.run_id << "  " << painted_status(status, color) << "  started " << r.started_at
           << (r.finished_at.empty() ? "" : "  finished " + r.finished_at) << owner_text(r);
      // Unfinished, and no live process holds any of its targets: it was cut off.
      if (r.status == "running" || r.status == "rolling_back") {
        bool live = false;
        for (const auto& l : *leases) live = live || (l.run_id == r.run_id && l.expires > (*rt)->clock().now());
        item["stale"] = !live;
        if (!live) text << "  STALE (no live process holds its targets: apply --resume or rollback takes over)";
      }
      list.push_back(item);
      text << "\n";
      for (const auto& t : targets) text << "    " << t.get<std::string>() << "\n";
    }
    if (runs->empty()) text << "No runs in " << (*rt)->state_dir() << "\n";
    // Across runs: what the journal says is contained now (applied and not rolled back).
    json contained = json::array();
    auto holdings = current_holdings(**journal);
    if (!holdings.ok()) return report_error(g, holdings.error());
    if (!holdings->empty()) text << "Contained now:\n";
    for (const auto& h : *holdings) {
      contained.push_back({{"target", h.target}, {"family", h.family}, {"run_id", h.run_id},
                           {"containment", h.complete ? "contained" : "partly contained"}});
      text << "  " << h.target << " [" << h.family << "]  "
           << (h.complete ? paint("contained", kGreen, color) : paint("partly contained", kYellow, color))
           << " by run " << h.run_id << "\n";
    }
    if (!runs->empty() && holdings->empty()) text << "Contained now: nothing (every run was rolled back or did nothing)\n";
    print_result(g, {{"runs", list}, {"contained_now", contained}, {"exposed", exposures}}, text.str());
    return kExitOk;
  }
  auto run = (*journal)->run(run_id);
  if (!run.ok()) return report_error(g, run.error());
  auto steps = (*journal)->steps(run_id);
  if (!steps.ok()) return report_error(g, steps.error());
  json list = json::array();
  std::ostringstream text;
  const std::string status = effective_status(*run);
  text << run->run_id << "  " << painted_status(status, color) << "  started " << run->started_at
       << (run->case_id.empty() ? "" : "  support case " + run->case_id) << owner_text(*run) << "\n";
  auto callers = (*journal)->run_caller(run_id);
  const std::string caller = callers.ok() ? callers->first : "", plan_caller = callers.ok() ? callers->second : "";
  if (!caller.empty())
    text << "  run by " << caller << (plan_caller.empty() || plan_caller == caller ? "" : ", planned by " + plan_caller)
         << "\n";
  for (const auto& s : *steps) {
    json j = {{"target", s.target}, {"family", s.family}, {"step", s.step_id}, {"state", s.state},
              {"updated_at", s.updated_at}};
    if (!s.error.empty()) j["error"] = s.error;
    if (!s.applied_at.empty()) j["applied_at"] = s.applied_at;
    json ev = step_evidence(s.applied);
    if (!ev.is_null()) j["evidence"] = ev;
    // Applied in a run that is over: its verification was never recorded (a failed journal write
    // or a cut-off run); apply --resume verifies it.
    const bool unverified = s.state == step_state::kApplied && status != "running";
    if (unverified) j["verified"] = false;
    list.push_back(j);
    text << "  " << s.target << "  " << s.step_id << "  " << s.state
         << (unverified ? " (not verified: apply --resume verifies it)" : "") << (s.error.empty() ? "" : "  " + s.error)
         << "\n";
    if (!ev.is_null()) text << "      " << evidence_text(ev) << "\n";
  }
  if (status == "interrupted" || status == "partial" || status == "failed")
    text << "Next: containctl apply PLAN --resume " << run->run_id << " (finishes the pending steps), or containctl rollback "
         << run->run_id << "\n";
  json doc = {{"run_id", run->run_id}, {"status", status}, {"started_at", run->started_at},
              {"finished_at", run->finished_at}, {"plan_hash", run->plan_hash}, {"steps", list}, {"exposed", exposures}};
  if (run->owner.pid > 0) doc["owner"] = run->owner.to_json();
  if (!run->case_id.empty()) doc["case_id"] = run->case_id;
  if (!caller.empty()) doc["caller"] = caller;
  if (!plan_caller.empty()) doc["plan_caller"] = plan_caller;
  print_result(g, doc, text.str());
  return kExitOk;
}

}  // namespace

void add_apply_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  static std::string plan_path, resume, rollback_id, status_id, wait_lock;
  static std::vector<std::string> approvals, rollback_targets;
  static bool dry_run = false, reactivate = false, force = false, report_back_flag = false;
  CLI::App* apply = app.add_subcommand("apply", "execute a plan (re-checks the settings and approvals)");
  apply->add_option("plan", plan_path, "plan file")->required();
  apply->add_option("--approval", approvals, "approval file (repeatable)");
  apply->add_option("--resume", resume, "continue a run that was cut off");
  apply->add_option("--wait-lock", wait_lock, "wait up to DURATION (30s, 5m) for another run's hold on a target");
  apply->add_flag("--report-back", report_back_flag,
                  "note the run on the plan's Security Hub findings (BatchUpdateFindings, workflow NOTIFIED)");
  apply->callback([&] { rc = run_apply(g, plan_path, approvals, resume, wait_lock, report_back_flag); });

  CLI::App* rollback = app.add_subcommand("rollback", "restore every step of a run from its recorded before-states");
  rollback->add_option("run_id", rollback_id, "run id (see status)")->required();
  rollback->add_flag("--dry-run", dry_run, "show what rollback would do");
  rollback->add_flag("--reactivate-keys", reactivate, "turn access keys deactivated by containment back on");
  rollback->add_flag("--force", force, "undo steps whose plan said they must stay in place longer");
  rollback->add_option("--wait-lock", wait_lock, "wait up to DURATION (30s, 5m) for another run's hold on a target");
  rollback->add_option("--target", rollback_targets, "only this target of the run (repeatable)");
  rollback->callback([&] {
    rc = run_rollback(g, RollbackArgs{rollback_id, dry_run, reactivate, force, rollback_targets, wait_lock});
  });

  CLI::App* status = app.add_subcommand("status", "show runs, or one run with its steps");
  status->add_option("run_id", status_id, "run id");
  status->callback([&] { rc = run_status(g, status_id); });
}

}  // namespace containctl::orch
