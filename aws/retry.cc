#include "aws/retry.h"

#include <algorithm>
#include <cmath>

namespace containctl::aws {

std::chrono::milliseconds RetryPolicy::backoff(int attempt, double unit) const {
  double cap = static_cast<double>(base_delay.count()) * std::pow(2.0, std::max(0, attempt - 1));
  cap = std::min(cap, static_cast<double>(max_delay.count()));
  return std::chrono::milliseconds(static_cast<long long>(unit * cap));
}

void RateLimiter::configure(const std::string& service, BucketConfig config) {
  std::lock_guard lock(mu_);
  defaults_[service] = config;
}

void RateLimiter::configure_key(const std::string& key, BucketConfig config) {
  std::lock_guard lock(mu_);
  keyed_[key] = config;
  buckets_.erase(key);
}

RateLimiter::Bucket& RateLimiter::bucket(const std::string& key, const std::string& service) {
  auto it = buckets_.find(key);
  if (it != buckets_.end()) return it->second;
  Bucket b;
  if (auto k = keyed_.find(key); k != keyed_.end()) {
    b.config = k->second;
  } else if (auto d = defaults_.find(service); d != defaults_.end()) {
    b.config = d->second;
  }
  b.tokens = b.config.burst;
  b.last = clock_.now();
  return buckets_.emplace(key, b).first->second;
}

std::chrono::milliseconds RateLimiter::acquire(const std::string& account, const std::string& region,
                                               const std::string& service) {
  const std::string key = account + "/" + region + "/" + service;
  std::chrono::milliseconds waited{0};
  for (;;) {
    std::chrono::milliseconds wait{0};
    {
      std::lock_guard lock(mu_);
      Bucket& b = bucket(key, service);
      if (b.config.rate_per_second <= 0) return waited;
      TimePoint now = clock_.now();
      double elapsed = std::chrono::duration<double>(now - b.last).count();
      b.tokens = std::min(b.config.burst, b.tokens + elapsed * b.config.rate_per_second);
      b.last = now;
      if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return waited;
      }
      double need = (1.0 - b.tokens) / b.config.rate_per_second;
      wait = std::chrono::milliseconds(static_cast<long long>(std::ceil(need * 1000.0)));
    }
    clock_.sleep_for(wait);
    waited += wait;
  }
}

void RateLimiter::on_throttled(const std::string& account, const std::string& region, const std::string& service) {
  std::lock_guard lock(mu_);
  Bucket& b = bucket(account + "/" + region + "/" + service, service);
  if (b.config.rate_per_second > 0) {
    b.config.rate_per_second = std::max(0.5, b.config.rate_per_second / 2);
    b.tokens = 0;
  }
}

}  // namespace containctl::aws
