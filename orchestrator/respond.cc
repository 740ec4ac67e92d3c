#include "orchestrator/respond.h"

#include <iostream>

#include "orchestrator/apply_run.h"
#include "orchestrator/escalation.h"
#include "orchestrator/journal.h"
#include "orchestrator/plan_file.h"

namespace containctl::orch {
namespace {

// The team store keeps a deferred plan where every approver can fetch it: a function's state
// directory is gone when the function is.
Result<std::string> store_plan_in_team_store(Runtime& rt, const std::string& name, const nlohmann::json& plan) {
  const StateSettings& st = rt.settings().state;
  aws::ClientConfig config = rt.session().base_config();
  config.observer = nullptr;  // the store's own calls are not audit events
  aws::AwsClient client(config);
  aws::RestRequest r;
  r.operation = "PutObject";
  r.method = "PUT";
  r.bucket = st.bucket;
  r.key = "plans/" + name;
  r.body = plan.dump(2);
  r.headers.push_back({"Content-Type", "application/json"});
  CC_TRY(client.rest_xml("s3", st.region.empty() ? rt.session().region() : st.region, r));
  return "s3://" + st.bucket + "/" + r.key;
}

}  // namespace

Result<RespondResult> respond(Runtime& rt, const PlanRequest& req) {
  const GlobalOptions& g = rt.globals();
  RespondResult out;
  CC_ASSIGN(out.plan, build_plan(rt, req));
  nlohmann::json& plan = out.plan;
  std::string dir = rt.state_dir() + "/plans";
  CC_TRY(ensure_state_dir(dir));
  std::string name = "plan-" + aws::format_amz_date(rt.clock().now()) + "-" +
                     plan["plan_hash"].get<std::string>().substr(0, 12) + ".json";
  out.plan_file = dir + "/" + name;
  CC_TRY(write_plan(out.plan_file, plan));
  if (rt.settings().state.backend == "aws") { CC_ASSIGN(out.plan_stored, store_plan_in_team_store(rt, name, plan)); }
  const std::string& where = out.plan_stored.empty() ? out.plan_file : out.plan_stored;
  rt.audit("plan_created", {{"plan_hash", plan["plan_hash"]}, {"file", where}, {"requester", plan["requester"]},
                            {"targets", plan["targets"].size()}, {"decision", plan["decision"]},
                            {"automated", true}});
  PlanDecision d = overall_decision(plan);
  out.decision = d.decision;
  if (d.decision == "auto" || d.decision == "nothing") {
    if (!g.json()) std::cout << render_plan_text(plan) << "Plan " << where << ": automatic containment allowed\n";
    // The support case (when the settings ask) and the Security Hub note come after the
    // containment and never change its outcome (orchestrator/escalation.h).
    ApplyRequest apply{{}, "", true};
    apply.after_run = escalation_hook(rt, plan, true, true);
    apply.plan_path = out.plan_file;
    out.exit_code = apply_plan(rt, plan, apply);
    // Targets that could not be planned were not contained: the response is partial (exit 4).
    if (out.exit_code == kExitOk && plan.contains("unplanned")) out.exit_code = kExitPartial;
    out.run_id = rt.run_id();
    return out;
  }
  std::string why = d.decision == "refused" ? "containment refused by the settings; plan written to " + where
                                            : "approval needed (" + std::to_string(d.approvals_required) +
                                                  "); plan written to " + where +
                                                  "\n  next: containctl approve " + where + " ... && containctl apply " +
                                                  where + " --approval ...";
  if (!g.json()) std::cout << render_plan_text(plan);
  rt.audit("respond_deferred", {{"plan_hash", plan["plan_hash"]}, {"file", where}, {"decision", d.decision}});
  if (g.json())
    std::cout << nlohmann::json{{"status", d.decision == "refused" ? "refused" : "approval_needed"},
                                {"plan", where}, {"plan_hash", plan["plan_hash"]}}.dump(2)
              << std::endl;
  std::cerr << "containctl: " << why << std::endl;
  out.exit_code = kExitRefused;
  return out;
}

}  // namespace containctl::orch
