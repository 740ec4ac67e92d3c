// iam-rotate-keys: for an IAM user, create a new access key, deliver its secret to a new 0600 file
// (iam.secret_out) or a Secrets Manager secret (iam.secret_manager_name), then deactivate the old key,
// matched by exact id. See docs/iam.md.
#pragma once

#include <memory>

#include "actions/action.h"

namespace containctl::actions {

std::unique_ptr<ActionFamily> make_iam_rotate_keys();

// Checks a step of an iam-rotate-keys plan (a plan file read back, perhaps edited by hand): its
// typed arguments parse. The error (InvalidPlan) names the step and the field.
Status check_rotate_keys_step(const Step& step);

}  // namespace containctl::actions
