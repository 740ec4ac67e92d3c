// Containment targets from findings: GuardDuty (as `aws guardduty get-findings` prints it, one
// finding or the whole {"Findings": [...]} response, or the EventBridge "GuardDuty Finding" event
// whose detail uses camelCase names) and Security Hub ASFF (one finding, {"Findings": [...]}, or
// the EventBridge "Security Hub Findings - Imported" event with detail.findings).
//
// Supported: GuardDuty Instance, AccessKey and S3Bucket resources; ASFF AwsEc2Instance,
// AwsIamUser, AwsIamRole, AwsIamAccessKey and AwsS3Bucket. Access keys: the principal type
// decides (IAMUser -> the user, AssumedRole -> the role the session belongs to, Root -> refused:
// root cannot be contained by policy); without a type, an AKIA key means its user and an ASIA key
// a role session. A finding whose resources are all unsupported is an error; unsupported resources
// next to supported ones in one ASFF finding are skipped with a warning on the log.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/result.h"

namespace containctl::orch {

struct FindingTarget {
  std::string arn, confidence = "suspected", note, finding_id, finding_type, source;
  std::string access_key_id;  // the key the finding names (AccessKey findings), for key-level actions
};

// `source_name` (a file name or "<stdin>") starts every error, followed by the field path.
Result<std::vector<FindingTarget>> targets_from_finding(const nlohmann::json& doc, const std::string& source_name);
// "-" reads stdin.
Result<std::vector<FindingTarget>> load_finding_file(const std::string& path_or_dash);

}  // namespace containctl::orch
