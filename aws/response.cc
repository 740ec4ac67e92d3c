#include "aws/response.h"

#include "aws/sigv4.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace containctl::aws {
namespace {

pugi::xml_node find_desc(pugi::xml_node node, const char* name) {
  if (!node) return {};
  return node.find_node([&](pugi::xml_node n) { return std::string_view(n.name()) == name; });
}

std::string header_request_id(const HttpResponse& r) {
  for (const char* h : {"x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"}) {
    if (auto v = r.header(h); !v.empty()) return std::string(v);
  }
  return {};
}

std::string xml_request_id(pugi::xml_node doc) {
  for (const char* n : {"RequestId", "RequestID", "requestId"}) {
    if (auto v = xml_text(doc, n); !v.empty()) return v;
  }
  return {};
}

// Text of the first <tag>...</tag> in a body, without parsing it (success paths only need the id).
std::string scan_element(std::string_view body, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  size_t p = body.find(open);
  if (p == std::string_view::npos) return {};
  p += open.size();
  size_t e = body.find('<', p);
  if (e == std::string_view::npos || e - p > 128) return {};
  return std::string(body.substr(p, e - p));
}

bool looks_like_html(std::string_view body) {
  std::string head(body.substr(0, 15));
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
  return head.starts_with("<!doctype html") || head.starts_with("<html");
}

bool is_status_only_message(const Error& e) { return e.code.empty(); }

std::string status_code_name(int status) {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 429: return "TooManyRequests";
    case 500: return "InternalServerError";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return "HTTP" + std::to_string(status);
  }
}

// DynamoDB cancels a TransactWriteItems that is over capacity with TransactionCanceledException,
// naming ThrottlingError (on-demand) or ProvisionedThroughputExceeded (provisioned) for the items
// over it and None for the others (botocore's TransactionCanceledException documentation). Nothing
// was written and the same request can go through once capacity refills: that is throttling, and
// the client retries it with backoff. Any other reason (a failed condition, a conflict, a
// validation error) keeps the cancellation a client error for the caller to judge.
bool cancelled_only_by_capacity(const nlohmann::json& body, std::string_view message) {
  std::vector<std::string> codes;
  if (auto it = body.find("CancellationReasons"); it != body.end() && it->is_array()) {
    for (const auto& r : *it) {
      auto c = r.is_object() ? r.find("Code") : r.end();
      codes.push_back(r.is_object() && c != r.end() && c->is_string() ? c->get<std::string>() : "");
    }
  } else if (size_t open = message.rfind('['); open != std::string_view::npos && message.ends_with(']')) {
    // Without the list (it is optional in the model), the message names the same codes in order:
    // "... specific reasons [None, ThrottlingError]".
    std::string_view list = message.substr(open + 1, message.size() - open - 2);
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view c = list.substr(0, comma);
      while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
      while (!c.empty() && c.back() == ' ') c.remove_suffix(1);
      codes.emplace_back(c);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  bool throttled = false;
  for (const auto& c : codes) {
    if (c == "ThrottlingError" || c == "ProvisionedThroughputExceeded") throttled = true;
    else if (c != "None") return false;
  }
  return throttled;
}

}  // namespace

std::string xml_text(pugi::xml_node node, const char* name) { return find_desc(node, name).text().as_string(); }

std::vector<pugi::xml_node> xml_list(pugi::xml_node node, const char* list_name) {
  std::vector<pugi::xml_node> out;
  pugi::xml_node list = find_desc(node, list_name);
  for (pugi::xml_node child : list.children()) {
    std::string_view n = child.name();
    if (n == "member" || n == "item") out.push_back(child);
  }
  return out;
}

