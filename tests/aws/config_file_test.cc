#include "aws/config_file.h"

#include <gtest/gtest.h>

#include "tests/aws/credentials_test_support.h"

namespace containctl::aws {
namespace {

SharedConfig parse(const std::string& config, const std::string& credentials = "") {
  SharedConfig cfg;
  auto a = parse_config_text(config, "cfg", ConfigFileKind::kConfig, cfg);
  EXPECT_TRUE(a.ok()) << a.error().describe();
  auto b = parse_config_text(credentials, "creds", ConfigFileKind::kCredentials, cfg);
  EXPECT_TRUE(b.ok()) << b.error().describe();
  return cfg;
}

Error parse_error(const std::string& text, ConfigFileKind kind = ConfigFileKind::kConfig) {
  SharedConfig cfg;
  auto s = parse_config_text(text, "/home/u/.aws/config", kind, cfg);
  EXPECT_FALSE(s.ok()) << "expected a syntax error for:\n" << text;
  return s.ok() ? Error{} : s.error();
}

TEST(ConfigFile, ProfileSyntaxDiffersBetweenTheTwoFiles) {
  auto cfg = parse(
      "[default]\nregion = eu-west-1\n"
      "[profile dev]\nregion = us-west-2\n"
      "[prod]\nregion = ap-south-1\n",  // not a profile in the config file
      "[dev]\naws_access_key_id = AKIADEV\n"
      "[profile ignored]\naws_access_key_id = AKIAX\n");
  ASSERT_NE(cfg.profile("default"), nullptr);
  EXPECT_EQ(cfg.profile("default")->get("region"), "eu-west-1");
  ASSERT_NE(cfg.profile("dev"), nullptr);
  EXPECT_EQ(cfg.profile("dev")->get("region"), "us-west-2");
  EXPECT_EQ(cfg.profile("dev")->get("aws_access_key_id"), "AKIADEV");
  EXPECT_EQ(cfg.profile("prod"), nullptr);
  EXPECT_EQ(cfg.profile("ignored"), nullptr);
  EXPECT_EQ(cfg.profile("profile ignored"), nullptr);
}

TEST(ConfigFile, CredentialsFileWinsForTheSameKey) {
  auto cfg = parse("[profile a]\naws_access_key_id = FROMCONFIG\nregion = us-east-2\n",
                   "[a]\naws_access_key_id = FROMCREDS\n");
  EXPECT_EQ(cfg.profile("a")->get("aws_access_key_id"), "FROMCREDS");
  EXPECT_EQ(cfg.profile("a")->get("region"), "us-east-2");
}

TEST(ConfigFile, CommentsWhitespaceCaseAndCrlf) {
  auto cfg = parse(
      "# leading comment\r\n"
      "; another\r\n"
      "\r\n"
      "  [profile   spaced  ]   # trailing comment\r\n"
      "\tOutput   =   json ; also a comment\r\n"  // indented, but no property above it to continue
      "REGION=us-west-1   # inline comment\r\n"
      "url = http://h/p#frag\r\n"
      "empty =\r\n");
  const Profile* p = cfg.profile("spaced");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->get("region"), "us-west-1");
  EXPECT_EQ(p->get("output"), "json");
  EXPECT_EQ(p->get("url"), "http://h/p#frag");  // '#' not after whitespace is part of the value
  EXPECT_TRUE(p->has("empty"));
  EXPECT_EQ(p->origin, "cfg line 4");
}

TEST(ConfigFile, NestedSectionsAndContinuationLines) {
  auto cfg = parse(
      "[profile n]\n"
      "s3 =\n"
      "  addressing_style = path\n"
      "  max_concurrent_requests = 20\n"
      "region = us-east-1\n"
      "note = first\n"
      "  second\n"
      "[services local]\n"
      "ec2 =\n"
      "  endpoint_url = http://127.0.0.1:5000\n"
      "elastic_load_balancing_v2 =\n"
      "  endpoint_url = http://127.0.0.1:5001\n");
  const Profile* p = cfg.profile("n");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->nested.at("s3").at("addressing_style"), "path");
  EXPECT_EQ(p->nested.at("s3").at("max_concurrent_requests"), "20");
  EXPECT_EQ(p->get("region"), "us-east-1");
  EXPECT_EQ(p->get("note"), "first\nsecond");
  EXPECT_EQ(cfg.services.at("local").at("ec2").at("endpoint_url"), "http://127.0.0.1:5000");
  EXPECT_EQ(cfg.services.at("local").at("elastic_load_balancing_v2").at("endpoint_url"), "http://127.0.0.1:5001");
}

