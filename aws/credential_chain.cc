#include "aws/credential_chain.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>

#include "aws/arn.h"
#include "aws/assume_role.h"
#include "aws/config_file.h"
#include "aws/curl_transport.h"
#include "aws/metadata_credentials.h"

namespace containctl::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Error config_error(const std::string& message, const std::string& code = "InvalidProfile") {
  return Error::invalid(message, code);
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

using ProviderPtr = std::shared_ptr<CredentialsProvider>;

class Resolver {
 public:
  Resolver(const ChainOptions& options, const SharedConfig& config) : opts_(options), cfg_(config) {}

  std::string files() const { return cfg_.config_path + " or " + cfg_.credentials_path; }

  Error profile_not_found(const std::string& name) const {
    std::string msg = "profile '" + name + "' not found in " + files();
    if (auto it = cfg_.misplaced.find(name); it != cfg_.misplaced.end()) msg += " (" + it->second + ")";
    return config_error(msg, "ProfileNotFound");
  }

  // Credentials of profile `name`, or null when it has none. `path` holds the profiles whose
  // role_arn led here, to detect source_profile cycles.
  Result<ProviderPtr> profile(const std::string& name, std::vector<std::string> path) {
    const Profile* p = cfg_.profile(name);
    if (!p) return profile_not_found(name);
    if (p->has("role_arn")) return assume_role_profile(*p, std::move(path));
    CC_ASSIGN(ProviderPtr keys, static_keys(*p));
    if (keys) return keys;
    if (std::string cmd = p->get("credential_process"); !cmd.empty())
      return make_credential_process_provider(cmd, name, opts_.clock, opts_.process);
    for (const char* key : {"sso_session", "sso_start_url", "web_identity_token_file"}) {
      if (p->has(key))
        return config_error("profile '" + name + "' uses " + key +
                                ", which containctl does not support; use credential_process = aws configure "
                                "export-credentials --profile " +
                                name + " --format process",
                            "UnsupportedProfile");
    }
    return ProviderPtr();
  }

  ProviderPtr container_or_null(Result<ContainerEndpoint>& ep) {
    ep = container_endpoint_from_environment();
    if (!ep.ok() || ep->url.empty()) return nullptr;
    return make_container_provider(*ep, metadata_transport(), opts_.clock);
  }

  std::shared_ptr<HttpTransport> metadata_transport() {
    if (!opts_.metadata_transport) opts_.metadata_transport = make_metadata_transport();
    return opts_.metadata_transport;
  }

 private:
  Result<ProviderPtr> static_keys(const Profile& p) {
    std::string ak = p.get("aws_access_key_id");
    std::string sk = p.get("aws_secret_access_key");
    if (ak.empty() && sk.empty()) return ProviderPtr();
    if (ak.empty() || sk.empty())
      return config_error("profile '" + p.name + "' has " +
                              (ak.empty() ? "aws_secret_access_key" : "aws_access_key_id") + " but no " +
                              (ak.empty() ? "aws_access_key_id" : "aws_secret_access_key"),
                          "PartialCredentials");
    Credentials c;
    c.access_key_id = ak;
    c.secret_access_key = sk;
    c.session_token = p.has("aws_session_token") ? p.get("aws_session_token") : p.get("aws_security_token");
    c.source = "profile:" + p.name;
    return ProviderPtr(std::make_shared<StaticCredentialsProvider>(c));
  }

