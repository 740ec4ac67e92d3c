// Live SigV4 checks against moto_server with signature checking on (INITIAL_NO_AUTH_ACTION_COUNT):
// moto recomputes every signature with botocore from the secret it issued, so a correctly signed
// call succeeds and a signature tampered with after signing is rejected with the service's own
// error. Bootstrap (moto-notes §3): in the unauthenticated window create an admin user, its
// access key and an Allow-* policy; everything after that is signed with the admin's key.
#include <gtest/gtest.h>

#include <memory>

#include "aws/curl_transport.h"
#include "tests/support/moto_server.h"

namespace containctl::aws {
namespace {

constexpr int kBootstrapCalls = 3;

// Flips the last hex digit of Signature= in the Authorization header, after signing.
class TamperingTransport final : public HttpTransport {
 public:
  explicit TamperingTransport(std::shared_ptr<HttpTransport> inner) : inner_(std::move(inner)) {}
  Result<HttpResponse> send(const HttpRequest& request) override {
    HttpRequest r = request;
    for (auto& h : r.headers) {
      if (!iequals(h.name, "authorization")) continue;
      size_t at = h.value.find("Signature=");
      if (at == std::string::npos || h.value.size() < at + 10 + 64) continue;
      char& last = h.value[at + 10 + 63];
      last = last == '0' ? '1' : '0';
      ++tampered_;
    }
    return inner_->send(r);
  }
  int tampered() const { return tampered_; }

