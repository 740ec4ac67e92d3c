#include "orchestrator/planner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <sstream>

#include "actions/registry.h"
#include "aws/arn.h"
#include "orchestrator/findings.h"
#include "orchestrator/gate.h"
#include "orchestrator/holdings.h"
#include "orchestrator/journal.h"
#include "orchestrator/plan_file.h"
#include "orchestrator/target_pool.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

struct Candidate {
  actions::Target target;
  std::string confidence;
  std::string note;
  std::string finding_id;
  std::map<std::string, std::string> options;  // per-target options (a finding's key id)
  json finding = json::object();  // what the finding says of itself, for reports (case, Security Hub note)
};

std::string default_family(const actions::Target& t) {
  if (t.service == "ec2") return "ec2-isolate";
  if (t.service == "iam") return "iam-contain";
  return "s3-contain";
}

Result<std::vector<Candidate>> gather(const PlanRequest& req) {
  std::vector<Candidate> out;
  for (const auto& arn : req.target_arns) {
    CC_ASSIGN(actions::Target t, actions::parse_target_arn(arn));
    out.push_back({t, req.confidence.empty() ? "confirmed" : req.confidence, "", "", {}});
  }
  if (!req.finding_path.empty()) {
    CC_ASSIGN(FindingTargets found, req.finding_doc.is_null() ? load_finding_file(req.finding_path)
                                                              : targets_from_finding(req.finding_doc, req.finding_path));
    for (const auto& s : found.skipped) spdlog::warn("finding {}: skipped {}: {}", s.finding_id, s.resource, s.reason);
    if (found.targets.empty() && req.target_arns.empty()) {
      std::string why = found.skipped.empty() ? "" : ": " + found.skipped[0].resource + ": " + found.skipped[0].reason;
      return Error::invalid(req.finding_path + ": nothing in the finding can be contained (" +
                                std::to_string(found.skipped.size()) + " resource(s) skipped" + why +
                                "; `containctl targets --finding FILE` lists them all)",
                            "NoTargets");
    }
    for (const auto& f : found.targets) {
      CC_ASSIGN(actions::Target t, actions::parse_target_arn(f.arn));
      Candidate c{t, req.confidence.empty() ? f.confidence : req.confidence, f.note, f.finding_id, {}};
      const std::pair<const char*, const std::string*> facts[] = {
          {"id", &f.finding_id}, {"type", &f.finding_type}, {"first_seen", &f.first_seen}, {"product_arn", &f.product_arn}};
      for (const auto& [k, v] : facts)
        if (!v->empty()) c.finding[k] = *v;
      // A finding about a long-term key contains that key first.
      if (t.type == "user" && f.access_key_id.rfind("AKIA", 0) == 0) c.options["iam.access_key_id"] = f.access_key_id;
      out.push_back(std::move(c));
    }
  }
  if (out.empty()) return Error{ErrorKind::kUsage, "NoTargets", "no targets: give --target ARN or --finding FILE"};
  return out;
}

Result<std::vector<std::string>> families_for(const actions::Target& t, const std::vector<std::string>& filter) {
  if (filter.empty()) return std::vector<std::string>{default_family(t)};
  std::vector<std::string> out;
  for (const auto& name : filter) {
    actions::ActionFamily* f = actions::find_family(name);
    if (!f) return Error::invalid("--actions: unknown action family '" + name + "' (known: " + actions::family_names() + ")");
    if (f->handles(t)) out.push_back(name);
  }
  if (out.empty())
    return Error::invalid("none of the requested action families can contain " + t.arn);
  return out;
}

// One (target, family) pair of the plan.
struct Entry {
  const Candidate* candidate;
  std::string family, account, region;
  GateDecision gate;
  bool is_protected = false;
  aws::AwsClient* client = nullptr;
  Status status = Ok{};  // of discovery and family.plan
  json result;           // the plan entry
  actions::Target target;  // as discovery confirmed it (the candidate's until then)
  std::string refusal;     // set when discovery shows the target may not be contained
  // Contained by a run not rolled back: not contained again, but still read back, so a plan never
  // says "already contained" of a target someone has since opened up again.
  std::optional<Holding> held;
  std::vector<std::string> reopened;  // of a held target: the steps its family would take again
};

