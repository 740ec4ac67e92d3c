// Containment settings: organization and account levels (the account overrides the organization
// field by field), modes none/approval/auto, allowed families, auto scope, approvers, protected
// ARNs. With no settings file the mode is `none`: containment is off until it is authorized.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "approvals/approval.h"
#include "aws/result.h"
#include "aws/retry.h"

namespace containctl::orch {

struct LevelSettings {  // one level; unset fields inherit
  std::optional<std::string> mode;        // none | approval | auto
  std::optional<std::vector<std::string>> actions;
  std::optional<std::string> auto_scope;  // confirmed | suspected
  std::optional<int> approvals_required;
};

// Where runs, steps, locks and the audit log live ("state"): the embedded SQLite journal in the
// state directory (default), or the team store (a DynamoDB table and an S3 bucket).
struct StateSettings {
  std::string backend = "sqlite";  // sqlite | aws
  std::string table;               // aws: the DynamoDB table
  std::string bucket;              // aws: the S3 bucket for large before-states and audit checkpoints
  std::string region;              // aws: their region ("" = the session's)
  // How long a run's lease on a resource lasts unless renewed (renewed every third of it): a
  // killed run's targets can be taken over this long after it died.
  int lease_seconds = 60;
};

// "escalation": the AWS Support case after an automatic containment (docs/case.md).
struct EscalationSettings {
  std::string open_case = "never";  // never | on-auto-containment
  std::string support_plan;         // basic | developer | business | enterprise-on-ramp | enterprise
  std::vector<std::string> cc;
  std::string language = "en";
  // Overrides of the playbook's codes (account and billing / Account / Security).
  std::string issue_type, service_code, category_code;
};

struct Settings {
  std::string path;          // "" when no file exists
  bool present = false;
  std::string organization_id;
  LevelSettings organization;
  std::map<std::string, LevelSettings> accounts;
  // name -> public key path (resolved against the file), pinned fingerprint, IAM principals.
  std::map<std::string, approvals::ApproverSpec> approvers;
  std::vector<std::string> protected_arns;       // ARN globs: never contained
  std::vector<std::string> s3_allow_access;
  std::string member_role_name = "ContainctlContainment";
  int max_targets_per_run = 50;
  int recontain_guard_hours = 24;
  // "executor": how many targets run at once, in all and per (account, region).
  int workers = 8;
  int per_account_region = 4;
  // "rate_limits": "service" (per account, region and service) or "service/Operation" buckets.
  // EC2 needs none: AWS's published request-token figures are the default.
  std::map<std::string, aws::BucketConfig> rate_limits;
  StateSettings state;
  EscalationSettings escalation;
  std::string sha256;  // of the file's bytes ("" when absent)
};

struct EffectiveSettings {
  std::string mode = "none";
  std::vector<std::string> actions;  // allowed families
  std::string auto_scope = "confirmed";
  int approvals_required = 1;
  std::map<std::string, std::string> source;  // field -> "account" | "organization" | "default"
  nlohmann::json to_json() const;
};

// Missing file -> defaults (mode none). Malformed JSON, unknown fields (with a suggestion),
// wrong types and bad values are errors naming the file and the field.
Result<Settings> load_settings(const std::string& path);
// The same from text read elsewhere (settings_source.h): `path` names it in messages and plans,
// relative key paths resolve against `base_dir`.
Result<Settings> parse_settings(const std::string& text, const std::string& path, const std::string& base_dir);
// "line L, column C: <reason>" for a JSON parse error in `text` (the text read is left out).
std::string json_error_position(const std::string& text, const nlohmann::json::parse_error& e);
EffectiveSettings effective_settings(const Settings& s, const std::string& account);

// Shell-style glob with '*' and '?' (ARN globs in `protected`).
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace containctl::orch
