// AwsClient against a scripted transport and a manual clock: attempts, backoff bounds,
// credentials and signatures per attempt, parse errors, call records, rate limiting. No sleeps.
#include <gtest/gtest.h>

#include <set>

#include "aws/client.h"
#include "tests/support/fake_transport.h"

namespace containctl::aws {
namespace {

using std::chrono::milliseconds;
using testing::FakeTransport;

class CountingProvider final : public CredentialsProvider {
 public:
  Result<Credentials> credentials() override {
    ++calls;
    if (fail) return Error{ErrorKind::kAuth, "ExpiredToken", "credential source says no"};
    Credentials c;
    c.access_key_id = "AKIDEXAMPLE" + std::to_string(calls);
    c.secret_access_key = "secret-" + std::to_string(calls);
    return c;
  }
  int calls = 0;
  bool fail = false;
};

struct Harness {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<CountingProvider> creds = std::make_shared<CountingProvider>();
  ManualClock clock{TimePoint{} + std::chrono::hours(24 * 365 * 55)};
  std::vector<CallRecord> records;
  std::vector<double> draws;  // jitter values handed out, in order
  double next_draw = 0.5;
  std::unique_ptr<AwsClient> client;

  explicit Harness(int max_attempts = 3, std::shared_ptr<RateLimiter> limiter = nullptr) {
    ClientConfig cfg;
    cfg.transport = transport;
    cfg.credentials = creds;
    cfg.clock = &clock;
    cfg.endpoints.all = "http://127.0.0.1:9";
    cfg.account_id = "111122223333";
    cfg.retry.max_attempts = max_attempts;
    cfg.limiter = std::move(limiter);
    cfg.observer = [this](const CallRecord& r) { records.push_back(r); };
    cfg.jitter = [this] {
      draws.push_back(next_draw);
      return next_draw;
    };
    cfg_ = cfg;
    client = std::make_unique<AwsClient>(cfg);
  }
  void set_limiter(std::shared_ptr<RateLimiter> limiter) {
    cfg_.limiter = std::move(limiter);
    client = std::make_unique<AwsClient>(cfg_);
  }
  ClientConfig cfg_;
  TimePoint start = clock.now();
  milliseconds elapsed() const { return std::chrono::duration_cast<milliseconds>(clock.now() - start); }
};

const std::string kOk = "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>111122223333</Account>"
                        "</GetCallerIdentityResult><ResponseMetadata><RequestId>ok-id</RequestId>"
                        "</ResponseMetadata></GetCallerIdentityResponse>";

TEST(ClientRetries, ThrottlingRetriesWithJitteredBackoffThenSucceeds) {
  Harness h(5);
  h.next_draw = 0.75;
  h.transport->respond(400, testing::query_error_body("Throttling", "Rate exceeded", "t1"))
      .respond(400, testing::query_error_body("Throttling", "Rate exceeded", "t2"))
      .respond(200, kOk);
  auto r = h.client->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(h.transport->request_count(), 3u);
  ASSERT_EQ(h.draws.size(), 2u);
  // 0.75 x 1 s, then 0.75 x 2 s: exactly the full-jitter draws, nothing else slept.
  EXPECT_EQ(h.elapsed(), milliseconds(750 + 1500));
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].attempts, 3);
  EXPECT_EQ(h.records[0].http_status, 200);
  EXPECT_EQ(h.records[0].request_id, "ok-id");
  EXPECT_TRUE(h.records[0].error_code.empty());
  EXPECT_EQ(h.records[0].duration, milliseconds(2250));
}

