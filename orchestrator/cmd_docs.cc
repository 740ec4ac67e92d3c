// `containctl debug man` and `containctl debug completion bash|zsh` (hidden): print, or write with
// -o, the man page and completions generated from this binary's own command tree. The build runs
// them (packaging/install.cmake), so the installed files always match the installed binary.
#include <fstream>
#include <iostream>
#include <memory>

#include "orchestrator/cli_common.h"
#include "orchestrator/cli_docs.h"

namespace containctl::orch {
namespace {

int emit(const GlobalOptions& g, const std::string& text, const std::string& out) {
  if (out.empty()) {
    std::cout << text;
    std::cout.flush();
    return kExitOk;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return report_error(g, Error::io("cannot write " + out));
  return kExitOk;
}

}  // namespace

void add_docs_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  CLI::App* debug = nullptr;
  try {
    debug = app.get_subcommand("debug");
  } catch (const CLI::OptionNotFound&) {
    debug = app.add_subcommand("debug", "diagnostics");
    debug->require_subcommand(1);
  }
  const CLI::App* root = &app;

  auto man_out = std::make_shared<std::string>();
  CLI::App* man = debug->add_subcommand("man", "print the containctl(1) man page (roff)");
  man->group("");  // hidden: a build step, not a user command
  man->add_option("-o,--out", *man_out, "write to this file instead of stdout");
  man->callback([&g, &rc, root, man_out] { rc = emit(g, man_page(*root), *man_out); });

  auto shell = std::make_shared<std::string>();
  auto comp_out = std::make_shared<std::string>();
  CLI::App* comp = debug->add_subcommand("completion", "print the bash or zsh completion script");
  comp->group("");
  comp->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  comp->add_option("-o,--out", *comp_out, "write to this file instead of stdout");
  comp->callback([&g, &rc, root, shell, comp_out] {
    rc = emit(g, *shell == "bash" ? bash_completion(*root) : zsh_completion(*root), *comp_out);
  });
}

}  // namespace containctl::orch
