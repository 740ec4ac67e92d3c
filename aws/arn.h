// Arn: the one place ARNs are parsed, validated, canonicalised and printed. Every other part of
// containctl holds an Arn (or its printed form) instead of splitting strings on ':' and '/'.
//
// Forms understood field by field (anything else with a valid prefix is a generic ARN whose
// resource is kept verbatim):
//   arn:P:iam::ACCOUNT:user/[PATH/]NAME       kIamUser      (path "/" or "/a/b/", name)
//   arn:P:iam::ACCOUNT:role/[PATH/]NAME       kIamRole
//   arn:P:iam::ACCOUNT:root                   kIamRoot
//   arn:P:iam::ACCOUNT:instance-profile/[PATH/]NAME  kIamInstanceProfile (path, name)
//   arn:P:sts::ACCOUNT:assumed-role/ROLE/SESS kStsAssumedRole (name = role, session)
//   arn:P:sts::ACCOUNT:federated-user/NAME    kStsFederatedUser
//   arn:P:ec2:REGION:ACCOUNT:instance/i-...   kEc2Instance
//   arn:P:s3:::BUCKET                         kS3Bucket
//   arn:P:s3:::BUCKET/KEY                     kS3Object     (key verbatim, may contain '/')
// P is aws, aws-cn or aws-us-gov. A text that starts like one of these forms but breaks its rules
// (bad account, bad instance id, region outside the partition, empty key) is an error naming the
// field, never silently a generic ARN: e.g. "role/x/" is refused, not kept as generic.
//
// Canonical form: str() prints the fields back; parse(str()) == the same value, and for any text
// parse accepts, str() is that text (ARNs have exactly one spelling). IAM names are unique ignoring
// case, so same_iam_entity() compares names case-insensitively; paths are NOT part of an IAM
// entity's identity for protection (IAM names are unique in an account regardless of path).
#pragma once

#include <string>
#include <string_view>

#include "aws/result.h"

namespace containctl::aws {

enum class ArnKind {
  kGeneric,
  kIamUser,
  kIamRole,
  kIamRoot,
  kIamInstanceProfile,
  kStsAssumedRole,
  kStsFederatedUser,
  kEc2Instance,
  kS3Bucket,
  kS3Object,
};

struct Arn {
  ArnKind kind = ArnKind::kGeneric;
  std::string partition;  // aws | aws-cn | aws-us-gov
  std::string service;    // iam, sts, ec2, s3, or any for generic
  std::string region;     // empty for global services and S3 bucket/object ARNs
  std::string account;    // 12 digits; "aws" for AWS-managed IAM resources; empty for S3 buckets
  std::string path;       // IAM user/role/instance-profile path, "/" or "/a/b/"; empty otherwise
  std::string name;       // user/role/instance-profile name, assumed role's role name, federated user,
                          // instance id, bucket
  std::string session;    // kStsAssumedRole: the session name
  std::string key;        // kS3Object: the object key, verbatim
  std::string resource;   // kGeneric: everything after the fifth ':' (for the others: see resource_text())

  // The canonical text.
  std::string str() const;
  // The part after the fifth ':', for any kind ("role/a/b/Name", "instance/i-1", "bucket/key").
  std::string resource_text() const;
  bool is_iam_principal() const { return kind == ArnKind::kIamUser || kind == ArnKind::kIamRole; }

  friend bool operator==(const Arn& a, const Arn& b) { return a.str() == b.str(); }
};

// Parses and validates; the error names the text and the field that is wrong.
Result<Arn> parse_arn(std::string_view text);

// Builders for the specific forms (validated like parse_arn; path defaults to "/").
Result<Arn> iam_arn(const std::string& partition, const std::string& account, ArnKind user_or_role,
                    const std::string& name, const std::string& path = "/");
Result<Arn> ec2_instance_arn(const std::string& partition, const std::string& region, const std::string& account,
                             const std::string& instance_id);
Result<Arn> s3_arn(const std::string& partition, const std::string& bucket, const std::string& key = "");

// The IAM entity that acts: an assumed-role session -> its role (path unknown, printed as "/");
// users, roles and everything else unchanged.
Arn principal_of(const Arn& arn);

// Same IAM user or role: same partition, account and kind, names equal ignoring case (IAM names are
// unique ignoring case and regardless of path). False for anything that is not a user or role.
bool same_iam_entity(const Arn& a, const Arn& b);

// IAM names compare ignoring ASCII case.
bool iam_name_equal(std::string_view a, std::string_view b);

}  // namespace containctl::aws