TEST(ClientRetries, BoundedAttemptsAndDelaysWithinJitterBounds) {
  Harness h(4);
  h.next_draw = 0.999;
  for (int i = 0; i < 6; ++i) h.transport->respond(503, testing::ec2_error_body("RequestLimitExceeded", "slow"));
  auto r = h.client->query("ec2", "eu-west-1", "DescribeInstances", {{"Filter.1.Name", "tag:x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "RequestLimitExceeded");
  EXPECT_EQ(r.error().kind, ErrorKind::kThrottling);
  EXPECT_EQ(h.transport->request_count(), 4u);  // exactly max_attempts
  EXPECT_EQ(h.transport->pending(), 2u);
  // Three sleeps, each under its cap (1 s, 2 s, 4 s).
  EXPECT_LE(h.elapsed(), milliseconds(1000 + 2000 + 4000));
  EXPECT_GE(h.elapsed(), milliseconds(999 + 1998 + 3996));
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].attempts, 4);
  EXPECT_EQ(h.records[0].error_code, "RequestLimitExceeded");
  EXPECT_EQ(h.records[0].http_status, 503);
  EXPECT_EQ(h.records[0].request_id, "ec2-req-1");
  EXPECT_EQ(h.records[0].service, "ec2");
  EXPECT_EQ(h.records[0].operation, "DescribeInstances");
  EXPECT_EQ(h.records[0].region, "eu-west-1");
  EXPECT_EQ(h.records[0].account, "111122223333");
}

TEST(ClientRetries, ZeroJitterMeansNoWait) {
  Harness h(3);
  h.next_draw = 0.0;
  h.transport->respond(500, "").respond(200, kOk);
  ASSERT_TRUE(h.client->query("sts", "us-east-1", "GetCallerIdentity", {}).ok());
  EXPECT_EQ(h.elapsed(), milliseconds(0));
  EXPECT_EQ(h.transport->request_count(), 2u);
}

TEST(ClientRetries, TransientAndNetworkErrorsRetryWithTheSmallBase) {
  Harness h(3);
  h.next_draw = 1.0;
  h.transport->fail_network().respond(502, "<html>bad gateway</html>").respond(200, kOk);
  auto r = h.client->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(h.transport->request_count(), 3u);
  EXPECT_EQ(h.elapsed(), milliseconds(50 + 100));
}

TEST(ClientRetries, ClientAndAuthErrorsAreNeverRetried) {
  for (auto [status, code, kind] : {std::tuple{400, "ValidationError", ErrorKind::kClient},
                                    std::tuple{403, "AccessDenied", ErrorKind::kAuth},
                                    std::tuple{403, "SignatureDoesNotMatch", ErrorKind::kAuth},
                                    std::tuple{404, "NoSuchEntity", ErrorKind::kClient}}) {
    Harness h(5);
    h.transport->respond(status, testing::query_error_body(code, "no", "rid-" + std::string(code)));
    h.transport->respond(200, kOk);  // would succeed if (wrongly) retried
    auto r = h.client->query("iam", "us-east-1", "GetUser", {{"UserName", "alice"}});
    ASSERT_FALSE(r.ok()) << code;
    EXPECT_EQ(r.error().kind, kind) << code;
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(r.error().request_id, "rid-" + std::string(code));
    EXPECT_EQ(h.transport->request_count(), 1u) << code;
    EXPECT_EQ(h.elapsed(), milliseconds(0));
    EXPECT_NE(r.error().message.find("iam GetUser"), std::string::npos) << r.error().message;
    ASSERT_EQ(h.records.size(), 1u);
    EXPECT_EQ(h.records[0].attempts, 1);
    EXPECT_EQ(h.records[0].error_code, code);
  }
}

TEST(ClientRetries, CredentialsFetchedAndRequestResignedPerAttemptWithTheClocksTime) {
  Harness h(3);
  h.next_draw = 0.5;
  h.transport->respond(503, "").respond(503, "").respond(200, kOk);
  ASSERT_TRUE(h.client->query("sts", "us-east-1", "GetCallerIdentity", {}).ok());
  EXPECT_EQ(h.creds->calls, 3);
  auto reqs = h.transport->requests();
  ASSERT_EQ(reqs.size(), 3u);
  std::set<std::string> dates, auths;
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::string auth(reqs[i].header("authorization"));
    // Each attempt is signed with the key the provider gave for that attempt.
    EXPECT_NE(auth.find("Credential=AKIDEXAMPLE" + std::to_string(i + 1) + "/"), std::string::npos) << auth;
    dates.insert(std::string(reqs[i].header("x-amz-date")));
    auths.insert(auth);
  }
  EXPECT_EQ(auths.size(), 3u);
  EXPECT_EQ(std::string(reqs[0].header("x-amz-date")), format_amz_date(h.start));
}

TEST(ClientRetries, SignatureTimeFollowsTheClockAcrossLongBackoff) {
  Harness h(3);
  h.next_draw = 1.0;
  h.transport->respond(400, testing::query_error_body("Throttling", "slow")).respond(200, kOk);
  ASSERT_TRUE(h.client->query("sts", "us-east-1", "GetCallerIdentity", {}).ok());
  auto reqs = h.transport->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(std::string(reqs[0].header("x-amz-date")), format_amz_date(h.start));
  EXPECT_EQ(std::string(reqs[1].header("x-amz-date")), format_amz_date(h.start + std::chrono::seconds(1)));
}

