// fork_join and wait_until under a virtual clock: time must keep moving while threads wait for
// each other (a plain join or condition variable would stop it), and under the system clock they
// must behave as ordinary threads.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "aws/concurrency.h"
#include "aws/virtual_clock.h"

namespace containctl::aws {
namespace {

using namespace std::chrono_literals;
const TimePoint kT0 = std::chrono::system_clock::from_time_t(1'790'000'000);

TEST(ConcurrencyTest, ForkJoinUnderAVirtualClockTakesTheLongestTaskNotTheSum) {
  VirtualClock clock(kT0);
  clock.thread_enter();
  std::vector<long> finished_at(3);
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 3; ++i)
    tasks.push_back([&, i] {
      clock.sleep_for(std::chrono::milliseconds(100 * (i + 1)));
      finished_at[i] = static_cast<long>((clock.now() - kT0) / 1ms);
    });
  ASSERT_TRUE(fork_join(clock, std::move(tasks)).ok());
  clock.thread_leave();
  EXPECT_EQ(finished_at, (std::vector<long>{100, 200, 300}));
  EXPECT_EQ(clock.now() - kT0, 300ms);  // parallel; the sum would be 600 ms
}

TEST(ConcurrencyTest, WaitUntilLetsVirtualTimeMoveAndWakesOnNotify) {
  VirtualClock clock(kT0);
  std::mutex mu;
  bool ready = false;
  long seen_at = -1;
  clock.thread_enter();
  Status joined = fork_join(clock, {[&] {
                      wait_until(clock, mu, [&] { return ready; });  // parked: does not hold time back
                      seen_at = static_cast<long>((clock.now() - kT0) / 1ms);
                    },
                    [&] {
                      clock.sleep_for(250ms);
                      {
                        std::lock_guard lock(mu);
                        ready = true;
                      }
                      notify_waiters(clock);
                    }});
  clock.thread_leave();
  EXPECT_TRUE(joined.ok());
  EXPECT_EQ(seen_at, 250);
}

TEST(ConcurrencyTest, ForkJoinOnTheSystemClockRunsEveryTaskOnceAndConcurrently) {
  Clock& clock = SystemClock::instance();
  std::atomic<int> runs{0}, inside{0}, most{0};
  std::vector<std::function<void()>> tasks(4, [&] {
    int now = ++inside;
    int prev = most.load();
    while (now > prev && !most.compare_exchange_weak(prev, now)) {
    }
    clock.sleep_for(50ms);
    --inside;
    ++runs;
  });
  ASSERT_TRUE(fork_join(clock, std::move(tasks)).ok());
  EXPECT_EQ(runs, 4);
  EXPECT_GT(most, 1);
}

// Nothing throws past a thread: the exceptions a family could raise on a worker (std::stoi on bad
// text, nlohmann's type_error, out_of_range from .at()) come back as errors naming them, every
// other task still runs, and the process does not end in std::terminate.
std::vector<std::function<void()>> throwing_tasks() {
  return {
      [] { (void)std::stoi("not-a-number"); },
      [] {
        const nlohmann::json j = {{"port", "eighty"}};
        (void)j["port"].get<int>();
      },
      [] {
        const nlohmann::json j = nlohmann::json::object();
        (void)j.at("missing");
      },
      [] { (void)std::string("abc").substr(10); },
  };
}

TEST(ConcurrencyTest, ExceptionsOnAnyTaskBecomeErrorsAndTheOthersStillRun) {
  auto tasks = throwing_tasks();
  for (size_t thrower = 0; thrower < tasks.size(); ++thrower) {
    Clock& clock = SystemClock::instance();
    std::atomic<int> ran{0};
    std::vector<std::function<void()>> run(4, [&] {
      clock.sleep_for(5ms);
      ++ran;
    });
    run[thrower % run.size()] = tasks[thrower];  // including task 0, which runs on the caller
    Status st = fork_join(clock, run);
    ASSERT_FALSE(st.ok()) << thrower;
    EXPECT_EQ(st.error().kind, ErrorKind::kInternal);
    EXPECT_EQ(st.error().code, "UncaughtException");
    EXPECT_EQ(ran, 3) << thrower;
  }
}

TEST(ConcurrencyTest, ErrorsNameTheExceptionItsMessageAndTheFirstThrowingTask) {
  Clock& clock = SystemClock::instance();
  auto tasks = throwing_tasks();
  Status st = fork_join(clock, {[] {}, tasks[1], tasks[0]});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("task 1"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("type must be number"), std::string::npos) << st.error().message;
  Status stoi = catch_all("parse port", tasks[0]);
  ASSERT_FALSE(stoi.ok());
  EXPECT_NE(stoi.error().message.find("parse port failed: stoi"), std::string::npos) << stoi.error().message;
  Status odd = catch_all("odd", [] { throw 42; });
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message.find("not a std::exception"), std::string::npos);
  EXPECT_TRUE(catch_all_status("fine", [] { return Status(Ok{}); }).ok());
}

TEST(ConcurrencyTest, StartThreadHandsTheExceptionToTheCallerUnderAVirtualClock) {
  VirtualClock clock(kT0);
  clock.thread_enter();
  std::mutex mu;
  std::string reported;
  bool done = false;
  std::thread t = start_thread(
      clock,
      [&] {
        clock.sleep_for(100ms);
        const nlohmann::json j = nlohmann::json::array();
        (void)j.at(3);
      },
      [&](const Error& e) {
        {
          std::lock_guard lock(mu);
          reported = e.message;
          done = true;
        }
        notify_waiters(clock);
      });
  wait_until(clock, mu, [&] { return done; });
  t.join();
  clock.thread_leave();
  EXPECT_NE(reported.find("out of range"), std::string::npos) << reported;
  EXPECT_EQ(clock.now() - kT0, 100ms);  // the thread left the clock: time did not stop
}

}  // namespace
}  // namespace containctl::aws
