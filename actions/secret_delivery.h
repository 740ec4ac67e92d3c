// Delivering secrets the IAM families create (a new access key's secret, a regenerated console
// password) to exactly one place the responder chose: a NEW 0600 file, or a Secrets Manager secret.
// Nothing here logs, returns or puts in an error message the secret itself.
#pragma once

#include <string>
#include <string_view>

#include "actions/action.h"

namespace containctl::actions::iam {

// Creates `path` with mode 0600 holding `content`. Never overwrites: the content goes to a private
// temporary file first, which is then hard-linked to `path` (fails when `path` exists), so `path`
// never holds partial content. Errors name the path, never the content.
Status write_new_secret_file(const std::string& path, std::string_view content);

// Plan-time check of an output path: absolute form, parent exists, the file does not.
Result<std::string> check_new_secret_path(const std::string& path, const std::string& option_name);

// True when `path` exists and contains `needle` (e.g. the key id a delivery file was written for).
bool file_mentions(const std::string& path, const std::string& needle);

// A random password (OpenSSL DRBG) with upper- and lower-case letters, digits and symbols, long
// enough for any IAM account password policy.
std::string generate_password(size_t length = 32);

// Overwrites the string's bytes before it is released.
void wipe(std::string& s);

// Where a generated console password goes when --option iam.password_out is not given: a new file
// under <state dir>/secrets/. The state dir is --option state_dir when the orchestrator passes it,
// else $CONTAINCTL_STATE_DIR, $XDG_STATE_HOME/containctl, ~/.local/state/containctl (CLI-CONTRACT).
Result<std::string> default_password_path(const Options& options, const std::string& user, const std::string& run_id);

// Secrets Manager delivery of a new access key ({"AccessKeyId","SecretAccessKey","UserName"} JSON).
// The description names the key id (not secret), so apply and rollback can recognise their own secret.
std::string secret_description(const std::string& user, const std::string& key_id, const std::string& run_id);
// {"exists": bool, "description": "...", "arn": "..."}
Result<json> describe_secret(Context& ctx, const std::string& region, const std::string& name);
// Returns the secret's ARN. `token` is the ClientRequestToken (32-64 characters), derived from the
// run and step (aws::uuid_token), never random: the client's retry after a lost answer, and a
// resumed step, re-send it, and Secrets Manager answers with the version the first request stored.
Result<std::string> create_secret(Context& ctx, const std::string& region, const std::string& name,
                                  const std::string& description, const std::string& secret_string,
                                  const std::string& token);
// Deletes immediately (no recovery window): the key it held is deleted too. Missing counts as done.
Status delete_secret(Context& ctx, const std::string& region, const std::string& name);

}  // namespace containctl::actions::iam
