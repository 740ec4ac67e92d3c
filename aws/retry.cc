#include "aws/retry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace containctl::aws {
namespace {

// CUBIC constants of the SDKs' adaptive mode (botocore retries/throttling.py).
constexpr double kCubicScale = 0.4;
constexpr double kCubicBeta = 0.7;
constexpr double kMinRate = 0.5;  // never slower than one call per 2 s
constexpr double kMeasureWindowSeconds = 0.5;
constexpr double kMeasureSmoothing = 0.8;

double seconds(TimePoint::duration d) { return std::chrono::duration<double>(d).count(); }

struct Uncategorized {
  std::string_view action;
  double burst;
  double rate;
};

// The published per-action figures for the uncategorized EC2 actions a responder tool may call.
constexpr std::array<Uncategorized, 27> kEc2Uncategorized = {{
    {"AssociateIamInstanceProfile", 100, 5}, {"CopyImage", 100, 1},
    {"CreateLaunchTemplateVersion", 100, 5}, {"CreateNetworkInterface", 100, 5},
    {"CreateSnapshot", 100, 5},              {"CreateSnapshots", 100, 5},
    {"CreateTags", 100, 10},                 {"CreateVolume", 100, 5},
    {"DeleteNetworkInterface", 100, 5},      {"DeleteSnapshot", 100, 5},
    {"DeleteTags", 100, 10},                 {"DeleteVolume", 100, 5},
    {"DeregisterImage", 100, 5},             {"DescribeSecurityGroupReferences", 20, 5},
    {"DescribeStaleSecurityGroups", 20, 5},  {"DisassociateIamInstanceProfile", 100, 5},
    {"ModifyImageAttribute", 100, 5},        {"ModifyInstanceMetadataOptions", 100, 5},
    {"ModifyLaunchTemplate", 100, 5},        {"ModifyNetworkInterfaceAttribute", 100, 5},
    {"ModifySnapshotAttribute", 100, 5},     {"RunInstances", 5, 2},
    {"StartInstances", 5, 2},                {"TerminateInstances", 100, 5},
    {"AssignPrivateIpAddresses", 100, 5},    {"UnassignPrivateIpAddresses", 100, 5},
    {"DescribeSpotFleetRequests", 50, 3},
}};

constexpr std::array<std::string_view, 9> kEc2ResourceIntensive = {
    "AcceptVpcPeeringConnection", "AuthorizeSecurityGroupIngress", "CancelSpotInstanceRequests",
    "CreateKeyPair", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
    "RejectVpcPeeringConnection", "RevokeSecurityGroupIngress", "RequestSpotInstances"};

constexpr std::array<std::string_view, 7> kEc2Unfiltered = {
    "DescribeInstances", "DescribeInstanceStatus", "DescribeNetworkInterfaces", "DescribeSecurityGroups",
    "DescribeSnapshots", "DescribeSpotInstanceRequests", "DescribeVolumes"};

template <class C>
bool contains(const C& c, std::string_view v) {
  return std::find(c.begin(), c.end(), v) != c.end();
}

}  // namespace

bool certainly_not_processed(const Error& e) {
  if (e.kind == ErrorKind::kThrottling) return true;
  if (e.kind != ErrorKind::kNetwork) return false;
  // CurlTransport's codes for failures before the request was sent (curl_transport.cc code_of).
  static constexpr std::array<std::string_view, 7> kNeverSent = {
      "DnsFailure", "ProxyDnsFailure", "ConnectionRefused", "TlsVerificationFailed",
      "TlsCaBundleUnreadable", "TlsHandshakeFailed", "MalformedUrl"};
  return std::find(kNeverSent.begin(), kNeverSent.end(), e.code) != kNeverSent.end();
}

std::chrono::milliseconds RetryPolicy::backoff(int attempt, double unit) const {
  double cap = static_cast<double>(base_delay.count()) * std::pow(2.0, std::max(0, attempt - 1));
  cap = std::min(cap, static_cast<double>(max_delay.count()));
  return std::chrono::milliseconds(static_cast<long long>(std::clamp(unit, 0.0, 1.0) * cap));
}

std::chrono::milliseconds RetryPolicy::backoff_cap(int attempt, const Error& e) const {
  auto base = e.kind == ErrorKind::kThrottling ? base_delay : transient_base_delay;
  double cap = static_cast<double>(base.count()) * std::pow(2.0, std::max(0, attempt - 1));
  return std::chrono::milliseconds(static_cast<long long>(std::min(cap, static_cast<double>(max_delay.count()))));
}

std::chrono::milliseconds RetryPolicy::backoff(int attempt, double unit, const Error& e) const {
  double cap = static_cast<double>(backoff_cap(attempt, e).count());
  return std::chrono::milliseconds(static_cast<long long>(std::clamp(unit, 0.0, 1.0) * cap));
}

