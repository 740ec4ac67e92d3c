#include "orchestrator/journal_aws.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "aws/concurrency.h"
#include "aws/sigv4.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using aws::ddb_n;
using aws::ddb_num;
using aws::ddb_s;
using aws::ddb_str;

std::string token() {
  std::random_device rd;
  char buf[33];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return buf;
}

std::string pad(long long v, int width) {
  std::string s = std::to_string(v);
  return std::string(s.size() < static_cast<size_t>(width) ? width - s.size() : 0, '0') + s;
}

// The states a step may be moved to `to` from. Anything else is another process's move (or a
// bug) and the conditional update refuses it.
const std::vector<std::string>& from_states(const std::string& to) {
  using namespace step_state;
  static const std::map<std::string, std::vector<std::string>> kFrom = {
      {kCaptured, {kPending, kFailed, kCaptured}},
      {kApplying, {kPending, kCaptured, kApplying, kFailed}},
      {kApplied, {kApplying}},
      {kVerified, {kApplied, kVerified}},
      {kFailed, {kPending, kCaptured, kApplying, kApplied, kFailed}},
      {kSkipped, {kPending}},
      {kRollingBack, {kApplying, kApplied, kVerified, kFailed, kRollingBack, kRollbackFailed}},
      {kRolledBack, {kRollingBack}},
      {kRollbackFailed, {kRollingBack}},
  };
  static const std::vector<std::string> kNone;
  auto it = kFrom.find(to);
  return it == kFrom.end() ? kNone : it->second;
}

// "#st IN (:f0, :f1, ...)" with its values added to `values`.
std::string state_in(const std::vector<std::string>& states, json& values) {
  std::string expr = "#st IN (";
  for (size_t i = 0; i < states.size(); ++i) {
    std::string ph = ":f" + std::to_string(i);
    values[ph] = ddb_s(states[i]);
    expr += (i ? ", " : "") + ph;
  }
  return expr + ")";
}

}  // namespace

json run_key(const std::string& run_id) { return {{"pk", ddb_s("RUNS")}, {"sk", ddb_s("RUN#" + run_id)}}; }
// The shard comes first in the key so that no run id (an imported run's is anyone's text) makes
// one run's partition another's.
std::string step_partition(const std::string& run_id, int entry, int shards) {
  if (shards <= 0) return "RUN#" + run_id;
  return "STEPS#" + std::to_string((entry < 0 ? -entry : entry) % shards) + "#" + run_id;
}
json step_key(const std::string& run_id, int entry, const std::string& step_id, int shards) {
  return {{"pk", ddb_s(step_partition(run_id, entry, shards))}, {"sk", ddb_s("STEP#" + pad(entry, 6) + "#" + step_id)}};
}
int step_shards_for(size_t entries) {
  return static_cast<int>(std::clamp<size_t>(entries, 1, AwsJournal::kStepShards));
}
json plan_key(const std::string& run_id) { return {{"pk", ddb_s("RUN#" + run_id)}, {"sk", ddb_s("PLAN")}}; }
json run_item_of(const RunRecord& run, const std::string& started_at, long long apply_counter, int shards) {
  json item = run_key(run.run_id);
  item["run_id"] = ddb_s(run.run_id);
  item["plan_hash"] = ddb_s(run.plan_hash);
  item["status"] = ddb_s(run.status);
  item["started_at"] = ddb_s(started_at);
  item["requester"] = ddb_s(run.requester);
  item["mode"] = ddb_s(run.mode);
  item["apply_counter"] = ddb_n(apply_counter);
  item["shards"] = ddb_n(shards);
  if (!run.recovery.is_null()) item["recovery"] = ddb_s(run.recovery.dump());
  return item;
}

Status put_blob(aws::AwsClient& client, const std::string& region, const std::string& bucket, const std::string& key,
                const std::string& body) {
  aws::RestRequest r;
  r.operation = "PutObject";
  r.method = "PUT";
  r.bucket = bucket;
  r.key = key;
  r.body = body;
  r.headers.push_back({"Content-Type", "application/json"});
  CC_TRY(client.rest_xml("s3", region, r));
  return Ok{};
}

