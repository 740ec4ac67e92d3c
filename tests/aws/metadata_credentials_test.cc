// Container credentials and EC2 instance metadata (IMDSv2), against a scripted transport, plus
// one check with the real transport that a missing IMDS (a closed loopback port) fails fast.
#include "aws/metadata_credentials.h"

#include <gtest/gtest.h>

#include "aws/credential_chain.h"
#include "tests/aws/credentials_test_support.h"
#include "tests/support/moto_server.h"

namespace containctl::aws {
namespace {

using namespace std::chrono_literals;

const TimePoint kNow = [] {
  TimePoint t;
  parse_time("2030-01-01T12:00:00Z", t);
  return t;
}();

constexpr const char* kSecret = "metaSECRETwJalrXUtnFEMIK7MDENG";
constexpr const char* kToken = "metaTOKENIQoJb3JpZ2luX2Vj";

std::string creds_doc(const std::string& expiration = "2030-01-01T18:00:00Z") {
  return std::string("{\"Code\": \"Success\", \"Type\": \"AWS-HMAC\", \"AccessKeyId\": \"ASIAMETA\", ") +
         "\"SecretAccessKey\": \"" + kSecret + "\", \"Token\": \"" + kToken + "\", \"Expiration\": \"" + expiration +
         "\"}";
}

class ContainerCredentials : public ::testing::Test {
 protected:
  testing::AwsSandbox box;
  ManualClock clock{kNow};
};

TEST_F(ContainerCredentials, RelativeUriGoesToTheEcsHostWithTheToken) {
  box.env.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
  box.env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic c2VjcmV0");
  auto ep = container_endpoint_from_environment();
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "http://169.254.170.2/v2/credentials/abc");
  testing::ScriptedTransport t([](const HttpRequest&) { return testing::http(200, creds_doc()); });
  auto c = fetch_container_credentials(*ep, t);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIAMETA");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, kToken);
  EXPECT_EQ(format_iso8601(*c->expiration), "2030-01-01T18:00:00Z");
  ASSERT_EQ(t.requests.size(), 1u);
  EXPECT_EQ(t.requests[0].method, "GET");
  EXPECT_EQ(t.requests[0].url, "http://169.254.170.2/v2/credentials/abc");
  EXPECT_EQ(t.requests[0].header("Authorization"), "Basic c2VjcmV0");
}

TEST_F(ContainerCredentials, TokenFileWinsAndIsReadOnEveryRefresh) {
  std::string file = box.dir() + "/token";
  testing::write_file(file, "from-file-1\n");
  box.env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9911/creds");
  box.env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "from-env");
  box.env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file);
  auto ep = container_endpoint_from_environment();
  ASSERT_TRUE(ep.ok()) << ep.error().describe();
  auto t = std::make_shared<testing::ScriptedTransport>(
      [](const HttpRequest&) { return testing::http(200, creds_doc("2030-01-01T13:00:00Z")); });
  auto provider = make_container_provider(*ep, t, &clock);
  ASSERT_TRUE(provider->credentials().ok());
  ASSERT_TRUE(provider->credentials().ok());
  ASSERT_EQ(t->requests.size(), 1u);  // cached
  EXPECT_EQ(t->requests[0].header("Authorization"), "from-file-1");
  testing::write_file(file, "from-file-2");
  clock.advance(56min);
  ASSERT_TRUE(provider->credentials().ok());
  ASSERT_EQ(t->requests.size(), 2u);
  EXPECT_EQ(t->requests[1].header("Authorization"), "from-file-2");
}

TEST_F(ContainerCredentials, FullUriMustBeLoopbackOrHttps) {
  for (const char* ok :
       {"http://127.0.0.1/c", "http://127.1.2.3:8080/c", "http://localhost/c", "http://[::1]:80/c",
        "http://169.254.170.2/c", "http://169.254.170.23/v1/credentials", "https://creds.example.com/c"}) {
    box.env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok);
    auto ep = container_endpoint_from_environment();
    EXPECT_TRUE(ep.ok()) << ok << ": " << ep.error().describe();
  }
  for (const char* bad :
       {"http://10.0.0.5/creds", "http://169.254.169.254/latest", "http://evil.example.com/c", "http://128.0.0.1/c"}) {
    box.env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad);
    auto ep = container_endpoint_from_environment();
    ASSERT_FALSE(ep.ok()) << bad;
    EXPECT_NE(ep.error().message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI host"), std::string::npos)
        << ep.error().message;
  }
  box.env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "not a url");
  auto malformed = container_endpoint_from_environment();
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.error().message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos);
}

