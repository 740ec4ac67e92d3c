// Partitions, global and regional endpoints, S3 addressing, and the endpoint overrides the SDKs
// define (--endpoint-url, AWS_ENDPOINT_URL[_<SERVICE>], the profile's services section and
// endpoint_url, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS).
#include "aws/endpoints.h"

#include <gtest/gtest.h>

#include "aws/client.h"
#include "tests/aws/credentials_test_support.h"

namespace containctl::aws {
namespace {

Endpoint resolve(const std::string& service, const std::string& region, const EndpointOverrides& o = {}) {
  auto ep = resolve_endpoint(service, region, o);
  EXPECT_TRUE(ep.ok()) << service << " " << region << ": " << ep.error().describe();
  return ep.ok() ? *ep : Endpoint{};
}

TEST(Partitions, OfRegions) {
  EXPECT_EQ(partition_for_region("eu-central-1")->name, "aws");
  EXPECT_EQ(partition_for_region("cn-northwest-1")->name, "aws-cn");
  EXPECT_EQ(partition_for_region("cn-northwest-1")->dns_suffix, "amazonaws.com.cn");
  EXPECT_EQ(partition_for_region("us-gov-east-1")->name, "aws-us-gov");
  EXPECT_EQ(partition_for_region("us-gov-east-1")->global_region, "us-gov-west-1");
  for (const char* bad : {"", "useast1", "US-EAST-1", "us-east-1 ", "moon-base-1x"}) {
    auto r = partition_for_region(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(partition_by_name("aws-iso").ok());
}

// A region comes from ARNs in findings anyone can import: one longer than a DNS label is refused like
// any other bad name (std::regex, which checked it before, recursed once per letter and overflowed
// the stack). The longest label is still a region name.
TEST(Partitions, AVeryLongRegionIsRefusedNotAStackOverflow) {
  for (const std::string& region : {"us-" + std::string(200000, 'a') + "-1", "us-gov-" + std::string(200000, 'b') + "-2",
                                    "us-east-" + std::string(200000, '1')}) {
    auto r = partition_for_region(region);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "InvalidRegion");
  }
  EXPECT_TRUE(partition_for_region("us-" + std::string(58, 'a') + "-1").ok());
  EXPECT_FALSE(partition_for_region("us-" + std::string(59, 'a') + "-1").ok());
}

TEST(Endpoints, GlobalIamIsSignedForThePartitionsRegion) {
  auto a = resolve("iam", "eu-west-1");
  EXPECT_EQ(a.base_url, "https://iam.amazonaws.com");
  EXPECT_EQ(a.signing_region, "us-east-1");
  auto cn = resolve("iam", "cn-northwest-1");
  EXPECT_EQ(cn.base_url, "https://iam.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(cn.signing_region, "cn-north-1");
  auto gov = resolve("iam", "us-gov-east-1");
  EXPECT_EQ(gov.base_url, "https://iam.us-gov.amazonaws.com");
  EXPECT_EQ(gov.signing_region, "us-gov-west-1");
}

TEST(Endpoints, RegionalServices) {
  auto sts = resolve("sts", "ap-northeast-1");
  EXPECT_EQ(sts.base_url, "https://sts.ap-northeast-1.amazonaws.com");
  EXPECT_EQ(sts.signing_region, "ap-northeast-1");
  EXPECT_EQ(resolve("sts", "cn-north-1").base_url, "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(resolve("ec2", "us-gov-west-1").base_url, "https://ec2.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(resolve("elasticloadbalancing", "eu-west-3").base_url,
            "https://elasticloadbalancing.eu-west-3.amazonaws.com");
  auto sso = resolve("sso-admin", "eu-west-1");
  EXPECT_EQ(sso.base_url, "https://sso.eu-west-1.amazonaws.com");
  EXPECT_EQ(sso.signing_service, "sso");
  auto ctl = resolve("s3control", "us-west-2");
  EXPECT_EQ(ctl.base_url, "https://s3-control.us-west-2.amazonaws.com");
  EXPECT_EQ(ctl.signing_service, "s3");
  auto org = resolve("organizations", "eu-west-1");
  EXPECT_EQ(org.base_url, "https://organizations.us-east-1.amazonaws.com");
  EXPECT_EQ(org.signing_region, "us-east-1");
  EXPECT_EQ(resolve("organizations", "cn-north-1").signing_region, "cn-northwest-1");
  EXPECT_EQ(resolve("support", "eu-west-1").base_url, "https://support.us-east-1.amazonaws.com");
}

TEST(Endpoints, UnknownServiceIsNamed) {
  auto r = resolve_endpoint("lambda", "us-east-1", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "UnknownService");
  EXPECT_NE(r.error().message.find("'lambda'"), std::string::npos);
}

TEST(Endpoints, EnvironmentVariableNamesFollowTheServiceId) {
  EXPECT_EQ(endpoint_env_var("ec2"), "AWS_ENDPOINT_URL_EC2");
  EXPECT_EQ(endpoint_env_var("autoscaling"), "AWS_ENDPOINT_URL_AUTO_SCALING");
  EXPECT_EQ(endpoint_env_var("elasticloadbalancing"), "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2");
  EXPECT_EQ(endpoint_env_var("s3control"), "AWS_ENDPOINT_URL_S3_CONTROL");
  EXPECT_EQ(endpoint_env_var("cloudformation"), "AWS_ENDPOINT_URL_CLOUDFORMATION");
  EXPECT_EQ(endpoint_env_var("secretsmanager"), "AWS_ENDPOINT_URL_SECRETS_MANAGER");
  EXPECT_EQ(endpoint_env_var("sso-admin"), "AWS_ENDPOINT_URL_SSO_ADMIN");
  EXPECT_EQ(endpoint_env_var("identitystore"), "AWS_ENDPOINT_URL_IDENTITYSTORE");
  EXPECT_EQ(endpoint_env_var("dynamodb"), "AWS_ENDPOINT_URL_DYNAMODB");
  EXPECT_EQ(endpoint_env_var("lambda"), "");
  EXPECT_EQ(endpoint_config_key("elasticloadbalancing"), "elastic_load_balancing_v2");
  EXPECT_EQ(endpoint_config_key("sso-admin"), "sso_admin");
  EXPECT_EQ(endpoint_env_var("securityhub"), "AWS_ENDPOINT_URL_SECURITYHUB");
  EXPECT_EQ(known_services().size(), 16u);
}

class Overrides : public ::testing::Test {
 protected:
  testing::AwsSandbox box;
};

TEST_F(Overrides, PrecedenceAsTheSdksDefineIt) {
  box.config(
      "[default]\nendpoint_url = http://127.0.0.1:7000\nservices = local\n"
      "[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:7001\n"
      "elastic_load_balancing_v2 =\n  endpoint_url = http://127.0.0.1:7002/\n");
  auto cfg_only = EndpointOverrides::from_environment("");
  EXPECT_EQ(resolve("ec2", "us-east-1", cfg_only).base_url, "http://127.0.0.1:7001");
  EXPECT_EQ(resolve("elasticloadbalancing", "us-east-1", cfg_only).base_url, "http://127.0.0.1:7002");
  EXPECT_EQ(resolve("iam", "us-east-1", cfg_only).base_url, "http://127.0.0.1:7000");
  EXPECT_TRUE(resolve("iam", "us-east-1", cfg_only).custom);

  box.env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:8000");
  auto env_all = EndpointOverrides::from_environment("");
  EXPECT_EQ(resolve("ec2", "us-east-1", env_all).base_url, "http://127.0.0.1:8000");  // env beats config
  EXPECT_EQ(resolve("iam", "us-east-1", env_all).base_url, "http://127.0.0.1:8000");

  box.env.set("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:8001");
  box.env.set("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "http://127.0.0.1:8002");
  auto env_svc = EndpointOverrides::from_environment("");
  EXPECT_EQ(resolve("ec2", "us-east-1", env_svc).base_url, "http://127.0.0.1:8001");
  EXPECT_EQ(resolve("elasticloadbalancing", "us-east-1", env_svc).base_url, "http://127.0.0.1:8002");
  EXPECT_EQ(resolve("sts", "us-east-1", env_svc).base_url, "http://127.0.0.1:8000");

  auto cli = EndpointOverrides::from_environment("http://127.0.0.1:9000");
  EXPECT_EQ(resolve("ec2", "us-east-1", cli).base_url, "http://127.0.0.1:9000");

  box.env.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  auto ignored = EndpointOverrides::from_environment("");
  EXPECT_EQ(resolve("ec2", "us-east-1", ignored).base_url, "https://ec2.us-east-1.amazonaws.com");
  EXPECT_FALSE(resolve("ec2", "us-east-1", ignored).custom);
  EXPECT_EQ(resolve("ec2", "us-east-1", EndpointOverrides::from_environment("http://127.0.0.1:9000")).base_url,
            "http://127.0.0.1:9000");
}

TEST_F(Overrides, ProfileEndpointAndIgnoreSettingFollowTheProfile) {
  box.config(
      "[profile dev]\nendpoint_url = http://127.0.0.1:7100\n"
      "[profile quiet]\nendpoint_url = http://127.0.0.1:7200\nignore_configured_endpoint_urls = true\n");
  EXPECT_EQ(resolve("sts", "us-east-1", EndpointOverrides::from_environment("", "dev")).base_url,
            "http://127.0.0.1:7100");
  EXPECT_FALSE(resolve("sts", "us-east-1", EndpointOverrides::from_environment("", "quiet")).custom);
  EXPECT_FALSE(resolve("sts", "us-east-1", EndpointOverrides::from_environment("")).custom);  // default profile
  box.env.set("AWS_PROFILE", "dev");
  EXPECT_EQ(resolve("sts", "us-east-1", EndpointOverrides::from_environment("")).base_url, "http://127.0.0.1:7100");
}

TEST_F(Overrides, MalformedUrlsNameTheirSource) {
  box.env.set("AWS_ENDPOINT_URL_EC2", "127.0.0.1:5000");
  auto o = EndpointOverrides::from_environment("");
  auto r = resolve_endpoint("ec2", "us-east-1", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("AWS_ENDPOINT_URL_EC2"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("scheme"), std::string::npos) << r.error().message;

  auto q = resolve_endpoint("sts", "us-east-1", EndpointOverrides::from_environment("http://127.0.0.1:5000/?x=1"));
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("--endpoint-url"), std::string::npos) << q.error().message;

  auto port = resolve_endpoint("sts", "us-east-1", EndpointOverrides::from_environment("http://127.0.0.1:99999"));
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().message.find("port"), std::string::npos) << port.error().message;

  box.config("[default]\nservices = s\n[services s]\nsts =\n  endpoint_url = ftp://host\n");
  auto cfg = resolve_endpoint("sts", "us-east-1", EndpointOverrides::from_environment(""));
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("[services s] sts endpoint_url"), std::string::npos) << cfg.error().message;
}

TEST(Endpoints, PlainHttpOnlyToLoopback) {
  for (const char* ok : {"http://127.0.0.1:5000", "http://127.8.9.10", "http://localhost:4566", "http://[::1]:5000",
                         "https://vpce-1.ec2.us-east-1.vpce.amazonaws.com", "HTTP://127.0.0.1:1"}) {
    auto r = resolve_endpoint("ec2", "us-east-1", EndpointOverrides::from_environment(ok));
    EXPECT_TRUE(r.ok()) << ok << ": " << r.error().describe();
  }
  for (const char* bad : {"http://ec2.us-east-1.amazonaws.com", "http://10.0.0.5:5000", "http://127.0.0.1.nip.io",
                          "http://128.0.0.1", "http://0x7f000001", "http://[::2]:80", "http://localhost.evil.com"}) {
    auto r = resolve_endpoint("ec2", "us-east-1", EndpointOverrides::from_environment(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "InsecureEndpoint") << bad << ": " << r.error().describe();
    EXPECT_NE(r.error().message.find("--endpoint-url"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("https"), std::string::npos) << r.error().message;
  }
}

TEST(S3Addressing, VirtualHostSafety) {
  for (const char* ok : {"evidence-bucket", "abc", "a1-b2-c3", "0bucket9"})
    EXPECT_TRUE(bucket_is_virtual_host_safe(ok)) << ok;
  for (const char* no : {"my.bucket", "MyBucket", "under_score", "ab", "-lead", "trail-", "192.168.1.1",
                         "a-very-long-bucket-name-that-goes-on-and-on-and-on-beyond-sixty-three-chars"})
    EXPECT_FALSE(bucket_is_virtual_host_safe(no)) << no;
}

// The URLs AwsClient builds for S3 with each addressing style.
TEST(S3Addressing, ClientUsesVirtualHostPathStyleAndCustomEndpoints) {
  auto t = std::make_shared<testing::ScriptedTransport>([](const HttpRequest&) { return testing::http(200, ""); });
  Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  ClientConfig cfg;
  cfg.transport = t;
  cfg.credentials = std::make_shared<StaticCredentialsProvider>(c);
  AwsClient aws(cfg);
  ASSERT_TRUE(aws.rest_xml("s3", "eu-west-1", {"GetObject", "GET", "evidence-bucket", "k/a.txt"}).ok());
  ASSERT_TRUE(aws.rest_xml("s3", "eu-west-1", {"GetObject", "GET", "my.dotted.bucket", "k"}).ok());
  cfg.endpoints.all = "http://127.0.0.1:4566";
  AwsClient local(cfg);
  ASSERT_TRUE(local.rest_xml("s3", "eu-west-1", {"GetObject", "GET", "evidence-bucket", "k"}).ok());
  ASSERT_EQ(t->requests.size(), 3u);
  EXPECT_EQ(t->requests[0].url, "https://evidence-bucket.s3.eu-west-1.amazonaws.com/k/a.txt");
  EXPECT_EQ(t->requests[1].url, "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k");
  EXPECT_EQ(t->requests[2].url, "http://127.0.0.1:4566/evidence-bucket/k");
}

}  // namespace
}  // namespace containctl::aws
