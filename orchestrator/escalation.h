// Escalation of a run: the AWS Support security case (open, show, update, the rollback note) and
// the Security Hub write-back. Called by `case ...`, by `respond` after an automatic containment,
// by `apply --report-back`, by `rollback`, and by the Lambda runtime the same way respond does.
// A failure here is reported and audited; it never undoes, blocks or changes a containment.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/apply_run.h"
#include "orchestrator/runtime.h"
#include "orchestrator/support_case.h"

namespace containctl::orch {

// The case options the settings' "escalation" gives (flags override them afterwards).
CaseOptions case_options_from_settings(const Settings& settings);

struct CaseOpened {
  std::string case_id;  // "" for a dry run
  bool already = false;  // the run had a case (journal), or one with its run id was found (DescribeCases)
  nlohmann::json request;  // the exact CreateCase request (sent, or to be sent for a dry run)
  std::vector<std::string> cuts;
  std::vector<std::string> warnings;
};

// Opens the run's case: builds it from the journal, the plan and the audit log, checks the codes
// against DescribeServices where it answers, looks for a case with the run id first (a lost
// CreateCase answer), creates it once (never resent blindly), records the case id in the journal
// and the audit log. dry_run: builds and returns the request, no AWS call, nothing written.
Result<CaseOpened> open_run_case(Runtime& rt, Journal& journal, const std::string& run_id, CaseOptions options,
                                 bool dry_run);

// DescribeCases of the run's case (in the account of its targets), with recent communications.
Result<nlohmann::json> describe_run_case(Runtime& rt, const RunRecord& run);

// The audit records (of `run_id`, or all): the team store's log when the state is there (a run
// the Lambda did has its records only there, its /tmp copy is gone), else audit.jsonl.
Result<std::vector<nlohmann::json>> read_audit_records(Runtime& rt, const std::string& run_id = "");

// Adds a communication to the run's case (scrubbed, cut to the limit). Error when the run has none.
Status add_run_case_note(Runtime& rt, Journal& journal, const std::string& run_id, const std::string& text);

// The note rollback adds to the run's case: what was restored, what failed.
std::string rollback_case_text(const std::string& run_id, const std::string& status,
                               const std::vector<StepRecord>& steps, const std::vector<std::string>& errors);

// The Security Hub findings of a plan (targets whose finding has an ASFF ProductArn).
std::vector<std::pair<std::string, std::string>> plan_securityhub_findings(const nlohmann::json& plan);
// The note on the finding: run id, what was contained, the case id; cut to 512 characters; no secret.
std::string finding_note(const std::string& run_id, const nlohmann::json& plan, const std::string& status,
                         const std::string& case_id, bool rolled_back);
// BatchUpdateFindings on the plan's Security Hub findings (region from each ProductArn): the note,
// and workflow NOTIFIED after containment (left unchanged after rollback). {"updated": n} or an error.
Result<nlohmann::json> report_back(Runtime& rt, const std::string& run_id, const nlohmann::json& plan,
                                   const std::string& status, const std::string& case_id, bool rolled_back);

// After a run: opens the case when `open_case_per_settings` and the settings ask for it
// ("on-auto-containment"), and reports back to Security Hub when `report_back_to_hub` and the run
// came from a Security Hub finding. Never fails: returns {"case": {...}} / {"case_error": "..."},
// {"security_hub": ...} / {"security_hub_error": "..."}, each also audited. respond and the Lambda
// runtime call it with (true, true) through ApplyRequest::after_run (escalation_hook).
nlohmann::json escalate_after_run(Runtime& rt, Journal& journal, const std::string& run_id, const nlohmann::json& plan,
                                  const std::string& status, bool open_case_per_settings, bool report_back_to_hub);

// The ApplyRequest::after_run hook that calls escalate_after_run and adds its result to the
// command's output ("escalation" in JSON, lines in text).
AfterRunHook escalation_hook(Runtime& rt, const nlohmann::json& plan, bool open_case_per_settings,
                             bool report_back_to_hub);

}  // namespace containctl::orch
