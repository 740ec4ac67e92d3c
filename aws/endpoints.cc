#include "aws/endpoints.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>

namespace containctl::aws {

Result<Partition> partition_by_name(const std::string& name) {
  if (name == "aws") return Partition{"aws", "amazonaws.com", "us-east-1"};
  if (name == "aws-cn") return Partition{"aws-cn", "amazonaws.com.cn", "cn-north-1"};
  if (name == "aws-us-gov") return Partition{"aws-us-gov", "amazonaws.com", "us-gov-west-1"};
  return Error::invalid("unsupported partition '" + name + "' (expected aws, aws-cn or aws-us-gov)",
                        "UnsupportedPartition");
}

Result<Partition> partition_for_region(const std::string& region) {
  static const std::regex kRegion("^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$");
  if (!std::regex_match(region, kRegion))
    return Error::invalid("'" + region + "' is not an AWS region name (e.g. us-east-1)", "InvalidRegion");
  if (region.starts_with("cn-")) return partition_by_name("aws-cn");
  if (region.starts_with("us-gov-")) return partition_by_name("aws-us-gov");
  return partition_by_name("aws");
}

static std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

EndpointOverrides EndpointOverrides::from_environment(const std::string& cli_url) {
  EndpointOverrides o;
  o.all = !cli_url.empty() ? cli_url : env("AWS_ENDPOINT_URL");
  if (!cli_url.empty()) return o;  // --endpoint-url sends every service to one URL
  static const char* kServices[] = {"ec2", "iam", "sts", "autoscaling", "elasticloadbalancing", "cloudformation",
                                    "s3", "s3control", "organizations", "secretsmanager", "sso-admin",
                                    "identitystore", "support", "dynamodb", "ssm"};
  for (const char* s : kServices) {
    // The SDKs derive the variable from the service id: upper case, spaces and dashes to '_'.
    std::string var = "AWS_ENDPOINT_URL_";
    for (const char* c = s; *c; ++c) var.push_back(*c == '-' || *c == ' ' ? '_' : static_cast<char>(std::toupper(*c)));
    if (std::string("elasticloadbalancing") == s) var = "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2";
    if (std::string("autoscaling") == s) var = "AWS_ENDPOINT_URL_AUTO_SCALING";
    if (std::string("s3control") == s) var = "AWS_ENDPOINT_URL_S3_CONTROL";
    if (auto v = env(var.c_str()); !v.empty()) o.service[s] = v;
  }
  return o;
}

std::string EndpointOverrides::for_service(const std::string& service) const {
  if (auto it = this->service.find(service); it != this->service.end()) return it->second;
  return all;
}

Result<Endpoint> resolve_endpoint(const std::string& service, const std::string& region,
                                  const EndpointOverrides& overrides) {
  CC_ASSIGN(Partition part, partition_for_region(region));
  Endpoint ep;
  ep.signing_region = region;
  ep.signing_service = service;
  if (service == "s3control") ep.signing_service = "s3";
  if (service == "iam") ep.signing_region = part.global_region;
  if (service == "elasticloadbalancing") ep.signing_service = "elasticloadbalancing";
  if (service == "sso-admin") ep.signing_service = "sso";

  if (std::string url = overrides.for_service(service); !url.empty()) {
    while (url.ends_with("/")) url.pop_back();
    ep.base_url = url;
    ep.custom = true;
    return ep;
  }
  const std::string& sfx = part.dns_suffix;
  if (service == "iam") {
    ep.base_url = part.name == "aws" ? "https://iam.amazonaws.com"
                  : part.name == "aws-cn" ? "https://iam.cn-north-1.amazonaws.com.cn"
                                          : "https://iam.us-gov.amazonaws.com";
  } else if (service == "s3control") {
    ep.base_url = "https://s3-control." + region + "." + sfx;  // account id is prefixed per request
  } else if (service == "sso-admin") {
    ep.base_url = "https://sso." + region + "." + sfx;
  } else if (service == "identitystore" || service == "ec2" || service == "sts" || service == "autoscaling" ||
             service == "elasticloadbalancing" || service == "cloudformation" || service == "s3" ||
             service == "secretsmanager" || service == "support" || service == "dynamodb" || service == "ssm") {
    ep.base_url = "https://" + service + "." + region + "." + sfx;
  } else if (service == "organizations") {
    ep.base_url = part.name == "aws" ? "https://organizations.us-east-1.amazonaws.com"
                                     : "https://organizations." + part.global_region + "." + sfx;
    ep.signing_region = part.global_region;
  } else {
    return Error::invalid("unknown service '" + service + "'", "UnknownService");
  }
  return ep;
}

bool bucket_is_virtual_host_safe(const std::string& bucket) {
  static const std::regex kDns("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$");
  if (!std::regex_match(bucket, kDns)) return false;  // dots break TLS wildcard certificates
  static const std::regex kIp("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$");
  return !std::regex_match(bucket, kIp);
}

}  // namespace containctl::aws
