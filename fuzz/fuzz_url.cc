// Endpoint URLs from settings, environment and --endpoint-url.
// Invariant: a URL it accepts keeps its host non-empty.
#include "aws/url.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  std::string text = fuzz::as_string(data, size);
  auto view = aws::split_url(text);
  auto url = aws::parse_url(text);
  FUZZ_CHECK(view.ok() == url.ok(), text);
  if (!url.ok()) return 0;
  FUZZ_CHECK(!url->host.empty(), text);
  // What it prints as the origin parses back to the same scheme, host and port.
  auto again = aws::parse_url(url->origin());
  FUZZ_CHECK(again.ok(), url->origin());
  FUZZ_CHECK(again->host == url->host && again->scheme == url->scheme && again->host_header() == url->host_header(),
             url->origin());
  return 0;
}