Result<std::string> get_blob(aws::AwsClient& client, const std::string& region, const std::string& bucket,
                             const std::string& key) {
  aws::RestRequest r;
  r.operation = "GetObject";
  r.bucket = bucket;
  r.key = key;
  CC_ASSIGN(aws::HttpResponse resp, client.rest_xml("s3", region, r));
  return resp.body;
}

AwsJournal::AwsJournal(std::shared_ptr<aws::AwsClient> client, std::string region, std::string table,
                       std::string bucket, aws::Clock& clock)
    : ddb_(std::move(client), std::move(region), std::move(table)), bucket_(std::move(bucket)), clock_(clock) {}

std::string AwsJournal::location() const {
  return "dynamodb table " + ddb_.table() + " and s3 bucket " + bucket_ + " (" + ddb_.region() + ")";
}

Result<int> AwsJournal::shards_of(const std::string& run_id) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = shards_.find(run_id);
    if (it != shards_.end()) return it->second;
  }
  CC_ASSIGN(std::optional<json> item, ddb_.get(run_key(run_id)));
  // No run item: nothing to find under either layout; not remembered (the run may be created yet).
  if (!item) return 0;
  int n = item->contains("shards") ? static_cast<int>(ddb_num(*item, "shards")) : 0;
  if (n < 0 || n > 1000) return Error::io("team store: run " + run_id + " has an invalid shards count");
  std::lock_guard<std::mutex> l(mu_);
  shards_[run_id] = n;
  return n;
}

Result<json> AwsJournal::step_item_key(const std::string& run_id, int entry, const std::string& step_id) {
  CC_ASSIGN(int n, shards_of(run_id));
  return step_key(run_id, entry, step_id, n);
}

Result<long long> AwsJournal::next_apply_seq(const std::string& run_id) {
  // Numbers are handed out under mu_ in increasing order, so this process's order is the order
  // it asked in. Two processes never apply one resource at once (leases; one that lost its lease
  // mutates nothing more), and a block is reserved above every number handed out before, so
  // within a resource the order rollback reverses stays the order of application. Gaps are
  // harmless: rollback only sorts by it. One thread reserves while the others wait on the clock
  // (a plain lock held across the call would stop a virtual clock).
  for (;;) {
    long long seq = 0;
    bool reserve = false;
    aws::wait_until(clock_, mu_, [&] {
      SeqBlock& b = seq_blocks_[run_id];
      if (b.next > 0 && b.next <= b.last) {
        seq = b.next++;
        return true;
      }
      if (b.reserving) return false;
      b.reserving = reserve = true;
      return true;
    });
    if (seq > 0) return seq;
    auto counter = ddb_.update(run_key(run_id), "ADD apply_counter :n",
                               {"attribute_exists(pk)", json::object(), {{":n", ddb_n(kApplySeqBlock)}}});
    {
      std::lock_guard<std::mutex> l(mu_);
      SeqBlock& b = seq_blocks_[run_id];
      b.reserving = false;
      if (counter.ok()) {
        b.last = ddb_num(*counter, "apply_counter");
        b.next = std::max(b.next, b.last - kApplySeqBlock + 1);
      }
    }
    aws::notify_waiters(clock_);
    if (!counter.ok()) return counter.error();
  }
}

Status AwsJournal::put_json(json& values, const std::string& ph, const json& v, std::string& expr,
                            const std::string& name) {
  std::string text = v.dump();
  if (text.size() <= kInlineLimit) {
    values[ph] = ddb_s(text);
    expr = name;
    return Ok{};
  }
  // Content-addressed, and written before the item that names it: an item never points at
  // nothing, and the same before-state written twice is one object.
  std::string hash = aws::sha256_hex(text);
  CC_TRY(put_blob(ddb_.client(), ddb_.region(), bucket_, "blobs/sha256/" + hash, text));
  values[ph] = ddb_s(hash);
  expr = name + "_sha256";
  return Ok{};
}

Result<json> AwsJournal::read_json(const json& item, const std::string& name) {
  std::string text = ddb_str(item, name);
  if (text.empty()) {
    std::string hash = ddb_str(item, name + "_sha256");
    if (hash.empty()) return json();
    CC_ASSIGN(text, get_blob(ddb_.client(), ddb_.region(), bucket_, "blobs/sha256/" + hash));
    if (aws::sha256_hex(text) != hash)
      return Error::io("team store: s3://" + bucket_ + "/blobs/sha256/" + hash + " does not match its hash");
  }
  json v = json::parse(text, nullptr, false);
  if (v.is_discarded()) return Error::io("team store: " + name + " of " + ddb_str(item, "sk") + " is not JSON");
  return v;
}

