// Injected time. Production uses SystemClock; tests and the simulation use ManualClock, whose
// sleep_for advances virtual time instead of sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace containctl::aws {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;

  // Coordination between threads, routed through the clock so that a virtual clock knows which
  // threads are blocked (aws/concurrency.h wraps these; use that). A thread that uses the clock
  // is announced with thread_enter() before it starts and calls thread_leave() when it ends; real
  // clocks ignore both. park(g) blocks until unpark_all() has been called since
  // park_generation() returned g (so no wake-up is lost between checking and parking).
  virtual void thread_enter() {}
  virtual void thread_leave() {}
  virtual uint64_t park_generation() const;
  virtual void park(uint64_t generation);
  virtual void unpark_all();

 private:
  mutable std::mutex park_mu_;
  std::condition_variable park_cv_;
  uint64_t park_generation_ = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) override;
  static SystemClock& instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void sleep_for(std::chrono::milliseconds d) override { advance(d); }
  void advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void set(TimePoint t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

// "20150830T123600Z"
std::string format_amz_date(TimePoint t);
// "2015-08-30T12:36:00Z"
std::string format_iso8601(TimePoint t);
// Parses "YYYYMMDDTHHMMSSZ" or ISO-8601 "YYYY-MM-DDTHH:MM:SS[.fff]Z"; false on bad input.
bool parse_time(std::string_view text, TimePoint& out);

}  // namespace containctl::aws
