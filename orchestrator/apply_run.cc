#include "orchestrator/apply_run.h"

#include <unistd.h>

#include <iostream>
#include <set>

#include "approvals/approval.h"
#include "orchestrator/evidence.h"
#include "orchestrator/executor.h"
#include "orchestrator/gate.h"
#include "orchestrator/holdings.h"
#include "orchestrator/interrupt.h"
#include "orchestrator/journal.h"
#include "orchestrator/leases.h"
#include "orchestrator/liveness.h"
#include "orchestrator/plan_file.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

int refuse(Runtime& rt, const std::string& why, const json& details = json::object()) {
  json f = details;
  f["reason"] = why;
  rt.audit("apply_refused", f);
  return report_error(rt.globals(), Error::refused(why));
}

// A run any step of which was rolled back (or is being) is not resumed: that would contain again
// without a fresh decision. Plan again instead.
int check_resumable(Runtime& rt, Journal& journal, const std::string& run_id, const std::string& plan_hash) {
  auto run = journal.run(run_id);
  if (!run.ok()) return report_error(rt.globals(), run.error());
  if (run->plan_hash != plan_hash)
    return report_error(rt.globals(), Error::invalid("run " + run_id + " was created from another plan (hash " +
                                                     run->plan_hash.substr(0, 16) + "...)"));
  auto steps = journal.steps(run_id);
  if (!steps.ok()) return report_error(rt.globals(), steps.error());
  bool rolled = run->status == "rolling_back" || run->status == "rolled_back" || run->status == "rollback_partial";
  for (const auto& st : *steps)
    rolled = rolled || st.state == step_state::kRollingBack || st.state == step_state::kRolledBack ||
             st.state == step_state::kRollbackFailed;
  if (!rolled) return kExitOk;
  return refuse(rt, "apply --resume refused: run " + run_id + " was rolled back (wholly or partly, status " +
                        run->status + "); resuming it would contain again without a fresh decision. Plan again "
                        "and apply the new plan.",
                {{"resume_run_id", run_id}});
}

// Approvals are single use: one accepted for another run (even one since rolled back) no longer
// counts; an approval already consumed by the run being resumed still does.
Status refuse_used_approvals(Journal& journal, const std::string& resume_run_id, approvals::ApprovalDecision& d) {
  std::vector<approvals::AcceptedApproval> keep;
  std::vector<std::string> names;
  for (const auto& a : d.accepted_approvals) {
    CC_ASSIGN(std::optional<UsedApproval> prior, journal.approval_used(a.id));
    if (prior && prior->run_id != resume_run_id) {
      d.refusals.push_back(a.source + ": approval by '" + a.approver + "' refused: it was already used by run " +
                           prior->run_id + " (at " + prior->used_at + "); approvals are single use, ask for a fresh one");
      continue;
    }
    keep.push_back(a);
    names.push_back(a.approver);
  }
  d.accepted_approvals = keep;
  d.accepted = names;
  return Ok{};
}

