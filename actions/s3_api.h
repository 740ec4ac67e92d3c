// The S3 and S3 Control calls s3-contain makes, each reading or writing one piece of bucket or
// object state as json. "Absent" configurations (no policy, no public access block, ...) are a
// normal state ({"present": false}), never an error: rollback has to be able to restore them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/client.h"

namespace containctl::actions::s3 {

using nlohmann::json;

// Where a call goes: every call after discovery is sent to the bucket's own region.
struct Where {
  std::string bucket;
  std::string region;
  std::string key;  // object target only
};

// GetBucketLocation, asked in `caller_region` and, if that region refuses, in the partition's
// global region. Empty LocationConstraint is us-east-1, "EU" is eu-west-1. An unknown bucket is an
// error naming it.
Result<std::string> bucket_region(aws::AwsClient& client, const std::string& partition, const std::string& bucket,
                                  const std::string& caller_region);
// The ARN ctx.client signs as (sts:GetCallerIdentity), so the deny never excludes it.
Result<std::string> acting_identity(aws::AwsClient& client, const std::string& region);

// {"present": bool, "text": exact bytes as stored}
Result<json> get_policy(aws::AwsClient& client, const Where& w);
Status put_policy(aws::AwsClient& client, const Where& w, const std::string& text);
Status delete_policy(aws::AwsClient& client, const Where& w);

inline constexpr const char* kPabFields[] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                             "RestrictPublicBuckets"};
// {"present": bool, "BlockPublicAcls": bool, ...}
Result<json> get_public_access_block(aws::AwsClient& client, const Where& w);
Status put_public_access_block(aws::AwsClient& client, const Where& w, const json& config);
Status delete_public_access_block(aws::AwsClient& client, const Where& w);
bool all_public_access_blocked(const json& pab);
bool same_public_access_block(const json& a, const json& b);
// The account-level block (S3 Control), for the report only. Unreadable is not fatal:
// {"readable": false, "error": "..."}.
json get_account_public_access_block(aws::AwsClient& client, const std::string& region);

// {"present": bool, "object_ownership": "BucketOwnerEnforced"|...}
Result<json> get_ownership(aws::AwsClient& client, const Where& w);
Status put_ownership(aws::AwsClient& client, const Where& w, const std::string& object_ownership);
Status delete_ownership(aws::AwsClient& client, const Where& w);
bool ownership_enforced(const json& ownership);

// {"owner": {"id", "display_name"}, "grants": [{"type", "id"|"uri"|"email", "display_name"?, "permission"}]}
// `object`: the object ACL of w.key instead of the bucket ACL.
Result<json> get_acl(aws::AwsClient& client, const Where& w, bool object);
Status put_canned_private_acl(aws::AwsClient& client, const Where& w, bool object);
Status put_acl(aws::AwsClient& client, const Where& w, bool object, const json& acl);
// Only the owner's FULL_CONTROL grant.
bool acl_is_private(const json& acl);
// Same owner and the same grants, in any order.
bool same_acl(const json& a, const json& b);
std::string acl_xml(const json& acl);
// The same grants as x-amz-grant-* headers (one header per permission).
std::vector<aws::Header> acl_grant_headers(const json& acl);

// {"present": bool, "tags": [{"Key", "Value"}]} in the order S3 returned them.
Result<json> get_tags(aws::AwsClient& client, const Where& w);
Status put_tags(aws::AwsClient& client, const Where& w, const json& tags);
Status delete_tags(aws::AwsClient& client, const Where& w);
// Same key/value pairs, in any order (S3 keeps a set).
bool same_tags(const json& a, const json& b);

// {"present": bool, "role": arn, "destinations": [bucket ARNs]}
Result<json> get_replication(aws::AwsClient& client, const Where& w);

// base64(MD5(body)): S3 wants a checksum on every one of the PUTs used here.
std::string content_md5(const std::string& body);

}  // namespace containctl::actions::s3
