// Security Hub's BatchUpdateFindings (REST-JSON, PATCH /findings/batchupdate): the note and
// workflow status a responder's tool writes back on a finding it handled.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/client.h"

namespace containctl::aws {

struct FindingIdentifier {
  std::string id;           // the finding's Id
  std::string product_arn;  // its ProductArn
};

// Note.Text's limit (512 characters, Security Hub API reference NoteUpdate; the botocore model only
// says NonEmptyString).
inline constexpr size_t kFindingNoteMax = 512;

struct FindingUpdate {
  std::vector<FindingIdentifier> findings;  // 1..100
  std::string note;                         // cut to kFindingNoteMax by the caller
  std::string updated_by;                   // who wrote the note
  std::string workflow_status;              // NEW | NOTIFIED | RESOLVED | SUPPRESSED, "" = unchanged
  nlohmann::json to_json() const;
};

// {"ProcessedFindings": [...], "UnprocessedFindings": [{"FindingIdentifier", "ErrorCode", "ErrorMessage"}]}.
// A finding AWS did not process is an error naming it and the reason.
Status batch_update_findings(AwsClient& client, const std::string& region, const FindingUpdate& update);

// The IAM actions of the call above (the role templates are derived from it).
const std::vector<std::string>& securityhub_iam_actions();

}  // namespace containctl::aws
