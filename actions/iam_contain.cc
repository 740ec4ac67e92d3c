#include "actions/iam_contain.h"

#include "actions/iam_contain_steps.h"

namespace containctl::actions {

namespace {

using iam::ContainArgs;
using iam::ContainOps;

// The typed arguments of a step and its operations (user or role table, by args.kind).
struct Resolved {
  ContainArgs args;
  const ContainOps* ops;
};

Result<Resolved> resolve(const Step& step) {
  CC_ASSIGN(ContainArgs args, iam::parse_contain_args(step));
  const auto& table = args.principal == iam::Principal::kRole ? iam::role_step_ops() : iam::user_step_ops();
  auto it = table.find(step.id);
  if (it == table.end())
    return Error::invalid("iam-contain plan step '" + step.id + "' has no operations", "InvalidPlan");
  return Resolved{std::move(args), &it->second};
}

class IamContain final : public ActionFamily {
 public:
  std::string name() const override { return "iam-contain"; }
  Status check_step(const Step& step) const override { return iam::check_contain_step(step); }
  bool handles(const Target& t) const override { return t.service == "iam" && (t.type == "user" || t.type == "role"); }

  Result<json> discover(Context& ctx) override {
    if (!handles(ctx.target)) return Error::invalid("iam-contain does not handle target " + ctx.target.arn);
    return ctx.target.type == "role" ? iam::discover_role(ctx) : iam::discover_user(ctx);
  }
  Result<TargetPlan> plan(Context& ctx, const json& d) override {
    if (!handles(ctx.target)) return Error::invalid("iam-contain does not handle target " + ctx.target.arn);
    CC_ASSIGN(TargetPlan p, ctx.target.type == "role" ? iam::plan_role(ctx, d) : iam::plan_user(ctx, d));
    for (const auto& s : p.steps) CC_TRY(iam::check_contain_step(s));  // what plan writes, apply can read
    return p;
  }
  Result<json> capture(Context& ctx, const Step& s) override {
    CC_ASSIGN(Resolved r, resolve(s));
    return r.ops->capture(ctx, s, r.args);
  }
  Result<json> apply(Context& ctx, const Step& s, const json& before) override {
    CC_ASSIGN(Resolved r, resolve(s));
    return r.ops->apply(ctx, s, r.args, before);
  }
  Status verify(Context& ctx, const Step& s) override {
    CC_ASSIGN(Resolved r, resolve(s));
    return r.ops->verify(ctx, s, r.args);
  }
  Status rollback(Context& ctx, const Step& s, const json& before, const json& applied,
                  const RollbackOptions& o) override {
    CC_ASSIGN(Resolved r, resolve(s));
    return r.ops->rollback(ctx, s, r.args, before, applied, o);
  }
  Status verify_rollback(Context& ctx, const Step& s, const json& before, const RollbackOptions& o) override {
    CC_ASSIGN(Resolved r, resolve(s));
    return r.ops->verify_rollback(ctx, s, r.args, before, o);
  }
  std::vector<std::string> iam_actions() const override { return iam::contain_iam_actions(); }
  std::vector<std::string> shared_resources(const Target& target, const Step& step) const override {
    return iam::contain_shared_resources(target, step);
  }
  // Without --reactivate-keys a user's keys stay Inactive after rollback (AWS's runbook too).
  bool rollback_keeps_contained(const Step& s, const RollbackOptions& o) const override {
    if (o.reactivate_keys || s.id != "deactivate-keys") return false;
    auto args = iam::parse_contain_args(s);
    return args.ok() && args->principal == iam::Principal::kUser;
  }
};

}  // namespace

std::unique_ptr<ActionFamily> make_iam_contain() { return std::make_unique<IamContain>(); }

namespace iam {

std::vector<std::string> contain_shared_resources(const Target& target, const Step& step) {
  auto args = parse_contain_args(step);
  if (!args.ok()) return {};  // a damaged step fails in the step itself
  if (step.id == "deactivate-keys") return {access_keys_key(target.partition, args->account, args->name)};
  return {principal_key(args->principal, target.partition, args->account, args->name)};
}

std::vector<std::string> contain_iam_actions() {
  return {
      // users: discover, capture, verify
      "iam:GetUser", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:GetLoginProfile", "iam:ListMFADevices",
      "iam:ListUserPolicies", "iam:GetUserPolicy", "iam:ListAttachedUserPolicies", "iam:ListGroupsForUser",
      "iam:ListUserTags",
      // users: apply and rollback
      "iam:UpdateAccessKey", "iam:PutUserPolicy", "iam:DeleteUserPolicy", "iam:TagUser", "iam:UntagUser",
      "iam:DeleteLoginProfile", "iam:CreateLoginProfile",
      "iam:UpdateLoginProfile",  // only when CreateLoginProfile's answer was lost
      "iam:DeactivateMFADevice",
      // roles
      "iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRoleTags",
      "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:TagRole", "iam:UntagRole"};
}

}  // namespace iam
}  // namespace containctl::actions
