#include "approvals/approval.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "aws/arn.h"
#include "aws/sigv4.h"

namespace containctl::approvals {
namespace {

constexpr const char* kFields[] = {"version", "plan_hash", "approver", "issued_at", "expires_at", "signature"};

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Error bad(const std::string& source, const std::string& field, const std::string& what) {
  return Error::invalid(source + ": field '" + field + "' " + what, "InvalidApproval");
}

}  // namespace

Status generate_keypair(const std::string& name, const std::string& out_dir) {
  CC_TRY(generate_keypair_files(name, out_dir));
  return Ok{};
}

std::string signing_payload(const Approval& a) {
  return "containctl-approval-v1\n" + a.plan_hash + "\n" + a.approver + "\n" + a.issued_at + "\n" + a.expires_at +
         "\n";
}

Result<Approval> sign_approval(const std::string& plan_hash, const std::string& approver,
                               const std::string& private_key_path, std::chrono::seconds ttl, aws::TimePoint now) {
  if (!is_hex64(plan_hash))
    return Error::invalid("plan hash '" + plan_hash + "' is not 64 lower-case hex digits", "InvalidApproval");
  CC_TRY(validate_approver_name(approver));
  if (ttl.count() <= 0) return Error::invalid("approval lifetime must be positive", "InvalidApproval");
  Approval a;
  a.plan_hash = plan_hash;
  a.approver = approver;
  auto issued = std::chrono::time_point_cast<std::chrono::seconds>(now);
  a.issued_at = aws::format_iso8601(issued);
  a.expires_at = aws::format_iso8601(issued + ttl);
  CC_ASSIGN(a.signature, sign_message(private_key_path, signing_payload(a)));
  return a;
}

nlohmann::json to_json(const Approval& a) {
  return {{"version", 1},
          {"plan_hash", a.plan_hash},
          {"approver", a.approver},
          {"issued_at", a.issued_at},
          {"expires_at", a.expires_at},
          {"signature", a.signature}};
}

Result<Approval> approval_from_json(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object()) return Error::invalid(source + ": an approval file is a JSON object", "InvalidApproval");
  for (const auto& [key, value] : doc.items()) {
    if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields))
      return bad(source, key,
                 "is not an approval field (expected version, plan_hash, approver, issued_at, expires_at, signature)");
  }
  if (doc.contains("version") && !(doc["version"].is_number_integer() && doc["version"].get<int64_t>() == 1))
    return bad(source, "version", "must be 1");
  Approval a;
  auto get = [&](const char* field, std::string& out) -> Status {
    if (!doc.contains(field)) return bad(source, field, "is missing");
    if (!doc[field].is_string()) return bad(source, field, "must be a string");
    out = doc[field].get<std::string>();
    if (out.empty()) return bad(source, field, "is empty");
    return Ok{};
  };
  CC_TRY(get("plan_hash", a.plan_hash));
  CC_TRY(get("approver", a.approver));
  CC_TRY(get("issued_at", a.issued_at));
  CC_TRY(get("expires_at", a.expires_at));
  CC_TRY(get("signature", a.signature));
  if (!is_hex64(a.plan_hash)) return bad(source, "plan_hash", "must be 64 lower-case hex digits");
  if (!validate_approver_name(a.approver).ok())
    return bad(source, "approver", "'" + a.approver + "' is not a valid approver name");
  aws::TimePoint t;
  if (a.issued_at.find('\n') != std::string::npos || !aws::parse_time(a.issued_at, t))
    return bad(source, "issued_at", "is not an ISO-8601 UTC time");
  if (a.expires_at.find('\n') != std::string::npos || !aws::parse_time(a.expires_at, t))
    return bad(source, "expires_at", "is not an ISO-8601 UTC time");
  std::string sig;
  if (!base64_decode(a.signature, sig) || sig.size() != 64)
    return bad(source, "signature", "is not a base64 Ed25519 signature (64 bytes)");
  return a;
}

