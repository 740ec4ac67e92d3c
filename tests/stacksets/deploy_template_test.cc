// deploy generate's template: the function's role is derived (families' actions, the member role,
// the team store's operations as the store's code calls them, scoped to its table and bucket), the
// rules filter as asked, bad flags are refused, and every variant passes cfn-lint.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <sys/wait.h>

#include "stacksets/deploy_template.h"
#include "tests/stacksets/fake_family.h"

namespace containctl::stacksets {
namespace {

namespace fs = std::filesystem;
using testing::fake_catalog;

Doc must(const DeployOptions& o) {
  auto t = auto_containment_template(o, fake_catalog());
  EXPECT_TRUE(t.ok()) << t.error().describe();
  return t.ok() ? *t : Doc{};
}

const Doc& statements(const Doc& t) {
  return t["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
}
Doc by_sid(const Doc& t, const std::string& sid) {
  for (const auto& st : statements(t))
    if (st["Sid"] == sid) return st;
  ADD_FAILURE() << "no statement " << sid;
  return {};
}

TEST(DeployTemplate, RoleIsTheFamiliesPlusMemberRoleAndTheTeamStoreOnly) {
  Doc t = must({});
  // The families' statements are exactly the member role's (one generator for both).
  for (const auto* f : fake_catalog()) {
    auto expected = family_statement(*f);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(by_sid(t, sid_for_family(f->name())), *expected);
  }
  EXPECT_EQ(by_sid(t, "AssumeMemberRole")["Action"], Doc::array({"sts:AssumeRole"}));
  EXPECT_EQ(by_sid(t, "AssumeMemberRole")["Resource"],
            Doc({{"Fn::Sub", "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"}}));
  EXPECT_EQ(t["Parameters"]["MemberRoleName"]["Default"], "ContainctlContainment");
  // The store's statements name its table and bucket, never "*".
  EXPECT_EQ(by_sid(t, "TeamStoreTable")["Resource"], Doc({{"Fn::GetAtt", {"StateTable", "Arn"}}}));
  EXPECT_EQ(by_sid(t, "TeamStoreBucket")["Resource"], Doc({{"Fn::GetAtt", {"StateBucket", "Arn"}}}));
  EXPECT_EQ(by_sid(t, "TeamStoreReadObjects")["Resource"], Doc({{"Fn::Sub", "${StateBucket.Arn}/*"}}));
  // Writes only where the store writes: the settings object (CONTAINCTL_SETTINGS) is read-only to it.
  EXPECT_EQ(by_sid(t, "TeamStoreWriteObjects")["Resource"],
            Doc::parse(R"([{"Fn::Sub": "${StateBucket.Arn}/blobs/*"}, {"Fn::Sub": "${StateBucket.Arn}/audit/checkpoints/*"},
                           {"Fn::Sub": "${StateBucket.Arn}/plans/*"}])"));
  EXPECT_EQ(by_sid(t, "TeamStoreTable")["Action"],
            Doc::array({"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                        "dynamodb:Query", "dynamodb:UpdateItem"}));
  EXPECT_EQ(by_sid(t, "TeamStoreReadObjects")["Action"], Doc::array({"s3:GetObject"}));
  EXPECT_EQ(by_sid(t, "TeamStoreWriteObjects")["Action"], Doc::array({"s3:PutObject", "s3:PutObjectRetention"}));
  // The escalation calls (support case, Security Hub note), from the same generator as the member role's.
  EXPECT_EQ(by_sid(t, "Escalation"), escalation_statement());
  // Only the families' and the escalation statements have Resource "*" (targets are chosen at
  // incident time; support cases and findings have no resource-level permissions).
  size_t star = 0;
  for (const auto& st : statements(t)) star += st["Resource"] == "*";
  EXPECT_EQ(star, fake_catalog().size() + 1);
  // --actions narrows the families, and so the role.
  DeployOptions one;
  one.actions = "fake-deny";
  Doc narrowed = must(one);
  for (const auto& st : statements(narrowed)) EXPECT_NE(st["Sid"], "FakeIsolate");
  EXPECT_EQ(by_sid(narrowed, "FakeDeny"), *family_statement(*fake_catalog()[1]));
}

// Every team-store operation the code sends (orchestrator/*.cc and aws/dynamodb.cc; `state init`
// runs with the operator's credentials, not the function's) is in team_store_operations(), and
// every entry there is still sent: the role cannot drift from the store's code.
TEST(DeployTemplate, TeamStoreOperationsMatchTheStoresCode) {
  std::set<std::string> used;
  std::regex call_re(R"re((?:call\(|operation = )"([A-Z][A-Za-z0-9]+)")re");
  std::vector<fs::path> files = {fs::path(CONTAINCTL_SOURCE_DIR) / "aws/dynamodb.cc"};
  for (const auto& e : fs::directory_iterator(fs::path(CONTAINCTL_SOURCE_DIR) / "orchestrator"))
    if (e.path().extension() == ".cc" && e.path().filename() != "state_init.cc") files.push_back(e.path());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    for (std::sregex_iterator it(text.begin(), text.end(), call_re), end; it != end; ++it) used.insert((*it)[1]);
  }
  ASSERT_TRUE(used.count("PutItem") && used.count("ListObjectsV2")) << "the scan found nothing; paths moved?";
  std::set<std::string> granted;
  for (const auto& op : team_store_operations()) granted.insert(op.operation);
  for (const auto& op : used) EXPECT_TRUE(granted.count(op)) << op << " is called but the function's role lacks it";
  for (const auto& op : granted) EXPECT_TRUE(used.count(op)) << op << " is granted but no longer called";

  // Every key the store writes starts with a granted prefix (r.key = "plans/" + ..., put_blob(..., "blobs/...")).
  std::regex write_re(R"re((?:key = |put_blob\([^;]*?, )"([A-Za-z0-9_.-]+/[A-Za-z0-9_./-]*))re");
  std::set<std::string> written;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    for (std::sregex_iterator it(text.begin(), text.end(), write_re), end; it != end; ++it) written.insert((*it)[1]);
  }
  ASSERT_TRUE(written.count("plans/") && written.count("blobs/sha256/")) << "the scan found no written keys";
  for (const auto& k : written) {
    bool covered = false;
    for (const auto& p : team_store_write_prefixes()) covered = covered || k.rfind(p, 0) == 0;
    EXPECT_TRUE(covered) << "the store writes under '" << k << "' but the function's role may not";
  }
}

TEST(DeployTemplate, RulesFilterSourcesAndSeverity) {
  Doc both = must({});
  const Doc& r = both["Resources"];
  ASSERT_TRUE(r.contains("GuardDutyRule") && r.contains("SecurityHubRule"));
  Doc gd = r["GuardDutyRule"]["Properties"]["EventPattern"];
  EXPECT_EQ(gd["source"], Doc::array({"aws.guardduty"}));
  EXPECT_EQ(gd["detail-type"], Doc::array({"GuardDuty Finding"}));
  EXPECT_FALSE(gd.contains("detail")) << "no severity filter unless asked";
  Doc sh = r["SecurityHubRule"]["Properties"]["EventPattern"];
  EXPECT_EQ(sh["detail-type"], Doc::array({"Security Hub Findings - Imported"}));
  EXPECT_EQ(sh["detail"]["findings"]["ProductArn"], Doc::parse(R"([{"wildcard": "arn:*:securityhub:*::product/aws/*"}])"));
  EXPECT_EQ(sh["detail"]["findings"]["ProductName"], Doc::parse(R"([{"anything-but": ["GuardDuty"]}])"));
  EXPECT_EQ(sh["detail"]["findings"]["RecordState"], Doc::array({"ACTIVE"}));
  EXPECT_EQ(sh["detail"]["findings"]["Compliance"], Doc::array({Doc{{"exists", false}}}));
  // Each rule may invoke the function, and only from that rule.
  EXPECT_EQ(r["GuardDutyRulePermission"]["Properties"]["SourceArn"], Doc({{"Fn::GetAtt", {"GuardDutyRule", "Arn"}}}));
  EXPECT_EQ(r["SecurityHubRulePermission"]["Properties"]["SourceArn"],
            Doc({{"Fn::GetAtt", {"SecurityHubRule", "Arn"}}}));

  DeployOptions o;
  o.sources = "securityhub";
  o.min_severity = 7;
  Doc only_sh = must(o);
  EXPECT_FALSE(only_sh["Resources"].contains("GuardDutyRule"));
  EXPECT_FALSE(only_sh["Resources"].contains("GuardDutyRulePermission"));
  Doc f = only_sh["Resources"]["SecurityHubRule"]["Properties"]["EventPattern"]["detail"]["findings"];
  EXPECT_FALSE(f.contains("ProductName")) << "GuardDuty's copies are wanted when its own rule is absent";
  EXPECT_EQ(f["Severity"]["Normalized"], Doc::parse(R"([{"numeric": [">=", 70.0]}])"));
  o.sources = "guardduty";
  o.min_severity = 4.5;
  Doc only_gd = must(o);
  EXPECT_FALSE(only_gd["Resources"].contains("SecurityHubRule"));
  EXPECT_EQ(only_gd["Resources"]["GuardDutyRule"]["Properties"]["EventPattern"]["detail"]["severity"],
            Doc::parse(R"([{"numeric": [">=", 4.5]}])"));
  EXPECT_EQ(only_gd["Resources"]["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"],
            Doc::parse(R"({"ArnEquals": {"aws:SourceArn": [{"Fn::GetAtt": ["GuardDutyRule", "Arn"]}]}})"));
}

TEST(DeployTemplate, FunctionStoreQueueAndAlarms) {
  DeployOptions o;
  o.code_bucket = "my-artifacts";
  o.code_key = "containctl/containctl-lambda.zip";
  Doc t = must(o);
  const Doc& fn = t["Resources"]["Function"]["Properties"];
  EXPECT_EQ(fn["Runtime"], "provided.al2023");
  EXPECT_EQ(fn["Handler"], "bootstrap");
  EXPECT_EQ(fn["Architectures"], Doc::array({"x86_64"}));
  EXPECT_EQ(fn["MemorySize"], kFunctionMemoryMb);
  EXPECT_EQ(fn["Timeout"], kFunctionTimeoutSeconds);
  EXPECT_EQ(fn["Environment"]["Variables"]["CONTAINCTL_SETTINGS"], Doc({{"Fn::Sub", "s3://${StateBucket}/${SettingsKey}"}}));
  EXPECT_EQ(fn["DeadLetterConfig"]["TargetArn"], Doc({{"Fn::GetAtt", {"DeadLetterQueue", "Arn"}}}));
  EXPECT_EQ(t["Parameters"]["CodeBucket"]["Default"], "my-artifacts");
  EXPECT_EQ(t["Parameters"]["CodeKey"]["Default"], "containctl/containctl-lambda.zip");
  EXPECT_FALSE(must({})["Parameters"]["CodeBucket"].contains("Default")) << "no location given: asked at deploy time";

  const Doc& table = t["Resources"]["StateTable"]["Properties"];
  EXPECT_EQ(table["KeySchema"], Doc::parse(R"([{"AttributeName": "pk", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}])"));
  EXPECT_EQ(t["Resources"]["StateTable"]["DeletionPolicy"], "Retain");
  const Doc& bucket = t["Resources"]["StateBucket"]["Properties"];
  EXPECT_EQ(bucket["VersioningConfiguration"]["Status"], "Enabled");
  EXPECT_EQ(bucket["PublicAccessBlockConfiguration"],
            Doc::parse(R"({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true,
                           "RestrictPublicBuckets": true})"));
  EXPECT_EQ(bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                  ["SSEAlgorithm"],
            "AES256");
  EXPECT_EQ(t["Resources"]["FunctionErrorsAlarm"]["Properties"]["MetricName"], "Errors");
  EXPECT_EQ(t["Resources"]["FunctionErrorsAlarm"]["Properties"]["Dimensions"][0]["Value"], Doc({{"Ref", "Function"}}));
  EXPECT_EQ(t["Resources"]["DeadLetterQueue"]["Type"], "AWS::SQS::Queue");
}

TEST(DeployTemplate, BadFlagsAreRefusedNamingTheProblem) {
  auto err = [](DeployOptions o) {
    auto t = auto_containment_template(o, fake_catalog());
    EXPECT_FALSE(t.ok());
    return t.ok() ? Error{} : t.error();
  };
  DeployOptions o;
  o.sources = "guardduty,cloudtrail";
  EXPECT_NE(err(o).message.find("unknown source 'cloudtrail'"), std::string::npos);
  o = {};
  o.min_severity = 11;
  EXPECT_NE(err(o).message.find("--min-severity must be between 0 and 10"), std::string::npos);
  o.min_severity = -0.5;
  EXPECT_EQ(err(o).code, "InvalidSeverity");
  o = {};
  o.code_bucket = "bucket-only";
  EXPECT_EQ(err(o).kind, ErrorKind::kUsage);
  o.code_key = "k";
  o.code_bucket = "Not_A_Bucket";
  EXPECT_NE(err(o).message.find("'Not_A_Bucket' is not a valid S3 bucket name"), std::string::npos);
  o = {};
  o.member_role_name = "role/with/slash";
  EXPECT_EQ(err(o).code, "InvalidRoleName");
  o = {};
  o.actions = "fake-nope";
  EXPECT_EQ(err(o).code, "UnknownActionFamily");
}

TEST(DeployTemplate, EveryVariantPassesCfnLint) {
  fs::path dir = fs::temp_directory_path() / ("containctl-deploy-lint-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string cmd = "cfn-lint --format parseable --";
  int n = 0;
  for (const char* sources : {"", "guardduty", "securityhub"}) {
    for (Format f : {Format::kYaml, Format::kJson}) {
      DeployOptions o;
      o.sources = sources;
      o.format = f;
      if (n % 2) o.min_severity = 7;
      if (n % 3 == 0) o.code_bucket = "artifacts", o.code_key = "containctl-lambda.zip";
      std::string text = emit(must(o), f);
      fs::path p = dir / ("t" + std::to_string(n++) + "." + extension(f));
      std::ofstream(p) << text;
      if (f == Format::kJson) {
        EXPECT_EQ(Doc::parse(text), must(o));
      }
      cmd += " '" + p.string() + "'";
    }
  }
  FILE* pipe = ::popen((cmd + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  for (size_t k; (k = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, k);
  int st = ::pclose(pipe);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << out;
  EXPECT_EQ(out, "") << "cfn-lint reported issues";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace containctl::stacksets