int RetryQuota::acquire(const Error& e) {
  const int cost = e.kind == ErrorKind::kTimeout ? kTimeoutCost : kRetryCost;
  std::lock_guard lock(mu_);
  if (available_ < cost) return 0;
  available_ -= cost;
  return cost;
}

void RetryQuota::on_success(int last_retry_cost) {
  std::lock_guard lock(mu_);
  available_ = std::min(capacity_, available_ + (last_retry_cost > 0 ? last_retry_cost : kSuccessRefund));
}

int RetryQuota::available() const {
  std::lock_guard lock(mu_);
  return available_;
}

const char* to_string(Ec2ActionCategory c) {
  switch (c) {
    case Ec2ActionCategory::kNonMutating: return "non-mutating";
    case Ec2ActionCategory::kUnfilteredNonMutating: return "unfiltered-non-mutating";
    case Ec2ActionCategory::kMutating: return "mutating";
    case Ec2ActionCategory::kResourceIntensive: return "resource-intensive";
    case Ec2ActionCategory::kUncategorized: return "uncategorized";
  }
  return "unknown";
}

bool ec2_has_unfiltered_bucket(std::string_view action) { return contains(kEc2Unfiltered, action); }

Ec2RequestBucket ec2_request_bucket(std::string_view action, bool unfiltered) {
  for (const auto& u : kEc2Uncategorized) {
    if (u.action == action) return {Ec2ActionCategory::kUncategorized, {u.rate, u.burst}};
  }
  if (contains(kEc2ResourceIntensive, action)) return {Ec2ActionCategory::kResourceIntensive, {5, 50}};
  if (unfiltered && contains(kEc2Unfiltered, action)) return {Ec2ActionCategory::kUnfilteredNonMutating, {10, 50}};
  for (std::string_view prefix : {"Describe", "List", "Search", "Get"}) {
    if (action.starts_with(prefix)) return {Ec2ActionCategory::kNonMutating, {20, 100}};
  }
  return {Ec2ActionCategory::kMutating, {5, 50}};
}

void RateLimiter::configure(const std::string& service, BucketConfig config) {
  std::lock_guard lock(mu_);
  defaults_[service] = config;
}

void RateLimiter::configure_operation(const std::string& service, const std::string& operation,
                                      BucketConfig config) {
  std::lock_guard lock(mu_);
  operations_[service + "/" + operation] = config;
}

void RateLimiter::configure_key(const std::string& key, BucketConfig config) {
  std::lock_guard lock(mu_);
  keyed_[key] = config;
  buckets_.erase(key);
}

RateLimiter::Resolved RateLimiter::resolve(const std::string& account, const std::string& region,
                                           const std::string& service, const std::string& operation,
                                           bool unfiltered) const {
  const std::string base = account + "/" + region + "/" + service;
  if (!operation.empty()) {
    std::string op_key = base + "/" + operation + (unfiltered && service == "ec2" &&
                                                           ec2_has_unfiltered_bucket(operation) ? "#unfiltered" : "");
    if (auto k = keyed_.find(op_key); k != keyed_.end()) return {op_key, k->second};
    if (auto o = operations_.find(service + "/" + operation); o != operations_.end()) return {op_key, o->second};
    if (!defaults_.contains(service) && !keyed_.contains(base) && service == "ec2" && ec2_defaults_)
      return {op_key, ec2_request_bucket(operation, unfiltered).config};
  }
  if (auto k = keyed_.find(base); k != keyed_.end()) return {base, k->second};
  if (auto d = defaults_.find(service); d != defaults_.end()) return {base, d->second};
  return {base, {}};
}

RateLimiter::Bucket& RateLimiter::bucket(const Resolved& r) {
  auto it = buckets_.find(r.key);
  if (it != buckets_.end()) return it->second;
  Bucket b;
  b.config = r.config;
  b.rate = r.config.rate_per_second;
  b.burst = std::max(1.0, r.config.burst);
  b.tokens = b.burst;
  b.last = clock_.now();
  b.window_start = b.last;
  return buckets_.emplace(r.key, b).first->second;
}

void RateLimiter::refill(Bucket& b, TimePoint now) {
  if (b.rate <= 0) return;
  double elapsed = std::max(0.0, seconds(now - b.last));
  b.tokens = std::min(b.burst, b.tokens + elapsed * b.rate);
  b.last = now;
}

