#include "aws/client.h"

#include <spdlog/spdlog.h>

#include <random>

#include "aws/url.h"

namespace containctl::aws {

const char* query_api_version(const std::string& service) {
  if (service == "ec2") return "2016-11-15";
  if (service == "iam") return "2010-05-08";
  if (service == "sts") return "2011-06-15";
  if (service == "autoscaling") return "2011-01-01";
  if (service == "elasticloadbalancing") return "2015-12-01";
  if (service == "cloudformation") return "2010-05-15";
  return nullptr;
}

AwsClient::AwsClient(ClientConfig config) : config_(std::move(config)) {
  if (!config_.jitter) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    auto mu = std::make_shared<std::mutex>();
    config_.jitter = [rng, mu] {
      std::lock_guard lock(*mu);
      return std::uniform_real_distribution<double>(0.0, 1.0)(*rng);
    };
  }
}

Result<XmlResponse> AwsClient::query(const std::string& service, const std::string& region, const std::string& action,
                                     const Params& params) {
  const char* version = query_api_version(service);
  if (!version) return Error::invalid("'" + service + "' is not a query-protocol service", "UnknownService");
  CC_ASSIGN(Endpoint ep, resolve_endpoint(service, region, config_.endpoints));
  HttpRequest req;
  req.method = "POST";
  req.url = ep.base_url + "/";
  req.body = "Action=" + uri_encode(action, false) + "&Version=" + version;
  for (const auto& [k, v] : params) req.body += "&" + uri_encode(k, false) + "=" + uri_encode(v, false);
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  SigningParams sp{ep.signing_region, ep.signing_service, {}};
  CC_ASSIGN(HttpResponse resp, send(service, region, action, req, sp));
  return parse_xml(resp);
}

Result<nlohmann::json> AwsClient::json(const std::string& service, const std::string& region,
                                       const std::string& target_prefix, const std::string& operation,
                                       const nlohmann::json& body, bool json_1_0) {
  CC_ASSIGN(Endpoint ep, resolve_endpoint(service, region, config_.endpoints));
  HttpRequest req;
  req.method = "POST";
  req.url = ep.base_url + "/";
  req.body = body.is_null() ? "{}" : body.dump();
  req.headers.push_back({"Content-Type", json_1_0 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1"});
  req.headers.push_back({"X-Amz-Target", target_prefix + "." + operation});
  SigningParams sp{ep.signing_region, ep.signing_service, {}};
  CC_ASSIGN(HttpResponse resp, send(service, region, operation, req, sp));
  if (resp.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_discarded())
    return Error{ErrorKind::kParse, "UnparseableResponse", service + " " + operation + " answered with a body that is not JSON"};
  return j;
}

Result<HttpResponse> AwsClient::rest_xml(const std::string& service, const std::string& region,
                                         const RestRequest& r) {
  CC_ASSIGN(Endpoint ep, resolve_endpoint(service, region, config_.endpoints));
  CC_ASSIGN(Url base, parse_url(ep.base_url));
  std::string prefix = base.path == "/" ? "" : base.path;
  std::string host = base.host_header();
  std::string path;
  if (service == "s3" && !r.bucket.empty()) {
    bool virtual_host = !ep.custom && bucket_is_virtual_host_safe(r.bucket);
    if (virtual_host) {
      host = r.bucket + "." + host;
      path = "/" + uri_encode(r.key, true);
    } else {
      path = "/" + uri_encode(r.bucket, false) + (r.key.empty() ? "" : "/" + uri_encode(r.key, true));
    }
  } else {
    path = uri_encode(r.path.empty() ? "/" : r.path, true);
  }
  if (service == "s3control" && !ep.custom && !config_.account_id.empty()) host = config_.account_id + "." + host;
  std::string query;
  for (const auto& [k, v] : r.query) {
    if (!query.empty()) query += "&";
    query += uri_encode(k, false);
    if (!v.empty()) query += "=" + uri_encode(v, false);
  }
  HttpRequest req;
  req.method = r.method;
  req.url = base.scheme + "://" + host + prefix + path + (query.empty() ? "" : "?" + query);
  req.headers = r.headers;
  req.body = r.body;
  if (service == "s3control" && req.header("x-amz-account-id").empty() && !config_.account_id.empty())
    req.headers.push_back({"x-amz-account-id", config_.account_id});
  SigningParams sp{ep.signing_region, ep.signing_service, {}};
  sp.s3_mode = true;
  sp.content_sha256_header = true;
  sp.payload = r.unsigned_payload ? PayloadMode::kUnsigned : PayloadMode::kSigned;
  return send(service, region, r.operation, req, sp);
}

Result<HttpResponse> AwsClient::send(const std::string& service, const std::string& region,
                                     const std::string& operation, const HttpRequest& request,
                                     const SigningParams& signing) {
  if (!config_.transport) return Error::internal("AwsClient has no transport");
  if (!config_.credentials) return Error{ErrorKind::kAuth, "MissingCredentials", "no credentials provider"};
  CallRecord rec{service, operation, region, config_.account_id};
  const TimePoint start = config_.clock->now();
  Result<HttpResponse> last = Error::internal("no attempt made");
  Error err;
  for (int attempt = 1;; ++attempt) {
    rec.attempts = attempt;
    if (config_.limiter) config_.limiter->acquire(config_.account_id, region, service);
    CC_ASSIGN(Credentials creds, config_.credentials->credentials());
    HttpRequest req = request;
    SigningParams sp = signing;
    sp.time = config_.clock->now();
    CC_TRY(sign_request(req, creds, sp));
    Result<HttpResponse> resp = config_.transport->send(req);
    if (resp.ok() && resp->status >= 200 && resp->status < 300) {
      rec.http_status = resp->status;
      for (const char* h : {"x-amzn-requestid", "x-amz-request-id"})
        if (auto v = resp->header(h); !v.empty() && rec.request_id.empty()) rec.request_id = std::string(v);
      if (rec.request_id.empty()) {
        // Query protocols carry it in the body.
        auto p = resp->body.find("equestId>");
        if (p != std::string::npos) {
          auto e = resp->body.find('<', p + 9);
          if (e != std::string::npos) rec.request_id = resp->body.substr(p + 9, e - p - 9);
        }
      }
      rec.duration = std::chrono::duration_cast<std::chrono::milliseconds>(config_.clock->now() - start);
      spdlog::debug("aws {} {} {} HTTP {} {}ms attempts={}", service, operation, region, rec.http_status,
                    rec.duration.count(), attempt);
      if (config_.observer) config_.observer(rec);
      return resp;
    }
    err = resp.ok() ? error_from_response(*resp) : resp.error();
    if (err.kind == ErrorKind::kThrottling && config_.limiter)
      config_.limiter->on_throttled(config_.account_id, region, service);
    if (!config_.retry.should_retry(err, attempt)) break;
    auto delay = config_.retry.backoff(attempt, config_.jitter());
    spdlog::debug("aws {} {} retry {} after {}ms: {}", service, operation, attempt, delay.count(), err.code);
    config_.clock->sleep_for(delay);
  }
  rec.http_status = err.http_status;
  rec.request_id = err.request_id;
  rec.error_code = err.code;
  rec.duration = std::chrono::duration_cast<std::chrono::milliseconds>(config_.clock->now() - start);
  spdlog::debug("aws {} {} {} failed: {}", service, operation, region, err.describe());
  if (config_.observer) config_.observer(rec);
  err.message = service + " " + operation + ": " + err.message;
  return err;
}

}  // namespace containctl::aws
