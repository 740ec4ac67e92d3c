// Container (ECS/EKS) and instance-metadata (IMDS) credential answers.
#include "aws/metadata_credentials.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  std::string text = fuzz::as_string(data, size);
  auto creds = aws::parse_credentials_document(text, "fuzz", "imds");
  if (creds.ok()) FUZZ_CHECK(!creds->access_key_id.empty() && !creds->secret_access_key.empty(), text);
  return 0;
}
