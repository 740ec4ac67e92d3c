// iam-contain for IAM users. Steps (all independent, so the executor may run them in parallel):
//   deactivate-keys  UpdateAccessKey Inactive for the active keys (the finding's key first)
//   deny-all         inline ContainctlDenyAll: deny everything, and every session issued before apply
//   tag              containctl:contained-by-run = run id
//   disable-console  (iam.disable_console=true) DeleteLoginProfile: irreversible
//   deactivate-mfa   (iam.deactivate_mfa=SERIAL) DeactivateMFADevice: irreversible
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "actions/iam_common.h"
#include "actions/iam_contain.h"
#include "actions/secret_delivery.h"

namespace containctl::actions::iam {

namespace {

constexpr Principal kUser = Principal::kUser;

std::string user_of(const Step& step) { return step.args.value("user_name", ""); }

// The policy put on the user; the plan shows it with a placeholder for the apply-time cutoff.
std::string user_deny_document(const std::string& cutoff) { return our_document(OurPolicy::kUserDeny, cutoff); }

// The cutoff when the policy says exactly what containctl writes (content, not name or Sids).
std::optional<std::string> our_user_deny(const json& policy) { return match_ours(OurPolicy::kUserDeny, policy); }

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

bool lists_serial(const json& devices, const std::string& serial) {
  return std::any_of(devices.begin(), devices.end(),
                     [&](const json& d) { return d.value("SerialNumber", "") == serial; });
}

}  // namespace

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

Result<json> capture_user(Context& ctx, const Step& step) {
  const std::string user = user_of(step);
  if (step.id == "deactivate-keys") {
    CC_ASSIGN(json keys, list_access_keys(ctx, user));
    return json{{"access_keys", keys}};
  }
  if (step.id == "deny-all") {
    CC_ASSIGN(json pol, get_inline_policy(ctx, kUser, user, kUserDenyPolicy));
    return json{{"inline_policy", pol}};
  }
  if (step.id == "tag") return capture_tag(ctx, kUser, user, kRunTagKey);
  if (step.id == "disable-console") {
    CC_ASSIGN(json lp, login_profile(ctx, user));
    return json{{"login_profile", lp}};
  }
  if (step.id == "deactivate-mfa") {
    CC_ASSIGN(json devices, mfa_serials(ctx, user));
    return json{{"mfa_devices", devices}};
  }
  return Error::invalid("iam-contain: unknown user step '" + step.id + "'");
}

Result<json> apply_user(Context& ctx, const Step& step, const json& before) {
  const std::string user = user_of(step);
  if (step.id == "deactivate-keys") {
    CC_ASSIGN(json keys, list_access_keys(ctx, user));
    json done = json::array(), missing = json::array();
    for (const auto& id_j : step.args["key_ids"]) {
      const std::string id = id_j;
      if (id == ctx.caller.access_key_id)
        return Error::refused("access key " + id + " is the key containctl is signing with", "SelfContainment");
      const json* k = find_key(keys, id);
      if (!k) {
        missing.push_back(id);  // deleted since the plan: it cannot authenticate any more
        continue;
      }
      if ((*k)["Status"] != "Inactive")
        CC_TRY(call(ctx, "UpdateAccessKey", {{"UserName", user}, {"AccessKeyId", id}, {"Status", "Inactive"}}));
      done.push_back(id);
    }
    return json{{"deactivated", done}, {"missing", missing}};
  }
  if (step.id == "deny-all") {
    CC_ASSIGN(json current, get_inline_policy(ctx, kUser, user, kUserDenyPolicy));
    // Resumed after a crash: our policy is already there (it differs from the captured state).
    // Judged by content: a decoy with our name and Sids is overwritten like anything else.
    if (auto ours = our_user_deny(current); ours && !same_policy(current, before["inline_policy"]))
      return json{{"policy", kUserDenyPolicy}, {"sessions_issued_before", *ours}};
    // The cutoff is taken now, at apply time: sessions issued between plan and apply are cut too.
    const std::string cutoff = now_iso(ctx);
    CC_TRY(put_inline_policy(ctx, kUser, user, kUserDenyPolicy, user_deny_document(cutoff)));
    return json{{"policy", kUserDenyPolicy}, {"sessions_issued_before", cutoff}};
  }
  if (step.id == "tag") {
    return apply_run_tag(ctx, kUser, user);
  }
  if (step.id == "disable-console") {
    auto r = call(ctx, "DeleteLoginProfile", {{"UserName", user}});
    if (!r.ok() && !is_no_such_entity(r.error())) return r.error();
    return json{{"deleted", r.ok()}};
  }
  if (step.id == "deactivate-mfa") {
    const std::string serial = step.args.value("serial", "");
    CC_ASSIGN(json devices, mfa_serials(ctx, user));
    if (lists_serial(devices, serial))
      CC_TRY(call(ctx, "DeactivateMFADevice", {{"UserName", user}, {"SerialNumber", serial}}));
    return json{{"deactivated", serial}};
  }
  return Error::invalid("iam-contain: unknown user step '" + step.id + "'");
}

Status verify_user(Context& ctx, const Step& step) {
  const std::string user = user_of(step);
  if (step.id == "deactivate-keys") {
    CC_ASSIGN(json keys, list_access_keys(ctx, user));
    for (const auto& id : step.args["key_ids"]) {
      const json* k = find_key(keys, id);
      if (k && (*k)["Status"] != "Inactive")
        return step_error(step, "access key " + id.get<std::string>() + " is still " + (*k)["Status"].get<std::string>());
    }
    return Ok{};
  }
  if (step.id == "deny-all") {
    CC_ASSIGN(json current, get_inline_policy(ctx, kUser, user, kUserDenyPolicy));
    if (!our_user_deny(current))
      return step_error(step, std::string("inline policy ") + kUserDenyPolicy +
                                  " is missing or does not say what containctl wrote (deny all, deny older sessions)");
    return Ok{};
  }
  if (step.id == "tag") {
    CC_ASSIGN(bool holds, run_tag_holds(ctx, kUser, user));
    if (!holds) return step_error(step, "run tag " + std::string(kRunTagKey) + " does not hold run id " + ctx.run_id);
    return Ok{};
  }
  if (step.id == "disable-console") {
    CC_ASSIGN(json lp, login_profile(ctx, user));
    if (!lp.is_null()) return step_error(step, "the login profile still exists");
    return Ok{};
  }
  if (step.id == "deactivate-mfa") {
    CC_ASSIGN(json devices, mfa_serials(ctx, user));
    if (lists_serial(devices, step.args.value("serial", "")))
      return step_error(step, "MFA device " + step.args.value("serial", "") + " is still enabled");
    return Ok{};
  }
  return Error::invalid("iam-contain: unknown user step '" + step.id + "'");
}

namespace {

// The one way out of a deleted console password: a new one, straight into a new 0600 file.
Status recreate_login_profile(Context& ctx, const Step& step) {
  const std::string user = user_of(step);
  CC_ASSIGN(json lp, login_profile(ctx, user));
  if (!lp.is_null()) return Ok{};  // already restored (rollback runs twice, or someone recreated it)
  std::string path = step.args.value("password_out", "");
  if (path.empty()) {
    CC_ASSIGN(path, default_password_path(ctx.options, user, ctx.run_id));
  }
  std::string password = generate_password();
  std::string content =
      json{{"UserName", user}, {"Password", password}, {"PasswordResetRequired", true}}.dump(2) + "\n";
  // File first: a password IAM accepted but nobody received would lock the user out again.
  Status written = write_new_secret_file(path, content);
  wipe(content);
  if (!written.ok()) {
    wipe(password);
    return step_error(step, "cannot write the new console password: " + written.error().message, ErrorKind::kIo);
  }
  auto r = call(ctx, "CreateLoginProfile",
                {{"UserName", user}, {"Password", password}, {"PasswordResetRequired", "true"}});
  if (!r.ok()) {
    // Not idempotent: the answer may be lost after IAM created the profile (a retry then answers
    // EntityAlreadyExists). Read back before deciding; a profile that exists now gets the
    // password in the file (UpdateLoginProfile sets it again, harmless when it already is), so no
    // console password exists that nobody knows.
    auto now = login_profile(ctx, user);
    if (now.ok() && !now->is_null()) {
      auto fixed = call(ctx, "UpdateLoginProfile",
                        {{"UserName", user}, {"Password", password}, {"PasswordResetRequired", "true"}});
      wipe(password);
      if (!fixed.ok())
        return step_error(step, "CreateLoginProfile failed (" + r.error().code +
                                    ") but a login profile exists now, and setting its password to the one in " + path +
                                    " failed too (" + fixed.error().code + "): reset the console password of " + user +
                                    " by hand");
      spdlog::warn("iam-contain: CreateLoginProfile for IAM user {} answered {}, but the profile exists: its password "
                   "was set to the one in {}",
                   user, r.error().code, path);
    } else {
      wipe(password);
      if (!now.ok())
        return step_error(step, "CreateLoginProfile failed (" + r.error().code +
                                    ") and reading it back failed too (" + now.error().code + "); " + path +
                                    " holds the password that was sent: if user " + user +
                                    " has a login profile now, it is that one");
      ::unlink(path.c_str());
      return step_error(step, "CreateLoginProfile failed: " + r.error().code);
    }
  }
  wipe(password);
  spdlog::warn("iam-contain: new console password of IAM user {} written to {} (mode 0600); the user must change it "
               "at first sign-in",
               user, path);
  return Ok{};
}

}  // namespace

Status rollback_user(Context& ctx, const Step& step, const json& before, const json& applied,
                     const RollbackOptions& options) {
  const std::string user = user_of(step);
  if (step.id == "deactivate-keys") {
    if (!options.reactivate_keys) {
      spdlog::warn("iam-contain: access keys of IAM user {} stay Inactive; rollback --reactivate-keys turns them back on",
                   user);
      return Ok{};
    }
    CC_ASSIGN(std::string gone,
              reactivate_keys(ctx, user, before.value("access_keys", json::array()), step.args["key_ids"]));
    if (!gone.empty()) return step_error(step, "cannot reactivate access key(s) " + gone + ": deleted since containment");
    return Ok{};
  }
  if (step.id == "deny-all") {
    const std::string cutoff = applied.is_object() ? applied.value("sessions_issued_before", "") : "";
    return restore_our_policy(ctx, kUser, user, kUserDenyPolicy, OurPolicy::kUserDeny, before["inline_policy"], cutoff,
                              options.force);
  }
  if (step.id == "tag") return restore_run_tag(ctx, kUser, user, before);
  if (step.id == "disable-console") {
    if (before["login_profile"].is_null()) return Ok{};
    return recreate_login_profile(ctx, step);
  }
  if (step.id == "deactivate-mfa") {
    spdlog::warn("iam-contain: MFA device {} of IAM user {} stays deactivated (irreversible)",
                 step.args.value("serial", ""), user);
    return Ok{};
  }
  return Error::invalid("iam-contain: unknown user step '" + step.id + "'");
}

Status verify_rollback_user(Context& ctx, const Step& step, const json& before, const RollbackOptions& options) {
  const std::string user = user_of(step);
  if (step.id == "deactivate-keys") {
    CC_ASSIGN(json keys, list_access_keys(ctx, user));
    const json before_keys = before.value("access_keys", json::array());
    for (const auto& id : step.args["key_ids"]) {
      const json* was = find_key(before_keys, id);
      const json* now = find_key(keys, id);
      if (!was || !now) continue;
      // Without --reactivate-keys the documented outcome is Inactive.
      std::string want = options.reactivate_keys ? (*was)["Status"].get<std::string>() : "Inactive";
      if ((*now)["Status"] != want)
        return step_error(step, "access key " + id.get<std::string>() + " is " + (*now)["Status"].get<std::string>() +
                                    ", expected " + want);
    }
    return Ok{};
  }
  if (step.id == "deny-all") {
    CC_ASSIGN(json current, get_inline_policy(ctx, kUser, user, kUserDenyPolicy));
    if (!same_policy(current, before["inline_policy"]))
      return step_error(step, std::string("inline policy ") + kUserDenyPolicy + " differs from its state before containment");
    return Ok{};
  }
  if (step.id == "tag") {
    CC_ASSIGN(bool gone, run_tag_gone(ctx, kUser, user, before));
    if (!gone) return step_error(step, "run tag not restored");
    return Ok{};
  }
  if (step.id == "disable-console") {
    CC_ASSIGN(json lp, login_profile(ctx, user));
    if (!before["login_profile"].is_null() && lp.is_null()) return step_error(step, "no login profile after rollback");
    return Ok{};
  }
  if (step.id == "deactivate-mfa") return Ok{};  // irreversible: nothing to compare
  return Error::invalid("iam-contain: unknown user step '" + step.id + "'");
}

}  // namespace containctl::actions::iam
