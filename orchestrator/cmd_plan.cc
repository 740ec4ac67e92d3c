// plan and respond.
#include <iostream>
#include <regex>

#include "orchestrator/apply_run.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/journal.h"
#include "orchestrator/plan_file.h"
#include "orchestrator/planner.h"
#include "orchestrator/respond.h"

namespace containctl::orch {
namespace {

struct PlanArgs {
  std::vector<std::string> targets;
  std::string finding;
  std::string actions;
  std::string confidence;
  std::string requester;
  std::vector<std::string> options;
  std::string out;
};

Result<PlanRequest> to_request(const PlanArgs& a) {
  PlanRequest r;
  r.target_arns = a.targets;
  r.finding_path = a.finding;
  r.confidence = a.confidence;
  r.requester = a.requester;
  if (!a.actions.empty()) {
    std::string item;
    for (size_t i = 0; i <= a.actions.size(); ++i) {
      if (i == a.actions.size() || a.actions[i] == ',') {
        if (!item.empty()) r.actions.push_back(item);
        item.clear();
      } else if (a.actions[i] != ' ') {
        item.push_back(a.actions[i]);
      }
    }
  }
  for (const auto& o : a.options) {
    size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error{ErrorKind::kUsage, "BadOption", "--option '" + o + "': expected KEY=VALUE"};
    r.options[o.substr(0, eq)] = o.substr(eq + 1);
  }
  return r;
}

void add_selection(CLI::App* cmd, PlanArgs& a) {
  cmd->add_option("--actions", a.actions, "comma-separated action families");
  cmd->add_option("--confidence", a.confidence, "confirmed or suspected")->check(CLI::IsMember({"confirmed", "suspected"}));
  cmd->add_option("--requester", a.requester, "who asks for this containment (default: the caller's ARN)");
  cmd->add_option("--option", a.options, "KEY=VALUE family option (repeatable), e.g. ec2.min_conntrack_timeouts=true");
}

int run_plan(GlobalOptions& g, const PlanArgs& a) {
  auto req = to_request(a);
  if (!req.ok()) return report_error(g, req.error());
  auto rt = Runtime::open(g, true);
  if (!rt.ok()) return report_error(g, rt.error());
  auto plan = build_plan(**rt, *req);
  if (!plan.ok()) return report_error(g, plan.error());
  if (auto st = write_plan(a.out, *plan); !st.ok()) return report_error(g, st.error());
  (*rt)->audit("plan_created", {{"plan_hash", (*plan)["plan_hash"]}, {"file", a.out},
                                {"requester", (*plan)["requester"]}, {"targets", (*plan)["targets"].size()},
                                {"decision", (*plan)["decision"]}});
  print_result(g, *plan, render_plan_text(*plan) + "\nPlan written to " + a.out);
  // Exit 4: the plan was written, but some targets could not be planned (listed under "unplanned").
  return plan->contains("unplanned") ? kExitPartial : kExitOk;
}

int run_respond(GlobalOptions& g, const PlanArgs& a) {
  auto req = to_request(a);
  if (!req.ok()) return report_error(g, req.error());
  auto rt = Runtime::open(g, true);
  if (!rt.ok()) return report_error(g, rt.error());
  auto r = respond(**rt, *req);
  if (!r.ok()) return report_error(g, r.error());
  return r->exit_code;
}

}  // namespace

void add_plan_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  static PlanArgs plan_args, respond_args;
  CLI::App* plan = app.add_subcommand("plan", "dry-run: discover targets read-only and write a plan file");
  auto* t = plan->add_option("--target", plan_args.targets, "target ARN (repeatable)");
  auto* f = plan->add_option("--finding", plan_args.finding, "GuardDuty, EventBridge or Security Hub ASFF finding file");
  t->excludes(f);
  add_selection(plan, plan_args);
  plan->add_option("-o,--out", plan_args.out, "plan file to write")->required();
  plan->callback([&] {
    if (plan_args.targets.empty() && plan_args.finding.empty()) {
      rc = report_error(g, Error{ErrorKind::kUsage, "NoTargets", "plan needs --target ARN or --finding FILE"});
      return;
    }
    for (const auto& t : plan_args.targets) {
      // An instance id alone names no account or region: say what to write instead.
      static const std::regex kInstanceId("^i-([0-9a-f]{8}|[0-9a-f]{17})$");
      if (std::regex_match(t, kInstanceId)) {
        rc = report_error(g, Error{ErrorKind::kUsage, "InstanceIdNotArn",
                                   "--target " + t + " is an instance id; give its ARN: arn:aws:ec2:REGION:ACCOUNT:instance/" +
                                       t + " (e.g. arn:aws:ec2:us-east-1:123456789012:instance/" + t + ")"});
        return;
      }
    }
    rc = run_plan(g, plan_args);
  });

  CLI::App* respond = app.add_subcommand("respond", "automated runs: plan and, where the settings allow, apply at once");
  respond->add_option("--finding", respond_args.finding, "finding file, or - for stdin")->required();
  add_selection(respond, respond_args);
  respond->callback([&] { rc = run_respond(g, respond_args); });
}

}  // namespace containctl::orch
