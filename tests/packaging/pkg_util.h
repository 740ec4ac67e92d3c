// Running commands from the packaging tests: the built binary, the shells, cmake and dpkg-deb.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace containctl::pkgtest {

namespace fs = std::filesystem;

struct Cmd {
  int code = -1;
  std::string out;  // stdout and stderr
};

inline Cmd sh(const std::string& cmd) {
  Cmd r;
  FILE* p = ::popen(("(" + cmd + ") 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The binary with no AWS environment at all: these commands must not need one.
inline Cmd containctl(const std::string& args) {
  return sh("env -i PATH=/usr/bin:/bin HOME=/nonexistent " + q(CONTAINCTL_BINARY) + " " + args);
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("containctl-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The build directory (where the man page and completions are generated).
inline fs::path build_dir() { return fs::path(CONTAINCTL_BINARY).parent_path(); }

}  // namespace containctl::pkgtest
