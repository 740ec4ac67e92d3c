#include "orchestrator/escalation.h"

#include <spdlog/spdlog.h>

#include <map>

#include "aws/arn.h"
#include "aws/securityhub.h"
#include "aws/sigv4.h"
#include "aws/support.h"
#include "orchestrator/audit_log.h"

namespace containctl::orch {

using nlohmann::json;

namespace {

// The case and the finding note belong to the account of the run's targets: its own client when
// it is the caller's account, otherwise the member role (whose template grants the escalation
// calls, stacksets/policy.cc).
Result<aws::AwsClient*> account_client(Runtime& rt, const json& plan) {
  const RunSummary sum = summarize_run(plan);
  if (sum.account.empty()) return &rt.session().client();
  return rt.client_for(sum.account, sum.partition.empty() ? "aws" : sum.partition);
}

// How long a `case open` may take between its claim and CreateCase's answer before another opener
// takes the claim over (CreateCase answers in seconds; retries with backoff stay well under this).
constexpr std::chrono::seconds kPendingStale{300};

// The run's audit records and the hash of the log's last record.
void read_audit(Runtime& rt, const std::string& run_id, CaseFacts& f, std::vector<std::string>& warnings) {
  auto all = read_audit_records(rt);
  if (!all.ok()) {
    warnings.push_back("audit log not read: " + all.error().message);
    return;
  }
  for (const auto& r : *all)
    if (r.is_object() && r.value("run_id", "") == run_id) f.audit.push_back(r);
  if (!all->empty() && all->back().is_object()) f.audit_head = all->back().value("hash", "");
}

// DescribeServices, where it answers: the service code must be listed and the category among its
// categories. It need not answer (moto does not implement it; a role may lack the permission):
// then the codes are used as configured and a warning says they were not checked.
// Support calls name the session's region: the member clients share the session's partition, and
// the endpoint resolver sends them to that partition's Support endpoint.
Status check_codes(aws::AwsClient& client, const std::string& region, const CaseOptions& o,
                   std::vector<std::string>& warnings) {
  auto svc = aws::support_describe_services(client, region, o.language);
  if (!svc.ok()) {
    if (svc.error().code == "SubscriptionRequiredException") return svc.error();
    warnings.push_back("service and category codes not checked (DescribeServices: " + svc.error().describe() + ")");
    return Ok{};
  }
  std::string near;
  for (const auto& s : svc->value("services", json::array())) {
    if (!s.is_object()) continue;
    const std::string code = s.value("code", "");
    if (code.find("account") != std::string::npos) near += (near.empty() ? "" : ", ") + code;
    if (code != o.service_code) continue;
    std::string cats;
    for (const auto& c : s.value("categories", json::array())) {
      if (!c.is_object()) continue;
      if (c.value("code", "") == o.category_code) return Ok{};
      cats += (cats.empty() ? "" : ", ") + c.value("code", "");
    }
    return Error::invalid("support DescribeServices: service '" + o.service_code + "' has no category '" +
                              o.category_code + "' (its categories: " + cats +
                              "); set escalation.category_code in the settings",
                          "UnknownCategoryCode");
  }
  return Error::invalid("support DescribeServices does not list service code '" + o.service_code +
                            "' (codes with 'account': " + (near.empty() ? "none" : near) +
                            "); set escalation.service_code in the settings",
                        "UnknownServiceCode");
}

Result<CaseOpened> open_case(Runtime& rt, Journal& journal, const RunRecord& run, const CaseOptions& o, bool dry_run,
                             CaseOpened& out) {
  const std::string& run_id = run.run_id;
  CaseFacts f{run, {}, {}, "", ""};
  CC_ASSIGN(f.steps, journal.steps(run_id));
  read_audit(rt, run_id, f, out.warnings);
  auto caller = rt.session().caller();
  f.caller_arn = caller.ok() ? caller->arn : "(caller unknown)";
  CaseDraft d = build_case(f, o);
  out.request = d.request.to_json();
  out.cuts = d.cuts;
  if (dry_run) return out;

  CC_ASSIGN(aws::AwsClient * client_p, account_client(rt, run.plan));
  aws::AwsClient& client = *client_p;
  const std::string& region = rt.session().region();
  CC_TRY(check_codes(client, region, o, out.warnings));
  // held_marker: the pending marker this opener set; the case replaces it only if it is still
  // there (another opener that took a stale marker over may have recorded its own case).
  auto record = [&](const std::string& case_id, bool found, const std::string& held_marker = "") -> Result<CaseOpened> {
    out.case_id = case_id;
    out.already = found;
    if (held_marker.empty()) {
      CC_TRY(journal.set_run_case(run_id, case_id));
    } else {
      CC_ASSIGN(bool kept, journal.swap_run_case(run_id, held_marker, case_id));
      if (!kept) {
        CC_ASSIGN(RunRecord now, journal.run(run_id));
        if (now.case_id != case_id)
          return Error::refused("support case " + case_id + " was created for run " + run_id +
                                    ", but another containctl took the opening over meanwhile (the run now records " +
                                    (now.case_id.empty() ? "its pending claim" : "case " + now.case_id) +
                                    "): close the case not needed in the Support Center",
                                "CaseOpenedTwice");
      }
    }
    rt.audit("case_opened", {{"run_id", run_id}, {"case_id", case_id}, {"found_existing", found},
                             {"severity", o.severity}, {"issue_type", o.issue_type}, {"service_code", o.service_code},
                             {"category_code", o.category_code}, {"body_sha256", aws::sha256_hex(d.request.communication_body)},
                             {"cuts", out.cuts}, {"warnings", out.warnings}});
    return out;
  };
  // A case with this run id in its subject: an earlier CreateCase whose answer was lost, or
  // another opener's that finished.
  CC_ASSIGN(std::string existing, aws::find_support_case(client, region, run_id));
  if (!existing.empty()) return record(existing, true);
  // Claim the creation in the journal first (compare-and-set of the case_id column), so two
  // openers (the Lambda's escalation and a responder's `case open`) never both create a case.
  // A marker older than kPendingStale was left by an opener that died before recording the
  // answer; if its case had been created, DescribeCases above would have found it.
  std::string expected;
  if (!run.case_pending.empty()) {
    aws::TimePoint since{};
    const std::string when = run.case_pending.substr(0, run.case_pending.find(' '));
    if (aws::parse_time(when, since) && rt.clock().now() - since < kPendingStale)
      return Error::refused("another containctl began opening the support case of run " + run_id + " at " + when +
                                " and DescribeCases shows no case yet: run `containctl case open " + run_id +
                                "` again in a few minutes (it finds the case, or takes over after " +
                                std::to_string(kPendingStale.count()) + " s)",
                            "CaseBeingOpened");
    expected = kCasePendingPrefix + run.case_pending;
  }
  const std::string marker =
      kCasePendingPrefix + aws::format_iso8601(rt.clock().now()) + " " + new_run_id(rt.clock().now());
  CC_ASSIGN(bool claimed, journal.swap_run_case(run_id, expected, marker));
  if (!claimed) {
    CC_ASSIGN(RunRecord now, journal.run(run_id));
    if (!now.case_id.empty()) return record(now.case_id, true);
    return Error::refused("another containctl is opening the support case of run " + run_id +
                              " right now: run `containctl case open " + run_id + "` again in a few minutes",
                          "CaseBeingOpened");
  }
  rt.audit("case_create_requested", {{"run_id", run_id}, {"subject", d.request.subject}, {"severity", o.severity},
                                     {"body_sha256", aws::sha256_hex(d.request.communication_body)}});
  auto created = aws::support_create_case(client, region, d.request);
  if (created.ok()) return record(*created, false, marker);
  Error e = created.error();
  if (!e.outcome_unknown) {
    // Surely not created: the next `case open` may create at once.
    if (auto released = journal.swap_run_case(run_id, marker, ""); !released.ok()) logged(Status(released.error()));
    return e;
  }
  // Not resent: read back by the run id first. The marker stays until the case is found.
  auto again = aws::find_support_case(client, region, run_id);
  if (again.ok() && !again->empty()) return record(*again, true, marker);
  e.message += again.ok() ? "; DescribeCases shows no case with run id " + run_id +
                                " yet: `containctl case open " + run_id + "` looks again before it creates one"
                          : "; reading back failed too: " + again.error().message;
  return e;
}

}  // namespace

Result<std::vector<json>> read_audit_records(Runtime& rt, const std::string& run_id) {
  if (TeamAuditLog* team = rt.team_audit()) return team->records(run_id);
  return read_audit_log(rt.state_dir() + "/audit.jsonl", run_id);
}

CaseOptions case_options_from_settings(const Settings& s) {
  CaseOptions o;
  const EscalationSettings& e = s.escalation;
  o.support_plan = e.support_plan;
  o.cc = e.cc;
  if (!e.language.empty()) o.language = e.language;
  if (!e.issue_type.empty()) o.issue_type = e.issue_type;
  if (!e.service_code.empty()) o.service_code = e.service_code;
  if (!e.category_code.empty()) o.category_code = e.category_code;
  return o;
}

Result<CaseOpened> open_run_case(Runtime& rt, Journal& journal, const std::string& run_id, CaseOptions o, bool dry_run) {
  CC_TRY(check_case_options(o));
  CC_ASSIGN(RunRecord run, journal.run(run_id));
  CaseOpened out;
  if (!run.case_id.empty() && !dry_run) {
    out.case_id = run.case_id;
    out.already = true;
    return out;
  }
  auto r = open_case(rt, journal, run, o, dry_run, out);
  if (!r.ok() && !dry_run) {
    Error e = r.error();
    e.message = scrub_secrets(e.message);
    rt.audit("case_open_failed", {{"run_id", run_id}, {"error", e.describe()}});
    return e;
  }
  return r;
}

Result<json> describe_run_case(Runtime& rt, const RunRecord& run) {
  CC_ASSIGN(aws::AwsClient * client, account_client(rt, run.plan));
  return aws::support_describe_case(*client, rt.session().region(), run.case_id);
}

Status add_run_case_note(Runtime& rt, Journal& journal, const std::string& run_id, const std::string& text) {
  CC_ASSIGN(RunRecord run, journal.run(run_id));
  if (run.case_id.empty())
    return Error::invalid("run " + run_id + " has no support case (open one: containctl case open " + run_id + ")",
                          "NoCase");
  std::vector<std::string> cuts;
  std::string body = fit_text(scrub_secrets(text), aws::kSupportBodyMax, "communicationBody",
                              " Full record: containctl audit show " + run_id, cuts);
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return Error::invalid("the text is empty", "EmptyText");
  CC_ASSIGN(aws::AwsClient * client, account_client(rt, run.plan));
  Status st = aws::support_add_communication(*client, rt.session().region(), run.case_id, body);
  if (!st.ok()) {
    rt.audit("case_update_failed", {{"run_id", run_id}, {"case_id", run.case_id}, {"error", scrub_secrets(st.error().describe())}});
    return st;
  }
  rt.audit("case_updated", {{"run_id", run_id}, {"case_id", run.case_id}, {"body_sha256", aws::sha256_hex(body)}, {"cuts", cuts}});
  return Ok{};
}

std::string rollback_case_text(const std::string& run_id, const std::string& status, const std::vector<StepRecord>& steps,
                               const std::vector<std::string>& errors) {
  std::string restored, not_restored;
  for (const auto& s : steps) {
    std::string line = "- " + s.target + "  " + s.family + " " + s.step_id + "\n";
    if (s.state == step_state::kRolledBack) restored += line;
    else if (s.state == step_state::kRollbackFailed) not_restored += line;
  }
  std::string text = "containctl rolled back run " + run_id + " (status " + status + ").\n";
  text += restored.empty() ? "Nothing was restored.\n" : "Restored to the state recorded before containment:\n" + restored;
  if (!not_restored.empty()) text += "NOT restored (still contained):\n" + not_restored;
  for (const auto& e : errors) text += "Error: " + e + "\n";
  text += "Full record: containctl audit show " + run_id + "\n";
  return text;
}

std::vector<std::pair<std::string, std::string>> plan_securityhub_findings(const json& plan) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : summarize_run(plan).findings) {
    const std::string id = f.value("id", ""), product = f.value("product_arn", "");
    if (!id.empty() && !product.empty()) out.push_back({id, product});
  }
  return out;
}

