// Request shapes checked against a botocore service model (tests/data/botocore/*.json), for the
// calls moto lacks: a member the model does not name, a missing required member, a wrong type,
// a value outside the model's min/max/enum, or the wrong protocol framing (X-Amz-Target for JSON
// services, method and path for REST-JSON) is an error naming it. So a misspelt member fails.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "aws/http.h"

namespace containctl::testing {

class ServiceModel {
 public:
  // Loads tests/data/botocore/<file>; a missing or malformed file fails the calling test.
  static ServiceModel load(const std::string& file);

  // "" when `body` fits the input shape of `operation`; otherwise what is wrong, with its path.
  std::string check_input(const std::string& operation, const nlohmann::json& body) const;
  // The same for a response body against the output shape (a recorded response must fit too).
  std::string check_output(const std::string& operation, const nlohmann::json& body) const;
  // The whole request: framing by protocol (json: POST /, X-Amz-Target = targetPrefix.Operation,
  // Content-Type application/x-amz-json-1.1; rest-json: the operation's method and requestUri),
  // then the JSON body against the input shape.
  std::string check_request(const std::string& operation, const aws::HttpRequest& request) const;

  const nlohmann::json& doc() const { return doc_; }

 private:
  std::string check_shape(const std::string& shape, const nlohmann::json& v, const std::string& path) const;
  nlohmann::json doc_;
};

}  // namespace containctl::testing
