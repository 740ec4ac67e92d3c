#include "orchestrator/support_case.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "aws/arn.h"
#include "aws/sigv4.h"

namespace containctl::orch {

using nlohmann::json;

namespace {

const std::vector<std::string> kSeverities = {"low", "normal", "high", "urgent", "critical"};
const std::vector<std::string> kPlans = {"basic", "developer", "business", "enterprise-on-ramp", "enterprise"};

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A string value of a JSON object, "" when absent or not a string (never operator[] on const json).
std::string text_of(const json& obj, const char* name) {
  if (!obj.is_object()) return "";
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// At most `max` bytes of `text`, never ending inside a UTF-8 sequence (the request body is JSON,
// and half a character would fail its serialisation).
std::string utf8_prefix(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80) --max;
  return text.substr(0, max);
}

// A finding's own words (its id, type, times), which whoever wrote the finding chose: one line, no
// control characters, so a newline cannot forge a section of the case.
std::string reported(const json& obj, const char* name) {
  std::string t = text_of(obj, name);
  for (auto& c : t)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return t.size() > 200 ? utf8_prefix(t, 200) + "..." : t;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_value_char(char c) { return !is_space(c) && c != '"' && c != ',' && c != ';' && c != '}'; }
bool is_name_tail(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-'; }

bool istarts(std::string_view s, std::string_view lower) {
  if (s.size() < lower.size()) return false;
  for (size_t i = 0; i < lower.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != lower[i]) return false;
  return true;
}

// Length of a secret's name at the start of `s` (case-insensitive), 0 if none.
size_t secret_name(std::string_view s) {
  static constexpr std::string_view kNames[] = {"secret", "password", "passwd", "token", "credential", "sessiontoken"};
  for (std::string_view n : kNames)
    if (istarts(s, n)) return n.size();
  if (!istarts(s, "private")) return 0;
  size_t j = 7;
  if (j < s.size() && (s[j] == '_' || s[j] == ' ' || s[j] == '-') && istarts(s.substr(j + 1), "key")) return j + 4;
  return istarts(s.substr(j), "key") ? j + 3 : 0;
}

// Where the value of a "name <sep> value" pair at the start of `s` begins and ends, as the pattern
//   (secret|password|passwd|token|credential|private[_ -]?key|sessiontoken)[A-Za-z_-]*"?\s*[:=]\s*"?([^\s",;}]+)
// (case-insensitive) finds it, with at most 64 letters after the name; false if there is none.
// Scanned by hand, not with std::regex: its matcher recursed once per character of the value, and
// this text holds what AWS echoed back in errors (a 50,000-character value overflowed the stack).
// The bound on the letters keeps "tokentokentoken..." from being scanned again from every name.
bool secret_pair(std::string_view s, size_t& value_start, size_t& value_end) {
  size_t i = secret_name(s);
  if (i == 0) return false;
  for (size_t end = std::min(s.size(), i + 64); i < end && is_name_tail(s[i]);) ++i;
  if (i < s.size() && s[i] == '"') ++i;
  while (i < s.size() && is_space(s[i])) ++i;
  if (i >= s.size() || (s[i] != ':' && s[i] != '=')) return false;
  ++i;
  while (i < s.size() && is_space(s[i])) ++i;
  if (i < s.size() && s[i] == '"') ++i;
  size_t v = i;
  while (i < s.size() && is_value_char(s[i])) ++i;
  if (i == v) return false;
  value_start = v;
  value_end = i;
  return true;
}

// Every such value replaced by [REDACTED], the name kept so the reader knows something was there.
std::string redact_pairs(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t vs, ve;
    if (secret_pair(text.substr(i), vs, ve)) {
      out.append(text.substr(i, vs)).append("[REDACTED]");
      i += ve;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

bool is_b64_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '+' || c == '='; }

// Every string in `v` (any depth) that matches `re`, in order, once.
void collect(const json& v, const std::regex& re, std::vector<std::string>& out) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (std::regex_match(s, re) && !contains(out, s)) out.push_back(s);
  } else if (v.is_structured()) {
    for (const auto& c : v) collect(c, re, out);
  }
}

void collect_principals(const json& v, std::vector<std::string>& out) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.rfind("arn:", 0) != 0) return;
    auto a = aws::parse_arn(s);
    if (a.ok() && a->is_iam_principal() && !contains(out, a->str())) out.push_back(a->str());
  } else if (v.is_structured()) {
    for (const auto& c : v) collect_principals(c, out);
  }
}

}  // namespace

std::string severity_for_plan(const std::string& plan) {
  if (plan == "enterprise" || plan == "enterprise-on-ramp") return "critical";
  if (plan == "business") return "urgent";
  if (plan == "developer" || plan == "basic") return "low";
  return "";
}

