// sts:AssumeRole as a credentials provider: cached, and refreshed before expiry.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/client.h"

namespace containctl::aws {

struct AssumeRoleParams {
  std::string role_arn;
  std::string external_id;   // empty: none sent
  std::string session_name = "containctl";
  int duration_seconds = 3600;
  std::string region;        // where STS is called (regional endpoint)
};

class AssumeRoleProvider final : public CredentialsProvider {
 public:
  // `source` signs the AssumeRole call; it must outlive this provider.
  AssumeRoleProvider(std::shared_ptr<AwsClient> source, AssumeRoleParams params);
  Result<Credentials> credentials() override;
  // The client whose credentials sign AssumeRole (the source profile): part of containctl's own
  // identity chain, never to be contained.
  const std::shared_ptr<AwsClient>& source_client() const { return source_; }
  const AssumeRoleParams& params() const { return params_; }

 private:
  std::shared_ptr<AwsClient> source_;
  AssumeRoleParams params_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// Calls AssumeRole once (no cache). Errors name the role.
Result<Credentials> assume_role(AwsClient& source, const AssumeRoleParams& params);

}  // namespace containctl::aws
