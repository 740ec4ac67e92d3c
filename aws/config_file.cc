#include "aws/config_file.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace containctl::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A '#' or ';' starts an inline comment only after whitespace, as the SDKs' shared-file parsers
// do, so values such as URLs with fragments or paths with ';' survive.
std::string strip_inline_comment(std::string_view v) {
  for (size_t i = 1; i < v.size(); ++i)
    if ((v[i] == '#' || v[i] == ';') && is_space(v[i - 1])) return trim(v.substr(0, i));
  return trim(v);
}

Error syntax(const std::string& path, int line, const std::string& what) {
  return Error::invalid(path + " line " + std::to_string(line) + ": " + what, "ConfigFileSyntax");
}

// "profile   x" -> "x" when the first word is exactly "profile".
bool split_prefixed(const std::string& section, const char* prefix, std::string& name) {
  size_t n = std::strlen(prefix);
  if (section.size() <= n || section.compare(0, n, prefix) != 0 || !is_space(section[n])) return false;
  name = trim(std::string_view(section).substr(n));
  return true;
}

}  // namespace

std::string Profile::get(const std::string& key) const {
  auto it = values.find(key);
  return it == values.end() ? "" : it->second;
}

const Profile* SharedConfig::profile(const std::string& name) const {
  auto it = profiles.find(name);
  return it == profiles.end() ? nullptr : &it->second;
}

Status parse_config_text(const std::string& text, const std::string& path, ConfigFileKind kind, SharedConfig& into) {
  enum class Section { kNone, kProfile, kServices, kIgnored };
  Section section = Section::kNone;
  std::string section_name;
  std::string key;      // the last property of the current section, for continuation lines
  bool nested = false;  // the last property had an empty value: indented lines are sub-properties

  auto values = [&]() -> std::map<std::string, std::string>* {
    if (section == Section::kProfile) return &into.profiles[section_name].values;
    return nullptr;
  };

  std::istringstream in(text);
  std::string raw;
  int lineno = 0;
  while (std::getline(in, raw)) {
    ++lineno;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const bool indented = is_space(raw[0]);

    if (indented && !key.empty()) {
      if (!nested) {
        // Continuation of a multi-line value.
        if (auto* v = values()) (*v)[key] += "\n" + strip_inline_comment(line);
        continue;
      }
      size_t eq = line.find('=');
      if (eq == std::string::npos) return syntax(path, lineno, "expected 'name = value' under '" + key + " ='");
      std::string sub = lower(trim(std::string_view(line).substr(0, eq)));
      if (sub.empty()) return syntax(path, lineno, "empty property name");
      std::string val = strip_inline_comment(std::string_view(line).substr(eq + 1));
      if (section == Section::kProfile) into.profiles[section_name].nested[key][sub] = val;
      if (section == Section::kServices) into.services[section_name][key][sub] = val;
      continue;
    }

    if (line[0] == '[') {
      size_t close = line.find(']');
      if (close == std::string::npos) return syntax(path, lineno, "section header without a closing ']'");
      std::string after = trim(std::string_view(line).substr(close + 1));
      if (!after.empty() && after[0] != '#' && after[0] != ';')
        return syntax(path, lineno, "unexpected text after the section header");
      std::string name = trim(std::string_view(line).substr(1, close - 1));
      if (name.empty()) return syntax(path, lineno, "empty section name");
      key.clear();
      nested = false;
      std::string rest;
      if (kind == ConfigFileKind::kConfig) {
        if (name == "profile") return syntax(path, lineno, "'[profile]' without a profile name");
        if (name == "default") {
          section = Section::kProfile;
          section_name = "default";
        } else if (split_prefixed(name, "profile", rest)) {
          if (rest.empty()) return syntax(path, lineno, "'[profile]' without a profile name");
          section = Section::kProfile;
          section_name = rest;
        } else if (split_prefixed(name, "services", rest)) {
          section = Section::kServices;
          section_name = rest;
          into.services[rest];
        } else {
          // sso-session and unknown sections; a bare [x] is not a profile in the config file.
          if (name.find(' ') == std::string::npos && !name.starts_with("sso-session")) {
            spdlog::debug("{} line {}: section [{}] is not a profile (the config file writes [profile {}])", path,
                          lineno, name, name);
            into.misplaced[name] = path + " line " + std::to_string(lineno) + " has [" + name +
                                   "], which the config file reads as a profile only when written [profile " + name +
                                   "]";
          }
          section = Section::kIgnored;
          section_name = name;
        }
      } else {
        if (split_prefixed(name, "profile", rest)) {
          // The credentials file names profiles without the prefix; the SDKs skip this form.
          spdlog::debug("{} line {}: [{}] ignored (the credentials file writes [{}])", path, lineno, name, rest);
          into.misplaced[rest] = path + " line " + std::to_string(lineno) + " has [" + name +
                                 "], but the credentials file names profiles without the 'profile' prefix";
          section = Section::kIgnored;
          section_name = name;
        } else {
          section = Section::kProfile;
          section_name = name;
        }
      }
      if (section == Section::kProfile) {
        Profile& p = into.profiles[section_name];
        p.name = section_name;
        if (p.origin.empty()) p.origin = path + " line " + std::to_string(lineno);
      }
      continue;
    }

    size_t eq = line.find('=');
    if (eq == std::string::npos) return syntax(path, lineno, "expected '[section]' or 'name = value'");
    if (section == Section::kNone) return syntax(path, lineno, "property before any [section] header");
    std::string k = lower(trim(std::string_view(line).substr(0, eq)));
    if (k.empty()) return syntax(path, lineno, "empty property name");
    std::string v = strip_inline_comment(std::string_view(line).substr(eq + 1));
    key = k;
    nested = v.empty();
    if (auto* vals = values()) (*vals)[k] = v;
  }
  return Ok{};
}

std::string expand_home(const std::string& path) {
  if (path == "~" || path.starts_with("~/")) return env("HOME") + path.substr(1);
  return path;
}

std::string default_config_path() {
  std::string p = env("AWS_CONFIG_FILE");
  return expand_home(p.empty() ? "~/.aws/config" : p);
}

std::string default_credentials_path() {
  std::string p = env("AWS_SHARED_CREDENTIALS_FILE");
  return expand_home(p.empty() ? "~/.aws/credentials" : p);
}

namespace {

// Reads a file; `exists` is false (and the result empty) when it is absent.
Result<std::string> read_optional(const std::string& path, bool& exists) {
  exists = false;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::string();
    return Error::io("cannot read " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return Error::io("cannot read " + path + ": it is a directory");
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error::io("cannot read " + path + ": " + std::strerror(errno));
  exists = true;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Result<SharedConfig> load_shared_config(const std::string& config_path, const std::string& credentials_path) {
  SharedConfig cfg;
  cfg.config_path = config_path;
  cfg.credentials_path = credentials_path;
  CC_ASSIGN(std::string config_text, read_optional(config_path, cfg.config_exists));
  CC_ASSIGN(std::string creds_text, read_optional(credentials_path, cfg.credentials_exists));
  // Config first, so a key present in both files takes the credentials file's value.
  CC_TRY(parse_config_text(config_text, config_path, ConfigFileKind::kConfig, cfg));
  CC_TRY(parse_config_text(creds_text, credentials_path, ConfigFileKind::kCredentials, cfg));
  return cfg;
}

Result<SharedConfig> load_shared_config() {
  return load_shared_config(default_config_path(), default_credentials_path());
}

}  // namespace containctl::aws
