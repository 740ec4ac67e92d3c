#include "orchestrator/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include <spdlog/spdlog.h>

#include "orchestrator/journal_sqlite.h"

namespace containctl::orch {

void logged(const Status& status) {
  if (!status.ok()) spdlog::error("journal: {}", status.error().describe());
}

Status fault_refuses_step_state(const std::string& state) {
#ifdef CONTAINCTL_FAULT_INJECTION
  static std::atomic<int> verified_moves{0};
  const char* spec = std::getenv("CONTAINCTL_FAULT");
  const std::string prefix = "refuse_verified:";
  if (!spec || state != step_state::kVerified || std::string(spec).rfind(prefix, 0) != 0) return Ok{};
  if (++verified_moves == std::atoi(spec + prefix.size()))
    return Error::io("journal write refused (CONTAINCTL_FAULT=" + std::string(spec) + ")");
#else
  (void)state;
#endif
  return Ok{};
}

void split_case_marker(RunRecord& run) {
  if (run.case_id.rfind(kCasePendingPrefix, 0) != 0) return;
  run.case_pending = run.case_id.substr(std::string(kCasePendingPrefix).size());
  run.case_id.clear();
}

// The run statuses a run may be moved to `to` from. A resume starts from an apply's outcome
// (never from a rollback's); a rollback may start from anything, and a retaken one from itself.
const std::vector<std::string>& run_statuses_before(const std::string& to) {
  static const std::vector<std::string> kApplyOutcomes = {"running", "succeeded", "partial", "failed", "interrupted"};
  static const std::vector<std::string> kAny = {"running", "succeeded", "partial", "failed", "interrupted", "refused",
                                                "rolling_back", "rolled_back", "partly_rolled_back",
                                                "rollback_partial"};
  static const std::map<std::string, std::vector<std::string>> kFrom = {
      {"running", kApplyOutcomes},
      {"succeeded", {"running"}},
      {"partial", {"running"}},
      {"failed", {"running"}},
      {"refused", {"running"}},
      {"interrupted", {"running", "rolling_back"}},
      {"rolling_back", kAny},
      {"rolled_back", {"rolling_back"}},
      {"partly_rolled_back", {"rolling_back"}},
      {"rollback_partial", {"rolling_back"}},
  };
  static const std::vector<std::string> kNone;
  auto it = kFrom.find(to);
  return it == kFrom.end() ? kNone : it->second;
}

std::string new_run_id(aws::TimePoint now) {
  std::random_device rd;
  char suffix[7];
  std::snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
  return "run-" + aws::format_amz_date(now) + "-" + suffix;
}

Status ensure_state_dir(const std::string& dir) {
  std::error_code ec;
  bool existed = std::filesystem::exists(dir, ec);
  if (!existed) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error::io("state directory " + dir + " cannot be created: " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  // Whoever can write the directory can swap the journal, the audit log or its key: an existing
  // directory someone else owns or may write is refused, not quietly taken over.
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Error::io("state directory " + dir + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return Error::io("state directory " + dir + " is not a directory");
  if (st.st_uid != ::geteuid())
    return Error::refused("state directory " + dir + " is owned by uid " + std::to_string(st.st_uid) +
                          ", not by you (uid " + std::to_string(::geteuid()) +
                          "): refusing to use a journal and audit log another user controls");
  if (st.st_mode & 022) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error::refused("state directory " + dir + " is writable by group or others (mode " + mode +
                          "): anyone who can write it can replace the journal or the audit log; fix it with "
                          "chmod 700 " + dir);
  }
  if (st.st_mode & 077) ::chmod(dir.c_str(), 0700);
  if (::access(dir.c_str(), W_OK) != 0) return Error::io("state directory " + dir + " is not writable");
  return Ok{};
}

std::string describe_lease_holder(const Lease& l) {
  return "run " + l.run_id + " (caller " + (l.caller.empty() ? "unknown" : l.caller) + ", started " + l.started_at +
         ", lease until " + aws::format_iso8601(l.expires) + ")";
}

json RunOwner::to_json() const {
  return {{"pid", pid}, {"host", host}, {"boot_id", boot_id}, {"start_ticks", start_ticks}};
}

RunOwner RunOwner::from_json(const json& j) {
  RunOwner o;
  if (!j.is_object()) return o;
  o.pid = j.value("pid", 0LL);
  o.host = j.value("host", "");
  o.boot_id = j.value("boot_id", "");
  o.start_ticks = j.value("start_ticks", 0LL);
  return o;
}

Result<std::unique_ptr<Journal>> Journal::open(const std::string& state_dir, aws::Clock& clock) {
  CC_ASSIGN(std::unique_ptr<SqliteJournal> j, SqliteJournal::open(state_dir, clock));
  return std::unique_ptr<Journal>(std::move(j));
}

Result<std::unique_ptr<StateLock>> StateLock::acquire(const std::string& state_dir) {
  CC_TRY(ensure_state_dir(state_dir));
  std::string path = state_dir + "/run.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error::io(path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
    return Error::io("the journal in " + state_dir + " is locked by another run (pid " + holder +
                     "); wait for it to finish");
  }
  std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds even if the pid note could not be written.
  }
  return std::unique_ptr<StateLock>(new StateLock(fd));
}

StateLock::~StateLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace containctl::orch
