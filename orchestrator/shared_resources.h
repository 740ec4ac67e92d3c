// Steps of different targets that write one AWS resource (ActionFamily::shared_resources): a
// bucket's policy for the bucket and its objects, a VPC's isolation group for its instances. Apply
// never runs two of them at once (read-merge-write would lose one); rollback reverses them in the
// opposite order of application, newest first, as a whole-state restore needs. Waits go through
// the clock (aws/concurrency.h), so the simulation runs this code in virtual time.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "aws/clock.h"

namespace containctl::orch {

// Apply: a step holds all its keys or none while it runs, so two steps never wait on each other.
class ResourceLocks {
 public:
  explicit ResourceLocks(aws::Clock& clock) : clock_(clock) {}
  // Takes every key when none is held; false (taking nothing) otherwise.
  bool try_lock(const std::vector<std::string>& keys);
  // Blocks until every key is free, then takes them.
  void lock(const std::vector<std::string>& keys);
  void unlock(const std::vector<std::string>& keys);

  // Holds `keys` for its lifetime. When another step holds one of them, the wait runs inside
  // `idle` (the executor hands the target's pool slot back meanwhile: the wait makes no calls).
  class Held {
   public:
    Held(ResourceLocks& locks, std::vector<std::string> keys,
         const std::function<void(const std::function<void()>&)>& idle);
    ~Held() { locks_.unlock(keys_); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    ResourceLocks& locks_;
    std::vector<std::string> keys_;
  };

 private:
  bool free_locked(const std::vector<std::string>& keys) const;
  aws::Clock& clock_;
  std::mutex mu_;
  std::set<std::string> held_;
};

// Rollback: items in rollback order (newest application first); an item may start once every
// earlier item sharing a key with it has finished. The waits follow that one order, so they never
// form a cycle.
class ReverseOrder {
 public:
  ReverseOrder(aws::Clock& clock, const std::vector<std::vector<std::string>>& keys_per_item);
  bool ready(size_t item);
  void wait(size_t item);
  void finished(size_t item);

 private:
  bool ready_locked(size_t item) const;
  aws::Clock& clock_;
  std::mutex mu_;
  std::vector<std::vector<size_t>> after_;  // per item: the earlier items it waits for
  std::vector<char> finished_;
};

}  // namespace containctl::orch
