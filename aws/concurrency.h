// Waiting for other threads in a way the clock can see. Code that can run under a virtual clock
// (the executor, the action families) must block only in Clock::sleep_for or through these:
// a plain condition variable, future or join would look like a running thread to the virtual
// clock, and virtual time would stop. Under SystemClock they are ordinary threads and waits.
#pragma once

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "aws/clock.h"

namespace containctl::aws {

// Blocks until `ready()` holds; `ready` runs with `mu` held. Whoever changes what `ready` reads
// must call notify_waiters() after releasing `mu`.
void wait_until(Clock& clock, std::mutex& mu, const std::function<bool()>& ready);
void notify_waiters(Clock& clock);

// A thread that counts as a participant of `clock` from before it starts until `body` returns.
std::thread start_thread(Clock& clock, std::function<void()> body);

// Runs every task and returns when all are done: the first on the calling thread, the others on
// threads of their own.
void fork_join(Clock& clock, std::vector<std::function<void()>> tasks);

}  // namespace containctl::aws
