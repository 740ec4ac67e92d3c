// s3-contain's typed step arguments and its table of step operations.
#include <map>

#include "actions/s3_contain.h"
#include "actions/s3_steps.h"

namespace containctl::actions::s3 {
namespace {

Error bad_field(const std::string& field, const std::string& why) {
  return Error::invalid("args." + field + ": " + why, "InvalidStepArgs");
}

// A string field; `required` false: absent is "".
Result<std::string> string_arg(const json& args, const char* field, bool required = true) {
  auto it = args.find(field);
  if (it == args.end()) {
    if (!required) return std::string();
    return bad_field(field, "missing");
  }
  if (!it->is_string()) return bad_field(field, "expected a string");
  std::string v = it->get<std::string>();
  if (required && v.empty()) return bad_field(field, "empty");
  return v;
}

const std::map<std::string, StepOps>& table() {
  static const std::map<std::string, StepOps> ops = {
      {kStepDenyPolicy, deny_policy_ops()},   {kStepObjectDeny, object_deny_ops()},
      {kStepDisableAcls, disable_acls_ops()}, {kStepObjectAcl, object_acl_ops()},
      {kStepBlockPublic, block_public_ops()}, {kStepTag, tag_ops()},
  };
  return ops;
}

}  // namespace

const StepOps* step_ops(const std::string& id) {
  auto it = table().find(id);
  return it == table().end() ? nullptr : &it->second;
}

Result<StepArgs> parse_step_args(const Step& step) {
  const StepOps* ops = step_ops(step.id);
  if (!ops) return Error::invalid("s3-contain has no step '" + step.id + "'", "UnknownStep");
  const json& a = step.args;
  if (!a.is_object()) return bad_field("", "expected an object");
  StepArgs out;
  CC_ASSIGN(out.where.bucket, string_arg(a, "bucket"));
  CC_ASSIGN(out.where.region, string_arg(a, "region"));
  CC_ASSIGN(out.partition, string_arg(a, "partition", false));
  if (ops->object) {
    CC_ASSIGN(out.where.key, string_arg(a, "key"));
    CC_TRY(check_key_utf8(out.where.bucket, out.where.key));
  }
  if (step.id == kStepDenyPolicy) {
    CC_ASSIGN(out.policy, string_arg(a, "policy"));
    CC_ASSIGN(std::string sid, string_arg(a, "sid"));
    auto doc = parse_policy(out.policy);
    if (!doc.ok()) return bad_field("policy", doc.error().message);
    out.statement = find_statement(*doc, sid);
    if (out.statement.is_null()) return bad_field("policy", "holds no statement " + sid);
  } else if (step.id == kStepObjectDeny) {
    auto it = a.find("statement");
    if (it == a.end() || !it->is_object()) return bad_field("statement", "expected an object");
    out.statement = ordered_json::parse(it->dump());
    auto sid = out.statement.find("Sid");
    if (sid == out.statement.end() || !sid->is_string() || *sid != object_deny_sid(out.where.key))
      return bad_field("statement.Sid", "is not the deny statement of key " + out.where.key);
  } else if (step.id == kStepTag) {
    CC_ASSIGN(out.tag_key, string_arg(a, "tag_key"));
    CC_ASSIGN(out.tag_value, string_arg(a, "tag_value", false));
  }
  return out;
}

Error verification_failed(const std::string& what) { return {ErrorKind::kClient, "VerificationFailed", what}; }

std::string what(const Where& w) { return w.key.empty() ? "bucket " + w.bucket : "object " + w.bucket + "/" + w.key; }

Result<json> recorded(const json& before, const char* field) {
  auto it = before.is_object() ? before.find(field) : before.end();
  if (!before.is_object() || it == before.end())
    return Error::invalid(std::string("the recorded before-state has no '") + field + "'");
  return *it;
}

}  // namespace containctl::actions::s3
