// A scripted HttpTransport for unit tests: answers from a queue of responses or errors (or a
// handler), and records every request it was sent, so tests can assert attempts, headers,
// signatures and bodies without a network.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "aws/http.h"

namespace containctl::testing {

class FakeTransport final : public aws::HttpTransport {
 public:
  using Handler = std::function<Result<aws::HttpResponse>(const aws::HttpRequest&)>;

  // Queue one answer. Answers are used in order; when the queue is empty the handler (if any)
  // answers, otherwise send() returns an kInternal error naming the unexpected request.
  FakeTransport& respond(int status, std::string body, std::vector<aws::Header> headers = {});
  FakeTransport& fail(Error error);
  // Convenience: a network failure like CurlTransport's.
  FakeTransport& fail_network(std::string message = "Couldn't connect to server");
  void set_handler(Handler handler);

  Result<aws::HttpResponse> send(const aws::HttpRequest& request) override;

  std::vector<aws::HttpRequest> requests() const;
  size_t request_count() const;
  size_t pending() const;

 private:
  mutable std::mutex mu_;
  std::deque<Result<aws::HttpResponse>> queue_;
  std::vector<aws::HttpRequest> requests_;
  Handler handler_;
};

// Canned bodies in each protocol's real error shape.
std::string ec2_error_body(const std::string& code, const std::string& message,
                           const std::string& request_id = "ec2-req-1");
std::string query_error_body(const std::string& code, const std::string& message,
                             const std::string& request_id = "query-req-1");  // IAM/STS <ErrorResponse>
std::string s3_error_body(const std::string& code, const std::string& message,
                          const std::string& request_id = "s3-req-1");
std::string json_error_body(const std::string& type, const std::string& message);

}  // namespace containctl::testing
