// "This finding is being handled": one item per (finding, updated time) in the team store, taken
// with a conditional put, so however many function instances receive the same EventBridge event
// (EventBridge delivers at least once; Lambda retries), one handles it.
//
//   pk "FINDINGS", sk "FINDING#<sha256 of source, product, finding id and updated time>"
//   st: handling | done | failed; request_id, claimed_at, expires (ms), finding_id, updated_at
//
// A claim is taken when no item exists, when the last attempt failed (its error was reported, a
// retry may try again), or when a `handling` claim outlived its invocation's deadline (the
// function was killed mid-run; the run it may have started is in the journal as STALE).
// A claim another invocation still holds is not "handled": that invocation may yet be killed, and
// Lambda's retry of this event must not be answered as a success, or nobody handles the finding.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/dynamodb.h"

namespace containctl::orch {

struct FindingKey {
  std::string source;      // the event's "source" (aws.guardduty, aws.securityhub)
  std::string product;     // ASFF ProductArn, or the GuardDuty finding ARN
  std::string id;          // the finding id
  std::string updated_at;  // updatedAt / UpdatedAt: a finding updated later is a new event to handle
  std::string sort_key() const;
  nlohmann::json to_json() const;
};

// The findings an EventBridge finding event carries ("GuardDuty Finding": detail; "Security Hub
// Findings - Imported": detail.findings[]). A finding without an id or an updated time is an
// error: without them there is no telling whether it was handled already.
Result<std::vector<FindingKey>> finding_keys(const nlohmann::json& event);

class FindingClaims {
 public:
  FindingClaims(std::shared_ptr<aws::AwsClient> client, std::string region, std::string table, aws::Clock& clock)
      : ddb_(std::move(client), std::move(region), std::move(table)), clock_(clock) {}

  enum class Claim {
    kMine,        // this invocation now handles the finding
    kHandled,     // another invocation handled it (done)
    kInProgress,  // another invocation holds it and its deadline has not passed
  };
  Result<Claim> claim(const FindingKey& key, const std::string& request_id, aws::TimePoint deadline);
  // outcome "done" (handled: contained, deferred for approval, refused, or a run exists) or
  // "failed" (nothing was started; a retry may claim it again). Only this request's claim moves.
  Status finish(const FindingKey& key, const std::string& request_id, const std::string& outcome);
  // The claim's item (tests, status).
  Result<std::optional<nlohmann::json>> get(const FindingKey& key);

 private:
  aws::DynamoDb ddb_;
  aws::Clock& clock_;
};

}  // namespace containctl::orch
