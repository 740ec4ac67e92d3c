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

namespace {

bool ec2_call_unfiltered(const std::string& service, const std::string& action, const Params& params) {
  if (service != "ec2" || !ec2_has_unfiltered_bucket(action)) return false;
  for (const auto& [k, v] : params) {
    if (k.starts_with("Filter.") || k == "MaxResults" || k == "NextToken") return false;
  }
  return true;
}

// send() prefixes the message with "<service> <operation>: ".
Error parse_error(const HttpResponse& r, const std::string& what) {
  return Error{ErrorKind::kParse, "UnparseableResponse",
               "HTTP " + std::to_string(r.status) + " response has " + what, r.status, response_request_id(r)};
}

}  // namespace

AwsClient AwsClient::with_context(const std::string& context) const {
  ClientConfig cfg = config_;
  if (cfg.observer) {
    cfg.observer = [base = config_.observer, context](const CallRecord& r) {
      CallRecord copy = r;
      copy.context = context;
      base(copy);
    };
  }
  return AwsClient(cfg);
}

Result<XmlResponse> AwsClient::query(const std::string& service, const std::string& region, const std::string& action,
                                     const Params& params, CallOptions options) {
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
  XmlResponse parsed;
  auto check = [&](const HttpResponse& r) -> Status {
    // Query services always answer <ActionResponse>: anything else (empty, HTML, a proxy's
    // page) is not a success we can trust.
    if (r.body.find_first_not_of(" \t\r\n") == std::string::npos) return parse_error(r, "an empty body");
    auto p = parse_xml(r);
    if (!p.ok()) return parse_error(r, "a body that is not valid XML");
    std::string_view root = p->root().name();
    if (!root.ends_with("Response")) return parse_error(r, "an XML body that is not a query response");
    parsed = std::move(p).value();
    return Ok{};
  };
  CC_TRY(send({service, region, action, ec2_call_unfiltered(service, action, params), options}, req, sp, check));
  return parsed;
}

