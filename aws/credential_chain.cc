#include "aws/credential_chain.h"

#include <cstdlib>

namespace containctl::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Result<std::shared_ptr<CredentialsProvider>> default_credentials_provider(const ChainOptions& options) {
  Credentials c;
  c.access_key_id = env("AWS_ACCESS_KEY_ID");
  c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  c.session_token = env("AWS_SESSION_TOKEN");
  c.source = "environment";
  if (!c.empty()) return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(c));
  return Error{ErrorKind::kAuth, "NoCredentials",
               "no AWS credentials found (tried: environment AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"};
}

std::string resolve_region(const std::string& cli_region, const std::string& profile) {
  if (!cli_region.empty()) return cli_region;
  if (auto r = env("AWS_REGION"); !r.empty()) return r;
  if (auto r = env("AWS_DEFAULT_REGION"); !r.empty()) return r;
  return "us-east-1";
}

}  // namespace containctl::aws