json options_json(const std::map<std::string, std::string>& o) {
  json j = json::object();
  for (const auto& [k, v] : o) j[k] = v;
  return j;
}

}  // namespace

Result<json> build_plan(Runtime& rt, const PlanRequest& req) {
  CC_ASSIGN(std::vector<Candidate> candidates, gather(req));
  const Settings& settings = rt.settings();
  if (static_cast<int>(candidates.size()) > settings.max_targets_per_run)
    return Error::refused(std::to_string(candidates.size()) + " targets exceed max_targets_per_run (" +
                          std::to_string(settings.max_targets_per_run) + "); split the run or raise the limit");
  CC_ASSIGN(actions::Identity caller, rt.session().caller());
  aws::TimePoint now = rt.clock().now();
  std::unique_ptr<Journal> journal;
  if (auto j = rt.open_journal(); j.ok()) journal = std::move(*j);
  // What earlier runs applied to each target and did not roll back: families judge "already
  // contained" by what they created (the journal), never by tags or names in the account. The
  // same read gives what those runs hold (one containment per target).
  std::map<std::string, json> journaled;
  std::vector<Holding> holdings;
  if (journal) {
    if (auto history = read_history(*journal); history.ok()) {
      for (const auto& [run, steps] : *history)
        for (const StepRecord& st : steps)
          if (st.state == step_state::kApplied || st.state == step_state::kVerified)
            journaled[st.target].push_back(
                {{"run_id", st.run_id}, {"step_id", st.step_id}, {"state", st.state}, {"applied", st.applied}});
      holdings = current_holdings(*journal, *history);
    } else {
      // Not silent: one unreadable run hides what every run holds. Apply reads it again and
      // refuses while it cannot.
      spdlog::warn("the journal's history could not be read ({}): targets earlier runs hold are not shown as "
                   "held in this plan",
                   history.error().describe());
    }
  }

  json plan = json::object();
  plan["format"] = kPlanFormat;
  plan["created_at"] = aws::format_iso8601(now);
  plan["requester"] = req.requester.empty() ? caller.arn : req.requester;
  // The identity the approval checks use: who AWS says made the plan ("requester" is a label).
  plan["caller"] = {{"account", caller.account}, {"arn", caller.arn}, {"user_id", caller.user_id}};
  // Behind an assumed role: the role, and the session name (who assumed it, by convention and by
  // the approver name rule). UserId is "ROLEID:session".
  if (auto me = aws::parse_arn(caller.arn); me.ok() && me->kind == aws::ArnKind::kStsAssumedRole) {
    plan["caller"]["role"] = aws::principal_of(*me).str();
    plan["caller"]["session"] = me->session;
  }
  plan["region"] = rt.session().region();
  plan["options"] = options_json(req.options);
  plan["settings"] = {{"path", settings.path}, {"present", settings.present}, {"sha256", settings.sha256}};
  plan["source"] = req.finding_path.empty() ? json{{"kind", "targets"}} : json{{"kind", "finding"}, {"file", req.finding_path}};
  json effective = json::object();

  // 1. In order, without AWS calls (but for AssumeRole into member accounts): families, the
  //    gate, protection and the account's client. Usage errors surface before any discovery.
  std::vector<Entry> entries;
  for (const auto& c : candidates) {
    CC_ASSIGN(std::vector<std::string> families, families_for(c.target, req.actions));
    std::string account = c.target.account.empty() ? caller.account : c.target.account;
    std::string region = c.target.region.empty() ? rt.session().region() : c.target.region;
    effective[account] = effective_settings(settings, account).to_json();
    for (const auto& family : families) {
      GateInput gin{account, family, c.target.arn, c.confidence, std::nullopt, now};
      if (journal) gin.last_rollback = journal->last_rollback(c.target.arn);
      Entry e{&c, family, account, region, evaluate_gate(settings, caller, gin)};
      e.target = c.target;
      rt.audit("gate_decision", {{"target", c.target.arn}, {"family", family}, {"decision", e.gate.decision},
                                 {"reason", e.gate.reason}, {"phase", "plan"}});
      // Protected targets are not even discovered: they are never contained.
      e.is_protected = !protection_reason(settings, caller, c.target.arn).empty();
      e.held = held_by(holdings, c.target.arn, family);
      if (!e.is_protected) {
        CC_ASSIGN(e.client, rt.client_for(account, c.target.partition));
      }
      entries.push_back(std::move(e));
    }
  }

  // 2. Read-only discovery and family.plan, targets in parallel (bounded like the executor).
  std::vector<size_t> work;
  for (size_t i = 0; i < entries.size(); ++i)
    if (!entries[i].is_protected) work.push_back(i);
  std::vector<std::string> allow = settings.s3_allow_access;
  allow.push_back(principal_arn(caller.arn));
  auto plan_one = [&](Entry& e) -> Status {
    const Candidate& c = *e.candidate;
    actions::Options opts;
    opts.values = req.options;
    for (const auto& [k, v] : c.options) opts.values.emplace(k, v);
    aws::AwsClient target_client = e.client->with_context(c.target.arn);
    actions::Context ctx{target_client, c.target, e.region, "", caller, opts, allow, rt.clock()};
    actions::ActionFamily* fam = actions::find_family(e.family);
    CC_ASSIGN(json discovered, fam->discover(ctx));
    // From here on the target is the ARN AWS reports (the real IAM path and spelling), and
    // protection and the gate judge that one: a typed path must not hide a protected role.
    std::string real_arn = discovered.is_object() && discovered.contains("arn") && discovered["arn"].is_string()
                               ? discovered["arn"].get<std::string>()
                               : "";
    auto real = actions::canonical_target(c.target, real_arn);
    if (!real.ok()) {
      if (real.error().kind != ErrorKind::kRefused) return real.error();
      e.refusal = real.error().message;
      return Ok{};
    }
    e.target = *real;
    if (e.target.arn != c.target.arn) {
      GateInput gin{e.account, e.family, e.target.arn, c.confidence, std::nullopt, now};
      if (journal) gin.last_rollback = journal->last_rollback(e.target.arn);
      e.gate = evaluate_gate(settings, caller, gin);
    }
    if (auto why = protection_reason(settings, caller, e.target.arn); !why.empty()) {
      e.refusal = "target is protected: " + why;
      return Ok{};
    }
    actions::Context real_ctx{target_client, e.target, e.region, "", caller, opts, allow, rt.clock()};
    if (auto j = journaled.find(e.target.arn); j != journaled.end()) real_ctx.journal = j->second;
    CC_ASSIGN(actions::TargetPlan tp, fam->plan(real_ctx, discovered));
    if (e.held) {
      if (!tp.already_contained)
        for (const auto& s : tp.steps) e.reopened.push_back(s.id);
      return Ok{};
    }
    json steps = json::array();
    for (const auto& s : tp.steps) steps.push_back(step_to_json(s));
    e.result = {{"target", e.target.arn},   {"family", e.family},
                {"account", e.account},     {"region", e.region},
                {"confidence", c.confidence}, {"note", tp.note.empty() ? c.note : tp.note},
                {"already_contained", tp.already_contained},
                {"discovered", discovered}, {"warnings", tp.warnings},
                {"gate", e.gate.to_json()}, {"steps", steps},
                {"options", options_json(opts.values)}};
    if (!c.finding_id.empty()) e.result["finding_id"] = c.finding_id;
    if (!c.finding.empty()) e.result["finding"] = c.finding;
    return Ok{};
  };
  // Each target is a group of its own in the executor's pool, with the settings' bounds. A target
  // that cannot be planned (not found, access denied) is reported and skipped; the others go on.
  std::vector<std::vector<int>> groups;
  std::vector<std::string> keys;
  for (size_t w = 0; w < work.size(); ++w) {
    groups.push_back({static_cast<int>(w)});
    keys.push_back(entries[work[w]].account + "/" + entries[work[w]].region);
  }
  Status pooled = run_pool(rt.clock(), groups, keys, settings.workers, settings.per_account_region,
           [&](const std::vector<int>& group, PoolSlot&) {
             Entry& e = entries[work[static_cast<size_t>(group.front())]];
             try {
               e.status = plan_one(e);
             } catch (const std::exception& ex) {  // a thread must not end the process
               e.status = Error::internal(e.candidate->target.arn + ": planning failed: " + ex.what());
             }
           });
  if (!pooled.ok()) return pooled.error();

  // 3. The plan, in target order. Targets that could not be planned are listed under "unplanned";
  //    when none could be, the first failure (in target order) is the error.
  json targets = json::array(), refused = json::array(), unplanned = json::array();
  std::optional<Error> first_error;
  for (Entry& e : entries) {
    const std::string& arn = e.candidate->target.arn;
    if (e.is_protected) {
      refused.push_back({{"target", arn}, {"family", e.family}, {"reason", e.gate.reason}});
      continue;
    }
    if (e.held) {
      const Candidate& c = *e.candidate;
      e.result = {{"target", arn}, {"family", e.family}, {"account", e.account}, {"region", e.region},
                  {"confidence", c.confidence}, {"note", held_note(*e.held)}, {"already_contained", true},
                  {"contained_by_run", e.held->run_id}, {"discovered", json::object()},
                  {"warnings", json::array()}, {"gate", e.gate.to_json()}, {"steps", json::array()},
                  {"options", options_json(req.options)}};
      if (!c.finding_id.empty()) e.result["finding_id"] = c.finding_id;
      if (!e.status.ok()) {
        e.result["warnings"].push_back("could not read the target back from AWS to check that run " + e.held->run_id +
                                       "'s containment still holds: " + e.status.error().describe());
      } else if (!e.reopened.empty()) {
        json ids = e.reopened;
        e.result["reopened"] = ids;
        e.result["already_contained"] = false;
        e.result["note"] = "run " + e.held->run_id + " holds this target, but it is no longer contained in AWS";
        e.result["warnings"].push_back(
            "run " + e.held->run_id + " contained this target, but AWS no longer shows it contained: the " + e.family +
            " family would take these steps again: " + ids.dump() + ". Someone changed it after that run (the "
            "adversary may still hold credentials). See containctl status " + e.held->run_id +
            "; to contain it again, roll back that run and plan again.");
        rt.audit("containment_reopened", {{"target", arn}, {"family", e.family}, {"run_id", e.held->run_id},
                                          {"steps", ids}});
      }
    } else if (!e.status.ok()) {
      if (!first_error) first_error = e.status.error();
      unplanned.push_back({{"target", arn}, {"family", e.family}, {"error", e.status.error().describe()},
                           {"code", e.status.error().code}});
      continue;
    } else if (!e.refusal.empty()) {  // discovery showed the real target is protected or not the one named
      rt.audit("gate_decision", {{"target", arn}, {"family", e.family}, {"decision", "refused"},
                                 {"reason", e.refusal}, {"phase", "plan"}});
      refused.push_back({{"target", arn}, {"family", e.family}, {"reason", e.refusal}});
      continue;
    }
    if (e.gate.decision == "refused") {
      refused.push_back({{"target", arn}, {"family", e.family}, {"reason", e.gate.reason}});
      e.result["refused"] = true;  // shown; apply re-evaluates the gate and refuses it
    }
    targets.push_back(std::move(e.result));
  }
  if (targets.empty() && refused.empty() && first_error) return *first_error;
  plan["targets"] = targets;
  plan["refused"] = refused;
  if (!unplanned.empty()) plan["unplanned"] = unplanned;  // absent when every target was planned
  plan["effective_settings"] = effective;
  PlanDecision d = overall_decision(plan);
  plan["decision"] = {{"decision", d.decision}, {"approvals_required", d.approvals_required}};
  plan["plan_hash"] = compute_plan_hash(plan);
  return plan;
}