TEST_F(ContainerCredentials, ErrorsNameTheEndpointAndProblem) {
  ContainerEndpoint ep{"http://127.0.0.1:9/creds", "", ""};
  testing::ScriptedTransport denied(
      [](const HttpRequest&) { return testing::http(403, "{\"code\":\"AccessDenied\"}"); });
  auto a = fetch_container_credentials(ep, denied);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("http://127.0.0.1:9/creds"), std::string::npos) << a.error().message;
  EXPECT_NE(a.error().message.find("HTTP 403"), std::string::npos);

  testing::ScriptedTransport garbage([](const HttpRequest&) { return testing::http(200, "<html>"); });
  auto b = fetch_container_credentials(ep, garbage);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, ErrorKind::kParse);
  EXPECT_NE(b.error().message.find("not a JSON object"), std::string::npos);

  testing::ScriptedTransport down([](const HttpRequest&) -> Result<HttpResponse> {
    return Error{ErrorKind::kNetwork, "ConnectFailed", "Couldn't connect to server"};
  });
  auto c = fetch_container_credentials(ep, down);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(down.requests.size(), 2u);  // one retry
  EXPECT_NE(c.error().message.find("unreachable"), std::string::npos);

  ContainerEndpoint injected{"http://127.0.0.1:9/creds", "tok\r\nX-Evil: 1", ""};
  auto d = fetch_container_credentials(injected, garbage);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("line break"), std::string::npos);
}

TEST_F(ContainerCredentials, ChainUsesTheContainerAfterProfiles) {
  box.env.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/xyz");
  auto t =
      std::make_shared<testing::ScriptedTransport>([](const HttpRequest&) { return testing::http(200, creds_doc()); });
  ChainOptions o;
  o.clock = &clock;
  o.metadata_transport = t;
  auto p = default_credentials_provider(o);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  auto c = (*p)->credentials();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->source, "container");
  EXPECT_EQ(t->requests.size(), 1u);  // fetched once at start-up, then cached
}

// --- instance metadata ---------------------------------------------------------------------

// A fake IMDS: token, role list and role credentials; counts calls.
struct FakeImds {
  int token_status = 200;
  std::string role = "ir-instance-role";
  std::string doc = creds_doc();
  Result<HttpResponse> operator()(const HttpRequest& r) const {
    const std::string base = "http://127.0.0.1:1338";
    if (r.method == "PUT" && r.url == base + "/latest/api/token") {
      if (r.header("x-aws-ec2-metadata-token-ttl-seconds") != "21600") return testing::http(400, "missing TTL");
      return testing::http(token_status, token_status == 200 ? "imds-session-token" : "");
    }
    bool v2 = r.header("x-aws-ec2-metadata-token") == "imds-session-token";
    if (token_status == 200 && !v2) return testing::http(401, "");
    if (r.method == "GET" && r.url == base + "/latest/meta-data/iam/security-credentials/")
      return role.empty() ? testing::http(404, "") : testing::http(200, role + "\n");
    if (r.method == "GET" && r.url == base + "/latest/meta-data/iam/security-credentials/" + role)
      return testing::http(200, doc);
    return testing::http(404, "");
  }
};

class InstanceMetadata : public ::testing::Test {
 protected:
  void SetUp() override {
    box.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/");
    box.env.unset("AWS_EC2_METADATA_DISABLED");
  }
  testing::AwsSandbox box;
  ManualClock clock{kNow};
};

TEST_F(InstanceMetadata, TokenThenRoleThenCredentials) {
  FakeImds imds;
  testing::ScriptedTransport t(std::cref(imds));
  auto cfg = imds_config_from_environment();
  EXPECT_EQ(cfg.endpoint, "http://127.0.0.1:1338");
  auto c = fetch_imds_credentials(cfg, t);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIAMETA");
  EXPECT_EQ(c->session_token, kToken);
  EXPECT_EQ(c->source, "instance-metadata:ir-instance-role");
  ASSERT_EQ(t.requests.size(), 3u);
  EXPECT_EQ(t.requests[0].method, "PUT");
  EXPECT_EQ(t.requests[1].header("x-aws-ec2-metadata-token"), "imds-session-token");
  EXPECT_EQ(t.requests[2].header("x-aws-ec2-metadata-token"), "imds-session-token");
}

