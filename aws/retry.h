// Retries like the SDKs' standard mode (bounded attempts, exponential backoff with full jitter
// capped at 20 s, retry on throttling, 5xx/transient codes and connection errors, never on client
// or auth errors) and a client-side token-bucket rate limiter per (account, region, service) that
// adapts when throttled, like the SDKs' adaptive mode. Both take the injected clock: tests never
// sleep.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "aws/clock.h"
#include "aws/error.h"

namespace containctl::aws {

// True when AWS certainly did not perform the request that failed with `e`: it was throttled
// (rejected before any processing) or never left this host (DNS, connection refused, TLS
// handshake). Timeouts, connections lost after sending and 5xx answers leave it open.
bool certainly_not_processed(const Error& e);

struct RetryPolicy {
  int max_attempts = 3;
  std::chrono::milliseconds base_delay{1000};          // throttling errors: first retry waits up to this
  std::chrono::milliseconds transient_base_delay{50};  // other retryable errors (botocore's 0.05 s scale)
  std::chrono::milliseconds max_delay{20000};

  bool should_retry(const Error& e, int attempt) const { return attempt < max_attempts && e.retryable(); }
  // A call that is not idempotent (CreateAccessKey, CreateSecurityGroup without a client token)
  // is retried only when the failed attempt was certainly not processed.
  bool should_retry(const Error& e, int attempt, bool idempotent) const {
    return should_retry(e, attempt) && (idempotent || certainly_not_processed(e));
  }
  // Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))]. `unit` is in [0,1).
  std::chrono::milliseconds backoff(int attempt, double unit) const;
  // As above, with the base chosen by the error's class (throttling or not).
  std::chrono::milliseconds backoff(int attempt, double unit, const Error& e) const;
  // The upper bound backoff() draws from, for this attempt and error.
  std::chrono::milliseconds backoff_cap(int attempt, const Error& e) const;
};

// The SDKs' standard-mode retry quota: one bucket per client (500 tokens) that every retry draws
// from (5, or 10 after a timeout) and every success refills (by the last retry's cost, or 1), so
// a regional outage stops the retries of all calls instead of multiplying the load on it.
class RetryQuota {
 public:
  static constexpr int kRetryCost = 5;
  static constexpr int kTimeoutCost = 10;
  static constexpr int kSuccessRefund = 1;
  explicit RetryQuota(int capacity = 500) : capacity_(capacity), available_(capacity) {}
  // Takes the cost of retrying after `e`; 0 when the quota cannot pay for it (do not retry).
  int acquire(const Error& e);
  // A call succeeded; `last_retry_cost` is what its last retry took (0: it needed none).
  void on_success(int last_retry_cost);
  int available() const;

 private:
  int capacity_;
  mutable std::mutex mu_;
  int available_;
};

struct BucketConfig {
  double rate_per_second = 0;  // refill rate; 0 = unlimited
  double burst = 0;            // bucket size
};

// EC2's published request-token categories ("Request throttling for the Amazon EC2 API",
// Amazon EC2 Developer Guide). Limits apply per API action, each with its category's bucket.
enum class Ec2ActionCategory {
  kNonMutating,            // Describe*, List*, Search*, Get*: 100 tokens, 20/s
  kUnfilteredNonMutating,  // DescribeInstances & co. without a filter or pagination: 50, 10/s
  kMutating,               // everything else: 50, 5/s
  kResourceIntensive,      // AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress, ...: 50, 5/s
  kUncategorized,          // actions with their own figures (CreateTags 100, 10/s; RunInstances 5, 2/s; ...)
};
const char* to_string(Ec2ActionCategory category);

struct Ec2RequestBucket {
  Ec2ActionCategory category;
  BucketConfig config;
};
// The published bucket for an EC2 action. `unfiltered`: the call named no Filter.N and no
// MaxResults/NextToken (only matters for the seven actions that have an unfiltered bucket).
Ec2RequestBucket ec2_request_bucket(std::string_view action, bool unfiltered);
// True when EC2 would charge this call to the smaller unfiltered bucket.
bool ec2_has_unfiltered_bucket(std::string_view action);

// Token buckets keyed by account, region, service (and, for EC2, the action, as AWS meters them).
// acquire() waits on the clock for a token without holding the limiter's lock, so a slow or
// throttled bucket never delays a caller of another bucket.
//
// Which bucket a call uses, first match wins:
//   configure_key("account/region/service[/Operation]")  one exact bucket
//   configure_operation(service, operation)              per (account, region), that operation
//   configure(service)                                    per (account, region, service)
//   service "ec2" with ec2_defaults on                    per action, AWS's published figures
//   otherwise                                             unlimited until throttled (adaptive)
//
// Adaptive: on a throttling error the bucket's rate drops to 0.7x the rate in use (CUBIC, as the
// SDKs' adaptive mode), its burst shrinks to the rate, and on successes the rate recovers along
// the CUBIC curve, by time since the last throttle, up to the configured rate.
class RateLimiter {
 public:
  explicit RateLimiter(Clock& clock, bool ec2_defaults = true) : clock_(clock), ec2_defaults_(ec2_defaults) {}
  void configure(const std::string& service, BucketConfig config);  // default for a service
  void configure_operation(const std::string& service, const std::string& operation, BucketConfig config);
  void configure_key(const std::string& key, BucketConfig config);  // one bucket

  // Returns how long the caller waited.
  std::chrono::milliseconds acquire(const std::string& account, const std::string& region,
                                    const std::string& service);
  std::chrono::milliseconds acquire(const std::string& account, const std::string& region,
                                    const std::string& service, const std::string& operation,
                                    bool unfiltered = false);
  // The service throttled a call on this bucket: slow down (adaptive).
  void on_throttled(const std::string& account, const std::string& region, const std::string& service);
  void on_throttled(const std::string& account, const std::string& region, const std::string& service,
                    const std::string& operation, bool unfiltered = false);
  // A call on this bucket succeeded: recover towards the configured rate.
  void on_success(const std::string& account, const std::string& region, const std::string& service,
                  const std::string& operation = "", bool unfiltered = false);

  // The bucket's current refill rate and burst (rate 0 = unlimited), for tests and reports.
  BucketConfig current(const std::string& account, const std::string& region, const std::string& service,
                       const std::string& operation = "", bool unfiltered = false);
  // The key of the bucket a call would use ("123456789012/us-east-1/ec2/CreateTags").
  std::string bucket_key(const std::string& account, const std::string& region, const std::string& service,
                         const std::string& operation = "", bool unfiltered = false);

 private:
  struct Bucket {
    BucketConfig config;  // as configured (the recovery ceiling)
    double rate = 0;      // in use now (0 = unlimited)
    double burst = 0;
    double tokens = 0;
    TimePoint last{};
    bool adaptive = false;  // throttled at least once
    double w_max = 0;
    double k = 0;
    TimePoint last_throttle{};
    // Measured send rate (for buckets that had no configured rate when first throttled).
    double measured = 0;
    TimePoint window_start{};
    int window_count = 0;
  };
  struct Resolved {
    std::string key;
    BucketConfig config;
  };
  Resolved resolve(const std::string& account, const std::string& region, const std::string& service,
                   const std::string& operation, bool unfiltered) const;
  Bucket& bucket(const Resolved& r);
  void refill(Bucket& b, TimePoint now);
  void measure(Bucket& b, TimePoint now);

  Clock& clock_;
  bool ec2_defaults_;
  std::mutex mu_;
  std::map<std::string, BucketConfig> defaults_;
  std::map<std::string, BucketConfig> operations_;  // "service/Operation"
  std::map<std::string, BucketConfig> keyed_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace containctl::aws
