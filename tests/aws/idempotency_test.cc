// Idempotency tokens: the same request parts give the same token (a retry and a resumed step
// re-send it), other parts another one, always within the APIs' limits.
#include <gtest/gtest.h>

#include <regex>

#include "aws/idempotency.h"

namespace containctl::aws {
namespace {

TEST(IdempotencyToken, Ec2TokenIsDeterministicDistinctAndWithinSixtyFourAscii) {
  const std::string t = ec2_client_token({"run-20261202T010000Z-abc123", "nacl-hard-cut", "i-0123456789abcdef0"});
  EXPECT_EQ(t, ec2_client_token({"run-20261202T010000Z-abc123", "nacl-hard-cut", "i-0123456789abcdef0"}));
  EXPECT_NE(t, ec2_client_token({"run-20261202T010000Z-abc124", "nacl-hard-cut", "i-0123456789abcdef0"}));
  EXPECT_NE(t, ec2_client_token({"run-20261202T010000Z-abc123", "nacl-hard-cut", "i-0123456789abcdef1"}));
  // Parts are framed: moving a separator between them gives another token.
  EXPECT_NE(ec2_client_token({"a-b", "c"}), ec2_client_token({"a", "b-c"}));
  EXPECT_NE(ec2_client_token({"ab", ""}), ec2_client_token({"a", "b"}));
  EXPECT_TRUE(std::regex_match(t, std::regex("containctl-[0-9a-f]{48}"))) << t;
  const std::string long_parts = ec2_client_token({std::string(500, 'r'), std::string(300, 'i')});
  EXPECT_LE(long_parts.size(), 64u);
  EXPECT_TRUE(std::regex_match(long_parts, std::regex("containctl-[0-9a-f]{48}"))) << long_parts;
}

TEST(IdempotencyToken, UuidTokenIsAVersionEightUuidOfThirtySixCharacters) {
  const std::string t = uuid_token({"run-1", "create-new-key", "svc", "us-east-1", "containctl/svc-key"});
  EXPECT_EQ(t, uuid_token({"run-1", "create-new-key", "svc", "us-east-1", "containctl/svc-key"}));
  EXPECT_NE(t, uuid_token({"run-2", "create-new-key", "svc", "us-east-1", "containctl/svc-key"}));
  EXPECT_NE(t, uuid_token({"run-1", "create-new-key", "svc", "us-east-1", "containctl/other"}));
  // Secrets Manager's ClientRequestToken: 32-64 characters; a UUID as the SDKs send.
  EXPECT_TRUE(std::regex_match(t, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"))) << t;
}

}  // namespace
}  // namespace containctl::aws
