// ARNs: in findings, in IAM paths an adversary chooses, in settings and plans. The Arn type's own
// contract (aws/arn.h): whatever parse_arn accepts, str() prints back as the same text, parses
// again to the same fields, and the builders given those fields print the same ARN.
#include "aws/arn.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace containctl;
  using namespace containctl::aws;
  std::string text = fuzz::as_string(data, size);
  auto arn = parse_arn(text);
  if (!arn.ok()) return 0;
  const std::string printed = arn->str();
  FUZZ_CHECK(printed == text, printed);
  auto again = parse_arn(printed);
  FUZZ_CHECK(again.ok(), again.ok() ? "" : again.error().message);
  FUZZ_CHECK(again->kind == arn->kind && again->partition == arn->partition && again->service == arn->service &&
                 again->region == arn->region && again->account == arn->account && again->path == arn->path &&
                 again->name == arn->name && again->session == arn->session && again->key == arn->key &&
                 again->resource == arn->resource,
             printed);
  FUZZ_CHECK(printed.size() > arn->resource_text().size() &&
                 printed.compare(printed.size() - arn->resource_text().size(), std::string::npos,
                                 arn->resource_text()) == 0,
             printed);
  Result<Arn> built = Error::invalid("no builder");
  switch (arn->kind) {
    case ArnKind::kIamUser:
    case ArnKind::kIamRole:
      if (arn->account != "aws") built = iam_arn(arn->partition, arn->account, arn->kind, arn->name, arn->path);
      FUZZ_CHECK(same_iam_entity(*arn, *arn), printed);
      break;
    case ArnKind::kEc2Instance:
      built = ec2_instance_arn(arn->partition, arn->region, arn->account, arn->name);
      break;
    case ArnKind::kS3Bucket:
      built = s3_arn(arn->partition, arn->name);
      break;
    case ArnKind::kS3Object:
      built = s3_arn(arn->partition, arn->name, arn->key);
      break;
    default:
      break;
  }
  if (built.ok()) FUZZ_CHECK(built->str() == printed, built->str() + " != " + printed);
  (void)principal_of(*arn).str();
  return 0;
}
