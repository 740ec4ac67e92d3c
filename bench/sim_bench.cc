// The scale simulation's three scenarios (see tests/support/sim_scenario.h for what is real and
// what is modelled). Prints one line per scenario; virtual time, so it runs in seconds.
//   sim_bench [--workers-10k N] [--journal-ms X]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/support/sim_scenario.h"

using namespace containctl;

namespace {

void print(const sim::ScenarioResult& r, double real_s) {
  std::printf("%-34s targets=%-6zu makespan=%8.2fs bound=%8.2fs (bucket %.2fs [%s], critical %.2fs, "
              "concurrency %.2fs) ratio=%.3f aws_ratio=%.3f calls=%ld throttled=%ld transient5xx=%ld "
              "steps_done=%d failed_steps=%d real=%.1fs\n",
              r.name.c_str(), r.targets, r.makespan_s, r.bound_s, r.bucket_bound_s, r.busiest_bucket.c_str(),
              r.critical_path_s, r.concurrency_bound_s, r.ratio, r.aws_ratio, r.calls, r.throttled, r.transient,
              r.steps_done, r.steps_failed, real_s);
  for (size_t i = 0; i < r.errors.size() && i < 5; ++i) std::printf("  error: %s\n", r.errors[i].c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int workers_10k = 10000;
  double journal_ms = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--workers-10k")) workers_10k = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--journal-ms")) journal_ms = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s (--workers-10k N, --journal-ms X)\n", argv[i]);
      return 2;
    }
  }
  std::vector<sim::Scenario> scenarios(3);
  scenarios[0].name = "1 instance";
  scenarios[0].targets = sim::make_targets(1, 1, {"us-east-1"}, "instance");
  scenarios[1].name = "1000 instances, 1 account/region";
  scenarios[1].targets = sim::make_targets(1000, 1, {"us-east-1"}, "instance");
  scenarios[2].name = "10000 targets, 500 accts x 3 regions";
  scenarios[2].targets = sim::make_targets(10000, 500, {"us-east-1", "eu-west-1", "ap-southeast-2"});
  scenarios[2].workers = workers_10k;
  for (auto& s : scenarios) {
    s.journal_write_ms = journal_ms;
    auto start = std::chrono::steady_clock::now();
    auto r = sim::run_scenario(s);
    print(r, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 0;
}
