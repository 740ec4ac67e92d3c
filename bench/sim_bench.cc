// The scale simulation's three scenarios (see tests/support/sim_scenario.h for what is real and
// what is modelled). Prints one line per scenario; virtual time, so it runs in seconds.
//   sim_bench [--workers-10k N] [--per-account-region-10k N] [--state-dir-parent DIR] [--audit] [--dwell-ms N] [--transient-rate X]
//             [--backend sqlite|aws] [--ddb-table-units W/R] [--ddb-partition-units W/R] [--ddb-lost-answer-rate X]
//             [--ddb-partition-per-item] [--store-with-session-limiter] [--only-10k] [--count-10k N] [--large-before-every N]
//   sim_bench --plan-10k
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <sys/resource.h>

#include "tests/support/sim_scenario.h"

using namespace containctl;

namespace {

void print(const sim::ScenarioResult& r, double real_s) {
  std::printf("%-34s targets=%-6zu makespan=%8.2fs bound=%8.2fs (bucket %.2fs [%s], critical %.2fs, "
              "concurrency %.2fs) ratio=%.3f aws_ratio=%.3f calls=%ld throttled=%ld transient5xx=%ld "
              "steps_done=%d failed_steps=%d journal_verified=%ld status=%s real=%.1fs\n",
              r.name.c_str(), r.targets, r.makespan_s, r.bound_s, r.bucket_bound_s, r.busiest_bucket.c_str(),
              r.critical_path_s, r.concurrency_bound_s, r.ratio, r.aws_ratio, r.calls, r.throttled, r.transient,
              r.steps_done, r.steps_failed, r.journal_steps_verified, r.status.c_str(), real_s);
  if (!r.store.calls.empty()) {
    long calls = 0, throttled = 0;
    std::string per_op;
    for (const auto& [op, n] : r.store.calls) {
      calls += n;
      per_op += " " + op + "=" + std::to_string(n);
    }
    for (const auto& [op, n] : r.store.throttled) throttled += n;
    std::printf("  store: create_run=%.2fs store_bound=%.2fs [%s] calls=%ld (%s ) throttled=%ld wcu=%.0f rcu=%.0f "
                "condition_failed=%ld lost_answers=%ld s3_objects=%zu steps_transitioned_exactly=%ld audit_records=%ld\n",
                r.create_run_s, r.store_bound_s, r.store_busiest.c_str(), calls, per_op.c_str(), throttled,
                r.store.write_units, r.store.read_units, r.store.condition_failed, r.store.lost_answers,
                r.store_objects, r.store_steps_exact, r.audit_records);
    for (size_t i = 0; i < r.store_anomalies.size() && i < 5; ++i)
      std::printf("  store anomaly: %s\n", r.store_anomalies[i].c_str());
  }
  for (size_t i = 0; i < r.errors.size() && i < 5; ++i) std::printf("  error: %s\n", r.errors[i].c_str());
  std::fflush(stdout);
}

// Planning 10,000 targets: one discovery read per target through the real AwsClient against the
// simulated transport (virtual time, one thread), the sim family's plan(), and the whole plan
// serialised to JSON as a plan file is. Real CPU time and peak RSS of this process.
void plan_10k() {
  auto targets = sim::make_targets(10000, 500, {"us-east-1", "eu-west-1", "ap-southeast-2"});
  aws::VirtualClock clock(std::chrono::system_clock::from_time_t(1'790'000'000));
  auto transport = std::make_shared<aws::SimTransport>(clock, aws::SimConfig{});
  auto limiter = std::make_shared<aws::RateLimiter>(clock, true);
  sim::SimFamily family;
  actions::Identity caller{"100000000000", "arn:aws:iam::100000000000:user/responder", "AIDA", "AKIA"};
  actions::Options options;
  std::map<std::string, std::unique_ptr<aws::AwsClient>> clients;
  auto start = std::chrono::steady_clock::now();
  clock.thread_enter();
  nlohmann::json plan = nlohmann::json::array();
  int failed = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    auto& c = clients[t.account];
    if (!c) {
      aws::ClientConfig cfg;
      cfg.transport = transport;
      cfg.clock = &clock;
      cfg.credentials = std::make_shared<aws::StaticCredentialsProvider>(
          aws::Credentials{aws::SimTransport::access_key_for(t.account), "simsecret", "", std::nullopt, "sim"});
      cfg.limiter = limiter;
      cfg.account_id = t.account;
      c = std::make_unique<aws::AwsClient>(cfg);
    }
    actions::Target target;
    target.account = t.account;
    target.region = t.region;
    target.type = t.kind;
    target.name = t.kind + "-" + std::to_string(i);
    target.arn = "arn:aws:sim:" + t.region + ":" + t.account + ":" + target.name;
    actions::Context ctx{*c, target, t.region, "plan", caller, options, {}, clock};
    auto read = t.kind == "instance" ? c->query("ec2", t.region, "DescribeInstances",
                                                {{"Filter.1.Name", "instance-id"}, {"Filter.1.Value.1", target.name}})
                                     : c->query("iam", "us-east-1", "GetUser", {{"UserName", target.name}});
    if (!read.ok()) {
      failed++;
      continue;
    }
    auto p = family.plan(ctx, nlohmann::json::object());
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : p->steps)
      steps.push_back({{"id", s.id}, {"description", s.description}, {"depends_on", s.depends_on},
                       {"before", s.before}, {"after", s.after}, {"args", s.args}});
    plan.push_back({{"target", target.arn}, {"account", t.account}, {"region", t.region}, {"steps", steps}});
  }
  clock.thread_leave();
  std::string text = plan.dump(2);
  double real_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("plan 10000 targets: real=%.2fs virtual=%.1fs plan_bytes=%zu failed_reads=%d peak_rss=%ld KiB\n", real_s,
              std::chrono::duration<double>(clock.now() - std::chrono::system_clock::from_time_t(1'790'000'000)).count(),
              text.size(), failed, ru.ru_maxrss);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && !std::strcmp(argv[1], "--plan-10k")) {
    plan_10k();
    return 0;
  }
  int workers_10k = 2000, per_key_10k = 4;
  bool audit = false;
  int dwell_ms = 0;
  double transient_rate = -1;  // keep the SimConfig default
  std::string state_parent;
  std::string backend = "sqlite";
  bool only_10k = false;
  int count_10k = 10000;
  bool store_with_session_limiter = false;
  int large_before_every = 0;
  sim::SimStoreConfig store;
  auto pair = [](const char* v, double& a, double& b) { return std::sscanf(v, "%lf/%lf", &a, &b) == 2; };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--workers-10k" && has_value) workers_10k = std::atoi(argv[++i]);
    else if (a == "--per-account-region-10k" && has_value) per_key_10k = std::atoi(argv[++i]);
    else if (a == "--state-dir-parent" && has_value) state_parent = argv[++i];
    else if (a == "--audit") audit = true;
    else if (a == "--transient-rate" && has_value) transient_rate = std::atof(argv[++i]);
    else if (a == "--dwell-ms" && has_value) dwell_ms = std::atoi(argv[++i]);  // instances: move, dwell, move
    else if (a == "--backend" && has_value) backend = argv[++i];
    else if (a == "--only-10k") only_10k = true;
    else if (a == "--count-10k" && has_value) count_10k = std::atoi(argv[++i]);  // scale the third scenario
    else if (a == "--large-before-every" && has_value) large_before_every = std::atoi(argv[++i]);
    else if (a == "--ddb-table-units" && has_value && pair(argv[i + 1], store.table_write_units, store.table_read_units)) ++i;
    else if (a == "--ddb-partition-units" && has_value &&
             pair(argv[i + 1], store.partition_write_units, store.partition_read_units)) ++i;
    else if (a == "--ddb-lost-answer-rate" && has_value) store.lost_answer_rate = std::atof(argv[++i]);
    else if (a == "--ddb-partition-per-item") store.partition_per_item = true;
    else if (a == "--store-with-session-limiter") store_with_session_limiter = true;
    else {
      std::fprintf(stderr,
                   "unknown option %s (--workers-10k N, --per-account-region-10k N, --state-dir-parent DIR, --audit, "
                   "--dwell-ms N, --transient-rate X, --backend sqlite|aws, --ddb-table-units W/R, "
                   "--ddb-partition-units W/R, --ddb-lost-answer-rate X, --ddb-partition-per-item, --store-with-session-limiter, "
                   "--only-10k, --count-10k N, "
                   "--large-before-every N)\n",
                   argv[i]);
      return 2;
    }
  }
  std::vector<sim::Scenario> scenarios(3);
  scenarios[0].name = "1 instance";
  scenarios[0].targets = sim::make_targets(1, 1, {"us-east-1"}, "instance");
  scenarios[1].name = "1000 instances, 1 account/region";
  scenarios[1].targets = sim::make_targets(1000, 1, {"us-east-1"}, "instance");
  scenarios[2].name = std::to_string(count_10k) + " targets, " + std::to_string(count_10k / 20) + " accts x 3 regions";
  scenarios[2].targets = sim::make_targets(count_10k, std::max(1, count_10k / 20), {"us-east-1", "eu-west-1", "ap-southeast-2"});
  scenarios[2].workers = workers_10k;
  scenarios[2].per_account_region = per_key_10k;
  if (backend != "sqlite" && backend != "aws") {
    std::fprintf(stderr, "--backend is sqlite or aws, not %s\n", backend.c_str());
    return 2;
  }
  if (only_10k) scenarios.erase(scenarios.begin(), scenarios.begin() + 2);
  for (auto& s : scenarios) {
    s.backend = backend;
    s.store_with_session_limiter = store_with_session_limiter;
    s.store = store;
    s.large_before_every = large_before_every;
    s.audit = audit;
    s.dwell_ms = dwell_ms;
    if (transient_rate >= 0) s.sim.transient_rate = transient_rate;
    s.state_dir_parent = state_parent;
    auto start = std::chrono::steady_clock::now();
    auto r = sim::run_scenario(s);
    print(r, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 0;
}
