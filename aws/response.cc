#include "aws/response.h"

#include <algorithm>
#include <array>

namespace containctl::aws {
namespace {

pugi::xml_node find_desc(pugi::xml_node node, const char* name) {
  if (!node) return {};
  return node.find_node([&](pugi::xml_node n) { return std::string_view(n.name()) == name; });
}

std::string request_id_from(const HttpResponse& r) {
  for (const char* h : {"x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"}) {
    if (auto v = r.header(h); !v.empty()) return std::string(v);
  }
  return {};
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

ErrorKind classify(std::string_view code, int status) {
  static constexpr std::array<std::string_view, 16> kThrottling = {
      "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
      "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
      "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
      "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "Rate exceeded", "ThrottledException"};
  static constexpr std::array<std::string_view, 8> kTransient = {
      "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
      "InternalServerError", "IDPCommunicationError", "EC2InternalError"};
  static constexpr std::array<std::string_view, 14> kAuth = {
      "SignatureDoesNotMatch", "InvalidClientTokenId", "AuthFailure", "AccessDenied", "AccessDeniedException",
      "UnauthorizedOperation", "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "InvalidToken",
      "UnrecognizedClientException", "IncompleteSignature", "MissingAuthenticationToken", "RequestExpired"};
  auto in = [&](const auto& set) { return std::find(set.begin(), set.end(), code) != set.end(); };
  if (in(kThrottling) || status == 429) return ErrorKind::kThrottling;
  if (in(kAuth)) return ErrorKind::kAuth;
  if (in(kTransient) || status >= 500) return ErrorKind::kTransient;
  if (status == 401 || status == 403) return ErrorKind::kAuth;
  return ErrorKind::kClient;
}

Error error_from_response(const HttpResponse& r) {
  Error e;
  e.http_status = r.status;
  e.request_id = request_id_from(r);
  std::string_view body = r.body;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '<') {
    pugi::xml_document doc;
    if (doc.load_buffer(body.data(), body.size())) {
      pugi::xml_node err = find_desc(doc, "Error");
      if (!err) err = doc.document_element();
      e.code = xml_text(err, "Code");
      e.message = xml_text(err, "Message");
      if (e.request_id.empty()) e.request_id = xml_text(doc, "RequestId");
      if (e.request_id.empty()) e.request_id = xml_text(doc, "RequestID");
    }
  } else if (first != std::string_view::npos && body[first] == '{') {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object()) {
      std::string type = j.value("__type", j.value("code", std::string()));
      // "com.amazonaws.service#Code" or "Code:http://..."
      if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
      if (auto colon = type.find(':'); colon != std::string::npos) type = type.substr(0, colon);
      e.code = type;
      e.message = j.value("message", j.value("Message", std::string()));
    }
  }
  if (e.code.empty()) {
    if (auto h = r.header("x-amzn-errortype"); !h.empty()) e.code = std::string(h.substr(0, h.find(':')));
  }
  if (e.code.empty()) {
    e.code = "HTTP" + std::to_string(r.status);
    if (e.message.empty()) e.message = "service answered HTTP " + std::to_string(r.status) + " with an unparseable body";
  }
  e.kind = classify(e.code, r.status);
  return e;
}

Result<XmlResponse> parse_xml(const HttpResponse& r) {
  XmlResponse out;
  out.http_status = r.status;
  out.doc = std::make_shared<pugi::xml_document>();
  if (r.body.empty()) return out;
  pugi::xml_parse_result pr = out.doc->load_buffer(r.body.data(), r.body.size());
  if (!pr) {
    return Error{ErrorKind::kParse, "UnparseableResponse",
                 std::string("HTTP ") + std::to_string(r.status) + " response is not valid XML: " + pr.description()};
  }
  out.request_id = request_id_from(r);
  if (out.request_id.empty()) out.request_id = xml_text(*out.doc, "RequestId");
  if (out.request_id.empty()) out.request_id = xml_text(*out.doc, "requestId");
  return out;
}

}  // namespace containctl::aws
