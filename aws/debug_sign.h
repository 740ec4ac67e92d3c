// `containctl debug sign`: signs one request exactly as the client would and returns every
// intermediate string, so a SignatureDoesNotMatch can be compared byte for byte with what the
// service computed (AWS echoes its canonical request and string to sign in that error).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/result.h"

namespace containctl::aws {

struct DebugSignInput {
  std::string method;
  std::string url;                   // absolute; path and query as they go on the wire
  std::vector<std::string> headers;  // "Name: value", as given on the command line
  std::optional<std::string> body_file;
  std::string service;               // signing name; any well-formed name is accepted
  std::string region;
  std::optional<std::string> timestamp;  // YYYYMMDDTHHMMSSZ; default: now
  bool s3 = false;                       // S3 rules: path as given, x-amz-content-sha256
  std::optional<int> presign_seconds;    // query signing instead of an Authorization header
};

// Returns {canonical_request, string_to_sign, signed_headers, signature, credential_scope,
// authorization + headers (header signing) or url (presign)}.
//
// Secrets: the secret key is never in the output (only its HMAC is), and neither is the session
// token: where SigV4 puts it (the x-amz-security-token line of canonical_request; for presign,
// X-Amz-Security-Token in canonical_request and url) it is printed as "*****", raw or URI-encoded.
// string_to_sign still carries the SHA-256 of the real canonical request, so a comparison with the
// service's string to sign still works; a presigned URL made with session credentials needs the
// token put back by hand.
Result<nlohmann::json> debug_sign(const DebugSignInput& input, const Credentials& credentials,
                                  Clock& clock = SystemClock::instance());

}  // namespace containctl::aws
