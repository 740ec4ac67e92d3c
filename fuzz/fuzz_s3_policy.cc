// Bucket policies as S3 hands them back (written by whoever could write the bucket's policy), and
// object keys (any bytes) put into containctl's own statement.
// Invariant: a policy with our statement added parses and holds that statement.
#include "actions/s3_policy.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl::actions;
  if (size < 1) return 0;
  size_t split = data[0] % (size);
  std::string key(reinterpret_cast<const char*>(data + 1), split > 0 ? split - 1 : 0);
  std::string policy(reinterpret_cast<const char*>(data + split), size - split);
  (void)s3::supports_policy_variables(policy);
  auto parsed = s3::parse_policy(policy);
  s3::ordered_json statement = {{"Sid", "ContainctlFuzz"}, {"Effect", "Deny"}, {"Principal", "*"},
                                {"Action", "s3:*"}, {"Resource", s3::resource_key(key, false)}};
  auto merged = s3::with_statement(policy, statement);
  if (!merged.ok()) return 0;
  auto back = s3::parse_policy(*merged);
  FUZZ_CHECK(back.ok(), *merged);
  FUZZ_CHECK(s3::same_json(s3::find_statement(*back, "ContainctlFuzz"), statement), *merged);
  (void)parsed;
  return 0;
}
