// Minimal absolute-URL splitting for the URLs the tool builds and the ones users pass.
#pragma once

#include <string>
#include <string_view>

#include "aws/result.h"

namespace containctl::aws {

struct Url {
  std::string scheme;  // "https" or "http"
  std::string host;    // lower-cased; IPv6 literals keep their brackets
  int port = 0;        // 0 when the URL names none
  std::string path;    // as written ("/" when empty)
  std::string query;   // after '?', as written, without the '?'

  bool default_port() const {
    return port == 0 || (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  }
  // The Host header value: host, plus ":port" when the port is not the scheme's default.
  std::string host_header() const {
    return default_port() ? host : host + ":" + std::to_string(port);
  }
  // scheme://host[:port]
  std::string origin() const { return scheme + "://" + host_header(); }
};

// Errors name the problem: missing scheme, unsupported scheme, empty host, bad port, spaces.
Result<Url> parse_url(std::string_view text);

}  // namespace containctl::aws
