// Protection judges the real ARN. An attacker (or a finding they wrote) names a protected role
// with another IAM path or spelling; discovery finds the real role by name; containment must still
// be refused and the role left alone. Through the real binary against moto_server.
#include <cstdlib>

#include "aws/arn.h"
#include "orchestrator/plan_file.h"
#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eProtectTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    seed(1);
  }
  // Creates a role in moto with `path`; returns its real ARN.
  std::string make_role(const std::string& name, const std::string& path) {
    std::string out = py("r = iam.create_role(RoleName='" + name + "', Path='" + path +
                         "', AssumeRolePolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': []}))\n"
                         "print(r['Role']['Arn'])");
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  // What containment would have changed on the role: its inline and attached policies.
  json role_state(const std::string& name) {
    return json::parse(py("print(json.dumps({'inline': iam.list_role_policies(RoleName='" + name +
                          "')['PolicyNames'], 'attached': iam.list_attached_role_policies(RoleName='" + name +
                          "')['AttachedPolicies']}))"));
  }
  std::string py(const std::string& body) {
    std::string script = dir_ + "/role.py";
    write_file(script, "import boto3, json\niam = boto3.client('iam', endpoint_url='" + moto().url() +
                           "', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n" +
                           body + "\n");
    FILE* p = ::popen(("python3 '" + script + "'").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    EXPECT_EQ(p ? ::pclose(p) : -1, 0) << body;
    return out;
  }
  // Plans `target` under `protected_arns` in auto mode; the plan must refuse it (exit 0, listed
  // under refused with `reason`), apply must refuse (exit 3) and the role must be untouched.
  void expect_refused(const std::string& target, const json& protected_arns, const std::string& role,
                      const std::vector<std::string>& reason) {
    json s = org_settings("auto");
    s["protected"] = protected_arns;
    write_settings(s);
    json before = role_state(role);
    Proc p = plan({"--target", target});
    ASSERT_EQ(p.code, 0) << p.all();
    json doc = json::parse(slurp(dir_ + "/plan.json"));
    ASSERT_EQ(doc["refused"].size(), 1u) << doc.dump(1);
    EXPECT_EQ(doc["targets"].size(), 0u) << doc.dump(1);
    for (const auto& r : reason)
      EXPECT_NE(doc["refused"][0]["reason"].get<std::string>().find(r), std::string::npos) << doc["refused"].dump(1);
    size_t mark = audit_count();
    Proc a = run({"apply", "plan.json"});
    EXPECT_EQ(a.code, 3) << a.all();
    EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{}) << a.all();
    EXPECT_EQ(role_state(role), before);
  }
};

TEST_F(E2eProtectTest, ProtectedRoleNamedWithAnotherPathIsRefused) {
  std::string real = make_role("BreakGlass", "/");
  ASSERT_EQ(real, "arn:aws:iam::123456789012:role/BreakGlass");
  expect_refused("arn:aws:iam::123456789012:role/x/BreakGlass", {real}, "BreakGlass", {"protected"});
}

TEST_F(E2eProtectTest, ProtectedRoleNamedInAnotherCaseIsRefused) {
  std::string real = make_role("BreakGlass", "/");
  expect_refused("arn:aws:iam::123456789012:role/breakglass", {real}, "BreakGlass", {"protected"});
}

// The protection names the real path; the target names the role without it. Only the ARN that
// discovery reads back shows the role is protected.
TEST_F(E2eProtectTest, RoleWhoseRealPathIsProtectedIsRefusedNamingBothArns) {
  std::string real = make_role("Ops", "/admin/");
  ASSERT_EQ(real, "arn:aws:iam::123456789012:role/admin/Ops");
  expect_refused("arn:aws:iam::123456789012:role/Ops", {"arn:aws:iam::*:role/admin/*"}, "Ops",
                 {"arn:aws:iam::123456789012:role/Ops", real});
}

// Without any protection, a target whose path is not the role's real one is still refused: the
// plan names what AWS reports instead.
TEST_F(E2eProtectTest, TargetWithAWrongPathIsRefusedNamingBoth) {
  std::string real = make_role("App", "/svc/");
  expect_refused("arn:aws:iam::123456789012:role/other/App", json::array(), "App",
                 {"arn:aws:iam::123456789012:role/other/App", real, "path"});
}

// The real ARN passes through: a role planned by its real path is planned as usual.
TEST_F(E2eProtectTest, TargetWithTheRealPathIsPlanned) {
  std::string real = make_role("App", "/svc/");
  write_settings(org_settings("auto"));
  Proc p = plan({"--target", real});
  ASSERT_EQ(p.code, 0) << p.all();
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  ASSERT_EQ(doc["targets"].size(), 1u) << doc.dump(1);
  EXPECT_EQ(doc["targets"][0]["target"], real);
  EXPECT_EQ(doc["refused"].size(), 0u);
}

// A hand-edited plan (hash recomputed, so the integrity check passes) whose target is not the ARN
// discovery read back: protection judged the discovered ARN at plan time, so apply refuses the
// entry with exit 3 naming both ARNs, before any mutating call.
TEST_F(E2eProtectTest, HandEditedTargetThatIsNotTheDiscoveredArnIsRefusedAtApply) {
  std::string real = make_role("App", "/svc/");
  write_settings(org_settings("auto"));
  Proc p = plan({"--target", real});
  ASSERT_EQ(p.code, 0) << p.all();
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  ASSERT_EQ(doc["targets"].size(), 1u) << doc.dump(1);
  ASSERT_EQ(doc["targets"][0]["discovered"]["arn"], real) << doc["targets"][0].dump(1);
  ASSERT_GE(doc["targets"][0]["steps"].size(), 1u);
  const std::string edited = "arn:aws:iam::123456789012:role/other/App";
  doc["targets"][0]["target"] = edited;
  doc["plan_hash"] = orch::compute_plan_hash(doc);
  write_file(dir_ + "/plan.json", doc.dump(2));
  json before = role_state("App");
  size_t mark = audit_count();
  Proc a = run({"apply", "plan.json"});
  EXPECT_EQ(a.code, 3) << a.all();
  EXPECT_NE(a.err.find(edited), std::string::npos) << a.all();
  EXPECT_NE(a.err.find(real), std::string::npos) << a.all();
  EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{}) << a.all();
  EXPECT_EQ(role_state("App"), before);
}

