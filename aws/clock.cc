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

namespace {

// Exactly `n` ASCII digits at `pos` (no sign, no space: sscanf's %d accepted both).
bool digits(std::string_view text, size_t pos, size_t n, int& out) {
  if (pos + n > text.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : kDays[m - 1];
}

}  // namespace

bool parse_time(std::string_view text, TimePoint& out) {
  int y, mo, d, h, mi, s;
  bool ok;
  if (text.size() == 16 && text[8] == 'T' && text[15] == 'Z') {
    ok = digits(text, 0, 4, y) && digits(text, 4, 2, mo) && digits(text, 6, 2, d) && digits(text, 9, 2, h) &&
         digits(text, 11, 2, mi) && digits(text, 13, 2, s);
  } else {
    ok = text.size() >= 19 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
         text[16] == ':' && digits(text, 0, 4, y) && digits(text, 5, 2, mo) && digits(text, 8, 2, d) &&
         digits(text, 11, 2, h) && digits(text, 14, 2, mi) && digits(text, 17, 2, s);
    if (ok) {
      std::string_view rest = text.substr(19);
      if (!rest.empty() && rest[0] == '.') {
        size_t i = 1;
        while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
        if (i == 1) return false;
        rest.remove_prefix(i);
      }
      ok = rest == "Z" || rest == "+00:00" || rest.empty();
    }
  }
  if (!ok) return false;
  // TimePoint counts nanoseconds in 64 bits: about 1677-09-21 to 2262-04-11. Times outside
  // 1970-2261 are refused here rather than overflowing (found by fuzz_time).
  if (y < 1970 || y > 2261) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60) return false;
  std::tm tm{};
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
