// Approval files passed between responders (and their issued_at / expires_at times).
#include "approvals/approval.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  auto doc = nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  auto a = approvals::approval_from_json(doc, "fuzz");
  if (!a.ok()) return 0;
  auto again = approvals::approval_from_json(approvals::to_json(*a), "fuzz");
  FUZZ_CHECK(again.ok(), approvals::to_json(*a).dump());
  FUZZ_CHECK(again->plan_hash == a->plan_hash && again->signature == a->signature, a->plan_hash);
  return 0;
}
