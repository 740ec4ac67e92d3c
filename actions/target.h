// Containment targets, parsed from ARNs.
#pragma once

#include <string>

#include "aws/arn.h"
#include "aws/result.h"

namespace containctl::actions {

struct Target {
  std::string arn;
  std::string partition;  // aws, aws-cn, aws-us-gov
  std::string service;    // ec2, iam, s3
  std::string region;     // EC2: from the ARN; S3: discovered; IAM: empty (global)
  std::string account;    // empty for S3 ARNs (they carry none): the caller's account is meant
  std::string type;       // instance, user, role, bucket, object
  std::string name;       // instance id, user/role name (without path), bucket name
  std::string path;       // IAM path ("/" or "/a/b/")
  std::string key;        // S3 object key (type == object)

  // A stable key for files and journals: the ARN itself.
  const std::string& id() const { return arn; }
};

// Accepts the ARN forms in CLI-CONTRACT.md; errors name what is wrong with the ARN.
Result<Target> parse_target_arn(const std::string& arn);
// The target as AWS names it. `discovered_arn` is the ARN the family's discovery read back from
// AWS (discovered["arn"]; empty when the family reports none, and then `typed` stands). The same
// resource spelled in another case becomes the discovered spelling; a typed ARN whose IAM path
// differs from the real one, or that names another resource, is refused with a message naming
// both (protection and the gate must judge the real ARN, never what was typed).
Result<Target> canonical_target(const Target& typed, const std::string& discovered_arn);
// The target an already parsed ARN names; an error for ARN kinds containctl cannot contain.
Result<Target> target_from_arn(const aws::Arn& arn);

}  // namespace containctl::actions
