// AWS responses: XML bodies of every protocol, error bodies (XML, JSON, HTML), request ids.
#include "aws/response.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  if (size < 2) return 0;
  aws::HttpResponse r;
  static const int kStatuses[] = {200, 400, 403, 404, 409, 429, 500, 503};
  r.status = kStatuses[data[0] % 8];
  if (data[1] & 1) r.headers.push_back({"Content-Type", "application/x-amz-json-1.1"});
  if (data[1] & 2) r.headers.push_back({"x-amzn-RequestId", "req-1"});
  r.body = fuzz::as_string(data + 2, size - 2);
  auto xml = aws::parse_xml(r);
  if (xml.ok()) {
    (void)aws::xml_text(xml->root(), "Code");
    (void)aws::xml_list(xml->root(), "Errors");
  }
  if (r.status >= 300) {
    Error e = aws::error_from_response(r);
    (void)e.describe();
  }
  (void)aws::response_request_id(r);
  (void)aws::normalize_error_code(r.body.substr(0, 200));
  return 0;
}
