// Security Hub ASFF findings: each entry of Resources on its own. AwsEc2Instance, AwsIamUser,
// AwsIamRole, AwsIamAccessKey (every principal shape), AwsS3Bucket, AwsS3Object, and any other
// type whose Id is the ARN of something containable.
#include "orchestrator/findings_internal.h"

namespace containctl::orch::findings {
namespace {

std::string label(size_t i, const std::string& id) {
  std::string where = "Resources[" + std::to_string(i) + "]";
  return id.empty() ? where : where + " (" + id + ")";
}

struct Res {
  std::string where, type, id, partition, region;
  const json* details = nullptr;
};

// An ARN from the resource's Id, checked against its structured fields (or rebuilt when it is
// malformed in a known way and they all agree).
void by_arn(Judge& j, const Res& r, const std::string& service, const std::string& kind, const std::string& note) {
  std::string why, repaired;
  auto arn = checked_arn(r.id, {r.partition, service, r.region, j.account, kind}, why, repaired);
  if (!arn) return j.skip(r.where, why);
  j.target(r.where, *arn, note + (repaired.empty() ? "" : "; the finding's malformed ARN " + repaired +
                                                              " was rebuilt from its Partition, Region, "
                                                              "account and Type"));
}

void ec2_instance(Judge& j, const Res& r) {
  if (r.id.rfind("arn:", 0) == 0) return by_arn(j, r, "ec2", "instance", "instance named by Security Hub finding");
  if (r.id.rfind("i-", 0) != 0) return j.skip(r.where, "'" + r.id + "' is neither an instance ARN nor an instance id");
  if (r.region.empty()) return j.skip(r.where, "the resource gives no Region to build the instance ARN");
  j.target(r.where, aws::ec2_instance_arn(r.partition, r.region, j.account, r.id),
           "instance named by Security Hub finding");
}

void iam_principal(Judge& j, const Res& r, bool user) {
  std::string kind = user ? "user" : "role";
  std::string note = kind + " named by Security Hub finding";
  if (r.id.rfind("arn:", 0) == 0) return by_arn(j, r, "iam", kind, note);
  const json* d = r.details ? field(*r.details, user ? "AwsIamUser" : "AwsIamRole") : nullptr;
  std::string name = d ? str(*d, user ? "UserName" : "RoleName") : "";
  if (name.empty())
    return j.skip(r.where, "the Id is not an ARN and Details." + std::string(user ? "AwsIamUser.UserName" : "AwsIamRole.RoleName") +
                               " is missing");
  std::string path = str(*d, "Path").empty() ? "/" : str(*d, "Path");
  j.target(r.where,
           aws::iam_arn(r.partition, j.account, user ? aws::ArnKind::kIamUser : aws::ArnKind::kIamRole, name, path),
           note);
}

void access_key(Judge& j, const Res& r) {
  const json* d = r.details ? field(*r.details, "AwsIamAccessKey") : nullptr;
  Principal p;
  if (d && d->is_object()) {
    p.key_id = str(*d, "AccessKeyId");
    p.type = str(*d, "PrincipalType");
    p.name = str(*d, "PrincipalName");
    if (p.name.empty()) p.name = str(*d, "UserName");  // the deprecated spelling of older findings
    p.principal_id = str(*d, "PrincipalId");
    p.account = str(*d, "AccountId");
    if (const json* s = dig(*d, {"SessionContext", "SessionIssuer"})) {
      p.issuer_arn = str(*s, "Arn");
      p.issuer_type = str(*s, "Type");
      p.issuer_name = str(*s, "UserName");
    }
  }
  // The Id carries the key when the details do not: "AWS::IAM::AccessKey:AKIA..." ("...:null" for
  // console logins, which use no key).
  static const std::string kPrefix = "AWS::IAM::AccessKey:";
  if (p.key_id.empty() && r.id.size() > kPrefix.size() && iequals(r.id.substr(0, kPrefix.size()), kPrefix))
    p.key_id = r.id.substr(kPrefix.size());
  if (p.key_id.empty() && (r.id.rfind("AKIA", 0) == 0 || r.id.rfind("ASIA", 0) == 0)) p.key_id = r.id;
  if (!d && p.key_id.empty()) return j.skip(r.where, "an access key with neither Details.AwsIamAccessKey nor a key id");
  add_principal(j, r.where, p);
}

void s3(Judge& j, const Res& r, bool object) {
  std::string note = std::string(object ? "object" : "bucket") + " named by Security Hub finding";
  if (r.id.rfind("arn:", 0) == 0) return by_arn(j, r, "s3", object ? "object" : "bucket", note);
  if (object) return j.skip(r.where, "'" + r.id + "' is not an object ARN");
  if (r.id.find_first_of(":/") != std::string::npos)
    return j.skip(r.where, "'" + r.id + "' is neither a bucket ARN nor a bucket name");
  j.target(r.where, aws::s3_arn(r.partition, r.id), note);
}

}  // namespace

void securityhub_finding(Judge& j, const json& f) {
  const json* resources = field(f, "Resources");
  if (!resources || !resources->is_array() || resources->empty())
    return j.skip("Resources", "the finding has no Resources");
  std::string finding_region = str(f, "Region");
  for (size_t i = 0; i < resources->size(); ++i) {
    const json& entry = (*resources)[i];
    Res r;
    r.type = str(entry, "Type");
    r.id = str(entry, "Id");
    r.where = label(i, r.id.empty() ? r.type : r.id);
    if (!entry.is_object()) {
      j.skip(r.where, "not an object");
      continue;
    }
    r.partition = str(entry, "Partition").empty() ? j.partition : str(entry, "Partition");
    r.region = str(entry, "Region").empty() ? finding_region : str(entry, "Region");
    if (const json* d = field(entry, "Details"); d && d->is_object()) r.details = d;
    if (!known_partition(r.partition)) {
      j.skip(r.where, "partition '" + r.partition + "' is not supported (aws, aws-cn, aws-us-gov)");
      continue;
    }
    if (r.id.empty() && !iequals(r.type, "AwsIamAccessKey")) {
      j.skip(r.where, "the resource has no Id");
      continue;
    }
    if (iequals(r.type, "AwsEc2Instance")) {
      ec2_instance(j, r);
    } else if (iequals(r.type, "AwsIamUser") || iequals(r.type, "AwsIamRole")) {
      iam_principal(j, r, iequals(r.type, "AwsIamUser"));
    } else if (iequals(r.type, "AwsIamAccessKey")) {
      access_key(j, r);
    } else if (iequals(r.type, "AwsS3Bucket") || iequals(r.type, "AwsS3Object")) {
      s3(j, r, iequals(r.type, "AwsS3Object"));
    } else if (r.id.rfind("arn:", 0) == 0 && actions::parse_target_arn(r.id).ok()) {
      // "Other" and friends: the Id alone identifies the resource when it is a containable ARN.
      j.target(r.where, r.id, "resource of type " + r.type + " whose Id is a containable ARN");
    } else {
      j.skip(r.where, "resource type '" + r.type +
                          "' is not containable by containctl (AwsEc2Instance, AwsIamUser, AwsIamRole, "
                          "AwsIamAccessKey, AwsS3Bucket, AwsS3Object, or an Id that is such an ARN)");
    }
  }
}

}  // namespace containctl::orch::findings
