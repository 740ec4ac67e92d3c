// iam-contain's typed step model: the arguments of every step, parsed and checked once from
// Step.args (when a plan loads, and again before each use), and the operations of each step id,
// one table per principal kind (the shape of ec2-isolate's StepOps). Internal to the family.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "actions/action.h"
#include "actions/iam_common.h"

namespace containctl::actions::iam {

struct ContainArgs {
  Principal principal = Principal::kUser;  // args.kind: "user" | "role"
  std::string name;                        // args.user_name | args.role_name
  std::string account;                     // args.account: 12 digits
  std::vector<std::string> key_ids;        // deactivate-keys: args.key_ids
  std::string serial;                      // deactivate-mfa: args.serial
  std::string password_out;                // disable-console: args.password_out (optional)
  int max_session_duration = 0;            // revoke-sessions: args.max_session_duration
};

// The arguments of `step`, or an InvalidPlan error naming the step and the field.
Result<ContainArgs> parse_contain_args(const Step& step);

struct ContainOps {
  std::function<Result<json>(Context&, const Step&, const ContainArgs&)> capture;
  std::function<Result<json>(Context&, const Step&, const ContainArgs&, const json& before)> apply;
  std::function<Status(Context&, const Step&, const ContainArgs&)> verify;
  std::function<Status(Context&, const Step&, const ContainArgs&, const json& before, const json& applied,
                       const RollbackOptions&)>
      rollback;
  std::function<Status(Context&, const Step&, const ContainArgs&, const json& before, const RollbackOptions&)>
      verify_rollback;
};

// Step id -> operations.
const std::map<std::string, ContainOps>& user_step_ops();  // iam_contain_user_steps.cc
const std::map<std::string, ContainOps>& role_step_ops();  // iam_contain_role.cc

// The run tag step, the same for users and roles (iam_contain_user_steps.cc).
ContainOps run_tag_ops();

// User reads shared by discovery and the steps (iam_contain_user.cc).
Result<json> login_profile(Context& ctx, const std::string& user);
Result<json> mfa_serials(Context& ctx, const std::string& user);

}  // namespace containctl::actions::iam
