// The run journal's write throughput on a real disk: every step of a run makes four synced writes
// (record_before, applying, record_applied, verified) through one SQLite connection, so at scale
// the journal, not AWS, can set the floor. Concurrent writers share commits (group commit). Prints
// durable writes per second and how many commits (fsyncs) they took.
//   journal_bench [DIR] [STEPS] [THREADS]   (DIR on the disk to measure; default the current directory)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "orchestrator/journal.h"

using namespace containctl;

int main(int argc, char** argv) {
  std::string parent = argc > 1 ? argv[1] : ".";
  const int steps = argc > 2 ? std::atoi(argv[2]) : 2000;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 8;
  std::string dir = parent + "/containctl-journal-bench.XXXXXX";
  if (!::mkdtemp(dir.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  auto journal = orch::Journal::open(dir, aws::SystemClock::instance());
  if (!journal.ok()) {
    std::fprintf(stderr, "%s\n", journal.error().describe().c_str());
    return 1;
  }
  std::vector<orch::PlanEntry> entries(steps);
  for (int i = 0; i < steps; ++i) {
    entries[i].target.arn = "arn:aws:ec2:us-east-1:111122223333:instance/i-" + std::to_string(i);
    entries[i].family = "bench";
    entries[i].steps.resize(1);
    entries[i].steps[0].id = "s";
  }
  orch::RunRecord run{.run_id = "bench-run", .plan_hash = "hash", .status = "running", .requester = "bench",
                      .mode = "auto", .plan = nlohmann::json::object()};
  if (auto st = (*journal)->create_run(run, entries); !st.ok()) return 1;
  const nlohmann::json before = {{"groups", {"sg-0123456789abcdef0"}}, {"interfaces", {"eni-0123456789abcdef0"}}};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  int failures = 0;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = t; i < steps; i += threads) {
        orch::Journal& j = **journal;
        bool ok = j.record_before("bench-run", i, "s", before).ok() &&
                  j.set_state("bench-run", i, "s", orch::step_state::kApplying).ok() &&
                  j.record_applied("bench-run", i, "s", {{"ok", true}}).ok() &&
                  j.set_state("bench-run", i, "s", orch::step_state::kVerified).ok();
        if (!ok) __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
      }
    });
  for (auto& th : pool) th.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("journal: %d steps x 4 durable writes from %d threads in %.2fs = %.0f writes/s (%.3f ms each) "
              "in %llu commits; failures=%d; dir=%s\n",
              steps, threads, s, 4.0 * steps / s, s * 1000 / (4.0 * steps),
              static_cast<unsigned long long>((*journal)->step_commits()), failures, parent.c_str());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return failures == 0 ? 0 : 1;
}
