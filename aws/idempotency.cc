#include "aws/idempotency.h"

#include <openssl/sha.h>

#include <array>

namespace containctl::aws {

namespace {

std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(std::initializer_list<std::string_view> parts) {
  std::string framed;
  for (std::string_view p : parts) {
    framed += std::to_string(p.size());
    framed += ':';
    framed += p;
  }
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(framed.data()), framed.size(), out.data());
  return out;
}

std::string hex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

std::string ec2_client_token(std::initializer_list<std::string_view> parts) {
  auto d = digest(parts);
  return "containctl-" + hex(d.data(), 24);
}

std::string uuid_token(std::initializer_list<std::string_view> parts) {
  auto d = digest(parts);
  d[6] = static_cast<unsigned char>((d[6] & 0x0f) | 0x80);  // version 8 (custom)
  d[8] = static_cast<unsigned char>((d[8] & 0x3f) | 0x80);  // RFC variant
  const std::string h = hex(d.data(), 16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

}  // namespace containctl::aws
