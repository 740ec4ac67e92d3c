// Signed approvals: an approver's Ed25519 signature over one exact plan hash, with a validity
// window. Checked at apply time against the approvers listed in the settings then in force.
//
// What is signed (version 1): the UTF-8 bytes of
//   "containctl-approval-v1\n" + plan_hash + "\n" + approver + "\n" + issued_at + "\n" + expires_at + "\n"
// None of the four fields may contain a newline (plan_hash is 64 lower-case hex digits, the
// approver name is restricted by validate_approver_name, the times are ISO-8601 UTC
// "YYYY-MM-DDTHH:MM:SSZ"), so the serialisation is unambiguous. The domain prefix stops a
// signature made for anything else with the same key from passing as an approval.
//
// Approval file (JSON object, unknown fields rejected):
//   {"version": 1, "plan_hash": "...", "approver": "...", "issued_at": "...", "expires_at": "...",
//    "signature": "<base64 Ed25519>"}
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "approvals/keys.h"
#include "aws/clock.h"
#include "aws/result.h"

namespace containctl::approvals {

struct Approval {
  std::string plan_hash, approver, issued_at, expires_at, signature;
};

// How far in the future issued_at may be (clock skew between the approver and the applier).
inline constexpr std::chrono::seconds kMaxClockSkew{300};

Status generate_keypair(const std::string& name, const std::string& out_dir);

// The exact bytes that are signed (see above).
std::string signing_payload(const Approval& a);

Result<Approval> sign_approval(const std::string& plan_hash, const std::string& approver,
                               const std::string& private_key_path, std::chrono::seconds ttl, aws::TimePoint now);

nlohmann::json to_json(const Approval& a);
// `source` names the file (or other origin) in errors.
Result<Approval> approval_from_json(const nlohmann::json& doc, const std::string& source);
// Malformed, truncated or unknown-field files: an error naming the file and the field.
Result<Approval> load_approval(const std::string& path);
// Writes the approval JSON (0644: nothing in it is secret) atomically, replacing `path`.
Status write_approval(const Approval& a, const std::string& path);

// The person a requester string names: the last path element of an IAM user, assumed-role
// session or federated-user ARN ("arn:aws:sts::1:assumed-role/R/alice" -> "alice"), otherwise the
// string itself; lower-cased, because IAM names are case-insensitive.
std::string person_of(const std::string& requester);
// True when `approver` and `requester` name the same person. An e-mail-like session name
// ("alice@example.com") also matches approver "alice": a self-approval is refused on doubt.
bool same_person(const std::string& approver, const std::string& requester);

// An approver as the settings list them: the plain form ("alice": "/path/alice.pub.pem") gives
// only public_key.
struct ApproverSpec {
  std::string public_key;               // PEM file path
  std::string fingerprint;              // "sha256:<hex>" (key_fingerprint) or "" when not pinned
  std::vector<std::string> principals;  // the person's IAM principals (ARNs); may be empty
};

// True when `caller_arn` (what GetCallerIdentity said) is one of `principal`: the same ARN
// (case-insensitive), an IAM user ARN whatever its path, or an assumed-role session of a role ARN
// ("arn:aws:iam::1:role/R" covers "arn:aws:sts::1:assumed-role/R/anyone").
bool principal_matches(const std::string& principal, const std::string& caller_arn);
// True when the approver named `name` is the person behind `caller_arn`: one of its principals
// matches, or its name is the caller's user, session or federated name (a self-approval is refused
// on doubt, so the name rule holds even when principals are listed).
bool approver_is(const std::string& name, const ApproverSpec& spec, const std::string& caller_arn);

// An approval's identity for single use: hex SHA-256 of its signature.
std::string approval_id(const Approval& a);

struct AcceptedApproval {
  std::string source, approver, id;
};

struct ApprovalDecision {
  std::vector<std::string> accepted;  // approver names, distinct, in input order
  std::vector<AcceptedApproval> accepted_approvals;  // the same, with file and approval id
  std::vector<std::string> refusals;  // "SOURCE: approver 'x' ...: reason"
  bool satisfied = false;
};

// Who may not approve: (what they are, their ARN), e.g. {"the plan's caller", arn}.
using ExcludedParties = std::vector<std::pair<std::string, std::string>>;

struct ApprovalCheck {
  std::string plan_hash;
  ExcludedParties excluded;  // the plan's caller, the apply caller
  std::map<std::string, ApproverSpec> approvers;
  int required = 1;
  aws::TimePoint now;
};

// Checks one approver and its key as the settings give them: listed, key readable and not
// writable by others, fingerprint as pinned. Returns the PEM text.
Result<std::string> approver_public_key(const std::string& name, const std::map<std::string, ApproverSpec>& approvers);

// An approval counts when the approver is listed, its key matches the pinned fingerprint (if
// any), the signature verifies, the plan hash matches, now lies in [issued_at - kMaxClockSkew,
// expires_at), the approver is none of the excluded parties, and it is the first accepted approval
// from that approver. satisfied = distinct accepted >= required.
ApprovalDecision evaluate_approvals(const std::vector<std::pair<std::string, Approval>>& approvals,
                                    const ApprovalCheck& check);

// The plain form: approver_keys name -> public key path; `requester` the one excluded party.
ApprovalDecision evaluate_approvals(const std::vector<std::pair<std::string, Approval>>& approvals,
                                    const std::string& plan_hash, const std::string& requester,
                                    const std::map<std::string, std::string>& approver_keys, int required,
                                    aws::TimePoint now);

// "30m", "4h", "1d", "90s", "1h30m" -> seconds; errors name the bad text.
Result<std::chrono::seconds> parse_duration(const std::string& text);

}  // namespace containctl::approvals
