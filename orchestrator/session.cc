#include "orchestrator/session.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "aws/arn.h"
#include "aws/assume_role.h"
#include "aws/credential_chain.h"
#include "aws/curl_transport.h"

namespace containctl::orch {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string resolve_state_dir(const GlobalOptions& g) {
  if (!g.state_dir.empty()) return g.state_dir;
  if (auto v = env("CONTAINCTL_STATE_DIR"); !v.empty()) return v;
  if (auto v = env("XDG_STATE_HOME"); !v.empty()) return v + "/containctl";
  return env("HOME") + "/.local/state/containctl";
}

std::string resolve_settings_path(const GlobalOptions& g) {
  if (!g.settings.empty()) return g.settings;
  if (auto v = env("CONTAINCTL_SETTINGS"); !v.empty()) return v;
  return resolve_state_dir(g) + "/settings.json";
}

void report_retry(const aws::RetryNotice& n) {
  char wait[32];
  std::snprintf(wait, sizeof wait, "%.1f", static_cast<double>(n.delay.count()) / 1000.0);
  const std::string line = n.service + " " + n.operation + " (" + n.region + "): " + n.error_code +
                           (n.throttled ? " (throttled)" : "") + "; retrying in " + wait + " s (attempt " +
                           std::to_string(n.attempt + 1) + " of " + std::to_string(n.max_attempts) + ")";
  // On a terminal the responder sees it whatever the log level; otherwise it is an info log line.
  if (::isatty(STDERR_FILENO) && !spdlog::should_log(spdlog::level::info))
    std::cerr << "containctl: " << line << std::endl;
  else
    spdlog::info("{}", line);
}

aws::TransportOptions transport_options(const GlobalOptions& g) {
  aws::TransportOptions t;
  auto ms = [](double seconds) { return std::chrono::milliseconds(static_cast<long long>(seconds * 1000)); };
  if (g.connect_timeout >= 0) t.connect_timeout = ms(g.connect_timeout);
  if (g.read_timeout >= 0) t.total_timeout = ms(g.read_timeout);
  // A request AWS has not answered yet says so every few seconds on a terminal: never a silent minute.
  if (::isatty(STDERR_FILENO))
    t.on_slow = [](const std::string& what, std::chrono::seconds waited) {
      std::cerr << "containctl: still waiting for AWS (" << what << "): " << waited.count() << " s" << std::endl;
    };
  return t;
}

bool settings_named_explicitly(const GlobalOptions& g) { return !g.settings.empty() || !env("CONTAINCTL_SETTINGS").empty(); }

Result<std::unique_ptr<Session>> Session::open(const GlobalOptions& g) {
  auto s = std::make_unique<Session>();
  std::string profile = !g.profile.empty() ? g.profile : env("AWS_PROFILE");
  s->region_ = aws::resolve_region(g.region, profile);
  CC_TRY(aws::partition_for_region(s->region_));
  s->base_.transport = std::make_shared<aws::CurlTransport>(transport_options(g));
  s->base_.on_retry = report_retry;
  // One limiter for every client of the run, so calls to one account's buckets are paced together
  // whichever target makes them (EC2's published figures by default; the rest from settings).
  s->base_.limiter = std::make_shared<aws::RateLimiter>(*s->base_.clock, true);
  s->base_.endpoints = aws::EndpointOverrides::from_environment(g.endpoint_url, profile);
  aws::ChainOptions chain{profile, s->region_, s->base_.transport, s->base_.clock, s->base_.endpoints};
  CC_ASSIGN(s->base_.credentials, aws::default_credentials_provider(chain));
  s->client_ = std::make_shared<aws::AwsClient>(s->base_);
  return s;
}

void Session::set_observer(aws::CallObserver observer) {
  base_.observer = std::move(observer);
  client_ = std::make_shared<aws::AwsClient>(base_);
  member_clients_.clear();
}

namespace {

// The links behind the session's credentials (issue 13: never contain any link of containctl's own
// identity). Each source profile behind an assumed role is asked who it is (GetCallerIdentity with
// its own credentials: AWS's answer, not the config file's); instance-metadata credentials name
// their role, and AWS names their session after the instance id.
Status resolve_chain(const std::shared_ptr<aws::CredentialsProvider>& provider, const std::string& region,
                     const aws::Credentials& current, actions::Identity& id) {
  auto caller = aws::parse_arn(id.arn);
  if (current.source.starts_with("instance-metadata:") && caller.ok() &&
      caller->kind == aws::ArnKind::kStsAssumedRole) {
    auto instance = aws::ec2_instance_arn(caller->partition, region, caller->account, caller->session);
    if (instance.ok()) id.chain.push_back({instance->str(), "", "the instance whose metadata serves the credentials"});
  }
  std::shared_ptr<aws::CredentialsProvider> p = provider;
  for (int depth = 0; depth < 10 && p; ++depth) {
    auto* assumed = dynamic_cast<aws::AssumeRoleProvider*>(p.get());
    if (!assumed) break;
    id.chain.push_back({assumed->params().role_arn, "", "the role the profile assumes"});
    aws::AwsClient& source = *assumed->source_client();
    CC_ASSIGN(aws::XmlResponse who, source.query("sts", region, "GetCallerIdentity", {}));
    CC_ASSIGN(aws::Credentials source_creds, source.config().credentials->credentials());
    std::string arn = aws::xml_text(who.root(), "Arn");
    if (auto parsed = aws::parse_arn(arn); parsed.ok()) arn = aws::principal_of(*parsed).str();
    // A session token means temporary credentials: their key dies with them; a long-term key
    // (no token) is the source user's and must never be deactivated.
    id.chain.push_back({arn, source_creds.session_token.empty() ? source_creds.access_key_id : "",
                        "the source identity behind role " + assumed->params().role_arn});
    p = source.config().credentials;
  }
  return Ok{};
}

}  // namespace

Result<actions::Identity> Session::caller() {
  std::lock_guard lock(mu_);
  if (caller_) return *caller_;
  CC_ASSIGN(aws::XmlResponse r, client_->query("sts", region_, "GetCallerIdentity", {}));
  actions::Identity id;
  id.account = aws::xml_text(r.root(), "Account");
  id.arn = aws::xml_text(r.root(), "Arn");
  id.user_id = aws::xml_text(r.root(), "UserId");
  CC_ASSIGN(aws::Credentials creds, base_.credentials->credentials());
  id.access_key_id = creds.access_key_id;
  if (id.account.empty() || id.arn.empty())
    return Error{ErrorKind::kParse, "UnparseableResponse", "GetCallerIdentity returned no account or ARN"};
  CC_TRY(resolve_chain(base_.credentials, region_, creds, id));
  base_.account_id = id.account;
  client_ = std::make_shared<aws::AwsClient>(base_);
  caller_ = id;
  return id;
}

Result<aws::AwsClient*> Session::client_for_account(const std::string& account, const std::string& partition,
                                                    const std::string& role_name) {
  CC_ASSIGN(actions::Identity me, caller());
  std::lock_guard lock(mu_);
  if (account.empty() || account == me.account) return client_.get();
  if (auto it = member_clients_.find(account); it != member_clients_.end()) return it->second.get();
  if (role_name.empty())
    return Error::invalid("target is in account " + account + " but no member_role_name is configured");
  auto role = aws::iam_arn(partition, account, aws::ArnKind::kIamRole, role_name);
  if (!role.ok())
    return Error::invalid("member_role_name '" + role_name + "' does not make a role ARN in account " + account + ": " +
                          role.error().message);
  aws::AssumeRoleParams p;
  p.role_arn = role->str();
  p.external_id = account;  // as AWS's containment role requires: ExternalId = the member account id
  p.session_name = "containctl";
  p.region = region_;
  auto provider = std::make_shared<aws::AssumeRoleProvider>(client_, p);
  CC_TRY(provider->credentials());  // fail now, naming the role, rather than on the first call
  aws::ClientConfig cfg = base_;
  cfg.credentials = provider;
  cfg.account_id = account;
  auto client = std::make_unique<aws::AwsClient>(cfg);
  aws::AwsClient* raw = client.get();
  member_clients_[account] = std::move(client);
  return raw;
}

}  // namespace containctl::orch