// Per target at the end of an apply: contained / partly contained / not contained, from the
// journal (what verified), the steps left, and what to run next.
json target_summary(Journal& journal, const std::string& run_id, const std::vector<PlanEntry>& entries,
                    const std::set<size_t>& skipped) {
  json out = json::array();
  auto steps = journal.steps(run_id);
  if (!steps.ok()) return out;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (skipped.count(i) || entries[i].steps.empty()) continue;
    const PlanEntry& e = entries[i];
    json holding = json::array(), pending = json::array(), failed = json::array(), cosmetic_left = json::array(),
         unverified = json::array();
    json evidence = json::object();
    int security = 0;
    for (const auto& rec : *steps) {
      if (rec.entry != static_cast<int>(i)) continue;
      auto st = std::find_if(e.steps.begin(), e.steps.end(), [&](const actions::Step& x) { return x.id == rec.step_id; });
      const bool cosmetic = st != e.steps.end() && st->cosmetic;
      if (!cosmetic) security++;
      if (json ev = step_evidence(rec.applied); !ev.is_null()) evidence[rec.step_id] = ev;
      if (rec.state == step_state::kVerified) {
        if (!cosmetic) holding.push_back(rec.step_id);
      } else if (cosmetic) {
        cosmetic_left.push_back(rec.step_id);
      } else if (rec.state == step_state::kFailed) {
        failed.push_back(rec.step_id);
      } else if (rec.state == step_state::kApplied) {
        unverified.push_back(rec.step_id);  // applied; its verification is not recorded
      } else {
        pending.push_back(rec.step_id);
      }
    }
    const int held = static_cast<int>(holding.size());
    std::string state = held == security ? "contained" : held > 0 ? "partly contained" : "not contained";
    out.push_back({{"target", e.target.arn}, {"family", e.family}, {"containment", state}, {"holding", holding},
                   {"failed", failed}, {"pending", pending}, {"applied_not_verified", unverified},
                   {"cosmetic_not_done", cosmetic_left},
                   {"evidence", evidence}});
  }
  return out;
}

std::string summary_text(const json& summary, bool color) {
  std::string text;
  for (const auto& t : summary) {
    const std::string state = t["containment"].get<std::string>();
    text += "\n  " + t["target"].get<std::string>() + " [" + t["family"].get<std::string>() + "]: " +
            paint(state, state == "contained" ? kGreen : state == "partly contained" ? kYellow : kRed, color);
    if (t["containment"] == "partly contained") text += " (holding: " + t["holding"].dump() + ")";
    if (!t["failed"].empty()) text += "; failed: " + t["failed"].dump();
    if (!t["applied_not_verified"].empty())
      text += "; applied, not verified (apply --resume verifies): " + t["applied_not_verified"].dump();
    if (!t["pending"].empty()) text += "; not started: " + t["pending"].dump();
    if (!t["cosmetic_not_done"].empty()) text += "; tags not written: " + t["cosmetic_not_done"].dump();
    // Named: items() of the temporary value() returns would outlive it.
    const json evidence = t.value("evidence", json::object());
    for (const auto& [step, ev] : evidence.items()) text += "\n      " + step + ": " + evidence_text(ev);
  }
  return text;
}

int interrupted_before_start(Runtime& rt) {
  rt.audit("apply_interrupted", {{"signal", interrupt_signal()}, {"changed", false}});
  std::cerr << "containctl: interrupted before any change; nothing was done" << std::endl;
  return 128 + interrupt_signal();
}

}  // namespace

std::chrono::seconds lease_ttl(const Settings& s) { return std::chrono::seconds(s.state.lease_seconds); }

void fill_execution_env(Runtime& rt, const json& plan, const actions::Identity& caller, ExecutionEnv& env) {
  env.client_for = [&rt](const PlanEntry& e) { return rt.client_for(e.account, e.target.partition); };
  env.caller = caller;
  // Named, not iterated as a temporary: items() would outlive the json that value() returns.
  const json options = plan.value("options", json::object());
  for (const auto& [k, v] : options.items())
    env.options.values[k] = v.is_string() ? v.get<std::string>() : v.dump();
  // Families that write files (a rolled-back console password) put them under the state directory.
  env.options.values.emplace("state_dir", rt.state_dir());
  env.allow_principals = rt.settings().s3_allow_access;
  env.allow_principals.push_back(principal_arn(caller.arn));
  env.clock = &rt.clock();
  env.workers = rt.settings().workers;
  env.per_account_region = rt.settings().per_account_region;
  env.audit = [&rt](const std::string& event, const json& fields) { rt.audit(event, fields); };
  if (!rt.globals().json()) env.progress = [](const std::string& line) { std::cout << line << std::endl; };
  // A long wait (the untrack dwell) counts down on a terminal: never a silent minute.
  if (::isatty(STDERR_FILENO))
    env.heartbeat = [](const std::string& target, std::chrono::seconds left) {
      std::cerr << "containctl: " << target << ": waiting " << left.count()
                << " s more (dwell before the next step; Ctrl-C cuts it short and still closes the window)"
                << std::endl;
    };
}

