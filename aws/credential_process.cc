#include "aws/credential_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include "aws/credential_cache.h"

namespace containctl::aws {
namespace {

Error process_error(const std::string& profile, const std::string& what) {
  return Error{ErrorKind::kAuth, "CredentialProcessError", "credential_process of profile '" + profile + "': " + what};
}

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

struct RunOutput {
  std::string out;
  int exit_status = 0;  // exit code, or 128 + signal
};

Result<RunOutput> run(const std::vector<std::string>& argv, const std::string& profile, const ProcessOptions& options) {
  Fd out_r, out_w, err_r, err_w;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return process_error(profile, std::string("pipe failed: ") + std::strerror(errno));
  out_r.fd = p[0];
  out_w.fd = p[1];
  // A second close-on-exec pipe tells the parent why execvp failed (it closes unused on success).
  if (::pipe2(p, O_CLOEXEC) != 0) return process_error(profile, std::string("pipe failed: ") + std::strerror(errno));
  err_r.fd = p[0];
  err_w.fd = p[1];

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return process_error(profile, std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    ::setpgid(0, 0);  // its own group, so a timeout kills helpers it started too
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out_w.fd, 1);
    ::execvp(args[0], args.data());
    int e = errno;
    (void)!::write(err_w.fd, &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, to win the race with a timeout kill
  out_w.reset();
  err_w.reset();

  int exec_errno = 0;
  if (::read(err_r.fd, &exec_errno, sizeof exec_errno) == static_cast<ssize_t>(sizeof exec_errno)) {
    ::waitpid(pid, nullptr, 0);
    return process_error(profile, "cannot run '" + argv[0] + "': " + std::strerror(exec_errno));
  }

  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  auto kill_all = [&] {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  };
  auto timed_out = [&] {
    kill_all();
    return process_error(profile, "timed out after " + std::to_string(options.timeout.count()) + " ms");
  };
  RunOutput result;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return timed_out();
    pollfd pfd{out_r.fd, POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return timed_out();
    ssize_t n = ::read(out_r.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.out.append(buf, static_cast<size_t>(n));
    if (result.out.size() > options.max_output) {
      kill_all();
      return process_error(profile, "printed more than " + std::to_string(options.max_output) + " bytes");
    }
  }
  // Output closed; wait for the exit status within the same deadline.
  for (;;) {
    int status = 0;
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return result;
    }
    if (w < 0 && errno != EINTR) return process_error(profile, std::string("waitpid failed: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) return timed_out();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Result<std::vector<std::string>> split_command(const std::string& command) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      size_t end = command.find('\'', i + 1);
      if (end == std::string::npos) return Error::invalid("unterminated single quote in command", "InvalidCommand");
      cur.append(command, i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < command.size() && command[j] != '"'; ++j) {
        if (command[j] == '\\' && j + 1 < command.size() && std::strchr("\"\\$`\n", command[j + 1])) {
          if (command[j + 1] != '\n') cur.push_back(command[j + 1]);
          ++j;
        } else {
          cur.push_back(command[j]);
        }
      }
      if (j >= command.size()) return Error::invalid("unterminated double quote in command", "InvalidCommand");
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= command.size()) return Error::invalid("trailing backslash in command", "InvalidCommand");
      if (command[i + 1] != '\n') cur.push_back(command[i + 1]);
      ++i;
      in_word = true;
    } else {
      cur.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  if (words.empty()) return Error::invalid("empty command", "InvalidCommand");
  return words;
}

Result<Credentials> parse_credential_process_output(const std::string& out, const std::string& profile,
                                                    const Clock& clock) {
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return process_error(profile, "output is not a JSON object");
  if (!j.contains("Version")) return process_error(profile, "output has no Version (expected 1)");
  if (!j["Version"].is_number_integer() || j["Version"].get<long long>() != 1)
    return process_error(
        profile,
        "unsupported Version " + (j["Version"].is_number() ? j["Version"].dump() : "(not a number)") + " (expected 1)");
  auto str = [&](const char* field, bool required, std::string& value) -> Status {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) {
      if (required) return process_error(profile, std::string("output has no ") + field);
      return Ok{};
    }
    if (!it->is_string()) return process_error(profile, std::string(field) + " is not a string");
    value = it->get<std::string>();
    if (required && value.empty()) return process_error(profile, std::string(field) + " is empty");
    return Ok{};
  };
  Credentials c;
  CC_TRY(str("AccessKeyId", true, c.access_key_id));
  CC_TRY(str("SecretAccessKey", true, c.secret_access_key));
  CC_TRY(str("SessionToken", false, c.session_token));
  std::string expiration;
  CC_TRY(str("Expiration", false, expiration));
  if (!expiration.empty()) {
    TimePoint t;
    if (!parse_time(expiration, t)) return process_error(profile, "Expiration is not an ISO-8601 time");
    if (t <= clock.now()) return process_error(profile, "returned credentials that expired at " + format_iso8601(t));
    c.expiration = t;
  }
  c.source = "process:" + profile;
  return c;
}

Result<Credentials> run_credential_process(const std::string& command, const std::string& profile, const Clock& clock,
                                           const ProcessOptions& options) {
  auto argv = split_command(command);
  if (!argv.ok()) return process_error(profile, argv.error().message);
  CC_ASSIGN(RunOutput r, run(*argv, profile, options));
  // Never quote the output: a helper that half-works may still have printed a secret.
  if (r.exit_status != 0)
    return process_error(profile, "'" + (*argv)[0] + "' exited with status " + std::to_string(r.exit_status));
  return parse_credential_process_output(r.out, profile, clock);
}

std::shared_ptr<CredentialsProvider> make_credential_process_provider(const std::string& command,
                                                                      const std::string& profile, Clock* clock,
                                                                      const ProcessOptions& options) {
  return std::make_shared<RefreshingCredentialsProvider>(
      "credential_process of profile '" + profile + "'",
      [command, profile, clock, options] { return run_credential_process(command, profile, *clock, options); }, clock);
}

}  // namespace containctl::aws