std::string finding_note(const std::string& run_id, const json& plan, const std::string& status,
                         const std::string& case_id, bool rolled_back) {
  const RunSummary sum = summarize_run(plan);
  std::string targets;
  for (const auto& t : sum.targets) targets += (targets.empty() ? "" : ", ") + t;
  std::string text = rolled_back ? "containctl run " + run_id + " rolled back (" + status + "): containment removed from " + targets
                                 : "containctl run " + run_id + " contained (" + status + "): " + targets;
  if (!case_id.empty()) text += ". AWS Support case " + case_id;
  text += ".";
  std::vector<std::string> cuts;
  return fit_text(scrub_secrets(text), aws::kFindingNoteMax, "Note.Text", "", cuts);
}

Result<json> report_back(Runtime& rt, const std::string& run_id, const json& plan, const std::string& status,
                         const std::string& case_id, bool rolled_back) {
  std::map<std::string, aws::FindingUpdate> by_region;
  std::vector<std::string> skipped;
  for (const auto& [id, product] : plan_securityhub_findings(plan)) {
    auto arn = aws::parse_arn(product);
    if (!arn.ok() || arn->service != "securityhub" || arn->region.empty()) {
      skipped.push_back(id + " (ProductArn is not a Security Hub product ARN)");
      continue;
    }
    aws::FindingUpdate& u = by_region[arn->region];
    u.findings.push_back({id, product});
  }
  const std::string note = finding_note(run_id, plan, status, case_id, rolled_back);
  CC_ASSIGN(aws::AwsClient * client, account_client(rt, plan));
  int updated = 0;
  for (auto& [region, u] : by_region) {
    u.note = note;
    u.updated_by = "containctl";
    u.workflow_status = rolled_back ? "" : "NOTIFIED";
    for (size_t i = 0; i < u.findings.size(); i += 100) {
      aws::FindingUpdate part = u;
      part.findings.assign(u.findings.begin() + i, u.findings.begin() + std::min(u.findings.size(), i + 100));
      CC_TRY(aws::batch_update_findings(*client, region, part));
      updated += static_cast<int>(part.findings.size());
    }
  }
  return json{{"updated", updated}, {"note", note}, {"skipped", skipped},
              {"workflow_status", rolled_back ? "unchanged" : "NOTIFIED"}};
}

