// The audit log as found after a crash or an edit: verify and read must report, never crash.
#include "fuzz/fuzz_util.h"
#include "orchestrator/audit_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  static fuzz::ScratchFile file("audit");
  const std::string& path = file.write(data, size);
  (void)orch::verify_audit_log(path);
  (void)orch::read_audit_log(path);
  return 0;
}
