// The default credential chain, resolved the way the AWS CLI does: environment; shared config and
// credentials files (profiles, role_arn + source_profile, credential_process); ECS container
// credentials; EC2 instance metadata (IMDSv2).
#pragma once

#include <memory>
#include <string>

#include "aws/clock.h"
#include "aws/credential_process.h"
#include "aws/credentials.h"
#include "aws/endpoints.h"
#include "aws/http.h"

namespace containctl::aws {

struct ChainOptions {
  std::string profile;                       // --profile, else AWS_PROFILE, else "default"
  std::string region;                        // for STS calls the chain itself makes
  std::shared_ptr<HttpTransport> transport;  // for STS, container and metadata endpoints
  Clock* clock = &SystemClock::instance();
  EndpointOverrides endpoints;
  // Container and instance-metadata calls; null: a transport with 1 s/2 s timeouts.
  std::shared_ptr<HttpTransport> metadata_transport;
  ProcessOptions process;  // credential_process timeout and output limit
};

// The first provider in the chain that has credentials; errors name what was tried.
//
// Order, as botocore: environment keys (skipped when a profile was given with --profile, i.e.
// `options.profile` differs from AWS_PROFILE); then the profile: role_arn (AssumeRole from
// source_profile, chained, or credential_source), static keys, credential_process; then container
// credentials; then instance metadata. A named profile that does not exist, a file with bad syntax,
// a source_profile cycle and a failing credential_process or container endpoint are errors, not
// reasons to try the next source. AssumeRole is called on first use; credential_process, container
// and metadata are called here so a broken source is reported at start-up.
Result<std::shared_ptr<CredentialsProvider>> default_credentials_provider(const ChainOptions& options);

// options.profile, else AWS_PROFILE, else "default".
std::string resolve_profile_name(const std::string& profile);

// --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1.
std::string resolve_region(const std::string& cli_region, const std::string& profile);

}  // namespace containctl::aws
