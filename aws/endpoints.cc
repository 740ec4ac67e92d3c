#include "aws/endpoints.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>

#include "aws/config_file.h"
#include "aws/url.h"

namespace containctl::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool is_true(std::string v) {
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "true";
}

struct ServiceInfo {
  const char* id;          // the id used in this code base
  const char* service_id;  // the SDK serviceId, from which the variable and config key derive
};

// serviceId values from the SDK models (the "Identifiers for service-specific endpoints" table).
constexpr ServiceInfo kServices[] = {
    {"ec2", "EC2"},
    {"iam", "IAM"},
    {"sts", "STS"},
    {"autoscaling", "Auto Scaling"},
    {"elasticloadbalancing", "Elastic Load Balancing v2"},
    {"cloudformation", "CloudFormation"},
    {"s3", "S3"},
    {"s3control", "S3 Control"},
    {"organizations", "Organizations"},
    {"secretsmanager", "Secrets Manager"},
    {"sso-admin", "SSO Admin"},
    {"identitystore", "identitystore"},
    {"support", "Support"},
    {"dynamodb", "DynamoDB"},
    {"ssm", "SSM"},
    {"securityhub", "SecurityHub"},
};

const ServiceInfo* find_service(const std::string& id) {
  for (const auto& s : kServices)
    if (id == s.id) return &s;
  return nullptr;
}

std::string transform(const char* service_id, bool upper) {
  std::string out;
  for (const char* c = service_id; *c; ++c)
    out.push_back(*c == ' ' ? '_'
                            : static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(*c))
                                                      : std::tolower(static_cast<unsigned char>(*c))));
  return out;
}

}  // namespace

const std::vector<std::string>& known_services() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> v;
    for (const auto& s : kServices) v.push_back(s.id);
    return v;
  }();
  return ids;
}

std::string endpoint_env_var(const std::string& service) {
  const ServiceInfo* s = find_service(service);
  return s ? "AWS_ENDPOINT_URL_" + transform(s->service_id, true) : "";
}

std::string endpoint_config_key(const std::string& service) {
  const ServiceInfo* s = find_service(service);
  return s ? transform(s->service_id, false) : "";
}

Result<Partition> partition_by_name(const std::string& name) {
  if (name == "aws") return Partition{"aws", "amazonaws.com", "us-east-1"};
  if (name == "aws-cn") return Partition{"aws-cn", "amazonaws.com.cn", "cn-north-1"};
  if (name == "aws-us-gov") return Partition{"aws-us-gov", "amazonaws.com", "us-gov-west-1"};
  return Error::invalid("unsupported partition '" + name + "' (expected aws, aws-cn or aws-us-gov)",
                        "UnsupportedPartition");
}

namespace {

// ^[a-z]{2}(-gov)?-[a-z]+-[0-9]+$ and one DNS label long (at most 63 characters: it is one in every
// endpoint's host name), checked by hand: libstdc++'s std::regex recurses once per character, and
// a region comes from ARNs in findings anyone can import (a 50,000-letter region in an instance
// ARN overflowed the stack).
bool is_region_name(std::string_view r) {
  if (r.size() > 63) return false;
  auto all = [](std::string_view s, char lo, char hi) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) { return c >= lo && c <= hi; });
  };
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t dash = r.find('-', start);
    parts.push_back(r.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start));
    if (dash == std::string_view::npos || parts.size() > 4) break;
    start = dash + 1;
  }
  if (parts.size() < 3 || parts.size() > 4) return false;
  if (parts.size() == 4 && parts[1] != "gov") return false;
  return parts[0].size() == 2 && all(parts[0], 'a', 'z') && all(parts[parts.size() - 2], 'a', 'z') &&
         all(parts.back(), '0', '9');
}

}  // namespace

Result<Partition> partition_for_region(const std::string& region) {
  if (!is_region_name(region))
    return Error::invalid("'" + region + "' is not an AWS region name (e.g. us-east-1)", "InvalidRegion");
  if (region.starts_with("cn-")) return partition_by_name("aws-cn");
  if (region.starts_with("us-gov-")) return partition_by_name("aws-us-gov");
  return partition_by_name("aws");
}

EndpointOverrides EndpointOverrides::from_environment(const std::string& cli_url) {
  return from_environment(cli_url, "");
}

