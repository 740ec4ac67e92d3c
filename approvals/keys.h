// Ed25519 key pairs for approvers, through OpenSSL 3's EVP interface. Private keys are PEM
// (PKCS#8) files created 0600 and never overwritten; public keys are PEM (SubjectPublicKeyInfo).
#pragma once

#include <string>
#include <string_view>

#include "aws/result.h"

namespace containctl::approvals {

struct KeyPairPaths {
  std::string private_key;  // DIR/NAME.key.pem
  std::string public_key;   // DIR/NAME.pub.pem
};

// Approver names end up in file names and in the signed message, so they are kept to
// [A-Za-z0-9._@+=,-], 1..64 characters, not starting with '.' or '-'.
Status validate_approver_name(const std::string& name);

// Creates out_dir (0700) when missing, then NAME.key.pem (0600, O_EXCL) and NAME.pub.pem (O_EXCL).
// Refuses when either file exists; on a failure nothing is left behind.
Result<KeyPairPaths> generate_keypair_files(const std::string& name, const std::string& out_dir);

// Signs `message` with the Ed25519 private key at `private_key_path`; returns the base64 signature.
// Refuses a key file that group or others can read.
Result<std::string> sign_message(const std::string& private_key_path, std::string_view message);

// The same with the private key's PEM text in hand (`private_key_path` only names it in errors).
Result<std::string> sign_with_pem(const std::string& private_key_pem, std::string_view message,
                                  const std::string& private_key_path);

// True when `signature_b64` is a valid Ed25519 signature of `message` by the public key in PEM
// text `public_key_pem`; an error when the key itself is unusable.
Result<bool> verify_message(const std::string& public_key_pem, std::string_view message,
                            const std::string& signature_b64);

// Reads a public key file (PEM text), checking it holds an Ed25519 public key. A file that group
// or others may write is refused.
Result<std::string> read_public_key(const std::string& path);

// "sha256:" + hex SHA-256 of the key's DER SubjectPublicKeyInfo: what the settings pin.
Result<std::string> key_fingerprint(const std::string& public_key_pem);

std::string base64_encode(std::string_view bytes);
// False on anything that is not strict, padded base64.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace containctl::approvals
