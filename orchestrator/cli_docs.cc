#include "orchestrator/cli_docs.h"

#include <cctype>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include "orchestrator/cli_common.h"
#include "orchestrator/version.h"

namespace containctl::orch {
namespace {

bool visible(const CLI::App* a) { return !a->get_group().empty(); }
bool visible(const CLI::Option* o) { return !o->get_group().empty(); }

std::vector<const CLI::App*> children(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* a) { return visible(a); });
}
std::vector<const CLI::Option*> options_of(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return visible(o); });
}

// Depth-first: every visible command with its path below the root ("stackset generate").
void walk(const CLI::App& app, const std::string& path,
          const std::function<void(const CLI::App&, const std::string&)>& fn) {
  fn(app, path);
  for (const auto* c : children(app)) walk(*c, path.empty() ? c->get_name() : path + " " + c->get_name(), fn);
}

bool takes_value(const CLI::Option* o) { return o->get_expected_max() != 0; }  // flags expect 0 values
bool repeatable(const CLI::Option* o) { return o->get_expected_max() > 1; }
bool is_help(const CLI::Option* o) { return o->check_lname("help"); }

// Positionals are shown upper-case ("PLAN", "RUN_ID").
std::string positional_name(const CLI::Option* o) {
  std::string n = o->get_name(true);
  for (auto& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}

// "TEXT:{yaml,json}" -> {"yaml", "json"}; anything else -> {}.
std::vector<std::string> choices(const CLI::Option* o) {
  std::string t = o->get_type_name();
  size_t b = t.find(":{"), e = t.rfind('}');
  std::vector<std::string> out;
  if (b == std::string::npos || e == std::string::npos || e < b) return out;
  std::stringstream ss(t.substr(b + 2, e - b - 2));
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

// roff: backslashes escaped, '-' as \- (so man pages copy-paste as ASCII), no line starting with '.'
// or '\'' (a request).
std::string roff(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string option_names(const CLI::Option* o) {
  if (o->get_positional() && o->get_lnames().empty() && o->get_snames().empty()) return positional_name(o);
  std::string out;
  for (const auto& s : o->get_snames()) out += (out.empty() ? "-" : ", -") + s;
  for (const auto& l : o->get_lnames()) out += (out.empty() ? "--" : ", --") + l;
  return out;
}

std::string option_argument(const CLI::Option* o) {
  if (!takes_value(o)) return "";
  std::vector<std::string> c = choices(o);
  std::string arg;
  if (!c.empty()) {
    for (const auto& v : c) arg += (arg.empty() ? "" : "|") + v;
  } else {
    arg = o->get_type_name();
    if (arg.empty()) arg = "VALUE";
  }
  if (repeatable(o)) arg += " ...";
  return arg;
}

void man_options(std::ostringstream& m, const CLI::App& app) {
  for (const auto* o : options_of(app)) {
    if (is_help(o) && app.get_parent() != nullptr) continue;  // every command has -h, --help
    m << ".TP\n.B " << roff(option_names(o));
    std::string arg = option_argument(o);
    if (!arg.empty()) m << " \" " << roff(arg) << "\"";
    m << "\n";
    std::string desc = o->get_description();
    if (o->get_required()) desc += (desc.empty() ? "" : " ") + std::string("(required)");
    if (!o->get_default_str().empty()) desc += " (default: " + o->get_default_str() + ")";
    if (repeatable(o) && desc.find("repeatable") == std::string::npos) desc += " (repeatable)";
    m << roff(desc) << "\n";
  }
}

std::string usage_line(const CLI::App& app, const std::string& path) {
  std::string line = "containctl [GLOBAL OPTIONS] " + path;
  for (const auto* o : options_of(app)) {
    if (!o->get_required() && !o->get_positional()) continue;
    std::string names = o->get_positional() ? positional_name(o)
                        : !o->get_lnames().empty() ? "--" + o->get_lnames().front()
                                                   : "-" + o->get_snames().front();
    std::string arg = o->get_positional() ? "" : option_argument(o);
    std::string word = names + (arg.empty() ? "" : " " + arg);
    line += " " + (o->get_required() ? word : "[" + word + "]");
  }
  if (!children(app).empty()) line += " COMMAND";
  else line += " [OPTIONS]";
  return line;
}

struct ExitStatus {
  int code;
  const char* meaning;
};
// The contract's table (CLI-CONTRACT.md, "Exit codes"), keyed by the ExitCode values the binary returns.
const ExitStatus kExitStatuses[] = {
    {kExitOk, "done"},
    {kExitError, "error: bad input, AWS error, I/O; the message names the cause; nothing was changed unless the run "
                 "journal says so"},
    {kExitUsage, "usage error"},
    {kExitRefused, "refused by the containment settings or the approvals; no mutating call was made"},
    {kExitPartial, "partial: some steps failed; the journal holds the pre-state of every step taken; rollback works"},
    {kExitAudit, "audit verify found the log altered; the message names the first bad record"},
};

struct EnvVar {
  const char* name;
  const char* meaning;
};
const EnvVar kEnvironment[] = {
    {"CONTAINCTL_SETTINGS", "the containment settings (--settings): a file, s3://BUCKET/KEY or ssm:PARAMETER_NAME"},
    {"CONTAINCTL_STATE_DIR", "the state directory (--state-dir)"},
    {"XDG_STATE_HOME", "the state directory is $XDG_STATE_HOME/containctl when neither of the above is set"},
    {"AWS_REGION, AWS_DEFAULT_REGION", "the region (--region); then the profile's region, then us-east-1"},
    {"AWS_PROFILE", "the shared config/credentials profile (--profile)"},
    {"AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>", "send every service, or one service, to this URL"},
    {"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
     "credentials; the standard chain also reads the shared files, credential_process, container and instance "
     "metadata. Never from a command-line argument"},
};

}  // namespace

std::string man_page(const CLI::App& root) {
  std::ostringstream m;
  m << ".\\\" Generated by `containctl debug man` from the command definitions; do not edit.\n";
  m << ".TH CONTAINCTL 1 \"\" \"containctl " << roff(version()) << "\" \"User Commands\"\n";
  m << ".SH NAME\ncontainctl \\- " << roff("plan, approve, apply and roll back reversible containment of AWS resources")
    << "\n";
  m << ".SH SYNOPSIS\n";
  walk(root, "", [&](const CLI::App& app, const std::string& path) {
    if (path.empty() || !children(app).empty()) return;
    m << ".br\n.B " << roff(usage_line(app, path)) << "\n";
  });
  m << ".br\n.B containctl \\-\\-version\n";
  m << ".SH DESCRIPTION\n" << roff(root.get_description()) << ".\n.PP\n"
    << roff("Every change is recorded (its prior state, durably) before it is made, so rollback restores it, even "
            "after a crash. Whether a plan may run automatically, needs approvals or may not run at all is decided "
            "by the containment settings (modes none, approval, auto); with no settings file the mode is none.")
    << "\n";
  m << ".SH GLOBAL OPTIONS\nThese come before the command.\n";
  man_options(m, root);
  m << ".SH COMMANDS\n";
  walk(root, "", [&](const CLI::App& app, const std::string& path) {
    if (path.empty()) return;
    m << ".SS \"" << roff("containctl " + path) << "\"\n" << roff(app.get_description()) << ".\n";
    auto subs = children(app);
    if (!subs.empty()) {
      std::string names;
      for (const auto* c : subs) names += (names.empty() ? "" : ", ") + c->get_name();
      m << ".br\nCommands: " << roff(names) << ".\n";
    }
    man_options(m, app);
  });
  m << ".SH EXIT STATUS\n";
  for (const auto& e : kExitStatuses) m << ".TP\n.B " << e.code << "\n" << roff(e.meaning) << "\n";
  m << ".SH ENVIRONMENT\n";
  for (const auto& e : kEnvironment) m << ".TP\n.B " << roff(e.name) << "\n" << roff(e.meaning) << "\n";
  m << ".SH FILES\n.TP\n.B " << roff("<state-dir>/settings.json")
    << "\n" << roff("the containment settings when neither --settings nor CONTAINCTL_SETTINGS names them") << "\n"
    << ".TP\n.B " << roff("<state-dir>/audit.jsonl") << "\n"
    << roff("the tamper-evident audit log: one JSON record a line, chained by SHA-256") << "\n"
    << ".TP\n.B " << roff("<state-dir>") << "\n"
    << roff("the run journal (SQLite) unless the settings name the team store (\"state\": {\"backend\": \"aws\"})")
    << "\n";
  m << ".SH SEE ALSO\n"
    << roff("containctl COMMAND --help prints the same options. The command-line contract, the settings file and "
            "the deployment guides are in the project's README and docs/.")
    << "\n";
  return m.str();
}

namespace {

// What a completion script needs, per command path ("containctl", "containctl stackset generate"):
// the words that may follow, and for each option that takes a value the values ("*" = a file).
struct CompletionTable {
  std::map<std::string, std::string> words;
  std::map<std::string, std::string> values;  // "<path>|<option>" -> values
};

CompletionTable completion_table(const CLI::App& root) {
  CompletionTable t;
  walk(root, "", [&](const CLI::App& app, const std::string& path) {
    std::string key = path.empty() ? "containctl" : "containctl " + path;
    std::string w;
    for (const auto* c : children(app)) w += (w.empty() ? "" : " ") + c->get_name();
    for (const auto* o : options_of(app)) {
      std::vector<std::string> names;
      for (const auto& s : o->get_snames()) names.push_back("-" + s);
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      std::string vals;
      for (const auto& v : choices(o)) vals += (vals.empty() ? "" : " ") + v;
      for (const auto& n : names) {
        w += (w.empty() ? "" : " ") + n;
        if (takes_value(o)) t.values[key + "|" + n] = vals.empty() ? "*" : vals;
      }
    }
    t.words[key] = w;
  });
  return t;
}

// Single-quoted for both shells (the words hold no quote, but be safe).
std::string sq(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string bash_completion(const CLI::App& root) {
  CompletionTable t = completion_table(root);
  std::ostringstream s;
  s << "# bash completion for containctl; generated by `containctl debug completion bash`, do not edit.\n"
       "_containctl() {\n"
       "  local -A cc_words cc_values\n";
  for (const auto& [k, v] : t.words) s << "  cc_words[" << sq(k) << "]=" << sq(v) << "\n";
  for (const auto& [k, v] : t.values) s << "  cc_values[" << sq(k) << "]=" << sq(v) << "\n";
  s << "  local cur=${COMP_WORDS[COMP_CWORD]} cc_path=containctl w i\n"
       "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
       "    w=${COMP_WORDS[i]}\n"
       "    if [[ $w == -* ]]; then\n"
       "      [[ $w == *=* ]] && continue\n"
       "      [[ -n ${cc_values[\"$cc_path|$w\"]+x} ]] && ((i++))\n"
       "    elif [[ -n ${cc_words[\"$cc_path $w\"]+x} ]]; then\n"
       "      cc_path=\"$cc_path $w\"\n"
       "    fi\n"
       "  done\n"
       "  if ((COMP_CWORD > 1)); then\n"
       "    local prev=${COMP_WORDS[COMP_CWORD-1]}\n"
       "    if [[ -n ${cc_values[\"$cc_path|$prev\"]+x} ]]; then\n"
       "      local v=${cc_values[\"$cc_path|$prev\"]}\n"
       "      if [[ $v == '*' ]]; then\n"
       "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
       "      else\n"
       "        COMPREPLY=($(compgen -W \"$v\" -- \"$cur\"))\n"
       "      fi\n"
       "      return 0\n"
       "    fi\n"
       "  fi\n"
       "  COMPREPLY=($(compgen -W \"${cc_words[$cc_path]}\" -- \"$cur\"))\n"
       "}\n"
       "complete -F _containctl containctl\n";
  return s.str();
}

std::string zsh_completion(const CLI::App& root) {
  CompletionTable t = completion_table(root);
  std::ostringstream s;
  s << "#compdef containctl\n"
       "# zsh completion for containctl; generated by `containctl debug completion zsh`, do not edit.\n"
       "_containctl() {\n"
       "  local -A cc_words cc_values\n";
  // zsh keeps quotes inside a subscript as part of the key: assign the pairs as a list instead.
  s << "  cc_words=(\n";
  for (const auto& [k, v] : t.words) s << "    " << sq(k) << " " << sq(v) << "\n";
  s << "  )\n  cc_values=(\n";
  for (const auto& [k, v] : t.values) s << "    " << sq(k) << " " << sq(v) << "\n";
  s << "  )\n";
  s << "  local cc_path=containctl w i\n"
       "  for ((i = 2; i < CURRENT; i++)); do\n"
       "    w=${words[i]}\n"
       "    if [[ $w == -* ]]; then\n"
       "      [[ $w == *=* ]] && continue\n"
       "      (( ${+cc_values[$cc_path|$w]} )) && ((i++))\n"
       "    elif (( ${+cc_words[$cc_path $w]} )); then\n"
       "      cc_path=\"$cc_path $w\"\n"
       "    fi\n"
       "  done\n"
       "  if ((CURRENT > 2)); then\n"
       "    local prev=${words[CURRENT-1]}\n"
       "    if (( ${+cc_values[$cc_path|$prev]} )); then\n"
       "      local v=${cc_values[$cc_path|$prev]}\n"
       "      if [[ $v == '*' ]]; then\n"
       "        _files\n"
       "      else\n"
       "        compadd -- ${=v}\n"
       "      fi\n"
       "      return\n"
       "    fi\n"
       "  fi\n"
       "  compadd -- ${=cc_words[$cc_path]}\n"
       "}\n"
       "_containctl \"$@\"\n";
  return s.str();
}

}  // namespace containctl::orch
