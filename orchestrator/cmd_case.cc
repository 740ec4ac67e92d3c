// case open, case show, case update: the AWS Support security case of a run (docs/case.md).
#include <iostream>
#include <sstream>

#include "orchestrator/cli_common.h"
#include "orchestrator/escalation.h"
#include "orchestrator/plan_file.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

struct CaseArgs {
  std::string run_id, plan, severity, support_plan, impact, engagement, language, contact_method, text;
  std::vector<std::string> cc;
  bool dry_run = false;
};

int run_open(GlobalOptions& g, const CaseArgs& a) {
  auto rt_r = Runtime::open(g, true);
  if (!rt_r.ok()) return report_error(g, rt_r.error());
  Runtime& rt = **rt_r;
  // Flags over the settings' "escalation" over the playbook's defaults.
  CaseOptions o = case_options_from_settings(rt.settings());
  if (!a.support_plan.empty()) o.support_plan = a.support_plan;
  o.severity = a.severity;
  o.impact = a.impact;
  o.engagement = a.engagement;
  if (!a.language.empty()) o.language = a.language;
  if (!a.contact_method.empty()) o.contact_method = a.contact_method;
  if (!a.cc.empty()) o.cc = a.cc;
  if (auto st = check_case_options(o); !st.ok()) return report_error(g, st.error());
  auto journal = rt.open_journal();
  if (!journal.ok()) return report_error(g, journal.error());
  if (!a.plan.empty()) {
    // A plan given by hand must be the run's own: the case describes what ran, nothing else.
    auto plan = load_plan(a.plan);
    if (!plan.ok()) return report_error(g, plan.error());
    auto run = (*journal)->run(a.run_id);
    if (!run.ok()) return report_error(g, run.error());
    if (plan->value("plan_hash", "") != run->plan_hash)
      return report_error(g, Error::invalid("--plan " + a.plan + " is not the plan of run " + a.run_id +
                                            " (its hash differs from the journal's " + run->plan_hash.substr(0, 16) + "...)"));
  }
  rt.set_run_id(a.run_id);
  auto r = open_run_case(rt, **journal, a.run_id, o, a.dry_run);
  if (!r.ok()) return report_error(g, r.error());
  std::ostringstream text;
  json doc = {{"run_id", a.run_id}, {"dry_run", a.dry_run}, {"request", r->request}, {"cuts", r->cuts},
              {"warnings", r->warnings}};
  if (a.dry_run) {
    text << "Dry run: containctl would call support CreateCase (the Support endpoint of the run's partition,"
         << " X-Amz-Target AWSSupport_20130415.CreateCase) with:\n" << r->request.dump(2) << "\n";
    if (r->request.contains("communicationBody"))
      text << "\ncommunicationBody as the case will show it:\n" << r->request["communicationBody"].get<std::string>() << "\n";
    text << "Nothing was sent.\n";
  } else {
    doc["case_id"] = r->case_id;
    doc["already"] = r->already;
    text << "AWS Support case " << r->case_id
         << (r->already ? " (already open for this run; nothing created)" : " opened") << " for run " << a.run_id << "\n";
  }
  for (const auto& c : r->cuts) text << "cut: " << c << "\n";
  for (const auto& w : r->warnings) text << "warning: " << w << "\n";
  print_result(g, doc, text.str());
  return kExitOk;
}