Result<std::string> AwsJournal::claim_run(json run_item, bool take_over_unfinished) {
  const std::string run_id = ddb_str(run_item, "run_id");
  const std::string tok = token();
  run_item["wtok"] = ddb_s(tok);
  run_item["creating"] = ddb_s(tok);
  // An import may finish one an earlier import left unfinished (it writes the same run); a new
  // run never takes an id that is anyone's.
  aws::DdbCondition cond{take_over_unfinished ? "attribute_not_exists(pk) OR attribute_exists(creating)"
                                              : "attribute_not_exists(pk)"};
  Status st = ddb_.put(run_item, cond);
  if (st.ok()) return tok;
  if (!aws::ddb_condition_failed(st.error())) return st.error();
  // Refused: the id is another run's, or our own put landed on an attempt whose answer was lost
  // and the client's retry met it. Only our write carries our token.
  CC_ASSIGN(std::optional<json> item, ddb_.get(run_key(run_id)));
  if (item && ddb_str(*item, "run_id") == run_id && ddb_str(*item, "wtok") == tok) return tok;
  return Error::invalid("team store: run " + run_id + " already exists; nothing was written", "RunExists");
}

Status AwsJournal::finish_run(const std::string& run_id, const std::string& tok, int shards) {
  // Conditional on our token: a retry of this update after a lost answer meets the same token
  // (REMOVE leaves wtok), while an import that took the unfinished run over has its own.
  auto r = ddb_.update(run_key(run_id), "REMOVE creating", {"wtok = :tok", json::object(), {{":tok", ddb_s(tok)}}});
  if (!r.ok()) {
    if (aws::ddb_condition_failed(r.error()))
      return Error{ErrorKind::kClient, "StateConflict",
                   "team store: run " + run_id + " was taken over by another import while this one wrote it"};
    return Error::io("team store: complete run " + run_id + ": " + r.error().describe());
  }
  std::lock_guard<std::mutex> l(mu_);
  shards_[run_id] = shards;
  return Ok{};
}

Status AwsJournal::create_run(const RunRecord& run, const std::vector<PlanEntry>& entries) {
  std::string now = aws::format_iso8601(clock_.now());
  // The run item first, by a conditional put marked "creating": one run id is never created
  // twice, and a colliding id is refused before anything of this run is written (the plan and
  // step items of the run holding it stay as they are). The mark comes off once the plan and the
  // steps are stored; until then the run is not listed.
  const int shards = step_shards_for(entries.size());
  json run_item = run_item_of(run, now, 0, shards);
  if (run.owner.pid > 0) run_item["owner"] = ddb_s(run.owner.to_json().dump());
  CC_ASSIGN(std::string tok, claim_run(run_item, false));

  json values = json::object();
  std::string attr;
  CC_TRY(put_json(values, ":p", run.plan, attr, "plan"));
  json plan_item = plan_key(run.run_id);
  plan_item[attr] = values[":p"];
  std::vector<json> items = {plan_item};
  long long ord = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    for (const auto& step : entries[i].steps) {
      json item = step_key(run.run_id, static_cast<int>(i), step.id, shards);
      item["run_id"] = ddb_s(run.run_id);
      item["entry"] = ddb_n(static_cast<long long>(i));
      item["step_id"] = ddb_s(step.id);
      item["target"] = ddb_s(entries[i].target.arn);
      item["family"] = ddb_s(entries[i].family);
      item["st"] = ddb_s(step_state::kPending);
      item["updated_at"] = ddb_s(now);
      item["apply_seq"] = ddb_n(0);
      item["ord"] = ddb_n(ord++);
      items.push_back(std::move(item));
    }
  }
  CC_TRY(ddb_.batch_put(items));
  return finish_run(run.run_id, tok, shards);
}

