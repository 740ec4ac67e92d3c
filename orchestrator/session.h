// Turns global options into working AWS clients: region, endpoint overrides, the credential
// chain, the shared transport, and (per target account) AssumeRole into the member role.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "actions/action.h"
#include "aws/client.h"
#include "orchestrator/cli_common.h"

namespace containctl::orch {

// --state-dir, $CONTAINCTL_STATE_DIR, $XDG_STATE_HOME/containctl, ~/.local/state/containctl.
std::string resolve_state_dir(const GlobalOptions& g);
// --settings, $CONTAINCTL_SETTINGS, <state-dir>/settings.json.
std::string resolve_settings_path(const GlobalOptions& g);
// True when --settings or $CONTAINCTL_SETTINGS names the settings (a file named on purpose must
// exist; only the default <state-dir>/settings.json may be absent, meaning mode none).
bool settings_named_explicitly(const GlobalOptions& g);

// Says on stderr that a call is being retried (service, operation, region, AWS's error code, the
// wait): printed on a terminal, an info log line otherwise. Never a message or a request value.
void report_retry(const aws::RetryNotice& notice);
// The HTTP timeouts of --connect-timeout/--read-timeout, and a "still waiting" line every few
// seconds of an unanswered request when stderr is a terminal.
aws::TransportOptions transport_options(const GlobalOptions& g);

class Session {
 public:
  static Result<std::unique_ptr<Session>> open(const GlobalOptions& g);

  const std::string& region() const { return region_; }
  // The client for the caller's own account.
  aws::AwsClient& client() { return *client_; }
  // sts:GetCallerIdentity, cached.
  Result<actions::Identity> caller();
  // A client acting in `account`: the caller's own client when it is the caller's account,
  // otherwise AssumeRole into arn:PARTITION:iam::ACCOUNT:role/ROLE with ExternalId = ACCOUNT.
  Result<aws::AwsClient*> client_for_account(const std::string& account, const std::string& partition,
                                             const std::string& role_name);
  // Observer for every call of every client this session makes (the audit log).
  void set_observer(aws::CallObserver observer);
  const aws::ClientConfig& base_config() const { return base_; }
  // The rate limiter every client of this session shares.
  aws::RateLimiter& limiter() { return *base_.limiter; }

 private:
  std::string region_;
  aws::ClientConfig base_;
  std::shared_ptr<aws::AwsClient> client_;
  std::optional<actions::Identity> caller_;
  std::map<std::string, std::unique_ptr<aws::AwsClient>> member_clients_;  // by account
  std::mutex mu_;
};

}  // namespace containctl::orch
