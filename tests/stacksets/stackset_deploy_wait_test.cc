// stackset deploy's waiting and failure reporting, against a scripted CloudFormation: polling goes
// through the injected clock (no sleeping), per-account failures name the account and the reason,
// and a stuck operation times out.
#include <gtest/gtest.h>

#include <map>

#include "aws/credentials.h"
#include "stacksets/deploy.h"
#include "tests/stacksets/fake_family.h"

namespace containctl::stacksets {
namespace {

std::string action_of(const std::string& body) {
  auto p = body.find("Action=");
  if (p == std::string::npos) return "";
  auto e = body.find('&', p);
  return body.substr(p + 7, e == std::string::npos ? std::string::npos : e - p - 7);
}

aws::HttpResponse ok(const std::string& action, const std::string& result) {
  return {200, {}, "<" + action + "Response><" + action + "Result>" + result + "</" + action + "Result><ResponseMetadata>"
                   "<RequestId>r-1</RequestId></ResponseMetadata></" + action + "Response>"};
}

// Answers each CloudFormation action with the next scripted response for it (the last repeats).
class ScriptedCloudFormation final : public aws::HttpTransport {
 public:
  std::map<std::string, std::vector<aws::HttpResponse>> script;
  std::map<std::string, int> calls;
  std::vector<std::string> bodies;

  Result<aws::HttpResponse> send(const aws::HttpRequest& request) override {
    std::string action = action_of(request.body);
    bodies.push_back(request.body);
    auto it = script.find(action);
    if (it == script.end()) return aws::HttpResponse{500, {}, "unscripted " + action};
    int n = calls[action]++;
    return it->second[std::min<size_t>(n, it->second.size() - 1)];
  }
};

class DeployWait : public ::testing::Test {
 protected:
  void SetUp() override {
    transport_ = std::make_shared<ScriptedCloudFormation>();
    aws::ClientConfig cfg;
    cfg.transport = transport_;
    cfg.clock = &clock_;
    cfg.credentials = std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"AKIDEXAMPLE", "secret"});
    cfg.endpoints.all = "http://127.0.0.1:9";
    client_ = std::make_unique<aws::AwsClient>(cfg);

    Selection s;
    s.model = "self-managed";
    s.accounts = {"111111111111,222222222222"};
    s.trusted_principals = {"arn:aws:iam::123456789012:role/IncidentResponder"};
    auto r = resolve(s, testing::fake_catalog(), "us-east-1");
    ASSERT_TRUE(r.ok()) << r.error().describe();
    req_.selection = *r;
    req_.template_body = "{}";
    req_.caller_account = "123456789012";
    req_.region = "us-east-1";
    req_.wait = true;
    req_.poll_interval = std::chrono::seconds(10);
    req_.timeout = std::chrono::seconds(60);

    auto& sc = transport_->script;
    sc["DescribeStackSet"] = {{400, {}, "<ErrorResponse><Error><Type>Sender</Type><Code>StackSetNotFoundException</Code>"
                                        "<Message>StackSet ContainctlContainmentRoles not found</Message></Error>"
                                        "<RequestId>r-0</RequestId></ErrorResponse>"}};
    sc["CreateStackSet"] = {ok("CreateStackSet", "<StackSetId>ContainctlContainmentRoles:abc</StackSetId>")};
    sc["CreateStackInstances"] = {ok("CreateStackInstances", "<OperationId>op-1</OperationId>")};
    sc["ListStackInstances"] = {
        ok("ListStackInstances", "<Summaries/>"),
        ok("ListStackInstances",
           "<Summaries><member><Account>111111111111</Account><Region>us-east-1</Region><Status>CURRENT</Status>"
           "<StackInstanceStatus><DetailedStatus>SUCCEEDED</DetailedStatus></StackInstanceStatus></member>"
           "<member><Account>222222222222</Account><Region>us-east-1</Region><Status>OUTDATED</Status>"
           "<StatusReason>ResourceLogicalId:ContainmentRole, ResourceStatusReason:ContainctlContainment already "
           "exists.</StatusReason><StackInstanceStatus><DetailedStatus>FAILED</DetailedStatus></StackInstanceStatus>"
           "</member></Summaries>")};
    sc["ListStackSetOperationResults"] = {ok(
        "ListStackSetOperationResults",
        "<Summaries><member><Account>111111111111</Account><Region>us-east-1</Region><Status>SUCCEEDED</Status></member>"
        "<member><Account>222222222222</Account><Region>us-east-1</Region><Status>FAILED</Status><StatusReason>"
        "ResourceLogicalId:ContainmentRole, ResourceStatusReason:ContainctlContainment already exists."
        "</StatusReason></member></Summaries>")};
  }

