#include "tests/support/runtime_api_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace containctl::testing {
namespace {

constexpr const char* kPrefix = "/2018-06-01/runtime";

bool read_until(int fd, std::string& buf, size_t want_size_or_npos, const std::string& marker) {
  char tmp[8192];
  for (;;) {
    if (!marker.empty() && buf.find(marker) != std::string::npos) return true;
    if (marker.empty() && buf.size() >= want_size_or_npos) return true;
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

RuntimeApiServer::RuntimeApiServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // a free port
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("runtime API server: cannot listen on 127.0.0.1");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RuntimeApiServer::~RuntimeApiServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    finished_ = true;
    for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
  }
  cv_.notify_all();
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  for (auto& t : threads_) t.join();
}

void RuntimeApiServer::accept_loop() {
  for (;;) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    std::lock_guard lock(mu_);
    if (fd < 0 || stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    conns_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void RuntimeApiServer::reply(int fd, int status, const std::string& body, const std::vector<std::string>& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + (status < 300 ? " OK" : " Error") + "\r\n";
  for (const auto& h : headers) out += h + "\r\n";
  out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

void RuntimeApiServer::serve(int fd) {
  std::string buf;
  for (;;) {
    if (!read_until(fd, buf, 0, "\r\n\r\n")) break;
    size_t head_end = buf.find("\r\n\r\n");
    std::string head = buf.substr(0, head_end);
    buf.erase(0, head_end + 4);
    std::string line = head.substr(0, head.find("\r\n"));
    std::map<std::string, std::string> headers;
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos < head.size()) {
      size_t next = head.find("\r\n", pos + 2);
      std::string h = head.substr(pos + 2, (next == std::string::npos ? head.size() : next) - pos - 2);
      size_t colon = h.find(':');
      if (colon != std::string::npos) {
        std::string v = h.substr(colon + 1);
        v.erase(0, v.find_first_not_of(' '));
        headers[lower(h.substr(0, colon))] = v;
      }
      pos = next;
    }
    size_t length = headers.count("content-length") ? std::stoul(headers["content-length"]) : 0;
    if (!read_until(fd, buf, length, "")) break;
    std::string body = buf.substr(0, length);
    buf.erase(0, length);
    std::string method = line.substr(0, line.find(' '));
    std::string path = line.substr(line.find(' ') + 1);
    path = path.substr(0, path.find(' '));
    {
      std::lock_guard lock(mu_);
      requests_.push_back(method + " " + path);
      headers_.push_back(headers);
    }
    const std::string prefix = kPrefix;
    if (method == "GET" && path == prefix + "/invocation/next") {
      std::unique_lock lock(mu_);
      if (!first_next_) first_next_ = std::chrono::system_clock::now();
      cv_.wait(lock, [&] { return finished_ || !queue_.empty(); });
      if (queue_.empty()) {
        lock.unlock();
        reply(fd, 500, R"({"errorMessage":"the environment is done","errorType":"Runtime.Done"})");
        continue;
      }
      Event e = queue_.front();
      queue_.pop_front();
      auto now = std::chrono::system_clock::now();
      handed_[e.id] = now;
      lock.unlock();
      long long deadline = std::chrono::duration_cast<std::chrono::milliseconds>((now + e.deadline).time_since_epoch()).count();
      reply(fd, 200, e.body,
            {"Lambda-Runtime-Aws-Request-Id: " + e.id, "Lambda-Runtime-Deadline-Ms: " + std::to_string(deadline),
             "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:containctl",
             "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"});
      continue;
    }
    if (method == "POST" && path == prefix + "/init/error") {
      std::lock_guard lock(mu_);
      init_error_ = Outcome{"error", body, headers["lambda-runtime-function-error-type"]};
      reply(fd, 202, R"({"status":"OK"})");
      cv_.notify_all();
      continue;
    }
    const std::string inv = prefix + "/invocation/";
    if (method == "POST" && path.rfind(inv, 0) == 0) {
      std::string rest = path.substr(inv.size());
      size_t slash = rest.find('/');
      std::string id = rest.substr(0, slash), what = slash == std::string::npos ? "" : rest.substr(slash + 1);
      std::lock_guard lock(mu_);
      if ((what == "response" || what == "error") && handed_.count(id) && !outcomes_.count(id)) {
        outcomes_[id] = Outcome{what, body, headers["lambda-runtime-function-error-type"]};
        outcome_at_[id] = std::chrono::system_clock::now();
        reply(fd, 202, R"({"status":"OK"})");
      } else {
        reply(fd, 400, R"({"errorMessage":"unknown or already answered invocation","errorType":"InvalidRequestID"})");
      }
      cv_.notify_all();
      continue;
    }
    reply(fd, 404, R"({"errorMessage":"not found"})");
  }
  std::lock_guard lock(mu_);
  conns_.erase(std::remove(conns_.begin(), conns_.end(), fd), conns_.end());
  ::close(fd);
}

std::string RuntimeApiServer::push(const std::string& body, std::chrono::milliseconds deadline) {
  std::lock_guard lock(mu_);
  std::string id = "req-" + std::to_string(++next_id_) + "-8476a536-e9f4-11e8-9739-2dfe598c3fcd";
  queue_.push_back({id, body, deadline});
  cv_.notify_all();
  return id;
}

std::optional<RuntimeApiServer::Outcome> RuntimeApiServer::wait_outcome(const std::string& id,
                                                                        std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return outcomes_.count(id) > 0; });
  auto it = outcomes_.find(id);
  if (it == outcomes_.end()) return std::nullopt;
  return it->second;
}

void RuntimeApiServer::finish() {
  std::lock_guard lock(mu_);
  finished_ = true;
  cv_.notify_all();
}

std::optional<RuntimeApiServer::Outcome> RuntimeApiServer::init_error() const {
  std::lock_guard lock(mu_);
  return init_error_;
}
std::optional<RuntimeApiServer::SystemTime> RuntimeApiServer::first_next() const {
  std::lock_guard lock(mu_);
  return first_next_;
}
std::optional<RuntimeApiServer::SystemTime> RuntimeApiServer::handed_out(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = handed_.find(id);
  return it == handed_.end() ? std::nullopt : std::optional<SystemTime>(it->second);
}
std::optional<RuntimeApiServer::SystemTime> RuntimeApiServer::outcome_at(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = outcome_at_.find(id);
  return it == outcome_at_.end() ? std::nullopt : std::optional<SystemTime>(it->second);
}
std::vector<std::string> RuntimeApiServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}
std::vector<std::map<std::string, std::string>> RuntimeApiServer::request_headers() const {
  std::lock_guard lock(mu_);
  return headers_;
}

}  // namespace containctl::testing
