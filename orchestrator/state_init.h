// `state init`: creates the team store (the DynamoDB table and the S3 bucket) or checks what is
// there. Idempotent: what exists is kept and reported as such; what is missing is made.
#pragma once

#include <string>
#include <vector>

#include "aws/client.h"
#include "orchestrator/settings.h"

namespace containctl::orch {

struct InitStep {
  std::string what;    // "dynamodb table containctl-state"
  std::string result;  // "created", "present", "enabled", ...
};

// The table: pk/sk strings, on-demand billing, point-in-time recovery. The bucket: versioned,
// encrypted (SSE-S3 by default, SSE-KMS with `kms_key`), every public access blocked, and with
// `object_lock` Object Lock enabled (it cannot be turned off again).
Result<std::vector<InitStep>> init_team_store(aws::AwsClient& client, const StateSettings& state, bool object_lock,
                                              const std::string& kms_key);

// Whether the bucket has Object Lock enabled (audit checkpoints are written under retention then).
Result<bool> bucket_object_lock(aws::AwsClient& client, const StateSettings& state);

}  // namespace containctl::orch