 private:
  std::shared_ptr<HttpTransport> inner_;
  int tampered_ = 0;
};

class SigV4Moto : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    moto_ = new testing::MotoServer(kBootstrapCalls);
    auto boot = moto_->client();  // unauthenticated window: these three calls are not checked
    auto user = boot->query("iam", "us-east-1", "CreateUser", {{"UserName", "admin"}});
    ASSERT_TRUE(user.ok()) << user.error().describe();
    auto key = boot->query("iam", "us-east-1", "CreateAccessKey", {{"UserName", "admin"}});
    ASSERT_TRUE(key.ok()) << key.error().describe();
    admin_ = new Credentials{xml_text(key->root(), "AccessKeyId"), xml_text(key->root(), "SecretAccessKey")};
    admin_->source = "test";
    auto policy = boot->query("iam", "us-east-1", "PutUserPolicy",
                              {{"UserName", "admin"},
                               {"PolicyName", "allow-all"},
                               {"PolicyDocument",
                                R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"}});
    ASSERT_TRUE(policy.ok()) << policy.error().describe();
  }
  static void TearDownTestSuite() {
    delete moto_;
    delete admin_;
  }

  struct Clients {
    std::unique_ptr<AwsClient> good;
    std::unique_ptr<AwsClient> tampered;
    std::shared_ptr<TamperingTransport> tamperer;
  };
  static Clients clients(const Credentials& creds) {
    Clients c;
    c.good = moto_->client(creds);
    ClientConfig cfg = c.good->config();
    c.tamperer = std::make_shared<TamperingTransport>(std::make_shared<CurlTransport>());
    cfg.transport = c.tamperer;
    c.tampered = std::make_unique<AwsClient>(cfg);
    return c;
  }
  static void expect_rejected(const Error& e, const std::string& code, int status) {
    EXPECT_EQ(e.code, code) << e.describe();
    EXPECT_EQ(e.http_status, status) << e.describe();
    EXPECT_EQ(e.kind, ErrorKind::kAuth) << e.describe();
  }

  static testing::MotoServer* moto_;
  static Credentials* admin_;
};

testing::MotoServer* SigV4Moto::moto_ = nullptr;
Credentials* SigV4Moto::admin_ = nullptr;

TEST_F(SigV4Moto, Ec2SignedSucceedsTamperedGets401AuthFailure) {
  auto c = clients(*admin_);
  auto ok = c.good->query("ec2", "us-east-1", "DescribeSecurityGroups", {{"GroupName.1", "default"}});
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(xml_text(ok->root(), "groupName"), "default");
  auto bad = c.tampered->query("ec2", "us-east-1", "DescribeSecurityGroups", {{"GroupName.1", "default"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(c.tamperer->tampered(), 1);
  expect_rejected(bad.error(), "AuthFailure", 401);
}

TEST_F(SigV4Moto, IamSignedSucceedsTamperedGets403SignatureDoesNotMatch) {
  auto c = clients(*admin_);
  auto ok = c.good->query("iam", "us-east-1", "GetUser", {{"UserName", "admin"}});
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(xml_text(ok->root(), "UserName"), "admin");
  // A policy document is the most encoding-heavy form body the tool sends.
  auto put = c.good->query("iam", "us-east-1", "PutUserPolicy",
                           {{"UserName", "admin"},
                            {"PolicyName", "deny-nothing"},
                            {"PolicyDocument", R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:Nothing*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2000-01-01T00:00:00Z"}}}]})"}});
  // (moto treats conditions as satisfied, so this Deny only ever matches iam:Nothing*.)
  ASSERT_TRUE(put.ok()) << put.error().describe();
  auto bad = c.tampered->query("iam", "us-east-1", "GetUser", {{"UserName", "admin"}});
  ASSERT_FALSE(bad.ok());
  expect_rejected(bad.error(), "SignatureDoesNotMatch", 403);
}

TEST_F(SigV4Moto, StsSignedSucceedsTamperedGets403SignatureDoesNotMatch) {
  auto c = clients(*admin_);
  auto ok = c.good->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(xml_text(ok->root(), "Arn"), "arn:aws:iam::123456789012:user/admin");
  auto bad = c.tampered->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_FALSE(bad.ok());
  expect_rejected(bad.error(), "SignatureDoesNotMatch", 403);
}

TEST_F(SigV4Moto, S3SignedSucceedsTamperedGets403SignatureDoesNotMatch) {
  auto c = clients(*admin_);
  ASSERT_TRUE(c.good->rest_xml("s3", "us-east-1", {"CreateBucket", "PUT", "sigv4-live"}).ok());
  // moto only verifies keys in [A-Za-z0-9._~ /-] (moto-notes §1.4); the wider set is covered by
  // the botocore differential test.
  RestRequest put{"PutObject", "PUT", "sigv4-live", "dir/sub dir/a b~c.txt"};
  put.body = "evidence";
  auto stored = c.good->rest_xml("s3", "us-east-1", put);
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  auto got = c.good->rest_xml("s3", "us-east-1", {"GetObject", "GET", "sigv4-live", "dir/sub dir/a b~c.txt"});
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(got->body, "evidence");
  auto bad = c.tampered->rest_xml("s3", "us-east-1", {"GetObject", "GET", "sigv4-live", "dir/sub dir/a b~c.txt"});
  ASSERT_FALSE(bad.ok());
  expect_rejected(bad.error(), "SignatureDoesNotMatch", 403);
}

TEST_F(SigV4Moto, AssumedRoleSessionTokenIsSignedAndAccepted) {
  auto admin = clients(*admin_);
  const std::string trust =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/admin"},"Action":"sts:AssumeRole"}]})";
  auto role = admin.good->query("iam", "us-east-1", "CreateRole",
                                {{"RoleName", "responder"}, {"AssumeRolePolicyDocument", trust}});
  ASSERT_TRUE(role.ok()) << role.error().describe();
  ASSERT_TRUE(admin.good
                  ->query("iam", "us-east-1", "PutRolePolicy",
                          {{"RoleName", "responder"},
                           {"PolicyName", "allow-all"},
                           {"PolicyDocument",
                            R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"}})
                  .ok());
  auto assumed = admin.good->query("sts", "us-east-1", "AssumeRole",
                                   {{"RoleArn", "arn:aws:iam::123456789012:role/responder"},
                                    {"RoleSessionName", "sigv4-test"},
                                    {"ExternalId", "123456789012"}});
  ASSERT_TRUE(assumed.ok()) << assumed.error().describe();
  Credentials session{xml_text(assumed->root(), "AccessKeyId"), xml_text(assumed->root(), "SecretAccessKey"),
                      xml_text(assumed->root(), "SessionToken")};
  ASSERT_EQ(session.access_key_id.rfind("ASIA", 0), 0u);
  ASSERT_FALSE(session.session_token.empty());

  auto c = clients(session);
  auto who = c.good->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_TRUE(who.ok()) << who.error().describe();
  EXPECT_EQ(xml_text(who->root(), "Arn"), "arn:aws:sts::123456789012:assumed-role/responder/sigv4-test");
  auto ec2 = c.good->query("ec2", "us-east-1", "DescribeSecurityGroups", {});
  ASSERT_TRUE(ec2.ok()) << ec2.error().describe();
  auto s3 = c.good->rest_xml("s3", "us-east-1", {"ListBuckets", "GET"});
  ASSERT_TRUE(s3.ok()) << s3.error().describe();

  auto bad_sts = c.tampered->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_FALSE(bad_sts.ok());
  expect_rejected(bad_sts.error(), "SignatureDoesNotMatch", 403);
  auto bad_ec2 = c.tampered->query("ec2", "us-east-1", "DescribeSecurityGroups", {});
  ASSERT_FALSE(bad_ec2.ok());
  expect_rejected(bad_ec2.error(), "AuthFailure", 401);
  auto bad_s3 = c.tampered->rest_xml("s3", "us-east-1", {"ListBuckets", "GET"});
  ASSERT_FALSE(bad_s3.ok());
  expect_rejected(bad_s3.error(), "SignatureDoesNotMatch", 403);

  // The token is part of what moto checks: the same session without it is refused.
  Credentials no_token = session;
  no_token.session_token.clear();
  auto anon = clients(no_token).good->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_FALSE(anon.ok());
  EXPECT_EQ(anon.error().code, "InvalidClientTokenId");
}

}  // namespace
}  // namespace containctl::aws
