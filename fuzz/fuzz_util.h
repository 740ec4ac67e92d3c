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
class ScratchFile {
 public:
  explicit ScratchFile(const char* stem) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/containctl-fuzz-" + stem + "-" + std::to_string(getpid());
  }
  ~ScratchFile() { ::unlink(path_.c_str()); }
  const std::string& write(const uint8_t* data, size_t size) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) invariant_failed("scratch file", path_);
    size_t off = 0;
    while (off < size) {
      ssize_t n = ::write(fd, data + off, size - off);
      if (n <= 0) invariant_failed("scratch write", path_);
      off += static_cast<size_t>(n);
    }
    ::close(fd);
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace containctl::fuzz