TEST(ClientRetries, CredentialFailureIsReportedAndRecorded) {
  Harness h(3);
  h.creds->fail = true;
  auto r = h.client->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ExpiredToken");
  EXPECT_EQ(h.transport->request_count(), 0u);
  ASSERT_EQ(h.records.size(), 1u);
  EXPECT_EQ(h.records[0].error_code, "ExpiredToken");
}

TEST(ClientParse, Http200WithUnparseableQueryBodyIsParseErrorNamingServiceAndOperation) {
  for (std::string body : {"<DescribeInstancesResponse><unclosed>", "", "<!doctype html><html><body>hi</body></html>",
                           "not xml at all", "<Foo/>"}) {
    Harness h(3);
    h.transport->respond(200, body, {{"x-amzn-RequestId", "parse-rid"}});
    auto r = h.client->query("ec2", "us-east-1", "DescribeInstances", {});
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, ErrorKind::kParse) << body;
    EXPECT_EQ(r.error().message.rfind("ec2 DescribeInstances: HTTP 200 response has ", 0), 0u) << r.error().message;
    EXPECT_EQ(r.error().http_status, 200);
    EXPECT_EQ(h.transport->request_count(), 1u);  // a parse failure is not retried
    ASSERT_EQ(h.records.size(), 1u);
    EXPECT_EQ(h.records[0].error_code, "UnparseableResponse");
    EXPECT_EQ(h.records[0].request_id, "parse-rid");
  }
}

TEST(ClientParse, Http200WithUnparseableJsonBodyIsParseErrorNamingServiceAndOperation) {
  for (std::string body : {"{\"Secret", "<html></html>", "[1,2]"}) {
    Harness h(3);
    h.transport->respond(200, body);
    auto r = h.client->json("secretsmanager", "us-east-1", "secretsmanager", "DescribeSecret", {{"SecretId", "x"}});
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, ErrorKind::kParse);
    EXPECT_EQ(r.error().message.rfind("secretsmanager DescribeSecret: HTTP 200 response has ", 0), 0u)
        << r.error().message;
  }
  Harness empty(3);
  empty.transport->respond(200, "");
  auto ok = empty.client->json("organizations", "us-east-1", "AWSOrganizationsV20161128", "DeletePolicy", {});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->is_object());
}

TEST(ClientRecords, JsonAndRestXmlCaptureRequestIds) {
  Harness h(1);
  h.transport->respond(200, R"({"Roots":[]})", {{"x-amzn-RequestId", "json-rid"}});
  auto j = h.client->json("organizations", "us-east-1", "AWSOrganizationsV20161128", "ListRoots", {}, false);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(h.transport->requests()[0].header("x-amz-target"), "AWSOrganizationsV20161128.ListRoots");
  h.transport->respond(404, testing::s3_error_body("NoSuchBucket", "gone", "s3-rid"));
  auto s = h.client->rest_xml("s3", "us-east-1", {"GetBucketPolicy", "GET", "some-bucket", "", "", {{"policy", ""}}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "NoSuchBucket");
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[0].request_id, "json-rid");
  EXPECT_EQ(h.records[0].operation, "ListRoots");
  EXPECT_EQ(h.records[1].request_id, "s3-rid");
  EXPECT_EQ(h.records[1].http_status, 404);
  EXPECT_EQ(h.records[1].error_code, "NoSuchBucket");
  EXPECT_EQ(h.records[1].service, "s3");
}

TEST(ClientRecords, S3ObjectBodiesAreNeverReadForARequestId) {
  Harness h(1);
  h.transport->respond(200, "<Doc><RequestId>from-the-object</RequestId></Doc>", {{"x-amz-request-id", "s3-hdr"}});
  h.transport->respond(200, "<Doc><RequestId>from-the-object</RequestId></Doc>");
  ASSERT_TRUE(h.client->rest_xml("s3", "us-east-1", {"GetObject", "GET", "b", "doc.xml"}).ok());
  ASSERT_TRUE(h.client->rest_xml("s3", "us-east-1", {"GetObject", "GET", "b", "doc.xml"}).ok());
  ASSERT_EQ(h.records.size(), 2u);
  EXPECT_EQ(h.records[0].request_id, "s3-hdr");
  EXPECT_EQ(h.records[1].request_id, "");
}

