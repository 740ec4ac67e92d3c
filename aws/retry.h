// Retries like the SDKs' standard mode (bounded attempts, exponential backoff with full jitter,
// retry on throttling, 5xx and connection errors) and a client-side token-bucket rate limiter per
// (account, region, service). Both take the injected clock, so tests never sleep.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "aws/clock.h"
#include "aws/error.h"

namespace containctl::aws {

struct RetryPolicy {
  int max_attempts = 3;
  std::chrono::milliseconds base_delay{1000};  // first retry waits up to this (full jitter)
  std::chrono::milliseconds max_delay{20000};

  bool should_retry(const Error& e, int attempt) const { return attempt < max_attempts && e.retryable(); }
  // Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))]. `unit` is in [0,1).
  std::chrono::milliseconds backoff(int attempt, double unit) const;
};

struct BucketConfig {
  double rate_per_second = 0;  // refill rate; 0 = unlimited
  double burst = 0;            // bucket size
};

// Token buckets keyed by "account/region/service". acquire() waits (on the clock) for a token.
class RateLimiter {
 public:
  explicit RateLimiter(Clock& clock) : clock_(clock) {}
  void configure(const std::string& service, BucketConfig config);  // default for a service
  void configure_key(const std::string& key, BucketConfig config);  // one bucket
  // Returns how long the caller waited.
  std::chrono::milliseconds acquire(const std::string& account, const std::string& region,
                                    const std::string& service);
  // Called when the service throttled us: halve the bucket's rate for a while (adaptive).
  void on_throttled(const std::string& account, const std::string& region, const std::string& service);

 private:
  struct Bucket {
    BucketConfig config;
    double tokens = 0;
    TimePoint last{};
  };
  Bucket& bucket(const std::string& key, const std::string& service);
  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, BucketConfig> defaults_;
  std::map<std::string, BucketConfig> keyed_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace containctl::aws
