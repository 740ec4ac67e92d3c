#include "orchestrator/settings.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "actions/registry.h"
#include "aws/sigv4.h"

namespace containctl::orch {
namespace {

// libstdc++'s std::regex recurses once per character matched: a settings file (or the
// organization's copy fetched from S3 or SSM) with a 20,000-character principal overflowed the
// stack. Nothing these patterns accept is longer than an ARN (2,048), so longer text is refused
// before matching.
bool full_match(const std::string& s, const std::regex& re) { return s.size() <= 2048 && std::regex_match(s, re); }

using nlohmann::json;

const std::vector<std::string> kModes = {"none", "approval", "auto"};
const std::vector<std::string> kScopes = {"confirmed", "suspected"};
// The families the tool has, from the registry, so settings can never drift from the code.
const std::vector<std::string>& known_families() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const actions::ActionFamily* f : actions::all_families()) v.push_back(f->name());
    return v;
  }();
  return names;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggest(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = 3;
  for (const auto& k : known) {
    size_t d = edit_distance(word, k);
    if (d < best_d) best_d = d, best = k;
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

struct Reader {
  std::string file;
  Error bad(const std::string& field, const std::string& why) const {
    return Error::invalid(file + ": field '" + field + "': " + why, "InvalidSettings");
  }
  Status known_fields(const json& obj, const std::string& where, const std::vector<std::string>& known) const {
    for (const auto& [k, v] : obj.items()) {
      if (std::find(known.begin(), known.end(), k) == known.end())
        return bad(where + k, "unknown field" + suggest(k, known));
    }
    return Ok{};
  }
  Result<std::string> str(const json& v, const std::string& field) const {
    if (!v.is_string()) return bad(field, "must be a string");
    return v.get<std::string>();
  }
  Result<std::string> one_of(const json& v, const std::string& field, const std::vector<std::string>& allowed) const {
    CC_ASSIGN(std::string s, str(v, field));
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return bad(field, "'" + s + "' is not one of " + list + suggest(s, allowed));
    }
    return s;
  }
  Result<std::vector<std::string>> strings(const json& v, const std::string& field) const {
    if (!v.is_array()) return bad(field, "must be an array of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) {
      CC_ASSIGN(std::string s, str(v[i], field + "[" + std::to_string(i) + "]"));
      out.push_back(s);
    }
    return out;
  }
  Result<int> positive(const json& v, const std::string& field, int min) const {
    if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > 100000)
      return bad(field, "must be an integer >= " + std::to_string(min));
    return v.get<int>();
  }
  Result<EscalationSettings> escalation(const json& v) const {
    if (!v.is_object()) return bad("escalation", "must be an object");
    CC_TRY(known_fields(v, "escalation.", {"open_case", "support_plan", "cc", "language", "issue_type", "service_code",
                                           "category_code"}));
    EscalationSettings e;
    if (v.contains("open_case")) { CC_ASSIGN(e.open_case, one_of(v["open_case"], "escalation.open_case", {"never", "on-auto-containment"})); }
    if (v.contains("support_plan")) {
      CC_ASSIGN(e.support_plan, one_of(v["support_plan"], "escalation.support_plan",
                                       {"basic", "developer", "business", "enterprise-on-ramp", "enterprise"}));
    }
    if (v.contains("cc")) { CC_ASSIGN(e.cc, strings(v["cc"], "escalation.cc")); }
    if (v.contains("language")) { CC_ASSIGN(e.language, str(v["language"], "escalation.language")); }
    if (v.contains("issue_type")) { CC_ASSIGN(e.issue_type, one_of(v["issue_type"], "escalation.issue_type", {"customer-service", "technical"})); }
    if (v.contains("service_code")) { CC_ASSIGN(e.service_code, str(v["service_code"], "escalation.service_code")); }
    if (v.contains("category_code")) { CC_ASSIGN(e.category_code, str(v["category_code"], "escalation.category_code")); }
    return e;
  }
  Result<StateSettings> state(const json& v) const {
    if (!v.is_object()) return bad("state", "must be an object with \"backend\"");
    CC_TRY(known_fields(v, "state.", {"backend", "table", "bucket", "region", "lease_seconds"}));
    StateSettings st;
    if (v.contains("backend")) { CC_ASSIGN(st.backend, one_of(v["backend"], "state.backend", {"sqlite", "aws"})); }
    if (v.contains("table")) { CC_ASSIGN(st.table, str(v["table"], "state.table")); }
    if (v.contains("bucket")) { CC_ASSIGN(st.bucket, str(v["bucket"], "state.bucket")); }
    if (v.contains("region")) { CC_ASSIGN(st.region, str(v["region"], "state.region")); }
    if (v.contains("lease_seconds")) { CC_ASSIGN(st.lease_seconds, positive(v["lease_seconds"], "state.lease_seconds", 3)); }
    if (st.backend == "sqlite") {
      for (const char* f : {"table", "bucket", "region"})
        if (v.contains(f)) return bad(std::string("state.") + f, "only the aws backend takes it");
      return st;
    }
    // DynamoDB table names: 3-255 of [A-Za-z0-9_.-]; S3 bucket names: 3-63 of [a-z0-9.-].
    static const std::regex kTable("^[A-Za-z0-9_.-]{3,255}$");
    static const std::regex kBucket("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$");
    static const std::regex kRegion("^[a-z]{2}(-[a-z]+)+-[0-9]+$");
    if (st.table.empty()) return bad("state.table", "the aws backend needs a DynamoDB table name");
    if (!full_match(st.table, kTable)) return bad("state.table", "'" + st.table + "' is not a DynamoDB table name");
    if (st.bucket.empty()) return bad("state.bucket", "the aws backend needs an S3 bucket name");
    if (!full_match(st.bucket, kBucket)) return bad("state.bucket", "'" + st.bucket + "' is not an S3 bucket name");
    if (!st.region.empty() && !full_match(st.region, kRegion))
      return bad("state.region", "'" + st.region + "' is not a region");
    return st;
  }
  Result<LevelSettings> level(const json& obj, const std::string& where, bool org) const {
    if (!obj.is_object()) return bad(where, "must be an object");
    std::vector<std::string> known = {"mode", "actions", "auto_scope", "approvals_required"};
    if (org) known.push_back("id");
    CC_TRY(known_fields(obj, where + ".", known));
    LevelSettings l;
    if (obj.contains("mode")) { CC_ASSIGN(l.mode, one_of(obj["mode"], where + ".mode", kModes)); }
    if (obj.contains("auto_scope")) { CC_ASSIGN(l.auto_scope, one_of(obj["auto_scope"], where + ".auto_scope", kScopes)); }
    if (obj.contains("approvals_required")) {
      CC_ASSIGN(l.approvals_required, positive(obj["approvals_required"], where + ".approvals_required", 1));
    }
    if (obj.contains("actions")) {
      CC_ASSIGN(std::vector<std::string> acts, strings(obj["actions"], where + ".actions"));
      for (size_t i = 0; i < acts.size(); ++i)
        CC_TRY(one_of(acts[i], where + ".actions[" + std::to_string(i) + "]", known_families()));
      l.actions = acts;
    }
    return l;
  }
};

}  // namespace

