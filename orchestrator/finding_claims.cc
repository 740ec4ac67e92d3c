#include "orchestrator/finding_claims.h"

#include <chrono>

#include "aws/sigv4.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using aws::ddb_n;
using aws::ddb_s;

long long to_ms(aws::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

json claim_key(const FindingKey& k) { return {{"pk", ddb_s("FINDINGS")}, {"sk", ddb_s(k.sort_key())}}; }

std::string string_field(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string FindingKey::sort_key() const {
  return "FINDING#" + aws::sha256_hex(source + "\n" + product + "\n" + id + "\n" + updated_at);
}

json FindingKey::to_json() const {
  return {{"source", source}, {"id", id}, {"updated_at", updated_at}};
}

Result<std::vector<FindingKey>> finding_keys(const json& event) {
  if (!event.is_object()) return Error::invalid("the event is not a JSON object", "InvalidEvent");
  const std::string type = string_field(event, "detail-type");
  const std::string source = string_field(event, "source");
  auto detail = event.find("detail");
  if (detail == event.end() || !detail->is_object())
    return Error::invalid("the event has no \"detail\" object (expected an EventBridge finding event)", "InvalidEvent");
  std::vector<FindingKey> out;
  auto need = [](const FindingKey& k, const std::string& where) -> Status {
    if (k.id.empty() || k.updated_at.empty())
      return Error::invalid(where + " has no id or no updated time: cannot tell whether it was handled already",
                            "InvalidEvent");
    return Ok{};
  };
  if (type == "GuardDuty Finding") {
    FindingKey k{source, string_field(*detail, "arn"), string_field(*detail, "id"), string_field(*detail, "updatedAt")};
    CC_TRY(need(k, "detail"));
    out.push_back(k);
    return out;
  }
  if (type == "Security Hub Findings - Imported") {
    auto findings = detail->find("findings");
    if (findings == detail->end() || !findings->is_array() || findings->empty())
      return Error::invalid("detail.findings is missing or empty", "InvalidEvent");
    for (size_t i = 0; i < findings->size(); ++i) {
      const json& f = (*findings)[i];
      std::string where = "detail.findings[" + std::to_string(i) + "]";
      if (!f.is_object()) return Error::invalid(where + " is not an object", "InvalidEvent");
      FindingKey k{source, string_field(f, "ProductArn"), string_field(f, "Id"), string_field(f, "UpdatedAt")};
      CC_TRY(need(k, where));
      out.push_back(k);
    }
    return out;
  }
  return Error::invalid("detail-type '" + type +
                            "' is not a finding event this function handles ('GuardDuty Finding' or "
                            "'Security Hub Findings - Imported')",
                        "InvalidEvent");
}

// The function is killed at its deadline; the grace covers clock differences between instances.
constexpr auto kClaimGrace = std::chrono::seconds(10);

Result<FindingClaims::Claim> FindingClaims::claim(const FindingKey& key, const std::string& request_id, aws::TimePoint deadline) {
  const aws::TimePoint now = clock_.now();
  json item = claim_key(key);
  item["st"] = ddb_s("handling");
  item["request_id"] = ddb_s(request_id);
  item["claimed_at"] = ddb_s(aws::format_iso8601(now));
  // Lambda retries a failed async invocation after a minute: by then a killed holder's claim has
  // expired and the retry takes it over.
  item["expires"] = ddb_n(to_ms(std::max(deadline, now) + kClaimGrace));
  item["finding_id"] = ddb_s(key.id);
  item["updated_at"] = ddb_s(key.updated_at);
  item["source"] = ddb_s(key.source);
  aws::DdbCondition cond;
  cond.expression = "attribute_not_exists(pk) OR #st = :failed OR (#st = :handling AND #exp < :now)";
  cond.names = {{"#st", "st"}, {"#exp", "expires"}};
  cond.values = {{":failed", ddb_s("failed")}, {":handling", ddb_s("handling")}, {":now", ddb_n(to_ms(now))}};
  Status st = ddb_.put(item, cond);
  if (st.ok()) return Claim::kMine;
  if (!aws::ddb_condition_failed(st.error())) return st.error();
  CC_ASSIGN(std::optional<json> held, ddb_.get(claim_key(key)));
  // Gone between the put and the get only if someone deleted it: not ours to call handled.
  if (!held) return Claim::kInProgress;
  // Our own put, retried after its answer was lost: the claim is ours.
  if (aws::ddb_str(*held, "request_id") == request_id && aws::ddb_str(*held, "st") == "handling") return Claim::kMine;
  return aws::ddb_str(*held, "st") == "done" ? Claim::kHandled : Claim::kInProgress;
}

Status FindingClaims::finish(const FindingKey& key, const std::string& request_id, const std::string& outcome) {
  aws::DdbCondition cond;
  cond.expression = "#rq = :me AND #st = :handling";
  cond.names = {{"#rq", "request_id"}, {"#st", "st"}, {"#fin", "finished_at"}};
  cond.values = {{":me", ddb_s(request_id)}, {":handling", ddb_s("handling")}, {":out", ddb_s(outcome)},
                 {":fin", ddb_s(aws::format_iso8601(clock_.now()))}};
  auto r = ddb_.update(claim_key(key), "SET #st = :out, #fin = :fin", cond);
  if (r.ok()) return Ok{};
  if (!aws::ddb_condition_failed(r.error())) return r.error();
  // Our own update, retried after its answer was lost, finds the claim already finished by us.
  CC_ASSIGN(std::optional<json> now, ddb_.get(claim_key(key)));
  if (now && aws::ddb_str(*now, "request_id") == request_id && aws::ddb_str(*now, "st") == outcome) return Ok{};
  return r.error();
}

Result<std::optional<json>> FindingClaims::get(const FindingKey& key) { return ddb_.get(claim_key(key)); }

}  // namespace containctl::orch
