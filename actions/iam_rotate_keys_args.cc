// Parsing of iam-rotate-keys step arguments: the fields every step has here, the step's own
// fields in its table entry (iam_rotate_keys_steps.cc).
#include "actions/iam_rotate_keys.h"
#include "actions/iam_rotate_keys_steps.h"

namespace containctl::actions::rotate {

Error bad_field(const Step& step, const std::string& field, const std::string& problem) {
  return Error::invalid("iam-rotate-keys plan step '" + step.id + "': field 'args." + field + "' " + problem,
                        "InvalidPlan");
}

Result<std::string> str_at(const Step& step, const json& obj, const char* key, const std::string& path) {
  if (!obj.is_object() || !obj.contains(key)) return bad_field(step, path, "is missing");
  const json& v = obj.at(key);
  if (!v.is_string() || v.get<std::string>().empty()) return bad_field(step, path, "must be a non-empty string");
  return v.get<std::string>();
}

Result<std::vector<std::string>> key_list(const Step& step, const char* key) {
  if (!step.args.contains(key) || !step.args.at(key).is_array())
    return bad_field(step, key, "must be a list of access key ids");
  std::vector<std::string> out;
  for (const auto& k : step.args.at(key)) {
    if (!k.is_string() || k.get<std::string>().size() < 16 ||
        k.get<std::string>().find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != std::string::npos)
      return bad_field(step, key, "holds " + k.dump() + ", which is not an access key id");
    out.push_back(k.get<std::string>());
  }
  return out;
}

Result<ParsedStep> parse_step(const Step& step) {
  const auto& table = step_ops();
  auto it = table.find(step.id);
  if (it == table.end())
    return Error::invalid("iam-rotate-keys plan step '" + step.id + "' is not a step of this family", "InvalidPlan");
  if (!step.args.is_object()) return bad_field(step, "", "must be an object");
  ParsedStep p;
  p.ops = &it->second;
  RotateArgs& a = p.args;
  CC_ASSIGN(a.user, str_at(step, step.args, "user_name", "user_name"));
  if (a.user.size() > 64 || a.user.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") !=
                                std::string::npos)
    return bad_field(step, "user_name", "is not an IAM user name");
  CC_ASSIGN(a.account, str_at(step, step.args, "account", "account"));
  if (a.account.size() != 12 || a.account.find_first_not_of("0123456789") != std::string::npos)
    return bad_field(step, "account", "must be a 12-digit account id");
  CC_TRY(p.ops->parse(step, a));
  return p;
}

}  // namespace containctl::actions::rotate

namespace containctl::actions {

Status check_rotate_keys_step(const Step& step) {
  CC_TRY(rotate::parse_step(step));
  return Ok{};
}

}  // namespace containctl::actions
