// Plan files passed between responders. Invariant: a plan that loads re-serialises to the same
// hash (load -> entries -> steps -> json -> hash is stable).
#include "fuzz/fuzz_util.h"
#include "orchestrator/plan_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  static fuzz::ScratchFile file("plan");
  // The entries are parsed again without the hash check too, so mutations reach past it.
  auto doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (!doc.is_discarded()) (void)orch::plan_entries(doc);
  auto plan = orch::load_plan(file.write(data, size));
  if (!plan.ok()) return 0;
  auto entries = orch::plan_entries(*plan);
  if (!entries.ok()) return 0;
  for (const auto& e : *entries)
    for (const auto& step : e.steps) {
      auto j = orch::step_to_json(step);
      auto back = orch::step_from_json(j, "fuzz");
      FUZZ_CHECK(back.ok(), j.dump());
      FUZZ_CHECK(orch::step_to_json(*back) == j, j.dump());
    }
  std::string h1 = orch::compute_plan_hash(*plan);
  auto reparsed = nlohmann::json::parse(plan->dump());
  FUZZ_CHECK(orch::compute_plan_hash(reparsed) == h1, h1);
  return 0;
}
