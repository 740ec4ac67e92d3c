// The default chain's choices and errors with temp files and a sandboxed environment: the
// environment, static profiles, the --profile/AWS_PROFILE rules, role_arn configuration errors
// (no STS call is made for those), and resolve_region.
#include <gtest/gtest.h>

#include "aws/credential_chain.h"
#include "tests/aws/credentials_test_support.h"

namespace containctl::aws {
namespace {

class Chain : public ::testing::Test {
 protected:
  Result<Credentials> resolve(const std::string& profile = "") {
    ChainOptions o;
    o.profile = profile;
    o.clock = &clock;
    // Any network use here would be a bug: these tests never reach STS or metadata.
    o.transport = o.metadata_transport = std::make_shared<testing::ScriptedTransport>(
        [](const HttpRequest& r) -> Result<HttpResponse> { return Error::internal("unexpected request"); });
    auto p = default_credentials_provider(o);
    if (!p.ok()) return p.error();
    return (*p)->credentials();
  }
  Error resolve_error(const std::string& profile = "") {
    ChainOptions o;
    o.profile = profile;
    o.clock = &clock;
    auto p = default_credentials_provider(o);
    EXPECT_FALSE(p.ok()) << "expected an error for profile '" << profile << "'";
    return p.ok() ? Error{} : p.error();
  }
  testing::AwsSandbox box;
  ManualClock clock{std::chrono::system_clock::now()};
};

TEST_F(Chain, EnvironmentComesFirst) {
  box.credentials("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = filesecret\n");
  box.env.set("AWS_ACCESS_KEY_ID", "AKIAENV");
  box.env.set("AWS_SECRET_ACCESS_KEY", "envsecret");
  box.env.set("AWS_SESSION_TOKEN", "envtoken");
  auto c = resolve();
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->session_token, "envtoken");
  EXPECT_EQ(c->source, "environment");
}

TEST_F(Chain, PartialEnvironmentIsAnError) {
  box.env.set("AWS_ACCESS_KEY_ID", "AKIAENV");
  auto e = resolve_error();
  EXPECT_NE(e.message.find("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"), std::string::npos)
      << e.message;
}

TEST_F(Chain, CliProfileBeatsEnvironmentKeysButAwsProfileDoesNot) {
  box.credentials("[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = devsecret\n");
  box.env.set("AWS_ACCESS_KEY_ID", "AKIAENV");
  box.env.set("AWS_SECRET_ACCESS_KEY", "envsecret");
  // --profile dev (AWS_PROFILE unset): the profile, as the AWS CLI does.
  EXPECT_EQ(resolve("dev")->access_key_id, "AKIADEV");
  // AWS_PROFILE=dev: explicit keys in the environment still win.
  box.env.set("AWS_PROFILE", "dev");
  EXPECT_EQ(resolve("dev")->access_key_id, "AKIAENV");
  EXPECT_EQ(resolve("")->access_key_id, "AKIAENV");
}

TEST_F(Chain, StaticProfileFromEitherFile) {
  box.config(
      "[profile cfgonly]\naws_access_key_id = AKIACFG\naws_secret_access_key = cfgsecret\n"
      "[profile both]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n");
  box.credentials(
      "# creds\n[default]\naws_access_key_id=AKIADEF\naws_secret_access_key=defsecret\n"
      "aws_session_token = deftoken\n[both]\naws_access_key_id = AKIANEW\naws_secret_access_key = new\n");
  auto d = resolve();
  ASSERT_TRUE(d.ok()) << d.error().describe();
  EXPECT_EQ(d->access_key_id, "AKIADEF");
  EXPECT_EQ(d->session_token, "deftoken");
  EXPECT_EQ(d->source, "profile:default");
  EXPECT_EQ(resolve("cfgonly")->access_key_id, "AKIACFG");
  EXPECT_EQ(resolve("both")->access_key_id, "AKIANEW");
  box.env.set("AWS_PROFILE", "cfgonly");
  EXPECT_EQ(resolve()->access_key_id, "AKIACFG");
}

TEST_F(Chain, NamedProfileThatDoesNotExistIsAnError) {
  box.config("[prod]\nregion = us-east-1\n");  // a bare [prod] is not a profile in the config file
  auto e = resolve_error("prod");
  EXPECT_EQ(e.code, "ProfileNotFound");
  EXPECT_NE(e.message.find("profile 'prod' not found"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(box.config_path()), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("line 1 has [prod]"), std::string::npos) << e.message;  // the hint
  EXPECT_NE(e.message.find("[profile prod]"), std::string::npos) << e.message;
  box.env.set("AWS_PROFILE", "ghost");
  EXPECT_NE(resolve_error().message.find("profile 'ghost' not found"), std::string::npos);
}

TEST_F(Chain, NothingFoundListsWhatWasTried) {
  auto e = resolve_error();
  EXPECT_EQ(e.code, "NoCredentials");
  EXPECT_EQ(e.kind, ErrorKind::kAuth);
  for (const char* part : {"environment", "profile 'default'", "container credentials", "instance metadata"})
    EXPECT_NE(e.message.find(part), std::string::npos) << part << " missing from: " << e.message;
}

TEST_F(Chain, BadSyntaxIsReportedEvenWithEnvironmentKeys) {
  box.env.set("AWS_ACCESS_KEY_ID", "AKIAENV");
  box.env.set("AWS_SECRET_ACCESS_KEY", "envsecret");
  box.config("[default]\nregion = us-east-1\n[profile x\n");
  auto e = resolve_error();
  EXPECT_NE(e.message.find(box.config_path() + " line 3"), std::string::npos) << e.message;
}

TEST_F(Chain, PartialProfileKeysAreAnError) {
  box.credentials("[half]\naws_access_key_id = AKIAHALF\n");
  auto e = resolve_error("half");
  EXPECT_NE(e.message.find("profile 'half' has aws_access_key_id but no aws_secret_access_key"), std::string::npos)
      << e.message;
}

TEST_F(Chain, RoleProfileConfigurationErrors) {
  box.credentials("[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = basesecret\n");
  box.config(
      "[profile a]\nrole_arn = arn:aws:iam::111111111111:role/A\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::111111111111:role/B\nsource_profile = c\n"
      "[profile c]\nrole_arn = arn:aws:iam::111111111111:role/C\nsource_profile = a\n"
      "[profile nosource]\nrole_arn = arn:aws:iam::111111111111:role/X\n"
      "[profile both]\nrole_arn = arn:aws:iam::111111111111:role/X\nsource_profile = base\n"
      "credential_source = Environment\n"
      "[profile missing]\nrole_arn = arn:aws:iam::111111111111:role/X\nsource_profile = nowhere\n"
      "[profile empty]\nregion = us-east-1\n"
      "[profile emptysrc]\nrole_arn = arn:aws:iam::111111111111:role/X\nsource_profile = empty\n"
      "[profile badsrc]\nrole_arn = arn:aws:iam::111111111111:role/X\ncredential_source = Laptop\n"
      "[profile dur]\nrole_arn = arn:aws:iam::111111111111:role/X\nsource_profile = base\nduration_seconds = 60\n"
      "[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/X\nsource_profile = base\n"
      "mfa_serial = arn:aws:iam::111111111111:mfa/u\n"
      "[profile notarole]\nrole_arn = arn:aws:iam::111111111111:user/X\nsource_profile = base\n"
      "[profile envsrc]\nrole_arn = arn:aws:iam::111111111111:role/X\ncredential_source = Environment\n"
      "[profile sso]\nsso_session = corp\nsso_account_id = 111111111111\n");
  struct Case {
    const char* profile;
    const char* expect;
  } cases[] = {
      {"a", "source_profile cycle: a -> b -> c -> a"},
      {"nosource", "has role_arn but neither source_profile nor credential_source"},
      {"both", "has both source_profile and credential_source"},
      {"missing", "names source_profile 'nowhere', which is not in"},
      {"emptysrc", "source_profile 'empty' of profile 'emptysrc' has no credentials"},
      {"badsrc", "unsupported credential_source 'Laptop'"},
      {"dur", "duration_seconds '60' (expected 900 to 43200)"},
      {"mfa", "mfa_serial"},
      {"notarole", "not an IAM role ARN"},
      {"envsrc", "credential_source = Environment but AWS_ACCESS_KEY_ID"},
      {"sso", "profile 'sso' uses sso_session, which containctl does not support"},
  };
  for (const auto& c : cases) {
    auto e = resolve_error(c.profile);
    EXPECT_NE(e.message.find(c.expect), std::string::npos) << c.profile << ": " << e.message;
  }
}

TEST_F(Chain, SelfSourcedRoleProfileIsNotACycle) {
  box.credentials("[self]\naws_access_key_id = AKIASELF\naws_secret_access_key = selfsecret\n");
  box.config("[profile self]\nrole_arn = arn:aws:iam::111111111111:role/Self\nsource_profile = self\n");
  ChainOptions o;
  o.profile = "self";
  o.clock = &clock;
  o.endpoints.all = "http://127.0.0.1:9";
  std::string seen_key;
  o.transport = std::make_shared<testing::ScriptedTransport>([&](const HttpRequest& r) -> Result<HttpResponse> {
    // The AssumeRole call is signed with the profile's own keys.
    std::string auth(r.header("Authorization"));
    seen_key = auth.substr(auth.find("Credential=") + 11, 8);
    return testing::http(
        403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>");
  });
  auto p = default_credentials_provider(o);
  ASSERT_TRUE(p.ok()) << p.error().describe();  // AssumeRole is lazy
  auto c = (*p)->credentials();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(seen_key, "AKIASELF");
  EXPECT_NE(c.error().message.find("arn:aws:iam::111111111111:role/Self"), std::string::npos) << c.error().message;
}

TEST_F(Chain, RegionOrder) {
  box.config("[default]\nregion = eu-west-1\n[profile dev]\nregion = ap-southeast-2\n[profile none]\noutput = json\n");
  EXPECT_EQ(resolve_region("", ""), "eu-west-1");
  EXPECT_EQ(resolve_region("", "dev"), "ap-southeast-2");
  EXPECT_EQ(resolve_region("", "none"), "us-east-1");
  box.env.set("AWS_PROFILE", "dev");
  EXPECT_EQ(resolve_region("", ""), "ap-southeast-2");
  box.env.set("AWS_DEFAULT_REGION", "ca-central-1");
  EXPECT_EQ(resolve_region("", "dev"), "ca-central-1");
  box.env.set("AWS_REGION", "sa-east-1");
  EXPECT_EQ(resolve_region("", "dev"), "sa-east-1");
  EXPECT_EQ(resolve_region("us-west-1", "dev"), "us-west-1");
  box.env.unset("AWS_REGION");
  box.env.unset("AWS_DEFAULT_REGION");
  box.env.unset("AWS_PROFILE");
  box.config("");
  EXPECT_EQ(resolve_region("", ""), "us-east-1");
}

}  // namespace
}  // namespace containctl::aws
