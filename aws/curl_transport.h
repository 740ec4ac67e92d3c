// libcurl transport. One easy handle per thread per transport, reused so connections stay open
// per host. TLS verification is always on; AWS_CA_BUNDLE is honoured; proxies come from the
// environment (libcurl reads http_proxy/https_proxy/no_proxy itself).
#pragma once

#include <memory>
#include <string>

#include "aws/http.h"

namespace containctl::aws {

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options = {});
  ~CurlTransport() override;
  Result<HttpResponse> send(const HttpRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace containctl::aws