EndpointOverrides EndpointOverrides::from_environment(const std::string& cli_url, const std::string& profile) {
  EndpointOverrides o;
  if (!cli_url.empty()) {  // --endpoint-url sends every service to one URL
    o.all = cli_url;
    o.all_origin = "--endpoint-url";
    return o;
  }
  std::string profile_name = !profile.empty() ? profile : env("AWS_PROFILE");
  if (profile_name.empty()) profile_name = "default";
  const Profile* prof = nullptr;
  auto cfg = load_shared_config();
  if (cfg.ok()) prof = cfg->profile(profile_name);

  std::string ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  if (ignore.empty() && prof) ignore = prof->get("ignore_configured_endpoint_urls");
  if (is_true(ignore)) return o;

  // Layers from strongest to weakest, flattened into `service` (per service) and `all`, so that
  // for_service() (service first, then all) gives the SDKs' order.
  std::string env_all = env("AWS_ENDPOINT_URL");
  std::string cfg_all = prof ? prof->get("endpoint_url") : "";
  const std::map<std::string, std::map<std::string, std::string>>* services = nullptr;
  std::string services_name = prof ? prof->get("services") : "";
  if (cfg.ok() && !services_name.empty()) {
    if (auto it = cfg->services.find(services_name); it != cfg->services.end()) services = &it->second;
  }
  for (const auto& s : kServices) {
    std::string var = endpoint_env_var(s.id);
    if (auto v = env(var.c_str()); !v.empty()) {
      o.service[s.id] = v;
      o.service_origin[s.id] = var;
      continue;
    }
    if (!env_all.empty()) continue;  // AWS_ENDPOINT_URL beats the config file
    if (services) {
      auto it = services->find(endpoint_config_key(s.id));
      if (it != services->end()) {
        if (auto u = it->second.find("endpoint_url"); u != it->second.end() && !u->second.empty()) {
          o.service[s.id] = u->second;
          o.service_origin[s.id] = "[services " + services_name + "] " + endpoint_config_key(s.id) + " endpoint_url";
        }
      }
    }
  }
  if (!env_all.empty()) {
    o.all = env_all;
    o.all_origin = "AWS_ENDPOINT_URL";
  } else if (!cfg_all.empty()) {
    o.all = cfg_all;
    o.all_origin = "profile '" + profile_name + "' endpoint_url";
  }
  return o;
}

std::string EndpointOverrides::for_service(const std::string& service) const {
  if (auto it = this->service.find(service); it != this->service.end()) return it->second;
  return all;
}

std::string EndpointOverrides::origin_for(const std::string& service) const {
  if (auto it = this->service.find(service); it != this->service.end()) {
    auto o = service_origin.find(service);
    return o != service_origin.end() ? o->second : "the endpoint override for " + service;
  }
  return all_origin.empty() ? "the endpoint override" : all_origin;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  // 127.0.0.0/8 as a dotted quad, strictly: "127.0.0.1.example.com" is a DNS name, not loopback.
  int parts = 0;
  size_t i = 0;
  std::string first;
  while (i <= host.size()) {
    size_t dot = host.find('.', i);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view part = host.substr(i, dot - i);
    if (part.empty() || part.size() > 3) return false;
    for (char c : part)
      if (c < '0' || c > '9') return false;
    if (std::stoi(std::string(part)) > 255) return false;
    if (parts == 0) first = part;
    ++parts;
    i = dot + 1;
  }
  return parts == 4 && first == "127";
}

Result<Endpoint> resolve_endpoint(const std::string& service, const std::string& region,
                                  const EndpointOverrides& overrides) {
  if (!find_service(service)) {
    std::string known;
    for (const auto& s : kServices) known += (known.empty() ? "" : ", ") + std::string(s.id);
    return Error::invalid("unknown service '" + service + "' (known: " + known + ")", "UnknownService");
  }
  CC_ASSIGN(Partition part, partition_for_region(region));
  Endpoint ep;
  ep.signing_region = region;
  ep.signing_service = service;
  if (service == "s3control") ep.signing_service = "s3";
  if (service == "sso-admin") ep.signing_service = "sso";
  // Global services: one endpoint per partition, signed for the partition's global region.
  const bool global = service == "iam" || service == "organizations" || service == "support";
  if (global) ep.signing_region = part.global_region;
  if (service == "organizations" && part.name == "aws-cn") ep.signing_region = "cn-northwest-1";

  if (std::string url = overrides.for_service(service); !url.empty()) {
    auto u = parse_url(url);
    if (!u.ok()) return Error::invalid(overrides.origin_for(service) + ": " + u.error().message, "MalformedURL");
    if (!u->query.empty() || url.find('#') != std::string::npos)
      return Error::invalid(overrides.origin_for(service) + ": an endpoint URL cannot have a query or fragment",
                            "MalformedURL");
    // Credentials and signed requests never cross a network in clear: plain http only to this host.
    if (u->scheme != "https" && !is_loopback_host(u->host))
      return Error::invalid(overrides.origin_for(service) + ": '" + u->origin() +
                                "' is plain http to a host that is not loopback; containctl sends signed requests "
                                "over https only (http is accepted for 127.0.0.0/8, ::1 and localhost)",
                            "InsecureEndpoint");
    while (url.ends_with("/")) url.pop_back();
    ep.base_url = url;
    ep.custom = true;
    return ep;
  }
  const std::string& sfx = part.dns_suffix;
  if (service == "iam") {
    ep.base_url = part.name == "aws"      ? "https://iam.amazonaws.com"
                  : part.name == "aws-cn" ? "https://iam.cn-north-1.amazonaws.com.cn"
                                          : "https://iam.us-gov.amazonaws.com";
  } else if (service == "s3control") {
    ep.base_url = "https://s3-control." + region + "." + sfx;  // account id is prefixed per request
  } else if (service == "sso-admin") {
    ep.base_url = "https://sso." + region + "." + sfx;
  } else if (global) {
    ep.base_url = "https://" + service + "." + ep.signing_region + "." + sfx;
  } else {
    ep.base_url = "https://" + service + "." + region + "." + sfx;
  }
  return ep;
}

bool bucket_is_virtual_host_safe(const std::string& bucket) {
  // A DNS label: lower case, digits and '-', 3-63 characters. Dots break TLS wildcard certificates
  // (and rule out IP-address-like names); upper case and '_' are not valid host names.
  static const std::regex kDns("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$");
  return std::regex_match(bucket, kDns);
}

}  // namespace containctl::aws