json escalate_after_run(Runtime& rt, Journal& journal, const std::string& run_id, const json& plan,
                        const std::string& status, bool open_case_per_settings, bool report_back_to_hub) {
  json out = json::object();
  std::string case_id;
  if (open_case_per_settings && rt.settings().escalation.open_case == "on-auto-containment") {
    auto r = open_run_case(rt, journal, run_id, case_options_from_settings(rt.settings()), false);
    if (r.ok()) {
      case_id = r->case_id;
      out["case"] = {{"case_id", r->case_id}, {"already", r->already}, {"cuts", r->cuts}, {"warnings", r->warnings}};
    } else {
      out["case_error"] = scrub_secrets(r.error().describe());  // audited by open_run_case
    }
  }
  if (report_back_to_hub && !plan_securityhub_findings(plan).empty()) {
    if (case_id.empty()) {
      auto run = journal.run(run_id);
      if (run.ok()) case_id = run->case_id;
    }
    auto r = report_back(rt, run_id, plan, status, case_id, false);
    if (r.ok()) {
      out["security_hub"] = *r;
      rt.audit("securityhub_updated", {{"run_id", run_id}, {"updated", (*r)["updated"]}, {"workflow_status", "NOTIFIED"}});
    } else {
      out["security_hub_error"] = scrub_secrets(r.error().describe());
      rt.audit("securityhub_update_failed", {{"run_id", run_id}, {"error", out["security_hub_error"]}});
    }
  }
  return out;
}

