// Canary: with logging at trace, run successful and failing calls (auth error, network error,
// parse error, retries) with a canary secret key and session token, and prove that neither
// canary, no signature and no Authorization value reaches any log line, error message,
// describe() or call record.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <sstream>

#include "aws/client.h"
#include "aws/curl_transport.h"
#include "tests/support/fake_transport.h"
#include "tests/support/moto_server.h"

namespace containctl::aws {
namespace {

const std::string kSecretCanary = "CANARYsecretKEY0123456789abcdefSECRET";
const std::string kTokenCanary = "CANARYsessionTOKEN9876543210zyxwvTOKEN";

Credentials canary_credentials() {
  Credentials c;
  c.access_key_id = "ASIACANARYACCESSKEY1";
  c.secret_access_key = kSecretCanary;
  c.session_token = kTokenCanary;
  c.source = "canary";
  return c;
}

class LogCapture {
 public:
  LogCapture() {
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    logger_ = std::make_shared<spdlog::logger>("canary", sink_);
    logger_->set_level(spdlog::level::trace);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(logger_);
    spdlog::set_level(spdlog::level::trace);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() {
    logger_->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(LoggingCanary, NoSecretTokenSignatureOrAuthorizationAnywhere) {
  LogCapture logs;
  std::vector<std::string> surfaced;  // every error message, describe() and record we produced
  std::vector<CallRecord> records;

  auto fake = std::make_shared<testing::FakeTransport>();
  ManualClock clock(TimePoint{} + std::chrono::hours(24 * 365 * 55));
  ClientConfig cfg;
  cfg.transport = fake;
  cfg.clock = &clock;
  cfg.credentials = std::make_shared<StaticCredentialsProvider>(canary_credentials());
  cfg.endpoints.all = "http://127.0.0.1:9";
  cfg.account_id = "111122223333";
  cfg.retry.max_attempts = 3;
  cfg.observer = [&](const CallRecord& r) { records.push_back(r); };
  cfg.jitter = [] { return 0.5; };
  AwsClient client(cfg);
  auto note = [&](const Error& e) {
    surfaced.push_back(e.message);
    surfaced.push_back(e.describe());
  };

  // Success on each protocol.
  fake->respond(200, "<GetCallerIdentityResponse><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>"
                     "</GetCallerIdentityResponse>");
  ASSERT_TRUE(client.query("sts", "us-east-1", "GetCallerIdentity", {}).ok());
  fake->respond(200, "{}");
  ASSERT_TRUE(client.json("organizations", "us-east-1", "AWSOrganizationsV20161128", "ListRoots", {}).ok());
  fake->respond(200, "");
  ASSERT_TRUE(client.rest_xml("s3", "us-east-1", {"PutObject", "PUT", "bucket", "key", "", {}, {}, "data"}).ok());
  // Auth errors, including moto's shape.
  fake->respond(403, testing::query_error_body("SignatureDoesNotMatch", "The request signature we calculated does "
                                                                        "not match the signature you provided."));
  auto auth = client.query("iam", "us-east-1", "ListUsers", {});
  ASSERT_FALSE(auth.ok());
  note(auth.error());
  fake->respond(400, testing::s3_error_body("InvalidToken", "The provided token is malformed or otherwise invalid."));
  auto token = client.rest_xml("s3", "us-east-1", {"GetObject", "GET", "bucket", "key"});
  ASSERT_FALSE(token.ok());
  note(token.error());
  // Retries, then success.
  fake->respond(400, testing::query_error_body("Throttling", "Rate exceeded")).respond(503, "").respond(
      200, "<ListUsersResponse/>");
  ASSERT_TRUE(client.query("iam", "us-east-1", "ListUsers", {}).ok());
  // Parse error.
  fake->respond(200, "<<garbage");
  auto parse = client.query("ec2", "us-east-1", "DescribeInstances", {});
  ASSERT_FALSE(parse.ok());
  note(parse.error());
  // Network errors through the real transport, on a closed port, with a query string that
  // carries the canary token like a presigned URL would.
  ClientConfig net_cfg = cfg;
  net_cfg.transport = std::make_shared<CurlTransport>(TransportOptions{std::chrono::milliseconds(500),
                                                                       std::chrono::milliseconds(1000)});
  net_cfg.endpoints.all = "http://127.0.0.1:" + std::to_string(testing::free_port());
  AwsClient net(net_cfg);
  auto refused = net.rest_xml("s3", "us-east-1",
                              {"GetObject", "GET", "bucket", "key", "", {{"X-Amz-Security-Token", kTokenCanary}}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kNetwork);
  note(refused.error());
  auto direct = CurlTransport().send({"GET", net_cfg.endpoints.all + "/k?X-Amz-Signature=abc&X-Amz-Security-Token=" +
                                                 kTokenCanary, {}, ""});
  ASSERT_FALSE(direct.ok());
  note(direct.error());

  // What must never appear: the canaries, every Authorization value we sent and its signature.
  std::vector<std::string> forbidden = {kSecretCanary, kTokenCanary};
  std::regex sig_re("Signature=([0-9a-f]{64})");
  for (const auto& req : fake->requests()) {
    std::string auth_value(req.header("authorization"));
    ASSERT_FALSE(auth_value.empty());
    forbidden.push_back(auth_value);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(auth_value, m, sig_re)) << auth_value;
    forbidden.push_back(m[1]);
    EXPECT_EQ(req.header("x-amz-security-token"), kTokenCanary);  // it was really sent
  }
  for (const auto& r : records) {
    surfaced.push_back(r.service + r.operation + r.region + r.account + r.request_id + r.error_code);
  }
  const std::string log_text = logs.text();
  ASSERT_NE(log_text.find("attempt"), std::string::npos) << "trace logging did not run";
  ASSERT_NE(log_text.find("SignatureDoesNotMatch"), std::string::npos);
  ASSERT_GE(records.size(), 7u);
  for (const auto& f : forbidden) {
    EXPECT_EQ(log_text.find(f), std::string::npos) << "log leaks: " << f.substr(0, 12) << "...";
    for (const auto& s : surfaced) EXPECT_EQ(s.find(f), std::string::npos) << "error leaks: " << s;
  }
  // No line names an Authorization header value at all, however formatted.
  std::regex auth_re("authorization[\"']?\\s*[:=]\\s*\\S", std::regex::icase);
  EXPECT_FALSE(std::regex_search(log_text, auth_re)) << log_text;
  for (const auto& s : surfaced) EXPECT_FALSE(std::regex_search(s, auth_re)) << s;
}

}  // namespace
}  // namespace containctl::aws
