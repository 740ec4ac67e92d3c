// iam-contain: contains an IAM user (deactivate keys, deny-all + older-session deny, tag; optional
// console and MFA removal) or role (AWSRevokeOlderSessions-style deny, optional full deny, tag),
// and restores it exactly. See docs/iam.md.
#pragma once

#include <memory>

#include "actions/action.h"

namespace containctl::actions {

std::unique_ptr<ActionFamily> make_iam_contain();

namespace iam {

// The user and role halves, dispatched by IamContain on the target type; their steps' operations
// are in iam_contain_steps.h.
Result<json> discover_user(Context& ctx);
Result<TargetPlan> plan_user(Context& ctx, const json& discovered);
Result<json> discover_role(Context& ctx);
Result<TargetPlan> plan_role(Context& ctx, const json& discovered);

// Checks a step of an iam-contain plan (a plan file read back, perhaps edited by hand): its typed
// arguments parse and its id is a step of its principal kind. The error names the step and field.
Status check_contain_step(const Step& step);

// The IAM resources a step writes (keys from iam_common.h): the user's access keys for
// deactivate-keys, the principal (its inline policies and tags) for every other step.
std::vector<std::string> contain_shared_resources(const Target& target, const Step& step);

// Every IAM action iam-contain can call.
std::vector<std::string> contain_iam_actions();

}  // namespace iam
}  // namespace containctl::actions
