// Containment settings (the file a broken deploy or a tired responder may leave half-written).
#include "fuzz/fuzz_util.h"
#include "orchestrator/settings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  static fuzz::ScratchFile file("settings");
  (void)orch::load_settings(file.write(data, size));
  return 0;
}
