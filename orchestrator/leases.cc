#include "orchestrator/leases.h"

#include <unistd.h>

#include <algorithm>
#include <random>

#include <spdlog/spdlog.h>

namespace containctl::orch {

const std::string& lease_owner_id() {
  static const std::string id = [] {
    char host[256] = {0};
    if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown-host");
    std::random_device rd;
    char suffix[9];
    std::snprintf(suffix, sizeof suffix, "%08x", rd());
    return std::string(host) + ":" + std::to_string(::getpid()) + ":" + suffix;
  }();
  return id;
}

Result<std::unique_ptr<LeaseKeeper>> LeaseKeeper::acquire(Journal& journal, std::vector<std::string> resources,
                                                          const std::string& run_id, const std::string& caller,
                                                          aws::Clock& clock, const Options& options) {
  std::sort(resources.begin(), resources.end());
  resources.erase(std::unique(resources.begin(), resources.end()), resources.end());
  std::unique_ptr<LeaseKeeper> k(new LeaseKeeper(journal, clock, options));
  const aws::TimePoint give_up = clock.now() + options.wait;
  const std::string started = aws::format_iso8601(clock.now());
  for (const auto& r : resources) {
    for (;;) {
      Lease want{r, run_id, lease_owner_id(), caller, started, clock.now() + options.ttl};
      auto got = journal.take_lease(want);
      if (got.ok()) {
        k->leases_.push_back(*got);
        break;
      }
      // Held by another live run: wait if asked to, else refuse (the destructor releases what we hold).
      if (got.error().code != "LeaseHeld" || clock.now() >= give_up) return got.error();
      clock.sleep_for(std::min<std::chrono::milliseconds>(std::chrono::milliseconds(1000),
                                                          std::chrono::duration_cast<std::chrono::milliseconds>(
                                                              give_up - clock.now())));
    }
  }
  k->renewer_ = std::thread([keeper = k.get()] { keeper->renew_loop(); });
  return k;
}

void LeaseKeeper::renew_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, options_.ttl / 3, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Status failed = Ok{};
    for (auto& l : leases_) {
      aws::TimePoint until = clock_.now() + options_.ttl;
      if (Status st = journal_.renew_lease(l, until); !st.ok()) {
        failed = st;
        break;
      }
      l.expires = until;
    }
    lock.lock();
    if (!failed.ok() && lost_.ok()) {
      spdlog::error("lease lost: {}", failed.error().describe());
      lost_ = failed;
    }
  }
}

Status LeaseKeeper::ok() const {
  std::lock_guard lock(mu_);
  return lost_;
}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  for (const auto& l : leases_) logged(journal_.release_lease(l));
}

}  // namespace containctl::orch
