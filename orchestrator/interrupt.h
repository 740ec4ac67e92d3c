// SIGINT/SIGTERM during apply and rollback. The first signal only sets a flag (async-signal-safe):
// the executor starts no new step, steps in flight finish (EC2's untrack dwell is cut short and its
// interfaces go on to isolation), the run is recorded `interrupted`. A second signal exits at once;
// the journal stays consistent because every write is an SQLite transaction.
#pragma once

namespace containctl::orch {

// Installs the handlers for the life of the object (restores the previous ones after).
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
};

// True once SIGINT or SIGTERM arrived while a guard was installed.
bool interrupt_requested();
// The signal that asked (0: none).
int interrupt_signal();
// For tests and for code that wants the same behaviour without a signal.
void request_interrupt();
void clear_interrupt();

}  // namespace containctl::orch