void RateLimiter::measure(Bucket& b, TimePoint now) {
  ++b.window_count;
  double elapsed = seconds(now - b.window_start);
  if (elapsed >= kMeasureWindowSeconds) {
    double rate = b.window_count / elapsed;
    b.measured = b.measured == 0 ? rate : kMeasureSmoothing * rate + (1 - kMeasureSmoothing) * b.measured;
    b.window_count = 0;
    b.window_start = now;
  }
}

std::chrono::milliseconds RateLimiter::acquire(const std::string& account, const std::string& region,
                                               const std::string& service) {
  return acquire(account, region, service, "", false);
}

std::chrono::milliseconds RateLimiter::acquire(const std::string& account, const std::string& region,
                                               const std::string& service, const std::string& operation,
                                               bool unfiltered) {
  // Each caller reserves its own token (the bucket may go into debt) and sleeps once until that
  // token is due. Waking every waiter on each refill to race for one token made 2,000 workers spin
  // in here (issue 16): with reservations each waiter wakes exactly once, in arrival order.
  std::chrono::milliseconds wait{0};
  {
    std::lock_guard lock(mu_);
    Bucket& b = bucket(resolve(account, region, service, operation, unfiltered));
    TimePoint now = clock_.now();
    measure(b, now);
    if (b.rate <= 0) return wait;
    refill(b, now);
    b.tokens -= 1.0;
    if (b.tokens >= 0) return wait;
    wait = std::chrono::milliseconds(static_cast<long long>(std::ceil(-b.tokens / b.rate * 1000.0)));
  }
  // Never sleep holding the lock: other buckets (other accounts) keep going meanwhile.
  clock_.sleep_for(wait);
  return wait;
}

void RateLimiter::on_throttled(const std::string& account, const std::string& region, const std::string& service) {
  on_throttled(account, region, service, "", false);
}

void RateLimiter::on_throttled(const std::string& account, const std::string& region, const std::string& service,
                               const std::string& operation, bool unfiltered) {
  std::lock_guard lock(mu_);
  Bucket& b = bucket(resolve(account, region, service, operation, unfiltered));
  TimePoint now = clock_.now();
  refill(b, now);
  double in_use = b.rate > 0 ? b.rate : std::max(b.measured, 1.0);
  if (b.measured > 0 && b.rate > 0) in_use = std::min(in_use, std::max(b.measured, kMinRate));
  b.adaptive = true;
  b.w_max = in_use;
  b.k = std::cbrt(b.w_max * (1 - kCubicBeta) / kCubicScale);
  b.last_throttle = now;
  b.rate = std::max(kMinRate, in_use * kCubicBeta);
  b.burst = std::max(1.0, std::min(b.burst, b.rate));
  // The service says our estimate of its bucket was wrong: start the new one empty (keeping any
  // debt of callers already waiting, so newcomers queue behind them at the slower rate).
  b.tokens = std::min(b.tokens, 0.0);
  b.last = now;
}

void RateLimiter::on_success(const std::string& account, const std::string& region, const std::string& service,
                             const std::string& operation, bool unfiltered) {
  std::lock_guard lock(mu_);
  Bucket& b = bucket(resolve(account, region, service, operation, unfiltered));
  if (!b.adaptive) return;
  TimePoint now = clock_.now();
  refill(b, now);
  double t = seconds(now - b.last_throttle);
  double cubic = kCubicScale * std::pow(t - b.k, 3) + b.w_max;
  // Ceiling: the configured rate, or twice what we measured for buckets with none (as botocore).
  double ceiling = b.config.rate_per_second > 0 ? b.config.rate_per_second : 2 * std::max(b.measured, b.w_max);
  b.rate = std::clamp(cubic, kMinRate, ceiling);
  double burst_ceiling = b.config.rate_per_second > 0 ? std::max(1.0, b.config.burst) : std::max(1.0, ceiling);
  b.burst = std::clamp(b.rate, 1.0, burst_ceiling);
  if (b.config.rate_per_second > 0 && b.rate >= b.config.rate_per_second) {
    // Fully recovered: back to the published bucket, burst included.
    b.adaptive = false;
    b.rate = b.config.rate_per_second;
    b.burst = std::max(1.0, b.config.burst);
  }
  b.tokens = std::min(b.tokens, b.burst);
}

BucketConfig RateLimiter::current(const std::string& account, const std::string& region, const std::string& service,
                                  const std::string& operation, bool unfiltered) {
  std::lock_guard lock(mu_);
  Bucket& b = bucket(resolve(account, region, service, operation, unfiltered));
  return {b.rate, b.rate > 0 ? b.burst : 0};
}

std::string RateLimiter::bucket_key(const std::string& account, const std::string& region,
                                    const std::string& service, const std::string& operation, bool unfiltered) {
  std::lock_guard lock(mu_);
  return resolve(account, region, service, operation, unfiltered).key;
}

}  // namespace containctl::aws
