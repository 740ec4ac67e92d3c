#include "orchestrator/interrupt.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace containctl::orch {
namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_count{0};
struct sigaction g_old_int, g_old_term;

void say(const char* text) {
  ssize_t n = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)n;
}

// Leaves the process now, threads in flight and all: the journal records each change before it is
// made, so whatever they were doing is named by `status` and repaired by --resume or rollback.
void exit_now(int code) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer's _exit runs its finaliser here, in a signal handler: it reports each worker
  // that finished but was not joined yet (a "thread leak", the abandonment asked for) and turns the
  // exit code into 66. exit_group(2) is what glibc's _exit calls.
  ::syscall(SYS_exit_group, code);
#endif
  ::_exit(code);
}

// Only async-signal-safe calls here: atomics, write(2), _exit(2).
void on_signal(int sig) {
  if (g_count.fetch_add(1) == 0) {
    g_signal.store(sig);
    say("\ncontainctl: interrupted: no new step starts; steps in flight finish (an instance in its all-traffic "
        "window moves on to isolation). Signal again to exit at once.\n");
    return;
  }
  say("\ncontainctl: exiting at once; the journal is consistent. `containctl status` names anything left open, "
      "`containctl apply PLAN --resume RUN` or `containctl rollback RUN` repairs it.\n");
  exit_now(128 + sig);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // AWS calls in flight go on; only the executor looks at the flag
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
}

bool interrupt_requested() { return g_count.load() > 0; }
int interrupt_signal() { return g_signal.load(); }
void request_interrupt() {
  g_count.fetch_add(1);
}
void clear_interrupt() {
  g_count.store(0);
  g_signal.store(0);
}

}  // namespace containctl::orch
