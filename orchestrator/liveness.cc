#include "orchestrator/liveness.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace containctl::orch {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Field 22 of /proc/PID/stat: the start time in clock ticks since boot. The command name (field 2)
// may hold spaces and parentheses, so fields are counted after its closing parenthesis.
long long start_ticks(long long pid) {
  std::string stat = first_line("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i)
    if (!(rest >> field)) return 0;
  try {
    return std::stoll(field);
  } catch (...) {
    return 0;
  }
}

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

RunOwner this_process() {
  RunOwner o;
  o.pid = ::getpid();
  o.host = host_name();
  o.boot_id = first_line("/proc/sys/kernel/random/boot_id");
  o.start_ticks = start_ticks(o.pid);
  return o;
}

Liveness owner_liveness(const RunOwner& owner) {
  if (owner.pid <= 0 || owner.host.empty()) return Liveness::kUnknown;
  RunOwner me = this_process();
  if (owner.host != me.host) return Liveness::kUnknown;
  if (!owner.boot_id.empty() && !me.boot_id.empty() && owner.boot_id != me.boot_id) return Liveness::kGone;
  if (::kill(static_cast<pid_t>(owner.pid), 0) != 0 && errno == ESRCH) return Liveness::kGone;
  const long long ticks = start_ticks(owner.pid);
  if (owner.start_ticks != 0 && ticks != 0 && ticks != owner.start_ticks) return Liveness::kGone;  // pid reused
  if (ticks == 0 && owner.start_ticks != 0) return Liveness::kGone;  // no such process readable
  return Liveness::kAlive;
}

std::string effective_status(const RunRecord& run) {
  if (run.status != "running" && run.status != "rolling_back") return run.status;
  return owner_liveness(run.owner) == Liveness::kGone ? "interrupted" : run.status;
}

}  // namespace containctl::orch
