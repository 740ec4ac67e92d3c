// CurlTransport against loopback servers only: connection reuse, timeouts, refused ports, TLS
// verification (self-signed certificate, then AWS_CA_BUNDLE), proxies from the environment.
// Reuse is proved on a keep-alive loopback server: moto_server (werkzeug) answers every request
// with "Connection: close", so against moto each call opens a connection whatever the client does.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/curl_transport.h"
#include "tests/support/moto_server.h"  // free_port()

namespace containctl::aws {
namespace {

using std::chrono::milliseconds;

int listen_loopback(int backlog, int& port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind");
  listen(fd, backlog);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers every request "200 ok", counts the
// connections it accepted and keeps the raw requests.
class LoopbackServer {
 public:
  LoopbackServer() {
    fd_ = listen_loopback(16, port_);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    accept_thread_.join();
    for (auto& t : conn_threads_) t.join();
    close(fd_);
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int accepted() const { return accepted_; }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++accepted_;
      conn_threads_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    std::string buf;
    char chunk[4096];
    while (!stop_) {
      size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t body_len = 0;
        std::string head = buf.substr(0, end);
        for (std::string key : {"Content-Length: ", "content-length: "}) {
          if (auto p = head.find(key); p != std::string::npos) body_len = std::stoul(head.substr(p + key.size()));
        }
        if (buf.size() >= end + 4 + body_len) {
          {
            std::lock_guard lock(mu_);
            requests_.push_back(buf.substr(0, end + 4 + body_len));
          }
          buf.erase(0, end + 4 + body_len);
          std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-amzn-RequestId: loop\r\n\r\nok";
          if (write(c, answer.data(), answer.size()) < 0) break;
          continue;
        }
      }
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = read(c, chunk, sizeof chunk);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
    }
    close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread accept_thread_;
  std::vector<std::thread> conn_threads_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(CurlTransport, ReusesOneConnectionPerHost) {
  LoopbackServer server;
  CurlTransport t;
  for (int i = 0; i < 5; ++i) {
    auto r = t.send({"POST", server.url("/"), {{"Content-Type", "text/plain"}}, "call " + std::to_string(i)});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok");
    EXPECT_EQ(r->header("x-amzn-requestid"), "loop");
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(t.connections_opened(), 1);
  EXPECT_EQ(server.requests().size(), 5u);
}

TEST(CurlTransport, ThreadsShareTheConnectionCache) {
  LoopbackServer server;
  CurlTransport t;
  // Sequential use from different threads: each thread may get a different pooled handle, but
  // the shared cache hands the open connection to whichever asks.
  for (int i = 0; i < 4; ++i) {
    std::thread th([&] { ASSERT_TRUE(t.send({"GET", server.url("/x"), {}, ""}).ok()); });
    th.join();
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(CurlTransport, ParallelCallsShareAFewConnections) {
  LoopbackServer server;
  CurlTransport t;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto r = t.send({"GET", server.url("/p"), {}, ""});
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, 40);
  // At most one connection per concurrent caller, never one per call.
  EXPECT_LE(server.accepted(), 4);
  EXPECT_EQ(t.connections_opened(), server.accepted());
}

TEST(CurlTransport, SendsHeadersAsGivenWithoutInventingContentType) {
  LoopbackServer server;
  CurlTransport t;
  ASSERT_TRUE(t.send({"PUT", server.url("/bucket/key"), {{"X-Empty", ""}, {"x-amz-date", "20260101T000000Z"}},
                      "object body"}).ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(reqs[0].find("PUT /bucket/key HTTP/1.1"), std::string::npos) << reqs[0];
  EXPECT_NE(reqs[0].find("X-Empty:"), std::string::npos) << reqs[0];
  EXPECT_EQ(reqs[0].find("Content-Type"), std::string::npos) << reqs[0];
  EXPECT_EQ(reqs[0].find("Expect:"), std::string::npos) << reqs[0];
  EXPECT_NE(reqs[0].find("\r\n\r\nobject body"), std::string::npos);
}

TEST(CurlTransport, SilentServerTimesOutWithinTheTotalTimeout) {
  int port = 0;
  int fd = listen_loopback(16, port);  // the kernel completes the handshake; nobody ever answers
  CurlTransport t({milliseconds(300), milliseconds(700)});
  auto start = std::chrono::steady_clock::now();
  auto r = t.send({"POST", "http://127.0.0.1:" + std::to_string(port) + "/", {}, "Action=DescribeInstances"});
  auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_EQ(r.error().code, "Timeout");
  EXPECT_TRUE(r.error().retryable());
  EXPECT_GE(took, milliseconds(650));
  EXPECT_LT(took, milliseconds(3000));
}

TEST(CurlTransport, RefusedPortIsNetworkErrorNamingHostAndPortButNotTheQuery) {
  int port = testing::free_port();
  CurlTransport t({milliseconds(1000), milliseconds(2000)});
  const std::string url = "http://127.0.0.1:" + std::to_string(port) +
                          "/bucket/key?X-Amz-Signature=deadbeefcafe&X-Amz-Security-Token=TOKENCANARY";
  auto r = t.send({"GET", url, {}, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kNetwork);
  EXPECT_EQ(r.error().code, "ConnectionRefused");
  const std::string msg = r.error().describe();
  EXPECT_NE(msg.find("127.0.0.1"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(port)), std::string::npos) << msg;
  EXPECT_NE(msg.find("/bucket/key"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("deadbeefcafe"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("TOKENCANARY"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('?'), std::string::npos) << msg;
}

TEST(CurlTransport, OnlyHttpAndHttpsAreAllowed) {
  CurlTransport t;
  auto r = t.send({"GET", "file:///etc/hostname", {}, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kNetwork);
  EXPECT_EQ(r.error().code, "UnsupportedProtocol");
  auto bad = t.send({"GET", "http://[not-a-host/x", {}, ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kNetwork);
  EXPECT_EQ(bad.error().code, "MalformedUrl");
}

// A python3 https server on 127.0.0.1 with a fresh self-signed certificate for IP 127.0.0.1.
class TlsServer {
 public:
  TlsServer() {
    dir_ = std::filesystem::temp_directory_path() / ("containctl-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" + key_ + "' -out '" +
                      cert_ + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl could not make a certificate");
    static const char* kScript = R"(
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        self.send_response(200); self.send_header('Content-Length', '6'); self.end_headers(); self.wfile.write(b'secure')
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
)";
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      execlp("python3", "python3", "-c", kScript, cert_.c_str(), key_.c_str(), (char*)nullptr);
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    port_ = line.empty() ? 0 : std::stoi(line);
    if (port_ == 0) throw std::runtime_error("python3 https server did not start");
  }
  ~TlsServer() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }
  const std::string& cert() const { return cert_; }

 private:
  std::filesystem::path dir_;
  std::string cert_, key_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST(CurlTransport, TlsVerificationIsAlwaysOnAndAwsCaBundleIsHonoured) {
  TlsServer server;
  {
    CurlTransport t({milliseconds(2000), milliseconds(5000)});
    auto r = t.send({"GET", server.url(), {}, ""});
    ASSERT_FALSE(r.ok()) << "a self-signed certificate must not be accepted";
    EXPECT_EQ(r.error().kind, ErrorKind::kNetwork);
    EXPECT_EQ(r.error().code, "TlsVerificationFailed") << r.error().describe();
  }
  {
    ScopedEnv ca("AWS_CA_BUNDLE", server.cert());
    CurlTransport t({milliseconds(2000), milliseconds(5000)});
    auto r = t.send({"GET", server.url(), {}, ""});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "secure");
  }
}

TEST(CurlTransport, ProxiesComeFromTheEnvironmentAndNoProxyIsRespected) {
  LoopbackServer server;
  const std::string dead_proxy = "http://127.0.0.1:" + std::to_string(testing::free_port());
  ScopedEnv http_proxy("http_proxy", dead_proxy);
  {
    ScopedEnv no_proxy("no_proxy", "");
    ScopedEnv no_proxy_upper("NO_PROXY", "");
    CurlTransport t({milliseconds(1000), milliseconds(2000)});
    auto r = t.send({"GET", server.url(), {}, ""});
    ASSERT_FALSE(r.ok()) << "the request should have gone to the (dead) proxy";
    EXPECT_EQ(r.error().kind, ErrorKind::kNetwork);
    EXPECT_EQ(server.accepted(), 0);
  }
  {
    ScopedEnv no_proxy("NO_PROXY", "localhost,127.0.0.1");
    CurlTransport t({milliseconds(1000), milliseconds(2000)});
    auto r = t.send({"GET", server.url(), {}, ""});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(server.accepted(), 1);
  }
}

}  // namespace
}  // namespace containctl::aws
