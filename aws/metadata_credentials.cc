#include "aws/metadata_credentials.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "aws/credential_cache.h"
#include "aws/curl_transport.h"
#include "aws/url.h"

namespace containctl::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool env_true(const char* name) {
  std::string v = env(name);
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "true";
}

Error metadata_error(const std::string& where, const std::string& what, ErrorKind kind = ErrorKind::kAuth) {
  return Error{kind, "MetadataCredentialsError", where + ": " + what};
}

bool allowed_plain_http_host(const std::string& host) {
  if (host == "localhost" || host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]" ||
      host == "[::1]" || host == "[0:0:0:0:0:0:0:1]")
    return true;
  // 127.0.0.0/8 written as a dotted quad.
  int a, b, c, d;
  char tail;
  if (std::sscanf(host.c_str(), "%d.%d.%d.%d%c", &a, &b, &c, &d, &tail) == 4)
    return a == 127 && b >= 0 && b <= 255 && c >= 0 && c <= 255 && d >= 0 && d <= 255;
  return false;
}

// Origin and path only: a query string may carry something the user considers private.
std::string describe_url(const std::string& url) {
  auto u = parse_url(url);
  return u.ok() ? u->origin() + u->path : std::string("(malformed URL)");
}

}  // namespace

// The credentials document both services return: AccessKeyId, SecretAccessKey, Token, Expiration.
Result<Credentials> parse_credentials_document(const std::string& body, const std::string& where,
                                               const std::string& source) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return metadata_error(where, "answered with a body that is not a JSON object", ErrorKind::kParse);
  if (auto code = j.find("Code"); code != j.end() && code->is_string() && *code != "Success")
    return metadata_error(where, "answered Code " + code->get<std::string>().substr(0, 64));
  Credentials c;
  auto field = [&](const char* name, std::string& out) -> Status {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
      return metadata_error(where, std::string("answer has no ") + name, ErrorKind::kParse);
    out = it->get<std::string>();
    return Ok{};
  };
  CC_TRY(field("AccessKeyId", c.access_key_id));
  CC_TRY(field("SecretAccessKey", c.secret_access_key));
  if (auto it = j.find("Token"); it != j.end() && it->is_string()) c.session_token = it->get<std::string>();
  if (auto it = j.find("Expiration"); it != j.end() && it->is_string()) {
    TimePoint t;
    if (!parse_time(it->get<std::string>(), t))
      return metadata_error(where, "Expiration is not an ISO-8601 time", ErrorKind::kParse);
    c.expiration = t;
  }
  c.source = source;
  return c;
}


std::shared_ptr<HttpTransport> make_metadata_transport() {
  return std::make_shared<CurlTransport>(
      TransportOptions{std::chrono::milliseconds(1000), std::chrono::milliseconds(2000)});
}

Result<ContainerEndpoint> container_endpoint_from_environment() {
  ContainerEndpoint ep;
  ep.token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  ep.token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  if (std::string rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); !rel.empty()) {
    ep.url = "http://169.254.170.2" + std::string(rel.front() == '/' ? "" : "/") + rel;
    return ep;
  }
  std::string full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (full.empty()) return ep;
  auto u = parse_url(full);
  if (!u.ok())
    return Error::invalid("AWS_CONTAINER_CREDENTIALS_FULL_URI: " + u.error().message, "InvalidContainerCredentialsUri");
  if (u->scheme != "https" && !allowed_plain_http_host(u->host))
    return Error::invalid("AWS_CONTAINER_CREDENTIALS_FULL_URI host '" + u->host +
                              "' is not allowed over http (use https, a loopback address, 169.254.170.2 or "
                              "169.254.170.23)",
                          "InvalidContainerCredentialsUri");
  ep.url = full;
  return ep;
}

Result<Credentials> fetch_container_credentials(const ContainerEndpoint& ep, HttpTransport& transport) {
  const std::string where = "container credentials at " + describe_url(ep.url);
  HttpRequest req;
  req.method = "GET";
  req.url = ep.url;
  std::string token = ep.token;
  if (!ep.token_file.empty()) {
    std::ifstream f(ep.token_file);
    if (!f)
      return metadata_error(
          where, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + ep.token_file + ": " + std::strerror(errno),
          ErrorKind::kIo);
    std::ostringstream ss;
    ss << f.rdbuf();
    token = ss.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  }
  if (token.find_first_of("\r\n") != std::string::npos)
    return metadata_error(where, "the authorization token contains a line break", ErrorKind::kInvalidInput);
  if (!token.empty()) req.headers.push_back({"Authorization", token});
  req.headers.push_back({"Accept", "application/json"});
  Result<HttpResponse> resp = Error::internal("no attempt");
  for (int attempt = 0; attempt < 2; ++attempt) {  // one retry for a blip, as botocore does
    resp = transport.send(req);
    if (resp.ok() && resp->status < 500) break;
  }
  if (!resp.ok()) return metadata_error(where, "unreachable: " + resp.error().message, resp.error().kind);
  if (resp->status != 200)
    return metadata_error(where, "answered HTTP " + std::to_string(resp->status),
                          resp->status >= 500 ? ErrorKind::kTransient : ErrorKind::kAuth);
  return parse_credentials_document(resp->body, where, "container");
}