namespace {

RunRecord run_from(const json& item) {
  RunRecord r;
  r.run_id = ddb_str(item, "run_id");
  r.plan_hash = ddb_str(item, "plan_hash");
  r.status = ddb_str(item, "status");
  r.started_at = ddb_str(item, "started_at");
  r.finished_at = ddb_str(item, "finished_at");
  r.requester = ddb_str(item, "requester");
  r.mode = ddb_str(item, "mode");
  r.case_id = ddb_str(item, "case_id");
  split_case_marker(r);
  r.owner = RunOwner::from_json(json::parse(ddb_str(item, "owner").empty() ? "null" : ddb_str(item, "owner"), nullptr,
                                            false));
  if (!ddb_str(item, "recovery").empty()) r.recovery = json::parse(ddb_str(item, "recovery"), nullptr, false);
  if (r.recovery.is_discarded()) r.recovery = json();
  return r;
}

}  // namespace

Result<std::vector<RunRecord>> AwsJournal::runs() {
  CC_ASSIGN(std::vector<json> items, ddb_.query("RUNS", "RUN#"));
  std::vector<RunRecord> out;
  for (const auto& it : items)
    if (!it.contains("creating")) out.push_back(run_from(it));  // still being written (or cut off doing so)
  std::stable_sort(out.begin(), out.end(), [](const RunRecord& a, const RunRecord& b) {
    return a.started_at < b.started_at;
  });
  return out;
}

Result<RunRecord> AwsJournal::run(const std::string& run_id) {
  CC_ASSIGN(std::optional<json> item, ddb_.get(run_key(run_id)));
  if (!item) return Error::invalid("no run '" + run_id + "' in the team store (" + location() + ")", "UnknownRun");
  if (item->contains("creating"))
    return Error::invalid("run '" + run_id + "' is not completely written to the team store (its creation or import "
                          "is under way or was cut off; state import of the run finishes it)", "UnknownRun");
  RunRecord r = run_from(*item);
  CC_ASSIGN(std::optional<json> plan, ddb_.get(plan_key(run_id)));
  if (plan) { CC_ASSIGN(r.plan, read_json(*plan, "plan")); }
  return r;
}