Status check_case_options(CaseOptions& o) {
  if (o.support_plan.empty()) o.support_plan = "business";
  if (!contains(kPlans, o.support_plan))
    return Error{ErrorKind::kUsage, "InvalidSupportPlan",
                 "--support-plan '" + o.support_plan + "': expected one of " + join(kPlans, ", ")};
  if (o.severity.empty()) o.severity = severity_for_plan(o.support_plan);
  if (!contains(kSeverities, o.severity))
    return Error{ErrorKind::kUsage, "InvalidSeverity",
                 "--severity '" + o.severity + "': expected one of " + join(kSeverities, ", ")};
  static const std::regex kLang("^[a-z]{2}$");
  if (!std::regex_match(o.language, kLang))
    return Error{ErrorKind::kUsage, "InvalidLanguage", "--language '" + o.language + "': an ISO 639-1 code (en, ja, zh, ko)"};
  if (o.cc.size() > aws::kSupportCcMax)
    return Error{ErrorKind::kUsage, "TooManyCc",
                 "--cc: at most " + std::to_string(aws::kSupportCcMax) + " addresses (CreateCase's limit), got " +
                     std::to_string(o.cc.size())};
  static const std::regex kEmail("^[^@\\s,;<>]+@[^@\\s,;<>]+\\.[^@\\s,;<>]+$");
  for (const auto& e : o.cc)
    if (!std::regex_match(e, kEmail)) return Error{ErrorKind::kUsage, "InvalidEmail", "--cc '" + e + "': not an email address"};
  for (const auto* code : {&o.issue_type, &o.service_code, &o.category_code})
    if (code->empty() || code->size() > 100)
      return Error::invalid("escalation: the issue type, service code and category code must be non-empty");
  return Ok{};
}

std::string scrub_secrets(std::string_view in) {
  std::string text = aws::redact_service_text(in);
  // name <sep> value pairs: the value goes, the name stays so the reader knows something was there.
  text = redact_pairs(text);
  // Tokens of base64 characters: exactly 40 with mixed case and a digit (a secret access key), or
  // 100 and more (a session token). Hex hashes (lower case only) and key ids (AKIA + 16) stay.
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!is_b64_char(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    size_t j = i;
    bool upper = false, lower = false, digit = false;
    while (j < text.size() && is_b64_char(text[j])) {
      unsigned char c = static_cast<unsigned char>(text[j]);
      upper |= std::isupper(c) != 0;
      lower |= std::islower(c) != 0;
      digit |= std::isdigit(c) != 0;
      ++j;
    }
    size_t n = j - i;
    bool secret_key = n == 40 && upper && lower && digit;
    bool token = n >= 100 && upper && lower;
    out += secret_key || token ? std::string("[REDACTED]") : text.substr(i, n);
    i = j;
  }
  return out;
}

std::string fit_text(const std::string& text, size_t max, const std::string& what, const std::string& full_record,
                     std::vector<std::string>& cuts) {
  if (text.size() <= max) return text;
  // The note is sized for the largest count it can show.
  const std::string probe = "\n[containctl: " + std::to_string(text.size()) + " characters cut to fit]" + full_record;
  if (probe.size() + 16 >= max) {  // no room for a note: cut hard
    cuts.push_back(what + ": cut from " + std::to_string(text.size()) + " to " + std::to_string(max) + " characters");
    return utf8_prefix(text, max);
  }
  size_t keep = max - probe.size();
  size_t nl = text.rfind('\n', keep);
  if (nl != std::string::npos && nl > keep / 2) keep = nl;
  else if (size_t sp = text.rfind(' ', keep); sp != std::string::npos && sp > keep / 2) keep = sp;
  keep = utf8_prefix(text, keep).size();
  const size_t cut = text.size() - keep;
  std::string out = text.substr(0, keep) + "\n[containctl: " + std::to_string(cut) + " characters cut to fit]" + full_record;
  cuts.push_back(what + ": " + std::to_string(cut) + " of " + std::to_string(text.size()) +
                 " characters cut to fit the limit of " + std::to_string(max));
  return out;
}

RunSummary summarize_run(const json& plan) {
  RunSummary s;
  std::set<std::string> seen;
  for (const auto& t : plan.value("targets", json::array())) {
    if (!t.is_object()) continue;
    const std::string arn = text_of(t, "target");
    if (!arn.empty() && !contains(s.targets, arn)) s.targets.push_back(arn);
    if (s.account.empty()) s.account = text_of(t, "account");
    if (s.partition.empty() && arn.rfind("arn:", 0) == 0) {
      auto a = aws::parse_arn(arn);
      if (a.ok()) s.partition = a->partition;
    }
    collect_principals(json(arn), s.principals);
    // What discovery read from AWS (an instance's role, a user's groups): AWS's answers, not a finding's text.
    collect_principals(t.value("discovered", json::object()), s.principals);
    json f = t.value("finding", json::object());
    if (!f.is_object()) f = json::object();
    if (!f.contains("id") && !text_of(t, "finding_id").empty()) f["id"] = text_of(t, "finding_id");
    const std::string id = text_of(f, "id");
    if (!id.empty() && seen.insert(id).second) s.findings.push_back(f);
  }
  if (s.account.empty()) s.account = text_of(plan.value("caller", json::object()), "account");
  return s;
}

