// iam-contain: contains an IAM user (deactivate keys, deny-all + older-session deny, tag; optional
// console and MFA removal) or role (AWSRevokeOlderSessions-style deny, optional full deny, tag),
// and restores it exactly. See docs/iam.md.
#pragma once

#include <memory>

#include "actions/action.h"

namespace containctl::actions {

std::unique_ptr<ActionFamily> make_iam_contain();

namespace iam {

// The user and role halves, dispatched by IamContain on the target type / step args["kind"].
Result<json> discover_user(Context& ctx);
Result<TargetPlan> plan_user(Context& ctx, const json& discovered);
Result<json> capture_user(Context& ctx, const Step& step);
Result<json> apply_user(Context& ctx, const Step& step, const json& before);
Status verify_user(Context& ctx, const Step& step);
Status rollback_user(Context& ctx, const Step& step, const json& before, const json& applied,
                     const RollbackOptions& options);
Status verify_rollback_user(Context& ctx, const Step& step, const json& before, const RollbackOptions& options);

Result<json> discover_role(Context& ctx);
Result<TargetPlan> plan_role(Context& ctx, const json& discovered);
Result<json> capture_role(Context& ctx, const Step& step);
Result<json> apply_role(Context& ctx, const Step& step, const json& before);
Status verify_role(Context& ctx, const Step& step);
Status rollback_role(Context& ctx, const Step& step, const json& before, const json& applied,
                     const RollbackOptions& options);
Status verify_rollback_role(Context& ctx, const Step& step, const json& before, const RollbackOptions& options);

// Every IAM action iam-contain can call.
std::vector<std::string> contain_iam_actions();

}  // namespace iam
}  // namespace containctl::actions
