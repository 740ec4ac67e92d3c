// Settings from S3 (s3://BUCKET/KEY) and SSM (ssm:NAME) through $CONTAINCTL_SETTINGS and
// --settings, for any command: the real binary against moto_server on 127.0.0.1.
#include "orchestrator/settings.h"
#include "orchestrator/settings_source.h"
#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eSettingsSourceTest : public E2eTest {
 protected:
  void put_object(const std::string& bucket, const std::string& key, const std::string& body) {
    auto c = moto().client();
    aws::RestRequest mk;
    mk.operation = "CreateBucket";
    mk.method = "PUT";
    mk.bucket = bucket;
    (void)c->rest_xml("s3", "us-east-1", mk);  // may exist already
    aws::RestRequest put;
    put.operation = "PutObject";
    put.method = "PUT";
    put.bucket = bucket;
    put.key = key;
    put.body = body;
    ASSERT_TRUE(c->rest_xml("s3", "us-east-1", put).ok());
  }
  void put_parameter(const std::string& name, const std::string& value) {
    auto c = moto().client();
    auto r = c->json("ssm", "us-east-1", "AmazonSSM", "PutParameter",
                     {{"Name", name}, {"Value", value}, {"Type", "SecureString"}, {"Overwrite", true}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  // Plans the seeded instance; returns the plan (or null when planning failed).
  json plan_with(const std::map<std::string, std::string>& env, std::vector<std::string> pre, Proc* out = nullptr) {
    std::vector<std::string> args = pre;
    args.insert(args.end(), {"--output", "json", "plan", "--target", seed_["instance_arns"][0].get<std::string>(),
                             "-o", "plan.json"});
    fs::remove(dir_ + "/plan.json");
    Proc p = run(args, env);
    if (out) *out = p;
    if (p.code != 0) return nullptr;
    return json::parse(slurp(dir_ + "/plan.json"));
  }
  static std::string decision(const json& plan) { return plan["targets"][0]["gate"]["decision"]; }
};

TEST_F(E2eSettingsSourceTest, S3AndSsmSettingsAreTheOnesInForce) {
  seed(1);
  // Local settings say none; the remote ones say auto: the decision shows which was read.
  write_settings(org_settings("none"));
  put_object("containctl-config", "team/settings.json", org_settings("auto").dump());
  put_parameter("/containctl/settings", org_settings("approval").dump());

  json local = plan_with({}, {});
  ASSERT_FALSE(local.is_null());
  EXPECT_EQ(decision(local), "refused");

  json s3 = plan_with({{"CONTAINCTL_SETTINGS", "s3://containctl-config/team/settings.json"}}, {});
  ASSERT_FALSE(s3.is_null());
  EXPECT_EQ(decision(s3), "auto");
  EXPECT_EQ(s3["settings"]["path"], "s3://containctl-config/team/settings.json");
  EXPECT_EQ(s3["settings"]["present"], true);

  json ssm = plan_with({{"CONTAINCTL_SETTINGS", "ssm:/containctl/settings"}}, {});
  ASSERT_FALSE(ssm.is_null());
  EXPECT_EQ(decision(ssm), "approval");
  EXPECT_EQ(ssm["settings"]["path"], "ssm:/containctl/settings");

  // --settings takes the same forms and wins over the environment.
  json flag = plan_with({{"CONTAINCTL_SETTINGS", "ssm:/containctl/settings"}},
                        {"--settings", "s3://containctl-config/team/settings.json"});
  ASSERT_FALSE(flag.is_null());
  EXPECT_EQ(decision(flag), "auto");
}

TEST_F(E2eSettingsSourceTest, MissingOrBrokenRemoteSettingsAreClearErrorsAndChangeNothing) {
  seed(1);
  write_settings(org_settings("auto"));  // would contain, were it read
  put_object("containctl-config", "broken.json", "{\"organization\": {\"mode\": ");
  json before = seeded_state();
  struct Case {
    std::string source, expect;
  } cases[] = {
      {"s3://containctl-config/missing.json", "NoSuchKey"},
      {"s3://no-such-bucket-here/settings.json", "NoSuchBucket"},
      {"ssm:/containctl/missing", "ParameterNotFound"},
      {"s3://containctl-config/broken.json", "not valid JSON"},
  };
  for (const auto& c : cases) {
    Proc p;
    json plan = plan_with({{"CONTAINCTL_SETTINGS", c.source}}, {}, &p);
    EXPECT_TRUE(plan.is_null()) << c.source;
    EXPECT_EQ(p.code, 1) << c.source << "\n" << p.all();
    EXPECT_NE(p.err.find(c.source), std::string::npos) << "the error names the source: " << p.err;
    EXPECT_NE(p.err.find(c.expect), std::string::npos) << p.err;
    // respond under the same broken source makes no change either.
    Proc r = run({"respond", "--finding", CONTAINCTL_SOURCE_DIR "/tests/data/findings/guardduty_instance.json"},
                 {{"CONTAINCTL_SETTINGS", c.source}});
    EXPECT_EQ(r.code, 1) << r.all();
    EXPECT_NE(r.err.find(c.source), std::string::npos) << r.err;
  }
  for (const char* bad : {"s3://", "s3://bucket-only", "ssm:", "ssm:bad name"}) {
    Proc p = run({"status"}, {{"CONTAINCTL_SETTINGS", bad}});
    EXPECT_EQ(p.code, 2) << bad << "\n" << p.all();
    EXPECT_NE(p.err.find("settings source"), std::string::npos) << p.err;
  }
  EXPECT_EQ(world_state(), before) << "nothing changed";
  EXPECT_TRUE(mutating_calls_since(0).empty());
}

// A caller that bypasses the source-aware loader gets an error, never "no settings" (mode none).
TEST(SettingsSource, TheFileLoaderRefusesRemoteSpecs) {
  for (const char* spec : {"s3://containctl-config/settings.json", "ssm:/containctl/settings"}) {
    auto r = orch::load_settings(spec);
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_NE(r.error().message.find(spec), std::string::npos) << r.error().message;
  }
  auto file = orch::parse_settings_source("./s3:/not-a-url.json");
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(file->remote());
}

// Settings from S3 or SSM have no folder: a relative approver key path would be read from the
// working directory of whoever runs the command (their own key under the approver's name).
TEST(SettingsSource, RemoteSettingsNeedAbsoluteApproverKeyPaths) {
  const std::string relative = R"({"approvers": {"alice": "keys/alice.pub.pem"}})";
  auto r = orch::parse_remote_settings(relative, "s3://containctl-config/settings.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("approvers.alice"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("absolute"), std::string::npos) << r.error().message;
  auto absolute = orch::parse_remote_settings(R"({"approvers": {"alice": "/etc/containctl/alice.pub.pem"}})",
                                              "ssm:/containctl/settings");
  ASSERT_TRUE(absolute.ok()) << absolute.error().message;
  EXPECT_EQ(absolute->approvers.at("alice").public_key, "/etc/containctl/alice.pub.pem");
}

}  // namespace
}  // namespace containctl::e2e