TEST(ClientRetries, RetryQuotaStopsRetriesWhenExhaustedAndRefillsOnSuccess) {
  Harness h(3);
  auto quota = std::make_shared<RetryQuota>(12);
  h.cfg_.retry_quota = quota;
  h.set_limiter(nullptr);
  h.next_draw = 0.0;
  // First call: two retries cost 5 + 5 and it still fails.
  for (int i = 0; i < 3; ++i) h.transport->respond(503, "");
  ASSERT_FALSE(h.client->query("sts", "us-east-1", "GetCallerIdentity", {}).ok());
  EXPECT_EQ(h.transport->request_count(), 3u);
  EXPECT_EQ(quota->available(), 2);
  // Second call: the quota cannot pay for a retry, so one attempt only.
  h.transport->respond(503, "").respond(200, kOk);
  ASSERT_FALSE(h.client->query("sts", "us-east-1", "GetCallerIdentity", {}).ok());
  EXPECT_EQ(h.transport->request_count(), 4u);
  EXPECT_EQ(h.records.back().attempts, 1);
  // A first-try success refunds one token; a timeout would cost 10.
  ASSERT_TRUE(h.client->query("sts", "us-east-1", "GetCallerIdentity", {}).ok());
  EXPECT_EQ(quota->available(), 3);
  EXPECT_EQ(quota->acquire(Error{ErrorKind::kTimeout, "Timeout", "t"}), 0);
  EXPECT_EQ(quota->acquire(Error{ErrorKind::kTransient, "InternalError", "t"}), 0);
}

TEST(ClientRateLimit, EveryAttemptTakesATokenAndThrottlingSlowsTheBucket) {
  Harness h(3);
  auto limiter = std::make_shared<RateLimiter>(h.clock);
  limiter->configure_key("111122223333/us-east-1/ec2/CreateTags", {1.0, 1.0});
  h.set_limiter(limiter);
  h.next_draw = 0.0;  // no backoff: every wait below is the limiter's
  const std::string ok = "<CreateTagsResponse><return>true</return></CreateTagsResponse>";
  h.transport->respond(200, ok).respond(200, ok);
  ASSERT_TRUE(h.client->query("ec2", "us-east-1", "CreateTags", {{"ResourceId.1", "i-1"}}).ok());
  EXPECT_EQ(h.elapsed(), milliseconds(0));  // the burst token
  ASSERT_TRUE(h.client->query("ec2", "us-east-1", "CreateTags", {{"ResourceId.1", "i-2"}}).ok());
  EXPECT_EQ(h.elapsed(), milliseconds(1000));  // one token per second

  // A throttle drops the bucket to 0.7/s and empties it: the retry waits 1/0.7 s for a token.
  h.transport->respond(503, testing::ec2_error_body("RequestLimitExceeded", "slow")).respond(200, ok);
  ASSERT_TRUE(h.client->query("ec2", "us-east-1", "CreateTags", {{"ResourceId.1", "i-3"}}).ok());
  EXPECT_EQ(h.elapsed(), milliseconds(1000 + 1000 + 1429));
  EXPECT_EQ(h.records.back().attempts, 2);
  // Other operations and other accounts are untouched: DescribeTags uses its own full bucket.
  EXPECT_EQ(limiter->current("111122223333", "us-east-1", "ec2", "DescribeTags").rate_per_second, 20);
}

}  // namespace
}  // namespace containctl::aws