std::string json_error_position(const std::string& text, const nlohmann::json::parse_error& e) {
  // e.byte counts from 1 and points at the character that broke the parse (or one past the end).
  const size_t end = std::min(e.byte == 0 ? size_t{0} : e.byte - 1, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  // The library's reason without its prefix and without the text it read (settings read from SSM may
  // hold more than settings).
  std::string why = e.what();
  if (size_t colon = why.find(": ", why.find("column")); colon != std::string::npos) why = why.substr(colon + 2);
  if (size_t last = why.find("; last read:"); last != std::string::npos) why = why.substr(0, last);
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + why;
}

json EffectiveSettings::to_json() const {
  return {{"mode", mode}, {"actions", actions}, {"auto_scope", auto_scope},
          {"approvals_required", approvals_required}, {"source", source}};
}

bool glob_match(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi, ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++, mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1, ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

Result<Settings> load_settings(const std::string& path) {
  // Remote sources are read by load_settings_for (settings_source.h); taken for a file name here
  // they would be a missing file, i.e. silently "no settings".
  if (path.rfind("s3://", 0) == 0 || path.rfind("ssm:", 0) == 0)
    return Error::invalid("settings " + path + ": a remote source, read through load_settings_for", "InvalidSettings");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    Settings none;  // mode none
    none.path = path;
    return none;
  }
  // The settings decide who may approve and what runs unattended: a file others may rewrite is
  // refused rather than trusted.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 022)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error::invalid(path + ": the settings file is writable by group or others (mode " + std::string(mode) +
                              "); anyone who can write it can change who approves; run: chmod go-w " + path,
                          "InsecureSettings");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io(path + ": cannot read settings file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_settings(buf.str(), path, std::filesystem::path(path).parent_path().string());
}

Result<Settings> parse_settings(const std::string& text, const std::string& path, const std::string& base_dir) {
  Settings s;
  s.path = path;
  s.present = true;
  s.sha256 = aws::sha256_hex(text);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error::invalid(path + ": not valid JSON (truncated or malformed) at " + json_error_position(text, e), "InvalidSettings");
  } catch (const json::out_of_range& e) {
    // A number beyond a double (1e999) is out_of_range, not a parse_error: it used to end the process.
    return Error::invalid(path + ": not valid JSON: " + e.what(), "InvalidSettings");
  }
  if (!doc.is_object()) return Error::invalid(path + ": must be a JSON object", "InvalidSettings");
  Reader r{path};
  CC_TRY(r.known_fields(doc, "", {"organization", "accounts", "approvers", "protected", "s3_allow_access",
                                  "member_role_name", "max_targets_per_run", "recontain_guard_hours", "executor",
                                  "rate_limits", "state", "escalation"}));
  if (doc.contains("organization")) {
    CC_ASSIGN(s.organization, r.level(doc["organization"], "organization", true));
    if (doc["organization"].contains("id")) { CC_ASSIGN(s.organization_id, r.str(doc["organization"]["id"], "organization.id")); }
  }
  if (doc.contains("accounts")) {
    if (!doc["accounts"].is_object()) return r.bad("accounts", "must be an object keyed by account id");
    static const std::regex kAccount("^[0-9]{12}$");
    for (const auto& [acct, v] : doc["accounts"].items()) {
      if (!full_match(acct, kAccount)) return r.bad("accounts." + acct, "key is not a 12-digit account id");
      CC_ASSIGN(s.accounts[acct], r.level(v, "accounts." + acct, false));
    }
  }
  std::filesystem::path base(base_dir);
  if (doc.contains("approvers")) {
    if (!doc["approvers"].is_object()) return r.bad("approvers", "must be an object: name -> public key path");
    static const std::regex kFingerprint("^sha256:[0-9a-fA-F]{64}$");
    for (const auto& [name, v] : doc["approvers"].items()) {
      const std::string where = "approvers." + name;
      approvals::ApproverSpec spec;
      std::string key;
      if (v.is_object()) {
        // {"public_key": PATH, "fingerprint": "sha256:...", "principals": [ARN, ...]}
        CC_TRY(r.known_fields(v, where + ".", {"public_key", "fingerprint", "principals"}));
        if (!v.contains("public_key")) return r.bad(where + ".public_key", "is missing");
        CC_ASSIGN(key, r.str(v["public_key"], where + ".public_key"));
        if (v.contains("fingerprint")) {
          CC_ASSIGN(spec.fingerprint, r.str(v["fingerprint"], where + ".fingerprint"));
          if (!full_match(spec.fingerprint, kFingerprint))
            return r.bad(where + ".fingerprint", "must be sha256: and 64 hex digits (as `keys generate` prints it)");
        }
        if (v.contains("principals")) {
          CC_ASSIGN(spec.principals, r.strings(v["principals"], where + ".principals"));
          static const std::regex kPrincipal("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(user|role|assumed-role|federated-user)/.+$");
          for (size_t i = 0; i < spec.principals.size(); ++i)
            if (!full_match(spec.principals[i], kPrincipal))
              return r.bad(where + ".principals[" + std::to_string(i) + "]",
                           "'" + spec.principals[i] + "' is not an IAM user, role, assumed-role or federated-user ARN");
        }
      } else {
        CC_ASSIGN(key, r.str(v, where));
      }
      if (key.empty()) return r.bad(where, "public key path is empty");
      std::filesystem::path p(key);
      spec.public_key = (p.is_relative() ? base / p : p).string();
      s.approvers[name] = spec;
    }
  }
  if (doc.contains("protected")) { CC_ASSIGN(s.protected_arns, r.strings(doc["protected"], "protected")); }
  if (doc.contains("s3_allow_access")) { CC_ASSIGN(s.s3_allow_access, r.strings(doc["s3_allow_access"], "s3_allow_access")); }
  if (doc.contains("member_role_name")) { CC_ASSIGN(s.member_role_name, r.str(doc["member_role_name"], "member_role_name")); }
  if (doc.contains("max_targets_per_run")) {
    CC_ASSIGN(s.max_targets_per_run, r.positive(doc["max_targets_per_run"], "max_targets_per_run", 1));
  }
  if (doc.contains("recontain_guard_hours")) {
    CC_ASSIGN(s.recontain_guard_hours, r.positive(doc["recontain_guard_hours"], "recontain_guard_hours", 0));
  }
  if (doc.contains("executor")) {
    const json& ex = doc["executor"];
    if (!ex.is_object()) return r.bad("executor", "must be an object");
    CC_TRY(r.known_fields(ex, "executor.", {"workers", "per_account_region"}));
    if (ex.contains("workers")) { CC_ASSIGN(s.workers, r.positive(ex["workers"], "executor.workers", 1)); }
    if (ex.contains("per_account_region")) {
      CC_ASSIGN(s.per_account_region, r.positive(ex["per_account_region"], "executor.per_account_region", 1));
    }
  }
  if (doc.contains("rate_limits")) {
    if (!doc["rate_limits"].is_object()) return r.bad("rate_limits", "must be an object keyed by service or service/Operation");
    static const std::regex kKey("^[a-z0-9-]+(/[A-Za-z0-9]+)?$");
    for (const auto& [key, v] : doc["rate_limits"].items()) {
      const std::string where = "rate_limits." + key;
      if (!full_match(key, kKey)) return r.bad(where, "key must be a service (\"iam\") or service/Operation");
      if (!v.is_object()) return r.bad(where, "must be an object with rate_per_second and burst");
      CC_TRY(r.known_fields(v, where + ".", {"rate_per_second", "burst"}));
      if (!v.contains("rate_per_second") || !v["rate_per_second"].is_number() || v["rate_per_second"].get<double>() <= 0)
        return r.bad(where + ".rate_per_second", "must be a number > 0");
      aws::BucketConfig limit{v["rate_per_second"].get<double>(), v["rate_per_second"].get<double>()};
      if (v.contains("burst")) {
        if (!v["burst"].is_number() || v["burst"].get<double>() < 1) return r.bad(where + ".burst", "must be a number >= 1");
        limit.burst = v["burst"].get<double>();
      }
      s.rate_limits[key] = limit;
    }
  }
  if (doc.contains("state")) { CC_ASSIGN(s.state, r.state(doc["state"])); }
  if (doc.contains("escalation")) { CC_ASSIGN(s.escalation, r.escalation(doc["escalation"])); }
  return s;
}

EffectiveSettings effective_settings(const Settings& s, const std::string& account) {
  EffectiveSettings e;
  e.actions = known_families();
  for (const char* f : {"mode", "actions", "auto_scope", "approvals_required"}) e.source[f] = "default";
  auto apply = [&](const LevelSettings& l, const char* src) {
    if (l.mode) e.mode = *l.mode, e.source["mode"] = src;
    if (l.actions) e.actions = *l.actions, e.source["actions"] = src;
    if (l.auto_scope) e.auto_scope = *l.auto_scope, e.source["auto_scope"] = src;
    if (l.approvals_required) e.approvals_required = *l.approvals_required, e.source["approvals_required"] = src;
  };
  apply(s.organization, "organization");
  if (auto it = s.accounts.find(account); it != s.accounts.end()) apply(it->second, "account");
  return e;
}

}  // namespace containctl::orch
