// libcurl transport. Easy handles are pooled and share one connection cache (a CURLSH share
// handle), so keep-alive connections are reused per host across calls and threads. TLS
// verification is always on; AWS_CA_BUNDLE replaces the system CA store when set. Proxies come
// from the environment, read by libcurl on each transfer: http_proxy, https_proxy (or
// HTTPS_PROXY), all_proxy and no_proxy/NO_PROXY (a comma-separated list of hosts, domains or
// "*"). libcurl deliberately ignores upper-case HTTP_PROXY. Only http and https are allowed.
#pragma once

#include <memory>
#include <string>

#include "aws/http.h"

namespace containctl::aws {

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // A network failure is kNetwork (or kTimeout) and names the method, host and port and path,
  // never the query string (presigned URLs carry signatures there).
  Result<HttpResponse> send(const HttpRequest& request) override;

  // New TCP/TLS connections this transport has opened so far (summed CURLINFO_NUM_CONNECTS).
  long connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace containctl::aws
