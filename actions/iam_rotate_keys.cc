// iam-rotate-keys. Steps, in this order (each depends on the one before):
//   delete-inactive-key  (only at the two-key limit, with iam.delete_inactive_key=true) irreversible
//   create-new-key       CreateAccessKey + deliver the secret (new 0600 file or Secrets Manager)
//   deactivate-old-key   UpdateAccessKey Inactive for the old key(s), matched by exact id
// The new secret exists only in the CreateAccessKey response, the delivery and local buffers that
// are wiped; apply returns the key id and where the secret went, never the secret.
#include "actions/iam_rotate_keys.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "actions/iam_common.h"
#include "actions/secret_delivery.h"

namespace containctl::actions {

namespace {

using iam::api_call;
using iam::call;
using iam::find_key;
using iam::list_access_keys;
using iam::reactivate_keys;
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

// Where the new secret goes (args.delivery): a new file, or a new Secrets Manager secret.
struct Delivery {
  std::string type;  // "file" | "secretsmanager"
  std::string path;  // file
  std::string name;  // secretsmanager
  std::string region;
  bool file() const { return type == "file"; }
  json to_json() const {
    return file() ? json{{"type", type}, {"path", path}} : json{{"type", type}, {"name", name}, {"region", region}};
  }
};

// The typed arguments of an iam-rotate-keys step, parsed from Step.args when a plan loads and
// before each use.
struct RotateArgs {
  std::string user;                           // args.user_name
  std::string account;                        // args.account
  std::string key_id;                         // delete-inactive-key: args.key_id
  Delivery delivery;                          // create-new-key: args.delivery
  std::vector<std::string> existing_key_ids;  // create-new-key: args.existing_key_ids
  std::vector<std::string> old_key_ids;       // create-new-key: args.old_key_ids
  std::vector<std::string> key_ids;           // deactivate-old-key: args.key_ids
};

Error bad_field(const Step& step, const std::string& field, const std::string& problem) {
  return Error::invalid("iam-rotate-keys plan step '" + step.id + "': field 'args." + field + "' " + problem,
                        "InvalidPlan");
}

Result<std::string> str_at(const Step& step, const json& obj, const char* key, const std::string& path) {
  if (!obj.is_object() || !obj.contains(key)) return bad_field(step, path, "is missing");
  const json& v = obj.at(key);
  if (!v.is_string() || v.get<std::string>().empty()) return bad_field(step, path, "must be a non-empty string");
  return v.get<std::string>();
}

Result<std::vector<std::string>> key_list(const Step& step, const char* key) {
  if (!step.args.contains(key) || !step.args.at(key).is_array())
    return bad_field(step, key, "must be a list of access key ids");
  std::vector<std::string> out;
  for (const auto& k : step.args.at(key)) {
    if (!k.is_string() || k.get<std::string>().size() < 16 ||
        k.get<std::string>().find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != std::string::npos)
      return bad_field(step, key, "holds " + k.dump() + ", which is not an access key id");
    out.push_back(k.get<std::string>());
  }
  return out;
}

Result<RotateArgs> parse_rotate_args(const Step& step) {
  if (!step.args.is_object()) return bad_field(step, "", "must be an object");
  RotateArgs a;
  CC_ASSIGN(a.user, str_at(step, step.args, "user_name", "user_name"));
  if (a.user.size() > 64 || a.user.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") !=
                                std::string::npos)
    return bad_field(step, "user_name", "is not an IAM user name");
  CC_ASSIGN(a.account, str_at(step, step.args, "account", "account"));
  if (a.account.size() != 12 || a.account.find_first_not_of("0123456789") != std::string::npos)
    return bad_field(step, "account", "must be a 12-digit account id");
  if (step.id == "delete-inactive-key") {
    CC_ASSIGN(a.key_id, str_at(step, step.args, "key_id", "key_id"));
  } else if (step.id == "create-new-key") {
    const json& d = step.args.contains("delivery") ? step.args.at("delivery") : json();
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
  } else if (step.id == "deactivate-old-key") {
    CC_ASSIGN(a.key_ids, key_list(step, "key_ids"));
  } else {
    return Error::invalid("iam-rotate-keys plan step '" + step.id + "' is not a step of this family", "InvalidPlan");
  }
  return a;
}

std::string delivered_to(const Delivery& d) {
  return d.file() ? "file " + d.path : "Secrets Manager secret " + d.name + " (" + d.region + ")";
}

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

Status deliver(Context& ctx, const Delivery& d, const std::string& user, const std::string& key_id,
               std::string& secret) {
  std::string content = json{{"UserName", user}, {"AccessKeyId", key_id}, {"SecretAccessKey", secret}}.dump();
  iam::wipe(secret);
  Status st = Ok{};
  if (d.file()) {
    content += "\n";
    st = iam::write_new_secret_file(d.path, content);
  } else {
    auto arn = iam::create_secret(ctx, d.region, d.name, iam::secret_description(user, key_id, ctx.run_id), content);
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

Error self_rotation(const std::string& id) {
  return Error::refused("iam-rotate-keys refuses to rotate, deactivate or delete access key " + id +
                            ": it is the key containctl is signing with",
                        "SelfRotation");
}

class IamRotateKeys final : public ActionFamily {
 public:
  std::string name() const override { return "iam-rotate-keys"; }
  Status check_step(const Step& step) const override { return check_rotate_keys_step(step); }
  bool handles(const Target& t) const override { return t.service == "iam" && t.type == "user"; }

  Result<json> discover(Context& ctx) override {
    if (!handles(ctx.target)) return Error::invalid("iam-rotate-keys handles IAM users only, not " + ctx.target.arn);
    const std::string& name = ctx.target.name;
    auto got = call(ctx, "GetUser", {{"UserName", name}});
    if (!got.ok()) {
      if (iam::is_no_such_entity(got.error()))
        return Error{ErrorKind::kClient, "NoSuchEntity",
                     "IAM user '" + name + "' does not exist in account " + ctx.target.account};
      return got.error();
    }
    json d = {{"kind", "user"},
              {"user_name", aws::xml_text(got->root(), "UserName")},
              {"arn", aws::xml_text(got->root(), "Arn")}};
    CC_ASSIGN(json keys, list_access_keys(ctx, name));
    for (auto& k : keys) {
      CC_ASSIGN(aws::XmlResponse lu, call(ctx, "GetAccessKeyLastUsed", {{"AccessKeyId", k["AccessKeyId"]}}));
      k["LastUsed"] = {{"Date", aws::xml_text(lu.root(), "LastUsedDate")},
                       {"ServiceName", aws::xml_text(lu.root(), "ServiceName")}};
    }
    d["access_keys"] = keys;
    return d;
  }

  Result<TargetPlan> plan(Context& ctx, const json& d) override {
    TargetPlan p;
    p.target = ctx.target;
    p.family = name();
    p.discovered = d;
    const std::string user = d.value("user_name", "");
    const json& keys = d["access_keys"];
    const json base = {{"kind", "user"}, {"user_name", user}, {"account", ctx.target.account}};

    // Where the new secret goes: exactly one place, chosen by the responder.
    const std::string out = ctx.options.get("iam.secret_out"), sm = ctx.options.get("iam.secret_manager_name");
    if (out.empty() == sm.empty())
      return Error::invalid("iam-rotate-keys needs exactly one of --option iam.secret_out=PATH (a new 0600 file) or "
                            "--option iam.secret_manager_name=NAME (a new Secrets Manager secret)");
    Delivery delivery;
    if (!out.empty()) {
      CC_ASSIGN(std::string path, iam::check_new_secret_path(out, "iam.secret_out"));
      delivery = {"file", path, "", ""};
    } else {
      delivery = {"secretsmanager", "", sm, ctx.options.get("iam.secret_manager_region", ctx.region)};
    }

    std::vector<std::string> old_ids;
    const std::string targeted = ctx.options.get("iam.access_key_id");
    if (!targeted.empty()) {
      if (!find_key(keys, targeted))
        return Error::invalid("--option iam.access_key_id=" + targeted + ": user " + user + " has no such access key");
      old_ids.push_back(targeted);
    } else {
      for (const auto& k : keys)
        if (k["Status"] == "Active") old_ids.push_back(k["AccessKeyId"]);
    }
    // Interlock: the tool must keep the key it signs with.
    if (!ctx.caller.access_key_id.empty() && contains(old_ids, ctx.caller.access_key_id))
      return self_rotation(ctx.caller.access_key_id);

    std::vector<Step> steps;
    if (keys.size() >= 2) {
      // IAM allows two keys per user: a slot must be freed, and only an inactive key that is not being
      // rotated may go.
      std::vector<std::string> candidates;
      for (const auto& k : keys)
        if (k["Status"] == "Inactive" && !contains(old_ids, k["AccessKeyId"])) candidates.push_back(k["AccessKeyId"]);
      const std::string named = ctx.options.get("iam.delete_key_id");
      if (!named.empty()) {
        if (!contains(candidates, named))
          return Error::invalid("--option iam.delete_key_id=" + named + " is not an inactive key of user " + user +
                                " outside the rotation (candidates: " + (candidates.empty() ? "none" : join(candidates)) + ")");
        candidates = {named};
      }
      if (candidates.empty())
        return Error::invalid("user " + user + " already has two access keys (" + join(ids_of(keys)) +
                                  "), the IAM limit, and neither is an inactive key outside the rotation that could be "
                                  "deleted; deactivate one (iam-contain) or delete one yourself, then plan again",
                              "AccessKeyLimit");
      if (candidates.size() > 1)
        return Error::invalid("user " + user + " has two inactive access keys (" + join(candidates) +
                                  "); name the one to delete with --option iam.delete_key_id=ID",
                              "AccessKeyLimit");
      const std::string victim = candidates.front();
      if (victim == ctx.caller.access_key_id) return self_rotation(victim);
      if (!ctx.options.flag("iam.delete_inactive_key"))
        return Error::invalid("user " + user + " already has two access keys, the IAM limit; rotating needs deleting "
                                  "the inactive key " + victim +
                                  " (irreversible). Plan again with --option iam.delete_inactive_key=true to do so",
                              "AccessKeyLimit");
      Step s;
      s.id = "delete-inactive-key";
      s.description = "Delete the inactive access key " + victim + " of IAM user " + user +
                      " to make room for the new key (two-key limit)";
      s.calls.push_back(api_call("DeleteAccessKey", {{"UserName", user}, {"AccessKeyId", victim}}));
      s.before = {{"access_key", *find_key(keys, victim)}};
      s.after = {{"access_key", nullptr}};
      s.reversible = false;
      s.warnings.push_back("IRREVERSIBLE: access key " + victim + " is deleted; rollback cannot bring it back.");
      s.args = base;
      s.args["key_id"] = victim;
      steps.push_back(std::move(s));
    }

    Step c;
    c.id = "create-new-key";
    c.description = "Create a new access key for IAM user " + user + " and deliver its secret to " + delivered_to(delivery);
    c.calls.push_back(api_call("CreateAccessKey", {{"UserName", user}}));
    if (!delivery.file())
      c.calls.push_back(ApiCall{"secretsmanager", "CreateSecret",
                                {{"Name", delivery.name},
                                 {"SecretString", "<the new key's secret; never shown>"},
                                 {"Description", iam::secret_description(user, "<new key id>", ctx.run_id)}},
                                true});
    c.before = {{"access_keys", keys}};
    c.after = {{"new_access_key", "Active"}, {"secret_delivered_to", delivered_to(delivery)}};
    c.warnings.push_back("The new secret goes only to " + delivered_to(delivery) +
                         "; it is never printed, logged, journaled or audited.");
    c.args = base;
    c.args["delivery"] = delivery.to_json();
    c.args["existing_key_ids"] = ids_of(keys);
    c.args["old_key_ids"] = old_ids;
    if (!steps.empty()) c.depends_on.push_back(steps.back().id);
    steps.push_back(std::move(c));

    std::vector<std::string> to_deactivate;
    for (const auto& id : old_ids)
      if ((*find_key(keys, id))["Status"] == "Active") to_deactivate.push_back(id);
    if (!to_deactivate.empty()) {
      Step s;
      s.id = "deactivate-old-key";
      s.description = "Deactivate the old access key(s) " + join(to_deactivate) + " of IAM user " + user +
                      " (matched by exact id)";
      for (const auto& id : to_deactivate)
        s.calls.push_back(api_call("UpdateAccessKey", {{"UserName", user}, {"AccessKeyId", id}, {"Status", "Inactive"}}));
      json before = json::array();
      for (const auto& id : to_deactivate) before.push_back({{"AccessKeyId", id}, {"Status", "Active"}});
      s.before = {{"access_keys", before}};
      s.after = {{"access_keys_inactive", to_deactivate}};
      s.warnings.push_back("Whatever still signs with " + join(to_deactivate) +
                           " stops working; it must switch to the new key. Rollback reactivates the old key and "
                           "deletes the new one, as long as the old key still exists.");
      s.args = base;
      s.args["key_ids"] = to_deactivate;
      s.depends_on.push_back("create-new-key");
      steps.push_back(std::move(s));
    }
    if (keys.empty()) p.warnings.push_back("User " + user + " has no access key: a first key is created.");
    for (const auto& s : steps) CC_TRY(check_rotate_keys_step(s));  // what plan writes, apply can read
    p.steps = std::move(steps);
    return p;
  }

  Result<json> capture(Context& ctx, const Step& step) override {
    CC_ASSIGN(RotateArgs a, parse_rotate_args(step));
    CC_ASSIGN(json keys, list_access_keys(ctx, a.user));
    if (step.id == "delete-inactive-key") {
      const json* k = find_key(keys, a.key_id);
      return json{{"access_key", k ? *k : json(nullptr)}};
    }
    if (step.id == "create-new-key" || step.id == "deactivate-old-key") return json{{"access_keys", keys}};
    return Error::invalid("iam-rotate-keys: unknown step '" + step.id + "'");
  }

  Result<json> apply(Context& ctx, const Step& step, const json& before) override {
    CC_ASSIGN(RotateArgs a, parse_rotate_args(step));
    const std::string& user = a.user;
    CC_ASSIGN(json keys, list_access_keys(ctx, user));
    if (step.id == "delete-inactive-key") {
      const std::string& id = a.key_id;
      if (id == ctx.caller.access_key_id) return self_rotation(id);
      const json* k = find_key(keys, id);
      if (!k) return json{{"deleted", id}};
      if (k->value("Status", "") != "Inactive")
        return Error::refused("access key " + id + " of user " + user +
                                  " became Active since the plan; an active key is never deleted",
                              "KeyBecameActive");
      CC_TRY(delete_key(ctx, user, id));
      return json{{"deleted", id}};
    }
    if (step.id == "create-new-key") return create_new_key(ctx, step, a, before, keys);
    if (step.id == "deactivate-old-key") {
      json done = json::array();
      for (const auto& id : a.key_ids) {
        if (id == ctx.caller.access_key_id) return self_rotation(id);
        const json* k = find_key(keys, id);
        if (!k) continue;
        if (k->value("Status", "") != "Inactive")
          CC_TRY(call(ctx, "UpdateAccessKey", {{"UserName", user}, {"AccessKeyId", id}, {"Status", "Inactive"}}));
        done.push_back(id);
      }
      return json{{"deactivated", done}};
    }
    return Error::invalid("iam-rotate-keys: unknown step '" + step.id + "'");
  }

  Status verify(Context& ctx, const Step& step) override {
    CC_ASSIGN(RotateArgs a, parse_rotate_args(step));
    CC_ASSIGN(json keys, list_access_keys(ctx, a.user));
    if (step.id == "delete-inactive-key") {
      if (find_key(keys, a.key_id)) return step_error(step, "the key still exists");
      return Ok{};
    }
    if (step.id == "create-new-key") {
      for (const auto& k : keys) {
        const std::string id = k.value("AccessKeyId", "");
        if (contains(a.existing_key_ids, id) || k.value("Status", "") != "Active") continue;
        CC_ASSIGN(bool ok, delivered(ctx, a.delivery, id));
        if (ok) return Ok{};
        return step_error(step, "new key " + id + " exists but " + delivered_to(a.delivery) + " does not hold it");
      }
      return step_error(step, "no new active access key");
    }
    if (step.id == "deactivate-old-key") {
      for (const auto& id : a.key_ids)
        if (const json* k = find_key(keys, id); k && k->value("Status", "") != "Inactive")
          return step_error(step, "old key " + id + " is still Active");
      return Ok{};
    }
    return Error::invalid("iam-rotate-keys: unknown step '" + step.id + "'");
  }

  Status rollback(Context& ctx, const Step& step, const json& before, const json& applied,
                  const RollbackOptions& options) override {
    CC_ASSIGN(RotateArgs a, parse_rotate_args(step));
    const std::string& user = a.user;
    if (step.id == "delete-inactive-key") {
      spdlog::warn("iam-rotate-keys: access key {} of IAM user {} was deleted (irreversible)", a.key_id, user);
      return Ok{};
    }
    const json before_keys = before.value("access_keys", json::array());
    if (step.id == "deactivate-old-key") {
      CC_ASSIGN(std::string gone, reactivate_keys(ctx, user, before_keys, a.key_ids));
      if (!gone.empty())
        return step_error(step, "old access key(s) " + gone + " no longer exist; the new key stays");
      return Ok{};
    }
    CC_ASSIGN(json keys, list_access_keys(ctx, user));
    if (step.id == "create-new-key") {
      const std::vector<std::string> before_ids = ids_of(before.value("access_keys", json::array()));
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
    }
    return Error::invalid("iam-rotate-keys: unknown step '" + step.id + "'");
  }

  Status verify_rollback(Context& ctx, const Step& step, const json& before, const RollbackOptions& options) override {
    CC_ASSIGN(RotateArgs a, parse_rotate_args(step));
    if (step.id == "delete-inactive-key") return Ok{};  // irreversible
    CC_ASSIGN(json keys, list_access_keys(ctx, a.user));
    if (step.id == "create-new-key") {
      std::vector<std::string> want = ids_of(before.value("access_keys", json::array())), got = ids_of(keys);
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
      if (want != got) return step_error(step, "access keys are " + join(got) + ", expected " + join(want));
      return Ok{};
    }
    if (step.id == "deactivate-old-key") {
      const json before_keys = before.value("access_keys", json::array());
      for (const auto& id : a.key_ids) {
        const json* was = find_key(before_keys, id);
        const json* now = find_key(keys, id);
        if (was && (!now || now->value("Status", "") != was->value("Status", "")))
          return step_error(step, "old key " + id + " is not " + was->value("Status", ""));
      }
      return Ok{};
    }
    return Error::invalid("iam-rotate-keys: unknown step '" + step.id + "'");
  }

  // Every step writes the user's access keys, like iam-contain's deactivate-keys.
  std::vector<std::string> shared_resources(const Target& target, const Step& step) const override {
    auto a = parse_rotate_args(step);
    if (!a.ok()) return {};
    return {iam::access_keys_key(target.partition, a->account, a->user)};
  }

  std::vector<std::string> iam_actions() const override {
    return {"iam:GetUser",          "iam:ListAccessKeys",        "iam:GetAccessKeyLastUsed",
            "iam:CreateAccessKey",  "iam:UpdateAccessKey",       "iam:DeleteAccessKey",
            "secretsmanager:DescribeSecret", "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
            // CreateSecret with Tags needs it too (no separate call).
            "secretsmanager:TagResource"};
  }

 private:
  Result<json> create_new_key(Context& ctx, const Step& step, const RotateArgs& a, const json& before,
                              const json& keys) {
    const std::string& user = a.user;
    const Delivery& delivery = a.delivery;
    const std::vector<std::string> before_ids = ids_of(before.value("access_keys", json::array()));
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
    Status st = deliver(ctx, delivery, user, id, secret);  // wipes `secret`
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
};

}  // namespace

std::unique_ptr<ActionFamily> make_iam_rotate_keys() { return std::make_unique<IamRotateKeys>(); }

Status check_rotate_keys_step(const Step& step) {
  CC_TRY(parse_rotate_args(step));
  return Ok{};
}

}  // namespace containctl::actions
