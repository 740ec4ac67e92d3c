// Shared pieces of the IAM families (iam-contain, iam-rotate-keys): the fixed policy names and
// documents (docs/iam.md), paginated IAM reads, inline policies and tags for users and roles.
// IAM is global: every call goes to ctx.region, which the orchestrator sets to the partition's
// global region, and the endpoint layer signs it accordingly.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "actions/action.h"

namespace containctl::actions::iam {

// Fixed, documented names (docs/iam.md). Never change them: rollback and "already contained"
// detection find earlier containment by these names.
inline constexpr const char* kUserDenyPolicy = "ContainctlDenyAll";
inline constexpr const char* kRoleRevokePolicy = "ContainctlRevokeOlderSessions";
inline constexpr const char* kRoleDenyPolicy = "ContainctlDenyAll";
inline constexpr const char* kSidDenyAll = "ContainctlDenyAll";
inline constexpr const char* kSidDenyOlderSessions = "ContainctlDenyOlderSessions";
inline constexpr const char* kRunTagKey = "containctl:contained-by-run";
// Shown in plans where the apply-time timestamp goes (it is chosen when the step runs).
inline constexpr const char* kApplyTimePlaceholder = "<apply time, UTC>";

// "User" or "Role": selects the IAM operation names (PutUserPolicy / PutRolePolicy, ...).
enum class Principal { kUser, kRole };
const char* principal_word(Principal p);       // "User" / "Role"
const char* principal_name_param(Principal p);  // "UserName" / "RoleName"

Result<aws::XmlResponse> call(Context& ctx, const std::string& action, const aws::Params& params);
bool is_no_such_entity(const Error& e);

// Follows Marker/IsTruncated and hands every member of `list_name` to `each`.
Status list_all(Context& ctx, const std::string& action, const aws::Params& params, const char* list_name,
                const std::function<void(pugi::xml_node)>& each);

// [{"AccessKeyId", "Status", "CreateDate"}] for the user, in IAM's order.
Result<json> list_access_keys(Context& ctx, const std::string& user);
// The entry of `keys` with this exact id, or nullptr.
const json* find_key(const json& keys, const std::string& id);
const json* find_key(json&& keys, const std::string& id) = delete;  // would dangle
// Turns back on each of `key_ids` that was Active in `before_keys` and is not Active now (exact
// ids, never by age). Returns the ids that no longer exist, comma-separated ("" when none).
Result<std::string> reactivate_keys(Context& ctx, const std::string& user, const json& before_keys,
                                    const json& key_ids);

// {"exists": bool, "document": "<decoded policy text>"} for an inline policy.
Result<json> get_inline_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy);
Status put_inline_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy,
                         const std::string& document);
// NoSuchEntity counts as done (idempotent).
Status delete_inline_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy);
// Puts `before` back exactly: the original text when it existed, no policy when it did not.
Status restore_inline_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy,
                             const json& before);
// True when `current` and `before` ({"exists","document"}) describe the same policy.
bool same_policy(const json& current, const json& before);

Result<json> list_inline_policy_names(Context& ctx, Principal p, const std::string& name);
Result<json> list_attached_policies(Context& ctx, Principal p, const std::string& name);
// {"Key": "Value", ...}
Result<json> list_tags(Context& ctx, Principal p, const std::string& name);
Status tag(Context& ctx, Principal p, const std::string& name, const std::string& key, const std::string& value);
Status untag(Context& ctx, Principal p, const std::string& name, const std::string& key);
// {"value": "..."} or {"value": null}: the state of one tag key, for capture and rollback.
Result<json> capture_tag(Context& ctx, Principal p, const std::string& name, const std::string& key);
Status restore_tag(Context& ctx, Principal p, const std::string& name, const std::string& key, const json& before);

// Policy documents. `cutoff` is ISO-8601 UTC; sessions whose aws:TokenIssueTime is earlier are denied.
json deny_all_statement();
json deny_older_sessions_statement(const std::string& cutoff);
std::string policy_text(const json& statements);
// The DateLessThan aws:TokenIssueTime of our DenyOlderSessions statement; "" when absent.
std::string cutoff_of(const std::string& document);
// True when the document carries a statement with this Sid.
bool has_sid(const std::string& document, const std::string& sid);

std::string now_iso(const Context& ctx);
ApiCall api_call(const std::string& operation, json params, bool mutating = true);
// An error that names the step and the principal.
Error step_error(const Step& step, const std::string& message, ErrorKind kind = ErrorKind::kClient);

}  // namespace containctl::actions::iam
