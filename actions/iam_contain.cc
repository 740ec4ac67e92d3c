#include "actions/iam_contain.h"

namespace containctl::actions {

namespace {

bool is_role_step(const Step& step) { return step.args.value("kind", "") == "role"; }

class IamContain final : public ActionFamily {
 public:
  std::string name() const override { return "iam-contain"; }
  bool handles(const Target& t) const override { return t.service == "iam" && (t.type == "user" || t.type == "role"); }

  Result<json> discover(Context& ctx) override {
    if (!handles(ctx.target)) return Error::invalid("iam-contain does not handle target " + ctx.target.arn);
    return ctx.target.type == "role" ? iam::discover_role(ctx) : iam::discover_user(ctx);
  }
  Result<TargetPlan> plan(Context& ctx, const json& d) override {
    if (!handles(ctx.target)) return Error::invalid("iam-contain does not handle target " + ctx.target.arn);
    return ctx.target.type == "role" ? iam::plan_role(ctx, d) : iam::plan_user(ctx, d);
  }
  Result<json> capture(Context& ctx, const Step& s) override {
    return is_role_step(s) ? iam::capture_role(ctx, s) : iam::capture_user(ctx, s);
  }
  Result<json> apply(Context& ctx, const Step& s, const json& before) override {
    return is_role_step(s) ? iam::apply_role(ctx, s, before) : iam::apply_user(ctx, s, before);
  }
  Status verify(Context& ctx, const Step& s) override {
    return is_role_step(s) ? iam::verify_role(ctx, s) : iam::verify_user(ctx, s);
  }
  Status rollback(Context& ctx, const Step& s, const json& before, const json& applied,
                  const RollbackOptions& o) override {
    return is_role_step(s) ? iam::rollback_role(ctx, s, before, applied, o)
                           : iam::rollback_user(ctx, s, before, applied, o);
  }
  Status verify_rollback(Context& ctx, const Step& s, const json& before, const RollbackOptions& o) override {
    return is_role_step(s) ? iam::verify_rollback_role(ctx, s, before, o) : iam::verify_rollback_user(ctx, s, before, o);
  }
  std::vector<std::string> iam_actions() const override { return iam::contain_iam_actions(); }
};

}  // namespace

std::unique_ptr<ActionFamily> make_iam_contain() { return std::make_unique<IamContain>(); }

namespace iam {

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
