// Virtual time for tests and the scale simulation: many real threads, no real sleeping.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "aws/clock.h"

namespace containctl::aws {

// Virtual time for a fixed set of participating threads (a conservative discrete-event barrier).
// Time advances only when every participating thread is blocked in sleep_for() or park(): then it
// jumps to the earliest wake-up and releases exactly the threads due then. Participants must block
// only through this clock (short mutex holds are fine), otherwise time would stall (a join or a
// condition variable the clock does not know about looks like a running thread forever).
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(TimePoint start) : now_(start) {}
  TimePoint now() const override;
  void sleep_for(std::chrono::milliseconds d) override;

  // A thread joins (call before it starts, from a running participant or before any start) / leaves.
  void thread_enter() override;
  void thread_leave() override;
  // A parked thread does not hold time back; unpark_all() makes every parked thread running again.
  uint64_t park_generation() const override;
  void park(uint64_t generation) override;
  void unpark_all() override;

 private:
  struct Waiter {
    bool ready = false;
    std::condition_variable cv;
  };
  void advance_locked();  // mu_ held, nobody running

  mutable std::mutex mu_;
  TimePoint now_;
  int running_ = 0;
  uint64_t seq_ = 0;
  uint64_t generation_ = 0;
  std::map<std::pair<TimePoint, uint64_t>, Waiter*> sleepers_;
  std::map<uint64_t, Waiter*> parked_;
};

}  // namespace containctl::aws
