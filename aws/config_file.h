// The shared AWS config and credentials files (~/.aws/config, ~/.aws/credentials), parsed the way
// the AWS CLI and SDKs read them: `[profile x]` sections in the config file, `[x]` in the
// credentials file, `[services x]` sections, full-line comments (# or ;), inline comments after
// whitespace, continuation lines and nested sub-properties (`s3 =` followed by indented lines).
// Keys are case-insensitive (lower-cased), profile names are not.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "aws/result.h"

namespace containctl::aws {

struct Profile {
  std::string name;
  std::map<std::string, std::string> values;                         // key -> value
  std::map<std::string, std::map<std::string, std::string>> nested;  // "s3" -> {addressing_style: path}
  std::string origin;  // "FILE line N" of the first section header that defined it (for messages)

  // Value of `key`, or empty when absent.
  std::string get(const std::string& key) const;
  bool has(const std::string& key) const { return values.count(key) > 0; }
};

struct SharedConfig {
  std::string config_path;       // as resolved (may not exist)
  std::string credentials_path;  // as resolved (may not exist)
  bool config_exists = false;
  bool credentials_exists = false;
  // Profiles from both files; for a key present in both, the credentials file wins (as botocore).
  std::map<std::string, Profile> profiles;
  // `[services name]` sections of the config file: name -> service key -> {endpoint_url: ...}.
  std::map<std::string, std::map<std::string, std::map<std::string, std::string>>> services;
  // Sections that look like a profile written the other file's way ("[dev]" in the config file,
  // "[profile dev]" in the credentials file): profile name -> "FILE line N: [section]". Both are
  // skipped as the SDKs skip them; kept to explain a "profile not found".
  std::map<std::string, std::string> misplaced;

  const Profile* profile(const std::string& name) const;
};

enum class ConfigFileKind { kConfig, kCredentials };

// Parses one file's text; `path` only names the file in errors ("PATH line N: ..."). Values are
// never quoted in errors, since a credentials file holds secrets.
Status parse_config_text(const std::string& text, const std::string& path, ConfigFileKind kind, SharedConfig& into);

// AWS_CONFIG_FILE (default ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (default
// ~/.aws/credentials), with a leading ~ expanded. A missing file is not an error; an unreadable
// one or bad syntax is, naming the file and line.
Result<SharedConfig> load_shared_config();
Result<SharedConfig> load_shared_config(const std::string& config_path, const std::string& credentials_path);

// Path helpers used by load_shared_config.
std::string default_config_path();
std::string default_credentials_path();
std::string expand_home(const std::string& path);

}  // namespace containctl::aws
