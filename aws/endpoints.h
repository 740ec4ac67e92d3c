// Endpoint resolution: partitions, global IAM, regional STS, S3 addressing, and the endpoint
// overrides the AWS SDKs define (--endpoint-url, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aws/result.h"

namespace containctl::aws {

struct Partition {
  std::string name;           // "aws", "aws-cn", "aws-us-gov"
  std::string dns_suffix;     // "amazonaws.com", "amazonaws.com.cn"
  std::string global_region;  // where global services (IAM) are signed: us-east-1, cn-north-1, us-gov-west-1
};

// Partition of a region; unknown regions are an error that names them.
Result<Partition> partition_for_region(const std::string& region);
Result<Partition> partition_by_name(const std::string& name);

struct EndpointOverrides {
  std::string all;                             // --endpoint-url or AWS_ENDPOINT_URL
  std::map<std::string, std::string> service;  // service id ("ec2", "s3") -> URL
  // Where each URL came from ("--endpoint-url", "AWS_ENDPOINT_URL_EC2", "profile 'x' endpoint_url"),
  // so a malformed one is reported by its name. Optional: URLs set in code have no origin.
  std::string all_origin;
  std::map<std::string, std::string> service_origin;

  // Reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>; `cli_url` (if set) wins over both.
  // Also the profile (AWS_PROFILE, else default) as the two-argument form does.
  static EndpointOverrides from_environment(const std::string& cli_url);
  // As the SDKs order them: --endpoint-url; AWS_ENDPOINT_URL_<SERVICE>; AWS_ENDPOINT_URL; the
  // profile's `services` section (`ec2 =` / `  endpoint_url = ...`); the profile's endpoint_url.
  // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or ignore_configured_endpoint_urls = true in the
  // profile) ignores all but --endpoint-url. `profile` empty: AWS_PROFILE, else default. A config
  // file that cannot be read is left to the credential chain to report.
  static EndpointOverrides from_environment(const std::string& cli_url, const std::string& profile);
  std::string for_service(const std::string& service) const;
  std::string origin_for(const std::string& service) const;
};

// The services the tool calls, by the id used throughout (ec2, iam, sts, autoscaling, ...).
const std::vector<std::string>& known_services();
// AWS_ENDPOINT_URL_<SERVICE> for a service id: the SDK serviceId upper-cased with spaces as '_'
// ("Elastic Load Balancing v2" -> AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2). Empty if unknown.
std::string endpoint_env_var(const std::string& service);
// The key of the service in a config file `[services x]` section ("elastic_load_balancing_v2").
std::string endpoint_config_key(const std::string& service);

struct Endpoint {
  std::string base_url;  // scheme://host[:port] (no trailing slash), or with a path prefix
  std::string signing_region;
  std::string signing_service;
  bool custom = false;  // from an override
};

// service: the SDK service id: ec2, iam, sts, autoscaling, elasticloadbalancing, cloudformation,
// s3, s3control, organizations, secretsmanager, sso-admin, identitystore, support, dynamodb, ssm.
// Unknown services, unknown regions and malformed override URLs are errors that name them.
// 127.0.0.0/8 (dotted quad), ::1 and localhost: the only hosts a plain http endpoint may name.
bool is_loopback_host(std::string_view host);

Result<Endpoint> resolve_endpoint(const std::string& service, const std::string& region,
                                  const EndpointOverrides& overrides);

// True when the bucket name can be used as a DNS label in virtual-hosted style over TLS.
bool bucket_is_virtual_host_safe(const std::string& bucket);

}  // namespace containctl::aws
