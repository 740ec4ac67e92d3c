// iam-rotate-keys' typed step model: the arguments of every step, parsed and checked once from
// Step.args (when a plan loads, and again before each use), and a table from step id to its
// operations (the shape of ec2-isolate's StepOps). Internal to the family.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "actions/action.h"

namespace containctl::actions::rotate {

inline constexpr const char* kStepDeleteInactive = "delete-inactive-key";
inline constexpr const char* kStepCreate = "create-new-key";
inline constexpr const char* kStepDeactivate = "deactivate-old-key";

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

// The typed arguments of an iam-rotate-keys step. Which of the step-specific fields are set is
// decided by the step's table entry.
struct RotateArgs {
  std::string user;                           // args.user_name
  std::string account;                        // args.account
  std::string key_id;                         // delete-inactive-key: args.key_id
  Delivery delivery;                          // create-new-key: args.delivery
  std::vector<std::string> existing_key_ids;  // create-new-key: args.existing_key_ids
  std::vector<std::string> old_key_ids;       // create-new-key: args.old_key_ids
  std::vector<std::string> key_ids;           // deactivate-old-key: args.key_ids
};

// What each step does. `keys` is the user's access keys as ListAccessKeys reads them now.
struct RotateOps {
  std::function<Status(const Step&, RotateArgs&)> parse;  // the step's own fields
  std::function<Result<json>(Context&, const Step&, const RotateArgs&, const json& keys)> capture;
  std::function<Result<json>(Context&, const Step&, const RotateArgs&, const json& before, const json& keys)> apply;
  std::function<Status(Context&, const Step&, const RotateArgs&, const json& keys)> verify;
  std::function<Status(Context&, const Step&, const RotateArgs&, const json& before, const json& applied)> rollback;
  std::function<Status(Context&, const Step&, const RotateArgs&, const json& before)> verify_rollback;
};

// Step id -> operations (iam_rotate_keys_steps.cc).
const std::map<std::string, RotateOps>& step_ops();

struct ParsedStep {
  const RotateOps* ops = nullptr;
  RotateArgs args;
};
// The step's operations and its typed arguments, or an InvalidPlan error naming the step and the
// field (iam_rotate_keys_args.cc).
Result<ParsedStep> parse_step(const Step& step);

// Field parsing for the table's parse entries; errors name the step and the field.
Error bad_field(const Step& step, const std::string& field, const std::string& problem);
Result<std::string> str_at(const Step& step, const json& obj, const char* key, const std::string& path);
Result<std::vector<std::string>> key_list(const Step& step, const char* key);

// Shared by the plan and the steps (iam_rotate_keys_steps.cc).
std::vector<std::string> ids_of(const json& keys);
bool contains(const std::vector<std::string>& v, const std::string& s);
std::string join(const std::vector<std::string>& v);
std::string delivered_to(const Delivery& d);
Error self_rotation(const std::string& id);

}  // namespace containctl::actions::rotate
