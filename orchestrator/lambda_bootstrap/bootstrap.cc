// The `bootstrap` of dist/containctl-lambda.zip (provided.al2023). Statically linked, so it runs
// whatever libraries the image has (or has not): it starts the bundled loader on the bundled
// libraries, `lib/ld-linux-x86-64.so.2 --library-path lib containctl lambda`, from its own folder.
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
  std::string dir(self);
  dir = dir.substr(0, dir.rfind('/'));
  if (dir.empty()) dir = "/";
  const std::string loader = dir + "/lib/ld-linux-x86-64.so.2", libs = dir + "/lib", bin = dir + "/containctl";
  if (!std::getenv("AWS_CA_BUNDLE") && ::access("/etc/ssl/certs/ca-certificates.crt", R_OK) != 0)
    for (const char* ca : {"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-bundle.crt"})
      if (::access(ca, R_OK) == 0) {
        ::setenv("AWS_CA_BUNDLE", ca, 1);
        break;
      }
  std::string args[] = {loader, "--library-path", libs, bin, "lambda"};
  char* out[64];
  int k = 0;
  for (auto& a : args) out[k++] = a.data();
  for (int i = 1; i < argc && k < 63; ++i) out[k++] = argv[i];
  out[k] = nullptr;
  ::execv(loader.c_str(), out);
  std::fprintf(stderr, "bootstrap: cannot start %s: %s\n", loader.c_str(), std::strerror(errno));
  return 127;
}
