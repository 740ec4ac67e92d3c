#include "actions/target.h"

#include <regex>
#include <vector>

#include "aws/endpoints.h"

namespace containctl::actions {

Result<Target> parse_target_arn(const std::string& arn) {
  auto bad = [&](const std::string& why) {
    return Error::invalid("target '" + arn + "': " + why, "InvalidTarget");
  };
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':', start);
    if (colon == std::string::npos) return bad("not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)");
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  std::string resource = arn.substr(start);
  if (parts[0] != "arn") return bad("does not start with 'arn:'");
  Target t;
  t.arn = arn;
  t.partition = parts[1];
  t.service = parts[2];
  t.region = parts[3];
  t.account = parts[4];
  if (!aws::partition_by_name(t.partition).ok())
    return bad("unsupported partition '" + t.partition + "' (expected aws, aws-cn or aws-us-gov)");
  static const std::regex kAccount("^[0-9]{12}$");
  if (t.service == "ec2") {
    auto part = aws::partition_for_region(t.region);
    if (!part.ok()) return bad("region '" + t.region + "' is not valid");
    if (part->name != t.partition) return bad("region " + t.region + " is not in partition " + t.partition);
    if (!std::regex_match(t.account, kAccount)) return bad("account '" + t.account + "' is not 12 digits");
    static const std::regex kInstance("^instance/(i-[0-9a-f]{8,17})$");
    std::smatch m;
    if (!std::regex_match(resource, m, kInstance))
      return bad("unsupported EC2 resource '" + resource + "' (only instance/i-... can be contained)");
    t.type = "instance";
    t.name = m[1];
    return t;
  }
  if (t.service == "iam") {
    if (!t.region.empty()) return bad("IAM ARNs have no region");
    if (!std::regex_match(t.account, kAccount)) return bad("account '" + t.account + "' is not 12 digits");
    static const std::regex kPrincipal("^(user|role)(/|/.*/)([\\w+=,.@-]{1,128})$");
    std::smatch m;
    if (!std::regex_match(resource, m, kPrincipal))
      return bad("unsupported IAM resource '" + resource + "' (expected user/[PATH/]NAME or role/[PATH/]NAME)");
    t.type = m[1];
    t.path = m[2];
    t.name = m[3];
    return t;
  }
  if (t.service == "s3") {
    if (!t.region.empty() || !t.account.empty()) return bad("S3 bucket ARNs have no region or account");
    size_t slash = resource.find('/');
    t.name = resource.substr(0, slash);
    static const std::regex kBucket("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$");
    if (!std::regex_match(t.name, kBucket)) return bad("'" + t.name + "' is not a valid bucket name");
    if (slash == std::string::npos) {
      t.type = "bucket";
    } else {
      t.key = resource.substr(slash + 1);
      if (t.key.empty()) return bad("empty object key");
      t.type = "object";
    }
    return t;
  }
  return bad("unsupported service '" + t.service + "' (ec2 instances, iam users and roles, s3 buckets and objects)");
}

}  // namespace containctl::actions
