// deploy generate's template deployed to moto's CloudFormation: CreateStack, then
// DescribeStackResources lists the resources moto creates, and each is read back from its own
// service. The team store the stack makes is the one the aws journal backend uses: `state init`'s
// key-schema check calls it present, and a run written through AwsJournal reads back.
//
// moto 5.2.1 creates 10 of the template's 14 resources. It has no CloudFormation model for
// AWS::S3::BucketPolicy, AWS::SQS::QueuePolicy and AWS::CloudWatch::Alarm (it skips them with
// "No Moto CloudFormation support"), and of the bucket's properties it applies only
// BucketEncryption and Tags (versioning, public access block and ownership are not applied).
// Those properties and resources are checked by cfn-lint against the resource specification
// (tests/stacksets/deploy_template_test.cc), not here.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <vector>
#include <sys/wait.h>

#include "aws/dynamodb.h"
#include "orchestrator/journal_aws.h"
#include "orchestrator/state_init.h"
#include "tests/support/moto_server.h"

namespace containctl::orch {
namespace {

using containctl::testing::MotoServer;
using nlohmann::json;

const std::string kRegion = "us-east-1";
const std::string kAccount = "123456789012";

std::string generate(const std::string& args, int& code) {
  std::string cmd = "env -i PATH=/usr/bin:/bin HOME=/nonexistent '" CONTAINCTL_BINARY "' deploy generate " + args;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; p && (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int st = p ? ::pclose(p) : -1;
  code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// Lambda and EventBridge read back with boto3: containctl's own client speaks only the services
// the product calls, and these two are not among them.
json read_back(const std::string& url, const std::string& function, const std::vector<std::string>& rules) {
  std::string script =
      "import boto3, json, sys\n"
      "kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing',"
      " aws_secret_access_key='testing')\n"
      "lam = boto3.client('lambda', **kw); ev = boto3.client('events', **kw)\n"
      "out = {'function': lam.get_function(FunctionName=sys.argv[2])['Configuration'],"
      " 'policy': json.loads(lam.get_policy(FunctionName=sys.argv[2])['Policy']), 'rules': {}}\n"
      "for r in sys.argv[3:]:\n"
      "    out['rules'][r] = {'pattern': json.loads(ev.describe_rule(Name=r)['EventPattern']),"
      " 'targets': ev.list_targets_by_rule(Rule=r)['Targets']}\n"
      "print(json.dumps(out, default=str))\n";
  std::string path = ::testing::TempDir() + "deploy_read_back_" + std::to_string(::getpid()) + ".py";
  std::ofstream(path) << script;
  std::string cmd = "python3 '" + path + "' '" + url + "' '" + function + "'";
  for (const auto& r : rules) cmd += " '" + r + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; p && (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int st = p ? ::pclose(p) : -1;
  EXPECT_EQ(st, 0) << out;
  std::remove(path.c_str());
  return json::parse(out, nullptr, false);
}

class DeployMoto : public ::testing::Test {
 protected:
  static MotoServer& moto() {
    static MotoServer server;
    return server;
  }
  void SetUp() override {
    moto().reset();
    client_ = std::shared_ptr<aws::AwsClient>(moto().client());
  }

  void put_code() {
    aws::RestRequest mk;
    mk.operation = "CreateBucket";
    mk.method = "PUT";
    mk.bucket = "containctl-code";
    ASSERT_TRUE(client_->rest_xml("s3", kRegion, mk).ok());
    aws::RestRequest put;
    put.operation = "PutObject";
    put.method = "PUT";
    put.bucket = "containctl-code";
    put.key = "containctl-lambda.zip";
    put.body = std::string("PK\x05\x06", 4) + std::string(18, '\0');  // an empty zip
    ASSERT_TRUE(client_->rest_xml("s3", kRegion, put).ok());
  }

  // CreateStack with the template, then the resources by logical id: {type, physical id}.
  std::map<std::string, std::pair<std::string, std::string>> create_stack(const std::string& body) {
    auto created = client_->query("cloudformation", kRegion, "CreateStack",
                                  {{"StackName", "containctl-auto"}, {"TemplateBody", body},
                                   {"Capabilities.member.1", "CAPABILITY_IAM"}});
    EXPECT_TRUE(created.ok()) << created.error().describe();
    auto d = client_->query("cloudformation", kRegion, "DescribeStacks", {{"StackName", "containctl-auto"}});
    EXPECT_TRUE(d.ok());
    if (d.ok()) {
      std::string status = d->root().child("DescribeStacksResult").child("Stacks").child("member").child_value("StackStatus");
      EXPECT_EQ(status, "CREATE_COMPLETE");
    }
    std::map<std::string, std::pair<std::string, std::string>> out;
    auto r = client_->query("cloudformation", kRegion, "DescribeStackResources", {{"StackName", "containctl-auto"}});
    EXPECT_TRUE(r.ok()) << r.error().describe();
    if (!r.ok()) return out;
    for (auto m : r->root().child("DescribeStackResourcesResult").child("StackResources").children("member")) {
      std::string id = m.child_value("LogicalResourceId");
      if (id.empty()) continue;  // moto lists the types it skipped without an id
      EXPECT_EQ(std::string(m.child_value("ResourceStatus")), "CREATE_COMPLETE") << id;
      out[id] = {m.child_value("ResourceType"), m.child_value("PhysicalResourceId")};
    }
    return out;
  }

  std::shared_ptr<aws::AwsClient> client_;
};

TEST_F(DeployMoto, StackCreatesTheRulesFunctionRoleStoreAndQueue) {
  put_code();
  int code = -1;
  std::string body = generate("--format json --code-bucket containctl-code --code-key containctl-lambda.zip", code);
  ASSERT_EQ(code, 0) << body;
  auto res = create_stack(body);

  const std::map<std::string, std::string> expected = {
      {"StateTable", "AWS::DynamoDB::Table"},   {"StateBucket", "AWS::S3::Bucket"},
      {"DeadLetterQueue", "AWS::SQS::Queue"},   {"FunctionLogGroup", "AWS::Logs::LogGroup"},
      {"FunctionRole", "AWS::IAM::Role"},       {"Function", "AWS::Lambda::Function"},
      {"GuardDutyRule", "AWS::Events::Rule"},   {"GuardDutyRulePermission", "AWS::Lambda::Permission"},
      {"SecurityHubRule", "AWS::Events::Rule"}, {"SecurityHubRulePermission", "AWS::Lambda::Permission"}};
  for (const auto& [id, type] : expected) {
    ASSERT_TRUE(res.count(id)) << id << " was not created";
    EXPECT_EQ(res[id].first, type) << id;
  }

  // The table: the journal's key schema, as `state init` checks it, and a run round-trips.
  StateSettings st;
  st.backend = "aws";
  st.table = res["StateTable"].second;
  st.bucket = res["StateBucket"].second;
  st.region = kRegion;
  EXPECT_EQ(st.table, "containctl-state");
  EXPECT_EQ(st.bucket, "containctl-state-" + kAccount + "-" + kRegion);
  auto init = init_team_store(*client_, st, false, "");
  ASSERT_TRUE(init.ok()) << init.error().describe();
  ASSERT_GE(init->size(), 2u);
  EXPECT_EQ((*init)[0].result, "present") << (*init)[0].what;
  aws::ManualClock clock{std::chrono::system_clock::now()};
  AwsJournal journal(client_, kRegion, st.table, st.bucket, clock);
  RunRecord run;
  run.run_id = "run-deploy-moto";
  run.status = "running";
  run.started_at = "2026-12-01T00:00:00Z";
  run.mode = "auto";
  run.plan = json::object();
  ASSERT_TRUE(journal.create_run(run, {}).ok());
  auto back = journal.run("run-deploy-moto");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->status, "running");

  // The bucket: default encryption as the template says.
  aws::RestRequest enc;
  enc.operation = "GetBucketEncryption";
  enc.bucket = st.bucket;
  enc.query = {{"encryption", ""}};
  auto e = client_->rest_xml("s3", kRegion, enc);
  ASSERT_TRUE(e.ok()) << e.error().describe();
  EXPECT_NE(e->body.find("AES256"), std::string::npos) << e->body;

  // The function: runtime, handler, size, and where its settings are.
  json rb = read_back(moto().url(), res["Function"].second, {res["GuardDutyRule"].second, res["SecurityHubRule"].second});
  ASSERT_FALSE(rb.is_discarded());
  const json& cfg = rb["function"];
  EXPECT_EQ(cfg["Runtime"], "provided.al2023");
  EXPECT_EQ(cfg["Handler"], "bootstrap");
  EXPECT_EQ(cfg["MemorySize"], 512);
  EXPECT_EQ(cfg["Timeout"], 300);
  EXPECT_EQ(cfg["Architectures"], json::array({"x86_64"}));
  EXPECT_EQ(cfg["Environment"]["Variables"]["CONTAINCTL_SETTINGS"], "s3://" + st.bucket + "/settings.json");
  EXPECT_NE(cfg["Role"].get<std::string>().find(res["FunctionRole"].second), std::string::npos);

  // The rules: each targets the function, with the dead-letter queue.
  for (const char* rule : {"GuardDutyRule", "SecurityHubRule"}) {
    const json& targets = rb["rules"][res[rule].second]["targets"];
    ASSERT_EQ(targets.size(), 1u) << rule;
    EXPECT_EQ(targets[0]["Arn"], cfg["FunctionArn"]) << rule;
    EXPECT_NE(targets[0]["DeadLetterConfig"]["Arn"].get<std::string>().find("DeadLetterQueue"), std::string::npos);
  }
  EXPECT_EQ(rb["rules"][res["GuardDutyRule"].second]["pattern"]["detail-type"], json::array({"GuardDuty Finding"}));
  // The function's resource policy lets each rule, and only it, invoke the function.
  const json& policy = rb["policy"];
  ASSERT_EQ(policy["Statement"].size(), 2u);
  std::set<std::string> sources;
  for (const auto& s : policy["Statement"]) {
    EXPECT_EQ(s["Principal"]["Service"], "events.amazonaws.com");
    EXPECT_EQ(s["Action"], "lambda:InvokeFunction");
    sources.insert(s["Condition"]["ArnLike"]["AWS:SourceArn"].get<std::string>());
  }
  EXPECT_EQ(sources, (std::set<std::string>{"arn:aws:events:us-east-1:" + kAccount + ":rule/" + res["GuardDutyRule"].second,
                                            "arn:aws:events:us-east-1:" + kAccount + ":rule/" + res["SecurityHubRule"].second}));
}

TEST_F(DeployMoto, OneSourceMakesOneRule) {
  put_code();
  int code = -1;
  std::string body = generate(
      "--format yaml --sources securityhub --min-severity 7 --code-bucket containctl-code --code-key containctl-lambda.zip",
      code);
  ASSERT_EQ(code, 0) << body;
  auto res = create_stack(body);
  EXPECT_TRUE(res.count("SecurityHubRule"));
  EXPECT_FALSE(res.count("GuardDutyRule"));
  json rb = read_back(moto().url(), res["Function"].second, {res["SecurityHubRule"].second});
  ASSERT_FALSE(rb.is_discarded());
  json pattern = rb["rules"][res["SecurityHubRule"].second]["pattern"];
  EXPECT_EQ(pattern["detail"]["findings"]["Severity"]["Normalized"][0]["numeric"], json::parse(R"([">=", 70.0])"));
  EXPECT_FALSE(pattern["detail"]["findings"].contains("ProductName"));
}

TEST(DeployCli, BadFlagsExitWithTheirCodeAndPrintNoTemplate) {
  int code = -1;
  EXPECT_EQ(generate("--sources cloudtrail 2>/dev/null", code), "");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(generate("--min-severity 12 2>/dev/null", code), "");
  EXPECT_EQ(code, 1);
  EXPECT_EQ(generate("--code-bucket b-only 2>/dev/null", code), "");
  EXPECT_EQ(code, 2);
  EXPECT_EQ(generate("--format xml 2>/dev/null", code), "");
  EXPECT_EQ(code, 2);
}

}  // namespace
}  // namespace containctl::orch
