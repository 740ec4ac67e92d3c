#include "orchestrator/team_audit.h"

#include <pugixml.hpp>

#include <chrono>
#include <map>

#include "actions/s3_api.h"
#include "aws/concurrency.h"
#include "aws/sigv4.h"
#include "orchestrator/journal_aws.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using aws::ddb_n;
using aws::ddb_num;
using aws::ddb_s;
using aws::ddb_str;

constexpr size_t kMaxBatch = 99;  // TransactWriteItems takes 100 items: 99 records and the head
constexpr const char* kReserved[] = {"seq", "time", "event", "prev_hash", "hash"};

std::string pad20(uint64_t v) {
  std::string s = std::to_string(v);
  return std::string(20 - s.size(), '0') + s;
}
json head_key() { return {{"pk", ddb_s("AUDIT")}, {"sk", ddb_s("HEAD")}}; }
json seq_key(uint64_t seq) { return {{"pk", ddb_s("AUDIT")}, {"sk", ddb_s("SEQ#" + pad20(seq))}}; }

}  // namespace

TeamAuditLog::TeamAuditLog(std::shared_ptr<aws::AwsClient> client, std::string region, std::string table,
                           std::string bucket, aws::Clock& clock)
    : ddb_(std::move(client), std::move(region), std::move(table)), bucket_(std::move(bucket)), clock_(clock) {}

std::string TeamAuditLog::location() const { return "dynamodb table " + ddb_.table() + " (AUDIT)"; }

Status TeamAuditLog::append(const std::string& event, const json& fields) {
  if (event.empty()) return Error::internal("audit event name is empty");
  if (!fields.is_null() && !fields.is_object()) return Error::internal("audit fields must be a JSON object");
  for (const char* r : kReserved)
    if (fields.is_object() && fields.contains(r)) return Error::internal(std::string("audit field '") + r + "' is reserved");
  // Group append: the first writer to find no write in progress writes everything queued.
  // Waits go through the clock (aws/concurrency.h), so appends from the executor's threads also
  // run under the scale simulation's virtual clock.
  Pending me{event, fields.is_null() ? json::object() : redact_secrets(fields)};
  std::unique_lock lock(mu_);
  queue_.push_back(&me);
  while (!me.done && writing_) {
    lock.unlock();
    aws::wait_until(clock_, mu_, [&] { return me.done || !writing_; });
    lock.lock();
  }
  if (me.done) return me.status;
  writing_ = true;
  while (!me.done) {
    std::vector<Pending*> batch;
    size_t n = std::min(queue_.size(), kMaxBatch);
    batch.assign(queue_.begin(), queue_.begin() + static_cast<long>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
    lock.unlock();
    Status st = write_batch(batch);
    lock.lock();
    for (Pending* p : batch) {
      p->status = st;
      p->done = true;
    }
  }
  writing_ = false;
  lock.unlock();
  aws::notify_waiters(clock_);
  return me.status;
}

Status TeamAuditLog::write_batch(std::vector<Pending*>& batch) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    if (!head_known_ || attempt > 0) {
      CC_ASSIGN(std::optional<json> head, ddb_.get(head_key()));
      head_seq_ = head ? static_cast<uint64_t>(ddb_num(*head, "seq")) : 0;
      head_hash_ = head ? ddb_str(*head, "hash") : kGenesisHash;
      head_known_ = true;
    }
    uint64_t seq = head_seq_;
    std::string prev = head_hash_;
    json items = json::array();
    for (Pending* p : batch) {
      json record = p->fields;
      record["seq"] = ++seq;
      record["time"] = format_time_ms(clock_.now());
      record["event"] = p->event;
      record["prev_hash"] = prev;
      record = json::parse(record.dump(-1, ' ', false, json::error_handler_t::replace));
      prev = audit_record_hash(record);
      record["hash"] = prev;
      json item = seq_key(seq);
      item["record"] = ddb_s(record.dump());
      if (record.contains("run_id") && record["run_id"].is_string()) item["run_id"] = ddb_s(record["run_id"]);
      items.push_back({{"Put", {{"Item", item}, {"ConditionExpression", "attribute_not_exists(pk)"}}}});
    }
    json head_update = {{"Key", head_key()},
                        {"UpdateExpression", "SET #q = :n, #h = :h"},
                        {"ExpressionAttributeNames", {{"#h", "hash"}, {"#q", "seq"}}},
                        {"ExpressionAttributeValues", {{":n", ddb_n(static_cast<long long>(seq))}, {":h", ddb_s(prev)}}}};
    if (head_seq_ == 0) {
      head_update["ConditionExpression"] = "attribute_not_exists(#q)";
    } else {
      head_update["ConditionExpression"] = "#q = :prev";
      head_update["ExpressionAttributeValues"][":prev"] = ddb_n(static_cast<long long>(head_seq_));
    }
    items.push_back({{"Update", head_update}});
    Status st = ddb_.transact(items);
    if (st.ok()) {
      head_seq_ = seq;
      head_hash_ = prev;
      appended_ = true;
      return Ok{};
    }
    // Another writer moved the head (or a retried attempt of ours landed): read it and go again.
    // A landed retry shows as our last hash at the head.
    if (!aws::ddb_condition_failed(st.error()) && st.error().code != "TransactionConflictException")
      return Error::io("audit log in the team store: " + st.error().describe());
    CC_ASSIGN(std::optional<json> head, ddb_.get(head_key()));
    const uint64_t head_now = head ? static_cast<uint64_t>(ddb_num(*head, "seq")) : 0;
    if (head && head_now == seq && ddb_str(*head, "hash") == prev) {
      head_seq_ = seq;
      head_hash_ = prev;
      appended_ = true;
      return Ok{};
    }
    // The head has not moved, so its condition held and the record's did not: the next sequence
    // number is taken by an item no append wrote (appends move record and head together). Waiting
    // will not free it; the log was written outside containctl.
    if (st.error().code != "TransactionConflictException" &&
        st.error().message.find("TransactionConflict") == std::string::npos && head_now == head_seq_ &&
        (head ? ddb_str(*head, "hash") : std::string(kGenesisHash)) == head_hash_)
      return Error::io("audit log in the team store: record seq " + std::to_string(head_seq_ + 1) +
                       " is already taken while the head says seq " + std::to_string(head_seq_) +
                       ": the log was written outside containctl (containctl audit verify names the record)");
    clock_.sleep_for(std::chrono::milliseconds(5 * (attempt + 1)));
  }
  return Error::io("audit log in the team store: could not append after 50 tries (too many writers at once)");
}

