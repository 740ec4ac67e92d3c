#include "tests/support/fake_transport.h"

namespace containctl::testing {

FakeTransport& FakeTransport::respond(int status, std::string body, std::vector<aws::Header> headers) {
  aws::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  std::lock_guard lock(mu_);
  queue_.emplace_back(std::move(r));
  return *this;
}

FakeTransport& FakeTransport::fail(Error error) {
  std::lock_guard lock(mu_);
  queue_.emplace_back(std::move(error));
  return *this;
}

FakeTransport& FakeTransport::fail_network(std::string message) {
  return fail(Error{ErrorKind::kNetwork, "NetworkError", std::move(message)});
}

void FakeTransport::set_handler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

Result<aws::HttpResponse> FakeTransport::send(const aws::HttpRequest& request) {
  Handler handler;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (!queue_.empty()) {
      Result<aws::HttpResponse> r = std::move(queue_.front());
      queue_.pop_front();
      return r;
    }
    handler = handler_;
  }
  if (handler) return handler(request);
  return Error::internal("FakeTransport: no scripted answer for " + request.method + " " +
                         request.url.substr(0, request.url.find('?')));
}

std::vector<aws::HttpRequest> FakeTransport::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t FakeTransport::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

size_t FakeTransport::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::string ec2_error_body(const std::string& code, const std::string& message, const std::string& request_id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>" + code + "</Code><Message>" +
         message + "</Message></Error></Errors><RequestID>" + request_id + "</RequestID></Response>";
}

std::string query_error_body(const std::string& code, const std::string& message, const std::string& request_id) {
  return "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>" +
         code + "</Code><Message>" + message + "</Message></Error><RequestId>" + request_id +
         "</RequestId></ErrorResponse>";
}

std::string s3_error_body(const std::string& code, const std::string& message, const std::string& request_id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message +
         "</Message><RequestId>" + request_id + "</RequestId><HostId>host-id-1</HostId></Error>";
}

std::string json_error_body(const std::string& type, const std::string& message) {
  // Built by hand so tests control the exact bytes; callers pass plain text.
  return "{\"__type\":\"" + type + "\",\"message\":\"" + message + "\"}";
}

}  // namespace containctl::testing
