#include "orchestrator/lambda_runtime.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <thread>

#include "aws/curl_transport.h"
#include "aws/endpoints.h"
#include "aws/sigv4.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

Error api_error(const std::string& what, const aws::HttpResponse& r) {
  Error e{r.status >= 500 ? ErrorKind::kTransient : ErrorKind::kClient, "RuntimeApi" + std::to_string(r.status),
          "Lambda Runtime API: " + what + " answered HTTP " + std::to_string(r.status)};
  e.http_status = r.status;
  return e;
}

std::string host_of(const std::string& host_port) {
  if (!host_port.empty() && host_port[0] == '[') return host_port.substr(0, host_port.find(']') + 1);
  return host_port.substr(0, host_port.rfind(':'));
}

}  // namespace

json error_document(const Error& e) {
  std::string type = "Containctl." + (e.code.empty() ? to_string(e.kind) : e.code);
  return {{"errorMessage", aws::redact_service_text(e.describe())}, {"errorType", type}, {"stackTrace", json::array()}};
}

Result<std::unique_ptr<RuntimeApi>> RuntimeApi::open(const std::string& host_port,
                                                     std::shared_ptr<aws::HttpTransport> transport) {
  if (host_port.empty() || host_port.find_first_of("/?#@ ") != std::string::npos || host_port.rfind(':') == std::string::npos)
    return Error::invalid("AWS_LAMBDA_RUNTIME_API '" + host_port + "' is not host:port", "InvalidRuntimeApi");
  if (!aws::is_loopback_host(host_of(host_port)))
    return Error::invalid("AWS_LAMBDA_RUNTIME_API '" + host_port +
                              "' is not on the loopback interface; the Runtime API is plain HTTP and only ever local",
                          "InvalidRuntimeApi");
  if (!transport) {
    aws::TransportOptions options;
    options.total_timeout = std::chrono::milliseconds(0);  // `next` waits for the next event, however long
    transport = std::make_shared<aws::CurlTransport>(options);
  }
  return std::unique_ptr<RuntimeApi>(new RuntimeApi("http://" + host_port + "/2018-06-01/runtime", std::move(transport)));
}

Result<Invocation> RuntimeApi::next() {
  aws::HttpRequest req;
  req.method = "GET";
  req.url = base_ + "/invocation/next";
  CC_ASSIGN(aws::HttpResponse r, transport_->send(req));
  if (r.status == 500) {
    Error e = api_error("next", r);
    e.code = "RuntimeApiDone";
    return e;
  }
  if (r.status != 200) return api_error("next", r);
  Invocation inv;
  inv.request_id = std::string(r.header("Lambda-Runtime-Aws-Request-Id"));
  if (inv.request_id.empty() || inv.request_id.find_first_of("/?#% \r\n") != std::string::npos)
    return Error{ErrorKind::kParse, "RuntimeApiNoRequestId", "Lambda Runtime API: next gave no usable request id"};
  const std::string deadline(r.header("Lambda-Runtime-Deadline-Ms"));
  char* end = nullptr;
  long long ms = deadline.empty() ? 0 : std::strtoll(deadline.c_str(), &end, 10);
  if (ms > 0 && end && *end == '\0') {
    inv.deadline = aws::TimePoint(std::chrono::milliseconds(ms));
  } else {
    // Lambda always sends it; without it the invocation is treated as having a minute.
    spdlog::warn("invocation {}: no Lambda-Runtime-Deadline-Ms; assuming 60 s", inv.request_id);
    inv.deadline = aws::SystemClock::instance().now() + std::chrono::seconds(60);
  }
  inv.trace_id = std::string(r.header("Lambda-Runtime-Trace-Id"));
  inv.function_arn = std::string(r.header("Lambda-Runtime-Invoked-Function-Arn"));
  inv.body = std::move(r.body);
  return inv;
}

Status RuntimeApi::post(const std::string& path, const std::string& body, const std::string& error_type) {
  aws::HttpRequest req;
  req.method = "POST";
  req.url = base_ + path;
  req.body = body;
  req.set_header("Content-Type", "application/json");
  if (!error_type.empty()) req.set_header("Lambda-Runtime-Function-Error-Type", error_type);
  CC_ASSIGN(aws::HttpResponse r, transport_->send(req));
  if (r.status != 202) return api_error(path, r);
  return Ok{};
}

Status RuntimeApi::respond(const std::string& id, const std::string& body) {
  return post("/invocation/" + id + "/response", body, "");
}

Status RuntimeApi::fail(const std::string& id, const Error& error) {
  json doc = error_document(error);
  return post("/invocation/" + id + "/error", doc.dump(), doc["errorType"]);
}

Status RuntimeApi::init_error(const Error& error) {
  json doc = error_document(error);
  return post("/init/error", doc.dump(), doc["errorType"]);
}

int serve_invocations(RuntimeApi& api, const InvocationHandler& handler) {
  int unreachable = 0;
  for (;;) {
    auto inv = api.next();
    if (!inv.ok()) {
      if (inv.error().code == "RuntimeApiDone") {
        spdlog::info("the Runtime API ended the environment");
        return 1;
      }
      // A transient failure of the local endpoint is retried briefly; a gone endpoint ends the process.
      spdlog::error("{}", inv.error().describe());
      if (inv.error().kind != ErrorKind::kNetwork || ++unreachable >= 5) return 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * unreachable));
      continue;
    }
    unreachable = 0;
    if (!inv->trace_id.empty()) ::setenv("_X_AMZN_TRACE_ID", inv->trace_id.c_str(), 1);
    else ::unsetenv("_X_AMZN_TRACE_ID");
    Result<json> result = Error{ErrorKind::kInternal, "NoResult", "the handler returned nothing"};
    try {
      result = handler(*inv);
    } catch (const std::exception& e) {
      result = Error{ErrorKind::kInternal, "UncaughtException", std::string("uncaught exception: ") + e.what()};
    } catch (...) {
      result = Error{ErrorKind::kInternal, "UncaughtException", "uncaught exception of unknown type"};
    }
    Status sent = result.ok() ? api.respond(inv->request_id, result->dump()) : api.fail(inv->request_id, result.error());
    if (!sent.ok() && result.ok() && sent.error().http_status == 413)
      sent = api.fail(inv->request_id, Error::invalid("the response is larger than Lambda accepts", "ResponseTooLarge"));
    if (!sent.ok()) spdlog::error("invocation {}: could not report its outcome: {}", inv->request_id, sent.error().describe());
  }
}

}  // namespace containctl::orch