AfterRunHook escalation_hook(Runtime& rt, const json& plan, bool open_case_per_settings, bool report_back_to_hub) {
  return [&rt, plan, open_case_per_settings, report_back_to_hub](Journal& journal, const std::string& run_id,
                                                                 const std::string& status, json& doc, std::string& text) {
    json esc;
    try {
      esc = escalate_after_run(rt, journal, run_id, plan, status, open_case_per_settings, report_back_to_hub);
    } catch (const std::exception& e) {  // never past the run's result
      esc = {{"case_error", std::string("internal error: ") + e.what()}};
    }
    if (esc.empty()) return;
    doc["escalation"] = esc;
    if (esc.contains("case"))
      text += "\nAWS Support case " + esc["case"].value("case_id", "") +
              (esc["case"].value("already", false) ? " (already open for this run)" : " opened");
    if (esc.contains("case_error"))
      text += "\nAWS Support case NOT opened (containment is unaffected): " + esc["case_error"].get<std::string>();
    if (esc.contains("security_hub"))
      text += "\nSecurity Hub: " + std::to_string(esc["security_hub"].value("updated", 0)) + " finding(s) noted, workflow NOTIFIED";
    if (esc.contains("security_hub_error"))
      text += "\nSecurity Hub NOT updated (containment is unaffected): " + esc["security_hub_error"].get<std::string>();
  };
}

}  // namespace containctl::orch
