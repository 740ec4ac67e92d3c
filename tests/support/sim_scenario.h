// The scale simulation: the real executor (orchestrator/executor.cc execute_run: its pool with the
// per-(account, region) limit, dependency waves, the journal's capture -> applying -> apply ->
// verify per step, optionally the audit log) in VirtualClock time, with a fake action family whose
// steps make real calls through AwsClient (request building, SigV4, error parsing, retries, retry
// quota, RateLimiter with EC2's published buckets and adaptive throttling) against SimTransport.
// Backend "sqlite": journal and audit log live on tmpfs (/dev/shm) unless told otherwise: their
// writes are real but cost no virtual time. Backend "aws": the real AwsJournal (and TeamAuditLog
// with `audit`) through its own AwsClient against the simulated team store (sim_team_store.h:
// DynamoDB's operations, expressions, capacity units, partition and table limits and throttling
// errors, in virtual time). Header-only so that both the tests and bench/sim_bench.cc use it
// (bench links tests/support/sim_team_store.cc and sim_ddb_expression.cc).
#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "actions/action.h"
#include "aws/client.h"
#include "aws/sim_transport.h"
#include "orchestrator/audit_log.h"
#include "orchestrator/executor.h"
#include "orchestrator/journal.h"
#include "orchestrator/journal_aws.h"
#include "orchestrator/state_store.h"
#include "orchestrator/team_audit.h"
#include "tests/support/sim_team_store.h"

