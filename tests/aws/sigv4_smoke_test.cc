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
