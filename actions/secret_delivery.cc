#include "actions/secret_delivery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace containctl::actions::iam {

namespace fs = std::filesystem;

namespace {

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Status write_all(int fd, std::string_view content) {
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io(std::string("write failed: ") + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Ok{};
}

// Uniform in [0, n), n <= 256, by rejection sampling on DRBG bytes.
size_t uniform(size_t n) {
  const unsigned limit = 256 - (256 % n);
  for (;;) {
    unsigned char b = 0;
    if (RAND_bytes(&b, 1) != 1) throw std::runtime_error("RAND_bytes failed");
    if (b < limit) return b % n;
  }
}

constexpr const char* kRunTagKeyForSecrets = "containctl:run-id";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Status write_new_secret_file(const std::string& path, std::string_view content) {
  if (path.empty()) return Error::invalid("empty output path for a secret");
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec)))
    return Error{ErrorKind::kIo, "FileExists", "refusing to overwrite existing file " + path};
  std::string tmp = path + ".partial-" + random_hex(8);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Error::io("cannot create " + tmp + ": " + std::strerror(errno));
  // The umask can only narrow 0600; fchmod makes the mode exact whatever the umask.
  Status st = ::fchmod(fd, 0600) == 0 ? Status(Ok{}) : Status(Error::io("chmod " + tmp + " failed"));
  if (st.ok()) st = write_all(fd, content);
  if (st.ok() && ::fsync(fd) != 0) st = Error::io("fsync " + tmp + " failed");
  ::close(fd);
  if (st.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    st = errno == EEXIST ? Error{ErrorKind::kIo, "FileExists", "refusing to overwrite existing file " + path}
                         : Error::io("cannot create " + path + ": " + std::strerror(errno));
  }
  ::unlink(tmp.c_str());
  if (!st.ok()) return Error{st.error().kind, st.error().code, st.error().message};
  // Make the new directory entry durable too.
  int dir = ::open(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().c_str(),
                   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Ok{};
}

Result<std::string> check_new_secret_path(const std::string& path, const std::string& option_name) {
  if (path.empty()) return Error::invalid("--option " + option_name + " is empty");
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) return Error::invalid("--option " + option_name + "=" + path + ": " + ec.message());
  if (fs::exists(fs::symlink_status(abs, ec)))
    return Error::invalid("--option " + option_name + "=" + abs.string() +
                          ": the file exists; secrets are only written to a new file");
  if (!fs::is_directory(abs.parent_path(), ec))
    return Error::invalid("--option " + option_name + "=" + abs.string() + ": directory " +
                          abs.parent_path().string() + " does not exist");
  return abs.string();
}

bool file_mentions(const std::string& path, const std::string& needle) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  bool found = !needle.empty() && text.find(needle) != std::string::npos;
  wipe(text);
  return found;
}

std::string generate_password(size_t length) {
  static const std::string kClasses[] = {"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789",
                                         "!@#$%^&*()_+-=[]{}|"};
  std::string all;
  for (const auto& c : kClasses) all += c;
  std::string out;
  for (const auto& c : kClasses) out += c[uniform(c.size())];  // one of each class
  while (out.size() < length) out += all[uniform(all.size())];
  // Shuffle so the class-guaranteed characters are not always first.
  for (size_t i = out.size() - 1; i > 0; --i) std::swap(out[i], out[uniform(i + 1)]);
  return out;
}

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

Result<std::string> default_password_path(const Options& options, const std::string& user,
                                          const std::string& run_id) {
  std::string dir = options.get("state_dir");
  if (dir.empty()) dir = env("CONTAINCTL_STATE_DIR");
  if (dir.empty() && !env("XDG_STATE_HOME").empty()) dir = env("XDG_STATE_HOME") + "/containctl";
  if (dir.empty() && !env("HOME").empty()) dir = env("HOME") + "/.local/state/containctl";
  if (dir.empty()) return Error::invalid("no state directory: pass --option iam.password_out=PATH");
  fs::path secrets = fs::path(dir) / "secrets";
  std::error_code ec;
  fs::create_directories(secrets, ec);
  if (ec) return Error::io("cannot create " + secrets.string() + ": " + ec.message());
  fs::permissions(secrets, fs::perms::owner_all, fs::perm_options::replace, ec);
  std::string safe_run;
  for (char c : run_id) safe_run += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  // A random suffix makes every rollback write a new file, never an old one.
  return (secrets / ("console-password-" + user + "-" + safe_run + "-" + random_hex(4) + ".json")).string();
}

std::string secret_description(const std::string& user, const std::string& key_id, const std::string& run_id) {
  return "containctl " + run_id + ": new access key " + key_id + " of IAM user " + user;
}

Result<json> describe_secret(Context& ctx, const std::string& region, const std::string& name) {
  auto r = ctx.client.json("secretsmanager", region, "secretsmanager", "DescribeSecret", {{"SecretId", name}});
  if (!r.ok()) {
    if (r.error().code == "ResourceNotFoundException") return json{{"exists", false}};
    return r.error();
  }
  return json{{"exists", true}, {"description", r->value("Description", "")}, {"arn", r->value("ARN", "")}};
}

Result<std::string> create_secret(Context& ctx, const std::string& region, const std::string& name,
                                  const std::string& description, const std::string& secret_string,
                                  const std::string& token) {
  if (token.size() < 32 || token.size() > 64)
    return Error::internal("CreateSecret's ClientRequestToken must be 32-64 characters");
  json body = {{"Name", name},
               {"ClientRequestToken", token},
               {"Description", description},
               {"SecretString", secret_string},
               {"Tags", json::array({{{"Key", kRunTagKeyForSecrets}, {"Value", ctx.run_id}}})}};
  auto r = ctx.client.json("secretsmanager", region, "secretsmanager", "CreateSecret", body);
  // The request body held the secret: clear our copy of it.
  if (body.contains("SecretString")) {
    auto& s = body["SecretString"].get_ref<std::string&>();
    wipe(s);
  }
  if (!r.ok()) return r.error();
  return r->value("ARN", "");
}

Status delete_secret(Context& ctx, const std::string& region, const std::string& name) {
  auto r = ctx.client.json("secretsmanager", region, "secretsmanager", "DeleteSecret",
                           {{"SecretId", name}, {"ForceDeleteWithoutRecovery", true}});
  if (!r.ok() && r.error().code != "ResourceNotFoundException") return r.error();
  return Ok{};
}

}  // namespace containctl::actions::iam