Result<std::vector<json>> TeamAuditLog::records(const std::string& run_id) {
  CC_ASSIGN(std::vector<json> items, ddb_.query("AUDIT", "SEQ#"));
  std::vector<json> out;
  for (const auto& it : items) {
    json rec = json::parse(ddb_str(it, "record"), nullptr, false);
    if (rec.is_discarded()) return Error::io("audit log in the team store: " + ddb_str(it, "sk") + " is not JSON");
    if (!run_id.empty() && rec.value("run_id", "") != run_id) continue;
    out.push_back(std::move(rec));
  }
  return out;
}

Result<AuditVerifyResult> TeamAuditLog::verify() {
  CC_ASSIGN(std::vector<json> items, ddb_.query("AUDIT", "SEQ#"));
  AuditVerifyResult r;
  auto fail = [&](uint64_t seq, std::string problem) {
    r.ok = false;
    r.bad_seq = seq;
    r.problem = std::move(problem);
    return r;
  };
  std::string prev = kGenesisHash;
  std::map<uint64_t, std::string> hash_of;
  uint64_t expect = 1;
  for (const auto& it : items) {
    std::string sk = ddb_str(it, "sk");
    json rec = json::parse(ddb_str(it, "record"), nullptr, false);
    if (rec.is_discarded() || !rec.is_object() || !rec.contains("seq") || !rec["seq"].is_number_unsigned() ||
        !rec.contains("hash") || !rec["hash"].is_string() || !rec.contains("prev_hash"))
      return fail(expect, "item " + sk + " is not a valid audit record: it was changed");
    uint64_t seq = rec["seq"].get<uint64_t>();
    if (sk != "SEQ#" + pad20(seq)) return fail(seq, "record seq " + std::to_string(seq) + " is stored under " + sk);
    if (seq != expect)
      return fail(expect, seq > expect ? "record seq " + std::to_string(expect) + " is missing (removed)"
                                       : "record seq " + std::to_string(seq) + " appears twice");
    if (rec["prev_hash"] != prev)
      return fail(seq, "record seq " + std::to_string(seq) + " does not follow record " + std::to_string(seq - 1) +
                           " (prev_hash differs): a record before it was changed, removed or inserted");
    if (audit_record_hash(rec) != rec["hash"].get<std::string>())
      return fail(seq, "record seq " + std::to_string(seq) + " was changed (its hash does not match its content)");
    prev = rec["hash"];
    hash_of[seq] = prev;
    ++expect;
  }
  r.records = expect - 1;
  CC_ASSIGN(std::optional<json> head, ddb_.get(head_key()));
  uint64_t head_seq = head ? static_cast<uint64_t>(ddb_num(*head, "seq")) : 0;
  if (head_seq != r.records || (head && ddb_str(*head, "hash") != prev))
    return fail(head_seq, "the head says seq " + std::to_string(head_seq) + " but the chain ends at seq " +
                              std::to_string(r.records) + ": records at the end were removed or the head was changed");
  r.anchored = head.has_value();
  // Checkpoints written under Object Lock: each must match the chain as it is now.
  aws::RestRequest list;
  list.operation = "ListObjectsV2";
  list.bucket = bucket_;
  list.query = {{"list-type", "2"}, {"prefix", "audit/checkpoints/"}};
  auto listed = ddb_.client().rest_xml("s3", ddb_.region(), list);
  if (listed.ok()) {
    pugi::xml_document doc;
    doc.load_buffer(listed->body.data(), listed->body.size());
    for (pugi::xml_node c : doc.document_element().children("Contents")) {
      std::string key = c.child_value("Key");
      CC_ASSIGN(std::string text, get_blob(ddb_.client(), ddb_.region(), bucket_, key));
      json cp = json::parse(text, nullptr, false);
      if (cp.is_discarded() || !cp.contains("seq") || !cp["seq"].is_number_unsigned()) continue;
      uint64_t seq = cp["seq"].get<uint64_t>();
      auto it = hash_of.find(seq);
      if (it == hash_of.end())
        return fail(seq, "checkpoint " + key + " names record seq " + std::to_string(seq) +
                             ", which the chain no longer has: records were removed");
      if (it->second != cp.value("hash", ""))
        return fail(seq, "checkpoint " + key + " does not match record seq " + std::to_string(seq) +
                             ": the chain was rewritten after it was checkpointed");
    }
  } else if (listed.error().http_status != 404) {
    return listed.error();
  }
  r.last_hash = prev;
  return r;
}

