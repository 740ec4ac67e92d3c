#include "actions/iam_common.h"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

#include "aws/sigv4.h"

namespace containctl::actions::iam {

const char* principal_word(Principal p) { return p == Principal::kUser ? "User" : "Role"; }
const char* principal_name_param(Principal p) { return p == Principal::kUser ? "UserName" : "RoleName"; }

Result<aws::XmlResponse> call(Context& ctx, const std::string& action, const aws::Params& params,
                               aws::CallOptions options) {
  return ctx.client.query("iam", ctx.region, action, params, options);
}

bool is_no_such_entity(const Error& e) { return e.code == "NoSuchEntity"; }

namespace {
std::string lower_name(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

std::string principal_key(Principal p, const std::string& partition, const std::string& account,
                          const std::string& name) {
  return std::string("iam:") + (p == Principal::kUser ? "user" : "role") + ":" + (partition.empty() ? "aws" : partition) +
         ":" + account + ":" + lower_name(name);
}

std::string access_keys_key(const std::string& partition, const std::string& account, const std::string& user) {
  return "iam:access-keys:" + (partition.empty() ? std::string("aws") : partition) + ":" + account + ":" +
         lower_name(user);
}

Status list_all(Context& ctx, const std::string& action, const aws::Params& params, const char* list_name,
                const std::function<void(pugi::xml_node)>& each) {
  std::string marker;
  // A bound on pages guards against a service that keeps answering IsTruncated with the same marker.
  for (int page = 0; page < 10000; ++page) {
    aws::Params p = params;
    if (!marker.empty()) p.push_back({"Marker", marker});
    CC_ASSIGN(aws::XmlResponse r, call(ctx, action, p));
    for (pugi::xml_node n : aws::xml_list(r.root(), list_name)) each(n);
    if (aws::xml_text(r.root(), "IsTruncated") != "true") return Ok{};
    std::string next = aws::xml_text(r.root(), "Marker");
    if (next.empty() || next == marker) return Ok{};
    marker = next;
  }
  return Error::internal("iam " + action + ": too many pages");
}

Result<json> list_access_keys(Context& ctx, const std::string& user) {
  json keys = json::array();
  CC_TRY(list_all(ctx, "ListAccessKeys", {{"UserName", user}}, "AccessKeyMetadata", [&](pugi::xml_node n) {
    keys.push_back({{"AccessKeyId", aws::xml_text(n, "AccessKeyId")},
                    {"Status", aws::xml_text(n, "Status")},
                    {"CreateDate", aws::xml_text(n, "CreateDate")}});
  }));
  return keys;
}

const json& field(const json& j, const char* key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

Result<json> journaled_keys(const Step& step, const json& before) {
  const json& keys = field(before, "access_keys");
  if (!keys.is_array())
    return step_error(step, "journaled before-state holds no access_keys list", ErrorKind::kInternal);
  for (const auto& k : keys)
    if (!field(k, "AccessKeyId").is_string() || !field(k, "Status").is_string())
      return step_error(step, "journaled before-state's access_keys holds " + k.dump() + ", which is not an access key",
                        ErrorKind::kInternal);
  return keys;
}

const json* find_key(const json& keys, const std::string& id) {
  for (const auto& k : keys)
    if (k.value("AccessKeyId", "") == id) return &k;
  return nullptr;
}

Result<json> get_inline_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy) {
  auto r = call(ctx, std::string("Get") + principal_word(p) + "Policy",
                {{principal_name_param(p), name}, {"PolicyName", policy}});
  if (!r.ok()) {
    if (is_no_such_entity(r.error())) return json{{"exists", false}, {"document", nullptr}};
    return r.error();
  }
  // IAM returns the document URL-encoded.
  return json{{"exists", true}, {"document", aws::uri_decode(aws::xml_text(r->root(), "PolicyDocument"))}};
}

Status put_inline_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy,
                         const std::string& document) {
  CC_TRY(call(ctx, std::string("Put") + principal_word(p) + "Policy",
              {{principal_name_param(p), name}, {"PolicyName", policy}, {"PolicyDocument", document}}));
  return Ok{};
}

Status delete_inline_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy) {
  auto r = call(ctx, std::string("Delete") + principal_word(p) + "Policy",
                {{principal_name_param(p), name}, {"PolicyName", policy}});
  if (!r.ok() && !is_no_such_entity(r.error())) return r.error();
  return Ok{};
}

bool same_policy(const json& current, const json& before) {
  bool a = current.value("exists", false), b = before.value("exists", false);
  if (a != b) return false;
  if (!a) return true;
  // Compare as JSON: IAM may re-serialise whitespace.
  auto pa = json::parse(current["document"].get<std::string>(), nullptr, false);
  auto pb = json::parse(before["document"].get<std::string>(), nullptr, false);
  if (pa.is_discarded() || pb.is_discarded()) return current["document"] == before["document"];
  return pa == pb;
}

Result<json> list_inline_policy_names(Context& ctx, Principal p, const std::string& name) {
  json out = json::array();
  CC_TRY(list_all(ctx, std::string("List") + principal_word(p) + "Policies", {{principal_name_param(p), name}},
                  "PolicyNames", [&](pugi::xml_node n) { out.push_back(n.text().as_string()); }));
  return out;
}

Result<json> list_attached_policies(Context& ctx, Principal p, const std::string& name) {
  json out = json::array();
  CC_TRY(list_all(ctx, std::string("ListAttached") + principal_word(p) + "Policies",
                  {{principal_name_param(p), name}}, "AttachedPolicies", [&](pugi::xml_node n) {
                    out.push_back({{"PolicyName", aws::xml_text(n, "PolicyName")},
                                   {"PolicyArn", aws::xml_text(n, "PolicyArn")}});
                  }));
  return out;
}

Result<json> list_tags(Context& ctx, Principal p, const std::string& name) {
  json out = json::object();
  CC_TRY(list_all(ctx, std::string("List") + principal_word(p) + "Tags", {{principal_name_param(p), name}}, "Tags",
                  [&](pugi::xml_node n) { out[aws::xml_text(n, "Key")] = aws::xml_text(n, "Value"); }));
  return out;
}

Status tag(Context& ctx, Principal p, const std::string& name, const std::string& key, const std::string& value) {
  CC_TRY(call(ctx, std::string("Tag") + principal_word(p),
              {{principal_name_param(p), name}, {"Tags.member.1.Key", key}, {"Tags.member.1.Value", value}}));
  return Ok{};
}

Status untag(Context& ctx, Principal p, const std::string& name, const std::string& key) {
  CC_TRY(call(ctx, std::string("Untag") + principal_word(p),
              {{principal_name_param(p), name}, {"TagKeys.member.1", key}}));
  return Ok{};
}

Result<json> capture_tag(Context& ctx, Principal p, const std::string& name, const std::string& key) {
  CC_ASSIGN(json tags, list_tags(ctx, p, name));
  return json{{"value", tags.contains(key) ? tags[key] : json(nullptr)}};
}

std::string run_id_shown(const Context& ctx) { return ctx.run_id.empty() ? kRunIdPlaceholder : ctx.run_id; }

Result<json> apply_run_tag(Context& ctx, Principal p, const std::string& name) {
  if (ctx.run_id.empty()) return Error::internal("iam-contain: no run id to tag IAM " + std::string(principal_word(p)) + " " + name + " with");
  CC_TRY(tag(ctx, p, name, kRunTagKey, ctx.run_id));
  return json{{"tag", kRunTagKey}, {"value", ctx.run_id}};
}

Result<bool> run_tag_holds(Context& ctx, Principal p, const std::string& name) {
  CC_ASSIGN(json t, capture_tag(ctx, p, name, kRunTagKey));
  return !ctx.run_id.empty() && t["value"] == ctx.run_id;
}

Status restore_run_tag(Context& ctx, Principal p, const std::string& name, const json& before) {
  CC_ASSIGN(json now, capture_tag(ctx, p, name, kRunTagKey));
  if (now["value"] == before["value"]) return Ok{};
  if (now["value"] != ctx.run_id) {
    spdlog::warn("iam-contain: tag {} of IAM {} {} no longer names run {}; left as it is", kRunTagKey,
                 principal_word(p), name, ctx.run_id);
    return Ok{};
  }
  if (before["value"].is_null()) return untag(ctx, p, name, kRunTagKey);
  return tag(ctx, p, name, kRunTagKey, before["value"].get<std::string>());
}

Result<bool> run_tag_gone(Context& ctx, Principal p, const std::string& name, const json& before) {
  CC_ASSIGN(json now, capture_tag(ctx, p, name, kRunTagKey));
  return now["value"] == before["value"] || now["value"] != ctx.run_id;
}

json deny_all_statement() {
  return {{"Sid", kSidDenyAll}, {"Effect", "Deny"}, {"Action", "*"}, {"Resource", "*"}};
}

json deny_older_sessions_statement(const std::string& cutoff) {
  return {{"Sid", kSidDenyOlderSessions},
          {"Effect", "Deny"},
          {"Action", "*"},
          {"Resource", "*"},
          {"Condition", {{"DateLessThan", {{"aws:TokenIssueTime", cutoff}}}}}};
}

std::string policy_text(const json& statements) {
  return json{{"Version", "2012-10-17"}, {"Statement", statements}}.dump();
}

namespace {
json statements_of(const std::string& document) {
  auto doc = json::parse(document, nullptr, false);
  if (!doc.is_object() || !doc.contains("Statement")) return json::array();
  const json& s = doc["Statement"];
  return s.is_array() ? s : json::array({s});
}
}  // namespace

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A string or list of strings as a sorted, duplicate-free list (lower-cased when `fold`).
json value_set(const json& v, bool fold) {
  json list = v.is_array() ? v : json::array({v});
  std::vector<json> out;
  for (const auto& e : list) out.push_back(fold && e.is_string() ? json(lower(e.get<std::string>())) : e);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

json normalized_statement(const json& s) {
  if (!s.is_object()) return s;
  json out = json::object();
  for (const auto& [k, v] : s.items()) {
    if (k == "Sid") continue;
    if (k == "Action" || k == "NotAction") {
      out[k] = value_set(v, true);
    } else if (k == "Resource" || k == "NotResource") {
      out[k] = value_set(v, false);
    } else if (k == "Condition" && v.is_object()) {
      json cond = json::object();
      for (const auto& [op, block] : v.items()) {
        if (!block.is_object()) {
          cond[op] = block;
          continue;
        }
        json keys = json::object();
        for (const auto& [key, val] : block.items()) keys[lower(key)] = value_set(val, false);
        cond[op] = keys;
      }
      out[k] = cond;
    } else {
      out[k] = v;
    }
  }
  return out;
}

// The aws:TokenIssueTime of every DateLessThan condition in the document.
std::vector<std::string> cutoffs_in(const json& normalized) {
  std::vector<std::string> out;
  if (!normalized.is_object()) return out;
  for (const auto& s : normalized["Statement"]) {
    if (!s.is_object() || !s.contains("Condition") || !s["Condition"].is_object()) continue;
    const json& c = s["Condition"];
    if (!c.contains("DateLessThan") || !c["DateLessThan"].is_object()) continue;
    const json& d = c["DateLessThan"];
    if (!d.contains("aws:tokenissuetime")) continue;
    for (const auto& v : d["aws:tokenissuetime"])
      if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

json normalized_policy(const std::string& document) {
  auto doc = json::parse(document, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("Statement")) return nullptr;
  json out = json::object();
  for (const auto& [k, v] : doc.items()) {
    if (k == "Id") continue;  // a label, like Sid
    if (k != "Statement") out[k] = v;
  }
  const json& raw = doc["Statement"];
  std::vector<json> statements;
  for (const auto& s : raw.is_array() ? raw : json::array({raw})) statements.push_back(normalized_statement(s));
  std::sort(statements.begin(), statements.end());
  statements.erase(std::unique(statements.begin(), statements.end()), statements.end());
  out["Statement"] = statements;
  return out;
}

std::string our_document(OurPolicy kind, const std::string& cutoff) {
  switch (kind) {
    case OurPolicy::kUserDeny:
      return policy_text(json::array({deny_all_statement(), deny_older_sessions_statement(cutoff)}));
    case OurPolicy::kRoleRevoke:
      return policy_text(json::array({deny_older_sessions_statement(cutoff)}));
    case OurPolicy::kRoleDeny:
      return policy_text(json::array({deny_all_statement()}));
  }
  return "";
}

std::optional<std::string> match_ours(OurPolicy kind, const json& policy) {
  if (!policy.is_object() || !policy.value("exists", false) || !policy.contains("document") ||
      !policy["document"].is_string())
    return std::nullopt;
  return match_document(policy["document"].get<std::string>(), kind != OurPolicy::kRoleDeny,
                        [kind](const std::string& cutoff) { return our_document(kind, cutoff); });
}

std::optional<std::string> match_document(const std::string& document, bool has_cutoff,
                                          const std::function<std::string(const std::string&)>& ours) {
  const json have = normalized_policy(document);
  if (have.is_null()) return std::nullopt;
  std::string cutoff;
  if (has_cutoff) {
    const auto found = cutoffs_in(have);
    aws::TimePoint t;
    if (found.size() != 1 || !aws::parse_time(found.front(), t)) return std::nullopt;
    cutoff = found.front();
  }
  if (normalized_policy(ours(cutoff)) != have) return std::nullopt;
  return cutoff;
}

Status restore_our_policy(Context& ctx, Principal p, const std::string& name, const std::string& policy,
                          OurPolicy kind, const json& before, const std::string& applied_cutoff, bool force) {
  CC_ASSIGN(json current, get_inline_policy(ctx, p, name, policy));
  if (same_policy(current, before)) return Ok{};
  const auto ours = match_ours(kind, current);
  const bool as_applied = ours && (applied_cutoff.empty() || *ours == applied_cutoff);
  if (!as_applied && !force)
    return Error::refused(std::string("rollback of inline policy ") + policy + " on IAM " +
                              lower(principal_word(p)) + " " + name +
                              " refused: it changed since this run applied it (" +
                              (!current.value("exists", false) ? "it was deleted"
                               : ours ? "another containment with cutoff " + *ours + " replaced it"
                                      : "its content is no longer containctl's") +
                              "); putting back the state before this run would undo that change. Rerun rollback "
                              "with --force to restore the state before this run anyway",
                          "ChangedSinceApply");
  if (before.value("exists", false)) return put_inline_policy(ctx, p, name, policy, before["document"]);
  return delete_inline_policy(ctx, p, name, policy);
}

std::string cutoff_of(const std::string& document) {
  const auto found = cutoffs_in(normalized_policy(document));
  return found.empty() ? "" : found.front();
}

bool has_sid(const std::string& document, const std::string& sid) {
  for (const auto& s : statements_of(document))
    if (s.is_object() && s.value("Sid", "") == sid) return true;
  return false;
}

std::string now_iso(const Context& ctx) { return aws::format_iso8601(ctx.clock.now()); }

ApiCall api_call(const std::string& operation, json params, bool mutating) {
  return ApiCall{"iam", operation, std::move(params), mutating};
}

Error step_error(const Step& step, const std::string& message, ErrorKind kind) {
  std::string who = step.args.value("user_name", step.args.value("role_name", std::string()));
  return Error{kind, "StepFailed", "step '" + step.id + "' (" + who + "): " + message};
}

}  // namespace containctl::actions::iam

namespace containctl::actions::iam {

Result<std::string> reactivate_keys(Context& ctx, const std::string& user, const json& before_keys,
                                    const json& key_ids) {
  CC_ASSIGN(json keys, list_access_keys(ctx, user));
  std::string gone;
  for (const auto& id_j : key_ids) {
    const std::string id = id_j;
    const json* was = find_key(before_keys, id);
    if (!was || (*was)["Status"] != "Active") continue;
    const json* now = find_key(keys, id);
    if (!now) {
      gone += (gone.empty() ? "" : ", ") + id;
      continue;
    }
    if ((*now)["Status"] != "Active") {
      CC_TRY(call(ctx, "UpdateAccessKey", {{"UserName", user}, {"AccessKeyId", id}, {"Status", "Active"}}));
    }
  }
  return gone;
}

}  // namespace containctl::actions::iam
