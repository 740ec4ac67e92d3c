// The real containctl binary: stackset generate / policy / deploy, exit codes 0, 1 (bad input) and
// 2 (usage), and the generated files pass cfn-lint.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actions/registry.h"
#include "tests/support/moto_server.h"

namespace containctl::stacksets {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

fs::path scratch() {
  static fs::path d = [] {
    fs::path p = fs::temp_directory_path() / ("containctl-stackset-cli-" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
  }();
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs the binary with a clean AWS environment (no real profile, no real endpoint: anything it
// tried to reach would be 127.0.0.1:9 unless the test points it at moto).
RunResult containctl(const std::string& args, const std::string& extra_env = "") {
  fs::path out = scratch() / "stdout", err = scratch() / "stderr";
  std::string cmd = "env -i PATH=\"$PATH\" HOME='" + scratch().string() +
                    "' AWS_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=testing "
                    "AWS_SECRET_ACCESS_KEY=testing " + extra_env + " '" CONTAINCTL_BINARY "' " + args + " >'" +
                    out.string() + "' 2>'" + err.string() + "'";
  int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

const std::string kTrust = " --trusted-principal arn:aws:iam::999999999999:role/IncidentResponder";

TEST(StacksetCli, BinaryExists) { ASSERT_TRUE(fs::exists(CONTAINCTL_BINARY)) << "build the containctl target first"; }

TEST(StacksetCli, GenerateIsDeterministicAndUsesTheRegistry) {
  RunResult a = containctl("stackset generate" + kTrust);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("RoleName: ContainctlContainment"), std::string::npos) << a.out;
  for (auto* f : actions::all_families()) EXPECT_NE(a.out.find(f->name()), std::string::npos) << f->name();
  RunResult b = containctl("stackset generate" + kTrust);
  EXPECT_EQ(a.out, b.out);
  RunResult j = containctl("stackset generate --format json --member-role-name IrRole" + kTrust);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["Resources"]["ContainmentRole"]["Properties"]["RoleName"], "IrRole");
}

TEST(StacksetCli, GenerateToDirectoryPassesCfnLint) {
  fs::path dir = scratch() / "sm";
  RunResult r = containctl("stackset generate --model service-managed --org-root r-ab12 --regions eu-west-1 -o '" +
                     dir.string() + "'" + kTrust);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(dir / "containctl-stackset.yaml"));
  ASSERT_TRUE(fs::exists(dir / "containctl-management-account.yaml"));
  fs::path sir = scratch() / "sir";
  r = containctl("stackset generate --variant aws-sir --accounts 111111111111,222222222222 --format json -o '" +
                 sir.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string cmd = "cfn-lint --format parseable -- '" + (dir / "containctl-stackset.yaml").string() + "' '" +
                    (dir / "containctl-management-account.yaml").string() + "'";
  for (const char* f : {"aws-sir-stackset.json", "aws-sir-stackset-administration-role.json",
                        "aws-sir-stackset-execution-role.json"}) {
    ASSERT_TRUE(fs::exists(sir / f)) << f;
    cmd += " '" + (sir / f).string() + "'";
  }
  int status = std::system((cmd + " > '" + (scratch() / "lint").string() + "' 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(scratch() / "lint");
  EXPECT_EQ(slurp(scratch() / "lint"), "");
}

TEST(StacksetCli, PolicyPrintsEachFamilysActions) {
  RunResult r = containctl("--output json stackset policy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc.size(), actions::all_families().size());
  for (auto* f : actions::all_families()) {
    ASSERT_TRUE(doc.contains(f->name())) << f->name();
    auto acts = f->iam_actions();
    std::set<std::string> want(acts.begin(), acts.end());
    auto got = doc[f->name()]["Statement"][0]["Action"].get<std::vector<std::string>>();
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want) << f->name();
  }
  RunResult text = containctl("stackset policy");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("\"Version\": \"2012-10-17\""), std::string::npos);
}

TEST(StacksetCli, BadInputExitsOneAndUsageExitsTwo) {
  RunResult r = containctl("stackset generate --regions us-east-1,eu-west-1" + kTrust);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("IAM is global"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");

  r = containctl("stackset policy --actions ec2-nuke");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ec2-nuke"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(actions::family_names()), std::string::npos) << r.err;

  r = containctl("stackset generate --accounts 12345" + kTrust);
  EXPECT_EQ(r.exit_code, 1) << r.err;

  r = containctl("stackset generate --accounts 111111111111 --org-root r-ab12" + kTrust);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = containctl("stackset generate --model self-managed" + kTrust);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = containctl("stackset generate");  // containctl role trusted by nobody
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--trusted-principal"), std::string::npos) << r.err;
  r = containctl("stackset generate --model nope" + kTrust);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // deploy validates before it touches credentials or the network.
  r = containctl("stackset deploy --model service-managed --accounts 111111111111" + kTrust);
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(StacksetCli, DeployStackModelAgainstMoto) {
  containctl::testing::MotoServer moto;
  RunResult r = containctl("--output json --endpoint-url " + moto.url() + " stackset deploy --variant aws-sir --wait");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["stack"]["name"], "SecurityIRContainmentRoles");
  EXPECT_EQ(doc["stack"]["account"], "123456789012");
  EXPECT_EQ(doc["stack"]["status"], "CREATE_COMPLETE");
  EXPECT_TRUE(doc["failures"].empty());
  auto client = moto.client();
  for (const char* role : {"AWSSecurityIncidentResponseContainment", "AWSSecurityIncidentResponseContainmentExecution"}) {
    auto got = client->query("iam", "us-east-1", "GetRole", {{"RoleName", role}});
    EXPECT_TRUE(got.ok()) << role << ": " << got.error().describe();
  }
}

}  // namespace
}  // namespace containctl::stacksets
