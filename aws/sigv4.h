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
  // kSigned hashes the body, also for presigned URLs (aws-c-auth's query vectors); S3 presigned
  // URLs use kUnsigned, as botocore's S3SigV4QueryAuth does.
  PayloadMode payload = PayloadMode::kSigned;
  // A few services want the session token added after signing (the suites' post-sts-header-after).
  // Every service this tool calls signs it, so the default is true.
  bool sign_session_token = true;
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
// missing) and Authorization to `request`, and returns every intermediate string. Any
// Authorization, x-amz-date or x-amz-security-token already on the request is replaced, so
// signing the same request again (a retry) gives a fresh, consistent signature.
// Non-S3 mode: the path is normalised (dot segments, repeated slashes) and percent-encoded, which
// for a path that is already encoded on the wire is the "double encoding" SigV4 asks for.
// Errors (never carrying secrets): malformed URL, CR/LF in a header, bad region/service,
// missing credentials.
Result<SigningResult> sign_request(HttpRequest& request, const Credentials& credentials,
                                   const SigningParams& params);

// Query-string signing (presigned URL). `request.url` is not changed; the result's `url` is. The
// request's headers (plus host) are signed and must be sent with the URL.
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

// For text a service sent back (error messages): AWS echoes the canonical request and the string
// to sign in SignatureDoesNotMatch, session token included. Cuts everything from the first
// "canonical string/request" or "string-to-sign" block on, then masks what redact_auth masks plus
// Authorization values, all case-insensitively. Used wherever a service's Message is copied.
std::string redact_service_text(std::string_view text);

}  // namespace containctl::aws
