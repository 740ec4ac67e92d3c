// credential_process: an external command that prints credentials as JSON (Version 1).
//
// The command is split into words the way a POSIX shell splits them (whitespace separates words;
// '...' is literal; "..." allows \" \\ \$ \` escapes; a backslash outside quotes escapes the next
// character) and then run directly with execvp, never through /bin/sh: no variable expansion, no
// globbing, no pipes, no `;` or `&&`. This matches what botocore does with shlex.split + Popen,
// and means a value in the config file cannot smuggle in a second command.
//
// The child gets /dev/null as stdin and our stderr (so its diagnostics reach the user directly and
// never pass through our messages or logs); its stdout is read by us and is never echoed.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "aws/clock.h"
#include "aws/credentials.h"

namespace containctl::aws {

struct ProcessOptions {
  std::chrono::milliseconds timeout{60000};  // the process is killed (its whole group) after this
  size_t max_output = 64 * 1024;
};

// Shell-like word splitting without expansions. Errors: unterminated quote, trailing backslash,
// empty command.
Result<std::vector<std::string>> split_command(const std::string& command);

// Validates what a credential_process command printed (Version 1 JSON). `profile` names the source
// in errors; no error ever quotes the output.
Result<Credentials> parse_credential_process_output(const std::string& out, const std::string& profile,
                                                    const Clock& clock);

// Runs the command once and validates its answer. `profile` names the source in errors.
Result<Credentials> run_credential_process(const std::string& command, const std::string& profile, const Clock& clock,
                                           const ProcessOptions& options = {});

// A provider that runs the command when it has no credentials or they are about to expire.
std::shared_ptr<CredentialsProvider> make_credential_process_provider(const std::string& command,
                                                                      const std::string& profile, Clock* clock,
                                                                      const ProcessOptions& options = {});

}  // namespace containctl::aws
