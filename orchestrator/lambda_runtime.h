// The Lambda Runtime API (custom runtimes, provided.al2023): the documented HTTP protocol between
// a function's process and the Lambda service's local endpoint AWS_LAMBDA_RUNTIME_API (host:port):
//   GET  /2018-06-01/runtime/invocation/next            the next event (long poll)
//   POST /2018-06-01/runtime/invocation/{id}/response   its result
//   POST /2018-06-01/runtime/invocation/{id}/error      its error
//   POST /2018-06-01/runtime/init/error                 the function could not start
// Plain HTTP on the loopback interface is the protocol (a non-loopback endpoint is refused). No
// AWS credentials or signatures go to it: requests carry only the event's result.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "aws/clock.h"
#include "aws/http.h"
#include "aws/result.h"

namespace containctl::orch {

struct Invocation {
  std::string request_id;    // Lambda-Runtime-Aws-Request-Id
  aws::TimePoint deadline;   // Lambda-Runtime-Deadline-Ms (epoch milliseconds)
  std::string trace_id;      // Lambda-Runtime-Trace-Id (exported as _X_AMZN_TRACE_ID)
  std::string function_arn;  // Lambda-Runtime-Invoked-Function-Arn
  std::string body;          // the event
};

class RuntimeApi {
 public:
  // host:port (AWS_LAMBDA_RUNTIME_API). `transport` carries every request; `next` waits as long as
  // the service keeps it (the process is frozen between invocations), so give it no total timeout.
  static Result<std::unique_ptr<RuntimeApi>> open(const std::string& host_port,
                                                  std::shared_ptr<aws::HttpTransport> transport = nullptr);

  // An HTTP 500 from `next` is the service saying the environment is done (code "RuntimeApiDone").
  Result<Invocation> next();
  Status respond(const std::string& request_id, const std::string& body);
  Status fail(const std::string& request_id, const Error& error);
  Status init_error(const Error& error);

 private:
  RuntimeApi(std::string base, std::shared_ptr<aws::HttpTransport> t) : base_(std::move(base)), transport_(std::move(t)) {}
  Status post(const std::string& path, const std::string& body, const std::string& error_type);
  std::string base_;  // http://host:port/2018-06-01/runtime
  std::shared_ptr<aws::HttpTransport> transport_;
};

// {"errorMessage", "errorType", "stackTrace": []}, with anything signed-request-like redacted.
nlohmann::json error_document(const Error& error);

using InvocationHandler = std::function<Result<nlohmann::json>(const Invocation&)>;

// Serves invocations until the Runtime API ends the environment (or stays unreachable), and
// returns the process's exit code. Each invocation's error or exception is reported as that
// invocation's error, and the loop goes on to the next: one bad event never stops the function.
int serve_invocations(RuntimeApi& api, const InvocationHandler& handler);

}  // namespace containctl::orch
