// The audit log: audit.jsonl, one JSON record a line, chained by SHA-256 so that a record that is
// changed, removed, inserted or reordered is detected and named by verify_audit_log().
//
// Record: {"seq": N (from 1), "time": "YYYY-MM-DDTHH:MM:SS.mmmZ", "event": "...", "run_id": "..."
// (optional), ...fields, "prev_hash": "<hash of record N-1, or 64 zeros for N=1>", "hash": "..."}.
// hash = hex SHA-256 of the record WITHOUT its "hash" key, serialised by nlohmann::json::dump()
// with default arguments (object keys sorted, no whitespace, UTF-8 kept as is; invalid UTF-8 is
// replaced by U+FFFD before hashing). The line in the file is the same compact dump with "hash".
//
// The anchor: the chain alone cannot show that the LAST records were cut off (what remains is
// still a valid chain). After each append, the last seq and hash are written to an anchor file
// next to the log ("audit.head" for "audit.jsonl", otherwise "<log>.head"), 0600, signed with the
// state directory's Ed25519 audit key (audit.key.pem, created 0600 with the log; audit.pub.pem
// verifies). Cutting records off the end, rewriting or reordering them then needs that key to
// re-sign the anchor. Deleting the log and the anchor is detected while the key exists (the next
// chain starts with an audit_chain_restarted record, which verify reports). The limit, honestly:
// someone who can read the key can re-sign a rewritten history; `audit verify --expect-head HASH`
// with a hash copied somewhere they cannot write (a ticket, a WORM bucket) catches that too.
//
// Secrets never enter the log: fields whose names contain secret, password, token, signature,
// authorization or credential (at any depth) are replaced by "[REDACTED]", and string values
// that carry SigV4 signature material are scrubbed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/result.h"

namespace containctl::orch {

inline constexpr const char* kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

// The anchor file that goes with a log path.
std::string audit_head_path(const std::string& log_path);
// Hex SHA-256 of `record` minus its "hash" key (the canonical form above).
std::string audit_record_hash(const nlohmann::json& record);
// Replaces secret-looking fields and signature material (defence in depth; callers must not
// pass secrets in the first place).
nlohmann::json redact_secrets(const nlohmann::json& fields);

// The state directory's audit key pair, next to the log.
std::string audit_private_key_path(const std::string& log_path);
std::string audit_public_key_path(const std::string& log_path);
// The exact bytes the anchor's signature covers.
std::string audit_head_payload(uint64_t seq, const std::string& hash);

struct AuditOpenOptions {
  // A last line cut short (a crash or power loss mid-append) is moved to a quarantine file and an
  // audit_repaired record says so, instead of refusing to open: recovery (rollback) never waits
  // on the audit log.
  bool repair_torn_tail = false;
};

struct AuditRepairResult {
  bool repaired = false;
  std::string quarantine;  // where the torn bytes went
  uint64_t bytes = 0;
  uint64_t after_seq = 0;  // the last complete record
};
// `audit repair`: quarantines a torn last line (the bytes after the last newline) into
// <log>.quarantine-<time> (0600) and records audit_repaired with its size and SHA-256.
Result<AuditRepairResult> repair_audit_log(const std::string& path, aws::Clock& clock, const std::string& reason);

class AuditLog {
 public:
  // Creates the file (0600), its directory and the audit key when missing; continues the chain
  // from the last record. Refuses a log whose last line is not a complete record (run `audit
  // repair`) unless options.repair_torn_tail. Never follows a symlink for the log, anchor or key.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path, aws::Clock& clock,
                                                const AuditOpenOptions& options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one record. `fields` is a JSON object; its "run_id" becomes the record's run_id;
  // seq, time, event, prev_hash and hash are reserved. Safe across threads and processes
  // (mutex + flock on the log), and fsync'ed before it returns.
  Status append(const std::string& event, const nlohmann::json& fields = nlohmann::json::object());

  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, int fd, aws::Clock& clock) : path_(std::move(path)), fd_(fd), clock_(clock) {}
  Status write_signed_head(uint64_t seq, const std::string& hash);
  // Under the lock: the seq and hash of the last record now in the file.
  Status read_tail(uint64_t& seq, std::string& hash);

  std::string path_;
  int fd_;
  aws::Clock& clock_;
  std::mutex mu_;
  // The tail as of our last append; re-read only when the file size says another writer appended.
  int64_t known_size_ = -1;
  uint64_t last_seq_ = 0;
  std::string last_hash_;
  std::string key_pem_;  // the state directory's audit key (signs the anchor)
};

struct AuditVerifyResult {
  bool ok = true;
  uint64_t records = 0;
  std::string problem;     // names the first bad record (seq and line) and what happened
  uint64_t bad_line = 0;   // 1-based; 0 when the problem is not one line (e.g. removed at the end)
  uint64_t bad_seq = 0;    // 0 when unknown
  std::string last_hash;   // hash of the last record (when ok)
  bool anchored = false;   // the head file was present, signed by the audit key and matched
  uint64_t expected_head_seq = 0;  // where --expect-head was found
  std::vector<std::string> notes;  // repairs and other facts worth showing
};
// An error only when the log cannot be read at all; tampering is a result with ok == false.
// expect_head: a record hash kept elsewhere; the log must still hold it, chained from the start.
Result<AuditVerifyResult> verify_audit_log(const std::string& path, const std::string& expect_head = "");
// Every record (or those of `run_id`), in file order; an unparsable line is an error naming it.
Result<std::vector<nlohmann::json>> read_audit_log(const std::string& path, const std::string& run_id = "");

// "2026-11-23T06:53:32.123Z"
std::string format_time_ms(aws::TimePoint t);

}  // namespace containctl::orch
