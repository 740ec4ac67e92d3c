// AwsJournal: single-use approvals (conditional puts on "APPROVAL#<id>" items) and the caller of
// each run ("CALLER" in the run's partition).
#include "orchestrator/journal_aws.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using aws::ddb_s;
using aws::ddb_str;

json approval_key(const std::string& approval_id) {
  return {{"pk", ddb_s("APPROVALS")}, {"sk", ddb_s("APPROVAL#" + approval_id)}};
}
json caller_key(const std::string& run_id) { return {{"pk", ddb_s("RUN#" + run_id)}, {"sk", ddb_s("CALLER")}}; }

UsedApproval used_from(const json& item) {
  std::string sk = ddb_str(item, "sk");
  return {sk.substr(sk.find('#') + 1), ddb_str(item, "run_id"), ddb_str(item, "approver"), ddb_str(item, "plan_hash"),
          ddb_str(item, "used_at")};
}

}  // namespace

Status AwsJournal::record_approvals_used(const std::vector<UsedApproval>& used) {
  if (used.empty()) return Ok{};
  if (used.size() > 100)
    return Error::invalid("team store: " + std::to_string(used.size()) +
                          " approvals in one apply (at most 100 are recorded at once)");
  std::string now = aws::format_iso8601(clock_.now());
  // One transaction, each put conditional on the approval not being recorded yet: all are
  // recorded or none, and of two runs presenting one approval only one succeeds.
  json items = json::array();
  for (const auto& u : used) {
    json item = approval_key(u.approval_id);
    item["run_id"] = ddb_s(u.run_id);
    item["approver"] = ddb_s(u.approver);
    item["plan_hash"] = ddb_s(u.plan_hash);
    item["used_at"] = ddb_s(u.used_at.empty() ? now : u.used_at);
    items.push_back({{"Put", {{"Item", item}, {"ConditionExpression", "attribute_not_exists(pk)"}}}});
  }
  Status st = table().transact(items);
  if (st.ok()) return Ok{};
  if (!aws::ddb_condition_failed(st.error()))
    return Error::io("team store: record approvals as used: " + st.error().describe());
  // A condition failed: an approval is another run's, or a retry of ours whose first answer was
  // lost already landed (then every approval names this run).
  for (const auto& u : used) {
    CC_ASSIGN(std::optional<json> item, table().get(approval_key(u.approval_id)));
    if (!item || ddb_str(*item, "run_id") != u.run_id)
      return Error::refused("the approval by " + u.approver + " was already used" +
                                (item ? " by run " + ddb_str(*item, "run_id") : std::string()) +
                                "; an approval authorizes one run",
                            "ApprovalUsed");
  }
  return Ok{};
}

Result<std::optional<UsedApproval>> AwsJournal::approval_used(const std::string& approval_id) {
  CC_ASSIGN(std::optional<json> item, table().get(approval_key(approval_id)));
  if (!item) return std::optional<UsedApproval>();
  return std::optional<UsedApproval>(used_from(*item));
}

Result<std::vector<UsedApproval>> AwsJournal::approvals_used_by(const std::string& run_id) {
  // One partition holds every used approval; a run used few of the few there are.
  CC_ASSIGN(std::vector<json> items, table().query("APPROVALS", "APPROVAL#"));
  std::vector<UsedApproval> out;
  for (const auto& it : items)
    if (ddb_str(it, "run_id") == run_id) out.push_back(used_from(it));
  return out;
}

Status AwsJournal::record_run_caller(const std::string& run_id, const std::string& caller,
                                     const std::string& plan_caller) {
  json item = caller_key(run_id);
  item["caller"] = ddb_s(caller);
  item["plan_caller"] = ddb_s(plan_caller);
  Status st = table().put(item);
  if (!st.ok()) return Error::io("team store: record the caller of " + run_id + ": " + st.error().describe());
  return Ok{};
}

Result<std::pair<std::string, std::string>> AwsJournal::run_caller(const std::string& run_id) {
  CC_ASSIGN(std::optional<json> item, table().get(caller_key(run_id)));
  if (!item) return std::pair<std::string, std::string>();
  return std::pair<std::string, std::string>(ddb_str(*item, "caller"), ddb_str(*item, "plan_caller"));
}

}  // namespace containctl::orch
