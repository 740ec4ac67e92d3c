// AwsClient: the one path every AWS call takes. It resolves the endpoint, builds the request for
// the service's protocol (query, JSON, REST-XML), waits on the rate limiter, signs, sends, parses
// errors, retries, and reports each call (never its secrets) to an observer for the audit log.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/endpoints.h"
#include "aws/http.h"
#include "aws/response.h"
#include "aws/retry.h"
#include "aws/sigv4.h"

namespace containctl::aws {

struct CallRecord {
  std::string service;
  std::string operation;
  std::string region;
  std::string account;
  int http_status = 0;  // 0 when no response arrived
  std::string request_id;
  std::string error_code;  // empty on success
  std::chrono::milliseconds duration{0};
  int attempts = 0;
  std::string context;  // what the caller works on (a target ARN), set by with_context()
};

using CallObserver = std::function<void(const CallRecord&)>;
using Params = std::vector<std::pair<std::string, std::string>>;

// A call about to be retried: which, what failed (AWS's error code or the network error's class,
// never a message: messages can echo request input) and how long the client waits first.
struct RetryNotice {
  std::string service, operation, region, account;
  int attempt = 0;  // the attempt that failed
  int max_attempts = 0;
  std::chrono::milliseconds delay{0};
  std::string error_code;
  bool throttled = false;
};
using RetryObserver = std::function<void(const RetryNotice&)>;

struct ClientConfig {
  std::shared_ptr<HttpTransport> transport;
  Clock* clock = &SystemClock::instance();
  std::shared_ptr<CredentialsProvider> credentials;
  EndpointOverrides endpoints;
  RetryPolicy retry;
  std::shared_ptr<RetryQuota> retry_quota;  // optional; share one per client set to bound retries in an outage
  std::shared_ptr<RateLimiter> limiter;  // optional; every attempt takes a token, throttles adapt it
  CallObserver observer;                 // optional
  RetryObserver on_retry;                // optional: told before each retry's wait
  std::string account_id;                // the account these credentials act in (rate-limit key, s3control)
  std::function<double()> jitter;        // uniform [0,1); default: a per-client PRNG
};

// Per-call options. `idempotent = false` marks a call that must not run twice (CreateAccessKey,
// CreateLoginProfile, CreateSecurityGroup, CreateSnapshots without a ClientToken, ...): it is
// retried only after failures where AWS certainly did not process it (throttling, DNS, connection
// refused, TLS handshake: see certainly_not_processed). After a timeout, a connection lost after
// sending, a 5xx or an unreadable 2xx it is NOT retried, and the error has outcome_unknown set and
// says so: the caller reads back (ListAccessKeys, GetLoginProfile, DescribeSecurityGroups by name)
// before it tries again. Calls that carry an idempotency token (EC2 ClientToken, Secrets Manager
// ClientRequestToken) are idempotent and keep the default: every attempt re-sends the same
// request, and the token is derived from the run and step (aws/idempotency.h), never random, so
// AWS answers a retry with what the first request made (or IdempotentParameterMismatch).
struct CallOptions {
  bool idempotent = true;
};

struct RestRequest {
  std::string operation;  // for logs and the audit trail, e.g. "PutBucketPolicy"
  std::string method = "GET";
  std::string bucket;     // S3: addressed virtual-hosted or path style as the endpoint allows
  std::string key;        // S3 object key, raw (encoded here, once)
  std::string path;       // non-bucket REST path, raw ("/v20180820/configuration/publicAccessBlock")
  Params query;           // raw names and values (encoded here); a value-less subresource uses ""
  std::vector<Header> headers;
  std::string body;
  bool unsigned_payload = false;
  CallOptions options;
};

class AwsClient {
 public:
  explicit AwsClient(ClientConfig config);

  // Query protocol (EC2, IAM, STS, Auto Scaling, ELBv2, CloudFormation): POST form body.
  Result<XmlResponse> query(const std::string& service, const std::string& region, const std::string& action,
                            const Params& params, CallOptions options = {});
  // JSON 1.0/1.1 protocol: X-Amz-Target = target_prefix + "." + operation.
  Result<nlohmann::json> json(const std::string& service, const std::string& region, const std::string& target_prefix,
                              const std::string& operation, const nlohmann::json& body, bool json_1_0 = false,
                              CallOptions options = {});
  // REST-XML (S3, S3 Control). Non-2xx responses are Errors.
  Result<HttpResponse> rest_xml(const std::string& service, const std::string& region, const RestRequest& request);
  // REST-JSON (Security Hub): `method` on `path` with a JSON body; the answer parsed as a JSON object.
  Result<nlohmann::json> rest_json(const std::string& service, const std::string& region, const std::string& operation,
                                   const std::string& method, const std::string& path, const nlohmann::json& body,
                                   CallOptions options = {});

  const ClientConfig& config() const { return config_; }
  // A client like this one whose call records carry `context` (e.g. the target ARN) for the audit
  // trail. Shares the transport, credentials and rate limiter.
  AwsClient with_context(const std::string& context) const;
  Result<Credentials> credentials() { return config_.credentials->credentials(); }

 private:
  // Validates a 2xx response (parses it); an error here fails the call without a retry.
  using ResponseCheck = std::function<Status(const HttpResponse&)>;
  struct CallSpec {
    const std::string& service;
    const std::string& region;
    const std::string& operation;
    bool unfiltered = false;  // EC2: no filter and no pagination (the smaller request bucket)
    CallOptions options = {};
  };
  Result<HttpResponse> send(const CallSpec& call, const HttpRequest& request, const SigningParams& signing,
                            const ResponseCheck& check = {});
  void finish(CallRecord& rec, TimePoint start);
  ClientConfig config_;
};

// API version of each query-protocol service.
const char* query_api_version(const std::string& service);

}  // namespace containctl::aws
