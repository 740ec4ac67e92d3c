#include "aws/curl_transport.h"

#include <curl/curl.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "aws/url.h"

namespace containctl::aws {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

void ensure_global() { static CurlGlobal g; }

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct ShareDeleter {
  void operator()(CURLSH* s) const { curl_share_cleanup(s); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using SharePtr = std::unique_ptr<CURLSH, ShareDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<Header>*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100-continue)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    headers->push_back({std::string(name), std::string(value)});
  }
  return size * n;
}

// What the slow-request notice follows: when the request started and when it last said so.
struct SlowWatch {
  const TransportOptions* options;
  std::string what;  // "METHOD host"
  std::chrono::steady_clock::time_point start, last;
};

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* w = static_cast<SlowWatch*>(user);
  auto now = std::chrono::steady_clock::now();
  if (now - w->last >= w->options->slow_every) {
    w->last = now;
    w->options->on_slow(w->what, std::chrono::duration_cast<std::chrono::seconds>(now - w->start));
  }
  return 0;
}

// "scheme://host:port/path", never the query: what an error may name.
std::string describe_target(const std::string& method, const std::string& url) {
  auto parsed = split_url(url);
  if (!parsed.ok()) return method + " " + url.substr(0, url.find_first_of("?#"));
  const UrlView& u = *parsed;
  int port = u.port != 0 ? u.port : (u.https() ? 443 : 80);
  return method + " " + std::string(u.scheme) + "://" + std::string(u.host) + ":" + std::to_string(port) +
         std::string(u.path.empty() ? "/" : u.path);
}

ErrorKind kind_of(CURLcode rc) {
  return rc == CURLE_OPERATION_TIMEDOUT ? ErrorKind::kTimeout : ErrorKind::kNetwork;
}

const char* code_of(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "Timeout";
    case CURLE_COULDNT_RESOLVE_HOST: return "DnsFailure";
    case CURLE_COULDNT_RESOLVE_PROXY: return "ProxyDnsFailure";
    case CURLE_COULDNT_CONNECT: return "ConnectionRefused";
    case CURLE_PEER_FAILED_VERIFICATION: return "TlsVerificationFailed";
    case CURLE_SSL_CACERT_BADFILE: return "TlsCaBundleUnreadable";
    case CURLE_SSL_CONNECT_ERROR: return "TlsHandshakeFailed";
    case CURLE_UNSUPPORTED_PROTOCOL: return "UnsupportedProtocol";
    case CURLE_URL_MALFORMAT: return "MalformedUrl";
    default: return "NetworkError";
  }
}

}  // namespace

struct CurlTransport::Impl {
  TransportOptions options;
  std::string ca_bundle;
  SharePtr share;
  // One mutex per lock_data kind the share handle asks for.
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
  std::mutex pool_mu;
  std::vector<EasyPtr> idle;  // handles not in use; any thread may take one
  std::atomic<long> connects{0};

  static void lock_cb(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Impl*>(user)->locks[data].lock();
  }
  static void unlock_cb(CURL*, curl_lock_data data, void* user) { static_cast<Impl*>(user)->locks[data].unlock(); }

  EasyPtr take() {
    {
      std::lock_guard lock(pool_mu);
      if (!idle.empty()) {
        EasyPtr h = std::move(idle.back());
        idle.pop_back();
        return h;
      }
    }
    return EasyPtr(curl_easy_init());
  }
  void give_back(EasyPtr h) {
    std::lock_guard lock(pool_mu);
    idle.push_back(std::move(h));
  }
};

CurlTransport::CurlTransport(TransportOptions options) : impl_(std::make_unique<Impl>()) {
  ensure_global();
  impl_->options = options;
  if (const char* ca = std::getenv("AWS_CA_BUNDLE"); ca && *ca) impl_->ca_bundle = ca;
  impl_->share.reset(curl_share_init());
  if (impl_->share) {
    CURLSH* s = impl_->share.get();
    curl_share_setopt(s, CURLSHOPT_LOCKFUNC, &Impl::lock_cb);
    curl_share_setopt(s, CURLSHOPT_UNLOCKFUNC, &Impl::unlock_cb);
    curl_share_setopt(s, CURLSHOPT_USERDATA, impl_.get());
    curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
}

// Easy handles go before the share handle they point at, and the share handle before the
// mutexes its cleanup may lock.
CurlTransport::~CurlTransport() {
  if (!impl_) return;
  impl_->idle.clear();
  impl_->share.reset();
}

long CurlTransport::connections_opened() const { return impl_->connects.load(); }

Result<HttpResponse> CurlTransport::send(const HttpRequest& request) {
  EasyPtr handle = impl_->take();
  CURL* h = handle.get();
  if (!h) return Error{ErrorKind::kInternal, "CurlInit", "could not create a libcurl handle"};
  curl_easy_reset(h);  // clears per-request options; the shared connection cache is untouched

  HttpResponse response;
  SlistPtr headers;
  auto add = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next) {
      (void)headers.release();
      headers.reset(next);
    }
  };
  for (const auto& hd : request.headers) {
    // "Name:" would tell libcurl to drop the header; "Name;" sends it with an empty value.
    add(hd.value.empty() ? hd.name + ";" : hd.name + ": " + hd.value);
  }
  // libcurl adds these on its own; the signer never signs them.
  add("Expect:");
  add("Accept:");
  // Without this libcurl labels every body as a form post, which is wrong for S3 objects.
  if (request.header("content-type").empty()) add("Content-Type:");

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  if (impl_->share) curl_easy_setopt(h, CURLOPT_SHARE, impl_->share.get());
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "containctl/0.1");
  // Never configurable: containment calls must not be redirectable by a network attacker.
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
  if (!impl_->ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, impl_->ca_bundle.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(impl_->options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->options.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);
  SlowWatch watch{&impl_->options, "", std::chrono::steady_clock::now(), std::chrono::steady_clock::now()};
  if (impl_->options.on_slow) {
    auto parsed = split_url(request.url);
    watch.what = request.method + " " + (parsed.ok() ? std::string(parsed->host) : std::string("AWS"));
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &watch);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  }

  CURLcode rc = curl_easy_perform(h);
  long new_connects = 0;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connects);
  impl_->connects += new_connects;
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  // Detach per-request pointers (errbuf, headers, body) before the handle goes back to the pool.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, nullptr);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  impl_->give_back(std::move(handle));

  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    // libcurl's detail names host and port; drop it if it ever echoes the query string.
    if (auto q = request.url.find('?'); q != std::string::npos && detail.find(request.url.substr(q)) != std::string::npos)
      detail = curl_easy_strerror(rc);
    return Error{kind_of(rc), code_of(rc), detail + " (" + describe_target(request.method, request.url) + ")"};
  }
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace containctl::aws
