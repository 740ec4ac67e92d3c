// Minimal absolute-URL splitting for the URLs the tool builds and the ones users pass.
#pragma once

#include <string>
#include <string_view>

#include "aws/result.h"

namespace containctl::aws {

// An absolute URL split in place: every field is a view into the text it was split from, so the
// signer can canonicalise a request without copying its URL.
struct UrlView {
  std::string_view scheme;  // "https" or "http", as written (case-insensitive)
  std::string_view host;    // as written; IPv6 literals keep their brackets
  int port = 0;             // 0 when the URL names none
  std::string_view path;    // as written; may be empty
  std::string_view query;   // after '?', as written, without the '?'; no fragment

  bool https() const;
  bool default_port() const { return port == 0 || (https() && port == 443) || (!https() && port == 80); }
  // The Host header value: the lower-cased host, plus ":port" when the port is not the default.
  std::string host_header() const;
};

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

// Errors name the problem: missing scheme, unsupported scheme, empty host, bad port, whitespace or
// control characters. A literal space is accepted in the path and query only: SigV4 is defined
// over the path as given, and the published test suites write unencoded paths ("/example space/").
Result<UrlView> split_url(std::string_view text);
Result<Url> parse_url(std::string_view text);

}  // namespace containctl::aws
