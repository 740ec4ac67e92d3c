// The one error type. AWS errors keep the service's code, HTTP status and request id, and are
// classified so the retry layer and the executor can act on the class rather than on strings.
#pragma once

#include <string>

namespace containctl {

enum class ErrorKind {
  kInvalidInput,  // bad user input: file, flag, ARN, settings
  kUsage,         // command-line usage
  kIo,            // local file system
  kNetwork,       // connection failed, DNS, TLS
  kTimeout,       // connect or total timeout
  kParse,         // a response we could not parse
  kThrottling,    // the service asked us to slow down
  kTransient,     // 5xx and other retryable service errors
  kClient,        // 4xx the caller caused (validation, not found, conflict...)
  kAuth,          // signature, unknown key, expired token, access denied
  kRefused,       // refused by the containment settings or approvals
  kInternal,      // a bug
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string code;     // AWS error code ("InvalidInstanceID.NotFound") or a short tag
  std::string message;  // human text; never carries secrets
  int http_status = 0;
  std::string request_id;
  // A non-idempotent call failed in a way that leaves open whether AWS performed it (timeout,
  // connection lost after sending, 5xx): the caller must read back before acting again.
  bool outcome_unknown = false;

  static Error invalid(std::string message, std::string code = "InvalidInput") {
    return {ErrorKind::kInvalidInput, std::move(code), std::move(message)};
  }
  static Error io(std::string message) { return {ErrorKind::kIo, "IOError", std::move(message)}; }
  static Error internal(std::string message) {
    return {ErrorKind::kInternal, "InternalError", std::move(message)};
  }
  static Error refused(std::string message, std::string code = "Refused") {
    return {ErrorKind::kRefused, std::move(code), std::move(message)};
  }

  bool retryable() const { return kind == ErrorKind::kThrottling || kind == ErrorKind::kTransient ||
                                  kind == ErrorKind::kNetwork || kind == ErrorKind::kTimeout; }
  // "Code: message (HTTP 400, request id ...)"
  std::string describe() const;
};

}  // namespace containctl
