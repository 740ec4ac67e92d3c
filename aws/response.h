// Response bodies: XML (pugixml) and JSON, and the error shapes of every protocol the tool uses:
// EC2 <Response><Errors><Error>...<RequestID>, IAM/STS <ErrorResponse><Error>...<RequestId>,
// S3 <Error><Code>...<RequestId>, JSON __type/code + message/Message (and moto's XML answers to
// JSON-protocol services), plus bodies that are none of these (HTML, empty).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "aws/http.h"
#include "aws/result.h"

namespace containctl::aws {

struct XmlResponse {
  std::shared_ptr<pugi::xml_document> doc;
  std::string request_id;
  int http_status = 0;
  pugi::xml_node root() const { return doc ? doc->document_element() : pugi::xml_node(); }
};

// Parses an XML body (an empty body gives an empty document). Invalid XML is kParse.
Result<XmlResponse> parse_xml(const HttpResponse& response);

// Error from a non-2xx response. Unparseable bodies still give an Error that names the status.
Error error_from_response(const HttpResponse& response);

// Classification of an AWS error code and status (throttling, transient, auth, client).
ErrorKind classify(std::string_view code, int http_status);

// Normalises a JSON error type: "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" and
// "ValidationException:http://internal.amazon.com/coral/..." both give the bare code.
std::string normalize_error_code(std::string_view type);

// The request id of any response: x-amzn-RequestId / x-amz-request-id headers, else the body's
// <RequestId>, <RequestID> or <requestId> element. Empty when there is none.
std::string response_request_id(const HttpResponse& response);

// Text of the first descendant element with this local name ("" when absent).
std::string xml_text(pugi::xml_node node, const char* name);
// Children named `member` or `item` of the first descendant `list_name`.
std::vector<pugi::xml_node> xml_list(pugi::xml_node node, const char* list_name);

}  // namespace containctl::aws
