// The steps of s3-contain as a table: each step id maps to its operations, which take typed
// arguments parsed once from the plan (parse_step_args). Not a public API of the actions library.
#pragma once

#include <functional>
#include <string>

#include "actions/action.h"
#include "actions/s3_api.h"
#include "actions/s3_policy.h"

namespace containctl::actions::s3 {

// Everything a step reads from its plan args, checked for presence and type.
struct StepArgs {
  Where where;             // bucket, region and, for object steps, key
  std::string partition;
  std::string policy;      // deny-policy: the whole document it puts
  ordered_json statement;  // deny-policy, object-deny: the deny statement that must hold
  std::string tag_key;     // tag-bucket
  std::string tag_value;   // tag-bucket: the plan's run id; empty when planned without one
};

// Parses `step.args` for `step.id`; the error names the field ("args.bucket: expected a string").
Result<StepArgs> parse_step_args(const Step& step);

struct StepOps {
  bool object = false;  // an object step (needs args.key)
  std::function<Result<json>(Context&, const StepArgs&)> capture;
  std::function<Result<json>(Context&, const StepArgs&)> apply;
  std::function<Status(Context&, const StepArgs&)> verify;
  std::function<Status(Context&, const StepArgs&, const json& before, const json& applied, const RollbackOptions&)>
      rollback;
  std::function<Status(Context&, const StepArgs&, const json& before, const RollbackOptions&)> verify_rollback;
};

// The operations of a step id, or nullptr.
const StepOps* step_ops(const std::string& id);

StepOps deny_policy_ops();        // s3_policy_steps.cc
StepOps object_deny_ops();
StepOps disable_acls_ops();       // s3_acl_steps.cc
StepOps object_acl_ops();
StepOps block_public_ops();       // s3_bucket_steps.cc
StepOps tag_ops();

// Shared by the step files.
Error verification_failed(const std::string& what);
std::string what(const Where& w);
// The field of a journaled before-state; the error names it.
Result<json> recorded(const json& before, const char* field);

}  // namespace containctl::actions::s3