Result<std::vector<StepRecord>> AwsJournal::steps(const std::string& run_id) {
  CC_ASSIGN(int shards, shards_of(run_id));
  std::vector<json> items;
  for (int k = 0; k < std::max(shards, 1); ++k) {
    CC_ASSIGN(std::vector<json> part, ddb_.query(step_partition(run_id, k, shards), "STEP#"));
    for (auto& it : part) items.push_back(std::move(it));
  }
  std::vector<std::pair<long long, StepRecord>> sorted;
  for (const auto& it : items) {
    StepRecord r;
    r.run_id = ddb_str(it, "run_id");
    r.entry = static_cast<int>(ddb_num(it, "entry"));
    r.step_id = ddb_str(it, "step_id");
    r.target = ddb_str(it, "target");
    r.family = ddb_str(it, "family");
    r.state = ddb_str(it, "st");
    CC_ASSIGN(r.before, read_json(it, "before"));
    CC_ASSIGN(r.applied, read_json(it, "applied"));
    r.error = ddb_str(it, "error");
    r.updated_at = ddb_str(it, "updated_at");
    r.applied_at = ddb_str(it, "applied_at");
    r.apply_seq = ddb_num(it, "apply_seq");
    if (!ddb_str(it, "exposure").empty()) r.exposure = json::parse(ddb_str(it, "exposure"), nullptr, false);
    if (r.exposure.is_discarded()) r.exposure = json();
    sorted.emplace_back(ddb_num(it, "ord"), std::move(r));
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<StepRecord> out;
  for (auto& [ord, r] : sorted) out.push_back(std::move(r));
  return out;
}

Status AwsJournal::step_update(const std::string& run_id, int entry, const std::string& step_id, std::string update,
                               const std::string& to, json names, json values, const std::string& what) {
  const std::string tok = token();
  names["#st"] = "st";
  values[":to"] = ddb_s(to);
  values[":tok"] = ddb_s(tok);
  values[":now"] = ddb_s(aws::format_iso8601(clock_.now()));
  update += std::string(update.empty() ? "SET " : ", ") + "#st = :to, wtok = :tok, updated_at = :now";
  std::string cond = "attribute_exists(pk) AND " + state_in(from_states(to), values);
  CC_ASSIGN(json key, step_item_key(run_id, entry, step_id));
  auto r = ddb_.update(key, update, {cond, names, values});
  if (r.ok()) {
    commits_++;
    return Ok{};
  }
  if (!aws::ddb_condition_failed(r.error())) return Error::io("team store: " + what + ": " + r.error().describe());
  // Lost the race, or won it on an attempt whose answer was lost: the token says which.
  CC_ASSIGN(std::optional<json> now, ddb_.get(key));
  if (now && ddb_str(*now, "wtok") == tok) {
    commits_++;
    return Ok{};
  }
  return Error{ErrorKind::kClient, "StateConflict",
               "team store: " + what + ": step " + step_id + " of " + run_id + " is " +
                   (now ? "now '" + ddb_str(*now, "st") + "'" : "missing") + "; another process moved it (wanted '" +
                   to + "')"};
}

Status AwsJournal::record_before(const std::string& run_id, int entry, const std::string& step_id, const json& before) {
  json values = json::object();
  std::string attr;
  CC_TRY(put_json(values, ":b", before, attr, "before"));
  // Keeps the first before-state: a resumed step never records its own after-state as "before".
  CC_ASSIGN(json key, step_item_key(run_id, entry, step_id));
  CC_ASSIGN(std::optional<json> item, ddb_.get(key));
  if (!item) return Error::io("team store: no step " + step_id + " in run " + run_id);
  if (item->contains("before") || item->contains("before_sha256"))
    return step_update(run_id, entry, step_id, "", step_state::kCaptured, json::object(), json::object(),
                       "record before-state of " + step_id);
  // Attribute names go through placeholders: "before" is one of DynamoDB's reserved words.
  return step_update(run_id, entry, step_id, "SET #bv = :b", step_state::kCaptured, {{"#bv", attr}}, values,
                     "record before-state of " + step_id);
}

Status AwsJournal::set_state(const std::string& run_id, int entry, const std::string& step_id, const std::string& state,
                             const std::string& error) {
  CC_TRY(fault_refuses_step_state(state));
  json names = {{"#err", "error"}};
  json values = {{":err", ddb_s(error)}};
  CC_TRY(step_update(run_id, entry, step_id, "SET #err = :err", state, names, values, "set state of " + step_id));
  if (state == step_state::kRolledBack) {
    CC_ASSIGN(json key, step_item_key(run_id, entry, step_id));
    CC_ASSIGN(std::optional<json> item, ddb_.get(key));
    if (item) {
      json key = {{"pk", ddb_s("TARGET#" + ddb_str(*item, "target"))}, {"sk", ddb_s("ROLLBACK")}};
      auto r = ddb_.update(key, "SET #at = :at, run_id = :run",
                           {"", {{"#at", "at"}}, {{":at", ddb_s(aws::format_iso8601(clock_.now()))}, {":run", ddb_s(run_id)}}});
      if (!r.ok()) return Error::io("team store: record rollback of " + step_id + ": " + r.error().describe());
    }
  }
  return Ok{};
}

Status AwsJournal::record_applied(const std::string& run_id, int entry, const std::string& step_id, const json& applied) {
  // The order of application across the run (rollback reverses it): reserved in blocks from a
  // counter on the run item.
  auto seq = next_apply_seq(run_id);
  if (!seq.ok()) return Error::io("team store: record applied " + step_id + ": " + seq.error().describe());
  json values = {{":seq", ddb_n(*seq)}};
  std::string attr;
  CC_TRY(put_json(values, ":a", applied, attr, "applied"));
  return step_update(run_id, entry, step_id, "SET #av = :a, applied_at = :now, apply_seq = :seq",
                     step_state::kApplied, {{"#av", attr}}, values, "record applied " + step_id);
}

Status AwsJournal::set_run_status(const std::string& run_id, const std::string& status) {
  const std::vector<std::string>& from = run_statuses_before(status);
  if (from.empty()) return Error::internal("team store: '" + status + "' is not a run status");
  const bool final = status != "running" && status != "rolling_back";
  const std::string tok = token();
  json values = {{":s", ddb_s(status)}, {":fin", ddb_s(final ? aws::format_iso8601(clock_.now()) : "")},
                 {":tok", ddb_s(tok)}};
  const std::string cond = "attribute_exists(pk) AND " + state_in(from, values);
  auto r = ddb_.update(run_key(run_id), "SET #st = :s, finished_at = :fin, wtok = :tok",
                       {cond, {{"#st", "status"}}, values});
  if (r.ok()) return Ok{};
  if (!aws::ddb_condition_failed(r.error())) return Error::io("team store: set run status: " + r.error().describe());
  // As for steps: a retry of ours that already landed carries our token.
  CC_ASSIGN(std::optional<json> now, ddb_.get(run_key(run_id)));
  if (now && ddb_str(*now, "wtok") == tok) return Ok{};
  return Error{ErrorKind::kClient, "StateConflict",
               "team store: run " + run_id + " is " + (now ? "now '" + ddb_str(*now, "status") + "'" : "missing") +
                   "; another process moved it (wanted '" + status + "')"};
}

Status AwsJournal::set_run_case(const std::string& run_id, const std::string& case_id) {
  auto r = ddb_.update(run_key(run_id), "SET case_id = :c", {"attribute_exists(pk)", json::object(),
                                                             {{":c", ddb_s(case_id)}}});
  if (!r.ok()) return Error::io("team store: record the support case of run " + run_id + ": " + r.error().describe());
  return Ok{};
}

Result<bool> AwsJournal::swap_run_case(const std::string& run_id, const std::string& expected,
                                       const std::string& desired) {
  aws::DdbCondition cond;
  cond.expression = expected.empty() ? "attribute_exists(pk) AND (attribute_not_exists(case_id) OR case_id = :e)"
                                     : "attribute_exists(pk) AND case_id = :e";
  cond.values = {{":c", ddb_s(desired)}, {":e", ddb_s(expected)}};
  auto r = ddb_.update(run_key(run_id), "SET case_id = :c", cond);
  if (r.ok()) return true;
  if (!aws::ddb_condition_failed(r.error()))
    return Error::io("team store: record the support case of run " + run_id + ": " + r.error().describe());
  auto exists = run(run_id);  // no such run: say so, not "someone else holds it"
  if (!exists.ok()) return exists.error();
  // Our own swap, retried after its answer was lost, finds `desired` already there (a pending
  // marker carries its writer's time and nonce, a case id is AWS Support's: nobody else's).
  // The run record holds the marker apart from the case id (split_case_marker), so read the item.
  CC_ASSIGN(std::optional<json> item, ddb_.get(run_key(run_id)));
  if (item && ddb_str(*item, "case_id") == desired) return true;
  return false;
}

Status AwsJournal::set_run_owner(const std::string& run_id, const RunOwner& owner) {
  auto r = ddb_.update(run_key(run_id), "SET #o = :o",
                       {"attribute_exists(pk)", {{"#o", "owner"}}, {{":o", ddb_s(owner.to_json().dump())}}});
  if (!r.ok()) return Error::io("team store: set run owner: " + r.error().describe());
  return Ok{};
}

// Small (interface and group ids): always inline. Not a state move, so no state condition.
Status AwsJournal::set_exposure(const std::string& run_id, int entry, const std::string& step_id,
                                const json& exposure) {
  json values = {{":x", ddb_s(exposure.is_null() ? std::string() : exposure.dump())},
                 {":now", ddb_s(aws::format_iso8601(clock_.now()))}};
  CC_ASSIGN(json key, step_item_key(run_id, entry, step_id));
  auto r = ddb_.update(key, "SET #x = :x, updated_at = :now",
                       {"attribute_exists(pk)", {{"#x", "exposure"}}, values});
  if (!r.ok()) return Error::io("team store: record exposure of " + step_id + ": " + r.error().describe());
  commits_++;
  return Ok{};
}

std::optional<aws::TimePoint> AwsJournal::last_rollback(const std::string& target_arn) {
  auto item = ddb_.get({{"pk", ddb_s("TARGET#" + target_arn)}, {"sk", ddb_s("ROLLBACK")}});
  if (!item.ok() || !*item) return std::nullopt;
  aws::TimePoint t;
  if (!aws::parse_time(ddb_str(**item, "at"), t)) return std::nullopt;
  return t;
}

namespace {
// The team store serializes runs per resource (leases), not per store: runs on other resources
// proceed side by side.
struct NoGuard : RunGuard {};
}  // namespace

Result<std::unique_ptr<RunGuard>> AwsJournal::guard_run() { return std::unique_ptr<RunGuard>(new NoGuard); }

}  // namespace containctl::orch
