// The bucket-policy side of s3-contain, as pure functions: which aws:PrincipalArn patterns keep
// access, the deny statements, and adding/replacing a statement by Sid in a policy document.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/result.h"

namespace containctl::actions::s3 {

using ordered_json = nlohmann::ordered_json;

// Fixed Sids: re-applying replaces our own statement instead of stacking a second one, and
// rollback can tell our statement from the owner's.
inline constexpr const char* kBucketDenySid = "ContainctlDenyAllExceptAllowList";
// "ContainctlDenyObject" + 16 hex digits of SHA-256(key): one statement per object, stable.
std::string object_deny_sid(const std::string& key);

// The aws:PrincipalArn patterns (ArnLike syntax) that one allow-list entry stands for.
// An assumed-role session ARN (arn:aws:sts::A:assumed-role/ROLE/SESSION) becomes its role:
// aws:PrincipalArn carries the role ARN, which includes the role's path while the session ARN does
// not, so both arn:...:role/ROLE and arn:...:role/*/ROLE are allowed (role names are unique per
// account, so */ROLE matches that role only). Users, roles, account roots and federated users are
// kept as written; the ArnLike wildcards * and ? are allowed only in a user or role path and name,
// never in the partition or account (iam::*:role/R would let any account's role R in), and never
// as the whole name ("role/*", "role/?*"). Entries are validated by aws::Arn. Errors name the entry.
Result<std::vector<std::string>> principal_patterns(const std::string& principal_arn);
// All entries, deduplicated, in first-seen order. Errors name the first bad entry; empty is an error.
Result<std::vector<std::string>> allow_list_patterns(const std::vector<std::string>& principals);

// Deny s3:* on the bucket and every object in it unless aws:PrincipalArn matches a pattern.
// The resources are printed by aws::Arn; an invalid partition or bucket is an error naming it.
Result<ordered_json> bucket_deny_statement(const std::string& partition, const std::string& bucket,
                                           const std::vector<std::string>& patterns);
// Deny s3:* on one object (all its versions) unless aws:PrincipalArn matches a pattern.
// `policy_variables`: the document is Version 2012-10-17, so * ? $ in the key are escaped as
// ${*} ${?} ${$} and match literally. Without them a * or ? in the key widens the deny (never narrows).
Result<ordered_json> object_deny_statement(const std::string& partition, const std::string& bucket,
                                           const std::string& key, const std::vector<std::string>& patterns,
                                           bool policy_variables);
// The object key as it appears in an S3 resource ARN.
std::string resource_key(const std::string& key, bool policy_variables);

// A whole policy holding only `statement` (what bucket containment puts), pretty-printed.
std::string single_statement_policy(const ordered_json& statement);

// Parses a bucket policy; errors say it is not a JSON object with a Statement.
Result<ordered_json> parse_policy(const std::string& text);
// The statement with this Sid, or null json.
ordered_json find_statement(const ordered_json& policy, const std::string& sid);
// Structural equality that ignores key order (S3 may hand back the keys reordered).
bool same_json(const ordered_json& a, const ordered_json& b);
// The document's statements as an array (a single-object Statement becomes one element).
ordered_json statements(const ordered_json& policy);
// True when a statement of the document does what `statement` does: equal in every field but the
// Sid. A Sid is a name anybody with s3:PutBucketPolicy can write; it proves nothing, so a
// statement named like ours with other content does not count.
bool has_equivalent_statement(const ordered_json& policy, const ordered_json& statement);
// What rolling back one added statement leaves: `current` without the statements equal to `ours`
// (Sid included), and with the statements `before` (null: no policy) had under our Sid, which the
// apply replaced, put back. Every other statement, whoever added it since, stays.
ordered_json without_statement(const ordered_json& current, const ordered_json& before, const ordered_json& ours);
// `current_text` (empty: no policy) with `statement` added, or replacing the statement that has
// the same Sid. A single-object Statement becomes an array. The other statements are kept as they
// are. Errors: the current policy is not parseable; the result exceeds S3's 20 KB limit.
Result<std::string> with_statement(const std::string& current_text, const ordered_json& statement);
// Object keys are UTF-8 in S3 and in a policy document: a key that is not cannot be contained by a
// statement. The error names the key (invalid bytes shown as U+FFFD).
Status check_key_utf8(const std::string& bucket, const std::string& key);
// True when the document's Version is 2012-10-17 (policy variables work), or it has no policy.
bool supports_policy_variables(const std::string& current_text);

inline constexpr size_t kMaxBucketPolicyBytes = 20 * 1024;

}  // namespace containctl::actions::s3
