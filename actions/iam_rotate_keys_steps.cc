// The steps of iam-rotate-keys, one table entry each (see iam_rotate_keys_steps.h):
//   delete-inactive-key  (only at the two-key limit, with iam.delete_inactive_key=true) irreversible
//   create-new-key       CreateAccessKey + deliver the secret (new 0600 file or Secrets Manager)
//   deactivate-old-key   UpdateAccessKey Inactive for the old key(s), matched by exact id
// The new secret exists only in the CreateAccessKey response, the delivery and local buffers that
// are wiped; apply returns the key id and where the secret went, never the secret.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "actions/iam_common.h"
#include "actions/iam_rotate_keys_steps.h"
#include "actions/secret_delivery.h"
#include "aws/idempotency.h"

namespace containctl::actions::rotate {

using iam::call;
using iam::find_key;
using iam::list_access_keys;
using iam::step_error;

std::vector<std::string> ids_of(const json& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.value("AccessKeyId", ""));
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string delivered_to(const Delivery& d) {
  return d.file() ? "file " + d.path : "Secrets Manager secret " + d.name + " (" + d.region + ")";
}

Error self_rotation(const std::string& id) {
  return Error::refused("iam-rotate-keys refuses to rotate, deactivate or delete access key " + id +
                            ": it is the key containctl is signing with",
                        "SelfRotation");
}

namespace {

// True when the delivery target already holds the secret of `key_id` (apply resumed after a crash).
Result<bool> delivered(Context& ctx, const Delivery& d, const std::string& key_id) {
  if (d.file()) return iam::file_mentions(d.path, key_id);
  CC_ASSIGN(json s, iam::describe_secret(ctx, d.region, d.name));
  return s.value("exists", false) && s.value("description", "").find(key_id) != std::string::npos;
}

// The delivery target must not exist yet: nothing is ever overwritten.
Status delivery_free(Context& ctx, const Delivery& d) {
  if (d.file()) {
    struct stat st {};
    if (::lstat(d.path.c_str(), &st) == 0)
      return Error{ErrorKind::kIo, "FileExists", "refusing to overwrite existing file " + d.path};
    return Ok{};
  }
  CC_ASSIGN(json s, iam::describe_secret(ctx, d.region, d.name));
  if (s.value("exists", false))
    return Error{ErrorKind::kClient, "SecretExists",
                 "Secrets Manager secret " + d.name + " already exists; refusing to overwrite it"};
  return Ok{};
}

Status deliver(Context& ctx, const Step& step, const Delivery& d, const std::string& user, const std::string& key_id,
               std::string& secret) {
  std::string content = json{{"UserName", user}, {"AccessKeyId", key_id}, {"SecretAccessKey", secret}}.dump();
  iam::wipe(secret);
  Status st = Ok{};
  if (d.file()) {
    content += "\n";
    st = iam::write_new_secret_file(d.path, content);
  } else {
    // One token per run, step and destination: CreateSecret is retried after a lost answer (and
    // re-sent by a resumed step) with it, and Secrets Manager returns the version already stored.
    const std::string token = aws::uuid_token({ctx.run_id, step.id, user, d.region, d.name});
    auto arn = iam::create_secret(ctx, d.region, d.name, iam::secret_description(user, key_id, ctx.run_id), content,
                                  token);
    if (!arn.ok()) st = arn.error();
  }
  iam::wipe(content);
  return st;
}

// Removes what the delivery left, when it belongs to `key_id`.
Status undeliver(Context& ctx, const Delivery& d, const std::string& key_id) {
  CC_ASSIGN(bool ours, delivered(ctx, d, key_id));
  if (!ours) return Ok{};
  if (d.file()) {
    ::unlink(d.path.c_str());
    return Ok{};
  }
  return iam::delete_secret(ctx, d.region, d.name);
}

Status delete_key(Context& ctx, const std::string& user, const std::string& id) {
  auto r = call(ctx, "DeleteAccessKey", {{"UserName", user}, {"AccessKeyId", id}});
  if (!r.ok() && !iam::is_no_such_entity(r.error())) return r.error();
  return Ok{};
}

// CreateAccessKey is not idempotent: an attempt whose answer was lost (timeout, 5xx after IAM
// processed it) may have created a key nobody received the secret of. Reads the user's keys back
// and deletes each one that is neither in `known` nor `keep`. Returns a sentence naming what it
// found ("" when nothing), or an error naming the key ids it could not check or delete, so the
// responder (and rollback, which deletes every key created since capture) can act on them.
Result<std::string> remove_orphan_keys(Context& ctx, const std::string& user, const std::vector<std::string>& known,
                                       const std::string& keep) {
  auto keys = list_access_keys(ctx, user);
  if (!keys.ok())
    return Error{keys.error().kind, "OrphanCheckFailed",
                 "cannot list the access keys of user " + user + " to look for a key created without its secret (" +
                     keys.error().code + "); rollback deletes any key created since capture"};
  std::vector<std::string> orphans, failed;
  for (const auto& k : ids_of(*keys)) {
    if (k == keep || contains(known, k)) continue;
    if (k == ctx.caller.access_key_id) continue;  // never; cannot be new, but the interlock is absolute
    orphans.push_back(k);
    if (!delete_key(ctx, user, k).ok()) failed.push_back(k);
  }
  if (!failed.empty())
    return Error{ErrorKind::kClient, "OrphanKey",
                 "access key(s) " + join(failed) + " of user " + user +
                     " were created without containctl receiving their secret and could not be deleted; delete "
                     "them (rollback of this run does)"};
  if (orphans.empty()) return std::string();
  return "access key(s) " + join(orphans) + " created without containctl receiving the secret (lost answer) were deleted";
}

// delete-inactive-key: frees a slot at the two-key limit. Irreversible.
RotateOps delete_inactive_ops() {
  RotateOps o;
  o.parse = [](const Step& step, RotateArgs& a) -> Status {
    CC_ASSIGN(a.key_id, str_at(step, step.args, "key_id", "key_id"));
    return Ok{};
  };
  o.capture = [](Context&, const Step&, const RotateArgs& a, const json& keys) -> Result<json> {
    const json* k = find_key(keys, a.key_id);
    return json{{"access_key", k ? *k : json(nullptr)}};
  };
  o.apply = [](Context& ctx, const Step&, const RotateArgs& a, const json&, const json& keys) -> Result<json> {
    const std::string& id = a.key_id;
    if (id == ctx.caller.access_key_id) return self_rotation(id);
    const json* k = find_key(keys, id);
    if (!k) return json{{"deleted", id}};
    if (k->value("Status", "") != "Inactive")
      return Error::refused("access key " + id + " of user " + a.user +
                                " became Active since the plan; an active key is never deleted",
                            "KeyBecameActive");
    CC_TRY(delete_key(ctx, a.user, id));
    return json{{"deleted", id}};
  };
  o.verify = [](Context&, const Step& step, const RotateArgs& a, const json& keys) -> Status {
    if (find_key(keys, a.key_id)) return step_error(step, "the key still exists");
    return Ok{};
  };
  o.rollback = [](Context&, const Step&, const RotateArgs& a, const json&, const json&) -> Status {
    spdlog::warn("iam-rotate-keys: access key {} of IAM user {} was deleted (irreversible)", a.key_id, a.user);
    return Ok{};
  };
  o.verify_rollback = [](Context&, const Step&, const RotateArgs&, const json&) -> Status { return Ok{}; };
  return o;
}

Result<json> create_new_key(Context& ctx, const Step& step, const RotateArgs& a, const json& before,
                            const json& keys) {
  const std::string& user = a.user;
  const Delivery& delivery = a.delivery;
  CC_ASSIGN(const json before_keys, iam::journaled_keys(step, before));
  const std::vector<std::string> before_ids = ids_of(before_keys);
  std::vector<std::string> fresh;
  for (const auto& id : ids_of(keys))
    if (!contains(before_ids, id)) fresh.push_back(id);
  if (fresh.size() > 1)
    return step_error(step, "several access keys appeared since capture (" + join(fresh) + "); not creating another");
  size_t count = keys.size();
  if (fresh.size() == 1) {
    CC_ASSIGN(bool done, delivered(ctx, delivery, fresh[0]));
    if (done) return json{{"new_access_key_id", fresh[0]}, {"delivered_to", delivered_to(delivery)}};
    // Created before a crash but never delivered: nobody holds its secret, so it goes.
    CC_TRY(delete_key(ctx, user, fresh[0]));
    --count;
  }
  if (count >= 2)
    return step_error(step, "user already has two access keys (" + join(ids_of(keys)) + "); no slot for a new one");
  CC_TRY(delivery_free(ctx, delivery));
  // Keys that exist now and are not this step's to create: the read-back below tells a key
  // CreateAccessKey made without handing us its secret from these.
  std::vector<std::string> known = ids_of(keys);
  if (fresh.size() == 1) known.erase(std::remove(known.begin(), known.end(), fresh[0]), known.end());
  auto r = call(ctx, "CreateAccessKey", {{"UserName", user}}, {.idempotent = false});
  std::string id = r.ok() ? aws::xml_text(r->root(), "AccessKeyId") : "";
  std::string secret = r.ok() ? aws::xml_text(r->root(), "SecretAccessKey") : "";
  if (!r.ok() || id.empty() || secret.empty()) {
    iam::wipe(secret);
    CC_ASSIGN(std::string orphans, remove_orphan_keys(ctx, user, known, ""));
    const std::string why = r.ok() ? "CreateAccessKey answered without a key" : "CreateAccessKey failed (" +
                                                                                     r.error().code + ")";
    return step_error(step, why + (orphans.empty() ? "; no key was created" : "; " + orphans),
                      r.ok() ? ErrorKind::kParse : r.error().kind);
  }
  // A request that timed out after IAM processed it, then retried, leaves a key whose secret only
  // the lost answer held.
  CC_ASSIGN(std::string orphans, remove_orphan_keys(ctx, user, known, id));
  if (!orphans.empty()) spdlog::warn("iam-rotate-keys: user {}: {}", user, orphans);
  Status st = deliver(ctx, step, delivery, user, id, secret);  // wipes `secret`
  if (!st.ok()) {
    // An undelivered key is useless and a risk: remove it, then report why delivery failed.
    Status cleanup = delete_key(ctx, user, id);
    return step_error(step, "delivering the new key " + id + " failed (" + st.error().message + ")" +
                                (cleanup.ok() ? "; the key was deleted again" : "; deleting it failed too: " +
                                                                                     cleanup.error().code),
                      st.error().kind);
  }
  spdlog::info("iam-rotate-keys: new access key {} of IAM user {} delivered to {}", id, user, delivered_to(delivery));
  json out = {{"new_access_key_id", id}, {"delivered_to", delivered_to(delivery)}};
  if (!orphans.empty()) out["orphan_keys"] = orphans;
  return out;
}

// create-new-key: a new key, its secret delivered to exactly one new place.
RotateOps create_ops() {
  RotateOps o;
  o.parse = [](const Step& step, RotateArgs& a) -> Status {
    static const json kNone;
    const json& d = step.args.contains("delivery") ? step.args.at("delivery") : kNone;
    CC_ASSIGN(a.delivery.type, str_at(step, d, "type", "delivery.type"));
    if (a.delivery.file()) {
      CC_ASSIGN(a.delivery.path, str_at(step, d, "path", "delivery.path"));
      if (a.delivery.path.front() != '/') return bad_field(step, "delivery.path", "must be an absolute path");
    } else if (a.delivery.type == "secretsmanager") {
      CC_ASSIGN(a.delivery.name, str_at(step, d, "name", "delivery.name"));
      CC_ASSIGN(a.delivery.region, str_at(step, d, "region", "delivery.region"));
    } else {
      return bad_field(step, "delivery.type", "must be \"file\" or \"secretsmanager\"");
    }
    CC_ASSIGN(a.existing_key_ids, key_list(step, "existing_key_ids"));
    CC_ASSIGN(a.old_key_ids, key_list(step, "old_key_ids"));
    return Ok{};
  };
  o.capture = [](Context&, const Step&, const RotateArgs&, const json& keys) -> Result<json> {
    return json{{"access_keys", keys}};
  };
  o.apply = create_new_key;
  o.verify = [](Context& ctx, const Step& step, const RotateArgs& a, const json& keys) -> Status {
    for (const auto& k : keys) {
      const std::string id = k.value("AccessKeyId", "");
      if (contains(a.existing_key_ids, id) || k.value("Status", "") != "Active") continue;
      CC_ASSIGN(bool ok, delivered(ctx, a.delivery, id));
      if (ok) return Ok{};
      return step_error(step, "new key " + id + " exists but " + delivered_to(a.delivery) + " does not hold it");
    }
    return step_error(step, "no new active access key");
  };
  o.rollback = [](Context& ctx, const Step& step, const RotateArgs& a, const json& before,
                  const json& applied) -> Status {
    const std::string& user = a.user;
    CC_ASSIGN(const json before_keys, iam::journaled_keys(step, before));
    CC_ASSIGN(json keys, list_access_keys(ctx, user));
    const std::vector<std::string> before_ids = ids_of(before_keys);
    std::vector<std::string> fresh;
    if (applied.is_object() && applied.contains("new_access_key_id") && applied.at("new_access_key_id").is_string()) {
      fresh.push_back(applied.at("new_access_key_id").get<std::string>());
    } else {  // died during apply: whatever key appeared since capture is this step's
      for (const auto& id : ids_of(keys))
        if (!contains(before_ids, id)) fresh.push_back(id);
    }
    const std::vector<std::string> current = ids_of(keys);
    for (const auto& old : a.old_key_ids)
      if (!contains(current, old))
        return Error::refused("iam-rotate-keys: old access key " + old + " of user " + user +
                                  " no longer exists; the new key " + join(fresh) +
                                  " is kept so the user keeps a working key",
                              "OldKeyGone");
    for (const auto& id : fresh) {
      CC_TRY(delete_key(ctx, user, id));
      CC_TRY(undeliver(ctx, a.delivery, id));
    }
    return Ok{};
  };
  o.verify_rollback = [](Context& ctx, const Step& step, const RotateArgs& a, const json& before) -> Status {
    CC_ASSIGN(const json before_keys, iam::journaled_keys(step, before));
    CC_ASSIGN(json keys, list_access_keys(ctx, a.user));
    std::vector<std::string> want = ids_of(before_keys), got = ids_of(keys);
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    if (want != got) return step_error(step, "access keys are " + join(got) + ", expected " + join(want));
    return Ok{};
  };
  return o;
}

// deactivate-old-key: the old key(s) Inactive, matched by exact id.
RotateOps deactivate_ops() {
  RotateOps o;
  o.parse = [](const Step& step, RotateArgs& a) -> Status {
    CC_ASSIGN(a.key_ids, key_list(step, "key_ids"));
    return Ok{};
  };
  o.capture = [](Context&, const Step&, const RotateArgs&, const json& keys) -> Result<json> {
    return json{{"access_keys", keys}};
  };
  o.apply = [](Context& ctx, const Step&, const RotateArgs& a, const json&, const json& keys) -> Result<json> {
    json done = json::array();
    for (const auto& id : a.key_ids) {
      if (id == ctx.caller.access_key_id) return self_rotation(id);
      const json* k = find_key(keys, id);
      if (!k) continue;
      if (k->value("Status", "") != "Inactive")
        CC_TRY(call(ctx, "UpdateAccessKey", {{"UserName", a.user}, {"AccessKeyId", id}, {"Status", "Inactive"}}));
      done.push_back(id);
    }
    return json{{"deactivated", done}};
  };
  o.verify = [](Context&, const Step& step, const RotateArgs& a, const json& keys) -> Status {
    for (const auto& id : a.key_ids)
      if (const json* k = find_key(keys, id); k && k->value("Status", "") != "Inactive")
        return step_error(step, "old key " + id + " is still Active");
    return Ok{};
  };
  o.rollback = [](Context& ctx, const Step& step, const RotateArgs& a, const json& before, const json&) -> Status {
    CC_ASSIGN(const json before_keys, iam::journaled_keys(step, before));
    CC_ASSIGN(std::string gone, iam::reactivate_keys(ctx, a.user, before_keys, a.key_ids));
    if (!gone.empty()) return step_error(step, "old access key(s) " + gone + " no longer exist; the new key stays");
    return Ok{};
  };
  o.verify_rollback = [](Context& ctx, const Step& step, const RotateArgs& a, const json& before) -> Status {
    CC_ASSIGN(const json before_keys, iam::journaled_keys(step, before));
    CC_ASSIGN(json keys, list_access_keys(ctx, a.user));
    for (const auto& id : a.key_ids) {
      const json* was = find_key(before_keys, id);
      const json* now = find_key(keys, id);
      if (was && (!now || now->value("Status", "") != was->value("Status", "")))
        return step_error(step, "old key " + id + " is not " + was->value("Status", ""));
    }
    return Ok{};
  };
  return o;
}

}  // namespace

const std::map<std::string, RotateOps>& step_ops() {
  static const std::map<std::string, RotateOps> kOps = {
      {kStepDeleteInactive, delete_inactive_ops()},
      {kStepCreate, create_ops()},
      {kStepDeactivate, deactivate_ops()},
  };
  return kOps;
}

}  // namespace containctl::actions::rotate
