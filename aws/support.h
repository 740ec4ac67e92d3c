// The AWS Support API (JSON 1.1, X-Amz-Target AWSSupport_20130415.<Operation>, one endpoint per
// partition: support.us-east-1.amazonaws.com in aws). Only what a security case needs: create,
// read back, add a communication, list the service and category codes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/client.h"

namespace containctl::aws {

// CreateCase's request members, named as the service model names them (botocore
// support/2013-04-15 CreateCaseRequest). Empty strings and an empty cc list are left out.
struct SupportCaseRequest {
  std::string subject;
  std::string service_code;
  std::string category_code;
  std::string severity_code;  // low | normal | high | urgent | critical
  std::string issue_type;     // customer-service | technical
  std::string language;       // ISO 639-1: en, ja, zh, ko
  std::string communication_body;  // 1..8000 characters
  std::vector<std::string> cc;     // at most 10
  nlohmann::json to_json() const;
};

// Limits of the service model (CommunicationBody max 8000; CcEmailAddressList max 10).
inline constexpr size_t kSupportBodyMax = 8000;
inline constexpr size_t kSupportCcMax = 10;
// The model sets no limit on subject; kept short so it shows whole in the Support Center's list.
inline constexpr size_t kSupportSubjectMax = 200;

// `region`: any region of the account's partition. Support has one endpoint per partition; the
// endpoint resolver sends and signs every call for the partition's global region (us-east-1,
// cn-north-1, us-gov-west-1).
// CreateCase, marked non-idempotent: it is never resent after a timeout (a second case would be
// opened). An outcome_unknown error means: look the case up (find_support_case) before retrying.
Result<std::string> support_create_case(AwsClient& client, const std::string& region, const SupportCaseRequest& request);
// DescribeCases of one case id, with its recent communications; resolved cases included.
Result<nlohmann::json> support_describe_case(AwsClient& client, const std::string& region, const std::string& case_id);
// The case id whose subject contains `needle` (the run id), among the cases DescribeCases lists
// (resolved ones too, every page); "" when there is none.
Result<std::string> find_support_case(AwsClient& client, const std::string& region, const std::string& needle);
// AddCommunicationToCase (non-idempotent too: a resent one would be a second message).
Status support_add_communication(AwsClient& client, const std::string& region, const std::string& case_id, const std::string& body,
                                 const std::vector<std::string>& cc = {});
// DescribeServices: {"services": [{"code", "name", "categories": [{"code", "name"}]}]}.
Result<nlohmann::json> support_describe_services(AwsClient& client, const std::string& region, const std::string& language);

// The IAM actions of the calls above, kept beside them (the role templates are derived from it).
const std::vector<std::string>& support_iam_actions();

// The Support API's errors said for a responder: AccessDenied names the support:<Operation>
// permission, SubscriptionRequiredException says which support plans have the API.
Error explain_support_error(Error e, const std::string& operation);

}  // namespace containctl::aws
