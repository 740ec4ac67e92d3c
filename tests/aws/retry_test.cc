// Standard-mode backoff: full jitter, exponential, capped at 20 s; and which errors retry.
#include <gtest/gtest.h>

#include "aws/retry.h"

namespace containctl::aws {
namespace {

using std::chrono::milliseconds;

Error err(ErrorKind kind, std::string code = "X") { return Error{kind, std::move(code), "m"}; }

TEST(RetryPolicy, FullJitterBoundsGrowExponentiallyToTheCap) {
  RetryPolicy p;
  p.max_attempts = 10;
  const Error throttled = err(ErrorKind::kThrottling, "Throttling");
  EXPECT_EQ(p.backoff_cap(1, throttled), milliseconds(1000));
  EXPECT_EQ(p.backoff_cap(2, throttled), milliseconds(2000));
  EXPECT_EQ(p.backoff_cap(5, throttled), milliseconds(16000));
  EXPECT_EQ(p.backoff_cap(6, throttled), milliseconds(20000));   // capped
  EXPECT_EQ(p.backoff_cap(30, throttled), milliseconds(20000));  // no overflow
  // Jitter spans [0, cap]: the draw scales the cap.
  EXPECT_EQ(p.backoff(3, 0.0, throttled), milliseconds(0));
  EXPECT_EQ(p.backoff(3, 0.5, throttled), milliseconds(2000));
  EXPECT_EQ(p.backoff(3, 0.999, throttled), milliseconds(3996));
  EXPECT_EQ(p.backoff(8, 0.75, throttled), milliseconds(15000));
  // Non-throttling retryable errors use botocore's smaller 50 ms scale.
  const Error transient = err(ErrorKind::kTransient, "InternalError");
  EXPECT_EQ(p.backoff_cap(1, transient), milliseconds(50));
  EXPECT_EQ(p.backoff_cap(4, transient), milliseconds(400));
  EXPECT_EQ(p.backoff_cap(20, transient), milliseconds(20000));
  // The legacy two-argument form uses base_delay.
  EXPECT_EQ(p.backoff(2, 0.5), milliseconds(1000));
}

TEST(RetryPolicy, RetriesOnlyRetryableKindsAndOnlyWithinTheBound) {
  RetryPolicy p;  // 3 attempts
  for (ErrorKind k : {ErrorKind::kThrottling, ErrorKind::kTransient, ErrorKind::kNetwork, ErrorKind::kTimeout}) {
    EXPECT_TRUE(p.should_retry(err(k), 1)) << to_string(k);
    EXPECT_TRUE(p.should_retry(err(k), 2)) << to_string(k);
    EXPECT_FALSE(p.should_retry(err(k), 3)) << to_string(k);
  }
  for (ErrorKind k : {ErrorKind::kClient, ErrorKind::kAuth, ErrorKind::kParse, ErrorKind::kInvalidInput,
                      ErrorKind::kInternal}) {
    EXPECT_FALSE(p.should_retry(err(k), 1)) << to_string(k);
  }
}

}  // namespace
}  // namespace containctl::aws
