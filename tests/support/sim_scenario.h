// The scale simulation: a fake action family whose steps make real calls through AwsClient (real
// request building, SigV4, error parsing, retries, retry quota, RateLimiter with EC2's published
// buckets and adaptive throttling) against SimTransport in VirtualClock time, scheduled by a
// model of the executor's policy (orchestrator/executor.cc run_pool + run_entry: `workers`
// threads, at most `per_account_region` targets at once per (account, region), a target's steps
// in dependency order, capture -> journal -> apply -> verify per step). The executor itself is
// not run: its threads block on condition variables and futures that a virtual clock cannot see.
// Header-only so that both the tests and bench/sim_bench.cc use it.
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

#include "actions/action.h"
#include "aws/client.h"
#include "aws/sim_transport.h"

namespace containctl::sim {

using nlohmann::json;

// Each target kind has two steps, "b" depending on "a"; every capture/apply/verify is one call.
// Instances: DescribeTags / CreateTags, DescribeInstances / ModifyInstanceAttribute / DescribeInstances.
// Users: GetUserPolicy / PutUserPolicy / GetUserPolicy, ListAccessKeys / UpdateAccessKey.
// Buckets: GET/PUT/GET ?publicAccessBlock, GET/PUT ?policy.
class SimFamily final : public actions::ActionFamily {
 public:
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
    auto r = capture(ctx, s);
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
  double journal_write_ms = 0;  // virtual cost of each synced journal write (3 per step)
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
  std::vector<std::string> errors;
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

