// Containment targets from findings, without any AWS call. Accepted documents: a GuardDuty
// finding (as `aws guardduty get-findings` prints it, one finding, a bare array or the whole
// {"Findings": [...]} response), the EventBridge "GuardDuty Finding" event (camelCase detail),
// a Security Hub ASFF finding (one, an array, {"Findings": [...]}) and the EventBridge
// "Security Hub Findings - Imported" / "- Custom Action" events (detail.findings).
//
// Every finding and every resource is judged on its own: what can be contained becomes a target,
// everything else is listed under `skipped` with its reason, and one bad resource never sinks its
// neighbours. Only a document that is not a finding at all is an error.
//
// Trust rule: a finding identifies resources, nothing more. Its text never raises confidence:
// every target from a finding is `suspected` (only the operator's --confidence says confirmed).
// A Security Hub finding whose ProductArn is not GuardDuty's or Security Hub's own was imported
// by some other product (anyone with securityhub:BatchImportFindings can write one), and its
// targets carry a note saying so. See docs/findings.md.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/result.h"

namespace containctl::orch {

struct FindingTarget {
  std::string arn, confidence = "suspected", note, finding_id, finding_type, source;
  std::string access_key_id;          // the key the finding names, for key-level actions
  std::string first_seen;             // when the finding's activity was first seen (as the finding says)
  std::string product_arn;            // ASFF ProductArn (Security Hub write-back), "" for GuardDuty's own format
  std::vector<std::string> families;  // the action families that can contain this target
};

struct SkippedResource {
  std::string finding_id, resource, reason;
};

struct FindingTargets {
  std::vector<FindingTarget> targets;   // duplicates collapsed, in the order first seen
  std::vector<SkippedResource> skipped;
};

// `source_name` (a file name or "<stdin>") starts every error message.
Result<FindingTargets> targets_from_finding(const nlohmann::json& doc, const std::string& source_name);
// "-" reads stdin.
Result<FindingTargets> load_finding_file(const std::string& path_or_dash);
// The same from text read elsewhere; `source` names it in messages.
Result<FindingTargets> findings_from_text(const std::string& text, const std::string& source);

// {"targets": [{arn, families, confidence, finding_id, finding_type, source, note, access_key_id}],
//  "skipped": [{finding_id, resource, reason}]}
nlohmann::json to_json(const FindingTargets& found);
// The same for people: one line a target, one a skipped resource.
std::string to_text(const FindingTargets& found);

}  // namespace containctl::orch
