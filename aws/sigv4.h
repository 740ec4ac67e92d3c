// SigV4 signing: a pure core. It takes the time as input, exposes every intermediate string, and
// never logs. The derived signing key is cached per (secret, date, region, service).
#pragma once

#include <string>
#include <string_view>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/result.h"

namespace containctl::aws {

enum class PayloadMode {
  kSigned,    // hex SHA-256 of the body (or the x-amz-content-sha256 header if the caller set one)
  kUnsigned,  // "UNSIGNED-PAYLOAD"
};

struct SigningParams {
  std::string region;
  std::string service;
  TimePoint time;
  // S3 rules: the path is used exactly as given (already encoded once); no dot-segment
  // normalisation, no second encoding.
  bool s3_mode = false;
  // Add (and sign) an x-amz-content-sha256 header. S3 always needs it.
  bool content_sha256_header = false;
  PayloadMode payload = PayloadMode::kSigned;
};

struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;
  std::string signature;
  std::string authorization;  // empty for presigned URLs
  std::string url;            // the presigned URL (presign only)
};

// Adds x-amz-date, x-amz-security-token (if any), x-amz-content-sha256 (if asked), host (if
// missing) and Authorization to `request`, and returns every intermediate string.
// Errors: malformed URL, CR/LF in a header, missing credentials.
Result<SigningResult> sign_request(HttpRequest& request, const Credentials& credentials,
                                   const SigningParams& params);

// Query-string signing (presigned URL). `request.url` is not changed; the result's `url` is.
Result<SigningResult> presign_url(const HttpRequest& request, const Credentials& credentials,
                                  const SigningParams& params, int expires_seconds);

// Building blocks, exposed for tests and for the differential checks.
std::string uri_encode(std::string_view in, bool keep_slash);
std::string uri_decode(std::string_view in);
std::string canonical_uri(std::string_view raw_path, bool s3_mode);
std::string canonical_query(std::string_view raw_query);
std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Hides the signature and credential material of an Authorization header or presigned URL, for
// anything that might be shown or logged.
std::string redact_auth(std::string_view text);

}  // namespace containctl::aws
