// Leases on resources: before a run mutates (or restores) a resource it holds a lease on it in
// the state store, so two runs never contain one resource at once, whatever machine they run on.
// A lease has an owner (this process), the run, the caller and an expiry; it is renewed while the
// run works and released when it ends. A process killed with its leases leaves them to expire;
// then `apply --resume` or `rollback` from any machine takes them over.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "orchestrator/journal.h"

namespace containctl::orch {

// "<host>:<pid>:<random>": this process, unique across machines and restarts.
const std::string& lease_owner_id();

// Holds the leases of one run for its length: takes them all before anything is mutated (sorted,
// so two runs cannot deadlock), renews them from a thread every third of the lease time, and
// releases them when destroyed. A lease that could not be renewed makes ok() fail: the run then
// mutates nothing more.
class LeaseKeeper {
 public:
  struct Options {
    std::chrono::seconds ttl{60};
    std::chrono::milliseconds wait{0};  // --wait-lock: how long to wait for a held lease
  };
  // Refused (exit 3) naming the holder's run, caller and start when a resource is leased by
  // another live run; nothing is held then.
  static Result<std::unique_ptr<LeaseKeeper>> acquire(Journal& journal, std::vector<std::string> resources,
                                                      const std::string& run_id, const std::string& caller,
                                                      aws::Clock& clock, const Options& options);
  ~LeaseKeeper();
  // Ok while every lease is held; otherwise the error that lost one.
  Status ok() const;
  const std::vector<Lease>& leases() const { return leases_; }

 private:
  LeaseKeeper(Journal& journal, aws::Clock& clock, Options options)
      : journal_(journal), clock_(clock), options_(options) {}
  void renew_loop();
  Journal& journal_;
  aws::Clock& clock_;
  Options options_;
  std::vector<Lease> leases_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  Status lost_ = Ok{};
  std::thread renewer_;
};

}  // namespace containctl::orch
