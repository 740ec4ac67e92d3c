#include "aws/virtual_clock.h"

namespace containctl::aws {

TimePoint VirtualClock::now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void VirtualClock::sleep_for(std::chrono::milliseconds d) {
  if (d.count() <= 0) return;
  std::unique_lock lock(mu_);
  Waiter w;
  sleepers_.emplace(std::make_pair(now_ + d, seq_++), &w);
  if (--running_ == 0) advance_locked();
  w.cv.wait(lock, [&] { return w.ready; });
}

void VirtualClock::thread_enter() {
  std::lock_guard lock(mu_);
  running_++;
}

void VirtualClock::thread_leave() {
  std::lock_guard lock(mu_);
  if (--running_ == 0) advance_locked();
}

uint64_t VirtualClock::park_generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

void VirtualClock::park(uint64_t generation) {
  std::unique_lock lock(mu_);
  if (generation != generation_) return;
  Waiter w;
  parked_.emplace(seq_++, &w);
  if (--running_ == 0) advance_locked();
  w.cv.wait(lock, [&] { return w.ready; });
}

void VirtualClock::unpark_all() {
  std::lock_guard lock(mu_);
  generation_++;
  for (auto& [seq, w] : parked_) {
    w->ready = true;
    running_++;
    w->cv.notify_one();
  }
  parked_.clear();
}

void VirtualClock::advance_locked() {
  // Nobody is running: release everyone due at the earliest wake-up. Parked threads stay parked
  // (only a running thread can unpark them); if nobody sleeps either, the run is over or stuck.
  if (sleepers_.empty()) return;
  TimePoint t = sleepers_.begin()->first.first;
  if (t > now_) now_ = t;
  while (!sleepers_.empty() && sleepers_.begin()->first.first == t) {
    Waiter* w = sleepers_.begin()->second;
    sleepers_.erase(sleepers_.begin());
    w->ready = true;
    running_++;
    w->cv.notify_one();
  }
}

}  // namespace containctl::aws
