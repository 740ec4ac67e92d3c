#include "approvals/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace containctl::approvals {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

// Writes `text` to a new file (O_EXCL: never replaces anything) and syncs it.
Status write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Error::invalid(path + " already exists; refusing to overwrite a key file");
    return Error::io("cannot create " + path + ": " + std::strerror(errno));
  }
  // umask may only narrow the mode, but a file created elsewhere with a wider umask trick must not.
  ::fchmod(fd, mode);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t w = ::write(fd, text.data() + off, text.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return Error::io("cannot write " + path + ": " + std::strerror(err));
    }
    off += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    return Error::io("cannot sync " + path + ": " + std::strerror(errno));
  }
  return Ok{};
}

Result<std::string> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid(std::string("cannot read ") + what + " " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Status validate_approver_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return Error::invalid("approver name must be 1 to 64 characters, got '" + name + "'");
  if (name[0] == '.' || name[0] == '-')
    return Error::invalid("approver name '" + name + "' must not start with '.' or '-'");
  for (char c : name) {
    bool good = std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._@+=,-", c) != nullptr;
    if (!good || c == '\0')
      return Error::invalid("approver name '" + name + "' may only contain letters, digits and . _ @ + = , -");
  }
  return Ok{};
}

Result<KeyPairPaths> generate_keypair_files(const std::string& name, const std::string& out_dir) {
  CC_TRY(validate_approver_name(name));
  if (out_dir.empty()) return Error::invalid("key output directory is empty");
  std::error_code ec;
  if (!std::filesystem::exists(out_dir, ec)) {
    std::filesystem::create_directories(out_dir, ec);
    if (ec) return Error::io("cannot create directory " + out_dir + ": " + ec.message());
    ::chmod(out_dir.c_str(), 0700);
  } else if (!std::filesystem::is_directory(out_dir, ec)) {
    return Error::invalid(out_dir + " is not a directory");
  }
  KeyPairPaths paths{(std::filesystem::path(out_dir) / (name + ".key.pem")).string(),
                     (std::filesystem::path(out_dir) / (name + ".pub.pem")).string()};
  for (const auto& p : {paths.private_key, paths.public_key}) {
    if (std::filesystem::symlink_status(p, ec).type() != std::filesystem::file_type::not_found)
      return Error::invalid(p + " already exists; refusing to overwrite a key file");
  }

  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 || EVP_PKEY_keygen(ctx.get(), &raw) <= 0)
    return Error::internal("OpenSSL could not generate an Ed25519 key");
  Pkey key(raw);

  Bio priv_bio(BIO_new(BIO_s_mem())), pub_bio(BIO_new(BIO_s_mem()));
  if (!priv_bio || !pub_bio ||
      PEM_write_bio_PrivateKey(priv_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub_bio.get(), key.get()) != 1)
    return Error::internal("OpenSSL could not encode the Ed25519 key");
  std::string priv_pem = bio_contents(priv_bio.get());
  std::string pub_pem = bio_contents(pub_bio.get());

  Status st = write_new_file(paths.private_key, priv_pem, 0600);
  OPENSSL_cleanse(priv_pem.data(), priv_pem.size());
  if (!st.ok()) return st.error();
  st = write_new_file(paths.public_key, pub_pem, 0644);
  if (!st.ok()) {
    ::unlink(paths.private_key.c_str());  // we created it a moment ago
    return st.error();
  }
  return paths;
}

Result<std::string> sign_message(const std::string& private_key_path, std::string_view message) {
  struct stat st {};
  if (::stat(private_key_path.c_str(), &st) != 0)
    return Error::invalid("cannot read private key " + private_key_path + ": " + std::strerror(errno));
  if (st.st_mode & 077)
    return Error::invalid("private key " + private_key_path +
                          " is readable by group or others; run: chmod 600 " + private_key_path);
  CC_ASSIGN(std::string pem, read_file(private_key_path, "private key"));
  auto sig = sign_with_pem(pem, message, private_key_path);
  OPENSSL_cleanse(pem.data(), pem.size());
  return sig;
}

Result<std::string> sign_with_pem(const std::string& pem, std::string_view message, const std::string& private_key_path) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return Error::invalid("private key " + private_key_path + " is not a PEM private key");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
    return Error::invalid("private key " + private_key_path + " is not an Ed25519 key");

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  unsigned char sig[64];
  size_t sig_len = sizeof sig;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), sig, &sig_len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1)
    return Error::internal("OpenSSL could not sign with " + private_key_path);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(sig), sig_len));
}

Result<std::string> read_public_key(const std::string& path) {
  // Whoever can rewrite an approver's public key can approve in their name.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Error::invalid("cannot read public key " + path + ": " + std::strerror(errno));
  if (st.st_mode & 022)
    return Error::invalid("public key " + path + " is writable by group or others (anyone who can replace it can "
                          "approve in its owner's name); run: chmod go-w " + path);
  CC_ASSIGN(std::string pem, read_file(path, "public key"));
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return Error::invalid("public key " + path + " is not a PEM public key");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
    return Error::invalid("public key " + path + " is not an Ed25519 key");
  return pem;
}

Result<bool> verify_message(const std::string& public_key_pem, std::string_view message,
                            const std::string& signature_b64) {
  Bio bio(BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
    return Error::invalid("not an Ed25519 public key");
  std::string sig;
  if (!base64_decode(signature_b64, sig) || sig.size() != 64) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return Error::internal("OpenSSL could not set up Ed25519 verification");
  int rc = EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size());
  return rc == 1;
}

static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 != 0) return false;
  auto val = [](char c) -> int {
    const char* p = std::strchr(kB64, c);
    return (c != '\0' && p) ? static_cast<int>(p - kB64) : -1;
  };
  for (size_t i = 0; i < text.size(); i += 4) {
    int a = val(text[i]), b = val(text[i + 1]);
    bool last = i + 4 == text.size();
    int c = (last && text[i + 2] == '=') ? -2 : val(text[i + 2]);
    int d = (last && text[i + 3] == '=') ? -2 : val(text[i + 3]);
    if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2)) return false;
    // Strict: the bits padding leaves unused must be zero, so each byte string has exactly one
    // encoding (an approval's id is its signature text: a second spelling must not be a second id).
    if ((c == -2 && (b & 0x0f)) || (c >= 0 && d == -2 && (c & 0x03))) return false;
    uint32_t v = (a << 18) | (b << 12) | ((c < 0 ? 0 : c) << 6) | (d < 0 ? 0 : d);
    out += static_cast<char>(v >> 16);
    if (c >= 0) out += static_cast<char>((v >> 8) & 0xff);
    if (d >= 0) out += static_cast<char>(v & 0xff);
  }
  return true;
}

Result<std::string> key_fingerprint(const std::string& public_key_pem) {
  Bio bio(BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
  Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return Error::invalid("not a PEM public key");
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) return Error::internal("OpenSSL could not encode the public key");
  unsigned char digest[32];
  SHA256(der, static_cast<size_t>(len), digest);
  OPENSSL_free(der);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char c : digest) out += std::string{kHex[c >> 4], kHex[c & 15]};
  return out;
}

}  // namespace containctl::approvals
