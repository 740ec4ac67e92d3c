// Findings: GuardDuty and Security Hub documents, which anyone allowed to import findings writes.
// The text goes through findings_from_text, the function `targets` and `plan --finding` call (the
// harness once parsed the JSON itself and so never met a number beyond a double, which ended the
// product: 30d0b2d's bug class, in findings).
#include "fuzz/fuzz_util.h"
#include "orchestrator/findings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  (void)orch::findings_from_text(fuzz::as_string(data, size), "fuzz");
  return 0;
}
