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
// Shown in plans where the run id goes: a run id exists only once apply starts a run.
inline constexpr const char* kRunIdPlaceholder = "<run id, chosen at apply>";


// "User" or "Role": selects the IAM operation names (PutUserPolicy / PutRolePolicy, ...).
enum class Principal { kUser, kRole };
const char* principal_word(Principal p);       // "User" / "Role"
const char* principal_name_param(Principal p);  // "UserName" / "RoleName"

// ctx.run_id, or the placeholder at plan time.
std::string run_id_shown(const Context& ctx);
// Tags the principal with this run's id (ctx.run_id, taken at apply time, never from the plan).
Result<json> apply_run_tag(Context& ctx, Principal p, const std::string& name);
// Reads back that the run tag holds this run's id.
Result<bool> run_tag_holds(Context& ctx, Principal p, const std::string& name);

// Keys of the IAM resources a step writes, for ActionFamily::shared_resources: steps of different
// targets (and families) that write one of them never run at once. IAM names are unique ignoring
// case, so the name is lower-cased. principal_key: the user's or role's inline policies and tags
// (ec2-isolate's instance-role session revocation writes the role's too); access_keys_key: a
// user's access keys (iam-contain deactivate-keys and iam-rotate-keys).
std::string principal_key(Principal p, const std::string& partition, const std::string& account,
                          const std::string& name);
std::string access_keys_key(const std::string& partition, const std::string& account, const std::string& user);

// Creates (CreateAccessKey, CreateLoginProfile) pass {.idempotent = false}: never resent blindly.
Result<aws::XmlResponse> call(Context& ctx, const std::string& action, const aws::Params& params,
                               aws::CallOptions options = {});
bool is_no_such_entity(const Error& e);

// Follows Marker/IsTruncated and hands every member of `list_name` to `each`.
Status list_all(Context& ctx, const std::string& action, const aws::Params& params, const char* list_name,
                const std::function<void(pugi::xml_node)>& each);

// [{"AccessKeyId", "Status", "CreateDate"}] for the user, in IAM's order.
Result<json> list_access_keys(Context& ctx, const std::string& user);
// The access keys a journaled before-state ({"access_keys": [{"AccessKeyId", "Status"}, ...]})
// holds. A before-state without that list (a damaged journal row) is an error naming the step:
// read as "no keys", every key would look created since capture and none would be reactivated.
Result<json> journaled_keys(const Step& step, const json& before);
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
// Rollback of the run tag (kRunTagKey): removes only this run's mark (ctx.run_id), putting `before`
// back; a value written since by another run or anyone else stays.
Status restore_run_tag(Context& ctx, Principal p, const std::string& name, const json& before);
// True when the run tag no longer carries this run's id.
Result<bool> run_tag_gone(Context& ctx, Principal p, const std::string& name, const json& before);

// Policy documents. `cutoff` is ISO-8601 UTC; sessions whose aws:TokenIssueTime is earlier are denied.
json deny_all_statement();
json deny_older_sessions_statement(const std::string& cutoff);
std::string policy_text(const json& statements);
// The DateLessThan aws:TokenIssueTime of the document's statements; "" when absent.
std::string cutoff_of(const std::string& document);
// True when the document carries a statement with this Sid (shown to people; never a judgement).
bool has_sid(const std::string& document, const std::string& sid);

// The documents containctl writes, one per inline policy it owns.
enum class OurPolicy {
  kUserDeny,    // user ContainctlDenyAll: deny all + deny sessions issued before the cutoff
  kRoleRevoke,  // role ContainctlRevokeOlderSessions: deny sessions issued before the cutoff
  kRoleDeny,    // role ContainctlDenyAll: deny all (no cutoff)
};
std::string our_document(OurPolicy kind, const std::string& cutoff);
// The policy's cutoff ("" for kRoleDeny) when `policy` ({"exists","document"}) says exactly what
// containctl writes for `kind`; nullopt otherwise. Judged on content alone, never on the policy's
// name or Sids (an adversary can write those): statements are compared as a set, Sid ignored,
// single values and one-element lists alike, Action names and condition keys case-insensitive;
// Effect, Action, NotAction, Resource, NotResource, Principal, Condition and Version must match.
std::optional<std::string> match_ours(OurPolicy kind, const json& policy);
// The same judgement for any document containctl writes: `ours(cutoff)` is the text it would put
// (cutoff "" when `has_cutoff` is false); returns the document's cutoff when it is exactly that.
std::optional<std::string> match_document(const std::string& document, bool has_cutoff,
                                          const std::function<std::string(const std::string&)>& ours);
// The document in a comparable normal form (as above); null when it is not a policy document.
json normalized_policy(const std::string& document);

// Rollback of one of our inline policies: puts `before` back when the live policy is still what
// this run wrote (`applied_cutoff`, or any of ours when "" because the process died in apply) or
// already `before`. Anything else means someone changed it since (another run, the adversary,
// a person): refused naming the policy, unless `force`, which restores `before` anyway.
Status restore_our_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy,
                          OurPolicy kind, const json& before, const std::string& applied_cutoff, bool force);

// `j[key]` for a journaled object (before/applied), or null when absent: never operator[] on a
// const json, which is undefined for a missing key.
const json& field(const json& j, const char* key);

std::string now_iso(const Context& ctx);
ApiCall api_call(const std::string& operation, json params, bool mutating = true);
// An error that names the step and the principal.
Error step_error(const Step& step, const std::string& message, ErrorKind kind = ErrorKind::kClient);

}  // namespace containctl::actions::iam