Result<Approval> load_approval(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid(path + ": cannot read approval file: " + std::strerror(errno), "InvalidApproval");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded())
    return Error::invalid(path + ": not valid JSON (truncated or malformed approval file)", "InvalidApproval");
  return approval_from_json(doc, path);
}

Status write_approval(const Approval& a, const std::string& path) {
  std::string text = to_json(a).dump(2) + "\n";
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Error::io(path + ": cannot write approval file: " + std::strerror(errno));
  bool good = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  good = (::close(fd) == 0) && good;
  if (!good || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::io(path + ": cannot write approval file: " + std::strerror(err));
  }
  return Ok{};
}

std::string person_of(const std::string& requester) {
  auto arn = aws::parse_arn(requester);
  if (!arn.ok()) return lower(requester);
  switch (arn->kind) {
    case aws::ArnKind::kIamUser:
    case aws::ArnKind::kStsFederatedUser: return lower(arn->name);
    case aws::ArnKind::kStsAssumedRole: return lower(arn->session);
    case aws::ArnKind::kIamRole: return lower(arn->name);
    case aws::ArnKind::kIamRoot: return "root";
    default: break;
  }
  // GetCallerIdentity returns none of the other kinds; their resource is kept whole.
  return lower(arn->resource_text());
}

bool same_person(const std::string& approver, const std::string& requester) {
  if (requester.empty()) return false;
  std::string a = lower(approver), p = person_of(requester);
  if (a == p) return true;
  size_t at = p.find('@');
  if (at != std::string::npos && p.substr(0, at) == a) return true;
  at = a.find('@');
  return at != std::string::npos && a.substr(0, at) == p;
}

namespace {

// Settings may spell a principal in any case ("ARN:AWS:IAM::...:USER/Alice"); every field that
// identifies an IAM entity compares ignoring case, so parse the lower-cased text.
Result<aws::Arn> parse_lowered(const std::string& arn) { return aws::parse_arn(lower(arn)); }

}  // namespace

bool principal_matches(const std::string& principal, const std::string& caller_arn) {
  if (principal.empty() || caller_arn.empty()) return false;
  auto p = parse_lowered(principal), c = parse_lowered(caller_arn);
  // Text that is not a valid ARN names nothing but itself.
  if (!p.ok() || !c.ok()) return lower(principal) == lower(caller_arn);
  // Anything else (a session: one role and one session name) names only itself, ignoring case.
  if (*p == *c) return true;
  // A user or role is one entity whatever the path either ARN spells (IAM names are unique in an
  // account regardless of path); a role covers every session of it.
  return p->is_iam_principal() && aws::same_iam_entity(*p, aws::principal_of(*c));
}

bool approver_is(const std::string& name, const ApproverSpec& spec, const std::string& caller_arn) {
  if (caller_arn.empty()) return false;
  for (const auto& p : spec.principals)
    if (principal_matches(p, caller_arn)) return true;
  return same_person(name, caller_arn);
}

std::string approval_id(const Approval& a) { return aws::sha256_hex(a.signature); }

Result<std::string> approver_public_key(const std::string& name, const std::map<std::string, ApproverSpec>& approvers) {
  auto it = approvers.find(name);
  if (it == approvers.end())
    return Error::refused("approver '" + name + "' is not listed in the settings' approvers");
  CC_ASSIGN(std::string pem, read_public_key(it->second.public_key));
  if (!it->second.fingerprint.empty()) {
    CC_ASSIGN(std::string fp, key_fingerprint(pem));
    if (lower(fp) != lower(it->second.fingerprint))
      return Error::refused("the public key " + it->second.public_key + " of approver '" + name + "' has fingerprint " +
                            fp + ", not the " + it->second.fingerprint + " the settings pin: the key file was replaced");
  }
  return pem;
}

