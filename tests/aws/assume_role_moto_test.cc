// AssumeRole against moto_server: the member-account call the orchestrator makes (ExternalId),
// role_arn profiles through the default chain (single and chained), and caching/refresh on a
// ManualClock. moto routes a request to the account that owns its access key, so GetCallerIdentity
// with the assumed credentials shows the target account (moto-notes.md section 5).
#include "aws/assume_role.h"

#include <gtest/gtest.h>

#include "aws/credential_chain.h"
#include "aws/curl_transport.h"
#include "tests/aws/credentials_test_support.h"
#include "tests/support/moto_server.h"

namespace containctl::aws {
namespace {

using namespace std::chrono_literals;

// Forwards to the real transport and keeps the form bodies (no secrets in them) of STS calls.
class RecordingTransport final : public HttpTransport {
 public:
  Result<HttpResponse> send(const HttpRequest& r) override {
    {
      std::lock_guard lock(mu_);
      bodies_.push_back(r.body);
    }
    return inner_.send(r);
  }
  int count(const std::string& action) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& b : bodies_) n += b.find("Action=" + action + "&") != std::string::npos;
    return n;
  }
  std::string last(const std::string& action) {
    std::lock_guard lock(mu_);
    for (auto it = bodies_.rbegin(); it != bodies_.rend(); ++it)
      if (it->find("Action=" + action + "&") != std::string::npos) return *it;
    return "";
  }

 private:
  CurlTransport inner_;
  std::mutex mu_;
  std::vector<std::string> bodies_;
};

class AssumeRoleMoto : public ::testing::Test {
 protected:
  void SetUp() override { moto().reset(); }
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }

  // GetCallerIdentity signed with `provider`'s credentials.
  std::pair<std::string, std::string> whoami(std::shared_ptr<CredentialsProvider> provider) {
    ClientConfig cfg;
    cfg.transport = transport;
    cfg.credentials = std::move(provider);
    cfg.endpoints.all = moto().url();
    cfg.retry.max_attempts = 1;
    AwsClient client(cfg);
    auto r = client.query("sts", "us-east-1", "GetCallerIdentity", {});
    EXPECT_TRUE(r.ok()) << r.error().describe();
    if (!r.ok()) return {};
    return {xml_text(r->root(), "Account"), xml_text(r->root(), "Arn")};
  }

  std::shared_ptr<RecordingTransport> transport = std::make_shared<RecordingTransport>();
};

TEST_F(AssumeRoleMoto, MemberAccountWithExternalId) {
  ClientConfig cfg;
  cfg.transport = transport;
  cfg.credentials = std::make_shared<StaticCredentialsProvider>(testing::MotoServer::default_credentials());
  cfg.endpoints.all = moto().url();
  auto source = std::make_shared<AwsClient>(cfg);
  AssumeRoleParams p;
  p.role_arn = "arn:aws:iam::222222222222:role/ContainctlContainment";
  p.external_id = "222222222222";
  p.region = "us-east-1";
  auto c = assume_role(*source, p);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_TRUE(c->access_key_id.starts_with("ASIA")) << c->access_key_id;
  EXPECT_FALSE(c->session_token.empty());
  ASSERT_TRUE(c->expiration);
  EXPECT_EQ(c->source, "assume-role:arn:aws:iam::222222222222:role/ContainctlContainment");
  EXPECT_NE(transport->last("AssumeRole").find("ExternalId=222222222222"), std::string::npos);

  auto [account, arn] = whoami(std::make_shared<StaticCredentialsProvider>(*c));
  EXPECT_EQ(account, "222222222222");
  EXPECT_EQ(arn, "arn:aws:sts::222222222222:assumed-role/ContainctlContainment/containctl");
}

TEST_F(AssumeRoleMoto, ProfileChainAssumesCrossAccountAndChains) {
  testing::AwsSandbox box;
  box.credentials("[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n");
  box.config(
      "[profile member]\n"
      "role_arn = arn:aws:iam::222222222222:role/IncidentResponder\n"
      "source_profile = base\n"
      "external_id = ext-7781\n"
      "role_session_name = ir-session\n"
      "duration_seconds = 900\n"
      "[profile deeper]\n"
      "role_arn = arn:aws:iam::333333333333:role/Second\n"
      "source_profile = member\n");
  ManualClock clock(std::chrono::system_clock::now());  // moto stamps Expiration from real time
  ChainOptions o;
  o.profile = "member";
  o.region = "us-east-1";
  o.transport = transport;
  o.clock = &clock;
  o.endpoints.all = moto().url();
  auto provider = default_credentials_provider(o);
  ASSERT_TRUE(provider.ok()) << provider.error().describe();

  auto [account, arn] = whoami(*provider);
  EXPECT_EQ(account, "222222222222");
  EXPECT_EQ(arn, "arn:aws:sts::222222222222:assumed-role/IncidentResponder/ir-session");
  std::string body = transport->last("AssumeRole");
  EXPECT_NE(body.find("ExternalId=ext-7781"), std::string::npos) << body;
  EXPECT_NE(body.find("DurationSeconds=900"), std::string::npos) << body;
  EXPECT_NE(body.find("RoleSessionName=ir-session"), std::string::npos) << body;

  // Cached until five minutes before the 15-minute expiry, then refreshed.
  EXPECT_EQ(transport->count("AssumeRole"), 1);
  ASSERT_TRUE((*provider)->credentials().ok());
  clock.advance(9min);
  ASSERT_TRUE((*provider)->credentials().ok());
  EXPECT_EQ(transport->count("AssumeRole"), 1);
  clock.advance(2min);  // about 4 minutes left
  auto refreshed = (*provider)->credentials();
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().describe();
  EXPECT_EQ(transport->count("AssumeRole"), 2);

  o.profile = "deeper";
  auto chained = default_credentials_provider(o);
  ASSERT_TRUE(chained.ok()) << chained.error().describe();
  auto [account2, arn2] = whoami(*chained);
  EXPECT_EQ(account2, "333333333333");
  EXPECT_TRUE(arn2.starts_with("arn:aws:sts::333333333333:assumed-role/Second/")) << arn2;
  EXPECT_EQ(transport->count("AssumeRole"), 4);  // member's role first, then Second with its credentials
}

TEST_F(AssumeRoleMoto, BadParametersAreRefusedBeforeAnyCall) {
  // moto accepts any RoleArn, so these are checked locally; the error names the role.
  ClientConfig cfg;
  cfg.transport = transport;
  cfg.credentials = std::make_shared<StaticCredentialsProvider>(testing::MotoServer::default_credentials());
  cfg.endpoints.all = moto().url();
  cfg.retry.max_attempts = 1;
  auto source = std::make_shared<AwsClient>(cfg);
  AssumeRoleParams bad_arn;
  bad_arn.role_arn = "not-an-arn";
  auto a = AssumeRoleProvider(source, bad_arn).credentials();
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, "InvalidRoleArn");
  EXPECT_NE(a.error().message.find("not-an-arn"), std::string::npos) << a.error().message;

  AssumeRoleParams bad_duration;
  bad_duration.role_arn = "arn:aws:iam::222222222222:role/Member";
  bad_duration.duration_seconds = 60;
  auto d = assume_role(*source, bad_duration);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("arn:aws:iam::222222222222:role/Member"), std::string::npos) << d.error().message;
  EXPECT_EQ(transport->count("AssumeRole"), 0);
}

}  // namespace
}  // namespace containctl::aws