std::string normalize_error_code(std::string_view type) {
  // The ":http..." suffix first: it may itself contain '#'.
  if (auto colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  if (auto hash = type.rfind('#'); hash != std::string_view::npos) type = type.substr(hash + 1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return std::string(type);
}

ErrorKind classify(std::string_view code, int status) {
  // botocore's standard-mode throttling codes (retries/standard.py ThrottledRetryableChecker).
  static constexpr std::array<std::string_view, 14> kThrottling = {
      "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
      "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
      "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
      "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException"};
  // botocore's transient codes plus the 5xx-class codes services send in bodies.
  static constexpr std::array<std::string_view, 10> kTransient = {
      "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
      "ServiceUnavailableException", "InternalServerError", "InternalServiceError", "IDPCommunicationError",
      "EC2InternalError"};
  static constexpr std::array<std::string_view, 20> kAuth = {
      "SignatureDoesNotMatch", "InvalidClientTokenId", "AuthFailure", "AccessDenied", "AccessDeniedException",
      "UnauthorizedOperation", "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "InvalidToken",
      "UnrecognizedClientException", "IncompleteSignature", "MissingAuthenticationToken",
      "MissingAuthenticationTokenException", "RequestExpired", "InvalidSignatureException",
      "RequestTimeTooSkewed", "RequestInTheFuture", "NotAuthorized", "TokenRefreshRequired"};
  auto in = [&](const auto& set) { return std::find(set.begin(), set.end(), code) != set.end(); };
  if (in(kThrottling) || status == 429) return ErrorKind::kThrottling;
  if (in(kAuth)) return ErrorKind::kAuth;
  // botocore retries 500/502/503/504 only: a 501 (not implemented) will not get better.
  if (in(kTransient) || status == 500 || status == 502 || status == 503 || status == 504)
    return ErrorKind::kTransient;
  if (status == 401 || status == 403) return ErrorKind::kAuth;
  return ErrorKind::kClient;
}

std::string response_request_id(const HttpResponse& r) {
  if (auto id = header_request_id(r); !id.empty()) return id;
  for (std::string_view tag : {"RequestId", "RequestID", "requestId"}) {
    if (auto id = scan_element(r.body, tag); !id.empty()) return id;
  }
  return {};
}

Error error_from_response(const HttpResponse& r) {
  Error e;
  e.http_status = r.status;
  e.request_id = header_request_id(r);
  std::string_view body = r.body;
  size_t first = body.find_first_not_of(" \t\r\n");
  const char lead = first == std::string_view::npos ? '\0' : body[first];
  std::string shape;  // what the body was, for errors without a code
  bool capacity_cancel = false;
  if (lead == '<') {
    pugi::xml_document doc;
    if (doc.load_buffer(body.data(), body.size())) {
      pugi::xml_node root = doc.document_element();
      std::string_view root_name = root.name();
      if (root_name == "html" || root_name == "HTML") {
        shape = "an HTML body";
      } else {
        pugi::xml_node err = find_desc(doc, "Error");
        if (!err) err = root;
        e.code = xml_text(err, "Code");
        e.message = xml_text(err, "Message");
        if (e.request_id.empty()) e.request_id = xml_request_id(doc);
        if (e.code.empty()) shape = "an XML body without an error code";
      }
    } else {
      shape = looks_like_html(body.substr(first)) ? "an HTML body" : "a body that is not valid XML";
    }
  } else if (lead == '{') {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object()) {
      std::string type;
      for (const char* k : {"__type", "code", "Code"}) {
        if (auto it = j.find(k); it != j.end() && it->is_string()) {
          type = it->get<std::string>();
          break;
        }
      }
      e.code = normalize_error_code(type);
      for (const char* k : {"message", "Message", "errorMessage"}) {
        if (auto it = j.find(k); it != j.end() && it->is_string()) {
          e.message = it->get<std::string>();
          break;
        }
      }
      if (e.code.empty()) shape = "a JSON body without an error type";
      capacity_cancel = e.code == "TransactionCanceledException" && cancelled_only_by_capacity(j, e.message);
    } else {
      shape = "a body that is not valid JSON";
    }
  } else if (lead == '\0') {
    shape = "an empty body";
  } else {
    shape = "a body that is neither XML nor JSON";
  }
  if (e.code.empty()) {
    if (auto h = r.header("x-amzn-errortype"); !h.empty()) e.code = normalize_error_code(h);
  }
  if (is_status_only_message(e)) {
    e.code = status_code_name(r.status);
    if (e.message.empty())
      e.message = "service answered HTTP " + std::to_string(r.status) + " with " +
                  (shape.empty() ? std::string("no error code") : shape);
  }
  e.kind = capacity_cancel ? ErrorKind::kThrottling : classify(e.code, r.status);
  // The service's own words go everywhere an error goes (stderr, JSON, journal, audit): AWS
  // echoes the signed request in some of them, session token included.
  e.message = redact_service_text(e.message);
  e.code = redact_service_text(e.code);
  return e;
}

Result<XmlResponse> parse_xml(const HttpResponse& r) {
  XmlResponse out;
  out.http_status = r.status;
  out.doc = std::make_shared<pugi::xml_document>();
  out.request_id = header_request_id(r);
  if (r.body.empty()) return out;
  pugi::xml_parse_result pr = out.doc->load_buffer(r.body.data(), r.body.size());
  if (!pr) {
    return Error{ErrorKind::kParse, "UnparseableResponse",
                 "HTTP " + std::to_string(r.status) + " response is not valid XML: " + pr.description() +
                     " at byte " + std::to_string(pr.offset),
                 r.status, out.request_id};
  }
  if (out.request_id.empty()) out.request_id = xml_request_id(*out.doc);
  return out;
}

}  // namespace containctl::aws