ApprovalDecision evaluate_approvals(const std::vector<std::pair<std::string, Approval>>& approvals,
                                    const ApprovalCheck& check) {
  ApprovalDecision d;
  std::set<std::string> seen;  // lower-cased accepted approvers
  for (const auto& [source, a] : approvals) {
    auto refuse = [&, &source = source, &a = a](const std::string& why) {
      d.refusals.push_back(source + ": approval by '" + a.approver + "' refused: " + why);
    };
    auto pem = approver_public_key(a.approver, check.approvers);
    if (!pem.ok()) {
      refuse(pem.error().message);
      continue;
    }
    const ApproverSpec& spec = check.approvers.at(a.approver);
    auto good = verify_message(*pem, signing_payload(a), a.signature);
    if (!good.ok() || !*good) {
      refuse("signature does not verify with the public key " + spec.public_key);
      continue;
    }
    if (a.plan_hash != check.plan_hash) {
      refuse("it is for another plan (plan_hash " + a.plan_hash.substr(0, 12) + "..., this plan is " +
             check.plan_hash.substr(0, 12) + "...)");
      continue;
    }
    aws::TimePoint issued, expires;
    if (!aws::parse_time(a.issued_at, issued) || !aws::parse_time(a.expires_at, expires)) {
      refuse("issued_at or expires_at is not a time");
      continue;
    }
    if (expires <= issued) {
      refuse("expires_at is not after issued_at");
      continue;
    }
    if (check.now >= expires) {
      refuse("expired at " + a.expires_at);
      continue;
    }
    if (issued > check.now + kMaxClockSkew) {
      refuse("issued in the future (" + a.issued_at + "), beyond the allowed clock skew");
      continue;
    }
    std::string self;
    for (const auto& [what, arn] : check.excluded)
      if (self.empty() && approver_is(a.approver, spec, arn)) self = what + " (" + arn + ")";
    if (!self.empty()) {
      refuse("the approver is " + self + "; someone else must approve");
      continue;
    }
    if (!seen.insert(lower(a.approver)).second) {
      refuse("duplicate approver: counts once");
      continue;
    }
    d.accepted.push_back(a.approver);
    d.accepted_approvals.push_back({source, a.approver, approval_id(a)});
  }
  d.satisfied = static_cast<int>(d.accepted.size()) >= check.required;
  return d;
}

ApprovalDecision evaluate_approvals(const std::vector<std::pair<std::string, Approval>>& approvals,
                                    const std::string& plan_hash, const std::string& requester,
                                    const std::map<std::string, std::string>& approver_keys, int required,
                                    aws::TimePoint now) {
  ApprovalCheck check;
  check.plan_hash = plan_hash;
  if (!requester.empty()) check.excluded.push_back({"the requester", requester});
  for (const auto& [name, path] : approver_keys) check.approvers[name] = ApproverSpec{path, "", {}};
  check.required = required;
  check.now = now;
  return evaluate_approvals(approvals, check);
}

Result<std::chrono::seconds> parse_duration(const std::string& text) {
  if (text.empty()) return Error::invalid("duration is empty (use e.g. 30m, 4h, 1d)", "InvalidDuration");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i == text.size() || i - start > 9)
      return Error::invalid("duration '" + text + "' is not like 30m, 4h, 1d or 1h30m", "InvalidDuration");
    int64_t n = std::stoll(text.substr(start, i - start));
    switch (text[i]) {
      case 's': total += n; break;
      case 'm': total += n * 60; break;
      case 'h': total += n * 3600; break;
      case 'd': total += n * 86400; break;
      default:
        return Error::invalid("duration '" + text + "' has unit '" + text[i] + "' (use s, m, h or d)",
                              "InvalidDuration");
    }
    ++i;
  }
  if (total <= 0) return Error::invalid("duration '" + text + "' must be positive", "InvalidDuration");
  return std::chrono::seconds(total);
}

}  // namespace containctl::approvals
