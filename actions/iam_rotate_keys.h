// iam-rotate-keys: for an IAM user, create a new access key, deliver its secret to a new 0600 file
// (iam.secret_out) or a Secrets Manager secret (iam.secret_manager_name), then deactivate the old key,
// matched by exact id. See docs/iam.md.
#pragma once

#include <memory>

#include "actions/action.h"

namespace containctl::actions {

std::unique_ptr<ActionFamily> make_iam_rotate_keys();

}  // namespace containctl::actions
