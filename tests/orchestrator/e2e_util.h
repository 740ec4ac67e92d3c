// End-to-end CLI tests: the real containctl binary, run by fork/exec with an environment the test
// controls, against a moto_server on 127.0.0.1 seeded (and read back) by tests/data/e2e/world.py.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/moto_server.h"

namespace containctl::e2e {

namespace fs = std::filesystem;
using nlohmann::json;

struct Proc {
  int code = -1;    // exit status when it exited
  int signal = 0;   // the signal that killed it, if one did
  bool timed_out = false;
  std::string out, err;
  std::string all() const { return out + err; }
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// Reads are what `plan` may call; everything else counts as mutating.
inline bool is_read_operation(const std::string& op) {
  for (const char* p : {"Describe", "Get", "List", "Head"})
    if (op.rfind(p, 0) == 0) return true;
  return false;
}

enum class Stdin { kDevNull, kOpenPipe };

// The argv and envp of one containctl run, for execve: the binary, `args`, and `env` (the run's
// whole environment). Built in place and never moved: the pointers are into its own strings.
struct ExecLine {
  ExecLine(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    words.push_back(CONTAINCTL_BINARY);
    words.insert(words.end(), args.begin(), args.end());
    for (const auto& [k, v] : env) vars.push_back(k + "=" + v);
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    for (auto& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
  }
  ExecLine(const ExecLine&) = delete;
  ExecLine& operator=(const ExecLine&) = delete;
  [[noreturn]] void exec() { ::execve(words[0].c_str(), argv.data(), envp.data()); _exit(127); }

  std::vector<std::string> words, vars;
  std::vector<char*> argv, envp;
};

class E2eTest : public ::testing::Test {
 protected:
  static testing::MotoServer& moto() { return testing::MotoServer::shared(); }

  void SetUp() override {
    ASSERT_TRUE(fs::exists(CONTAINCTL_BINARY)) << "build the containctl target first";
    moto().reset();
    char tmpl[] = "/tmp/containctl-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    state_ = dir_ + "/state";
    fs::create_directories(state_);
    fs::create_directories(dir_ + "/home");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
    else std::cerr << "e2e files kept in " << dir_ << "\n";
  }

  // Resets moto and seeds n instances, the user and the bucket; remembers the seed.
  json seed(int instances) {
    moto().reset();
    std::string text = python("seed " + std::to_string(instances));
    seed_ = json::parse(text);
    seeded_state_ = seed_["state"];
    seed_.erase("state");
    write_file(dir_ + "/seed.json", seed_.dump());
    key_id_ = seed_["responder_key_id"];
    return seed_;
  }
  // The containment-relevant state of the seeded resources, as comparable JSON.
  // The state right after seed(), read by the same process.
  const json& seeded_state() const { return seeded_state_; }
  json world_state() { return json::parse(python("state '" + dir_ + "/seed.json'")); }

  std::string python(const std::string& args) {
    std::string cmd = "python3 '" CONTAINCTL_SOURCE_DIR "/tests/data/e2e/world.py' '" + moto().url() + "' " + args;
    FILE* p = ::popen(cmd.c_str(), "r");
    EXPECT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = p ? ::pclose(p) : -1;
    EXPECT_EQ(st, 0) << cmd;
    return out;
  }

  // base_env() with `extra` added or overriding.
  std::map<std::string, std::string> env_with(const std::map<std::string, std::string>& extra) const {
    auto env = base_env();
    for (const auto& [k, v] : extra) env[k] = v;
    return env;
  }
  std::map<std::string, std::string> base_env() const {
    std::map<std::string, std::string> env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                                              {"HOME", dir_ + "/home"},
                                              {"AWS_ACCESS_KEY_ID", key_id_},
                                              {"AWS_SECRET_ACCESS_KEY", secret_},
                                              {"AWS_REGION", "us-east-1"},
                                              {"AWS_ENDPOINT_URL", moto().url()},
                                              {"AWS_EC2_METADATA_DISABLED", "true"},
                                              {"CONTAINCTL_STATE_DIR", state_}};
    // A sanitizer run's options (scripts/test --sanitize) reach containctl too: without them a
    // report in it only printed to a stderr the test may not read, and TSan's did not stop it.
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
      if (const char* v = std::getenv(name)) env[name] = v;
    return env;
  }

