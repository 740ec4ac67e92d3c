// Shared by the finding readers (findings_guardduty.cc, findings_securityhub.cc) and the
// principal rules (findings_principals.cc). Not part of the public interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actions/target.h"
#include "aws/arn.h"
#include "orchestrator/findings.h"

namespace containctl::orch::findings {

using nlohmann::json;

// The API prints PascalCase, EventBridge carries camelCase, and old Security Hub findings spell
// types in capitals (AWSIAMAccessKey): field names and type names compare case-insensitively.
bool iequals(std::string_view a, std::string_view b);
const json* field(const json& obj, std::string_view name);
// The string value of a field, or "" when it is absent or not a string.
std::string str(const json& obj, std::string_view name);
// field(field(obj, a), b)..., nullptr as soon as one is missing or not an object.
const json* dig(const json& obj, std::initializer_list<std::string_view> names);

bool known_partition(const std::string& p);  // aws, aws-cn, aws-us-gov
bool is_account_id(const std::string& s);

// One finding being judged: where its targets and skipped resources go.
struct Judge {
  FindingTargets* out;
  std::string source, finding_id, finding_type;
  std::string first_seen, product_arn;  // for the report (case, Security Hub note), never for decisions
  std::string account, partition = "aws";
  std::string note_suffix;  // appended to every target's note (e.g. a third-party product)
  int produced = 0;         // targets + skips recorded for this finding

  // Validates `arn` as a containment target; a target that does not parse is skipped instead.
  void target(const std::string& resource, const std::string& arn, std::string note,
              std::string access_key_id = "");
  // An ARN from aws::Arn's builders: a builder's error (fields that make no valid ARN) is a skip.
  void target(const std::string& resource, const Result<aws::Arn>& arn, std::string note,
              std::string access_key_id = "");
  void skip(const std::string& resource, const std::string& reason);
};

// What a finding says about a principal, in whichever shape it came.
struct Principal {
  std::string key_id;        // AKIA.../ASIA..., "" when none (console logins: "null")
  std::string type;          // IAMUser, AssumedRole, Role, Root, FederatedUser, AWSService, ...
  std::string name;          // user name, or the role name for AssumedRole
  std::string principal_id;  // AIDA..., AROA...:session, or the account id for root
  std::string issuer_arn;    // the session issuer (SessionContext.SessionIssuer.Arn, Session.Issuer)
  std::string issuer_type;   // Role, User, Root
  std::string issuer_name;
  std::string account;       // the principal's account; the finding's when absent
};

// Turns a principal into a user or role target, or a skip with the reason.
void add_principal(Judge& j, const std::string& resource, const Principal& p);

// A resource ARN as the finding wrote it, checked or repaired. `expect` holds the structured
// fields the resource also carries (any may be empty = not given).
struct ArnExpect {
  std::string partition, service, region, account, type;  // type: instance, user, role, bucket, object
};
// The usable ARN, or the reason it is not usable (`why`).
std::optional<std::string> checked_arn(const std::string& arn, const ArnExpect& expect, std::string& why,
                                       std::string& repaired_from);

void guardduty_finding(Judge& j, const json& f);
void securityhub_finding(Judge& j, const json& f);

}  // namespace containctl::orch::findings
