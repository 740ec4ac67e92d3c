#include "actions/target.h"

namespace containctl::actions {

Result<Target> parse_target_arn(const std::string& text) {
  auto parsed = aws::parse_arn(text);
  if (!parsed.ok()) return Error::invalid("target " + parsed.error().message, "InvalidTarget");
  auto t = target_from_arn(*parsed);
  if (!t.ok()) return Error::invalid("target '" + text + "': " + t.error().message, "InvalidTarget");
  return t;
}

Result<Target> target_from_arn(const aws::Arn& a) {
  using aws::ArnKind;
  Target t;
  t.arn = a.str();
  t.partition = a.partition;
  t.service = a.service;
  t.region = a.region;
  t.account = a.account;
  t.name = a.name;
  switch (a.kind) {
    case ArnKind::kEc2Instance: t.type = "instance"; return t;
    case ArnKind::kIamUser: t.type = "user"; t.path = a.path; return t;
    case ArnKind::kIamRole: t.type = "role"; t.path = a.path; return t;
    case ArnKind::kS3Bucket: t.type = "bucket"; return t;
    case ArnKind::kS3Object: t.type = "object"; t.key = a.key; return t;
    default: break;
  }
  if (a.service == "ec2")
    return Error::invalid("unsupported EC2 resource '" + a.resource_text() + "' (only instance/i-... can be contained)");
  if (a.service == "iam")
    return Error::invalid("unsupported IAM resource '" + a.resource_text() +
                          "' (expected user/[PATH/]NAME or role/[PATH/]NAME)");
  if (a.service == "s3") return Error::invalid("S3 bucket ARNs have no region or account");
  return Error::invalid("unsupported service '" + a.service +
                        "' (ec2 instances, iam users and roles, s3 buckets and objects)");
}

Result<Target> canonical_target(const Target& typed, const std::string& discovered_arn) {
  if (discovered_arn.empty() || discovered_arn == typed.arn) return typed;
  auto refuse = [&](const std::string& why) {
    return Error::refused("target " + typed.arn + " " + why + " (discovery read back " + discovered_arn +
                              "); plan it again with the ARN AWS reports",
                          "TargetMismatch");
  };
  auto real = aws::parse_arn(discovered_arn);
  if (!real.ok()) return refuse("could not be confirmed: " + real.error().message);
  auto t = parse_target_arn(discovered_arn);
  if (!t.ok()) return refuse("could not be confirmed: " + t.error().message);
  auto was = aws::parse_arn(typed.arn);
  bool same_resource = was.ok() && (was->is_iam_principal() ? aws::same_iam_entity(*was, *real) : *was == *real);
  if (!same_resource) return refuse("is not the resource discovery found");
  if (was->path != real->path)
    return refuse("has IAM path " + was->path + " but the " + t->type + " " + real->name + " has path " + real->path);
  return t;  // the same entity, spelled as AWS spells it
}

}  // namespace containctl::actions
