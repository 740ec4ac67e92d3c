#include "aws/error.h"

namespace containctl {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput: return "invalid-input";
    case ErrorKind::kUsage: return "usage";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kNetwork: return "network";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kParse: return "parse";
    case ErrorKind::kThrottling: return "throttling";
    case ErrorKind::kTransient: return "transient";
    case ErrorKind::kClient: return "client";
    case ErrorKind::kAuth: return "auth";
    case ErrorKind::kRefused: return "refused";
    case ErrorKind::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string out = code.empty() ? std::string(to_string(kind)) : code;
  if (!message.empty()) out += ": " + message;
  if (http_status != 0 || !request_id.empty()) {
    out += " (";
    if (http_status != 0) out += "HTTP " + std::to_string(http_status);
    if (!request_id.empty()) out += std::string(http_status != 0 ? ", " : "") + "request id " + request_id;
    out += ")";
  }
  return out;
}

}  // namespace containctl
