#include "aws/assume_role.h"

#include <regex>

#include "aws/credential_cache.h"

namespace containctl::aws {

Result<Credentials> assume_role(AwsClient& source, const AssumeRoleParams& p) {
  // Checked here rather than left to STS, so a typo is named before any call is made.
  static const std::regex kRoleArn("^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$");
  if (!std::regex_match(p.role_arn, kRoleArn))
    return Error::invalid("'" + p.role_arn + "' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
                          "InvalidRoleArn");
  if (p.duration_seconds < 900 || p.duration_seconds > 43200)
    return Error::invalid(
        "AssumeRole " + p.role_arn + ": duration " + std::to_string(p.duration_seconds) + " s is outside 900-43200",
        "InvalidDuration");
  Params params{{"RoleArn", p.role_arn},
                {"RoleSessionName", p.session_name},
                {"DurationSeconds", std::to_string(p.duration_seconds)}};
  if (!p.external_id.empty()) params.push_back({"ExternalId", p.external_id});
  auto r = source.query("sts", p.region.empty() ? "us-east-1" : p.region, "AssumeRole", params);
  if (!r.ok()) {
    Error e = r.error();
    e.message = "assuming " + p.role_arn + ": " + e.message;
    return e;
  }
  Credentials c;
  c.access_key_id = xml_text(r->root(), "AccessKeyId");
  c.secret_access_key = xml_text(r->root(), "SecretAccessKey");
  c.session_token = xml_text(r->root(), "SessionToken");
  TimePoint exp;
  if (parse_time(xml_text(r->root(), "Expiration"), exp)) c.expiration = exp;
  c.source = "assume-role:" + p.role_arn;
  if (c.empty() || c.session_token.empty())
    return Error{ErrorKind::kParse, "UnparseableResponse", "AssumeRole " + p.role_arn + " returned no credentials"};
  return c;
}

AssumeRoleProvider::AssumeRoleProvider(std::shared_ptr<AwsClient> source, AssumeRoleParams params)
    : source_(std::move(source)), params_(std::move(params)) {}

Result<Credentials> AssumeRoleProvider::credentials() {
  std::lock_guard lock(mu_);
  // Refreshed five minutes early, as the SDKs do, so a long run never signs with a dead token.
  return refresh_cached(
      cached_, *source_->config().clock, [this] { return assume_role(*source_, params_); },
      "AssumeRole " + params_.role_arn);
}

}  // namespace containctl::aws
