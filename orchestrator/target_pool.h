// The executor's pool: groups of plan entries (targets) run on worker threads, at most `workers`
// groups running in all and `per_key` per key (account/region, or account/global for IAM), in
// the groups' order otherwise. A running group may hand its slot back while it only waits (no
// AWS calls: the EC2 untrack dwell) and takes it back, ahead of the key's waiting groups, before
// it calls again; so a dwell costs its own target time, not its neighbours'.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "aws/clock.h"
#include "aws/result.h"

namespace containctl::orch {

struct PoolState;

// A running group's hold on the pool; given to the work function.
class PoolSlot {
 public:
  PoolSlot(PoolState& pool, const std::string& key) : pool_(pool), key_(key) {}
  // The group makes no calls until reacquire(): its key slot and its worker go to other groups.
  void release();
  // Blocks until the key has room again; a returning group comes before the key's waiting ones.
  // It may briefly take the running count above `workers` (never above `per_key` for its key).
  void reacquire();
  bool held() const { return held_; }

 private:
  PoolState& pool_;
  const std::string& key_;
  bool held_ = true;
};

// Runs `work(groups[i], slot)` for every group; returns when all are done. The caller is one of
// the workers. A `work` that throws ends only its own group (the others run on); the first such
// exception comes back as the error (nothing throws past a thread). Waits go through the clock (aws/concurrency.h), so the simulation runs this very
// code in virtual time.
[[nodiscard]] Status run_pool(aws::Clock& clock, const std::vector<std::vector<int>>& groups, const std::vector<std::string>& keys,
              int workers, int per_key, const std::function<void(const std::vector<int>&, PoolSlot&)>& work);

}  // namespace containctl::orch
