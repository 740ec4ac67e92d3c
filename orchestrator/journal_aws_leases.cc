// AwsJournal: state import and resource leases (conditional puts on "LOCK#<resource>" items).
#include <chrono>

#include "orchestrator/journal_aws.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using aws::ddb_n;
using aws::ddb_num;
using aws::ddb_s;
using aws::ddb_str;

long long to_ms(aws::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
aws::TimePoint from_ms(long long ms) { return aws::TimePoint(std::chrono::milliseconds(ms)); }

// One partition holds every lease, so status lists them with one Query (leases are few: the
// resources of the runs in flight).
json lock_key(const std::string& resource) { return {{"pk", ddb_s("LOCKS")}, {"sk", ddb_s("LOCK#" + resource)}}; }

Lease lease_from(const json& item) {
  std::string sk = ddb_str(item, "sk");
  return {sk.substr(sk.find('#') + 1), ddb_str(item, "run_id"), ddb_str(item, "owner"), ddb_str(item, "caller"),
          ddb_str(item, "started_at"), from_ms(ddb_num(item, "expires"))};
}

}  // namespace

Status AwsJournal::import_run(const RunRecord& run, const std::vector<StepRecord>& steps) {
  // The run item first (conditional, marked "creating", as create_run): a run id already in the
  // store is refused before any of its step items is overwritten. An earlier import of this run
  // that was cut off is finished, not refused.
  int max_entry = 0;
  for (const auto& s : steps) max_entry = std::max(max_entry, s.entry);
  const int shards = step_shards_for(static_cast<size_t>(max_entry) + 1);  // today's layout, spread like a new run's
  long long applied = 0;
  for (const auto& s : steps) applied = std::max(applied, s.apply_seq);
  json run_item = run_item_of(run, run.started_at, applied, shards);
  run_item["finished_at"] = ddb_s(run.finished_at);
  CC_ASSIGN(std::string tok, claim_run(run_item, true));

  json values = json::object();
  std::string attr;
  CC_TRY(put_json(values, ":p", run.plan, attr, "plan"));
  json plan_item = plan_key(run.run_id);
  plan_item[attr] = values[":p"];
  std::vector<json> items = {plan_item};
  long long ord = 0;
  for (const auto& s : steps) {
    json item = step_key(run.run_id, s.entry, s.step_id, shards);
    item["run_id"] = ddb_s(run.run_id);
    item["entry"] = ddb_n(s.entry);
    item["step_id"] = ddb_s(s.step_id);
    item["target"] = ddb_s(s.target);
    item["family"] = ddb_s(s.family);
    item["st"] = ddb_s(s.state);
    item["error"] = ddb_s(s.error);
    item["updated_at"] = ddb_s(s.updated_at);
    item["applied_at"] = ddb_s(s.applied_at);
    item["apply_seq"] = ddb_n(s.apply_seq);
    item["ord"] = ddb_n(ord++);
    if (!s.exposure.is_null()) item["exposure"] = ddb_s(s.exposure.dump());  // an open window stays named
    json v = json::object();
    if (!s.before.is_null()) {
      CC_TRY(put_json(v, ":b", s.before, attr, "before"));
      item[attr] = v[":b"];
    }
    if (!s.applied.is_null()) {
      CC_TRY(put_json(v, ":a", s.applied, attr, "applied"));
      item[attr] = v[":a"];
    }
    items.push_back(std::move(item));
  }
  CC_TRY(table().batch_put(items));
  for (const auto& s : steps) {
    if (s.state != step_state::kRolledBack) continue;
    json key = {{"pk", ddb_s("TARGET#" + s.target)}, {"sk", ddb_s("ROLLBACK")}};
    auto r = table().update(key, "SET #at = :at, run_id = :run",
                            {"attribute_not_exists(#at) OR #at < :at", {{"#at", "at"}},
                             {{":at", ddb_s(s.updated_at)}, {":run", ddb_s(run.run_id)}}});
    if (!r.ok() && !aws::ddb_condition_failed(r.error())) return r.error();
  }
  return finish_run(run.run_id, tok, shards);
}

Result<Lease> AwsJournal::take_lease(const Lease& want) {
  json item = lock_key(want.resource);
  item["run_id"] = ddb_s(want.run_id);
  item["owner"] = ddb_s(want.owner);
  item["caller"] = ddb_s(want.caller);
  item["started_at"] = ddb_s(want.started_at);
  item["expires"] = ddb_n(to_ms(want.expires));
  // Free, expired (by this process's clock), or already ours.
  aws::DdbCondition cond{"attribute_not_exists(pk) OR #e < :now OR #o = :owner", {{"#o", "owner"}, {"#e", "expires"}},
                         {{":now", ddb_n(to_ms(clock_.now()))}, {":owner", ddb_s(want.owner)}}};
  Status st = table().put(item, cond);
  if (st.ok()) return want;
  if (!aws::ddb_condition_failed(st.error()))
    return Error::io("team store: lease on " + want.resource + ": " + st.error().describe());
  CC_ASSIGN(std::optional<json> now, table().get(lock_key(want.resource)));
  if (!now) return take_lease(want);  // released meanwhile
  Lease held = lease_from(*now);
  if (held.owner == want.owner) return want;  // our own write, answered late
  return Error::refused(want.resource + " is being contained by " + describe_lease_holder(held) +
                            "; nothing was changed (wait for it, or use --wait-lock)",
                        "LeaseHeld");
}

Status AwsJournal::renew_lease(const Lease& held, aws::TimePoint expires) {
  auto r = table().update(lock_key(held.resource), "SET #e = :e",
                          {"#o = :owner", {{"#o", "owner"}, {"#e", "expires"}},
                           {{":e", ddb_n(to_ms(expires))}, {":owner", ddb_s(held.owner)}}});
  if (r.ok()) return Ok{};
  if (aws::ddb_condition_failed(r.error()))
    return Error::io("lease on " + held.resource + " was taken over by another run (ours had expired)");
  return Error::io("team store: renew lease on " + held.resource + ": " + r.error().describe());
}

Status AwsJournal::release_lease(const Lease& held) {
  Status st = table().remove(lock_key(held.resource), {"#o = :owner", {{"#o", "owner"}}, {{":owner", ddb_s(held.owner)}}});
  if (st.ok() || aws::ddb_condition_failed(st.error())) return Ok{};  // gone, or another's now
  return Error::io("team store: release lease on " + held.resource + ": " + st.error().describe());
}

Result<std::vector<Lease>> AwsJournal::leases() {
  CC_ASSIGN(std::vector<json> items, table().query("LOCKS", "LOCK#"));
  std::vector<Lease> out;
  for (const auto& it : items) out.push_back(lease_from(it));
  return out;
}

}  // namespace containctl::orch
