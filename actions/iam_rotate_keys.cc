// iam-rotate-keys: discovery, the plan, and dispatch to the typed step table
// (iam_rotate_keys_steps.h). Steps, in this order (each depends on the one before):
//   delete-inactive-key  (only at the two-key limit, with iam.delete_inactive_key=true) irreversible
//   create-new-key       CreateAccessKey + deliver the secret (new 0600 file or Secrets Manager)
//   deactivate-old-key   UpdateAccessKey Inactive for the old key(s), matched by exact id
#include "actions/iam_rotate_keys.h"

#include "actions/iam_common.h"
#include "actions/iam_rotate_keys_steps.h"
#include "actions/secret_delivery.h"

namespace containctl::actions {

namespace {

using iam::api_call;
using iam::call;
using iam::find_key;
using iam::list_access_keys;
using rotate::contains;
using rotate::Delivery;
using rotate::delivered_to;
using rotate::ids_of;
using rotate::join;
using rotate::ParsedStep;
using rotate::self_rotation;

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
    // The discovery may come from a plan file: read it without operator[] on const json.
    const json keys = d.is_object() && d.contains("access_keys") && d.at("access_keys").is_array()
                          ? d.at("access_keys")
                          : json::array();
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
        if (k.value("Status", "") == "Active") old_ids.push_back(k.value("AccessKeyId", ""));
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
        if (k.value("Status", "") == "Inactive" && !contains(old_ids, k.value("AccessKeyId", "")))
          candidates.push_back(k.value("AccessKeyId", ""));
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
      s.id = rotate::kStepDeleteInactive;
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
    c.id = rotate::kStepCreate;
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
      if (const json* k = find_key(keys, id); k && k->value("Status", "") == "Active") to_deactivate.push_back(id);
    if (!to_deactivate.empty()) {
      Step s;
      s.id = rotate::kStepDeactivate;
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
      s.depends_on.push_back(rotate::kStepCreate);
      steps.push_back(std::move(s));
    }
    if (keys.empty()) p.warnings.push_back("User " + user + " has no access key: a first key is created.");
    for (const auto& s : steps) CC_TRY(check_rotate_keys_step(s));  // what plan writes, apply can read
    p.steps = std::move(steps);
    return p;
  }

  Result<json> capture(Context& ctx, const Step& step) override {
    CC_ASSIGN(ParsedStep p, rotate::parse_step(step));
    CC_ASSIGN(json keys, list_access_keys(ctx, p.args.user));
    return p.ops->capture(ctx, step, p.args, keys);
  }

  Result<json> apply(Context& ctx, const Step& step, const json& before) override {
    CC_ASSIGN(ParsedStep p, rotate::parse_step(step));
    CC_ASSIGN(json keys, list_access_keys(ctx, p.args.user));
    return p.ops->apply(ctx, step, p.args, before, keys);
  }

  Status verify(Context& ctx, const Step& step) override {
    CC_ASSIGN(ParsedStep p, rotate::parse_step(step));
    CC_ASSIGN(json keys, list_access_keys(ctx, p.args.user));
    return p.ops->verify(ctx, step, p.args, keys);
  }

  Status rollback(Context& ctx, const Step& step, const json& before, const json& applied,
                  const RollbackOptions&) override {
    CC_ASSIGN(ParsedStep p, rotate::parse_step(step));
    return p.ops->rollback(ctx, step, p.args, before, applied);
  }

  Status verify_rollback(Context& ctx, const Step& step, const json& before, const RollbackOptions&) override {
    CC_ASSIGN(ParsedStep p, rotate::parse_step(step));
    return p.ops->verify_rollback(ctx, step, p.args, before);
  }

  // Every step writes the user's access keys, like iam-contain's deactivate-keys.
  std::vector<std::string> shared_resources(const Target& target, const Step& step) const override {
    auto p = rotate::parse_step(step);
    if (!p.ok()) return {};
    return {iam::access_keys_key(target.partition, p->args.account, p->args.user)};
  }

  std::vector<std::string> iam_actions() const override {
    return {"iam:GetUser",          "iam:ListAccessKeys",        "iam:GetAccessKeyLastUsed",
            "iam:CreateAccessKey",  "iam:UpdateAccessKey",       "iam:DeleteAccessKey",
            "secretsmanager:DescribeSecret", "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
            // CreateSecret with Tags needs it too (no separate call).
            "secretsmanager:TagResource"};
  }
};

}  // namespace

std::unique_ptr<ActionFamily> make_iam_rotate_keys() { return std::make_unique<IamRotateKeys>(); }

}  // namespace containctl::actions
