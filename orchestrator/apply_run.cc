#include "orchestrator/apply_run.h"

#include <iostream>
#include <set>

#include "approvals/approval.h"
#include "orchestrator/executor.h"
#include "orchestrator/gate.h"
#include "orchestrator/journal.h"
#include "orchestrator/leases.h"
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
}

int apply_plan(Runtime& rt, const json& plan, const ApplyRequest& req) {
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

  // The gate again, against the settings in force now. Entries with nothing to do are skipped.
  std::vector<std::string> refusals;
  int approvals_required = 0;
  bool needs_approval = false;
  const json& targets = plan["targets"];
  for (size_t i = 0; i < entries.size(); ++i) {
    const PlanEntry& e = entries[i];
    if (e.steps.empty()) continue;
    GateInput gin{e.account, e.family, e.target.arn, e.confidence, journal.last_rollback(e.target.arn), rt.clock().now()};
    GateDecision g = evaluate_gate(rt.settings(), caller, gin);
    rt.audit("gate_decision", {{"target", e.target.arn}, {"family", e.family}, {"decision", g.decision},
                               {"reason", g.reason}, {"phase", "apply"}, {"plan_hash", plan_hash}});
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
    auto decision = approvals::evaluate_approvals(loaded, plan_hash, plan.value("requester", ""),
                                                  rt.settings().approvers, approvals_required, rt.clock().now());
    for (const auto& name : decision.accepted)
      rt.audit("approval_accepted", {{"approver", name}, {"plan_hash", plan_hash}});
    for (const auto& r : decision.refusals) rt.audit("approval_refused", {{"reason", r}, {"plan_hash", plan_hash}});
    for (const auto& p : problems) rt.audit("approval_refused", {{"reason", p}, {"plan_hash", plan_hash}});
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
  for (const auto& e : entries) total_steps += static_cast<int>(e.steps.size());
  // Protected targets were never planned; they are listed under "refused".
  const json refused_at_plan = plan.value("refused", json::array());
  std::string refused_text;
  for (const auto& r : refused_at_plan)
    refused_text += "\n  " + r.value("target", "") + ": " + r.value("reason", "");
  if (total_steps == 0 && !refused_at_plan.empty())
    return refuse(rt, "apply refused: nothing in this plan may be contained:" + refused_text, {{"plan_hash", plan_hash}});
  if (!refused_text.empty() && !rt.globals().json())
    std::cout << "Skipped (refused when planned):" << refused_text << std::endl;
  if (total_steps == 0) {
    print_result(rt.globals(), {{"run_id", nullptr}, {"status", "nothing_to_do"}, {"plan_hash", plan_hash}},
                 "Nothing to do: every target is already contained.");
    return kExitOk;
  }

  auto lock = journal.guard_run();
  if (!lock.ok()) return report_error(rt.globals(), lock.error());

  std::string run_id = req.resume_run_id;
  if (!run_id.empty()) {
    auto existing = journal.run(req.resume_run_id);
    if (!existing.ok()) return report_error(rt.globals(), existing.error());
    if (existing->plan_hash != plan_hash)
      return report_error(rt.globals(), Error::invalid("run " + run_id + " was created from another plan (hash " +
                                                       existing->plan_hash.substr(0, 16) + "...)"));
  }
  const bool fresh = run_id.empty();
  if (fresh) run_id = new_run_id(rt.clock().now());
  // A lease on every target before anything is written or mutated: a target another live run
  // holds refuses this one (exit 3), naming that run.
  std::vector<std::string> resources;
  for (const auto& e : entries)
    if (!e.steps.empty()) resources.push_back(e.target.arn);
  auto leases = LeaseKeeper::acquire(journal, resources, run_id, caller.arn, rt.clock(),
                                     {lease_ttl(rt.settings()), req.wait_lock});
  if (!leases.ok()) {
    if (leases.error().kind == ErrorKind::kRefused)
      return refuse(rt, leases.error().message, {{"plan_hash", plan_hash}, {"run_id", run_id}});
    return report_error(rt.globals(), leases.error());
  }
  if (fresh) {
    RunRecord rec{run_id, plan_hash, "running", "", "", plan.value("requester", ""), needs_approval ? "approval" : "auto", plan};
    if (auto st = journal.create_run(rec, entries); !st.ok()) return report_error(rt.globals(), st.error());
  } else {
    logged(journal.set_run_status(run_id, "running"));
  }
  rt.set_run_id(run_id);
  rt.audit(req.resume_run_id.empty() ? "run_started" : "run_resumed",
           {{"plan_hash", plan_hash}, {"targets", static_cast<int>(entries.size())}, {"steps", total_steps}});
  if (!rt.globals().json()) std::cout << "Run " << run_id << ": applying " << total_steps << " step(s) on "
                                      << entries.size() << " target(s)" << std::endl;

  ExecutionEnv env;
  fill_execution_env(rt, plan, caller, env);
  env.may_mutate = [keeper = leases->get()] { return keeper->ok(); };
  RunOutcome out = execute_run(journal, run_id, entries, env);
  rt.audit("run_finished", {{"status", out.status}, {"steps_done", out.steps_done}, {"steps_failed", out.steps_failed}});
  json doc = {{"run_id", run_id}, {"status", out.status}, {"plan_hash", plan_hash},
              {"steps_done", out.steps_done}, {"steps_failed", out.steps_failed}, {"errors", out.errors}};
  std::string text = "Run " + run_id + " " + out.status + ": " + std::to_string(out.steps_done) + " step(s) done, " +
                     std::to_string(out.steps_failed) + " failed";
  for (const auto& e : out.errors) text += "\n  " + e;
  if (out.status != "succeeded") text += "\nThe journal holds every step's before-state: containctl rollback " + run_id;
  print_result(rt.globals(), doc, text);
  return out.status == "succeeded" ? kExitOk : kExitPartial;
}

}  // namespace containctl::orch
