// Injected time. Production uses SystemClock; tests and the simulation use ManualClock, whose
// sleep_for advances virtual time instead of sleeping.
#pragma once

#include <chrono>
#include <mutex>

namespace containctl::aws {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
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
