#include "aws/idempotency.h"

#include "aws/sigv4.h"

namespace containctl::aws {

namespace {

// SHA-256 (hex) over the length-prefixed parts.
std::string digest_hex(std::initializer_list<std::string_view> parts) {
  std::string framed;
  for (std::string_view p : parts) {
    framed += std::to_string(p.size());
    framed += ':';
    framed += p;
  }
  return sha256_hex(framed);
}

}  // namespace

std::string ec2_client_token(std::initializer_list<std::string_view> parts) {
  return "containctl-" + digest_hex(parts).substr(0, 48);
}

std::string uuid_token(std::initializer_list<std::string_view> parts) {
  std::string h = digest_hex(parts).substr(0, 32);
  h[12] = '8';  // version 8 (custom)
  const int variant = std::stoi(h.substr(16, 1), nullptr, 16);
  h[16] = "89ab"[variant & 3];  // RFC variant: the nibble's top bits 10
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

}  // namespace containctl::aws
