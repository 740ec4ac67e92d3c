// A Lambda Runtime API endpoint for tests (and the cold-start benchmark): the documented protocol
// (GET .../invocation/next, POST .../invocation/{id}/response|error, POST .../init/error) on
// 127.0.0.1, a free port. Events are queued by the test; `next` waits for one, and answers 500
// once the test calls finish() (the service ending the environment), so the runtime exits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace containctl::testing {

class RuntimeApiServer {
 public:
  struct Outcome {
    std::string kind;        // "response" or "error"
    std::string body;
    std::string error_type;  // the Lambda-Runtime-Function-Error-Type header
  };
  using SystemTime = std::chrono::system_clock::time_point;

  RuntimeApiServer();
  ~RuntimeApiServer();
  RuntimeApiServer(const RuntimeApiServer&) = delete;
  RuntimeApiServer& operator=(const RuntimeApiServer&) = delete;

  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }

  // Queues an event; returns its request id. deadline: how long from when `next` hands it out.
  std::string push(const std::string& body, std::chrono::milliseconds deadline = std::chrono::minutes(2));
  // Waits for the outcome of `request_id`.
  std::optional<Outcome> wait_outcome(const std::string& request_id, std::chrono::milliseconds timeout);
  // From now on `next` answers 500 (the environment is done).
  void finish();

  std::optional<Outcome> init_error() const;
  // When the first `next` request arrived, and when each event was handed out (by request id).
  std::optional<SystemTime> first_next() const;
  std::optional<SystemTime> handed_out(const std::string& request_id) const;
  std::optional<SystemTime> outcome_at(const std::string& request_id) const;
  // Every request line seen ("GET /2018-06-01/runtime/invocation/next", ...).
  std::vector<std::string> requests() const;
  // Headers of the requests the runtime sent (lower-cased names), in order.
  std::vector<std::map<std::string, std::string>> request_headers() const;

 private:
  struct Event {
    std::string id, body;
    std::chrono::milliseconds deadline;
  };
  void accept_loop();
  void serve(int fd);
  void reply(int fd, int status, const std::string& body, const std::vector<std::string>& headers = {});

  int listen_fd_ = -1;
  int port_ = 0;
  bool stopping_ = false;
  bool finished_ = false;
  int next_id_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
  std::map<std::string, Outcome> outcomes_;
  std::map<std::string, SystemTime> handed_, outcome_at_;
  std::optional<Outcome> init_error_;
  std::optional<SystemTime> first_next_;
  std::vector<std::string> requests_;
  std::vector<std::map<std::string, std::string>> headers_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace containctl::testing
