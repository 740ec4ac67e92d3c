// AwsClient against one moto_server for the whole binary: round trips, error shapes and call
// records (service, operation, region, account, status, request id, error code, attempts) for
// the query, JSON and REST-XML protocols, and auth errors with signature checking on.
#include <gtest/gtest.h>

#include "tests/support/moto_server.h"

namespace containctl::aws {
namespace {

class ClientMoto : public ::testing::Test {
 protected:
  void SetUp() override {
    moto().reset();
    ClientConfig cfg = moto().client()->config();
    cfg.retry.max_attempts = 3;
    cfg.jitter = [] { return 0.0; };
    cfg.observer = [this](const CallRecord& r) { records.push_back(r); };
    client = std::make_unique<AwsClient>(cfg);
  }
  void TearDown() override { moto().reset_auth(-1); }
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }

  std::unique_ptr<AwsClient> client;
  std::vector<CallRecord> records;
};

TEST_F(ClientMoto, QueryJsonAndRestXmlRoundTrips) {
  auto who = client->query("sts", "us-east-1", "GetCallerIdentity", {});
  ASSERT_TRUE(who.ok()) << who.error().describe();
  EXPECT_EQ(xml_text(who->root(), "Account"), "123456789012");

  auto put = client->rest_xml("s3", "us-east-1", {"CreateBucket", "PUT", "evidence-bucket"});
  ASSERT_TRUE(put.ok()) << put.error().describe();
  RestRequest obj{"PutObject", "PUT", "evidence-bucket", "dir/a b.txt"};
  obj.body = "hello";
  ASSERT_TRUE(client->rest_xml("s3", "us-east-1", obj).ok());
  auto get = client->rest_xml("s3", "us-east-1", {"GetObject", "GET", "evidence-bucket", "dir/a b.txt"});
  ASSERT_TRUE(get.ok()) << get.error().describe();
  EXPECT_EQ(get->body, "hello");

  auto tables = client->json("dynamodb", "us-east-1", "DynamoDB_20120810", "ListTables", nlohmann::json::object(),
                             true);
  ASSERT_TRUE(tables.ok()) << tables.error().describe();
  EXPECT_TRUE(tables->contains("TableNames"));
}

TEST_F(ClientMoto, SuccessRecordsCarryStatusRequestIdAndAttempts) {
  ASSERT_TRUE(client->query("sts", "us-east-1", "GetCallerIdentity", {}).ok());
  ASSERT_TRUE(client->query("ec2", "us-west-2", "DescribeSecurityGroups", {}).ok());
  ASSERT_TRUE(client->rest_xml("s3", "us-east-1", {"CreateBucket", "PUT", "record-bucket"}).ok());
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) {
    EXPECT_EQ(r.http_status, 200) << r.operation;
    EXPECT_EQ(r.attempts, 1) << r.operation;
    EXPECT_TRUE(r.error_code.empty()) << r.operation;
    EXPECT_EQ(r.account, "123456789012");
    EXPECT_FALSE(r.request_id.empty()) << r.service << " " << r.operation << " has no request id";
  }
  EXPECT_EQ(records[0].service, "sts");
  EXPECT_EQ(records[0].operation, "GetCallerIdentity");
  EXPECT_EQ(records[1].region, "us-west-2");
  EXPECT_EQ(records[2].operation, "CreateBucket");
}

TEST_F(ClientMoto, Ec2ErrorIsClientErrorWithCodeAndRequestId) {
  auto missing = client->query("ec2", "us-east-1", "DescribeInstances", {{"InstanceId.1", "i-0123456789abcdef0"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "InvalidInstanceID.NotFound");
  EXPECT_EQ(missing.error().kind, ErrorKind::kClient);
  EXPECT_EQ(missing.error().http_status, 400);
  EXPECT_FALSE(missing.error().request_id.empty());
  EXPECT_NE(missing.error().message.find("ec2 DescribeInstances"), std::string::npos);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].error_code, "InvalidInstanceID.NotFound");
  EXPECT_EQ(records[0].http_status, 400);
  EXPECT_EQ(records[0].request_id, missing.error().request_id);
  EXPECT_EQ(records[0].attempts, 1);  // a client error is never retried
}

