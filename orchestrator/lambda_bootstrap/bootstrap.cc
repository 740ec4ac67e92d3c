// The `bootstrap` of dist/containctl-lambda.zip (provided.al2023). Statically linked, so it runs
// whatever libraries the image has (or has not): it starts the bundled loader on the bundled
// libraries, `lib/ld-linux-x86-64.so.2 --library-path lib containctl [ARGS] lambda`, from its own
// folder (ARGS: its own arguments, containctl's global options).
// The image's CA store is used for TLS (Amazon Linux keeps it under /etc/pki) unless
// AWS_CA_BUNDLE names one.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::fprintf(stderr, "bootstrap: cannot find its own folder: %s\n", std::strerror(errno));
    return 1;
  }
  self[n] = '\0';
  char* slash = std::strrchr(self, '/');
  if (slash) *slash = '\0';
  const std::string dir = self;
  const std::string loader = dir + "/lib/ld-linux-x86-64.so.2", libs = dir + "/lib", bin = dir + "/containctl";
  if (!std::getenv("AWS_CA_BUNDLE") && ::access("/etc/ssl/certs/ca-certificates.crt", R_OK) != 0)
    for (const char* ca : {"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-bundle.crt"})
      if (::access(ca, R_OK) == 0) {
        ::setenv("AWS_CA_BUNDLE", ca, 1);
        break;
      }
  // bootstrap's own arguments are containctl's global options: they go before the command.
  std::string args[] = {loader, "--library-path", libs, bin};
  std::string command = "lambda";
  char* out[64];
  int k = 0;
  for (auto& a : args) out[k++] = a.data();
  for (int i = 1; i < argc && k < 62; ++i) out[k++] = argv[i];
  out[k++] = command.data();
  out[k] = nullptr;
  ::execv(loader.c_str(), out);
  std::fprintf(stderr, "bootstrap: cannot start %s: %s\n", loader.c_str(), std::strerror(errno));
  return 127;
}
