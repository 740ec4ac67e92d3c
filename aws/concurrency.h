// Waiting for other threads in a way the clock can see. Code that can run under a virtual clock
// (the executor, the action families) must block only in Clock::sleep_for or through these:
// a plain condition variable, future or join would look like a running thread to the virtual
// clock, and virtual time would stop. Under SystemClock they are ordinary threads and waits.
#pragma once

#include <functional>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include "aws/clock.h"
#include "aws/result.h"

namespace containctl::aws {

// Blocks until `ready()` holds; `ready` runs with `mu` held. Whoever changes what `ready` reads
// must call notify_waiters() after releasing `mu`.
void wait_until(Clock& clock, std::mutex& mu, const std::function<bool()>& ready);
void notify_waiters(Clock& clock);

// Runs `body` and turns anything it throws (std::stoi's invalid_argument, nlohmann's type_error,
// out_of_range, ...) into an Error (kInternal, code "UncaughtException") naming `what` and the
// exception. Nothing may throw past a thread: every thread helper below runs its bodies through it.
Status catch_all(const std::string& what, const std::function<void()>& body);
Status catch_all_status(const std::string& what, const std::function<Status()>& body);

// A thread that counts as a participant of `clock` from before it starts until `body` returns.
// An exception from `body` never ends the process: it is caught on the thread and handed to
// `on_error` (on that thread), which must not throw.
std::thread start_thread(Clock& clock, std::function<void()> body, std::function<void(const Error&)> on_error);

// Runs every task and returns when all are done: the first on the calling thread, the others on
// threads of their own. A task that throws stops only itself; every other task still runs to the
// end. Returns the error of the first task (by index) that threw, or ok.
[[nodiscard]] Status fork_join(Clock& clock, std::vector<std::function<void()>> tasks);

}  // namespace containctl::aws
