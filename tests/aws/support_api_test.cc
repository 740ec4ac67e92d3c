// The Support and Security Hub calls against botocore's published models (tests/data/botocore),
// with recorded responses: moto has no AddCommunicationToCase, DescribeServices or
// BatchUpdateFindings, so each request's shape is checked member by member against the model,
// and a misspelt member fails. Plus CreateCase's no-blind-retry rule and the errors' wording.
#include <gtest/gtest.h>

#include "aws/securityhub.h"
#include "aws/support.h"
#include "tests/support/fake_transport.h"
#include "tests/support/service_model.h"

namespace containctl::aws {
namespace {

using nlohmann::json;
using testing::FakeTransport;
using testing::ServiceModel;

struct Harness {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  ManualClock clock{TimePoint{} + std::chrono::hours(24 * 365 * 55)};
  std::unique_ptr<AwsClient> client;
  Harness() {
    ClientConfig cfg;
    cfg.transport = transport;
    Credentials c;
    c.access_key_id = "AKIDEXAMPLE";
    c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    cfg.credentials = std::make_shared<StaticCredentialsProvider>(c);
    cfg.clock = &clock;
    cfg.endpoints.all = "http://127.0.0.1:9";
    cfg.jitter = [] { return 0.0; };
    client = std::make_unique<AwsClient>(cfg);
  }
  json body(size_t i = 0) const { return json::parse(transport->requests().at(i).body); }
};

const ServiceModel& support_model() {
  static ServiceModel m = ServiceModel::load("support-2013-04-15.json");
  return m;
}
const ServiceModel& hub_model() {
  static ServiceModel m = ServiceModel::load("securityhub-2018-10-26-batchupdatefindings.json");
  return m;
}

SupportCaseRequest sample_case() {
  SupportCaseRequest r;
  r.subject = "Security incident: containctl run run-1";
  r.communication_body = "body";
  r.service_code = "customer-account";
  r.category_code = "security";
  r.severity_code = "urgent";
  r.issue_type = "customer-service";
  r.language = "en";
  r.cc = {"soc@example.com"};
  return r;
}

TEST(ServiceModelChecker, CatchesWhatAWrongRequestGetsWrong) {
  const auto& m = support_model();
  json good = sample_case().to_json();
  EXPECT_EQ(m.check_input("CreateCase", good), "");
  json misspelt = good;
  misspelt["body"] = misspelt["communicationBody"];
  misspelt.erase("communicationBody");
  EXPECT_NE(m.check_input("CreateCase", misspelt), "");  // required communicationBody missing
  json extra = good;
  extra["severity"] = "urgent";
  EXPECT_NE(m.check_input("CreateCase", extra).find("no member 'severity'"), std::string::npos);
  json wrong_type = good;
  wrong_type["ccEmailAddresses"] = "soc@example.com";
  EXPECT_NE(m.check_input("CreateCase", wrong_type), "");
  json too_long = good;
  too_long["communicationBody"] = std::string(8001, 'x');
  EXPECT_NE(m.check_input("CreateCase", too_long).find("above max"), std::string::npos);
  EXPECT_NE(hub_model().check_input("BatchUpdateFindings", {{"FindingIdentifiers", json::array()},
                                                            {"Workflow", {{"Status", "DONE"}}}}),
            "");
}

TEST(SupportApi, CreateCaseRequestFitsTheModelAndReturnsTheId) {
  Harness h;
  h.transport->respond(200, R"({"caseId":"case-111122223333-2026-abcdef0123456789"})");
  auto id = support_create_case(*h.client, "us-east-1", sample_case());
  ASSERT_TRUE(id.ok()) << id.error().describe();
  EXPECT_EQ(*id, "case-111122223333-2026-abcdef0123456789");
  auto req = h.transport->requests().at(0);
  EXPECT_EQ(support_model().check_request("CreateCase", req), "");
  EXPECT_EQ(h.body()["issueType"], "customer-service");
  // Signed for the global region whatever the caller's region.
  EXPECT_NE(std::string(req.header("Authorization")).find("/us-east-1/support/aws4_request"), std::string::npos);
}

// Support has one endpoint per partition: a member account in China or GovCloud is served, and
// signed, in its partition's global region, not us-east-1.
TEST(SupportApi, EachPartitionIsSignedForItsOwnSupportRegion) {
  for (const auto& [region, global] : std::vector<std::pair<std::string, std::string>>{
           {"eu-west-1", "us-east-1"}, {"cn-northwest-1", "cn-north-1"}, {"us-gov-east-1", "us-gov-west-1"}}) {
    Harness h;
    h.transport->respond(200, R"({"caseId":"case-1"})");
    ASSERT_TRUE(support_create_case(*h.client, region, sample_case()).ok()) << region;
    EXPECT_NE(std::string(h.transport->requests().at(0).header("Authorization")).find("/" + global + "/support/aws4_request"),
              std::string::npos)
        << region << ": " << h.transport->requests().at(0).header("Authorization");
  }
}

TEST(SupportApi, CreateCaseIsNeverResentAfterATimeout) {
  Harness h;
  h.transport->fail(Error{ErrorKind::kTimeout, "Timeout", "operation timed out"});
  h.transport->respond(200, R"({"caseId":"case-second"})");
  auto id = support_create_case(*h.client, "us-east-1", sample_case());
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(id.error().outcome_unknown);
  EXPECT_EQ(h.transport->request_count(), 1u) << "a second CreateCase could open a second case";
}

TEST(SupportApi, FindCaseBySubjectReadsEveryPage) {
  Harness h;
  h.transport->respond(200, R"({"cases":[{"caseId":"case-a","subject":"other"}],"nextToken":"t1"})");
  h.transport->respond(200, R"j({"cases":[{"caseId":"case-b","subject":"Security incident: containctl run run-42 (1)"}]})j");
  auto id = find_support_case(*h.client, "us-east-1", "run-42");
  ASSERT_TRUE(id.ok()) << id.error().describe();
  EXPECT_EQ(*id, "case-b");
  EXPECT_EQ(support_model().check_request("DescribeCases", h.transport->requests().at(0)), "");
  EXPECT_EQ(support_model().check_request("DescribeCases", h.transport->requests().at(1)), "");
  EXPECT_EQ(h.body(1)["nextToken"], "t1");
  EXPECT_EQ(h.body(1)["includeResolvedCases"], true);
}

TEST(SupportApi, AddCommunicationFitsTheModelWithARecordedResponse) {
  Harness h;
  const std::string recorded = R"({"result":true})";  // AddCommunicationToCaseResponse
  ASSERT_EQ(support_model().check_output("AddCommunicationToCase", json::parse(recorded)), "");
  h.transport->respond(200, recorded);
  ASSERT_TRUE(support_add_communication(*h.client, "us-east-1", "case-1", "restored", {"soc@example.com"}).ok());
  EXPECT_EQ(support_model().check_request("AddCommunicationToCase", h.transport->requests().at(0)), "");
  EXPECT_EQ(h.body()["caseId"], "case-1");
  EXPECT_EQ(h.body()["communicationBody"], "restored");
}

TEST(SupportApi, DescribeServicesFitsTheModel) {
  Harness h;
  const std::string recorded =
      R"({"services":[{"code":"customer-account","name":"Account","categories":[{"code":"security","name":"Security"}]}]})";
  ASSERT_EQ(support_model().check_output("DescribeServices", json::parse(recorded)), "");
  h.transport->respond(200, recorded);
  auto r = support_describe_services(*h.client, "us-east-1", "en");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(support_model().check_request("DescribeServices", h.transport->requests().at(0)), "");
}

TEST(SupportApi, MissingPermissionAndBasicPlanAreSaidPlainly) {
  Harness h;
  h.transport->respond(400, testing::json_error_body("SubscriptionRequiredException", "AWS Premium Support Subscription is required to use this service."));
  auto r = support_create_case(*h.client, "us-east-1", sample_case());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Basic and Developer plans cannot use it"), std::string::npos) << r.error().message;
  h.transport->respond(400, testing::json_error_body("AccessDeniedException",
                                                     "User: arn:aws:iam::111122223333:user/x is not authorized"));
  r = support_create_case(*h.client, "us-east-1", sample_case());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("support:CreateCase"), std::string::npos) << r.error().message;
}

TEST(SecurityHubApi, BatchUpdateFindingsFitsTheModel) {
  Harness h;
  const std::string recorded =
      R"({"ProcessedFindings":[{"Id":"f-1","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty"}],"UnprocessedFindings":[]})";
  ASSERT_EQ(hub_model().check_output("BatchUpdateFindings", json::parse(recorded)), "");
  h.transport->respond(200, recorded);
  FindingUpdate u;
  u.findings = {{"f-1", "arn:aws:securityhub:us-east-1::product/aws/guardduty"}};
  u.note = "containctl run run-1 contained";
  u.updated_by = "containctl";
  u.workflow_status = "NOTIFIED";
  ASSERT_TRUE(batch_update_findings(*h.client, "us-east-1", u).ok());
  auto req = h.transport->requests().at(0);
  EXPECT_EQ(hub_model().check_request("BatchUpdateFindings", req), "");
  EXPECT_NE(std::string(req.header("Authorization")).find("/us-east-1/securityhub/aws4_request"), std::string::npos);
  EXPECT_EQ(h.body()["Workflow"]["Status"], "NOTIFIED");
  EXPECT_EQ(h.body()["Note"]["UpdatedBy"], "containctl");
}

TEST(SecurityHubApi, UnprocessedFindingsAreAnErrorNamingThem) {
  Harness h;
  const std::string recorded =
      R"({"ProcessedFindings":[],"UnprocessedFindings":[{"FindingIdentifier":{"Id":"f-9","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/securityhub"},"ErrorCode":"FindingNotFound","ErrorMessage":"Finding Not Found"}]})";
  ASSERT_EQ(hub_model().check_output("BatchUpdateFindings", json::parse(recorded)), "");
  h.transport->respond(200, recorded);
  FindingUpdate u;
  u.findings = {{"f-9", "arn:aws:securityhub:us-east-1::product/aws/securityhub"}};
  u.note = "n";
  u.updated_by = "containctl";
  Status st = batch_update_findings(*h.client, "us-east-1", u);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("f-9: FindingNotFound"), std::string::npos) << st.error().message;
  EXPECT_EQ(hub_model().check_request("BatchUpdateFindings", h.transport->requests().at(0)), "");
  EXPECT_FALSE(h.body().contains("Workflow")) << "no status given: none sent";
}

}  // namespace
}  // namespace containctl::aws