TEST(ConfigFile, BadSyntaxNamesFileAndLine) {
  auto e = parse_error("[default]\nregion = us-east-1\nthis line has no equals sign\n");
  EXPECT_EQ(e.kind, ErrorKind::kInvalidInput);
  EXPECT_NE(e.message.find("/home/u/.aws/config line 3"), std::string::npos) << e.message;

  e = parse_error("region = us-east-1\n");
  EXPECT_NE(e.message.find("line 1"), std::string::npos);
  EXPECT_NE(e.message.find("before any [section]"), std::string::npos) << e.message;

  e = parse_error("\n\n[profile broken\n");
  EXPECT_NE(e.message.find("line 3"), std::string::npos);
  EXPECT_NE(e.message.find("']'"), std::string::npos) << e.message;

  e = parse_error("[ ]\n");
  EXPECT_NE(e.message.find("empty section name"), std::string::npos) << e.message;

  e = parse_error("[default] junk\n");
  EXPECT_NE(e.message.find("after the section header"), std::string::npos) << e.message;

  e = parse_error("[default]\n = value\n");
  EXPECT_NE(e.message.find("empty property name"), std::string::npos) << e.message;

  e = parse_error("[default]\ns3 =\n  not a property\n");
  EXPECT_NE(e.message.find("line 3"), std::string::npos) << e.message;

  e = parse_error("[profile ]\n");
  EXPECT_NE(e.message.find("line 1"), std::string::npos) << e.message;
}

TEST(ConfigFile, SyntaxErrorsNeverQuoteTheLine) {
  // A mistyped secret line must not be echoed back.
  auto e = parse_error("[default]\naws_secret_access_key wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY\n",
                       ConfigFileKind::kCredentials);
  EXPECT_EQ(e.message.find("wJalrXUtnFEMI"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("line 2"), std::string::npos);
}

TEST(ConfigFile, LoadsFilesFromTheEnvironmentAndToleratesMissingOnes) {
  testing::AwsSandbox box;
  auto none = load_shared_config();
  ASSERT_TRUE(none.ok()) << none.error().describe();
  EXPECT_FALSE(none->config_exists);
  EXPECT_FALSE(none->credentials_exists);
  EXPECT_TRUE(none->profiles.empty());

  box.config("[profile x]\nregion = eu-north-1\n");
  auto one = load_shared_config();
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->config_exists);
  EXPECT_EQ(one->config_path, box.config_path());
  EXPECT_EQ(one->profile("x")->get("region"), "eu-north-1");

  box.credentials("[x]\naws_access_key_id\n");
  auto bad = load_shared_config();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(box.credentials_path() + " line 2"), std::string::npos) << bad.error().message;
}

TEST(ConfigFile, DefaultPathsExpandHome) {
  testing::AwsSandbox box;
  box.env.unset("AWS_CONFIG_FILE");
  box.env.unset("AWS_SHARED_CREDENTIALS_FILE");
  EXPECT_EQ(default_config_path(), box.dir() + "/.aws/config");
  EXPECT_EQ(default_credentials_path(), box.dir() + "/.aws/credentials");
  box.env.set("AWS_CONFIG_FILE", "~/elsewhere/cfg");
  EXPECT_EQ(default_config_path(), box.dir() + "/elsewhere/cfg");
}

TEST(ConfigFile, ADirectoryIsAnErrorNamingIt) {
  testing::AwsSandbox box;
  std::filesystem::create_directory(box.config_path());
  auto r = load_shared_config();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(box.config_path()), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace containctl::aws
