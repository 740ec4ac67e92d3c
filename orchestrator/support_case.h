// The AWS Support security case of a run: its CreateCase request built from what containctl
// already holds (the plan, the journal, the audit log), as AWS's incident playbooks ask a
// responder to write it: the issue and its impact, when it was first noticed, a timeline, the
// artifacts, the suspected principals, the engagement, the preferred contact. Pure: no AWS call.
//
// What enters the text is chosen field by field (ids, ARNs, step names, states, times); the
// journal's before/after states are never dumped. Then every line is scrubbed of anything shaped
// like a secret (secret access keys, session tokens, password=... pairs, signature material),
// and the text is cut to the API's limits with a note saying what was cut.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/support.h"
#include "orchestrator/journal.h"

namespace containctl::orch {

// What the responder (flags) and the settings ("escalation") say about the case.
struct CaseOptions {
  std::string severity;      // low | normal | high | urgent | critical; "" = from support_plan
  std::string support_plan;  // basic | developer | business | enterprise-on-ramp | enterprise; "" = business
  std::string impact;        // business impact, as the responder states it
  std::string engagement;    // level of engagement in the organization
  std::string language = "en";
  std::string contact_method = "email";  // preferred contact method, stated in the body
  std::vector<std::string> cc;
  // The codes of the playbook's "Account and billing / Account / Security" (docs/case.md).
  std::string issue_type = "customer-service";
  std::string service_code = "customer-account";
  std::string category_code = "security";
};

// Checks values and fills the severity from the plan: an error names the flag and the allowed values.
Status check_case_options(CaseOptions& o);
// The playbook's severity for a support plan: enterprise and enterprise-on-ramp -> critical
// (business-critical system down), business -> urgent (production system down), developer and
// basic -> low (general guidance). "" for an unknown plan.
std::string severity_for_plan(const std::string& plan);

// Everything the case is built from.
struct CaseFacts {
  RunRecord run;                          // with its plan
  std::vector<StepRecord> steps;
  std::vector<nlohmann::json> audit;      // the run's audit records, in order
  std::string audit_head;                 // hash of the audit log's last record
  std::string caller_arn;                 // who opens the case
};

struct CaseDraft {
  aws::SupportCaseRequest request;
  std::vector<std::string> cuts;  // what was cut to fit the limits ("" when nothing)
};

// The subject carries the run id, so a CreateCase whose answer was lost can be found again.
CaseDraft build_case(const CaseFacts& facts, const CaseOptions& options);

// Replaces whatever looks like a secret in free text: 40-character secret-key-like tokens, long
// base64 runs (session tokens), "password|secret|token|credential <sep> value" pairs, SigV4
// signature material. Identifiers (ARNs, AKIA/ASIA key ids, hex hashes) are kept.
std::string scrub_secrets(std::string_view text);

// Cuts `text` to at most `max` characters at a line (or word) boundary, ending with a note of how
// much was cut and where the full record is; `cuts` gets one line saying so. Unchanged if it fits.
std::string fit_text(const std::string& text, size_t max, const std::string& what, const std::string& full_record,
                     std::vector<std::string>& cuts);

// The identity, the targets, the findings of a plan, for reports.
struct RunSummary {
  std::string account;    // the first target's account (the caller's when there is no target)
  std::string partition;  // the first target's partition
  std::vector<std::string> targets;            // ARNs in plan order
  std::vector<std::string> principals;         // IAM users and roles among targets and what discovery read
  std::vector<nlohmann::json> findings;        // {"id", "type", "first_seen", "product_arn"} distinct by id
};
RunSummary summarize_run(const nlohmann::json& plan);

}  // namespace containctl::orch