  Result<ProviderPtr> credential_source(const Profile& p) {
    std::string src = p.get("credential_source");
    if (src == "Environment") {
      Credentials c;
      c.access_key_id = env("AWS_ACCESS_KEY_ID");
      c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
      c.session_token = env("AWS_SESSION_TOKEN");
      c.source = "environment";
      if (c.empty())
        return config_error(
            "profile '" + p.name +
            "' has credential_source = Environment but AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set");
      return ProviderPtr(std::make_shared<StaticCredentialsProvider>(c));
    }
    if (src == "Ec2InstanceMetadata")
      return make_imds_provider(imds_config_from_environment(), metadata_transport(), opts_.clock);
    if (src == "EcsContainer") {
      Result<ContainerEndpoint> ep = ContainerEndpoint{};
      ProviderPtr prov = container_or_null(ep);
      if (!ep.ok()) return ep.error();
      if (!prov)
        return config_error("profile '" + p.name +
                            "' has credential_source = EcsContainer but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/"
                            "FULL_URI are not set");
      return prov;
    }
    return config_error("profile '" + p.name + "' has unsupported credential_source '" + src +
                        "' (expected Environment, Ec2InstanceMetadata or EcsContainer)");
  }

  Result<ProviderPtr> assume_role_profile(const Profile& p, std::vector<std::string> path) {
    if (std::find(path.begin(), path.end(), p.name) != path.end()) {
      path.push_back(p.name);
      return config_error("source_profile cycle: " + join(path, " -> "), "SourceProfileCycle");
    }
    path.push_back(p.name);
    const std::string what = "profile '" + p.name + "'";
    const bool has_source = p.has("source_profile"), has_cred_source = p.has("credential_source");
    if (has_source && has_cred_source)
      return config_error(what + " has both source_profile and credential_source; use one");
    if (p.has("mfa_serial"))
      return config_error(what +
                          " has mfa_serial: containctl never prompts for an MFA code; use a profile whose "
                          "source can assume the role without MFA, or credential_process");
    ProviderPtr source;
    if (has_source) {
      std::string src = p.get("source_profile");
      if (src.empty()) return config_error(what + " has an empty source_profile");
      if (src == p.name) {
        // A profile may hold the keys that assume its own role_arn (botocore allows it).
        CC_ASSIGN(source, static_keys(p));
        if (!source) return config_error(what + " is its own source_profile but has no aws_access_key_id");
      } else {
        if (!cfg_.profile(src))
          return config_error(what + " names source_profile '" + src + "', which is not in " + files(),
                              "ProfileNotFound");
        CC_ASSIGN(source, profile(src, path));
        if (!source)
          return config_error("source_profile '" + src + "' of " + what +
                              " has no credentials (no keys, role_arn or credential_process)");
      }
    } else if (has_cred_source) {
      CC_ASSIGN(source, credential_source(p));
    } else {
      return config_error(what + " has role_arn but neither source_profile nor credential_source" +
                          (p.has("web_identity_token_file") ? " (web_identity_token_file is not supported)" : ""));
    }

    AssumeRoleParams params;
    params.role_arn = p.get("role_arn");
    if (auto role = parse_arn(params.role_arn); !role.ok() || role->kind != ArnKind::kIamRole)
      return config_error(what + " has role_arn '" + params.role_arn + "', which is not an IAM role ARN");
    params.external_id = p.get("external_id");
    if (std::string n = p.get("role_session_name"); !n.empty()) params.session_name = n;
    if (std::string d = p.get("duration_seconds"); !d.empty()) {
      int v = 0;
      bool digits = d.size() <= 6 && std::all_of(d.begin(), d.end(), ::isdigit);
      if (digits) v = std::stoi(d);
      if (!digits || v < 900 || v > 43200)
        return config_error(what + " has duration_seconds '" + d + "' (expected 900 to 43200)");
      params.duration_seconds = v;
    }
    params.region = opts_.region.empty() ? "us-east-1" : opts_.region;

    ClientConfig cc;
    cc.transport = opts_.transport ? opts_.transport : std::make_shared<CurlTransport>();
    cc.clock = opts_.clock;
    cc.credentials = source;
    cc.endpoints = opts_.endpoints;
    spdlog::debug("{}: AssumeRole {} (source {})", what, params.role_arn,
                  has_source ? "profile " + p.get("source_profile") : p.get("credential_source"));
    return ProviderPtr(std::make_shared<AssumeRoleProvider>(std::make_shared<AwsClient>(cc), params));
  }

