// The audit log in the team store: the same records and SHA-256 chain as audit.jsonl
// (audit_log.h), kept in the DynamoDB table so every responder appends to, and verifies, one log.
//
//   pk "AUDIT", sk "SEQ#<seq, 20 digits>": {"record": <the record's canonical JSON with "hash">}
//   pk "AUDIT", sk "HEAD":                 {"seq": N, "hash": "<hash of record N>"}
//
// An append is one TransactWriteItems: the record, put only if its sequence number is unused, and
// the head, moved from N-1 to N only if it still says N-1. So there is no gap (the head moves one
// at a time) and no overwrite (a used number is refused); two writers that raced both retry on the
// new head. Appends from one process's threads share transactions (up to 99 records each).
//
// Checkpoints: when the bucket has Object Lock, the head (seq and hash) is written to
// s3://BUCKET/audit/checkpoints/<seq>.json under COMPLIANCE retention when a command ends, so
// someone who can rewrite the table still cannot make a rewritten chain match what was
// checkpointed. verify compares every checkpoint with the chain.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/dynamodb.h"
#include "orchestrator/audit_log.h"

namespace containctl::orch {

class TeamAuditLog {
 public:
  static constexpr int kRetentionDays = 365;

  TeamAuditLog(std::shared_ptr<aws::AwsClient> client, std::string region, std::string table, std::string bucket,
               aws::Clock& clock);

  // Appends one record (fields redacted as in the file log); returns once DynamoDB acknowledged it.
  Status append(const std::string& event, const nlohmann::json& fields);
  // Every record (or those of `run_id`), in sequence order.
  Result<std::vector<nlohmann::json>> records(const std::string& run_id = "");
  // The chain, the head item and the checkpoints in S3.
  Result<AuditVerifyResult> verify();
  // Writes the head to S3 under Object Lock retention when the bucket has Object Lock (and
  // anything was appended by this process); otherwise nothing. Returns what it wrote ("" if nothing).
  Result<std::string> checkpoint();
  std::string location() const;

 private:
  struct Pending {
    std::string event;
    nlohmann::json fields;
    Status status = Ok{};
    bool done = false;
  };
  // Writes `batch` after the current head; retries on a head moved by another writer.
  Status write_batch(std::vector<Pending*>& batch);

  aws::DynamoDb ddb_;
  std::string bucket_;
  aws::Clock& clock_;
  std::mutex mu_;
  std::vector<Pending*> queue_;
  bool writing_ = false;
  bool appended_ = false;
  uint64_t head_seq_ = 0;  // as of our last write
  std::string head_hash_;
  bool head_known_ = false;
};

}  // namespace containctl::orch
