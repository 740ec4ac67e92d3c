// Where the settings text comes from. --settings / $CONTAINCTL_SETTINGS name a file (the default,
// <state-dir>/settings.json), an S3 object `s3://BUCKET/KEY` or an SSM parameter
// `ssm:PARAMETER_NAME` (a SecureString is decrypted). Every command reads its settings this way.
//
// The default file (<state-dir>/settings.json) that does not exist means "no settings" (mode
// none); a file named by --settings or $CONTAINCTL_SETTINGS that does not exist is an error. A remote source was named
// on purpose, so one that is missing, unreadable or not valid settings is an error naming it, and
// the command stops before it changes anything.
#pragma once

#include <memory>
#include <string>

#include "aws/client.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/session.h"
#include "orchestrator/settings.h"

namespace containctl::orch {

struct SettingsSource {
  enum class Kind { kFile, kS3, kSsm };
  Kind kind = Kind::kFile;
  std::string spec;       // as given; names the source in messages and in plans
  std::string path;       // kFile
  std::string bucket;     // kS3
  std::string key;        // kS3
  std::string parameter;  // kSsm: a name ("/containctl/settings" or "containctl-settings")
  bool remote() const { return kind != Kind::kFile; }
};

// "s3://BUCKET/KEY", "ssm:NAME" or a path. A malformed s3:// or ssm: spec is a usage error.
Result<SettingsSource> parse_settings_source(const std::string& spec);

// The text of a remote source: S3 GetObject, or SSM GetParameter with decryption. Errors name the
// source; the text is never logged (a SecureString may hold more than settings).
Result<std::string> fetch_settings_text(const SettingsSource& source, aws::AwsClient& client,
                                        const std::string& region);

// The settings in force for a command (resolve_settings_path). A remote source needs the AWS
// session: it is opened into `session` (when still null) and left there for the caller to reuse.
// Settings text from S3 or SSM: approver key paths must be absolute.
Result<Settings> parse_remote_settings(const std::string& text, const std::string& spec);
Result<Settings> load_settings_for(const GlobalOptions& g, std::unique_ptr<Session>& session);

}  // namespace containctl::orch
