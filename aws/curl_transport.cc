#include "aws/curl_transport.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace containctl::aws {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

void ensure_global() { static CurlGlobal g; }

using EasyPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using SlistPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<Header>*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    headers->push_back({std::string(name), std::string(value)});
  }
  return size * n;
}

}  // namespace

struct CurlTransport::Impl {
  TransportOptions options;
  std::string ca_bundle;
  std::mutex mu;
  std::unordered_map<std::thread::id, EasyPtr> handles;  // one reusable handle per thread

  CURL* handle() {
    std::lock_guard lock(mu);
    auto it = handles.find(std::this_thread::get_id());
    if (it != handles.end()) return it->second.get();
    EasyPtr h(curl_easy_init(), &curl_easy_cleanup);
    CURL* raw = h.get();
    handles.emplace(std::this_thread::get_id(), std::move(h));
    return raw;
  }
};

CurlTransport::CurlTransport(TransportOptions options) : impl_(std::make_unique<Impl>()) {
  ensure_global();
  impl_->options = options;
  if (const char* ca = std::getenv("AWS_CA_BUNDLE"); ca && *ca) impl_->ca_bundle = ca;
}

CurlTransport::~CurlTransport() = default;

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
  CURL* h = impl_->handle();
  if (!h) return Error{ErrorKind::kInternal, "CurlInit", "could not create a libcurl handle"};
  curl_easy_reset(h);  // keeps the connection cache, clears per-request options

  HttpResponse response;
  SlistPtr headers(nullptr, &curl_slist_free_all);
  for (const auto& hd : request.headers) {
    std::string line = hd.name + ": " + hd.value;
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  // libcurl adds these on its own; the signer never signs them.
  headers.reset(curl_slist_append(headers.release(), "Expect:"));
  headers.reset(curl_slist_append(headers.release(), "Accept:"));
  // Without this libcurl labels every body as a form post, which is wrong for S3 objects.
  if (request.header("content-type").empty())
    headers.reset(curl_slist_append(headers.release(), "Content-Type:"));

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "containctl/0.1");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!impl_->ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, impl_->ca_bundle.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(impl_->options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->options.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);

  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    // Name the host, never the query (presigned URLs carry signatures there).
    std::string where = request.url.substr(0, request.url.find('?'));
    ErrorKind kind = rc == CURLE_OPERATION_TIMEDOUT ? ErrorKind::kTimeout : ErrorKind::kNetwork;
    return Error{kind, rc == CURLE_OPERATION_TIMEDOUT ? "Timeout" : "NetworkError",
                 std::string(curl_easy_strerror(rc)) + " (" + request.method + " " + where + ")"};
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace containctl::aws
