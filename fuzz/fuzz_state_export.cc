// The state export file (`state import`): runs, steps and before-states that responders pass
// between machines and backends, the journal in text. Whatever it reads, it writes back the same:
// a run that imports, exported again and imported again, is the same run.
#include "fuzz/fuzz_util.h"
#include "orchestrator/state_export.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  auto runs = orch::parse_state_export(fuzz::as_string(data, size), "fuzz");
  if (!runs.ok()) return 0;
  nlohmann::json again = nlohmann::json::array();
  for (const auto& r : *runs) again.push_back(orch::exported_run_json(r));
  std::string text = nlohmann::json{{"format", orch::kStateExportFormat}, {"runs", again}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto back = orch::parse_state_export(text, "fuzz");
  FUZZ_CHECK(back.ok(), back.ok() ? "" : back.error().message);
  FUZZ_CHECK(back->size() == runs->size(), text);
  for (size_t i = 0; i < runs->size(); ++i)
    FUZZ_CHECK(orch::exported_run_json((*back)[i]) == again[i], text);
  return 0;
}
