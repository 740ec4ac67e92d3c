// A simulated AWS for the scale simulation: a virtual clock shared by many real threads, and a
// transport that answers like EC2, IAM/STS and S3 do under load (latency drawn from a
// distribution, server-side token buckets per (account, region, service[, EC2 action]) answering
// with the real throttling errors, transient 5xx at a set rate). Nothing sleeps: time is virtual.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "aws/virtual_clock.h"
#include "aws/http.h"
#include "aws/retry.h"

namespace containctl::aws {

struct SimConfig {
  // Per-call latency: log-normal with this median and sigma (of the underlying normal), split
  // evenly before and after the server meters the call.
  double latency_median_ms = 60;
  double latency_sigma = 0.35;
  double transient_rate = 0.005;  // share of metered calls answered 500/503
  // Server-side buckets. EC2 uses AWS's published request-token figures per action; IAM and STS
  // are metered per account (AWS does not publish figures; these are conservative); S3 per
  // (account, region).
  BucketConfig iam{20, 40};
  BucketConfig sts{50, 100};
  BucketConfig s3{100, 200};
  uint64_t seed = 42;
};

// A service the simulation answers with content and meters itself (the scale simulation's team
// store: tests/support/sim_team_store.h). SimTransport still draws the latency around it.
class SimService {
 public:
  virtual ~SimService() = default;
  // Whether this service answers the call (account and service from the credential scope).
  virtual bool handles(const std::string& account, const std::string& service, const HttpRequest& request) const = 0;
  // The median latency to draw for this call.
  virtual double latency_median_ms(const std::string& service, const HttpRequest& request) const = 0;
  // Answers at virtual time `now` (a throttling error when over its limits). Called without the
  // transport's lock held; the service synchronises itself.
  struct Answer {
    HttpResponse response;
    bool throttled = false;  // over a limit (counted as throttled in SimStats)
  };
  virtual Answer answer(const std::string& service, const HttpRequest& request, TimePoint now) = 0;
};

struct SimBucketStats {
  BucketConfig config;
  long ok = 0;         // calls answered 2xx (the work that had to go through this bucket)
  long throttled = 0;  // calls answered with the throttling error
};

struct SimStats {
  long calls = 0;
  long ok = 0;
  long throttled = 0;
  long transient = 0;
  double latency_sum_ms = 0;  // over ok calls
  std::map<std::string, SimBucketStats> buckets;
};

// Answers signed requests. Account = characters 5-16 of the access key id (the simulation's
// clients use "AKIA" + account + "SIMK"); region and service come from the credential scope.
class SimTransport final : public HttpTransport {
 public:
  SimTransport(VirtualClock& clock, SimConfig config) : clock_(clock), config_(config), rng_(config.seed) {}
  Result<HttpResponse> send(const HttpRequest& request) override;
  SimStats stats() const;
  // Calls this service handles bypass the generic buckets and success answers.
  void add_service(std::shared_ptr<SimService> service) { services_.push_back(std::move(service)); }
  static std::string access_key_for(const std::string& account) { return "AKIA" + account + "SIMK"; }
  // Sum of the latencies of the 2xx calls this thread has made (the unavoidable part of a chain
  // of calls, for critical-path bounds); reset by the caller.
  static double& thread_latency_ms();

 private:
  struct ServerBucket {
    BucketConfig config;
    double tokens = 0;
    TimePoint last{};
    bool init = false;
  };
  struct Call {
    std::string account, region, service, action, bucket_key;
    BucketConfig config;
  };
  Call classify(const HttpRequest& request) const;
  bool take_token(const Call& call);
  HttpResponse throttled(const Call& call) const;
  HttpResponse transient(const Call& call) const;
  HttpResponse success(const Call& call) const;

  VirtualClock& clock_;
  SimConfig config_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, ServerBucket> server_;
  SimStats stats_;
  std::vector<std::shared_ptr<SimService>> services_;  // set before the run; read-only while it goes
};

}  // namespace containctl::aws