int apply_plan(Runtime& rt, const json& plan, const ApplyRequest& req) {
  // SIGINT/SIGTERM from here on: before the run exists, nothing is changed and apply stops there;
  // after, no new step starts and what is in flight finishes (executor).
  InterruptGuard guard;
  const std::string plan_hash = plan.value("plan_hash", "");
  auto entries_r = plan_entries(plan);
  if (!entries_r.ok()) return report_error(rt.globals(), entries_r.error());
  // Every entry keeps its plan index: the journal and rollback address steps by it.
  const std::vector<PlanEntry> entries = std::move(entries_r).value();
  auto caller_r = rt.session().caller();
  if (!caller_r.ok()) return report_error(rt.globals(), caller_r.error());
  const actions::Identity caller = *caller_r;

  auto journal_r = rt.open_journal();
  if (!journal_r.ok()) return report_error(rt.globals(), journal_r.error());
  Journal& journal = **journal_r;
  if (!req.resume_run_id.empty()) {
    if (int rc = check_resumable(rt, journal, req.resume_run_id, plan.value("plan_hash", "")); rc != kExitOk) return rc;
  }
  // Who made the plan, as AWS said when it was made (the plan's "requester" is only a label).
  const std::string plan_caller = plan.contains("caller") && plan["caller"].is_object() && plan["caller"].contains("arn") &&
                                          plan["caller"]["arn"].is_string()
                                      ? plan["caller"]["arn"].get<std::string>()
                                      : "";

  // Held from here on, so two applies cannot both find a target free and both contain it.
  auto lock = journal.guard_run();
  if (!lock.ok()) return report_error(rt.globals(), lock.error());

  // The run's id from here on: the gate decisions and approvals below belong to its audit trail
  // (`audit show RUN`), also when the run is then refused and never created.
  const bool fresh = req.resume_run_id.empty();
  const std::string run_id = fresh ? new_run_id(rt.clock().now()) : req.resume_run_id;

  // One containment per resource: an entry another run holds (applied, not rolled back) is
  // skipped; a second run would journal the contained state as its "before".
  auto holdings = current_holdings(journal);
  if (!holdings.ok()) return report_error(rt.globals(), holdings.error());
  std::set<size_t> skipped;
  std::vector<std::string> skip_notes;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].steps.empty()) continue;
    if (auto h = held_by(*holdings, entries[i].target.arn, entries[i].family, req.resume_run_id)) {
      skipped.insert(i);
      skip_notes.push_back(entries[i].target.arn + " [" + entries[i].family + "]: " + held_note(*h));
    }
  }

  // The gate again, against the settings in force now. Entries with nothing to do are skipped.
  std::vector<std::string> refusals;
  int approvals_required = 0;
  bool needs_approval = false;
  const json& targets = plan["targets"];
  for (size_t i = 0; i < entries.size(); ++i) {
    const PlanEntry& e = entries[i];
    if (e.steps.empty() || skipped.count(i)) continue;
    GateInput gin{e.account, e.family, e.target.arn, e.confidence, journal.last_rollback(e.target.arn), rt.clock().now()};
    GateDecision g = evaluate_gate(rt.settings(), caller, gin);
    rt.audit("gate_decision", {{"target", e.target.arn}, {"family", e.family}, {"decision", g.decision},
                               {"reason", g.reason}, {"phase", "apply"}, {"plan_hash", plan_hash}, {"run_id", run_id}});
    if (g.decision == "refused") refusals.push_back(e.target.arn + ": " + g.reason);
    if (g.decision == "approval") {
      needs_approval = true;
      approvals_required = std::max(approvals_required, g.approvals_required);
    }
    // The planner made the target the ARN discovery read back; a plan where they differ was not
    // written by it (or predates it): protection must judge the real ARN, so refuse.
    const json discovered = targets[i].value("discovered", json::object());
    if (discovered.is_object() && discovered.contains("arn") && discovered["arn"].is_string() &&
        discovered["arn"].get<std::string>() != e.target.arn)
      refusals.push_back(e.target.arn + ": discovery read back " + discovered["arn"].get<std::string>() +
                         "; plan it again with the ARN AWS reports");
    if (targets[i].value("refused", false) && g.decision != "refused")
      refusals.push_back(e.target.arn + ": was refused when planned; plan it again under the current settings");
  }
  if (!refusals.empty()) {
    std::string why = "apply refused by the containment settings:";
    for (const auto& r : refusals) why += "\n  " + r;
    return refuse(rt, why, {{"plan_hash", plan_hash}});
  }

  approvals::ApprovalDecision decision;
  if (needs_approval) {
    std::vector<std::pair<std::string, approvals::Approval>> loaded;
    std::vector<std::string> problems;
    for (const auto& path : req.approval_paths) {
      auto a = approvals::load_approval(path);
      if (!a.ok()) {
        problems.push_back(a.error().describe());
        continue;
      }
      loaded.push_back({path, *a});
    }
    approvals::ApprovalCheck check;
    check.plan_hash = plan_hash;
    // Separation of duties by identity: neither who made the plan nor who applies it may approve.
    if (!plan_caller.empty()) check.excluded.push_back({"the plan's caller", plan_caller});
    check.excluded.push_back({"the apply caller", caller.arn});
    check.approvers = rt.settings().approvers;
    check.required = approvals_required;
    check.now = rt.clock().now();
    decision = approvals::evaluate_approvals(loaded, check);
    if (Status st = refuse_used_approvals(journal, req.resume_run_id, decision); !st.ok())
      return report_error(rt.globals(), st.error());
    decision.satisfied = static_cast<int>(decision.accepted.size()) >= approvals_required;
    for (const auto& a : decision.accepted_approvals)
      rt.audit("approval_accepted", {{"approver", a.approver}, {"approval_id", a.id}, {"file", a.source},
                                     {"plan_hash", plan_hash}, {"run_id", run_id}});
    for (const auto& r : decision.refusals)
      rt.audit("approval_refused", {{"reason", r}, {"plan_hash", plan_hash}, {"run_id", run_id}});
    for (const auto& p : problems)
      rt.audit("approval_refused", {{"reason", p}, {"plan_hash", plan_hash}, {"run_id", run_id}});
    if (!decision.satisfied) {
      std::string why = "apply needs " + std::to_string(approvals_required) + " approval(s) from distinct listed approvers; " +
                        std::to_string(decision.accepted.size()) + " accepted";
      for (const auto& r : decision.refusals) why += "\n  " + r;
      for (const auto& p : problems) why += "\n  " + p;
      if (req.automated) why += "\n  (an automated run never waits: approve the plan and run apply)";
      return refuse(rt, why, {{"plan_hash", plan_hash}});
    }
  }

  int total_steps = 0;
  for (size_t i = 0; i < entries.size(); ++i)
    if (!skipped.count(i)) total_steps += static_cast<int>(entries[i].steps.size());
  std::string skipped_text;
  for (const auto& n : skip_notes) skipped_text += "\n  " + n;
  if (!skipped_text.empty() && !rt.globals().json() && (total_steps > 0 || !req.resume_run_id.empty()))
    std::cout << "Skipped:" << skipped_text << std::endl;
  // Protected targets were never planned; they are listed under "refused".
  const json refused_at_plan = plan.value("refused", json::array());
  std::string refused_text;
  for (const auto& r : refused_at_plan)
    refused_text += "\n  " + r.value("target", "") + ": " + r.value("reason", "");
  if (total_steps == 0 && !refused_at_plan.empty())
    return refuse(rt, "apply refused: nothing in this plan may be contained:" + refused_text, {{"plan_hash", plan_hash}});
  if (!refused_text.empty() && !rt.globals().json())
    std::cout << "Skipped (refused when planned):" << refused_text << std::endl;
  if (total_steps == 0 && req.resume_run_id.empty()) {
    print_result(rt.globals(),
                 {{"run_id", nullptr}, {"status", "nothing_to_do"}, {"plan_hash", plan_hash}, {"skipped", skip_notes}},
                 "Nothing to do: every target is already contained." + skipped_text);
    return kExitOk;
  }

  // Fails closed: an audit log that could not record the decisions above stops the run here.
  if (Status health = rt.audit_health(); !health.ok()) {
    report_error(rt.globals(), health.error());
    return kExitPartial;
  }
  // Entries another run holds have no steps in this run (they keep their plan index).
  std::vector<PlanEntry> to_run = entries;
  for (size_t i : skipped) to_run[i].steps.clear();

  if (!fresh) {  // check_resumable has read it and matched its plan hash
    // A window the dead process left open comes first: the resume closes it.
    if (auto open = open_exposures(journal, run_id); open.ok() && !open->empty())
      std::cerr << describe_exposures(*open) << std::endl;
  }
  // A lease on every target before anything is written or mutated: a target another live run
  // holds refuses this one (exit 3), naming that run.
  std::vector<std::string> resources;
  for (const auto& e : to_run)
    if (!e.steps.empty()) resources.push_back(e.target.arn);
  auto leases = LeaseKeeper::acquire(journal, resources, run_id, caller.arn, rt.clock(),
                                     {lease_ttl(rt.settings()), req.wait_lock});
  if (!leases.ok()) {
    if (leases.error().kind == ErrorKind::kRefused)
      return refuse(rt, leases.error().message, {{"plan_hash", plan_hash}, {"run_id", run_id}});
    return report_error(rt.globals(), leases.error());
  }
  if (interrupt_requested()) return interrupted_before_start(rt);
  // Read again under the leases: the check above may be stale (the team store has no run guard, its
  // leases are the only serialization, and --wait-lock waits while another run contains).
  auto held_now = current_holdings(journal);
  if (!held_now.ok()) return report_error(rt.globals(), held_now.error());
  for (const auto& e : to_run)
    if (auto h = e.steps.empty() ? std::nullopt : held_by(*held_now, e.target.arn, e.family, run_id))
      return refuse(rt, e.target.arn + " [" + e.family + "]: " + held_note(*h) +
                            ", while this apply waited for its lease; nothing was changed: plan again",
                    {{"plan_hash", plan_hash}, {"run_id", run_id}});
  // Single use: the approvals this run consumes are recorded once it holds its leases and before it
  // can mutate anything. record_approvals_used refuses, atomically, an approval another run recorded
  // first, even one recorded while this apply waited for its leases (this run's own, on a resume,
  // stand). A refused lease or an interruption before this point leaves them unused.
  std::vector<UsedApproval> used;
  for (const auto& a : decision.accepted_approvals) used.push_back({a.id, run_id, a.approver, plan_hash, ""});
  if (!used.empty()) {
    if (auto st = journal.record_approvals_used(used); !st.ok())
      return refuse(rt, "apply refused: the approvals could not be recorded as used (" + st.error().message +
                            "); they may have been used by another run", {{"plan_hash", plan_hash}});
  }
  if (fresh) {
    RunRecord rec{.run_id = run_id,
                  .plan_hash = plan_hash,
                  .status = "running",
                  .requester = plan.value("requester", ""),
                  .mode = needs_approval ? "approval" : "auto",
                  .plan = plan,
                  .owner = this_process(),
                  .recovery = rt.recovery_record()};
    if (auto st = journal.create_run(rec, to_run); !st.ok()) return report_error(rt.globals(), st.error());
  } else {
    logged(journal.set_run_owner(run_id, this_process()));
    // Only from an apply's outcome: a rollback that began since check_resumable read the run
    // makes this fail, and the resume must not contain again without a fresh decision.
    if (auto st = journal.set_run_status(run_id, "running"); !st.ok())
      return refuse(rt, "apply --resume refused: " + st.error().message +
                            "; resuming would contain again without a fresh decision. Plan again and apply the new plan.",
                    {{"resume_run_id", run_id}});
  }
  rt.set_run_id(run_id);
  logged(journal.record_run_caller(run_id, caller.arn, plan_caller));
  json approvals_used = json::array();
  for (const auto& a : decision.accepted_approvals) approvals_used.push_back({{"approver", a.approver}, {"approval_id", a.id}});
  rt.audit(req.resume_run_id.empty() ? "run_started" : "run_resumed",
           {{"plan_hash", plan_hash}, {"targets", static_cast<int>(entries.size())}, {"steps", total_steps},
            {"caller", caller.arn}, {"plan_caller", plan_caller}, {"approvals", approvals_used}});
  if (!rt.globals().json()) std::cout << "Run " << run_id << ": applying " << total_steps << " step(s) on "
                                      << entries.size() << " target(s)" << std::endl;

  ExecutionEnv env;
  fill_execution_env(rt, plan, caller, env);
  // Stops a step before it mutates when the run's leases were lost or the audit log failed.
  env.may_mutate = [&rt, keeper = leases->get()]() -> Status {
    CC_TRY(keeper->ok());
    return rt.audit_health();
  };
  env.interrupted = [] { return interrupt_requested(); };
  RunOutcome out = execute_run(journal, run_id, to_run, env);
  if (out.status == "interrupted")
    rt.audit("run_interrupted", {{"signal", interrupt_signal()}, {"steps_done", out.steps_done}});
  rt.audit("run_finished", {{"status", out.status}, {"steps_done", out.steps_done}, {"steps_failed", out.steps_failed}});
  if (Status health = rt.audit_health(); !health.ok()) {
    out.errors.push_back(health.error().message);
    if (out.status == "succeeded") out.status = "partial";
  }
  const json summary = target_summary(journal, run_id, to_run, skipped);
  const std::string plan_arg = req.plan_path.empty() ? "PLAN.json" : req.plan_path;
  json next = json::array();
  if (out.status != "succeeded") {
    next.push_back("containctl apply " + plan_arg + " --resume " + run_id);
    next.push_back("containctl rollback " + run_id);
  }
  json doc = {{"run_id", run_id}, {"status", out.status}, {"plan_hash", plan_hash},
              {"steps_done", out.steps_done}, {"steps_failed", out.steps_failed}, {"errors", out.errors},
              {"targets", summary}, {"skipped", skip_notes}, {"next", next}};
  std::string text = "Run " + run_id + " " + out.status + ": " + std::to_string(out.steps_done) + " step(s) done, " +
                     std::to_string(out.steps_failed) + " failed";
  if (out.status == "interrupted") text += " (interrupted: steps not started stay pending)";
  for (const auto& e : out.errors) text += "\n  " + e;
  text += "\nTargets:" + summary_text(summary, color_on(rt.globals(), STDOUT_FILENO));
  if (!skipped_text.empty()) text += "\nSkipped:" + skipped_text;
  if (out.status != "succeeded")
    text += "\nNext: " + next[0].get<std::string>() + " (finishes the pending steps)\n      " +
            next[1].get<std::string>() + " (restores every step taken from its journaled before-state)";
  else
    text += "\nUndo: containctl rollback " + run_id;
  if (req.after_run) req.after_run(journal, run_id, out.status, doc, text);
  print_result(rt.globals(), doc, text);
  return out.status == "succeeded" ? kExitOk : kExitPartial;
}

}  // namespace containctl::orch