PlanDecision overall_decision(const json& plan) {
  PlanDecision d{"auto", 0};
  int executable = 0;
  for (const auto& t : plan.value("targets", json::array())) {
    if (t.value("refused", false)) continue;
    if (t["steps"].empty()) continue;  // already contained
    executable++;
    const json& g = t["gate"];
    if (g.value("decision", "") == "approval") {
      d.decision = "approval";
      d.approvals_required = std::max(d.approvals_required, g.value("approvals_required", 1));
    }
  }
  if (executable == 0) d.decision = plan.value("refused", json::array()).empty() ? "nothing" : "refused";
  return d;
}

std::string render_plan_text(const json& plan) {
  std::ostringstream o;
  o << "Plan " << plan.value("plan_hash", "").substr(0, 16) << "  requester " << plan.value("requester", "")
    << "  created " << plan.value("created_at", "") << "\n";
  if (plan.contains("caller") && plan["caller"].is_object() && plan["caller"].value("arn", "") != plan.value("requester", ""))
    o << "  made by " << plan["caller"].value("arn", "") << " (the requester above is a label)\n";
  for (const auto& t : plan["targets"]) {
    o << "\n" << t["target"].get<std::string>() << "  [" << t["family"].get<std::string>() << ", account "
      << t["account"].get<std::string>() << ", " << t["region"].get<std::string>() << ", "
      << t["confidence"].get<std::string>() << "]\n";
    const json& g = t["gate"];
    o << "  gate: " << g.value("decision", "") << " - " << g.value("reason", "") << "\n";
    if (!t.value("note", "").empty()) o << "  note: " << t["note"].get<std::string>() << "\n";
    if (t.value("already_contained", false) && !t.contains("contained_by_run"))
      o << "  already contained: nothing to do\n";
    int n = 1;
    for (const auto& s : t["steps"]) {
      o << "  " << n++ << ". " << s["id"].get<std::string>() << ": " << s["description"].get<std::string>()
        << (s["reversible"].get<bool>() ? "" : "  [IRREVERSIBLE]") << "\n";
      for (const auto& c : s["calls"])
        o << "       " << (c.value("mutating", true) ? "call " : "read ") << c["service"].get<std::string>() << ":"
          << c["operation"].get<std::string>() << " " << c["params"].dump() << "\n";
      o << "       before: " << s["before"].dump() << "\n";
      o << "       after:  " << s["after"].dump() << "\n";
      for (const auto& w : s["warnings"]) o << "       warning: " << w.get<std::string>() << "\n";
    }
    for (const auto& w : t["warnings"]) o << "  ! " << w.get<std::string>() << "\n";
  }
  for (const auto& r : plan["refused"])
    o << "\nrefused: " << r["target"].get<std::string>() << " (" << r["family"].get<std::string>()
      << "): " << r["reason"].get<std::string>() << "\n";
  for (const auto& u : plan.value("unplanned", json::array()))
    o << "\nNOT PLANNED: " << u["target"].get<std::string>() << " (" << u["family"].get<std::string>()
      << "): " << u["error"].get<std::string>() << "\n";
  const json& d = plan["decision"];
  o << "\ndecision: " << d.value("decision", "");
  if (d.value("decision", "") == "approval") o << " (" << d.value("approvals_required", 1) << " approval(s) needed)";
  o << "\n";
  if (plan.contains("unplanned"))
    o << "The plan is partial: " << plan["unplanned"].size() << " target(s) could not be planned (above).\n";
  return o.str();
}

}  // namespace containctl::orch
