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
#include <fstream>
#include <iterator>

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

// Replaces `path`'s content (0600, never through a symlink). Cut to size after writing rather
// than opened with O_TRUNC: on ext4 a file truncated to zero and rewritten is flushed to disk at
// close, which cost a fifth of each fuzz_plan execution.
inline void write_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) invariant_failed("scratch file", path);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) invariant_failed("scratch write", path);
    off += static_cast<size_t>(n);
  }
  if (::ftruncate(fd, static_cast<off_t>(text.size())) != 0) invariant_failed("scratch truncate", path);
  ::close(fd);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) invariant_failed("read", path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One file per process, rewritten for every input (the loaders open by path, as the product does),
// in memory (/dev/shm) unless TMPDIR says otherwise.
class ScratchFile {
 public:
  explicit ScratchFile(const char* stem) {
    const char* env = std::getenv("TMPDIR");
    std::string dir = env && *env ? env : (::access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp");
    path_ = dir + "/containctl-fuzz-" + stem + "-" + std::to_string(getpid());
  }
  ~ScratchFile() { ::unlink(path_.c_str()); }
  const std::string& write(const uint8_t* data, size_t size) {
    write_file(path_, std::string_view(reinterpret_cast<const char*>(data), size));
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace containctl::fuzz