Result<std::string> TeamAuditLog::checkpoint() {
  {
    std::lock_guard lock(mu_);
    if (!appended_) return std::string();
  }
  aws::RestRequest q;
  q.operation = "GetObjectLockConfiguration";
  q.bucket = bucket_;
  q.query = {{"object-lock", ""}};
  auto lock_cfg = ddb_.client().rest_xml("s3", ddb_.region(), q);
  if (!lock_cfg.ok() || lock_cfg->body.find("<ObjectLockEnabled>Enabled</ObjectLockEnabled>") == std::string::npos)
    return std::string();
  CC_ASSIGN(std::optional<json> head, ddb_.get(head_key()));
  if (!head) return std::string();
  uint64_t seq = static_cast<uint64_t>(ddb_num(*head, "seq"));
  json cp = {{"seq", seq}, {"hash", ddb_str(*head, "hash")}, {"time", format_time_ms(clock_.now())}};
  std::string body = cp.dump();
  aws::RestRequest put;
  put.operation = "PutObject";
  put.method = "PUT";
  put.bucket = bucket_;
  put.key = "audit/checkpoints/" + pad20(seq) + ".json";
  put.body = body;
  put.headers = {{"Content-Type", "application/json"},
                 {"Content-MD5", actions::s3::content_md5(body)},
                 {"x-amz-object-lock-mode", "COMPLIANCE"},
                 {"x-amz-object-lock-retain-until-date",
                  aws::format_iso8601(clock_.now() + std::chrono::hours(24 * kRetentionDays))}};
  CC_TRY(ddb_.client().rest_xml("s3", ddb_.region(), put));
  return put.key;
}

}  // namespace containctl::orch
