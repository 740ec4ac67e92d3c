// aws::parse_time: reached from credential_process output, metadata credentials and approvals.
// Invariant: a time it accepts prints (ISO-8601) to a text that parses back to the same instant.
#include "aws/clock.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  std::string text = fuzz::as_string(data, size);
  aws::TimePoint t;
  if (!aws::parse_time(text, t)) return 0;
  std::string printed = aws::format_iso8601(t);
  aws::TimePoint back;
  FUZZ_CHECK(aws::parse_time(printed, back), printed);
  // Sub-second digits are dropped by the printer; whole seconds must survive.
  FUZZ_CHECK(std::chrono::floor<std::chrono::seconds>(back) == std::chrono::floor<std::chrono::seconds>(t), printed);
  std::string amz = aws::format_amz_date(t);
  FUZZ_CHECK(aws::parse_time(amz, back), amz);
  return 0;
}