  ChainOptions opts_;
  const SharedConfig& cfg_;
};

}  // namespace

std::string resolve_profile_name(const std::string& profile) {
  if (!profile.empty()) return profile;
  if (auto p = env("AWS_PROFILE"); !p.empty()) return p;
  return "default";
}

Result<std::shared_ptr<CredentialsProvider>> default_credentials_provider(const ChainOptions& options) {
  // A file with bad syntax is an error even when the environment has keys, as the AWS CLI does:
  // the user should learn about it before it silently changes which profile is used.
  CC_ASSIGN(SharedConfig cfg, load_shared_config());
  const std::string name = resolve_profile_name(options.profile);
  const bool profile_from_cli = !options.profile.empty() && options.profile != env("AWS_PROFILE");
  std::vector<std::string> tried;

  if (!profile_from_cli) {
    Credentials c;
    c.access_key_id = env("AWS_ACCESS_KEY_ID");
    c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
    c.session_token = env("AWS_SESSION_TOKEN");
    if (c.session_token.empty()) c.session_token = env("AWS_SECURITY_TOKEN");
    c.source = "environment";
    if (!c.access_key_id.empty() && !c.secret_access_key.empty()) {
      spdlog::debug("credentials: environment (access key {})", c.access_key_id);
      return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(c));
    }
    if (!c.access_key_id.empty() || !c.secret_access_key.empty())
      return Error::invalid(std::string(c.access_key_id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
                                " is set but " +
                                (c.access_key_id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") + " is not",
                            "PartialCredentials");
    tried.push_back("environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set)");
  }

  Resolver resolver(options, cfg);
  if (cfg.profile(name)) {
    CC_ASSIGN(std::shared_ptr<CredentialsProvider> p, resolver.profile(name, {}));
    if (p) {
      if (!cfg.profile(name)->has("role_arn") && cfg.profile(name)->has("credential_process") &&
          !cfg.profile(name)->has("aws_access_key_id")) {
        CC_TRY(p->credentials());  // run it now: a broken helper is reported at start-up
      }
      spdlog::debug("credentials: profile '{}'", name);
      return p;
    }
    tried.push_back("profile '" + name + "' (no keys, role_arn or credential_process)");
  } else if (name != "default") {
    return resolver.profile_not_found(name);
  } else {
    tried.push_back("profile 'default' (not in " + resolver.files() + ")");
  }

  Result<ContainerEndpoint> ep = ContainerEndpoint{};
  if (auto container = resolver.container_or_null(ep)) {
    CC_TRY(container->credentials());
    spdlog::debug("credentials: container endpoint");
    return container;
  }
  if (!ep.ok()) return ep.error();
  tried.push_back("container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set)");

  ImdsConfig imds = imds_config_from_environment();
  if (imds.disabled) {
    tried.push_back("instance metadata (disabled by AWS_EC2_METADATA_DISABLED)");
  } else {
    auto provider = make_imds_provider(imds, resolver.metadata_transport(), options.clock);
    auto c = provider->credentials();
    if (c.ok()) {
      spdlog::debug("credentials: instance metadata");
      return provider;
    }
    tried.push_back(c.error().message);
  }
  return Error{ErrorKind::kAuth, "NoCredentials", "no AWS credentials found; tried: " + join(tried, "; ")};
}

std::string resolve_region(const std::string& cli_region, const std::string& profile) {
  if (!cli_region.empty()) return cli_region;
  if (auto r = env("AWS_REGION"); !r.empty()) return r;
  if (auto r = env("AWS_DEFAULT_REGION"); !r.empty()) return r;
  // A broken config file is reported by the credential chain, which reads the same files.
  if (auto cfg = load_shared_config(); cfg.ok()) {
    if (const Profile* p = cfg->profile(resolve_profile_name(profile)); p && !p->get("region").empty())
      return p->get("region");
  }
  return "us-east-1";
}

}  // namespace containctl::aws
