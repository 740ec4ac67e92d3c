// containctl lambda: the function's process on Lambda (provided.al2023). Each invocation is an
// EventBridge finding event, handled as `respond` handles a finding: the gate decides; auto runs
// contain; otherwise the plan is stored (in the team store) for approval. See docs/lambda.md.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>

#include "orchestrator/cli_common.h"
#include "orchestrator/finding_claims.h"
#include "orchestrator/journal.h"
#include "orchestrator/lambda_runtime.h"
#include "orchestrator/respond.h"
#include "orchestrator/runtime.h"
#include "orchestrator/session.h"
#include "orchestrator/settings_source.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

// Less than this before the deadline, a containment is not started: it could not finish.
constexpr auto kMinTimeLeft = std::chrono::seconds(5);

Status require_team_store(const Settings& s) {
  if (s.state.backend == "aws") return Ok{};
  return Error::invalid("settings " + (s.path.empty() ? std::string("(none)") : s.path) +
                            ": containctl lambda keeps its state in the team store; the settings must say "
                            "\"state\": {\"backend\": \"aws\", \"table\": ..., \"bucket\": ...} (a function has no disk that lasts)",
                        "NoTeamStore");
}

std::string run_status(Runtime& rt, const RespondResult& r) {
  if (!r.run_id.empty()) {
    if (auto j = rt.open_journal(); j.ok())
      if (auto run = (*j)->run(r.run_id); run.ok()) return run->status;
    return r.exit_code == kExitOk ? "succeeded" : r.exit_code == kExitPartial ? "partial" : "failed";
  }
  if (r.decision == "approval") return "approval_needed";
  if (r.decision == "refused" || r.exit_code == kExitRefused) return "refused";
  if (r.exit_code == kExitOk) return "nothing_to_do";
  return "failed";
}

// Keeps only the findings this invocation claimed (a Security Hub event may carry several).
json only_claimed(json event, const std::vector<bool>& claimed) {
  if (event.value("detail-type", "") != "Security Hub Findings - Imported") return event;
  json kept = json::array();
  json& all = event["detail"]["findings"];
  for (size_t i = 0; i < all.size(); ++i)
    if (claimed[i]) kept.push_back(all[i]);
  all = kept;
  return event;
}

