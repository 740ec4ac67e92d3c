#include <cctype>
#include <set>

#include "actions/iam_contain.h"
#include "actions/iam_contain_steps.h"

namespace containctl::actions::iam {

namespace {

Error bad(const Step& step, const std::string& field, const std::string& problem) {
  return Error::invalid("iam-contain plan step '" + step.id + "': field 'args." + field + "' " + problem,
                        "InvalidPlan");
}

// IAM user and role names: 1-64 of [A-Za-z0-9+=,.@_-].
bool iam_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && std::string_view("+=,.@_-").find(static_cast<char>(c)) == std::string_view::npos)
      return false;
  return true;
}

bool access_key_id(const std::string& s) {
  if (s.size() < 16 || s.size() > 128) return false;
  for (unsigned char c : s)
    if (!std::isupper(c) && !std::isdigit(c)) return false;
  return true;
}

Result<std::string> string_field(const Step& step, const char* key, bool required) {
  if (!step.args.contains(key)) {
    if (required) return bad(step, key, "is missing");
    return std::string();
  }
  const json& v = step.args.at(key);
  if (!v.is_string()) return bad(step, key, "must be a string");
  return v.get<std::string>();
}

const std::set<std::string> kUserSteps = {"deactivate-keys", "deny-all", "tag", "disable-console", "deactivate-mfa"};
const std::set<std::string> kRoleSteps = {"revoke-sessions", "deny-all", "tag"};

}  // namespace

Result<ContainArgs> parse_contain_args(const Step& step) {
  if (!step.args.is_object()) return bad(step, "", "must be an object");
  ContainArgs a;
  auto kind_field = string_field(step, "kind", true);
  if (!kind_field.ok()) return kind_field.error();
  const std::string kind = *kind_field;
  if (kind != "user" && kind != "role") return bad(step, "kind", "must be \"user\" or \"role\", not \"" + kind + "\"");
  a.principal = kind == "role" ? Principal::kRole : Principal::kUser;
  const char* name_key = a.principal == Principal::kRole ? "role_name" : "user_name";
  CC_ASSIGN(a.name, string_field(step, name_key, true));
  if (!iam_name(a.name)) return bad(step, name_key, "is not an IAM name (1-64 of A-Z a-z 0-9 +=,.@_-)");
  CC_ASSIGN(a.account, string_field(step, "account", true));
  if (a.account.size() != 12 || a.account.find_first_not_of("0123456789") != std::string::npos)
    return bad(step, "account", "must be a 12-digit account id");
  const auto& known = a.principal == Principal::kRole ? kRoleSteps : kUserSteps;
  if (!known.count(step.id))
    return Error::invalid("iam-contain plan step '" + step.id + "' is not a step of an IAM " + kind, "InvalidPlan");

  if (step.id == "deactivate-keys") {
    if (!step.args.contains("key_ids") || !step.args.at("key_ids").is_array())
      return bad(step, "key_ids", "must be a list of access key ids");
    for (const auto& k : step.args.at("key_ids")) {
      if (!k.is_string() || !access_key_id(k.get<std::string>()))
        return bad(step, "key_ids", "holds " + k.dump() + ", which is not an access key id");
      a.key_ids.push_back(k.get<std::string>());
    }
    if (a.key_ids.empty()) return bad(step, "key_ids", "is empty");
  } else if (step.id == "deactivate-mfa") {
    CC_ASSIGN(a.serial, string_field(step, "serial", true));
    if (a.serial.empty()) return bad(step, "serial", "is empty");
  } else if (step.id == "disable-console") {
    CC_ASSIGN(a.password_out, string_field(step, "password_out", false));
    if (!a.password_out.empty() && a.password_out.front() != '/')
      return bad(step, "password_out", "must be an absolute path");
  } else if (step.id == "revoke-sessions") {
    if (!step.args.contains("max_session_duration") || !step.args.at("max_session_duration").is_number_integer())
      return bad(step, "max_session_duration", "must be an integer number of seconds");
    a.max_session_duration = step.args.at("max_session_duration").get<int>();
    if (a.max_session_duration < 3600 || a.max_session_duration > 43200)
      return bad(step, "max_session_duration", "must be between 3600 and 43200 (IAM's range)");
  }
  return a;
}

Status check_contain_step(const Step& step) {
  CC_TRY(parse_contain_args(step));
  return Ok{};
}

}  // namespace containctl::actions::iam
