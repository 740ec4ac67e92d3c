// Shared by the fuzz targets: a crash with a message when a parser breaks its own invariant,
// and a temporary file for the parsers whose product entry point takes a path.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace containctl::fuzz {

[[noreturn]] inline void invariant_failed(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz invariant broken: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

#define FUZZ_CHECK(cond, detail) \
  do {                           \
    if (!(cond)) ::containctl::fuzz::invariant_failed(#cond, (detail)); \
  } while (0)

inline std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// One file per process, rewritten for every input (the loaders open by path, as the product does).
// In memory (/dev/shm) unless TMPDIR says otherwise, and cut to size after writing rather than
// opened with O_TRUNC: on ext4 a file truncated to zero and rewritten is flushed to disk at close,
// which cost a fifth of each fuzz_plan execution.
class ScratchFile {
 public:
  explicit ScratchFile(const char* stem) {
    const char* env = std::getenv("TMPDIR");
    std::string dir = env && *env ? env : (::access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp");
    path_ = dir + "/containctl-fuzz-" + stem + "-" + std::to_string(getpid());
  }
  ~ScratchFile() { ::unlink(path_.c_str()); }
  const std::string& write(const uint8_t* data, size_t size) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) invariant_failed("scratch file", path_);
    size_t off = 0;
    while (off < size) {
      ssize_t n = ::write(fd, data + off, size - off);
      if (n <= 0) invariant_failed("scratch write", path_);
      off += static_cast<size_t>(n);
    }
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) invariant_failed("scratch truncate", path_);
    ::close(fd);
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace containctl::fuzz
