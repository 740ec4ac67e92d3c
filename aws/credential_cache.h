// Caching for providers whose credentials expire (AssumeRole, credential_process, container and
// instance metadata): serve the cached value until `refresh_margin` before expiry, then fetch
// again; if that refresh fails while the old credentials are still valid for `grace` more, keep
// using them (and say so at warn level) rather than failing a containment run mid-way.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "aws/clock.h"
#include "aws/credentials.h"

namespace containctl::aws {

using CredentialsFetch = std::function<Result<Credentials>()>;

struct RefreshPolicy {
  std::chrono::seconds refresh_margin{300};  // refresh this long before expiry (the SDKs use 5-15 min)
  std::chrono::seconds grace{60};            // an old value still usable when a refresh fails
};

// The cache step shared by every refreshing provider. `description` names the source in messages.
// Not thread-safe by itself: callers hold their own lock.
Result<Credentials> refresh_cached(std::optional<Credentials>& cached, const Clock& clock,
                                   const CredentialsFetch& fetch, const std::string& description,
                                   const RefreshPolicy& policy = {});

class RefreshingCredentialsProvider final : public CredentialsProvider {
 public:
  RefreshingCredentialsProvider(std::string description, CredentialsFetch fetch, Clock* clock,
                                RefreshPolicy policy = {})
      : description_(std::move(description)), fetch_(std::move(fetch)), clock_(clock), policy_(policy) {}
  Result<Credentials> credentials() override;
  const std::string& description() const { return description_; }

 private:
  std::string description_;
  CredentialsFetch fetch_;
  Clock* clock_;
  RefreshPolicy policy_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

}  // namespace containctl::aws
