// iam-contain for IAM users. Steps (all independent, so the executor may run them in parallel):
//   deactivate-keys  UpdateAccessKey Inactive for the active keys (the finding's key first)
//   deny-all         inline ContainctlDenyAll: deny everything, and every session issued before apply
//   tag              containctl:contained-by-run = run id
//   disable-console  (iam.disable_console=true) DeleteLoginProfile: irreversible
//   deactivate-mfa   (iam.deactivate_mfa=SERIAL) DeactivateMFADevice: irreversible
#include <spdlog/spdlog.h>

#include <algorithm>

#include "actions/iam_common.h"
#include "actions/iam_contain.h"
#include "actions/iam_contain_steps.h"
#include "actions/secret_delivery.h"

namespace containctl::actions::iam {

namespace {

constexpr Principal kUser = Principal::kUser;

// The policy put on the user; the plan shows it with a placeholder for the apply-time cutoff.
std::string user_deny_document(const std::string& cutoff) { return our_document(OurPolicy::kUserDeny, cutoff); }

// The cutoff when the policy says exactly what containctl writes (content, not name or Sids).
std::optional<std::string> our_user_deny(const json& policy) { return match_ours(OurPolicy::kUserDeny, policy); }

bool lists_serial(const json& devices, const std::string& serial) {
  return std::any_of(devices.begin(), devices.end(),
                     [&](const json& d) { return d.value("SerialNumber", "") == serial; });
}

}  // namespace

Result<json> login_profile(Context& ctx, const std::string& user) {
  auto r = call(ctx, "GetLoginProfile", {{"UserName", user}});
  if (!r.ok()) {
    if (is_no_such_entity(r.error())) return json(nullptr);
    return r.error();
  }
  return json{{"CreateDate", aws::xml_text(r->root(), "CreateDate")},
              {"PasswordResetRequired", aws::xml_text(r->root(), "PasswordResetRequired") == "true"}};
}

Result<json> mfa_serials(Context& ctx, const std::string& user) {
  json out = json::array();
  CC_TRY(list_all(ctx, "ListMFADevices", {{"UserName", user}}, "MFADevices", [&](pugi::xml_node n) {
    out.push_back({{"SerialNumber", aws::xml_text(n, "SerialNumber")}, {"EnableDate", aws::xml_text(n, "EnableDate")}});
  }));
  return out;
}

Result<json> discover_user(Context& ctx) {
  const std::string& name = ctx.target.name;
  auto got = call(ctx, "GetUser", {{"UserName", name}});
  if (!got.ok()) {
    if (is_no_such_entity(got.error()))
      return Error{ErrorKind::kClient, "NoSuchEntity",
                   "IAM user '" + name + "' does not exist in account " + ctx.target.account + " (" + ctx.target.arn +
                       ")"};
    return got.error();
  }
  pugi::xml_node u = got->root().find_node([](pugi::xml_node n) { return std::string_view(n.name()) == "User"; });
  json d = {{"kind", "user"},
            {"user_name", aws::xml_text(u, "UserName")},
            {"arn", aws::xml_text(u, "Arn")},
            {"user_id", aws::xml_text(u, "UserId")},
            {"path", aws::xml_text(u, "Path")},
            {"create_date", aws::xml_text(u, "CreateDate")},
            {"password_last_used", aws::xml_text(u, "PasswordLastUsed")}};
  // Interlock: never contain the identity the tool runs as (it would lock itself out mid-run).
  if (d["arn"] == ctx.caller.arn || (!ctx.caller.user_id.empty() && d["user_id"] == ctx.caller.user_id))
    return Error::refused("iam-contain refuses to contain " + d["arn"].get<std::string>() +
                              ": it is the identity containctl is running as",
                          "SelfContainment");
  CC_ASSIGN(json keys, list_access_keys(ctx, name));
  for (auto& k : keys) {
    if (!ctx.caller.access_key_id.empty() && k["AccessKeyId"] == ctx.caller.access_key_id)
      return Error::refused("iam-contain refuses to contain user " + name + ": it owns access key " +
                                ctx.caller.access_key_id + ", the key containctl is signing with",
                            "SelfContainment");
    CC_ASSIGN(aws::XmlResponse lu, call(ctx, "GetAccessKeyLastUsed", {{"AccessKeyId", k["AccessKeyId"]}}));
    k["LastUsed"] = {{"Date", aws::xml_text(lu.root(), "LastUsedDate")},
                     {"ServiceName", aws::xml_text(lu.root(), "ServiceName")},
                     {"Region", aws::xml_text(lu.root(), "Region")}};
  }
  d["access_keys"] = keys;
  CC_ASSIGN(d["login_profile"], login_profile(ctx, name));
  CC_ASSIGN(d["mfa_devices"], mfa_serials(ctx, name));
  CC_ASSIGN(d["inline_policies"], list_inline_policy_names(ctx, kUser, name));
  CC_ASSIGN(d["attached_policies"], list_attached_policies(ctx, kUser, name));
  json groups = json::array();
  CC_TRY(list_all(ctx, "ListGroupsForUser", {{"UserName", name}}, "Groups",
                  [&](pugi::xml_node n) { groups.push_back(aws::xml_text(n, "GroupName")); }));
  d["groups"] = groups;
  CC_ASSIGN(d["tags"], list_tags(ctx, kUser, name));
  const auto& names = d["inline_policies"];
  if (std::find(names.begin(), names.end(), kUserDenyPolicy) != names.end()) {
    CC_ASSIGN(d["deny_policy"], get_inline_policy(ctx, kUser, name, kUserDenyPolicy));
  } else {
    d["deny_policy"] = {{"exists", false}, {"document", nullptr}};
  }
  return d;
}

Result<TargetPlan> plan_user(Context& ctx, const json& d) {
  TargetPlan p;
  p.target = ctx.target;
  p.family = "iam-contain";
  p.discovered = d;
  const std::string user = d.value("user_name", "");
  if (user.empty()) return Error::invalid("iam-contain: discovery of " + ctx.target.arn + " has no user_name");
  const json& keys = d["access_keys"];
  const json base_args = {{"kind", "user"}, {"user_name", user}, {"account", ctx.target.account}};

  // A finding about an AKIA key: that key first.
  const std::string targeted = ctx.options.get("iam.access_key_id");
  if (!targeted.empty()) {
    if (targeted.rfind("ASIA", 0) == 0)
      return Error::invalid("--option iam.access_key_id=" + targeted +
                            " is a temporary (ASIA) key: no IAM user stands behind it; contain the role the session "
                            "belongs to instead");
    if (!find_key(keys, targeted))
      return Error::invalid("--option iam.access_key_id=" + targeted + ": user " + user + " has no such access key");
    if (targeted == ctx.caller.access_key_id)
      return Error::refused("access key " + targeted + " is the key containctl is signing with", "SelfContainment");
  }
  std::vector<std::string> active;
  if (!targeted.empty() && find_key(keys, targeted)->value("Status", "") == "Active") active.push_back(targeted);
  for (const auto& k : keys)
    if (k["Status"] == "Active" && k["AccessKeyId"] != targeted) active.push_back(k["AccessKeyId"]);

  if (!active.empty()) {
    Step s;
    s.id = "deactivate-keys";
    s.description = "Deactivate " + std::to_string(active.size()) + " active access key(s) of IAM user " + user + ": ";
    for (size_t i = 0; i < active.size(); ++i)
      s.description += (i ? ", " : "") + active[i] + (active[i] == targeted ? " (named in the finding, first)" : "");
    json after = json::array();
    for (const auto& k : keys)
      after.push_back({{"AccessKeyId", k["AccessKeyId"]},
                       {"Status", std::find(active.begin(), active.end(), k["AccessKeyId"]) != active.end()
                                      ? "Inactive"
                                      : k["Status"].get<std::string>()}});
    for (const auto& id : active)
      s.calls.push_back(api_call("UpdateAccessKey", {{"UserName", user}, {"AccessKeyId", id}, {"Status", "Inactive"}}));
    json before = json::array();
    for (const auto& k : keys) before.push_back({{"AccessKeyId", k["AccessKeyId"]}, {"Status", k["Status"]}});
    s.before = {{"access_keys", before}};
    s.after = {{"access_keys", after}};
    s.warnings.push_back(
        "Rollback leaves these keys Inactive unless it runs with --reactivate-keys: a compromised key cannot be "
        "trusted again; issue new keys (iam-rotate-keys) instead.");
    s.args = base_args;
    s.args["key_ids"] = active;
    p.steps.push_back(std::move(s));
  }

  const auto deny_in_place = our_user_deny(d["deny_policy"]);
  if (!deny_in_place) {
    Step s;
    s.id = "deny-all";
    s.description = std::string("Attach inline policy ") + kUserDenyPolicy + " to IAM user " + user +
                    ": deny every action, and deny every session issued before the apply time (aws:TokenIssueTime)";
    s.calls.push_back(api_call("PutUserPolicy", {{"UserName", user},
                                                 {"PolicyName", kUserDenyPolicy},
                                                 {"PolicyDocument", json::parse(user_deny_document(kApplyTimePlaceholder))}}));
    s.before = {{"inline_policy", d["deny_policy"]}};
    s.after = {{"inline_policy", {{"exists", true}, {"name", kUserDenyPolicy}}}};
    s.warnings.push_back(
        "Sessions issued with GetSessionToken/GetFederationToken before containment (they last up to 36 h) work "
        "again once rollback removes the policy.");
    s.args = base_args;
    p.steps.push_back(std::move(s));
  }

  const bool disable_console = ctx.options.flag("iam.disable_console");
  const std::string mfa_serial = ctx.options.get("iam.deactivate_mfa");
  if (disable_console) {
    if (d["login_profile"].is_null()) {
      p.warnings.push_back("iam.disable_console: user " + user + " has no console password; nothing to delete.");
    } else {
      Step s;
      s.id = "disable-console";
      s.description = "Delete the console password (login profile) of IAM user " + user;
      s.calls.push_back(api_call("DeleteLoginProfile", {{"UserName", user}}));
      s.before = {{"login_profile", d["login_profile"]}};
      s.after = {{"login_profile", nullptr}};
      s.reversible = false;
      std::string out = ctx.options.get("iam.password_out");
      if (!out.empty()) {
        CC_ASSIGN(out, check_new_secret_path(out, "iam.password_out"));
        s.args["password_out"] = out;
      }
      s.warnings.push_back(
          "IRREVERSIBLE: the current console password is destroyed. Rollback creates a NEW login profile with a "
          "generated password (PasswordResetRequired) written to a new 0600 file (" +
          (out.empty() ? std::string("under <state dir>/secrets/") : out) + "); it is never printed or logged.");
      for (auto& [k, v] : base_args.items()) s.args[k] = v;
      p.steps.push_back(std::move(s));
    }
  }
  if (!mfa_serial.empty()) {
    if (!lists_serial(d["mfa_devices"], mfa_serial))
      return Error::invalid("--option iam.deactivate_mfa=" + mfa_serial + ": user " + user +
                            " has no MFA device with that serial");
    Step s;
    s.id = "deactivate-mfa";
    s.description = "Deactivate MFA device " + mfa_serial + " of IAM user " + user;
    s.calls.push_back(api_call("DeactivateMFADevice", {{"UserName", user}, {"SerialNumber", mfa_serial}}));
    s.before = {{"mfa_devices", d["mfa_devices"]}};
    s.after = {{"deactivated", mfa_serial}};
    s.reversible = false;
    s.warnings.push_back(
        "IRREVERSIBLE: re-enabling an MFA device needs two consecutive codes from it; rollback cannot restore it.");
    s.args = base_args;
    s.args["serial"] = mfa_serial;
    p.steps.push_back(std::move(s));
  }

  if (p.steps.empty()) {
    p.already_contained = true;
    p.note = "IAM user " + user + " is already contained: no active access keys and " + kUserDenyPolicy +
             " denies every action (checked by content; sessions issued before " + *deny_in_place +
             " are denied too).";
    return p;
  }
  Step t;
  t.id = "tag";
  t.description = std::string("Tag IAM user ") + user + " with " + kRunTagKey + "=" + run_id_shown(ctx);
  t.calls.push_back(
      api_call("TagUser", {{"UserName", user}, {"Tags", {{{"Key", kRunTagKey}, {"Value", run_id_shown(ctx)}}}}}));
  t.before = {{"tag", d["tags"].contains(kRunTagKey) ? d["tags"][kRunTagKey] : json(nullptr)}};
  t.after = {{"tag", run_id_shown(ctx)}};
  t.args = base_args;
  t.cosmetic = true;
  p.steps.push_back(std::move(t));

  p.warnings.push_back("Restore removes the deny policy and the tag; access keys stay Inactive unless rollback runs "
                       "with --reactivate-keys (AWS's runbook also leaves them off).");
  if (!d["attached_policies"].empty() || !d["groups"].empty())
    p.warnings.push_back("Attached and group policies are left as they are; the explicit deny overrides them.");
  if (!d["login_profile"].is_null() && !disable_console)
    p.warnings.push_back("The console password stays; the deny policy blocks every console action. "
                         "--option iam.disable_console=true deletes it (irreversible).");
  return p;
}

}  // namespace containctl::actions::iam
