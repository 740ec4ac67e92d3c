#include <gtest/gtest.h>

#include "tests/support/moto_server.h"

namespace containctl::aws {

TEST(ClientMoto, QueryJsonAndRestXmlRoundTrips) {
  testing::MotoServer moto;
  auto client = moto.client();
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

  auto missing = client->query("ec2", "us-east-1", "DescribeInstances", {{"InstanceId.1", "i-0123456789abcdef0"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "InvalidInstanceID.NotFound");
  EXPECT_EQ(missing.error().kind, ErrorKind::kClient);
}

}  // namespace containctl::aws