TEST_F(InstanceMetadata, FallsBackToV1UnlessDisabled) {
  FakeImds imds;
  imds.token_status = 405;
  testing::ScriptedTransport t(std::cref(imds));
  auto c = fetch_imds_credentials(imds_config_from_environment(), t);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_TRUE(t.requests[1].header("x-aws-ec2-metadata-token").empty());

  box.env.set("AWS_EC2_METADATA_V1_DISABLED", "true");
  auto refused = fetch_imds_credentials(imds_config_from_environment(), t);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("token request answered HTTP 405"), std::string::npos)
      << refused.error().message;
}

TEST_F(InstanceMetadata, NoRoleAndBadDocumentsAreNamed) {
  FakeImds imds;
  imds.role = "";
  testing::ScriptedTransport t(std::cref(imds));
  auto none = fetch_imds_credentials(imds_config_from_environment(), t);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no IAM role is attached"), std::string::npos);
  EXPECT_NE(none.error().message.find("instance metadata at http://127.0.0.1:1338"), std::string::npos);

  FakeImds bad;
  bad.doc = "{\"Code\": \"Success\", \"AccessKeyId\": \"A\"}";
  testing::ScriptedTransport t2(std::cref(bad));
  auto partial = fetch_imds_credentials(imds_config_from_environment(), t2);
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.error().message.find("no SecretAccessKey"), std::string::npos);

  FakeImds failing;
  failing.doc = "{\"Code\": \"AssumeRoleUnauthorizedAccess\"}";
  testing::ScriptedTransport t3(std::cref(failing));
  auto code = fetch_imds_credentials(imds_config_from_environment(), t3);
  ASSERT_FALSE(code.ok());
  EXPECT_NE(code.error().message.find("AssumeRoleUnauthorizedAccess"), std::string::npos);
}

TEST_F(InstanceMetadata, ProviderRefreshesBeforeExpiry) {
  FakeImds imds;
  imds.doc = creds_doc("2030-01-01T12:30:00Z");
  auto t = std::make_shared<testing::ScriptedTransport>(std::cref(imds));
  auto provider = make_imds_provider(imds_config_from_environment(), t, &clock);
  ASSERT_TRUE(provider->credentials().ok());
  clock.advance(20min);
  ASSERT_TRUE(provider->credentials().ok());
  EXPECT_EQ(t->requests.size(), 3u);
  clock.advance(6min);  // 4 minutes left
  imds.doc = creds_doc("2030-01-01T18:00:00Z");
  auto c = provider->credentials();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(t->requests.size(), 6u);
  EXPECT_EQ(format_iso8601(*c->expiration), "2030-01-01T18:00:00Z");
}

TEST_F(InstanceMetadata, ChainFallsThroughToImdsAndListsWhatWasTriedWhenItFails) {
  FakeImds imds;
  auto t = std::make_shared<testing::ScriptedTransport>(std::cref(imds));
  ChainOptions o;
  o.clock = &clock;
  o.metadata_transport = t;
  auto p = default_credentials_provider(o);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ((*p)->credentials()->source, "instance-metadata:ir-instance-role");

  imds.role = "";
  auto none = default_credentials_provider(o);
  ASSERT_FALSE(none.ok());
  const std::string& m = none.error().message;
  EXPECT_EQ(none.error().code, "NoCredentials");
  EXPECT_NE(m.find("environment"), std::string::npos) << m;
  EXPECT_NE(m.find("profile 'default'"), std::string::npos) << m;
  EXPECT_NE(m.find("container credentials"), std::string::npos) << m;
  EXPECT_NE(m.find("no IAM role is attached"), std::string::npos) << m;
}

TEST_F(InstanceMetadata, DisabledIsSkippedAndSaidSo) {
  box.env.set("AWS_EC2_METADATA_DISABLED", "true");
  auto t = std::make_shared<testing::ScriptedTransport>(FakeImds{});
  ChainOptions o;
  o.clock = &clock;
  o.metadata_transport = t;
  auto none = default_credentials_provider(o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("disabled by AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_TRUE(t->requests.empty());
}

TEST_F(InstanceMetadata, MissingImdsFailsFastWithTheRealTransport) {
  // A loopback port nobody listens on: the connection is refused at once.
  box.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(testing::free_port()));
  ChainOptions o;
  o.clock = &clock;  // metadata_transport left null: the chain makes its short-timeout one
  auto start = std::chrono::steady_clock::now();
  auto none = default_credentials_provider(o);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("unreachable"), std::string::npos) << none.error().message;
}

}  // namespace
}  // namespace containctl::aws
