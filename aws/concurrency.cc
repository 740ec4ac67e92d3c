#include "aws/concurrency.h"

namespace containctl::aws {

void wait_until(Clock& clock, std::mutex& mu, const std::function<bool()>& ready) {
  for (;;) {
    // The generation is taken before checking, so a notify between the check and park() is not lost.
    uint64_t generation = clock.park_generation();
    {
      std::lock_guard lock(mu);
      if (ready()) return;
    }
    clock.park(generation);
  }
}

void notify_waiters(Clock& clock) { clock.unpark_all(); }

std::thread start_thread(Clock& clock, std::function<void()> body) {
  clock.thread_enter();
  return std::thread([&clock, body = std::move(body)] {
    body();
    clock.thread_leave();
  });
}

void fork_join(Clock& clock, std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) return;
  std::mutex mu;
  size_t finished = 0;
  std::vector<std::thread> threads;
  threads.reserve(tasks.size() - 1);
  for (size_t i = 1; i < tasks.size(); ++i)
    threads.push_back(start_thread(clock, [&, i] {
      tasks[i]();
      {
        std::lock_guard lock(mu);
        finished++;
      }
      notify_waiters(clock);
    }));
  tasks[0]();
  wait_until(clock, mu, [&] { return finished == threads.size(); });
  // Every thread has finished its task; join only waits for it to return.
  for (auto& t : threads) t.join();
}

}  // namespace containctl::aws
