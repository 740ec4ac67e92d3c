// Shared config and credentials files (~/.aws/config, ~/.aws/credentials).
#include "aws/config_file.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  if (size == 0) return 0;
  auto kind = (data[0] & 1) ? aws::ConfigFileKind::kCredentials : aws::ConfigFileKind::kConfig;
  std::string text = fuzz::as_string(data + 1, size - 1);
  aws::SharedConfig config;
  (void)aws::parse_config_text(text, "fuzz", kind, config);
  return 0;
}
