// The man page and completions are generated from the command tree, and say what --help says:
// every command and option that --help lists (walked independently, command by command) is in
// containctl(1), with the exit codes; the bash and zsh completions complete them; --version names
// the commit.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "orchestrator/cli_common.h"
#include "tests/packaging/pkg_util.h"

namespace containctl::pkgtest {
namespace {

struct HelpNode {
  std::vector<std::string> subcommands;
  std::vector<std::string> options;  // long names with "--"
};

// Parses CLI11's help: "Options:" and "Subcommands:" sections, one entry per indented line.
HelpNode parse_help(const std::string& help) {
  HelpNode n;
  std::stringstream ss(help);
  std::string line, section;
  while (std::getline(ss, line)) {
    if (line == "Options:" || line == "Subcommands:" || line == "Positionals:") {
      section = line;
      continue;
    }
    if (line.size() < 3 || line.substr(0, 2) != "  " || line[2] == ' ') continue;
    std::string first = line.substr(2, line.find(' ', 2) - 2);
    if (section == "Subcommands:") n.subcommands.push_back(first);
    if (section == "Options:") {
      // "-o,--out TEXT" -> "--out"; "--version" -> "--version"
      size_t dd = first.find("--");
      if (dd != std::string::npos) n.options.push_back(first.substr(dd, first.find_first_of(" ,=", dd) - dd));
    }
  }
  return n;
}

// Every command path below the root, from `--help` of each.
void walk_help(const std::string& path, std::map<std::string, HelpNode>& out) {
  Cmd r = containctl(path + (path.empty() ? "" : " ") + "--help");
  ASSERT_EQ(r.code, 0) << path << ": " << r.out;
  HelpNode n = parse_help(r.out);
  out[path] = n;
  for (const auto& s : n.subcommands) walk_help(path.empty() ? s : path + " " + s, out);
}

std::string roff(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

// The text of one ".SS" section of the man page ("" if absent).
std::string man_section(const std::string& man, const std::string& path) {
  std::string head = ".SS \"" + roff("containctl " + path) + "\"\n";
  size_t b = man.find(head);
  if (b == std::string::npos) return "";
  size_t e = man.find("\n.S", b + head.size());
  return man.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

class Docs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { walk_help("", tree_); }
  static std::map<std::string, HelpNode> tree_;
};
std::map<std::string, HelpNode> Docs::tree_;

TEST_F(Docs, HelpWalkFindsTheKnownCommands) {
  // The walk itself must work, or the checks below would pass on nothing.
  for (const char* p : {"plan", "respond", "apply", "rollback", "status", "approve", "audit verify", "stackset generate",
                        "debug sign", "state init", "targets", "keys generate"})
    EXPECT_TRUE(tree_.count(p)) << p;
  EXPECT_GE(tree_.size(), 20u);
  EXPECT_FALSE(tree_.count("debug man")) << "the generator commands are hidden";
}

TEST_F(Docs, ManPageHasEveryCommandAndOptionThatHelpLists) {
  std::string man = slurp(build_dir() / "share/man/man1/containctl.1");
  ASSERT_FALSE(man.empty()) << "build the containctl_docs target";
  // The generated page is what the binary prints now.
  EXPECT_TRUE(man == containctl("debug man").out) << "the generated page is stale: rebuild containctl_docs";
  for (const auto& [path, node] : tree_) {
    SCOPED_TRACE(path);
    std::string section = path.empty() ? man.substr(man.find(".SH GLOBAL OPTIONS"), man.find(".SH COMMANDS") -
                                                                                        man.find(".SH GLOBAL OPTIONS"))
                                       : man_section(man, path);
    ASSERT_FALSE(section.empty()) << "no section for 'containctl " << path << "'";
    for (const auto& o : node.options) {
      if (o == "--help" && !path.empty()) continue;  // listed once, with the global options
      EXPECT_NE(section.find(roff(o)), std::string::npos) << o << " of '" << path << "' is not in the man page";
    }
    if (node.subcommands.empty() && !path.empty()) {
      EXPECT_NE(man.find(".B " + roff("containctl [GLOBAL OPTIONS] " + path)), std::string::npos)
          << "no SYNOPSIS line for " << path;
    }
  }
}

TEST_F(Docs, ManPageHasTheExitCodes) {
  std::string man = containctl("debug man").out;
  size_t b = man.find(".SH EXIT STATUS"), e = man.find(".SH ENVIRONMENT");
  ASSERT_NE(b, std::string::npos);
  std::string exits = man.substr(b, e - b);
  for (int code : {orch::kExitOk, orch::kExitError, orch::kExitUsage, orch::kExitRefused, orch::kExitPartial,
                   orch::kExitAudit})
    EXPECT_NE(exits.find(".TP\n.B " + std::to_string(code) + "\n"), std::string::npos) << code;
  EXPECT_NE(exits.find("refused by the containment settings"), std::string::npos);
  // man(1) renders it without warnings.
  fs::path dir = temp_dir("man");
  std::ofstream(dir / "containctl.1") << man;
  Cmd render = sh("MANWIDTH=100 man --warnings -l " + q((dir / "containctl.1").string()) + " >/dev/null");
  EXPECT_EQ(render.code, 0);
  EXPECT_EQ(render.out, "") << "man warnings";
  fs::remove_all(dir);
}

// What bash offers after `words` (the last one is being completed).
std::set<std::string> bash_complete(const std::vector<std::string>& words) {
  std::string arr;
  for (const auto& w : words) arr += " " + q(w);
  Cmd r = sh("bash -c " + q("source " + q((build_dir() / "share/bash-completion/completions/containctl").string()) +
                            "; COMP_WORDS=(" + arr + "); COMP_CWORD=" + std::to_string(words.size() - 1) +
                            "; _containctl; printf '%s\\n' \"${COMPREPLY[@]}\""));
  EXPECT_EQ(r.code, 0) << r.out;
  std::set<std::string> out;
  std::stringstream ss(r.out);
  for (std::string l; std::getline(ss, l);)
    if (!l.empty()) out.insert(l);
  return out;
}

// The same through the zsh script, with compadd/_files replaced by printers (outside a completion
// widget, `words` and `CURRENT` are plain variables).
std::set<std::string> zsh_complete(const std::vector<std::string>& words) {
  std::string arr;
  for (const auto& w : words) arr += " " + q(w);
  // compadd itself keeps only the candidates that start with the word typed ($PREFIX).
  Cmd r = sh("zsh -f -c " + q("compadd() { [[ $1 == -- ]] && shift; local x; for x in \"$@\"; do "
                              "[[ $x == ${PREFIX}* ]] && print -- $x; done; return 0; }; _files() { print FILES; }; "
                              "words=(" + arr + "); CURRENT=" + std::to_string(words.size()) +
                              "; PREFIX=${words[CURRENT]}; source " +
                              q((build_dir() / "share/zsh/vendor-completions/_containctl").string())));
  EXPECT_EQ(r.code, 0) << r.out;
  std::set<std::string> out;
  std::stringstream ss(r.out);
  for (std::string l; std::getline(ss, l);)
    if (!l.empty()) out.insert(l);
  return out;
}

TEST_F(Docs, CompletionsOfferEveryCommandAndOption) {
  using Set = std::set<std::string>;
  for (auto complete : {bash_complete, zsh_complete}) {
    for (const auto& [path, node] : tree_) {
      SCOPED_TRACE(path);
      std::vector<std::string> words = {"containctl"};
      std::stringstream ss(path);
      for (std::string w; ss >> w;) words.push_back(w);
      words.push_back("");
      Set got = complete(words);
      for (const auto& s : node.subcommands) EXPECT_TRUE(got.count(s)) << s;
      for (const auto& o : node.options) EXPECT_TRUE(got.count(o)) << o;
    }
    // Prefixes, options with values skipped, and fixed values offered.
    EXPECT_EQ(complete({"containctl", "stackset", "gen"}), (Set{"generate"}));
    EXPECT_EQ(complete({"containctl", "--output", "json", "stackset", "generate", "--format", ""}), (Set{"yaml", "json"}));
    EXPECT_EQ(complete({"containctl", "--region", "state", "st"}), (Set{"state", "status", "stackset"}))
        << "the value of --region is not a command";
    EXPECT_EQ(complete({"containctl", "--log-level", ""}), (Set{"trace", "debug", "info", "warn", "error"}));
  }
  EXPECT_EQ(zsh_complete({"containctl", "apply", "--approval", ""}), (Set{"FILES"}));
}

TEST(Version, PrintsTheVersionAndTheCommit) {
  Cmd v = containctl("--version");
  EXPECT_EQ(v.code, 0);
  Cmd head = sh("git -C " + q(CONTAINCTL_SOURCE_DIR) + " rev-parse --short=12 HEAD");
  ASSERT_EQ(head.code, 0) << head.out;
  std::string commit = head.out.substr(0, head.out.find('\n'));
  ASSERT_EQ(commit.size(), 12u);
  EXPECT_EQ(v.out.rfind("containctl " CONTAINCTL_VERSION_FOR_TEST " (commit " + commit, 0), 0u) << v.out;
}

TEST(Version, ATreeWithoutGitStillGetsAHeader) {
  fs::path dir = temp_dir("buildinfo");
  fs::create_directories(dir / "src");  // no .git here
  fs::path out = dir / "info.h";
  Cmd r = sh("cmake -DSRC=" + q((dir / "src").string()) + " -DOUT=" + q(out.string()) +
             " -DVERSION=9.8.7 -P " + q(CONTAINCTL_SOURCE_DIR "/cmake/build_info.cmake"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::string h = slurp(out);
  EXPECT_NE(h.find("#define CONTAINCTL_VERSION \"9.8.7\""), std::string::npos) << h;
  EXPECT_NE(h.find("#define CONTAINCTL_GIT_COMMIT \"unknown\""), std::string::npos) << h;
  // A commit given at configure time (-DCONTAINCTL_GIT_COMMIT) is used as is, sanitised.
  r = sh("cmake -DSRC=" + q((dir / "src").string()) + " -DOUT=" + q(out.string()) +
         " -DVERSION=9.8.7 '-DCOMMIT=abc123\"; rm -rf /' -P " + q(CONTAINCTL_SOURCE_DIR "/cmake/build_info.cmake"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(slurp(out).find("#define CONTAINCTL_GIT_COMMIT \"abc123rm-rf\""), std::string::npos)
      << slurp(out);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace containctl::pkgtest
