// credential_process: the command line from the config file (word splitting) and the JSON the
// command prints (Version 1 credentials).
#include "aws/credential_process.h"
#include "aws/virtual_clock.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  if (size == 0) return 0;
  std::string text = fuzz::as_string(data + 1, size - 1);
  if (data[0] & 1) {
    auto words = aws::split_command(text);
    if (words.ok()) FUZZ_CHECK(!words->empty(), text);
    return 0;
  }
  static aws::VirtualClock clock(aws::TimePoint{} + std::chrono::hours(24 * 365 * 50));
  auto creds = aws::parse_credential_process_output(text, "fuzz", clock);
  if (creds.ok()) FUZZ_CHECK(!creds->access_key_id.empty() && !creds->secret_access_key.empty(), text);
  return 0;
}
