#include "aws/credential_cache.h"

#include <spdlog/spdlog.h>

namespace containctl::aws {

Result<Credentials> refresh_cached(std::optional<Credentials>& cached, const Clock& clock,
                                   const CredentialsFetch& fetch, const std::string& description,
                                   const RefreshPolicy& policy) {
  const TimePoint now = clock.now();
  if (cached && !cached->expiring(now, policy.refresh_margin)) return *cached;
  Result<Credentials> fresh = fetch();
  if (fresh.ok()) {
    if (fresh->expiration && *fresh->expiration <= now)
      return Error{ErrorKind::kAuth, "ExpiredCredentials",
                   description + " returned credentials that expired at " + format_iso8601(*fresh->expiration)};
    spdlog::debug("credentials from {} {}; expire {}", description, cached ? "refreshed" : "loaded",
                  fresh->expiration ? format_iso8601(*fresh->expiration) : std::string("never"));
    cached = *fresh;
    return fresh;
  }
  if (cached && (!cached->expiration || *cached->expiration - policy.grace > now)) {
    spdlog::warn("refreshing credentials from {} failed ({}); using the current ones until {}", description,
                 fresh.error().message,
                 cached->expiration ? format_iso8601(*cached->expiration) : std::string("they expire"));
    return *cached;
  }
  return fresh.error();
}

Result<Credentials> RefreshingCredentialsProvider::credentials() {
  std::lock_guard lock(mu_);
  return refresh_cached(cached_, *clock_, fetch_, description_, policy_);
}

}  // namespace containctl::aws
