#include "orchestrator/settings_source.h"

#include <filesystem>
#include <regex>

namespace containctl::orch {
namespace {

Error bad_spec(const std::string& spec, const std::string& why) {
  return Error{ErrorKind::kUsage, "InvalidSettingsSource", "settings source '" + spec + "': " + why};
}

}  // namespace

Result<SettingsSource> parse_settings_source(const std::string& spec) {
  SettingsSource s;
  s.spec = spec;
  if (spec.rfind("s3://", 0) == 0) {
    s.kind = SettingsSource::Kind::kS3;
    std::string rest = spec.substr(5);
    size_t slash = rest.find('/');
    if (slash == std::string::npos || slash + 1 >= rest.size())
      return bad_spec(spec, "expected s3://BUCKET/KEY");
    s.bucket = rest.substr(0, slash);
    s.key = rest.substr(slash + 1);
    static const std::regex kBucket("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$");
    if (!std::regex_match(s.bucket, kBucket)) return bad_spec(spec, "'" + s.bucket + "' is not an S3 bucket name");
    return s;
  }
  if (spec.rfind("ssm:", 0) == 0) {
    s.kind = SettingsSource::Kind::kSsm;
    s.parameter = spec.substr(4);
    // SSM parameter names: letters, digits and _.-/ (a hierarchy starts with '/'), at most 2048.
    static const std::regex kName("^[A-Za-z0-9_./-]{1,2048}$");
    if (!std::regex_match(s.parameter, kName))
      return bad_spec(spec, "expected ssm:PARAMETER_NAME (letters, digits, _ . - /)");
    return s;
  }
  s.path = spec;
  return s;
}

Result<std::string> fetch_settings_text(const SettingsSource& src, aws::AwsClient& client, const std::string& region) {
  auto failed = [&](const Error& e) {
    Error out = e;
    out.message = "settings " + src.spec + ": cannot read it: " + e.message;
    return out;
  };
  if (src.kind == SettingsSource::Kind::kS3) {
    aws::RestRequest r;
    r.operation = "GetObject";
    r.bucket = src.bucket;
    r.key = src.key;
    auto resp = client.rest_xml("s3", region, r);
    if (!resp.ok()) return failed(resp.error());
    return resp->body;
  }
  if (src.kind == SettingsSource::Kind::kSsm) {
    auto resp = client.json("ssm", region, "AmazonSSM", "GetParameter",
                            {{"Name", src.parameter}, {"WithDecryption", true}});
    if (!resp.ok()) return failed(resp.error());
    const nlohmann::json param = resp->value("Parameter", nlohmann::json::object());
    if (!param.is_object() || !param.contains("Value") || !param["Value"].is_string())
      return Error{ErrorKind::kParse, "UnparseableResponse", "settings " + src.spec + ": GetParameter returned no value"};
    return param["Value"].get<std::string>();
  }
  return Error::invalid("settings " + src.spec + ": not a remote source");
}

Result<Settings> load_settings_for(const GlobalOptions& g, std::unique_ptr<Session>& session) {
  CC_ASSIGN(SettingsSource src, parse_settings_source(resolve_settings_path(g)));
  if (!src.remote()) {
    std::error_code ec;
    if (settings_named_explicitly(g) && !std::filesystem::exists(src.path, ec))
      return Error::invalid("settings " + src.path + ": no such file (named by " +
                                (g.settings.empty() ? "CONTAINCTL_SETTINGS" : "--settings") +
                                "); a settings file named on purpose must exist (only the default "
                                "<state-dir>/settings.json may be absent, which means mode none)",
                            "SettingsNotFound");
    return load_settings(src.path);
  }
  if (!session) { CC_ASSIGN(session, Session::open(g)); }
  CC_ASSIGN(std::string text, fetch_settings_text(src, session->client(), session->region()));
  return parse_remote_settings(text, src.spec);
}

Result<Settings> parse_remote_settings(const std::string& text, const std::string& spec) {
  CC_ASSIGN(Settings s, parse_settings(text, spec, ""));
  // No folder to be relative to: a relative key path would be read from wherever the command runs,
  // which whoever runs it chooses (their own key under the approver's name).
  for (const auto& [name, approver] : s.approvers)
    if (!std::filesystem::path(approver.public_key).is_absolute())
      return Error::invalid(spec + ": approvers." + name + ": public key path '" + approver.public_key +
                                "' must be absolute in settings read from S3 or SSM",
                            "InvalidSettings");
  return s;
}

}  // namespace containctl::orch
