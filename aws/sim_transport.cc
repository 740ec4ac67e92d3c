#include "aws/sim_transport.h"

#include <cmath>
#include <string_view>

namespace containctl::aws {

namespace {

std::string form_value(std::string_view body, std::string_view name) {
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('&', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view kv = body.substr(pos, end - pos);
    if (kv.size() > name.size() && kv.substr(0, name.size()) == name && kv[name.size()] == '=')
      return std::string(kv.substr(name.size() + 1));
    pos = end + 1;
  }
  return "";
}

}  // namespace

SimTransport::Call SimTransport::classify(const HttpRequest& request) const {
  Call c;
  // "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, ..."
  std::string_view auth = request.header("Authorization");
  size_t p = auth.find("Credential=");
  if (p != std::string_view::npos) {
    std::string_view scope = auth.substr(p + 11);
    scope = scope.substr(0, scope.find(','));
    std::vector<std::string_view> parts;
    size_t s = 0;
    for (size_t i = 0; i <= scope.size(); ++i)
      if (i == scope.size() || scope[i] == '/') parts.push_back(scope.substr(s, i - s)), s = i + 1;
    if (parts.size() >= 4) {
      if (parts[0].size() >= 16) c.account = std::string(parts[0].substr(4, 12));
      c.region = parts[2];
      c.service = parts[3];
    }
  }
  if (c.service == "s3") {
    c.action = request.method;
    c.bucket_key = c.account + "/" + c.region + "/s3";
    c.config = config_.s3;
  } else {
    c.action = form_value(request.body, "Action");
    if (c.service == "ec2") {
      bool unfiltered = ec2_has_unfiltered_bucket(c.action) && request.body.find("Filter.") == std::string::npos &&
                        request.body.find("MaxResults=") == std::string::npos &&
                        request.body.find("NextToken=") == std::string::npos;
      Ec2RequestBucket b = ec2_request_bucket(c.action, unfiltered);
      c.config = b.config;
      // AWS meters EC2 per action (each with its category's figures).
      c.bucket_key = c.account + "/" + c.region + "/ec2/" + c.action + (unfiltered ? "/unfiltered" : "");
    } else {
      // IAM and STS are global: one bucket per account.
      c.config = c.service == "iam" ? config_.iam : config_.sts;
      c.bucket_key = c.account + "/" + c.service;
    }
  }
  return c;
}

bool SimTransport::take_token(const Call& call) {
  if (call.config.rate_per_second <= 0) return true;
  ServerBucket& b = server_[call.bucket_key];
  TimePoint now = clock_.now();
  if (!b.init) {
    b.init = true;
    b.config = call.config;
    b.tokens = call.config.burst;
    b.last = now;
  }
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(b.config.burst, b.tokens + elapsed * b.config.rate_per_second);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

HttpResponse SimTransport::throttled(const Call& c) const {
  HttpResponse r;
  if (c.service == "ec2") {
    r.status = 503;
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
             "<Message>Request limit exceeded.</Message></Error></Errors><RequestID>sim-throttle</RequestID></Response>";
  } else if (c.service == "s3") {
    r.status = 503;
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your "
             "request rate.</Message><RequestId>sim-throttle</RequestId></Error>";
    r.headers.push_back({"x-amz-request-id", "sim-throttle"});
  } else {
    r.status = 400;
    r.body = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
             "</Error><RequestId>sim-throttle</RequestId></ErrorResponse>";
  }
  return r;
}

HttpResponse SimTransport::transient(const Call& c) const {
  HttpResponse r;
  if (c.service == "ec2") {
    r.status = 503;
    r.body = "<Response><Errors><Error><Code>Unavailable</Code><Message>The server is overloaded.</Message></Error>"
             "</Errors><RequestID>sim-5xx</RequestID></Response>";
  } else if (c.service == "s3") {
    r.status = 500;
    r.body = "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message>"
             "<RequestId>sim-5xx</RequestId></Error>";
  } else {
    r.status = 500;
    r.body = "<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>Internal failure"
             "</Message></Error><RequestId>sim-5xx</RequestId></ErrorResponse>";
  }
  return r;
}

HttpResponse SimTransport::success(const Call& c) const {
  HttpResponse r;
  r.status = 200;
  if (c.service == "s3") {
    r.headers.push_back({"x-amz-request-id", "sim-ok"});
  } else if (c.service == "ec2") {
    r.body = "<" + c.action + "Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>sim-ok"
             "</requestId><return>true</return></" + c.action + "Response>";
  } else {
    r.body = "<" + c.action + "Response><" + c.action + "Result/><ResponseMetadata><RequestId>sim-ok</RequestId>"
             "</ResponseMetadata></" + c.action + "Response>";
  }
  return r;
}

Result<HttpResponse> SimTransport::send(const HttpRequest& request) {
  Call call = classify(request);
  if (call.account.empty() || call.service.empty())
    return Error::internal("simulated transport: request has no SigV4 credential scope: " + request.url);
  SimService* service = nullptr;
  for (const auto& s : services_)
    if (s->handles(call.account, call.service, request)) service = s.get();
  double latency;
  {
    std::lock_guard lock(mu_);
    double median = service ? service->latency_median_ms(call.service, request) : config_.latency_median_ms;
    std::lognormal_distribution<double> dist(std::log(median), config_.latency_sigma);
    latency = dist(rng_);
  }
  if (service) {
    // Half the latency each way, as below; the service meters and answers in between.
    auto half = std::chrono::milliseconds(static_cast<long>(latency / 2));
    clock_.sleep_for(half);
    SimService::Answer a = service->answer(call.service, request, clock_.now());
    {
      std::lock_guard lock(mu_);
      stats_.calls++;
      SimBucketStats& bs = stats_.buckets[call.account + "/" + call.region + "/" + call.service];
      if (a.throttled) {
        stats_.throttled++;
        bs.throttled++;
      } else if (a.response.status >= 500) {
        stats_.transient++;
      } else {
        bs.ok++;
        stats_.ok++;
      }
    }
    clock_.sleep_for(half);
    return a.response;
  }
  auto half = std::chrono::milliseconds(static_cast<long>(latency / 2));
  clock_.sleep_for(half);  // the request travels
  HttpResponse response;
  {
    std::lock_guard lock(mu_);
    stats_.calls++;
    SimBucketStats& bs = stats_.buckets[call.bucket_key];
    bs.config = call.config;
    if (!take_token(call)) {
      stats_.throttled++;
      bs.throttled++;
      response = throttled(call);
    } else if (std::uniform_real_distribution<double>(0, 1)(rng_) < config_.transient_rate) {
      stats_.transient++;
      response = transient(call);
    } else {
      stats_.ok++;
      bs.ok++;
      stats_.latency_sum_ms += 2 * static_cast<double>(half.count());
      thread_latency_ms() += 2 * static_cast<double>(half.count());
      response = success(call);
    }
  }
  clock_.sleep_for(half);  // the answer travels back
  return response;
}

double& SimTransport::thread_latency_ms() {
  thread_local double sum = 0;
  return sum;
}

SimStats SimTransport::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace containctl::aws
