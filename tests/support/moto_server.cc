#include "tests/support/moto_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "aws/curl_transport.h"

namespace containctl::testing {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

MotoServer::MotoServer(int no_auth_count) {
  for (int tries = 0; tries < 5 && pid_ < 0; ++tries) {
    port_ = free_port();
    log_path_ = "/tmp/containctl-moto-" + std::to_string(getpid()) + "-" + std::to_string(port_) + ".log";
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      setpgid(0, 0);
      int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (log >= 0) {
        dup2(log, 1);
        dup2(log, 2);
      }
      // Never let a test's moto pin one account: multi-account tests depend on key routing.
      unsetenv("MOTO_ACCOUNT_ID");
      if (no_auth_count >= 0) setenv("INITIAL_NO_AUTH_ACTION_COUNT", std::to_string(no_auth_count).c_str(), 1);
      std::string port = std::to_string(port_);
      // moto_server with DynamoDB requests made atomic, as the real service's are (see the script).
      execlp("python3", "python3", CONTAINCTL_SOURCE_DIR "/tests/support/moto_serialized.py", "127.0.0.1", port.c_str(),
             (char*)nullptr);
      _exit(127);
    }
    pid_ = pid;
    // Wait until it answers.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    aws::CurlTransport t({std::chrono::milliseconds(500), std::chrono::milliseconds(2000)});
    bool up = false;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) break;  // exited (port taken?): retry
      auto r = t.send({"GET", url() + "/moto-api/data.json", {}, ""});
      if (r.ok() && r->status == 200) {
        up = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!up) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  if (pid_ < 0) throw std::runtime_error("moto_server did not start (is it installed? see scripts/deps)");
}

MotoServer::~MotoServer() {
  if (pid_ > 0) {
    kill(-pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  unlink(log_path_.c_str());
}

void MotoServer::post(const std::string& path, const std::string& body, const std::string& content_type) {
  aws::CurlTransport t;
  auto r = t.send({"POST", url() + path, {{"Content-Type", content_type}}, body});
  if (!r.ok() || r->status != 200) throw std::runtime_error("moto " + path + " failed");
}

void MotoServer::reset() { post("/moto-api/reset", "", "application/json"); }

void MotoServer::reset_auth(int count) {
  post("/moto-api/reset-auth", count < 0 ? "inf" : std::to_string(count), "text/plain");
}

aws::Credentials MotoServer::default_credentials() {
  aws::Credentials c;
  c.access_key_id = "testing";
  c.secret_access_key = "testing";
  c.source = "test";
  return c;
}

aws::ClientConfig MotoServer::client_config(std::shared_ptr<aws::HttpTransport> transport,
                                            const aws::Credentials& creds) const {
  aws::ClientConfig cfg;
  cfg.transport = std::move(transport);
  cfg.credentials = std::make_shared<aws::StaticCredentialsProvider>(creds);
  cfg.endpoints.all = url();
  cfg.account_id = "123456789012";
  cfg.retry.max_attempts = 1;
  return cfg;
}

std::unique_ptr<aws::AwsClient> MotoServer::client(const aws::Credentials& creds) const {
  return std::make_unique<aws::AwsClient>(client_config(std::make_shared<aws::CurlTransport>(), creds));
}

MotoServer& MotoServer::shared(int no_auth_count) {
  static MotoServer server(no_auth_count);
  return server;
}

}  // namespace containctl::testing
