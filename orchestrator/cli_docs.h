// The man page and the shell completions, generated from the CLI11 command tree that parses the
// command line (the one `--help` prints), so none of them can list a command or an option the
// binary does not have. Hidden commands and options (empty group) are left out.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace containctl::orch {

// containctl(1) in roff (man(7) macros): every visible command and option, the exit codes, the
// environment and the files.
std::string man_page(const CLI::App& root);

// Completion scripts: commands, options, and the values of options that take a fixed set.
// bash: for share/bash-completion/completions/containctl. zsh: share/zsh/vendor-completions/_containctl.
std::string bash_completion(const CLI::App& root);
std::string zsh_completion(const CLI::App& root);

}  // namespace containctl::orch
