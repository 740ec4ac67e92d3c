#include <gtest/gtest.h>

#include "aws/sigv4.h"

namespace containctl::aws {

// The IAM ListUsers request from the reference notes; botocore and aws-c-auth agree on it.
TEST(SigV4Smoke, IamListUsersMatchesReferenceSignature) {
  HttpRequest req{"GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", {}, ""};
  Credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
  SigningParams p{"us-east-1", "iam", {}};
  ASSERT_TRUE(parse_time("20150830T123600Z", p.time));
  auto r = sign_request(req, c, p);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->signature, "b2e4af44cfad96d9ffa3c5653674a927b9b0995c33de22e1f843745ce37c1d5e");
  EXPECT_EQ(r->signed_headers, "host;x-amz-date");
}

}  // namespace containctl::aws

namespace containctl::aws {

// sign_request formats X-Amz-Date itself (no gmtime/strftime on the hot path); it must agree with
// the clock's formatter across leap years, century rules and end-of-day boundaries.
TEST(SigV4Smoke, AmzDateAgreesWithClockFormatter) {
  Credentials c{"AKIDEXAMPLE", "secret"};
  for (long long s = -86400LL * 365; s < 4102444800LL; s += 86399LL * 37 + 3601) {
    SigningParams p{"us-east-1", "iam", TimePoint(std::chrono::seconds(s))};
    HttpRequest req{"GET", "https://iam.amazonaws.com/", {}, ""};
    ASSERT_TRUE(sign_request(req, c, p).ok());
    ASSERT_EQ(req.header("x-amz-date"), format_amz_date(p.time)) << s;
  }
}

// Retries re-sign the same request: the signer replaces its own headers instead of piling them up.
TEST(SigV4Smoke, ResigningReplacesAuthHeaders) {
  HttpRequest req{"POST", "https://sts.amazonaws.com/", {{"User-Agent", "containctl/0.1"}}, "Action=GetCallerIdentity"};
  Credentials c{"ASIAEXAMPLE", "secret", "token"};
  SigningParams p{"us-east-1", "sts", {}};
  ASSERT_TRUE(parse_time("20240101T000000Z", p.time));
  auto first = sign_request(req, c, p);
  ASSERT_TRUE(first.ok());
  size_t headers = req.headers.size();
  auto second = sign_request(req, c, p);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(req.headers.size(), headers);
  EXPECT_EQ(first->signature, second->signature);
  EXPECT_EQ(second->signed_headers, "host;x-amz-date;x-amz-security-token");  // never user-agent
  p.time += std::chrono::seconds(1);
  auto third = sign_request(req, c, p);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->signature, first->signature);
  EXPECT_EQ(req.header("x-amz-date"), "20240101T000001Z");
}

}  // namespace containctl::aws