int run_show(GlobalOptions& g, const std::string& run_id) {
  auto rt_r = Runtime::open(g, true);
  if (!rt_r.ok()) return report_error(g, rt_r.error());
  Runtime& rt = **rt_r;
  auto journal = rt.open_journal();
  if (!journal.ok()) return report_error(g, journal.error());
  auto run = (*journal)->run(run_id);
  if (!run.ok()) return report_error(g, run.error());
  if (run->case_id.empty())
    return report_error(g, Error::invalid("run " + run_id + " has no support case (open one: containctl case open " +
                                          run_id + ")", "NoCase"));
  auto c = describe_run_case(rt, *run);
  if (!c.ok()) return report_error(g, c.error());
  json latest;
  const json recent = c->value("recentCommunications", json::object());
  if (recent.is_object()) {
    const json list = recent.value("communications", json::array());
    for (const auto& m : list) {  // the newest by timeCreated
      if (!m.is_object()) continue;
      if (latest.is_null() || m.value("timeCreated", "") > latest.value("timeCreated", "")) latest = m;
    }
  }
  std::ostringstream text;
  text << "Case " << run->case_id << " (display id " << c->value("displayId", "?") << ") of run " << run_id << "\n"
       << "  status:   " << c->value("status", "?") << "\n"
       << "  severity: " << c->value("severityCode", "?") << "\n"
       << "  subject:  " << c->value("subject", "") << "\n"
       << "  service:  " << c->value("serviceCode", "") << " / " << c->value("categoryCode", "") << "\n"
       << "  created:  " << c->value("timeCreated", "") << "\n";
  json doc = {{"run_id", run_id}, {"case_id", run->case_id}, {"display_id", c->value("displayId", json())},
              {"status", c->value("status", json())}, {"severity", c->value("severityCode", json())},
              {"subject", c->value("subject", json())}, {"latest_communication", latest}};
  if (latest.is_object()) {
    text << "Latest communication (" << latest.value("timeCreated", "") << ", " << latest.value("submittedBy", "") << "):\n"
         << latest.value("body", "") << "\n";
  } else {
    text << "No communication returned.\n";
  }
  print_result(g, doc, text.str());
  return kExitOk;
}

int run_update(GlobalOptions& g, const std::string& run_id, const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return report_error(g, Error{ErrorKind::kUsage, "EmptyText", "case update needs --text TEXT"});
  auto rt_r = Runtime::open(g, true);
  if (!rt_r.ok()) return report_error(g, rt_r.error());
  Runtime& rt = **rt_r;
  auto journal = rt.open_journal();
  if (!journal.ok()) return report_error(g, journal.error());
  rt.set_run_id(run_id);
  if (auto st = add_run_case_note(rt, **journal, run_id, body); !st.ok()) return report_error(g, st.error());
  auto run = (*journal)->run(run_id);
  std::string case_id = run.ok() ? run->case_id : "";
  print_result(g, {{"run_id", run_id}, {"case_id", case_id}, {"added", true}},
               "Communication added to case " + case_id + " of run " + run_id);
  return kExitOk;
}

}  // namespace

void add_case_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  static CaseArgs open_args, show_args, update_args;
  CLI::App* cs = app.add_subcommand("case", "the AWS Support security case of a run");
  cs->require_subcommand(1);
  CLI::App* open = cs->add_subcommand("open", "open the AWS Support security case of a run, filled from the run");
  open->add_option("run_id", open_args.run_id, "run id (see status)")->required();
  open->add_option("--plan", open_args.plan, "the run's plan file (checked against the journal's plan hash)");
  open->add_option("--severity", open_args.severity, "low, normal, high, urgent or critical (default: by --support-plan)")
      ->check(CLI::IsMember({"low", "normal", "high", "urgent", "critical"}));
  open->add_option("--support-plan", open_args.support_plan,
                   "basic, developer, business, enterprise-on-ramp or enterprise (default: settings, else business)")
      ->check(CLI::IsMember({"basic", "developer", "business", "enterprise-on-ramp", "enterprise"}));
  open->add_option("--impact", open_args.impact, "business impact, in your words");
  open->add_option("--engagement", open_args.engagement, "level of engagement in your organization");
  open->add_option("--language", open_args.language, "case language: en, ja, zh, ko (default: settings, else en)");
  open->add_option("--contact-method", open_args.contact_method, "preferred contact method stated in the case (default: email)");
  open->add_option("--cc", open_args.cc, "email address copied on the case (repeatable, at most 10)");
  open->add_flag("--dry-run", open_args.dry_run, "print the exact CreateCase request; send nothing");
  open->callback([&] { rc = run_open(g, open_args); });

  CLI::App* show = cs->add_subcommand("show", "the case's status and latest communication");
  show->add_option("run_id", show_args.run_id, "run id")->required();
  show->callback([&] { rc = run_show(g, show_args.run_id); });

  CLI::App* update = cs->add_subcommand("update", "add a communication to the case");
  update->add_option("run_id", update_args.run_id, "run id")->required();
  update->add_option("--text", update_args.text, "the communication")->required();
  update->callback([&] { rc = run_update(g, update_args.run_id, update_args.text); });
}

}  // namespace containctl::orch
