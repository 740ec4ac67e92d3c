// `deploy generate`: the CloudFormation template of auto-containment in one account. EventBridge
// rules (GuardDuty Finding, Security Hub Findings - Imported) invoke the containctl Lambda function
// (`containctl lambda`, runtime provided.al2023), whose state lives in the team store (a DynamoDB
// table and an S3 bucket made by the same template), with a dead-letter queue and alarms.
//
// The function's role is derived, not listed: the action families' own IAM actions (as for the
// member role, stacksets/policy.h), sts:AssumeRole into the member role, and the team store's
// actions from the operations the store's code calls (team_store_operations(), checked against
// the sources by tests/stacksets/deploy_template_test.cc), scoped to the table and the bucket.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actions/action.h"
#include "stacksets/emit.h"
#include "stacksets/policy.h"

namespace containctl::stacksets {

// Function sizing, derived in docs/deploy.md from bench/lambda_coldstart.py's measurement of one
// event (25 MiB peak RSS, 176 ms CPU, 9 s at most): memory buys CPU, the timeout one hung AWS call.
inline constexpr int kFunctionMemoryMb = 512;
inline constexpr int kFunctionTimeoutSeconds = 300;
inline constexpr const char* kDefaultFunctionName = "containctl-auto-containment";
inline constexpr const char* kDefaultStateTable = "containctl-state";
inline constexpr const char* kDefaultSettingsKey = "settings.json";

struct DeployOptions {
  Format format = Format::kYaml;
  std::string sources;                 // --sources: comma-separated guardduty, securityhub ("" = both)
  std::optional<double> min_severity;  // --min-severity: GuardDuty's 0-10 scale (Security Hub: x10)
  std::string code_bucket;             // --code-bucket / --code-key: the parameters' defaults
  std::string code_key;
  std::string actions;                 // --actions: families the function may run ("" = all)
  std::string member_role_name = "ContainctlContainment";
};

// One operation the team store's code sends (service "dynamodb" or "s3"), and the IAM actions it
// needs. object_level: S3 actions on the bucket's objects (arn:...:bucket/*), else on the bucket
// or the table itself.
struct StoreOperation {
  std::string service;
  std::string operation;
  std::vector<std::string> iam_actions;
  bool object_level = false;
};
const std::vector<StoreOperation>& team_store_operations();

// The key prefixes the store writes under (blobs, audit checkpoints, deferred plans). Writes are
// granted there only: the function can read its settings object but not replace it.
const std::vector<std::string>& team_store_write_prefixes();

// Bad values (unknown source, severity out of 0-10, malformed bucket/key/role name, unknown
// family) are kInvalidInput; --code-bucket without --code-key (or the reverse) is kUsage.
Result<Doc> auto_containment_template(const DeployOptions& o, const std::vector<actions::ActionFamily*>& catalog);

}  // namespace containctl::stacksets
