// A moto_server on 127.0.0.1 for integration tests: started on a free port, waited for until it
// answers, reset between tests, and stopped by killing exactly the process it started.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "aws/client.h"

namespace containctl::testing {

class MotoServer {
 public:
  // no_auth_count < 0: signature checking off. Otherwise INITIAL_NO_AUTH_ACTION_COUNT.
  explicit MotoServer(int no_auth_count = -1);
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // POST /moto-api/reset (wipes state, keeps auth settings).
  void reset();
  // POST /moto-api/reset-auth: the next `count` requests are not checked (-1: never check).
  void reset_auth(int count);

  // A client for account 123456789012 with moto's default "testing" credentials, every service
  // pointed at this server. `account_header` adds x-moto-account-id (only with auth off).
  std::unique_ptr<aws::AwsClient> client(const aws::Credentials& creds = default_credentials()) const;
  // That client's configuration sending through `transport` (a test's fault-injecting wrapper),
  // for tests that build their own client from it.
  aws::ClientConfig client_config(std::shared_ptr<aws::HttpTransport> transport,
                                  const aws::Credentials& creds = default_credentials()) const;
  static aws::Credentials default_credentials();

  // The process-wide server for tests that share one (lazily started, stopped at exit).
  static MotoServer& shared(int no_auth_count = -1);

 private:
  void post(const std::string& path, const std::string& body, const std::string& content_type);
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// A free TCP port on 127.0.0.1 (bound and released).
int free_port();

}  // namespace containctl::testing