Result<json> handle(const GlobalOptions& g, const Invocation& inv) {
  spdlog::info("invocation {}", inv.request_id);
  json event = json::parse(inv.body, nullptr, false);
  if (event.is_discarded()) return Error::invalid("invocation " + inv.request_id + ": the event is not JSON", "InvalidEvent");
  CC_ASSIGN(std::vector<FindingKey> keys, finding_keys(event));
  if (inv.deadline - aws::SystemClock::instance().now() < kMinTimeLeft)
    return Error{ErrorKind::kTimeout, "DeadlineTooClose",
                 "invocation " + inv.request_id + " has less than 5 s left: no containment started"};

  // Settings and state are read afresh for every event: a mode turned off takes effect at once.
  CC_ASSIGN(std::unique_ptr<Runtime> rt, Runtime::open(g, true));
  CC_TRY(require_team_store(rt->settings()));
  const StateSettings& st = rt->settings().state;
  aws::ClientConfig config = rt->session().base_config();
  config.observer = nullptr;  // the store's own calls are not audit events
  FindingClaims claims(std::make_shared<aws::AwsClient>(config), st.region.empty() ? rt->session().region() : st.region,
                       st.table, rt->clock());

  std::vector<bool> claimed(keys.size(), false);
  json findings = json::array(), duplicates = json::array(), in_progress = json::array();
  std::vector<FindingKey> mine;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto c = claims.claim(keys[i], inv.request_id, inv.deadline);
    if (!c.ok()) {
      for (const auto& k : mine) logged(claims.finish(k, inv.request_id, "failed"));
      return c.error();
    }
    claimed[i] = *c == FindingClaims::Claim::kMine;
    (claimed[i] ? findings : *c == FindingClaims::Claim::kHandled ? duplicates : in_progress).push_back(keys[i].to_json());
    if (claimed[i]) mine.push_back(keys[i]);
  }
  json summary = {{"request_id", inv.request_id}, {"findings", findings}, {"duplicates", duplicates},
                  {"in_progress", in_progress}, {"run_id", nullptr}, {"targets", json::array()}, {"decision", nullptr}};
  // A finding another invocation still holds is not answered as handled: the holder may be killed
  // before it finishes, and only an error makes Lambda retry this event (after the holder's claim
  // expired, the retry takes it over; after it finished, the retry says duplicate).
  auto held_elsewhere = [&]() -> Error {
    return Error{ErrorKind::kTransient, "FindingInProgress",
                 "invocation " + inv.request_id + ": " + std::to_string(in_progress.size()) +
                     " finding(s) are being handled by another invocation; answered as an error so Lambda retries "
                     "this event: " + summary.dump()};
  };
  if (mine.empty()) {
    rt->audit("lambda_duplicate", {{"request_id", inv.request_id}, {"findings", duplicates}, {"in_progress", in_progress}});
    if (!in_progress.empty()) return held_elsewhere();
    summary["status"] = "duplicate";
    return summary;
  }

  PlanRequest req;
  req.finding_doc = only_claimed(std::move(event), claimed);
  req.finding_path = "event " + req.finding_doc.value("id", inv.request_id);
  Result<RespondResult> r = Error{ErrorKind::kInternal, "NoResult", "respond returned nothing"};
  try {
    r = respond(*rt, req);
  } catch (...) {
    // A run may exist: the claim says failed only when none does, so a retry never doubles a run.
    std::string outcome = rt->run_id().empty() ? "failed" : "done";
    for (const auto& k : mine) logged(claims.finish(k, inv.request_id, outcome));
    throw;
  }
  // Handled: a run exists, or there was nothing to contain, or the plan waits for approval (or the
  // settings refuse it). Anything else (exit 4 before any run, say the audit log failing closed)
  // leaves the claim failed, so Lambda's retry tries again.
  const bool started =
      r.ok() && (!r->run_id.empty() || r->exit_code == kExitOk || r->exit_code == kExitRefused);
  for (const auto& k : mine) logged(claims.finish(k, inv.request_id, started ? "done" : "failed"));
  if (!r.ok()) return r.error();

  summary["run_id"] = r->run_id.empty() ? json(nullptr) : json(r->run_id);
  summary["status"] = run_status(*rt, *r);
  summary["decision"] = r->decision;
  summary["plan_hash"] = r->plan.value("plan_hash", "");
  summary["plan"] = r->plan_stored.empty() ? r->plan_file : r->plan_stored;
  for (const auto& t : r->plan.value("targets", json::array())) summary["targets"].push_back(t.value("target", ""));
  if (r->exit_code == kExitError || r->exit_code == kExitPartial) {
    // Reported as the invocation's error (the function's Errors metric and alarm), naming the run.
    return Error{ErrorKind::kTransient, r->exit_code == kExitPartial ? "PartialContainment" : "ContainmentFailed",
                 "invocation " + inv.request_id + ": " + summary.dump()};
  }
  if (!in_progress.empty()) return held_elsewhere();
  return summary;
}

int run_lambda(GlobalOptions g) {
  // A function's only writable disk is /tmp, and nothing there is trusted across invocations.
  if (g.state_dir.empty() && !std::getenv("CONTAINCTL_STATE_DIR")) g.state_dir = "/tmp/containctl";
  const char* endpoint = std::getenv("AWS_LAMBDA_RUNTIME_API");
  if (!endpoint || !*endpoint)
    return report_error(g, Error{ErrorKind::kUsage, "NoRuntimeApi",
                                 "AWS_LAMBDA_RUNTIME_API is not set: `containctl lambda` is the process of a Lambda "
                                 "function (use `containctl respond` at a terminal)"});
  auto api = RuntimeApi::open(endpoint);
  if (!api.ok()) return report_error(g, api.error());
  // The settings are checked once before the first event, so a misconfigured function fails its
  // initialisation (init/error) instead of every event.
  std::unique_ptr<Session> session;
  auto settings = load_settings_for(g, session);
  Status ready = settings.ok() ? require_team_store(*settings) : Status(settings.error());
  if (!ready.ok()) {
    if (Status st = (*api)->init_error(ready.error()); !st.ok()) spdlog::error("init/error: {}", st.error().describe());
    return report_error(g, ready.error());
  }
  // Each invocation gets its own state directory under /tmp, removed when it ends: nothing one
  // invocation leaves there (audit copy, plan file) is read by the next; the team store holds the state.
  const std::string base = resolve_state_dir(g);
  return serve_invocations(**api, [&g, &base](const Invocation& inv) {
    GlobalOptions mine = g;
    mine.state_dir = base + "/invocation-" + inv.request_id;  // the id was checked: no '/' in it
    struct Remove {
      std::string dir;
      ~Remove() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    } remove{mine.state_dir};
    return handle(mine, inv);
  });
}

}  // namespace

void add_lambda_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  CLI::App* cmd = app.add_subcommand("lambda", "the Lambda Runtime API loop: EventBridge finding events handled as respond");
  cmd->callback([&] { rc = run_lambda(g); });
}

}  // namespace containctl::orch