namespace containctl::sim {

using nlohmann::json;

// Each target kind has two steps, "b" depending on "a"; every capture/apply/verify is one call.
// Instances: DescribeTags / CreateTags, DescribeInstances / ModifyInstanceAttribute / DescribeInstances.
// Users: GetUserPolicy / PutUserPolicy / GetUserPolicy, ListAccessKeys / UpdateAccessKey.
// Buckets: GET/PUT/GET ?publicAccessBlock, GET/PUT ?policy.
// With dwell_ms, an instance's "b" is isolate-network's shape: a first move, a dwell without
// calls (actions::wait_without_calls, as the EC2 untrack dwell), a second move.
class SimFamily final : public actions::ActionFamily {
 public:
  int dwell_ms = 0;
  // Every Nth target's step "a" captures a before-state of 120 KB (over the team store's inline
  // limit: it goes to S3 first). 0: none.
  int large_before_every = 0;
  std::string name() const override { return "sim"; }
  bool handles(const actions::Target&) const override { return true; }
  Result<json> discover(actions::Context&) override { return json::object(); }
  Result<actions::TargetPlan> plan(actions::Context& ctx, const json&) override {
    actions::TargetPlan p;
    p.target = ctx.target;
    p.family = name();
    actions::Step a, b;
    a.id = "a";
    b.id = "b";
    b.depends_on = {"a"};
    a.description = b.description = "simulated step";
    p.steps = {a, b};
    return p;
  }
  Result<json> capture(actions::Context& ctx, const actions::Step& s) override {
    const auto& t = ctx.target;
    if (large_before_every > 0 && s.id == "a" && target_index(t) % large_before_every == 0) {
      auto r = capture_small(ctx, s);
      if (!r.ok()) return r;
      return json{{"ok", true}, {"target", t.arn}, {"pad", std::string(120 * 1024, 'x')}};
    }
    return capture_small(ctx, s);
  }
  // Targets are named "<prefix>-<index>" or "i-<hex index>" (run_scenario).
  static long target_index(const actions::Target& t) {
    size_t dash = t.name.rfind('-');
    if (dash == std::string::npos) return 0;
    return std::strtol(t.name.c_str() + dash + 1, nullptr, t.type == "instance" ? 16 : 10);
  }
  Result<json> capture_small(actions::Context& ctx, const actions::Step& s) {
    const auto& t = ctx.target;
    if (t.type == "instance")
      return done(s.id == "a" ? ec2(ctx, "DescribeTags", filter("resource-id", t.name))
                              : ec2(ctx, "DescribeInstances", filter("instance-id", t.name)));
    if (t.type == "user")
      return done(s.id == "a" ? iam(ctx, "GetUserPolicy", {{"UserName", t.name}, {"PolicyName", "deny"}})
                              : iam(ctx, "ListAccessKeys", {{"UserName", t.name}}));
    return done(s3(ctx, "GET", s.id == "a" ? "publicAccessBlock" : "policy"));
  }
  Result<json> apply(actions::Context& ctx, const actions::Step& s, const json&) override {
    const auto& t = ctx.target;
    if (t.type == "instance" && s.id == "b" && dwell_ms > 0) {
      auto first = ec2(ctx, "ModifyInstanceAttribute", {{"InstanceId", t.name}, {"GroupId.1", "sg-0aaaaaaaaaaaaaaaa"}});
      if (!first.ok()) return first.error();
      actions::wait_without_calls(ctx, std::chrono::milliseconds(dwell_ms));
    }
    if (t.type == "instance")
      return done(s.id == "a" ? ec2(ctx, "CreateTags", {{"ResourceId.1", t.name}, {"Tag.1.Key", "contained-by"},
                                                        {"Tag.1.Value", ctx.run_id}})
                              : ec2(ctx, "ModifyInstanceAttribute", {{"InstanceId", t.name},
                                                                     {"GroupId.1", "sg-0123456789abcdef0"}}));
    if (t.type == "user")
      return done(s.id == "a" ? iam(ctx, "PutUserPolicy", {{"UserName", t.name}, {"PolicyName", "deny"},
                                                           {"PolicyDocument", "{}"}})
                              : iam(ctx, "UpdateAccessKey", {{"UserName", t.name}, {"AccessKeyId", "AKIAEXAMPLE"},
                                                             {"Status", "Inactive"}}));
    return done(s3(ctx, "PUT", s.id == "a" ? "publicAccessBlock" : "policy"));
  }
  Status verify(actions::Context& ctx, const actions::Step& s) override {
    if (s.id != "a" && ctx.target.type == "user") return Ok{};  // keys: the apply answer suffices
    if (s.id != "b" && ctx.target.type == "instance") return Ok{};
    if (s.id != "a" && ctx.target.type == "bucket") return Ok{};
    auto r = capture_small(ctx, s);
    if (!r.ok()) return r.error();
    return Ok{};
  }
  Status rollback(actions::Context&, const actions::Step&, const json&, const json&,
                  const actions::RollbackOptions&) override {
    return Ok{};
  }
  Status verify_rollback(actions::Context&, const actions::Step&, const json&, const actions::RollbackOptions&) override {
    return Ok{};
  }
  std::vector<std::string> iam_actions() const override { return {}; }

