// HTTP request/response values and the transport interface. The transport is injected so tests
// can script responses and the simulation can run in virtual time.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/result.h"

namespace containctl::aws {

struct Header {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: scheme://host[:port]/path?query (path and query already encoded)
  std::vector<Header> headers;
  std::string body;

  // First header with this name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  void set_header(std::string name, std::string value);  // replaces any existing
};

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  std::string_view header(std::string_view name) const;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{5000};  // 0: libcurl's own (300 s)
  std::chrono::milliseconds total_timeout{60000};   // 0: no limit
  // Optional: told every `slow_every` while one request is still unanswered ("POST host", the
  // time waited so far), so a hung endpoint is never silent. Never the path or the query.
  std::function<void(const std::string& what, std::chrono::seconds waited)> on_slow;
  std::chrono::milliseconds slow_every{5000};
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // A network failure is an Error (kNetwork/kTimeout); any HTTP status is a response.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

bool iequals(std::string_view a, std::string_view b);

}  // namespace containctl::aws
