// Token buckets per (account, region, service[, EC2 action]) with AWS's published EC2 figures,
// adaptive slow-down and recovery, and isolation between accounts. Virtual time only.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <vector>
#include <thread>

#include "aws/retry.h"
#include "aws/virtual_clock.h"

namespace containctl::aws {
namespace {

using std::chrono::milliseconds;

TimePoint t0() { return TimePoint{} + std::chrono::hours(24 * 365 * 55); }

TEST(Ec2Buckets, PublishedFiguresPerCategory) {
  auto describe = ec2_request_bucket("DescribeTags", false);
  EXPECT_EQ(describe.category, Ec2ActionCategory::kNonMutating);
  EXPECT_EQ(describe.config.burst, 100);
  EXPECT_EQ(describe.config.rate_per_second, 20);

  auto unfiltered = ec2_request_bucket("DescribeInstances", true);
  EXPECT_EQ(unfiltered.category, Ec2ActionCategory::kUnfilteredNonMutating);
  EXPECT_EQ(unfiltered.config.burst, 50);
  EXPECT_EQ(unfiltered.config.rate_per_second, 10);
  EXPECT_EQ(ec2_request_bucket("DescribeInstances", false).category, Ec2ActionCategory::kNonMutating);
  // Only the seven listed actions have an unfiltered bucket.
  EXPECT_EQ(ec2_request_bucket("DescribeImages", true).category, Ec2ActionCategory::kNonMutating);

  auto mutating = ec2_request_bucket("ModifyInstanceAttribute", false);
  EXPECT_EQ(mutating.category, Ec2ActionCategory::kMutating);
  EXPECT_EQ(mutating.config.burst, 50);
  EXPECT_EQ(mutating.config.rate_per_second, 5);

  auto intensive = ec2_request_bucket("RevokeSecurityGroupIngress", false);
  EXPECT_EQ(intensive.category, Ec2ActionCategory::kResourceIntensive);
  EXPECT_EQ(intensive.config.burst, 50);
  EXPECT_EQ(intensive.config.rate_per_second, 5);

  auto tags = ec2_request_bucket("CreateTags", false);
  EXPECT_EQ(tags.category, Ec2ActionCategory::kUncategorized);
  EXPECT_EQ(tags.config.burst, 100);
  EXPECT_EQ(tags.config.rate_per_second, 10);
  auto eni = ec2_request_bucket("ModifyNetworkInterfaceAttribute", false);
  EXPECT_EQ(eni.config.burst, 100);
  EXPECT_EQ(eni.config.rate_per_second, 5);
  auto run = ec2_request_bucket("RunInstances", false);
  EXPECT_EQ(run.config.burst, 5);
  EXPECT_EQ(run.config.rate_per_second, 2);
}

TEST(RateLimiter, Ec2MutatingAndNonMutatingCallsUseSeparateBucketsWithPublishedSizes) {
  ManualClock clock(t0());
  RateLimiter limiter(clock);
  // 50 mutating calls drain the mutating bucket without waiting; the 51st waits 1/5 s.
  for (int i = 0; i < 50; ++i) EXPECT_EQ(limiter.acquire("a", "r", "ec2", "ModifyInstanceAttribute"), milliseconds(0));
  EXPECT_EQ(limiter.acquire("a", "r", "ec2", "ModifyInstanceAttribute"), milliseconds(200));
  // Non-mutating calls are unaffected and have a burst of 100.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.acquire("a", "r", "ec2", "DescribeTags"), milliseconds(0));
  EXPECT_EQ(limiter.acquire("a", "r", "ec2", "DescribeTags"), milliseconds(50));
  EXPECT_EQ(limiter.bucket_key("a", "r", "ec2", "DescribeInstances", true), "a/r/ec2/DescribeInstances#unfiltered");
  EXPECT_EQ(limiter.bucket_key("a", "r", "ec2", "DescribeInstances", false), "a/r/ec2/DescribeInstances");
}

TEST(RateLimiter, SteadyStateRateMatchesTheRefillRate) {
  ManualClock clock(t0());
  RateLimiter limiter(clock);
  limiter.configure("iam", {10, 5});
  const TimePoint start = clock.now();
  for (int i = 0; i < 105; ++i) limiter.acquire("a", "us-east-1", "iam", "DetachUserPolicy");
  // 5 from the burst, then 100 at 10/s.
  auto took = std::chrono::duration_cast<milliseconds>(clock.now() - start);
  EXPECT_GE(took, milliseconds(10000));
  EXPECT_LE(took, milliseconds(10100));
  EXPECT_EQ(limiter.bucket_key("a", "us-east-1", "iam", "DetachUserPolicy"), "a/us-east-1/iam");
}

TEST(RateLimiter, UnconfiguredServicesAreUnlimited) {
  ManualClock clock(t0());
  RateLimiter limiter(clock);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.acquire("a", "r", "iam", "ListUsers"), milliseconds(0));
  EXPECT_EQ(clock.now(), t0());
  RateLimiter no_defaults(clock, false);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(no_defaults.acquire("a", "r", "ec2", "RunInstances"), milliseconds(0));
}

TEST(RateLimiter, ConfigurationOverridesPublishedDefaults) {
  ManualClock clock(t0());
  RateLimiter limiter(clock);
  limiter.configure_operation("ec2", "CreateTags", {2, 1});
  EXPECT_EQ(limiter.acquire("a", "r", "ec2", "CreateTags"), milliseconds(0));
  EXPECT_EQ(limiter.acquire("a", "r", "ec2", "CreateTags"), milliseconds(500));
  limiter.configure_key("b/r/ec2/CreateTags", {4, 1});
  EXPECT_EQ(limiter.acquire("b", "r", "ec2", "CreateTags"), milliseconds(0));
  EXPECT_EQ(limiter.acquire("b", "r", "ec2", "CreateTags"), milliseconds(250));
  // The three-argument form keeps working: one bucket per (account, region, service).
  limiter.configure("sts", {1, 1});
  EXPECT_EQ(limiter.acquire("a", "r", "sts"), milliseconds(0));
  EXPECT_EQ(limiter.acquire("a", "r", "sts"), milliseconds(1000));
}

TEST(RateLimiter, AdaptiveDecreaseOnThrottleAndGradualCubicRecovery) {
  ManualClock clock(t0());
  RateLimiter limiter(clock);
  limiter.configure("iam", {10, 10});
  limiter.on_throttled("a", "r", "iam");
  auto after = limiter.current("a", "r", "iam");
  EXPECT_DOUBLE_EQ(after.rate_per_second, 7.0);  // x0.7 (CUBIC beta)
  EXPECT_DOUBLE_EQ(after.burst, 7.0);            // burst shrinks with the rate
  // The bucket starts empty after a throttle.
  EXPECT_EQ(limiter.acquire("a", "r", "iam"), milliseconds(143));
  // Repeated throttles keep cutting, down to the 0.5/s floor.
  for (int i = 0; i < 20; ++i) limiter.on_throttled("a", "r", "iam");
  EXPECT_DOUBLE_EQ(limiter.current("a", "r", "iam").rate_per_second, 0.5);

  limiter.configure("sts", {10, 10});
  limiter.on_throttled("a", "r", "sts");
  double previous = limiter.current("a", "r", "sts").rate_per_second;
  std::vector<double> rates;
  for (int s = 1; s <= 6; ++s) {
    clock.advance(milliseconds(500));
    limiter.on_success("a", "r", "sts");
    double rate = limiter.current("a", "r", "sts").rate_per_second;
    EXPECT_GE(rate, previous) << "recovery never goes backwards";
    EXPECT_LE(rate, 10.0) << "never above the configured rate";
    rates.push_back(rate);
    previous = rate;
  }
  // Gradual: not back to 10/s after half a second, back within three seconds (CUBIC K ~ 1.96 s).
  EXPECT_LT(rates.front(), 9.0);
  EXPECT_DOUBLE_EQ(rates.back(), 10.0);
  EXPECT_DOUBLE_EQ(limiter.current("a", "r", "sts").burst, 10.0);  // burst restored too
}

TEST(RateLimiter, UnlimitedBucketsBecomeLimitedWhenThrottled) {
  ManualClock clock(t0());
  RateLimiter limiter(clock);
  // 40 calls a second for two seconds: the limiter measures the send rate.
  for (int i = 0; i < 80; ++i) {
    limiter.acquire("a", "r", "organizations", "ListAccounts");
    clock.advance(milliseconds(25));
  }
  limiter.on_throttled("a", "r", "organizations", "ListAccounts");
  double rate = limiter.current("a", "r", "organizations").rate_per_second;
  EXPECT_NEAR(rate, 0.7 * 40, 2.0);
  EXPECT_GT(limiter.acquire("a", "r", "organizations", "ListAccounts"), milliseconds(0));
}

TEST(RateLimiter, OneAccountsThrottlingNeverSlowsAnother) {
  ManualClock clock(t0());
  RateLimiter limiter(clock);
  limiter.configure("iam", {2, 2});
  for (int i = 0; i < 10; ++i) limiter.on_throttled("victim", "us-east-1", "iam");
  EXPECT_DOUBLE_EQ(limiter.current("victim", "us-east-1", "iam").rate_per_second, 0.5);
  EXPECT_EQ(limiter.acquire("victim", "us-east-1", "iam"), milliseconds(2000));
  // The other account keeps its own full bucket and rate.
  EXPECT_EQ(limiter.acquire("bystander", "us-east-1", "iam"), milliseconds(0));
  EXPECT_EQ(limiter.acquire("bystander", "us-east-1", "iam"), milliseconds(0));
  EXPECT_DOUBLE_EQ(limiter.current("bystander", "us-east-1", "iam").rate_per_second, 2.0);
  // And another region of the same account too.
  EXPECT_EQ(limiter.acquire("victim", "eu-west-1", "iam"), milliseconds(0));
}

// A clock whose sleep blocks until the test releases it: proves a caller waiting for one bucket
// does not hold the limiter while another account's caller proceeds.
class GateClock final : public Clock {
 public:
  TimePoint now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void sleep_for(milliseconds d) override {
    std::unique_lock lock(mu_);
    ++sleepers_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    now_ += d;
  }
  void wait_for_sleeper() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return sleepers_ > 0; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  TimePoint now_ = t0();
  int sleepers_ = 0;
  bool open_ = false;
};

TEST(RateLimiter, AWaitingCallerDoesNotBlockOtherAccounts) {
  GateClock clock;
  RateLimiter limiter(clock);
  limiter.configure("ec2", {1, 1});
  limiter.acquire("slow", "r", "ec2");  // empties slow's bucket
  std::thread waiter([&] { limiter.acquire("slow", "r", "ec2"); });
  clock.wait_for_sleeper();  // the waiter is now blocked inside acquire()
  // Another account gets its token while the first is still waiting.
  EXPECT_EQ(limiter.acquire("fast", "r", "ec2"), milliseconds(0));
  limiter.on_throttled("fast", "r", "ec2");
  EXPECT_EQ(limiter.current("fast", "r", "ec2").rate_per_second, 0.7);
  clock.open();
  waiter.join();
}


// Counts how often callers sleep: one sleep per waiting caller, not one per waiter per token.
class CountingClock final : public Clock {
 public:
  explicit CountingClock(TimePoint start) : inner_(start) {}
  TimePoint now() const override { return inner_.now(); }
  void sleep_for(milliseconds d) override {
    ++sleeps_;
    inner_.sleep_for(d);
  }
  void thread_enter() override { inner_.thread_enter(); }
  void thread_leave() override { inner_.thread_leave(); }
  int sleeps() const { return sleeps_.load(); }

 private:
  VirtualClock inner_;
  std::atomic<int> sleeps_{0};
};

TEST(RateLimiter, WaitersWakeOncePerTokenNotAllAtOnce) {
  CountingClock clock(t0());
  RateLimiter limiter(clock);
  limiter.configure("ec2", {10, 1});
  constexpr int kWaiters = 40;
  std::vector<std::thread> threads;
  std::atomic<long long> total_wait{0};
  for (int i = 0; i < kWaiters; ++i) clock.thread_enter();
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      total_wait += limiter.acquire("a", "r", "ec2").count();
      clock.thread_leave();
    });
  }
  for (auto& t : threads) t.join();
  // One token is in the bucket; each of the other 39 sleeps exactly once, until its own token.
  EXPECT_EQ(clock.sleeps(), kWaiters - 1);
  // The rate still holds: the last caller got its token 3.9 s after the first.
  EXPECT_EQ(clock.now() - t0(), milliseconds(3900));
  EXPECT_EQ(total_wait.load(), 100LL * (kWaiters - 1) * kWaiters / 2);
}

}  // namespace
}  // namespace containctl::aws