  // Runs containctl with `args` in dir_. AWS_PROFILE and everything else of the test's own environment
  // is left out; `extra` adds or overrides variables.
  Proc run(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra = {},
           Stdin in = Stdin::kDevNull, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    ExecLine line(args, env_with(extra));
    std::string out_path = dir_ + "/last.out", err_path = dir_ + "/last.err";
    int pipefd[2] = {-1, -1};
    if (in == Stdin::kOpenPipe && ::pipe(pipefd) != 0) ADD_FAILURE() << "pipe";

    pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir_.c_str()) != 0) _exit(126);
      int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int i = in == Stdin::kOpenPipe ? pipefd[0] : ::open("/dev/null", O_RDONLY);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::dup2(i, 0);
      if (in == Stdin::kOpenPipe) ::close(pipefd[1]);
      line.exec();
    }
    if (in == Stdin::kOpenPipe) ::close(pipefd[0]);  // the write end stays open: a read would block
    Proc r;
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        r.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (in == Stdin::kOpenPipe) ::close(pipefd[1]);
    if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = slurp(out_path);
    r.err = slurp(err_path);
    return r;
  }

  std::vector<std::string> all_target_args() const {
    std::vector<std::string> a;
    for (const auto& arn : seed_["instance_arns"]) a.insert(a.end(), {"--target", arn.get<std::string>()});
    a.insert(a.end(), {"--target", seed_["user_arn"].get<std::string>()});
    a.insert(a.end(), {"--target", seed_["bucket_arn"].get<std::string>()});
    return a;
  }

  Proc plan(const std::vector<std::string>& targets, const std::string& out = "plan.json",
            std::vector<std::string> more = {}) {
    std::vector<std::string> a = {"plan"};
    a.insert(a.end(), targets.begin(), targets.end());
    a.insert(a.end(), more.begin(), more.end());
    a.insert(a.end(), {"-o", out});
    return run(a);
  }

  void write_settings(const json& s) { write_file(state_ + "/settings.json", s.dump(2)); }
  static json org_settings(const std::string& mode, const std::string& auto_scope = "confirmed") {
    return {{"organization",
             {{"id", "o-e2e"},
              {"mode", mode},
              {"auto_scope", auto_scope},
              {"approvals_required", 1},
              {"actions", {"ec2-isolate", "iam-contain", "iam-rotate-keys", "s3-contain"}}}}};
  }
  // The settings' "state" of the team store in moto (DynamoDB table and S3 bucket of account
  // 123456789012 in us-east-1) that `state init` makes.
  static json team_state_settings() {
    return {{"backend", "aws"}, {"table", "containctl-state"}, {"bucket", "containctl-state-123456789012"},
            {"region", "us-east-1"}};
  }

  std::vector<json> audit_records() const {
    std::vector<json> out;
    std::ifstream in(state_ + "/audit.jsonl");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }
  // The operations of the aws_call records from index `from` on that are not reads.
  std::vector<std::string> mutating_calls_since(size_t from) const {
    std::vector<std::string> bad;
    auto recs = audit_records();
    for (size_t i = from; i < recs.size(); ++i)
      if (recs[i].value("event", "") == "aws_call" && !is_read_operation(recs[i].value("operation", "")))
        bad.push_back(recs[i].value("service", "") + ":" + recs[i].value("operation", ""));
    return bad;
  }
  size_t audit_count() const { return audit_records().size(); }

  json status_json(const std::string& run_id = "") {
    std::vector<std::string> a = {"--output", "json", "status"};
    if (!run_id.empty()) a.push_back(run_id);
    Proc p = run(a);
    EXPECT_EQ(p.code, 0) << p.err;
    return p.code == 0 ? json::parse(p.out) : json::object();
  }

  std::string dir_, state_;
  json seed_, seeded_state_;
  std::string key_id_ = "testing";
  std::string secret_ = "testing";
};

}  // namespace containctl::e2e
