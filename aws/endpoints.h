// Endpoint resolution: partitions, global IAM, regional STS, S3 addressing, and the endpoint
// overrides the AWS SDKs define (--endpoint-url, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).
#pragma once

#include <map>
#include <string>

#include "aws/result.h"

namespace containctl::aws {

struct Partition {
  std::string name;        // "aws", "aws-cn", "aws-us-gov"
  std::string dns_suffix;  // "amazonaws.com", "amazonaws.com.cn"
  std::string global_region;  // where global services (IAM) are signed: us-east-1, cn-north-1, us-gov-west-1
};

// Partition of a region; unknown regions are an error that names them.
Result<Partition> partition_for_region(const std::string& region);
Result<Partition> partition_by_name(const std::string& name);

struct EndpointOverrides {
  std::string all;                              // --endpoint-url or AWS_ENDPOINT_URL
  std::map<std::string, std::string> service;   // service id ("ec2", "s3") -> URL

  // Reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>; `cli_url` (if set) wins over both.
  static EndpointOverrides from_environment(const std::string& cli_url);
  std::string for_service(const std::string& service) const;
};

struct Endpoint {
  std::string base_url;        // scheme://host[:port] (no trailing slash), or with a path prefix
  std::string signing_region;
  std::string signing_service;
  bool custom = false;         // from an override
};

// service: the SDK service id: ec2, iam, sts, autoscaling, elasticloadbalancing, cloudformation,
// s3, s3control, organizations, secretsmanager, sso-admin, identitystore, support, dynamodb, ssm.
Result<Endpoint> resolve_endpoint(const std::string& service, const std::string& region,
                                  const EndpointOverrides& overrides);

// True when the bucket name can be used as a DNS label in virtual-hosted style over TLS.
bool bucket_is_virtual_host_safe(const std::string& bucket);

}  // namespace containctl::aws