 private:
  static aws::Params filter(const std::string& name, const std::string& value) {
    return {{"Filter.1.Name", name}, {"Filter.1.Value.1", value}};
  }
  template <class T>
  static Result<json> done(const Result<T>& r) {
    if (!r.ok()) return r.error();
    return json{{"ok", true}};
  }
  static Result<aws::XmlResponse> ec2(actions::Context& ctx, const std::string& action, const aws::Params& p) {
    return ctx.client.query("ec2", ctx.region, action, p);
  }
  static Result<aws::XmlResponse> iam(actions::Context& ctx, const std::string& action, const aws::Params& p) {
    return ctx.client.query("iam", "us-east-1", action, p);
  }
  static Result<aws::HttpResponse> s3(actions::Context& ctx, const std::string& method, const std::string& sub) {
    aws::RestRequest r;
    r.operation = (method == "GET" ? "Get" : "Put") + std::string(sub == "policy" ? "BucketPolicy" : "PublicAccessBlock");
    r.method = method;
    r.bucket = ctx.target.name;
    r.query = {{sub, ""}};
    if (method == "PUT") r.body = "<x/>";
    return ctx.client.rest_xml("s3", ctx.region, r);
  }
};

struct SimTarget {
  std::string account;
  std::string region;
  std::string kind;  // instance | user | bucket
};

struct Scenario {
  std::string name;
  std::vector<SimTarget> targets;
  int workers = 8;
  int per_account_region = 4;
  aws::SimConfig sim;
  std::string state_dir_parent;  // where the journal (and audit log) go; default /dev/shm, else TMPDIR
  bool audit = false;            // record every call and step in a real audit log, as `apply` does
  int dwell_ms = 0;              // instances wait this long between two moves (SimFamily)
  std::string backend = "sqlite";  // or "aws": AwsJournal (+ TeamAuditLog) on the simulated team store
  SimStoreConfig store;            // the aws backend's DynamoDB table and S3 bucket
  int large_before_every = 0;      // SimFamily::large_before_every
  // What-if: the store's client as before team_store_client_config: sharing the session's
  // adaptive limiter, 3 attempts. containctl's own is team_store_client_config (no limiter).
  bool store_with_session_limiter = false;
};

struct ScenarioResult {
  std::string name;
  size_t targets = 0;
  double makespan_s = 0;
  double bucket_bound_s = 0;      // busiest server bucket: (calls - burst) / rate
  double critical_path_s = 0;     // longest target: the sum of its calls' drawn latencies
  double concurrency_bound_s = 0;  // total call latency / usable concurrency (workers, per-key cap)
  double aws_bound_s = 0;          // max(bucket, critical path): what no scheduler can beat
  double bound_s = 0;              // max(aws bound, concurrency bound): the bound for this configuration
  double ratio = 0;                // makespan / bound
  double aws_ratio = 0;            // makespan / aws bound
  std::string busiest_bucket;
  long calls = 0, throttled = 0, transient = 0;
  int steps_done = 0, steps_failed = 0;
  std::string status;  // the run's outcome as execute_run reports it
  std::vector<std::string> errors;
  long journal_steps_verified = 0;  // read back from the journal after the run
  std::map<std::string, double> target_finish_s;  // target ARN -> virtual time its last call ended
  // Backend aws: the team store's side.
  double create_run_s = 0;        // create_run before execute_run (not in makespan_s)
  double store_bound_s = 0;       // what the store's limits allow for the units this run consumed
  std::string store_busiest;      // the partition or table limit behind store_bound_s
  SimStoreStats store;
  size_t store_objects = 0;       // S3 objects (offloaded before-states)
  long store_steps_exact = 0;     // step items whose "st" went pending, captured, applying, applied, verified once each
  std::vector<std::string> store_anomalies;  // step items that did not (first few), and unsupported requests
  long audit_records = 0;         // team audit log records read back (backend aws with audit)
  std::string audit_verify;       // "" when the team audit chain verified
  std::vector<aws::HttpRequest> store_requests;  // with store.keep_requests
};

// Targets: `count` spread round-robin over accounts x regions, kinds cycling instance/user/bucket
// unless `kind` is given.
inline std::vector<SimTarget> make_targets(int count, int accounts, const std::vector<std::string>& regions,
                                           const std::string& kind = "") {
  static const char* kinds[] = {"instance", "user", "bucket"};
  std::vector<SimTarget> out;
  for (int i = 0; i < count; ++i) {
    char acct[16];
    std::snprintf(acct, sizeof acct, "%012d", 100000000 + (i % accounts));
    std::string k = kind.empty() ? kinds[i % 3] : kind;
    std::string region = k == "user" ? "us-east-1" : regions[(i / accounts) % regions.size()];
    out.push_back({acct, region, k});
  }
  return out;
}

inline std::string make_state_dir(const std::string& parent_hint) {
  std::string parent = parent_hint;
  if (parent.empty()) parent = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "";
  if (parent.empty()) parent = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string tmpl = parent + "/containctl-sim.XXXXXX";
  if (!::mkdtemp(tmpl.data())) return "";
  return tmpl;
}

inline ScenarioResult run_scenario(const Scenario& sc) {
  using namespace std::chrono;
  const aws::TimePoint t0 = system_clock::from_time_t(1'790'000'000);
  aws::VirtualClock clock(t0);
  auto transport = std::make_shared<aws::SimTransport>(clock, sc.sim);
  // The client side paces with the same figures the server meters with (EC2's are the limiter's
  // defaults; IAM/STS/S3 are configured as the settings file would).
  auto limiter = std::make_shared<aws::RateLimiter>(clock, true);
  limiter->configure("iam", sc.sim.iam);
  limiter->configure("sts", sc.sim.sts);
  limiter->configure("s3", sc.sim.s3);

  ScenarioResult res;
  res.name = sc.name;
  res.targets = sc.targets.size();
  const std::string state_dir = make_state_dir(sc.state_dir_parent);
  if (state_dir.empty()) {
    res.errors.push_back("cannot create a state directory");
    return res;
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{state_dir};
  std::shared_ptr<SimTeamStore> store;
  std::unique_ptr<orch::TeamAuditLog> team_audit;
  Result<std::unique_ptr<orch::Journal>> journal = Error::internal("no journal");
  if (sc.backend == "aws") {
    // As Runtime builds it: the session's transport, limiter and retry policy, the store's own
    // account's credentials, no audit observer.
    store = std::make_shared<SimTeamStore>(sc.store);
    transport->add_service(store);
    aws::ClientConfig cfg;
    cfg.transport = transport;
    cfg.clock = &clock;
    cfg.credentials = std::make_shared<aws::StaticCredentialsProvider>(
        aws::Credentials{aws::SimTransport::access_key_for(sc.store.account), "simsecret", "", std::nullopt, "sim"});
    cfg.limiter = limiter;
    cfg.account_id = sc.store.account;
    cfg = orch::team_store_client_config(cfg);
    // What-if: the store's client as it was before, sharing the session's adaptive limiter and
    // its 3 attempts.
    if (sc.store_with_session_limiter) {
      cfg.limiter = limiter;
      cfg.retry = aws::RetryPolicy{};
    }
    auto store_client = std::make_shared<aws::AwsClient>(cfg);
    journal = std::unique_ptr<orch::Journal>(std::make_unique<orch::AwsJournal>(
        store_client, sc.store.region, sc.store.table, sc.store.bucket, clock));
    if (sc.audit)
      team_audit = std::make_unique<orch::TeamAuditLog>(store_client, sc.store.region, sc.store.table,
                                                        sc.store.bucket, clock);
  } else if (sc.backend == "sqlite") {
    journal = orch::Journal::open(state_dir, clock);
  } else {
    res.errors.push_back("unknown backend " + sc.backend + " (sqlite or aws)");
    return res;
  }
  if (!journal.ok()) {
    res.errors.push_back("journal: " + journal.error().describe());
    return res;
  }
  std::unique_ptr<orch::AuditLog> audit;
  if (sc.audit) {
    auto a = orch::AuditLog::open(state_dir + "/audit.jsonl", clock);
    if (!a.ok()) {
      res.errors.push_back("audit log: " + a.error().describe());
      return res;
    }
    audit = std::move(a).value();
  }

  // Per-target sums of the drawn latencies of successful calls (each target's critical path):
  // the observer runs on the calling thread right after each call.
  std::mutex mu;
  std::map<std::string, double> target_latency_ms;
  std::map<std::string, double> target_finish_s;
  auto observer = [&](const aws::CallRecord& c) {
    double ms = aws::SimTransport::thread_latency_ms();
    aws::SimTransport::thread_latency_ms() = 0;
    if (audit) {
      json f = {{"service", c.service}, {"operation", c.operation}, {"region", c.region},
                {"http_status", c.http_status}, {"duration_ms", c.duration.count()},
                {"attempts", c.attempts}, {"account", c.account}, {"target", c.context}};
      (void)audit->append("aws_call", f);
      if (team_audit) {
        f["run_id"] = "sim-run";
        (void)team_audit->append("aws_call", f);
      }
    }
    const double at = duration<double>(clock.now() - t0).count();
    std::lock_guard l(mu);
    target_latency_ms[c.context] += ms;
    target_finish_s[c.context] = std::max(target_finish_s[c.context], at);
  };

  SimFamily family;
  family.dwell_ms = sc.dwell_ms;
  family.large_before_every = sc.large_before_every;
  actions::Identity caller{"100000000000", "arn:aws:iam::100000000000:user/responder", "AIDA", "AKIA"};
  std::map<std::string, std::unique_ptr<aws::AwsClient>> clients;
  std::vector<orch::PlanEntry> entries;
  entries.reserve(sc.targets.size());
  for (size_t i = 0; i < sc.targets.size(); ++i) {
    const SimTarget& t = sc.targets[i];
    auto& c = clients[t.account];
    if (!c) {
      aws::ClientConfig cfg;
      cfg.transport = transport;
      cfg.clock = &clock;
      cfg.credentials = std::make_shared<aws::StaticCredentialsProvider>(
          aws::Credentials{aws::SimTransport::access_key_for(t.account), "simsecret", "", std::nullopt, "sim"});
      cfg.limiter = limiter;
      cfg.account_id = t.account;
      cfg.retry_quota = std::make_shared<aws::RetryQuota>();
      cfg.observer = observer;
      c = std::make_unique<aws::AwsClient>(cfg);
    }
    orch::PlanEntry e;
    e.family = family.name();
    e.account = t.account;
    e.region = t.region;
    e.confidence = "confirmed";
    e.target.partition = "aws";
    e.target.account = t.account;
    e.target.region = t.region;
    e.target.type = t.kind;
    char name[32];
    if (t.kind == "instance") {
      std::snprintf(name, sizeof name, "i-%017zx", i);
      e.target.service = "ec2";
      e.target.arn = "arn:aws:ec2:" + t.region + ":" + t.account + ":instance/" + name;
    } else if (t.kind == "user") {
      std::snprintf(name, sizeof name, "user-%zu", i);
      e.target.service = "iam";
      e.target.arn = "arn:aws:iam::" + t.account + ":user/" + name;
    } else {
      std::snprintf(name, sizeof name, "bucket-%zu", i);
      e.target.service = "s3";
      e.target.arn = std::string("arn:aws:s3:::") + name;
    }
    e.target.name = name;
    actions::Options options;
    actions::Context ctx{*c, e.target, t.region, "sim-run", caller, options, {}, clock};
    e.steps = family.plan(ctx, json::object())->steps;
    entries.push_back(std::move(e));
  }
  orch::RunRecord run;
  run.run_id = "sim-run";
  run.plan_hash = "sim";
  run.status = "running";
  run.requester = "sim";
  run.mode = "auto";
  run.plan = json::object();
  aws::SimTransport::thread_latency_ms() = 0;  // this thread is one of the workers; drop older calls
  clock.thread_enter();  // this thread runs create_run and the executor, so it takes part in virtual time
  struct Leave {
    aws::VirtualClock& clock;
    bool left = false;
    void operator()() {
      if (!left) clock.thread_leave();
      left = true;
    }
    ~Leave() { (*this)(); }
  } leave{clock};
  if (auto st = (*journal)->create_run(run, entries); !st.ok()) {
    res.errors.push_back("journal: " + st.error().describe());
    return res;
  }
  const aws::TimePoint t_exec = clock.now();
  res.create_run_s = duration<double>(t_exec - t0).count();

  orch::ExecutionEnv env;
  env.client_for = [&clients](const orch::PlanEntry& e) -> Result<aws::AwsClient*> {
    return clients.at(e.account).get();  // built above; read-only while the run goes
  };
  env.caller = caller;
  env.clock = &clock;
  env.workers = sc.workers;
  env.per_account_region = sc.per_account_region;
  env.family_for = [&family](const std::string& name) -> actions::ActionFamily* {
    return name == family.name() ? &family : nullptr;
  };
  if (audit)
    env.audit = [&](const std::string& event, const json& fields) {
      (void)audit->append(event, fields);
      if (team_audit) {
        if (Status st = team_audit->append(event, fields); !st.ok()) {
          std::lock_guard l(mu);
          res.store_anomalies.push_back("team audit append " + event + ": " + st.error().describe());
        }
      }
    };

  orch::RunOutcome outcome = orch::execute_run(**journal, run.run_id, entries, env);
  const aws::TimePoint t_end = clock.now();
  res.steps_done = outcome.steps_done;
  res.steps_failed = outcome.steps_failed;
  res.status = outcome.status;
  res.errors = outcome.errors;
  if (auto steps = (*journal)->steps(run.run_id); steps.ok()) {
    for (const auto& s : *steps) res.journal_steps_verified += s.state == orch::step_state::kVerified;
  } else {
    res.errors.push_back("journal read-back: " + steps.error().describe());
  }
  if (team_audit) {
    if (auto recs = team_audit->records(); recs.ok()) res.audit_records = static_cast<long>(recs->size());
    else res.errors.push_back("team audit read-back: " + recs.error().describe());
    auto v = team_audit->verify();
    if (!v.ok()) res.audit_verify = v.error().describe();
    else if (!v->ok) res.audit_verify = v->problem;
  }
  leave();
  if (store) {
    res.store = store->stats();
    res.store_bound_s = store->capacity_bound_s(&res.store_busiest);
    res.store_objects = store->object_count();
    res.store_requests = store->requests();
    const std::vector<std::string> want = {orch::step_state::kPending, orch::step_state::kCaptured,
                                           orch::step_state::kApplying, orch::step_state::kApplied,
                                           orch::step_state::kVerified};
    for (const auto& [key, states] : store->state_history()) {
      if (key.find("|STEP#") == std::string::npos) continue;
      if (states == want) {
        res.store_steps_exact++;
        continue;
      }
      if (res.store_anomalies.size() < 10) {
        std::string seq;
        for (const auto& st : states) seq += (seq.empty() ? "" : " -> ") + st;
        res.store_anomalies.push_back(key + ": " + seq);
      }
    }
    for (const auto& u : store->unsupported()) res.store_anomalies.push_back("unsupported: " + u);
  }
  for (auto& [target, at] : target_finish_s) at -= duration<double>(t_exec - t0).count();
  res.target_finish_s = target_finish_s;
  double critical_ms = 0;
  for (const auto& e : entries)  // an instance's dwell is on its own chain, whatever the scheduler does
    if (e.target.type == "instance") target_latency_ms[e.target.arn] += sc.dwell_ms;
  for (const auto& [target, ms] : target_latency_ms) critical_ms = std::max(critical_ms, ms);

  aws::SimStats st = transport->stats();
  res.makespan_s = duration<double>(t_end - t_exec).count();
  res.calls = st.calls;
  res.throttled = st.throttled;
  res.transient = st.transient;
  for (const auto& [key, b] : st.buckets) {
    if (b.config.rate_per_second <= 0) continue;
    double t = std::max(0.0, (b.ok - b.config.burst) / b.config.rate_per_second);
    if (t > res.bucket_bound_s) res.bucket_bound_s = t, res.busiest_bucket = key;
  }
  res.critical_path_s = critical_ms / 1000;
  {
    std::map<std::string, int> targets_per_key;
    for (const auto& e : entries)  // the executor's pool keys (IAM is global)
      targets_per_key[e.account + "/" + (e.target.service == "iam" ? std::string("global") : e.region)]++;
    long usable = 0;
    for (const auto& [k, c] : targets_per_key) usable += std::min(c, sc.per_account_region);
    usable = std::min<long>(usable, sc.workers);
    res.concurrency_bound_s = st.latency_sum_ms / 1000 / static_cast<double>(std::max<long>(1, usable));
  }
  res.aws_bound_s = std::max(res.bucket_bound_s, res.critical_path_s);
  res.bound_s = std::max(res.aws_bound_s, res.concurrency_bound_s);
  res.ratio = res.bound_s > 0 ? res.makespan_s / res.bound_s : 0;
  res.aws_ratio = res.aws_bound_s > 0 ? res.makespan_s / res.aws_bound_s : 0;
  return res;
}

}  // namespace containctl::sim
