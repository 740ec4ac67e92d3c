// iam-contain's user steps: capture, apply, verify and rollback of each step id, on the typed
// arguments (iam_contain_steps.h). The plan is built in iam_contain_user.cc.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "actions/iam_contain_steps.h"
#include "actions/secret_delivery.h"

namespace containctl::actions::iam {

namespace {

constexpr Principal kUser = Principal::kUser;

bool lists_serial(const json& devices, const std::string& serial) {
  return std::any_of(devices.begin(), devices.end(),
                     [&](const json& d) { return d.value("SerialNumber", "") == serial; });
}

// ---- deactivate-keys ----

Result<json> keys_capture(Context& ctx, const Step&, const ContainArgs& a) {
  CC_ASSIGN(json keys, list_access_keys(ctx, a.name));
  return json{{"access_keys", keys}};
}

Result<json> keys_apply(Context& ctx, const Step&, const ContainArgs& a, const json&) {
  CC_ASSIGN(json keys, list_access_keys(ctx, a.name));
  json done = json::array(), missing = json::array();
  for (const auto& id : a.key_ids) {
    if (id == ctx.caller.access_key_id)
      return Error::refused("access key " + id + " is the key containctl is signing with", "SelfContainment");
    const json* k = find_key(keys, id);
    if (!k) {
      missing.push_back(id);  // deleted since the plan: it cannot authenticate any more
      continue;
    }
    if (k->value("Status", "") != "Inactive")
      CC_TRY(call(ctx, "UpdateAccessKey", {{"UserName", a.name}, {"AccessKeyId", id}, {"Status", "Inactive"}}));
    done.push_back(id);
  }
  return json{{"deactivated", done}, {"missing", missing}};
}

Status keys_verify(Context& ctx, const Step& step, const ContainArgs& a) {
  CC_ASSIGN(json keys, list_access_keys(ctx, a.name));
  for (const auto& id : a.key_ids) {
    const json* k = find_key(keys, id);
    if (k && k->value("Status", "") != "Inactive")
      return step_error(step, "access key " + id + " is still " + k->value("Status", ""));
  }
  return Ok{};
}

Status keys_rollback(Context& ctx, const Step& step, const ContainArgs& a, const json& before, const json&,
                     const RollbackOptions& o) {
  if (!o.reactivate_keys) {
    spdlog::warn("iam-contain: access keys of IAM user {} stay Inactive; rollback --reactivate-keys turns them back on",
                 a.name);
    return Ok{};
  }
  CC_ASSIGN(const json before_keys, journaled_keys(step, before));
  CC_ASSIGN(std::string gone, reactivate_keys(ctx, a.name, before_keys, a.key_ids));
  if (!gone.empty()) return step_error(step, "cannot reactivate access key(s) " + gone + ": deleted since containment");
  return Ok{};
}

Status keys_verify_rollback(Context& ctx, const Step& step, const ContainArgs& a, const json& before,
                            const RollbackOptions& o) {
  // Without --reactivate-keys the keys stay Inactive whatever the before-state says: a damaged
  // one need not block that rollback.
  auto journaled = journaled_keys(step, before);
  if (!journaled.ok() && o.reactivate_keys) return journaled.error();
  const json before_keys = journaled.ok() ? *journaled : json::array();
  CC_ASSIGN(json keys, list_access_keys(ctx, a.name));
  for (const auto& id : a.key_ids) {
    const json* was = find_key(before_keys, id);
    const json* now = find_key(keys, id);
    if (!was || !now) continue;
    // Without --reactivate-keys the documented outcome is Inactive.
    const std::string want = o.reactivate_keys ? was->value("Status", "") : "Inactive";
    if (now->value("Status", "") != want)
      return step_error(step, "access key " + id + " is " + now->value("Status", "") + ", expected " + want);
  }
  return Ok{};
}

// ---- deny-all ----

Result<json> deny_capture(Context& ctx, const Step&, const ContainArgs& a) {
  CC_ASSIGN(json pol, get_inline_policy(ctx, kUser, a.name, kUserDenyPolicy));
  return json{{"inline_policy", pol}};
}

Result<json> deny_apply(Context& ctx, const Step&, const ContainArgs& a, const json& before) {
  CC_ASSIGN(json current, get_inline_policy(ctx, kUser, a.name, kUserDenyPolicy));
  // Resumed after a crash: our policy is already there (it differs from the captured state).
  // Judged by content: a decoy with our name and Sids is overwritten like anything else.
  if (auto ours = match_ours(OurPolicy::kUserDeny, current); ours && !same_policy(current, field(before, "inline_policy")))
    return json{{"policy", kUserDenyPolicy}, {"sessions_issued_before", *ours}};
  // The cutoff is taken now, at apply time: sessions issued between plan and apply are cut too.
  const std::string cutoff = now_iso(ctx);
  CC_TRY(put_inline_policy(ctx, kUser, a.name, kUserDenyPolicy, our_document(OurPolicy::kUserDeny, cutoff)));
  return json{{"policy", kUserDenyPolicy}, {"sessions_issued_before", cutoff}};
}

Status deny_verify(Context& ctx, const Step& step, const ContainArgs& a) {
  CC_ASSIGN(json current, get_inline_policy(ctx, kUser, a.name, kUserDenyPolicy));
  if (!match_ours(OurPolicy::kUserDeny, current))
    return step_error(step, std::string("inline policy ") + kUserDenyPolicy +
                                " is missing or does not say what containctl wrote (deny all, deny older sessions)");
  return Ok{};
}

Status deny_rollback(Context& ctx, const Step&, const ContainArgs& a, const json& before, const json& applied,
                     const RollbackOptions& o) {
  const std::string cutoff = applied.is_object() ? applied.value("sessions_issued_before", "") : "";
  return restore_our_policy(ctx, kUser, a.name, kUserDenyPolicy, OurPolicy::kUserDeny, field(before, "inline_policy"),
                            cutoff, o.force);
}

Status deny_verify_rollback(Context& ctx, const Step& step, const ContainArgs& a, const json& before,
                            const RollbackOptions&) {
  CC_ASSIGN(json current, get_inline_policy(ctx, kUser, a.name, kUserDenyPolicy));
  if (!same_policy(current, field(before, "inline_policy")))
    return step_error(step, std::string("inline policy ") + kUserDenyPolicy + " differs from its state before containment");
  return Ok{};
}

// ---- tag ----

}  // namespace

ContainOps run_tag_ops() {
  return {
      [](Context& ctx, const Step&, const ContainArgs& a) { return capture_tag(ctx, a.principal, a.name, kRunTagKey); },
      [](Context& ctx, const Step&, const ContainArgs& a, const json&) {
        return apply_run_tag(ctx, a.principal, a.name);
      },
      [](Context& ctx, const Step& step, const ContainArgs& a) -> Status {
        CC_ASSIGN(bool holds, run_tag_holds(ctx, a.principal, a.name));
        if (!holds) return step_error(step, "run tag " + std::string(kRunTagKey) + " does not hold run id " + ctx.run_id);
        return Ok{};
      },
      [](Context& ctx, const Step&, const ContainArgs& a, const json& before, const json&, const RollbackOptions&) {
        return restore_run_tag(ctx, a.principal, a.name, before);
      },
      [](Context& ctx, const Step& step, const ContainArgs& a, const json& before, const RollbackOptions&) -> Status {
        CC_ASSIGN(bool gone, run_tag_gone(ctx, a.principal, a.name, before));
        if (!gone) return step_error(step, "run tag not restored");
        return Ok{};
      }};
}

namespace {

// ---- disable-console (irreversible; rollback issues a new password) ----

Result<json> console_capture(Context& ctx, const Step&, const ContainArgs& a) {
  CC_ASSIGN(json lp, login_profile(ctx, a.name));
  return json{{"login_profile", lp}};
}

Result<json> console_apply(Context& ctx, const Step&, const ContainArgs& a, const json&) {
  auto r = call(ctx, "DeleteLoginProfile", {{"UserName", a.name}});
  if (!r.ok() && !is_no_such_entity(r.error())) return r.error();
  return json{{"deleted", r.ok()}};
}

Status console_verify(Context& ctx, const Step& step, const ContainArgs& a) {
  CC_ASSIGN(json lp, login_profile(ctx, a.name));
  if (!lp.is_null()) return step_error(step, "the login profile still exists");
  return Ok{};
}

// The one way out of a deleted console password: a new one, straight into a new 0600 file.
Status recreate_login_profile(Context& ctx, const Step& step, const ContainArgs& a) {
  const std::string& user = a.name;
  CC_ASSIGN(json lp, login_profile(ctx, user));
  if (!lp.is_null()) return Ok{};  // already restored (rollback runs twice, or someone recreated it)
  std::string path = a.password_out;
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
                {{"UserName", user}, {"Password", password}, {"PasswordResetRequired", "true"}}, {.idempotent = false});
  if (!r.ok()) {
    // Not idempotent: the answer may be lost after IAM created the profile (a retry then answers
    // EntityAlreadyExists). Read back before deciding; a profile that exists now gets the
    // password in the file (UpdateLoginProfile sets it again, harmless when it already is), so no
    // console password exists that nobody knows.
    auto now = login_profile(ctx, user);
    if (now.ok() && !now->is_null()) {
      auto fixed = call(ctx, "UpdateLoginProfile",
                        {{"UserName", user}, {"Password", password}, {"PasswordResetRequired", "true"}}, {.idempotent = false});
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
        return step_error(step, "CreateLoginProfile failed (" + r.error().code + ") and reading it back failed too (" +
                                    now.error().code + "); " + path +
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

Status console_rollback(Context& ctx, const Step& step, const ContainArgs& a, const json& before, const json&,
                        const RollbackOptions&) {
  if (field(before, "login_profile").is_null()) return Ok{};
  return recreate_login_profile(ctx, step, a);
}

Status console_verify_rollback(Context& ctx, const Step& step, const ContainArgs& a, const json& before,
                               const RollbackOptions&) {
  CC_ASSIGN(json lp, login_profile(ctx, a.name));
  if (!field(before, "login_profile").is_null() && lp.is_null()) return step_error(step, "no login profile after rollback");
  return Ok{};
}

// ---- deactivate-mfa (irreversible) ----

Result<json> mfa_capture(Context& ctx, const Step&, const ContainArgs& a) {
  CC_ASSIGN(json devices, mfa_serials(ctx, a.name));
  return json{{"mfa_devices", devices}};
}

Result<json> mfa_apply(Context& ctx, const Step&, const ContainArgs& a, const json&) {
  CC_ASSIGN(json devices, mfa_serials(ctx, a.name));
  if (lists_serial(devices, a.serial))
    CC_TRY(call(ctx, "DeactivateMFADevice", {{"UserName", a.name}, {"SerialNumber", a.serial}}));
  return json{{"deactivated", a.serial}};
}

Status mfa_verify(Context& ctx, const Step& step, const ContainArgs& a) {
  CC_ASSIGN(json devices, mfa_serials(ctx, a.name));
  if (lists_serial(devices, a.serial)) return step_error(step, "MFA device " + a.serial + " is still enabled");
  return Ok{};
}

Status mfa_rollback(Context&, const Step&, const ContainArgs& a, const json&, const json&, const RollbackOptions&) {
  spdlog::warn("iam-contain: MFA device {} of IAM user {} stays deactivated (irreversible)", a.serial, a.name);
  return Ok{};
}

Status mfa_verify_rollback(Context&, const Step&, const ContainArgs&, const json&, const RollbackOptions&) {
  return Ok{};  // irreversible: nothing to compare
}

}  // namespace

const std::map<std::string, ContainOps>& user_step_ops() {
  static const std::map<std::string, ContainOps> table = {
      {"deactivate-keys", {keys_capture, keys_apply, keys_verify, keys_rollback, keys_verify_rollback}},
      {"deny-all", {deny_capture, deny_apply, deny_verify, deny_rollback, deny_verify_rollback}},
      {"tag", run_tag_ops()},
      {"disable-console",
       {console_capture, console_apply, console_verify, console_rollback, console_verify_rollback}},
      {"deactivate-mfa", {mfa_capture, mfa_apply, mfa_verify, mfa_rollback, mfa_verify_rollback}},
  };
  return table;
}


}  // namespace containctl::actions::iam