std::shared_ptr<CredentialsProvider> make_container_provider(ContainerEndpoint ep,
                                                             std::shared_ptr<HttpTransport> transport, Clock* clock) {
  std::string description = "container credentials at " + describe_url(ep.url);
  return std::make_shared<RefreshingCredentialsProvider>(
      description, [ep, transport] { return fetch_container_credentials(ep, *transport); }, clock);
}

ImdsConfig imds_config_from_environment() {
  ImdsConfig c;
  if (std::string e = env("AWS_EC2_METADATA_SERVICE_ENDPOINT"); !e.empty()) {
    c.endpoint = e;
  } else if (std::string mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"); mode == "IPv6" || mode == "ipv6") {
    c.endpoint = "http://[fd00:ec2::254]";
  }
  while (c.endpoint.ends_with("/")) c.endpoint.pop_back();
  c.disabled = env_true("AWS_EC2_METADATA_DISABLED");
  c.v1_disabled = env_true("AWS_EC2_METADATA_V1_DISABLED");
  return c;
}

Result<Credentials> fetch_imds_credentials(const ImdsConfig& config, HttpTransport& transport) {
  const std::string where = "instance metadata at " + describe_url(config.endpoint);
  if (auto u = parse_url(config.endpoint); !u.ok())
    return Error::invalid("AWS_EC2_METADATA_SERVICE_ENDPOINT: " + u.error().message, "InvalidMetadataEndpoint");
  std::string base = config.endpoint;
  while (base.ends_with("/")) base.pop_back();

  HttpRequest put{"PUT", base + "/latest/api/token", {{"x-aws-ec2-metadata-token-ttl-seconds", "21600"}}, ""};
  auto tok = transport.send(put);
  if (!tok.ok()) return metadata_error(where, "unreachable: " + tok.error().message, tok.error().kind);
  std::string token;
  if (tok->status == 200) {
    token = tok->body;
  } else if ((tok->status == 403 || tok->status == 404 || tok->status == 405) && !config.v1_disabled) {
    // An IMDS that predates tokens, or one behind a proxy that drops PUT: IMDSv1, as the SDKs do.
  } else {
    return metadata_error(where, "token request answered HTTP " + std::to_string(tok->status));
  }
  auto get = [&](const std::string& path) {
    HttpRequest r{"GET", base + path, {}, ""};
    if (!token.empty()) r.headers.push_back({"x-aws-ec2-metadata-token", token});
    return transport.send(r);
  };
  const std::string prefix = "/latest/meta-data/iam/security-credentials/";
  auto roles = get(prefix);
  if (!roles.ok()) return metadata_error(where, "unreachable: " + roles.error().message, roles.error().kind);
  if (roles->status == 404) return metadata_error(where, "no IAM role is attached to this instance");
  if (roles->status != 200) return metadata_error(where, "role list answered HTTP " + std::to_string(roles->status));
  std::string role;
  std::istringstream lines(roles->body);
  while (std::getline(lines, role)) {
    while (!role.empty() && (role.back() == '\r' || role.back() == ' ')) role.pop_back();
    if (!role.empty()) break;
  }
  if (role.empty()) return metadata_error(where, "no IAM role is attached to this instance");
  if (role.find_first_of("/?#% ") != std::string::npos)
    return metadata_error(where, "role name has unexpected characters", ErrorKind::kParse);
  auto creds = get(prefix + role);
  if (!creds.ok()) return metadata_error(where, "unreachable: " + creds.error().message, creds.error().kind);
  if (creds->status != 200)
    return metadata_error(where, "credentials of role " + role + " answered HTTP " + std::to_string(creds->status));
  return parse_credentials_document(creds->body, where, "instance-metadata:" + role);
}

std::shared_ptr<CredentialsProvider> make_imds_provider(ImdsConfig config, std::shared_ptr<HttpTransport> transport,
                                                        Clock* clock) {
  std::string description = "instance metadata at " + describe_url(config.endpoint);
  return std::make_shared<RefreshingCredentialsProvider>(
      description, [config, transport] { return fetch_imds_credentials(config, *transport); }, clock);
}

}  // namespace containctl::aws
