// Credentials from the machine: ECS/EKS container credentials and EC2 instance metadata (IMDSv2).
//
// Container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against http://169.254.170.2) or
// AWS_CONTAINER_CREDENTIALS_FULL_URI, which over plain http must name a loopback address, the ECS
// host 169.254.170.2 or the EKS Pod Identity host (169.254.170.23, fd00:ec2::23), as the SDKs
// require; the Authorization header comes from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read on
// every refresh, since EKS rotates it) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
//
// Instance metadata: PUT /latest/api/token (TTL header), then GET
// /latest/meta-data/iam/security-credentials/ and /<role> with the token. The endpoint is
// AWS_EC2_METADATA_SERVICE_ENDPOINT (or the IPv6 one with AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6),
// else http://169.254.169.254; AWS_EC2_METADATA_DISABLED=true skips it. A token refusal of 403/404/405
// falls back to IMDSv1 unless AWS_EC2_METADATA_V1_DISABLED=true.
#pragma once

#include <memory>
#include <string>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/http.h"

namespace containctl::aws {

// A transport with the short timeouts metadata endpoints need (1 s connect, 2 s total), so a
// machine without them fails fast.
std::shared_ptr<HttpTransport> make_metadata_transport();

struct ContainerEndpoint {
  std::string url;
  std::string token;       // literal token (AWS_CONTAINER_AUTHORIZATION_TOKEN), never logged
  std::string token_file;  // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; wins over `token`
};

// From the environment: nullopt-like empty url when neither URI variable is set; an error when
// FULL_URI is malformed or names a host the SDKs would refuse.
// The credentials document both services answer with (AccessKeyId, SecretAccessKey, Token,
// Expiration, optional Code). `where` names the source in errors; never quotes a value.
Result<Credentials> parse_credentials_document(const std::string& body, const std::string& where,
                                               const std::string& source);

Result<ContainerEndpoint> container_endpoint_from_environment();
Result<Credentials> fetch_container_credentials(const ContainerEndpoint& endpoint, HttpTransport& transport);
std::shared_ptr<CredentialsProvider> make_container_provider(ContainerEndpoint endpoint,
                                                             std::shared_ptr<HttpTransport> transport, Clock* clock);

struct ImdsConfig {
  std::string endpoint = "http://169.254.169.254";
  bool disabled = false;
  bool v1_disabled = false;
};
ImdsConfig imds_config_from_environment();
Result<Credentials> fetch_imds_credentials(const ImdsConfig& config, HttpTransport& transport);
std::shared_ptr<CredentialsProvider> make_imds_provider(ImdsConfig config, std::shared_ptr<HttpTransport> transport,
                                                        Clock* clock);

}  // namespace containctl::aws