namespace containctl::aws {
namespace {

// A non-idempotent call (CreateAccessKey) is never sent twice when the first attempt may have been
// performed; throttling and failures before sending are still retried. Idempotent calls keep
// retrying as before.
TEST(ClientRetries, NonIdempotentCallsAreNotRetriedWhenTheyMayHaveBeenPerformed) {
  const std::string kCreated = "<CreateAccessKeyResponse><CreateAccessKeyResult/></CreateAccessKeyResponse>";
  struct Case {
    const char* name;
    std::function<void(FakeTransport&)> first;
  };
  const std::vector<Case> uncertain = {
      {"timeout", [](FakeTransport& t) { t.fail(Error{ErrorKind::kTimeout, "Timeout", "Operation timed out"}); }},
      {"reset after send", [](FakeTransport& t) { t.fail(Error{ErrorKind::kNetwork, "NetworkError", "Connection reset by peer"}); }},
      {"500", [](FakeTransport& t) { t.respond(500, testing::query_error_body("InternalFailure", "oops")); }},
      {"503", [](FakeTransport& t) { t.respond(503, testing::query_error_body("ServiceUnavailable", "busy")); }},
  };
  for (const auto& c : uncertain) {
    Harness h(5);
    c.first(*h.transport);
    h.transport->respond(200, kCreated);
    auto r = h.client->query("iam", "us-east-1", "CreateAccessKey", {{"UserName", "u"}}, CallOptions{.idempotent = false});
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(h.transport->request_count(), 1u) << c.name;
    EXPECT_TRUE(r.error().outcome_unknown) << c.name;
    EXPECT_NE(r.error().message.find("not idempotent"), std::string::npos) << c.name << ": " << r.error().message;
    ASSERT_EQ(h.records.size(), 1u);
    EXPECT_EQ(h.records[0].attempts, 1);

    // The same failure on an idempotent call is retried, and nothing is marked uncertain.
    Harness idem(5);
    c.first(*idem.transport);
    idem.transport->respond(200, kCreated);
    auto ok = idem.client->query("iam", "us-east-1", "CreateAccessKey", {{"UserName", "u"}});
    ASSERT_TRUE(ok.ok()) << c.name << ": " << ok.error().describe();
    EXPECT_EQ(idem.transport->request_count(), 2u) << c.name;
  }

  const std::vector<Case> not_processed = {
      {"throttled", [](FakeTransport& t) { t.respond(400, testing::query_error_body("Throttling", "Rate exceeded")); }},
      {"429", [](FakeTransport& t) { t.respond(429, ""); }},
      {"connection refused", [](FakeTransport& t) { t.fail(Error{ErrorKind::kNetwork, "ConnectionRefused", "refused"}); }},
      {"dns", [](FakeTransport& t) { t.fail(Error{ErrorKind::kNetwork, "DnsFailure", "no such host"}); }},
      {"tls handshake", [](FakeTransport& t) { t.fail(Error{ErrorKind::kNetwork, "TlsHandshakeFailed", "handshake"}); }},
  };
  for (const auto& c : not_processed) {
    Harness h(5);
    h.next_draw = 0.0;
    c.first(*h.transport);
    h.transport->respond(200, kCreated);
    auto r = h.client->query("iam", "us-east-1", "CreateAccessKey", {{"UserName", "u"}}, CallOptions{.idempotent = false});
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.error().describe();
    EXPECT_EQ(h.transport->request_count(), 2u) << c.name;
  }
}

TEST(ClientRetries, NonIdempotentAfterThrottleThenTimeoutStopsAndReportsUnknownOutcome) {
  Harness h(5);
  h.next_draw = 0.0;
  h.transport->respond(400, testing::query_error_body("Throttling", "slow down"))
      .fail(Error{ErrorKind::kTimeout, "Timeout", "timed out"})
      .respond(200, "<CreateLoginProfileResponse/>");
  auto r = h.client->query("iam", "us-east-1", "CreateLoginProfile", {{"UserName", "u"}}, CallOptions{.idempotent = false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_TRUE(r.error().outcome_unknown);
  EXPECT_EQ(h.transport->request_count(), 2u);
  EXPECT_EQ(h.transport->pending(), 1u);
}

TEST(ClientRetries, NonIdempotentRestAndJsonCallsFollowTheSameRule) {
  Harness h(5);
  h.transport->respond(500, testing::s3_error_body("InternalError", "oops")).respond(200, "");
  RestRequest put;
  put.operation = "PutObject";
  put.method = "PUT";
  put.bucket = "b";
  put.key = "k";
  put.options.idempotent = false;
  auto r = h.client->rest_xml("s3", "us-east-1", put);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().outcome_unknown);
  EXPECT_EQ(h.transport->request_count(), 1u);

  Harness j(5);
  j.transport->fail(Error{ErrorKind::kTimeout, "Timeout", "timed out"}).respond(200, "{}");
  auto jr = j.client->json("secretsmanager", "us-east-1", "secretsmanager", "CreateSecret", {{"Name", "n"}}, false,
                           CallOptions{.idempotent = false});
  ASSERT_FALSE(jr.ok());
  EXPECT_TRUE(jr.error().outcome_unknown);
  EXPECT_EQ(j.transport->request_count(), 1u);
}

// A client error is final either way and is not an unknown outcome: AWS refused the request.
TEST(ClientRetries, NonIdempotentClientErrorsAreNotUnknownOutcomes) {
  Harness h(5);
  h.transport->respond(409, testing::query_error_body("EntityAlreadyExists", "exists"));
  auto r = h.client->query("iam", "us-east-1", "CreateLoginProfile", {{"UserName", "u"}}, CallOptions{.idempotent = false});
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().outcome_unknown);
}

}  // namespace
}  // namespace containctl::aws
