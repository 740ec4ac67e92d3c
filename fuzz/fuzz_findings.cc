// Findings: GuardDuty and Security Hub documents, which anyone allowed to import findings writes.
#include "fuzz/fuzz_util.h"
#include "orchestrator/findings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  auto doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  (void)orch::targets_from_finding(doc, "fuzz");
  return 0;
}