TEST_F(ClientMoto, IamErrorResponse) {
  auto user = client->query("iam", "us-east-1", "GetUser", {{"UserName", "nobody"}});
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code, "NoSuchEntity");
  EXPECT_EQ(user.error().kind, ErrorKind::kClient);
  EXPECT_EQ(user.error().http_status, 404);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].error_code, "NoSuchEntity");
  EXPECT_EQ(records[0].service, "iam");
}

TEST_F(ClientMoto, S3RestErrorWithRequestId) {
  auto get = client->rest_xml("s3", "us-east-1", {"GetObject", "GET", "no-such-bucket-here", "k"});
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().code, "NoSuchBucket");
  EXPECT_EQ(get.error().kind, ErrorKind::kClient);
  EXPECT_EQ(get.error().http_status, 404);
  EXPECT_FALSE(get.error().request_id.empty());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].service, "s3");
  EXPECT_EQ(records[0].operation, "GetObject");
  EXPECT_EQ(records[0].error_code, "NoSuchBucket");
  EXPECT_EQ(records[0].http_status, 404);
  EXPECT_EQ(records[0].request_id, get.error().request_id);
}

TEST_F(ClientMoto, JsonErrorWithType) {
  auto secret = client->json("secretsmanager", "us-east-1", "secretsmanager", "DescribeSecret",
                             {{"SecretId", "does-not-exist"}});
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.error().code, "ResourceNotFoundException");
  EXPECT_EQ(secret.error().kind, ErrorKind::kClient);
  // AWS answers 400; moto 5.2.1 answers 404. Either way the record carries what came back.
  EXPECT_GE(secret.error().http_status, 400);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].http_status, secret.error().http_status);
  EXPECT_EQ(records[0].error_code, "ResourceNotFoundException");
  EXPECT_EQ(records[0].operation, "DescribeSecret");
}

TEST_F(ClientMoto, AuthErrorsWithSignatureCheckingOnAreClassifiedAndNotRetried) {
  moto().reset_auth(0);  // check every request from now on; "testing" is an unknown key
  auto ec2 = client->query("ec2", "us-east-1", "DescribeInstances", {});
  ASSERT_FALSE(ec2.ok());
  EXPECT_EQ(ec2.error().code, "AuthFailure");
  EXPECT_EQ(ec2.error().http_status, 401);
  EXPECT_EQ(ec2.error().kind, ErrorKind::kAuth);

  auto iam = client->query("iam", "us-east-1", "ListUsers", {});
  ASSERT_FALSE(iam.ok());
  EXPECT_EQ(iam.error().code, "InvalidClientTokenId");
  EXPECT_EQ(iam.error().kind, ErrorKind::kAuth);

  auto s3 = client->rest_xml("s3", "us-east-1", {"ListBuckets", "GET"});
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.error().code, "InvalidAccessKeyId");
  EXPECT_EQ(s3.error().kind, ErrorKind::kAuth);

  // moto answers JSON-protocol services with IAM-style XML and 403.
  auto ddb = client->json("dynamodb", "us-east-1", "DynamoDB_20120810", "ListTables", nlohmann::json::object(), true);
  ASSERT_FALSE(ddb.ok());
  EXPECT_EQ(ddb.error().code, "InvalidClientTokenId");
  EXPECT_EQ(ddb.error().http_status, 403);
  EXPECT_EQ(ddb.error().kind, ErrorKind::kAuth);

  ASSERT_EQ(records.size(), 4u);
  for (const auto& r : records) {
    EXPECT_EQ(r.attempts, 1) << r.service << ": auth errors must not be retried";
    EXPECT_FALSE(r.error_code.empty());
  }
}

}  // namespace
}  // namespace containctl::aws
