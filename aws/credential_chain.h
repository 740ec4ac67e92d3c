// The default credential chain, resolved the way the AWS CLI does: environment; shared config and
// credentials files (profiles, role_arn + source_profile, credential_process); ECS container
// credentials; EC2 instance metadata (IMDSv2).
#pragma once

#include <memory>
#include <string>

#include "aws/clock.h"
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
};

// The first provider in the chain that has credentials; errors name what was tried.
Result<std::shared_ptr<CredentialsProvider>> default_credentials_provider(const ChainOptions& options);

// --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1.
std::string resolve_region(const std::string& cli_region, const std::string& profile);

}  // namespace containctl::aws