Result<nlohmann::json> AwsClient::json(const std::string& service, const std::string& region,
                                       const std::string& target_prefix, const std::string& operation,
                                       const nlohmann::json& body, bool json_1_0, CallOptions options) {
  CC_ASSIGN(Endpoint ep, resolve_endpoint(service, region, config_.endpoints));
  HttpRequest req;
  req.method = "POST";
  req.url = ep.base_url + "/";
  req.body = body.is_null() ? "{}" : body.dump();
  req.headers.push_back({"Content-Type", json_1_0 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1"});
  req.headers.push_back({"X-Amz-Target", target_prefix + "." + operation});
  SigningParams sp{ep.signing_region, ep.signing_service, {}};
  nlohmann::json parsed = nlohmann::json::object();
  auto check = [&](const HttpResponse& r) -> Status {
    // Some JSON operations answer 200 with no body at all; that is success with no fields.
    if (r.body.find_first_not_of(" \t\r\n") == std::string::npos) return Ok{};
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return parse_error(r, "a body that is not JSON");
    if (!j.is_object()) return parse_error(r, "JSON that is not an object");
    parsed = std::move(j);
    return Ok{};
  };
  CC_TRY(send({service, region, operation, false, options}, req, sp, check));
  return parsed;
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
  return send({service, region, r.operation, false, r.options}, req, sp);
}

Result<nlohmann::json> AwsClient::rest_json(const std::string& service, const std::string& region,
                                            const std::string& operation, const std::string& method,
                                            const std::string& path, const nlohmann::json& body, CallOptions options) {
  CC_ASSIGN(Endpoint ep, resolve_endpoint(service, region, config_.endpoints));
  HttpRequest req;
  req.method = method;
  req.url = ep.base_url + uri_encode(path, true);
  req.body = body.is_null() ? "" : body.dump();
  req.headers.push_back({"Content-Type", "application/json"});
  SigningParams sp{ep.signing_region, ep.signing_service, {}};
  nlohmann::json parsed = nlohmann::json::object();
  auto check = [&](const HttpResponse& r) -> Status {
    if (r.body.find_first_not_of(" \t\r\n") == std::string::npos) return Ok{};
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return parse_error(r, "a body that is not a JSON object");
    parsed = std::move(j);
    return Ok{};
  };
  CC_TRY(send({service, region, operation, false, options}, req, sp, check));
  return parsed;
}

void AwsClient::finish(CallRecord& rec, TimePoint start) {
  rec.duration = std::chrono::duration_cast<std::chrono::milliseconds>(config_.clock->now() - start);
  if (config_.observer) config_.observer(rec);
}

Result<HttpResponse> AwsClient::send(const CallSpec& call, const HttpRequest& request, const SigningParams& signing,
                                     const ResponseCheck& check) {
  const std::string& service = call.service;
  const std::string& operation = call.operation;
  const std::string& region = call.region;
  if (!config_.transport) return Error::internal("AwsClient has no transport");
  if (!config_.credentials) return Error{ErrorKind::kAuth, "MissingCredentials", "no credentials provider"};
  CallRecord rec{service, operation, region, config_.account_id};
  const TimePoint start = config_.clock->now();
  bool sent = false;  // a request went to the transport (failures before that performed nothing)
  auto fail = [&](Error err) -> Error {
    // A non-idempotent call that failed after it may have reached AWS: say so, so the caller
    // reads back instead of creating a second key, password or group.
    if (!call.options.idempotent && sent && !certainly_not_processed(err) &&
        (err.retryable() || err.kind == ErrorKind::kParse)) {
      err.outcome_unknown = true;
      err.message += " (not retried: " + operation + " is not idempotent and AWS may have performed it; read back before trying again)";
    }
    rec.http_status = err.http_status;
    rec.request_id = err.request_id;
    rec.error_code = err.code;
    spdlog::debug("aws {} {} {} failed after {} attempt(s): {}", service, operation, region, rec.attempts,
                  err.describe());
    finish(rec, start);
    err.message = service + " " + operation + ": " + redact_service_text(err.message);
    return err;
  };
  int last_retry_cost = 0;
  for (int attempt = 1;; ++attempt) {
    rec.attempts = attempt;
    if (config_.limiter) {
      auto waited = config_.limiter->acquire(config_.account_id, region, service, operation, call.unfiltered);
      if (waited.count() > 0) spdlog::trace("aws {} {} waited {}ms for a rate token", service, operation, waited.count());
    }
    // Fetched per attempt: a provider refreshes credentials that expire during retries.
    auto creds = config_.credentials->credentials();
    if (!creds.ok()) return fail(creds.error());
    HttpRequest req = request;
    SigningParams sp = signing;
    sp.time = config_.clock->now();  // signed per attempt, with the time of that attempt
    if (auto signed_req = sign_request(req, *creds, sp); !signed_req.ok()) return fail(signed_req.error());
    // Header names only: values include the signature and the session token.
    if (spdlog::should_log(spdlog::level::trace)) {
      std::string names;
      for (const auto& h : req.headers) names += (names.empty() ? "" : ",") + h.name;
      spdlog::trace("aws > {} {} {} attempt {} ({} body bytes; headers {})", service, operation, region, attempt,
                    req.body.size(), names);
    }
    sent = true;
    Result<HttpResponse> resp = config_.transport->send(req);
    if (resp.ok() && resp->status >= 200 && resp->status < 300) {
      rec.http_status = resp->status;
      // REST-XML success bodies are the caller's data (an S3 object may hold anything): only
      // the headers name the request there.
      rec.request_id = signing.s3_mode ? std::string(resp->header("x-amz-request-id")) : response_request_id(*resp);
      if (rec.request_id.empty()) rec.request_id = std::string(resp->header("x-amzn-requestid"));
      spdlog::trace("aws < {} {} HTTP {} request id {}", service, operation, rec.http_status, rec.request_id);
      if (config_.limiter) config_.limiter->on_success(config_.account_id, region, service, operation, call.unfiltered);
      if (check) {
        if (Status st = check(*resp); !st.ok()) return fail(st.error());
      }
      rec.error_code.clear();
      if (config_.retry_quota) config_.retry_quota->on_success(last_retry_cost);
      finish(rec, start);
      spdlog::debug("aws {} {} {} HTTP {} {}ms attempts={}", service, operation, region, rec.http_status,
                    rec.duration.count(), attempt);
      return resp;
    }
    Error err = resp.ok() ? error_from_response(*resp) : resp.error();
    spdlog::trace("aws < {} {} attempt {}: {} ({})", service, operation, attempt, err.describe(), to_string(err.kind));
    if (err.kind == ErrorKind::kThrottling && config_.limiter)
      config_.limiter->on_throttled(config_.account_id, region, service, operation, call.unfiltered);
    if (!config_.retry.should_retry(err, attempt, call.options.idempotent)) return fail(std::move(err));
    if (config_.retry_quota) {
      last_retry_cost = config_.retry_quota->acquire(err);
      if (last_retry_cost == 0) {
        spdlog::debug("aws {} {}: retry quota exhausted, not retrying {}", service, operation, err.code);
        return fail(std::move(err));
      }
    }
    auto delay = config_.retry.backoff(attempt, config_.jitter(), err);
    spdlog::debug("aws {} {} retry {} after {}ms: {}", service, operation, attempt, delay.count(), err.code);
    if (config_.on_retry)
      config_.on_retry({service, operation, region, config_.account_id, attempt, config_.retry.max_attempts, delay,
                        err.code.empty() ? std::string(to_string(err.kind)) : err.code,
                        err.kind == ErrorKind::kThrottling});
    config_.clock->sleep_for(delay);
  }
}

}  // namespace containctl::aws