// containctl runs as a role assumed from a source profile whose keys belong to user e2e-responder.
// That user is a link of containctl's own identity: containing it would deactivate the key that
// every later call (and the rollback) depends on.
TEST_F(E2eProtectTest, SourceUserBehindTheAssumedRoleIsRefused) {
  make_role("Responder", "/");
  write_file(dir_ + "/home/aws-config", "[profile base]\naws_access_key_id = " + key_id_ +
                                            "\naws_secret_access_key = " + secret_ +
                                            "\n\n[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/Responder\n"
                                            "source_profile = base\n");
  std::map<std::string, std::string> env = {{"AWS_PROFILE", "ops"},
                                            {"AWS_CONFIG_FILE", dir_ + "/home/aws-config"},
                                            {"AWS_SHARED_CREDENTIALS_FILE", dir_ + "/home/none"},
                                            {"AWS_ACCESS_KEY_ID", ""},
                                            {"AWS_SECRET_ACCESS_KEY", ""}};
  write_settings(org_settings("auto"));
  json before = world_state();
  const std::string responder = "arn:aws:iam::123456789012:user/e2e-responder";
  Proc p = run({"plan", "--target", responder, "-o", "plan.json"}, env);
  ASSERT_EQ(p.code, 0) << p.all();
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  EXPECT_NE(doc["caller"]["arn"].get<std::string>().find("assumed-role/Responder"), std::string::npos) << doc["caller"];
  ASSERT_EQ(doc["refused"].size(), 1u) << doc.dump(1);
  EXPECT_NE(doc["refused"][0]["reason"].get<std::string>().find("identity containctl runs as"), std::string::npos)
      << doc["refused"].dump(1);
  EXPECT_NE(doc["refused"][0]["reason"].get<std::string>().find("source"), std::string::npos) << doc["refused"].dump(1);
  size_t mark = audit_count();
  Proc a = run({"apply", "plan.json"}, env);
  EXPECT_EQ(a.code, 3) << a.all();
  EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{}) << a.all();
  EXPECT_EQ(world_state(), before);
}

// containctl runs on an EC2 instance with credentials from instance metadata (a stand-in serving
// real moto STS credentials of role InstanceRole, session named after the instance, as EC2 names
// them). The instance and its role are links of containctl's own identity: isolating the instance
// would cut containctl off mid-run, so both are refused and nothing is changed.
TEST_F(E2eProtectTest, InstanceServingTheCredentialsAndItsRoleAreRefused) {
  const std::string instance = seed_["instance_arns"][0];
  auto parsed = aws::parse_arn(instance);
  ASSERT_TRUE(parsed.ok());
  const std::string port_file = dir_ + "/imds.port", stop_file = dir_ + "/imds.stop";
  struct Stop {
    std::string file;
    ~Stop() { std::ofstream(file) << "stop"; }
  } stop{stop_file};
  std::string cmd = "python3 '" CONTAINCTL_SOURCE_DIR "/tests/data/e2e/imds.py' '" + moto().url() + "' InstanceRole " +
                    parsed->name + " '" + port_file + "' '" + stop_file + "' >'" + dir_ + "/imds.log' 2>&1 &";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  for (int i = 0; i < 600 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(port_file)) << slurp(dir_ + "/imds.log");
  const std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", ""},
                                                  {"AWS_SECRET_ACCESS_KEY", ""},
                                                  {"AWS_EC2_METADATA_DISABLED", "false"},
                                                  {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + slurp(port_file)},
                                                  {"AWS_CONFIG_FILE", dir_ + "/home/none"},
                                                  {"AWS_SHARED_CREDENTIALS_FILE", dir_ + "/home/none"}};
  write_settings(org_settings("auto"));
  json before = world_state();
  for (const auto& [target, why] : std::vector<std::pair<std::string, std::string>>{
           {instance, "the instance whose metadata serves the credentials"},
           {"arn:aws:iam::123456789012:role/InstanceRole", "identity containctl runs as"}}) {
    Proc p = run({"plan", "--target", target, "-o", "plan.json"}, env);
    ASSERT_EQ(p.code, 0) << p.all();
    json doc = json::parse(slurp(dir_ + "/plan.json"));
    EXPECT_NE(doc["caller"]["arn"].get<std::string>().find("assumed-role/InstanceRole/" + parsed->name),
              std::string::npos)
        << doc["caller"];
    ASSERT_EQ(doc["refused"].size(), 1u) << doc.dump(1);
    EXPECT_NE(doc["refused"][0]["reason"].get<std::string>().find(why), std::string::npos) << doc["refused"].dump(1);
    size_t mark = audit_count();
    Proc a = run({"apply", "plan.json"}, env);
    EXPECT_EQ(a.code, 3) << a.all();
    EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{}) << a.all();
  }
  EXPECT_EQ(world_state(), before);
}

}  // namespace
}  // namespace containctl::e2e
