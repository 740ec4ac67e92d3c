#include "aws/concurrency.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <typeinfo>

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

namespace {

Error uncaught(const std::string& what, const std::string& detail) {
  return Error{ErrorKind::kInternal, "UncaughtException", what + " failed: " + detail};
}

}  // namespace

Status catch_all_status(const std::string& what, const std::function<Status()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    // typeid names the exception class (e.g. nlohmann's type_error), what() its message.
    return uncaught(what, std::string(e.what()) + " (" + typeid(e).name() + ")");
  } catch (...) {
    return uncaught(what, "an exception that is not a std::exception");
  }
}

Status catch_all(const std::string& what, const std::function<void()>& body) {
  return catch_all_status(what, [&]() -> Status {
    body();
    return Ok{};
  });
}

std::thread start_thread(Clock& clock, std::function<void()> body, std::function<void(const Error&)> on_error) {
  clock.thread_enter();
  return std::thread([&clock, body = std::move(body), on_error = std::move(on_error)] {
    Status st = catch_all("thread", body);
    if (!st.ok()) {
      Status reported = catch_all("thread error handler", [&] {
        if (on_error) on_error(st.error());
      });
      if (!on_error || !reported.ok()) spdlog::critical("{}", st.error().message);
    }
    clock.thread_leave();
  });
}

Status fork_join(Clock& clock, std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) return Ok{};
  std::vector<Status> results(tasks.size());
  std::mutex mu;
  size_t finished = 0;
  std::vector<std::thread> threads;
  threads.reserve(tasks.size() - 1);
  for (size_t i = 1; i < tasks.size(); ++i)
    threads.push_back(start_thread(
        clock,
        [&, i] {
          results[i] = catch_all("task " + std::to_string(i), tasks[i]);
          {
            std::lock_guard lock(mu);
            finished++;
          }
          notify_waiters(clock);
        },
        {}));  // the body catches everything itself
  results[0] = catch_all("task 0", tasks[0]);
  wait_until(clock, mu, [&] { return finished == threads.size(); });
  // Every thread has finished its task; join only waits for it to return.
  for (auto& t : threads) t.join();
  for (auto& r : results)
    if (!r.ok()) return r;
  return Ok{};
}

}  // namespace containctl::aws