  aws::ManualClock clock_{std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 50)};
  std::shared_ptr<ScriptedCloudFormation> transport_;
  std::unique_ptr<aws::AwsClient> client_;
  DeployRequest req_;
};

std::string op_status(const std::string& s) {
  return "<StackSetOperation><OperationId>op-1</OperationId><Status>" + s + "</Status></StackSetOperation>";
}

TEST_F(DeployWait, PollsThroughTheClockAndNamesTheFailedAccount) {
  transport_->script["DescribeStackSetOperation"] = {ok("DescribeStackSetOperation", op_status("RUNNING")),
                                                     ok("DescribeStackSetOperation", op_status("RUNNING")),
                                                     ok("DescribeStackSetOperation", op_status("SUCCEEDED"))};
  auto start = clock_.now();
  auto report = deploy(*client_, clock_, req_);
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(transport_->calls["DescribeStackSetOperation"], 3);
  EXPECT_EQ(clock_.now() - start, std::chrono::seconds(20));  // two polls of 10 s, in virtual time
  ASSERT_EQ(report->operations.size(), 1u);
  EXPECT_EQ(report->operations[0].status, "SUCCEEDED");
  ASSERT_EQ(report->failures.size(), 1u) << report->to_text();
  EXPECT_NE(report->failures[0].find("account 222222222222 (us-east-1)"), std::string::npos) << report->failures[0];
  EXPECT_NE(report->failures[0].find("already exists"), std::string::npos) << report->failures[0];
  EXPECT_NE(report->to_text().find("FAILED account 222222222222"), std::string::npos);

  // The request carried what the StackSet needs.
  std::string create_set, create_inst;
  for (const auto& b : transport_->bodies) {
    if (action_of(b) == "CreateStackSet") create_set = b;
    if (action_of(b) == "CreateStackInstances") create_inst = b;
  }
  EXPECT_NE(create_set.find("PermissionModel=SELF_MANAGED"), std::string::npos) << create_set;
  EXPECT_NE(create_set.find("Capabilities.member.1=CAPABILITY_NAMED_IAM"), std::string::npos) << create_set;
  EXPECT_NE(create_inst.find("Accounts.member.1=111111111111"), std::string::npos) << create_inst;
  EXPECT_NE(create_inst.find("Accounts.member.2=222222222222"), std::string::npos) << create_inst;
  EXPECT_NE(create_inst.find("Regions.member.1=us-east-1"), std::string::npos) << create_inst;
}

TEST_F(DeployWait, WithoutWaitReportsInProgress) {
  req_.wait = false;
  transport_->script["DescribeStackSetOperation"] = {ok("DescribeStackSetOperation", op_status("RUNNING"))};
  auto start = clock_.now();
  auto report = deploy(*client_, clock_, req_);
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(clock_.now(), start);
  EXPECT_FALSE(report->complete);
  EXPECT_EQ(report->operations[0].status, "RUNNING");
  EXPECT_EQ(transport_->calls["ListStackSetOperationResults"], 0);
}

TEST_F(DeployWait, StuckOperationTimesOutOnTheClock) {
  transport_->script["DescribeStackSetOperation"] = {ok("DescribeStackSetOperation", op_status("RUNNING"))};
  auto report = deploy(*client_, clock_, req_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().kind, ErrorKind::kTimeout);
  EXPECT_NE(report.error().message.find("op-1"), std::string::npos);
  EXPECT_EQ(transport_->calls["DescribeStackSetOperation"], 7);  // t = 0, 10, ..., 60 s
}

TEST_F(DeployWait, ApiErrorNamesTheOperationAndAccounts) {
  transport_->script["CreateStackInstances"] = {
      {400, {}, "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Account 222222222222 "
                "should be in the organization</Message></Error><RequestId>r-2</RequestId></ErrorResponse>"}};
  auto report = deploy(*client_, clock_, req_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, "ValidationError");
  EXPECT_NE(report.error().message.find("CreateStackInstances for accounts 111111111111, 222222222222"),
            std::string::npos)
      << report.error().message;
}

}  // namespace
}  // namespace containctl::stacksets
