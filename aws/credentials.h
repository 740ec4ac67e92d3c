// Credentials and the provider interface. The chain (environment, shared files, role_arn,
// credential_process, container, instance metadata) lives in credential_chain.h.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "aws/clock.h"
#include "aws/result.h"

namespace containctl::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged, never printed
  std::string session_token;      // never logged, never printed
  std::optional<TimePoint> expiration;
  std::string source;  // "environment", "profile:x", "assume-role:arn", ... (no secrets)

  bool empty() const { return access_key_id.empty() || secret_access_key.empty(); }
  // True when the credentials expire within `margin` of `now`.
  bool expiring(TimePoint now, std::chrono::seconds margin) const {
    return expiration && *expiration - margin <= now;
  }
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual Result<Credentials> credentials() = 0;
};

// Always returns the same credentials (tests, and credentials obtained by AssumeRole elsewhere).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> credentials() override { return c_; }

 private:
  Credentials c_;
};

}  // namespace containctl::aws