  SimFamily family;
  actions::Identity caller{"100000000000", "arn:aws:iam::100000000000:user/responder", "AIDA", "AKIA"};
  actions::Options options;
  std::map<std::string, std::unique_ptr<aws::AwsClient>> clients;
  struct Item {
    actions::Target target;
    std::string key;
    std::vector<actions::Step> steps;
    aws::AwsClient* client;
  };
  std::vector<Item> items;
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
      c = std::make_unique<aws::AwsClient>(cfg);
    }
    Item it;
    it.target.partition = "aws";
    it.target.account = t.account;
    it.target.region = t.region;
    it.target.type = t.kind;
    char name[32];
    if (t.kind == "instance") {
      std::snprintf(name, sizeof name, "i-%017zx", i);
      it.target.service = "ec2";
      it.target.arn = "arn:aws:ec2:" + t.region + ":" + t.account + ":instance/" + name;
    } else if (t.kind == "user") {
      std::snprintf(name, sizeof name, "user-%zu", i);
      it.target.service = "iam";
      it.target.arn = "arn:aws:iam::" + t.account + ":user/" + name;
    } else {
      std::snprintf(name, sizeof name, "bucket-%zu", i);
      it.target.service = "s3";
      it.target.arn = std::string("arn:aws:s3:::") + name;
    }
    it.target.name = name;
    it.key = t.account + "/" + t.region;
    it.client = c.get();
    actions::Context ctx{*c, it.target, t.region, "sim-run", caller, options, {}, clock};
    auto plan = family.plan(ctx, json::object());
    it.steps = plan->steps;
    items.push_back(std::move(it));
  }

  // The executor's pool: each worker takes the first target whose (account, region) has a free
  // slot, runs its steps in dependency order, frees the slot.
  std::mutex mu;
  std::vector<bool> taken(items.size(), false);
  size_t first_untaken = 0, remaining = items.size();
  std::map<std::string, int> active;
  ScenarioResult res;
  res.name = sc.name;
  res.targets = items.size();
  double critical_ms = 0;
  auto journal_write = [&] {
    if (sc.journal_write_ms > 0) clock.sleep_for(milliseconds(static_cast<long>(sc.journal_write_ms)));
  };
  auto run_target = [&](Item& it) {
    aws::SimTransport::thread_latency_ms() = 0;
    actions::Context ctx{*it.client, it.target, it.target.region, "sim-run", caller, options, {}, clock};
    std::set<std::string> done;
    while (done.size() < it.steps.size()) {
      const actions::Step* next = nullptr;
      for (const auto& s : it.steps) {
        if (done.count(s.id)) continue;
        if (std::all_of(s.depends_on.begin(), s.depends_on.end(), [&](const auto& d) { return done.count(d) > 0; })) {
          next = &s;
          break;
        }
      }
      auto fail = [&](const std::string& why) {
        std::lock_guard l(mu);
        res.steps_failed++;
        res.errors.push_back(it.target.arn + " " + next->id + ": " + why);
      };
      auto before = family.capture(ctx, *next);
      if (!before.ok()) return fail("capture: " + before.error().describe());
      journal_write();  // record_before
      journal_write();  // applying
      auto applied = family.apply(ctx, *next, *before);
      if (!applied.ok()) return fail(applied.error().describe());
      journal_write();  // record_applied
      if (auto v = family.verify(ctx, *next); !v.ok()) return fail("verify: " + v.error().describe());
      done.insert(next->id);
      std::lock_guard l(mu);
      res.steps_done++;
    }
    std::lock_guard l(mu);
    critical_ms = std::max(critical_ms, aws::SimTransport::thread_latency_ms());
  };
  auto worker = [&] {
    for (;;) {
      uint64_t gen = clock.park_generation();
      int pick = -1;
      {
        std::lock_guard l(mu);
        if (remaining == 0) break;
        while (first_untaken < items.size() && taken[first_untaken]) first_untaken++;
        for (size_t i = first_untaken; i < items.size(); ++i)
          if (!taken[i] && active[items[i].key] < sc.per_account_region) {
            pick = static_cast<int>(i);
            break;
          }
        if (pick >= 0) {
          taken[pick] = true;
          remaining--;
          active[items[pick].key]++;
        }
      }
      if (pick < 0) {
        clock.park(gen);  // until a target finishes and frees a slot
        continue;
      }
      run_target(items[pick]);
      {
        std::lock_guard l(mu);
        active[items[pick].key]--;
      }
      clock.unpark_all();
    }
    clock.unpark_all();  // let parked workers see that nothing remains
    clock.leave();
  };
  int n = std::max(1, std::min<int>(sc.workers, static_cast<int>(items.size())));
  for (int i = 0; i < n; ++i) clock.enter();  // before any starts, so time cannot run ahead of them
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  aws::SimStats st = transport->stats();
  res.makespan_s = duration<double>(clock.now() - t0).count();
  res.calls = st.calls;
  res.throttled = st.throttled;
  res.transient = st.transient;
  for (const auto& [key, b] : st.buckets) {
    if (b.config.rate_per_second <= 0) continue;
    double t = std::max(0.0, (b.ok - b.config.burst) / b.config.rate_per_second);
    if (t > res.bucket_bound_s) res.bucket_bound_s = t, res.busiest_bucket = key;
  }
  res.critical_path_s = critical_ms / 1000;
  double mean_latency_s = st.ok ? st.latency_sum_ms / st.ok / 1000 : 0;
  std::map<std::string, long> per_key_calls;
  size_t keys = 0;
  {
    std::map<std::string, int> targets_per_key;
    for (const auto& it : items) targets_per_key[it.key]++;
    keys = targets_per_key.size();
    long usable = 0;
    for (const auto& [k, c] : targets_per_key) usable += std::min(c, sc.per_account_region);
    usable = std::min<long>(usable, n);
    res.concurrency_bound_s = st.latency_sum_ms / 1000 / static_cast<double>(std::max<long>(1, usable));
  }
  (void)keys;
  (void)mean_latency_s;
  res.aws_bound_s = std::max(res.bucket_bound_s, res.critical_path_s);
  res.bound_s = std::max(res.aws_bound_s, res.concurrency_bound_s);
  res.ratio = res.bound_s > 0 ? res.makespan_s / res.bound_s : 0;
  res.aws_ratio = res.aws_bound_s > 0 ? res.makespan_s / res.aws_bound_s : 0;
  return res;
}

}  // namespace containctl::sim
