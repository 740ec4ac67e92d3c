// fork_join and wait_until under a virtual clock: time must keep moving while threads wait for
// each other (a plain join or condition variable would stop it), and under the system clock they
// must behave as ordinary threads.
#include <gtest/gtest.h>

#include <atomic>

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
  fork_join(clock, std::move(tasks));
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
  fork_join(clock, {[&] {
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
  fork_join(clock, std::move(tasks));
  EXPECT_EQ(runs, 4);
  EXPECT_GT(most, 1);
}

}  // namespace
}  // namespace containctl::aws
