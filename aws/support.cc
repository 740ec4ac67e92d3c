#include "aws/support.h"

namespace containctl::aws {

using nlohmann::json;

namespace {

constexpr const char* kTarget = "AWSSupport_20130415";

Result<json> call(AwsClient& client, const std::string& region, const std::string& operation, const json& body,
                  CallOptions options = {}) {
  auto r = client.json("support", region, kTarget, operation, body, false, options);
  if (!r.ok()) return explain_support_error(r.error(), operation);
  return r;
}

}  // namespace

json SupportCaseRequest::to_json() const {
  json j = {{"subject", subject}, {"communicationBody", communication_body}};
  auto put = [&](const char* name, const std::string& v) {
    if (!v.empty()) j[name] = v;
  };
  put("serviceCode", service_code);
  put("severityCode", severity_code);
  put("categoryCode", category_code);
  put("issueType", issue_type);
  put("language", language);
  if (!cc.empty()) j["ccEmailAddresses"] = cc;
  return j;
}

Result<std::string> support_create_case(AwsClient& client, const std::string& region, const SupportCaseRequest& request) {
  CC_ASSIGN(json r, call(client, region, "CreateCase", request.to_json(), CallOptions{.idempotent = false}));
  std::string id = r.value("caseId", "");
  if (id.empty()) return Error{ErrorKind::kParse, "NoCaseId", "support CreateCase: the answer holds no caseId"};
  return id;
}

Result<json> support_describe_case(AwsClient& client, const std::string& region, const std::string& case_id) {
  CC_ASSIGN(json r, call(client, region, "DescribeCases", {{"caseIdList", {case_id}}, {"includeResolvedCases", true},
                                                   {"includeCommunications", true}}));
  for (const auto& c : r.value("cases", json::array()))
    if (c.is_object() && c.value("caseId", "") == case_id) return c;
  return Error{ErrorKind::kClient, "CaseIdNotFound", "support DescribeCases: case " + case_id + " not found"};
}

Result<std::string> find_support_case(AwsClient& client, const std::string& region, const std::string& needle) {
  json body = {{"includeResolvedCases", true}, {"includeCommunications", false}};
  for (int page = 0; page < 50; ++page) {
    CC_ASSIGN(json r, call(client, region, "DescribeCases", body));
    for (const auto& c : r.value("cases", json::array())) {
      if (!c.is_object()) continue;
      const json subject = c.value("subject", json());
      if (subject.is_string() && subject.get<std::string>().find(needle) != std::string::npos)
        return c.value("caseId", "");
    }
    const json next = r.value("nextToken", json());
    if (!next.is_string() || next.get<std::string>().empty() || body.value("nextToken", "") == next.get<std::string>())
      break;
    body["nextToken"] = next;
  }
  return std::string();
}

Status support_add_communication(AwsClient& client, const std::string& region, const std::string& case_id, const std::string& body,
                                 const std::vector<std::string>& cc) {
  json req = {{"caseId", case_id}, {"communicationBody", body}};
  if (!cc.empty()) req["ccEmailAddresses"] = cc;
  CC_ASSIGN(json r, call(client, region, "AddCommunicationToCase", req, CallOptions{.idempotent = false}));
  if (r.contains("result") && r["result"].is_boolean() && !r["result"].get<bool>())
    return Error{ErrorKind::kClient, "CommunicationNotAdded",
                 "support AddCommunicationToCase: the service answered result=false for case " + case_id};
  return Ok{};
}

Result<json> support_describe_services(AwsClient& client, const std::string& region, const std::string& language) {
  json body = json::object();
  if (!language.empty()) body["language"] = language;
  return call(client, region, "DescribeServices", body);
}

const std::vector<std::string>& support_iam_actions() {
  static const std::vector<std::string> kActions = {"support:AddCommunicationToCase", "support:CreateCase",
                                                    "support:DescribeCases", "support:DescribeServices"};
  return kActions;
}

Error explain_support_error(Error e, const std::string& operation) {
  if (e.code == "SubscriptionRequiredException") {
    e.message += " (the AWS Support API needs a Business, Enterprise On-Ramp or Enterprise support plan; "
                 "Basic and Developer plans cannot use it: open the case in the Support Center console, "
                 "containctl case open --dry-run prints the text to paste)";
  } else if (e.code == "AccessDenied" || e.code == "AccessDeniedException" || e.code == "UnauthorizedOperation" ||
             (e.kind == ErrorKind::kAuth && e.http_status == 403 && e.code != "SignatureDoesNotMatch" &&
              e.code != "InvalidClientTokenId")) {
    e.message += " (the caller needs the IAM permission support:" + operation +
                 "; containctl stackset generate adds support:* to the role)";
  }
  return e;
}

}  // namespace containctl::aws
