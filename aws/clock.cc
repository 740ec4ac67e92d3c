#include "aws/clock.h"

#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

namespace containctl::aws {

uint64_t Clock::park_generation() const {
  std::lock_guard lock(park_mu_);
  return park_generation_;
}

void Clock::park(uint64_t generation) {
  std::unique_lock lock(park_mu_);
  park_cv_.wait(lock, [&] { return park_generation_ != generation; });
}

void Clock::unpark_all() {
  {
    std::lock_guard lock(park_mu_);
    park_generation_++;
  }
  park_cv_.notify_all();
}

void SystemClock::sleep_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

static std::tm to_utc(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

std::string format_amz_date(TimePoint t) {
  std::tm tm = to_utc(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string format_iso8601(TimePoint t) {
  std::tm tm = to_utc(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool parse_time(std::string_view text, TimePoint& out) {
  std::tm tm{};
  int y, mo, d, h, mi, s;
  std::string str(text);
  int consumed = 0;
  if (str.size() == 16 && std::sscanf(str.c_str(), "%4d%2d%2dT%2d%2d%2dZ%n", &y, &mo, &d, &h, &mi, &s, &consumed) == 6 &&
      consumed == 16) {
  } else if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) == 6) {
    std::string_view rest = std::string_view(str).substr(consumed);
    if (!rest.empty() && rest[0] == '.') {
      size_t i = 1;
      while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) ++i;
      rest.remove_prefix(i);
    }
    if (rest != "Z" && rest != "+00:00" && rest != "") return false;
  } else {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

}  // namespace containctl::aws
