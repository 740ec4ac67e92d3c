// Response bodies: XML (pugixml) and JSON, and the error shapes of every protocol the tool uses:
// EC2 <Response><Errors>, IAM/STS <ErrorResponse>, S3 <Error>, JSON __type/message.
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

Result<XmlResponse> parse_xml(const HttpResponse& response);

// Error from a non-2xx response. Unparseable bodies still give an Error that names the status.
Error error_from_response(const HttpResponse& response);

// Classification of an AWS error code and status (throttling, transient, auth, client).
ErrorKind classify(std::string_view code, int http_status);

// Text of the first descendant element with this local name ("" when absent).
std::string xml_text(pugi::xml_node node, const char* name);
// Children named `member` or `item` of the first descendant `list_name`.
std::vector<pugi::xml_node> xml_list(pugi::xml_node node, const char* list_name);

}  // namespace containctl::aws