CaseDraft build_case(const CaseFacts& facts, const CaseOptions& o) {
  CaseDraft d;
  const json& plan = facts.run.plan;
  const RunSummary sum = summarize_run(plan);
  const std::string& run_id = facts.run.run_id;
  std::ostringstream b;
  b << "containctl security incident report for run " << run_id << ". Written by containctl from its journal "
    << "and audit log; all times UTC.\n";

  b << "\n1. Security issue\n";
  b << "Suspected compromise of AWS resources or credentials in account " << (sum.account.empty() ? "(unknown)" : sum.account)
    << ". containctl contained " << sum.targets.size() << " target(s); run status: " << facts.run.status << ".\n";
  if (sum.findings.empty()) {
    b << "Findings: none (the responder named the targets).\n";
  } else {
    b << "Findings, as they report themselves (not verified by containctl):\n";
    for (const auto& f : sum.findings) {
      b << "- " << reported(f, "id");
      if (!reported(f, "type").empty()) b << " type " << reported(f, "type");
      if (!reported(f, "first_seen").empty()) b << ", first seen " << reported(f, "first_seen");
      b << "\n";
    }
  }
  b << "Business impact: " << (o.impact.empty() ? "not stated yet" : o.impact) << "\n";

  b << "\n2. When it was first noticed\n";
  std::string first;
  for (const auto& f : sum.findings) {
    std::string t = reported(f, "first_seen");
    if (!t.empty() && (first.empty() || t < first)) first = t;
  }
  b << "Earliest activity a finding reports: " << (first.empty() ? "no finding time" : first)
    << "; plan created " << text_of(plan, "created_at") << "; containment started " << facts.run.started_at << ".\n";

  b << "\n3. Affected resources and what was done\n";
  std::map<std::string, std::vector<const StepRecord*>> by_target;
  for (const auto& s : facts.steps) by_target[s.target].push_back(&s);
  for (const auto& arn : sum.targets) {
    b << "- " << arn << "\n";
    auto it = by_target.find(arn);
    if (it == by_target.end()) {
      b << "    nothing to do (already contained when planned)\n";
      continue;
    }
    for (const StepRecord* s : it->second) {
      b << "    " << s->family << " " << s->step_id << ": " << s->state;
      if (!s->applied_at.empty()) b << " at " << s->applied_at;
      if (!s->error.empty()) b << " (error: " << s->error << ")";
      b << "\n";
    }
  }

  b << "\n4. IAM users and roles suspected of compromise\n";
  if (sum.principals.empty()) b << "none identified by containctl\n";
  for (const auto& p : sum.principals) b << "- " << p << "\n";

  b << "\n5. Timeline (UTC, one line per step)\n";
  for (const auto& r : facts.audit) {
    const std::string ev = text_of(r, "event");
    if (ev == "aws_call" || ev == "gate_decision" || ev == "step_captured") continue;
    b << text_of(r, "time") << "  " << ev;
    for (const char* k : {"target", "step", "status", "reason", "case_id"})
      if (!text_of(r, k).empty()) b << "  " << text_of(r, k);
    b << "\n";
  }

  b << "\n6. Artifacts collected\n";
  b << "Plan hash: " << facts.run.plan_hash << "\n";
  b << "Audit log head (SHA-256 chain): " << (facts.audit_head.empty() ? "(none)" : facts.audit_head) << "\n";
  std::vector<std::string> snaps, groups;
  static const std::regex kSnap("^snap-[0-9a-f]{8,17}$"), kSg("^sg-[0-9a-f]{8,17}$");
  for (const auto& s : facts.steps) {
    collect(s.applied, kSnap, snaps);
    collect(s.applied, kSg, groups);
  }
  b << "EBS snapshots: " << (snaps.empty() ? "none" : join(snaps, ", ")) << "\n";
  b << "Security groups in the steps' results (isolation and prior): " << (groups.empty() ? "none" : join(groups, ", ")) << "\n";
  b << "Full record: containctl audit show " << run_id << " and containctl status " << run_id << "\n";

  b << "\n7. Level of engagement in our organization\n" << (o.engagement.empty() ? "not stated yet" : o.engagement) << "\n";
  b << "\n8. Preferred contact\nLanguage: " << o.language << "; method: " << o.contact_method;
  if (!o.cc.empty()) b << "; copy: " << join(o.cc, ", ");
  b << "\nOpened by: " << facts.caller_arn << "\n";

  d.request.subject = fit_text(scrub_secrets("Security incident: suspected compromise, containctl run " + run_id +
                                             " (" + std::to_string(sum.targets.size()) + " target(s) contained)"),
                               aws::kSupportSubjectMax, "subject", "", d.cuts);
  d.request.communication_body = fit_text(scrub_secrets(b.str()), aws::kSupportBodyMax, "communicationBody",
                                          " Full record: containctl audit show " + run_id, d.cuts);
  d.request.service_code = o.service_code;
  d.request.category_code = o.category_code;
  d.request.severity_code = o.severity;
  d.request.issue_type = o.issue_type;
  d.request.language = o.language;
  d.request.cc = o.cc;
  return d;
}

}  // namespace containctl::orch
