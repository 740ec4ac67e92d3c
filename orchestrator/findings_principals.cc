// Principals (IAM users and roles) from the shapes GuardDuty and Security Hub use, and the checks
// every target from a finding goes through.
#include <algorithm>
#include <cctype>
#include <regex>

#include "actions/registry.h"
#include "orchestrator/findings_internal.h"

namespace containctl::orch::findings {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const json* field(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  if (auto it = obj.find(std::string(name)); it != obj.end()) return &*it;
  for (const auto& [k, v] : obj.items()) {
    if (iequals(k, name)) return &v;
  }
  return nullptr;
}

std::string str(const json& obj, std::string_view name) {
  const json* v = field(obj, name);
  return v && v->is_string() ? v->get<std::string>() : "";
}

const json* dig(const json& obj, std::initializer_list<std::string_view> names) {
  const json* cur = &obj;
  for (auto n : names) {
    cur = field(*cur, n);
    if (!cur || !cur->is_object()) return nullptr;
  }
  return cur;
}

bool known_partition(const std::string& p) { return p == "aws" || p == "aws-cn" || p == "aws-us-gov"; }

bool is_account_id(const std::string& s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void Judge::skip(const std::string& resource, const std::string& why) {
  ++produced;
  std::string reason = why + note_suffix;
  for (const auto& s : out->skipped) {
    if (s.finding_id == finding_id && s.resource == resource && s.reason == reason) return;
  }
  out->skipped.push_back({finding_id, resource, reason});
}

void Judge::target(const std::string& resource, const std::string& arn, std::string note, std::string key) {
  auto t = actions::parse_target_arn(arn);
  if (!t.ok()) return skip(resource, t.error().message);
  ++produced;
  FindingTarget ft;
  ft.arn = t->arn;
  ft.note = std::move(note) + note_suffix;
  ft.finding_id = finding_id;
  ft.finding_type = finding_type;
  ft.first_seen = first_seen;
  ft.product_arn = product_arn;
  ft.source = source;
  ft.access_key_id = std::move(key);
  for (auto* family : actions::all_families()) {
    if (family->handles(*t)) ft.families.push_back(family->name());
  }
  for (auto& existing : out->targets) {
    if (existing.arn != ft.arn) continue;
    // One target once, even when several findings or resources name it; keep a key if one names it.
    if (existing.access_key_id.empty()) existing.access_key_id = ft.access_key_id;
    return;
  }
  out->targets.push_back(std::move(ft));
}

void Judge::target(const std::string& resource, const Result<aws::Arn>& arn, std::string note, std::string key) {
  if (!arn.ok()) return skip(resource, arn.error().message);
  target(resource, arn->str(), std::move(note), std::move(key));
}

namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

// An IAM user or role named by its ARN (an assumed-role session ARN means its role).
Result<aws::Arn> iam_principal(const std::string& text) {
  CC_ASSIGN(aws::Arn a, aws::parse_arn(text));
  aws::Arn p = aws::principal_of(a);
  if (!p.is_iam_principal()) return Error::invalid("ARN '" + text + "' is not an IAM user or role");
  return p;
}

std::string kind_name(aws::ArnKind k) {
  switch (k) {
    case aws::ArnKind::kEc2Instance: return "instance";
    case aws::ArnKind::kIamUser: return "user";
    case aws::ArnKind::kIamRole: return "role";
    case aws::ArnKind::kS3Bucket: return "bucket";
    case aws::ArnKind::kS3Object: return "object";
    default: return "other";
  }
}

bool is_type(const std::string& t, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(), [&](std::string_view n) { return iequals(t, n); });
}

}  // namespace

void add_principal(Judge& j, const std::string& resource, const Principal& in) {
  Principal p = in;
  std::string account = p.account.empty() ? j.account : p.account;
  std::string key_note;
  if (iequals(p.key_id, "null")) p.key_id.clear();  // console logins carry no access key
  bool akia = starts_with(p.key_id, "AKIA"), asia = starts_with(p.key_id, "ASIA");
  if (!p.key_id.empty() && !akia && !asia) {
    key_note = " (the finding's key id '" + p.key_id + "' is not an AWS access key id and was ignored)";
    p.key_id.clear();
  }
  std::optional<Result<aws::Arn>> issuer_parsed;
  if (!p.issuer_arn.empty()) issuer_parsed = aws::parse_arn(p.issuer_arn);
  bool root = is_type(p.type, {"Root"}) || is_type(p.issuer_type, {"Root"}) ||
              (!p.principal_id.empty() && p.principal_id == account) ||
              (issuer_parsed && issuer_parsed->ok() && (*issuer_parsed)->kind == aws::ArnKind::kIamRoot);
  if (root)
    return j.skip(resource, "the account root user of " + account +
                                " cannot be contained by policy; secure the root credentials by hand "
                                "(MFA, delete its access keys)");
  if (!is_account_id(account))
    return j.skip(resource, "the principal's account '" + account + "' is not a 12-digit account id");

  // The session issuer, when the finding names one, is the principal to contain for any session.
  std::string issuer;
  aws::ArnKind issuer_kind = aws::ArnKind::kGeneric;
  if (!p.issuer_arn.empty()) {
    auto a = iam_principal(p.issuer_arn);
    if (!a.ok()) return j.skip(resource, "the session issuer: " + a.error().message);
    issuer = a->str();
    issuer_kind = a->kind;
    // The issuer's Type and its ARN must name the same kind of principal; when they disagree the
    // finding contradicts itself and neither can be believed (a user is not "the role" of a session).
    bool says_role = is_type(p.issuer_type, {"Role"}), says_user = is_type(p.issuer_type, {"User"});
    if ((says_role && issuer_kind != aws::ArnKind::kIamRole) || (says_user && issuer_kind != aws::ArnKind::kIamUser))
      return j.skip(resource, "the session issuer's Type is '" + p.issuer_type + "' but its ARN " + p.issuer_arn +
                                  " names a " + kind_name(issuer_kind) + ": the finding contradicts itself");
  } else if (!p.issuer_name.empty() && is_type(p.issuer_type, {"Role", "User"})) {
    issuer_kind = is_type(p.issuer_type, {"Role"}) ? aws::ArnKind::kIamRole : aws::ArnKind::kIamUser;
    auto a = aws::iam_arn(j.partition, account, issuer_kind, p.issuer_name);
    if (!a.ok()) return j.skip(resource, "the session issuer: " + a.error().message);
    issuer = a->str();
  }
  std::string key = p.key_id.empty() ? "a session" : "access key " + p.key_id;
  std::string key_id = p.key_id;
  auto from_issuer = [&](const std::string& why) {
    std::string what = p.key_id.empty() ? "a session issued by " : key + " is a session issued by ";
    j.target(resource, issuer, what + issuer + why + key_note, key_id);
  };
  // A session's kind fixes its issuer's: AssumeRole sessions come from a role, GetFederationToken
  // sessions from an IAM user.
  auto issuer_must_be = [&](aws::ArnKind want, const std::string& session) {
    if (issuer_kind == want) return true;
    j.skip(resource, "a " + session + " session is issued by a " + kind_name(want) + ", but the finding's session issuer " +
                         issuer + " is a " + kind_name(issuer_kind) + ": the finding contradicts itself");
    return false;
  };
  // A name is one path segment. "role/session" or "a/b" would make the last segment (a session
  // name the caller chose) look like the principal, so such names are refused, not split.
  auto bad_name = [&](const std::string& name) {
    if (starts_with(name, "arn:") || name.find_first_of("/:") == std::string::npos) return false;
    j.skip(resource, "'" + name + "' is not a user or role name (it contains '/' or ':')");
    return true;
  };
  auto user = [&](const std::string& name, const std::string& how) {
    if (name.empty()) return j.skip(resource, "the IAM user's name is missing");
    if (bad_name(name)) return;
    auto arn = starts_with(name, "arn:") ? iam_principal(name) : aws::iam_arn(j.partition, account, aws::ArnKind::kIamUser, name);
    std::string note = asia ? "temporary credentials " + p.key_id + " of IAM user " + name +
                                  " (GetSessionToken); containing the user also revokes them"
                       : p.key_id.empty() ? "IAM user " + name + " is named in the finding (" + how + ")"
                                          : "access key " + p.key_id + " of IAM user " + name + " is named in the finding";
    j.target(resource, arn, note + key_note, key_id);
  };
  auto role = [&](const std::string& name) {
    if (name.empty()) return j.skip(resource, "a role session, but neither the role's name nor the session issuer is given");
    if (bad_name(name)) return;
    auto arn = starts_with(name, "arn:") ? iam_principal(name) : aws::iam_arn(j.partition, account, aws::ArnKind::kIamRole, name);
    j.target(resource, arn,
             key + " is a session of role " + name +
                 "; the role is contained because session credentials cannot be revoked one by one" + key_note,
             key_id);
  };

  if (is_type(p.type, {"IAMUser"})) return user(p.name, "principal type IAMUser");
  if (is_type(p.type, {"AssumedRole", "Role"})) {
    if (issuer.empty()) return role(p.name);
    if (!issuer_must_be(aws::ArnKind::kIamRole, "role")) return;
    return from_issuer(" (the role the session belongs to)");
  }
  if (is_type(p.type, {"FederatedUser"})) {
    if (!issuer.empty()) {
      if (!issuer_must_be(aws::ArnKind::kIamUser, "federated user")) return;
      return from_issuer(" (GetFederationToken: the IAM user who issued it)");
    }
    return j.skip(resource, "a federated user session (GetFederationToken) of '" + p.name +
                                "'; the finding does not name the IAM user who issued it");
  }
  if (!p.type.empty())
    return j.skip(resource, "principal type '" + p.type + "' cannot be contained (IAMUser, AssumedRole and "
                            "FederatedUser with an issuer can)");
  // No type: the issuer, the principal id's prefix or the key's prefix decides.
  if (!issuer.empty()) return from_issuer("");
  if (starts_with(p.principal_id, "AIDA")) return user(p.name, "principal id " + p.principal_id);
  if (starts_with(p.principal_id, "AROA")) return role(p.name);
  if (akia) return user(p.name, "long-term key");
  if (asia)
    return j.skip(resource, "access key " + p.key_id + " (ASIA) has no principal type and no session issuer: "
                            "cannot tell a role session from an IAM user's session token");
  if (starts_with(p.name, "arn:")) return j.target(resource, iam_principal(p.name), "principal named by its ARN" + key_note);
  j.skip(resource, "no principal type, access key id, principal id or session issuer: cannot tell whether '" +
                       p.name + "' is an IAM user or a role");
}

std::optional<std::string> checked_arn(const std::string& arn, const ArnExpect& e, std::string& why,
                                       std::string& repaired_from) {
  auto agrees = [&](const aws::Arn& t, bool need_all) -> std::string {
    auto check = [&](const std::string& what, const std::string& want, const std::string& got) -> std::string {
      if (want.empty()) return need_all ? "the resource gives no " + what : "";
      return want == got ? "" : "the resource's " + what + " is '" + want + "' but the ARN says '" + got + "'";
    };
    std::string bad = check("partition", e.partition, t.partition);
    if (bad.empty()) bad = check("service", e.service, t.service);
    if (bad.empty()) bad = check("type", e.type, kind_name(t.kind));
    if (bad.empty() && t.service == "ec2") bad = check("region", e.region, t.region);
    if (bad.empty() && t.service != "s3" && need_all) bad = check("account", e.account, t.account);
    return bad;
  };
  auto parsed = aws::parse_arn(arn);
  if (parsed.ok()) {
    if (std::string bad = agrees(*parsed, false); !bad.empty()) {
      why = "ARN " + arn + " disagrees with the resource: " + bad;
      return std::nullopt;
    }
    return parsed->str();
  }
  // Known malformation (AWS's own documentation shows it): an empty field after the partition,
  // "arn:aws::ec2:us-east-1:123456789012:instance/i-...". The intended ARN is certain only when
  // every structured field of the resource says the same.
  for (const char* p : {"aws", "aws-cn", "aws-us-gov"}) {
    std::string prefix = std::string("arn:") + p + "::";
    if (!starts_with(arn, prefix)) continue;
    std::string candidate = std::string("arn:") + p + ":" + arn.substr(prefix.size());
    auto t = aws::parse_arn(candidate);
    if (!t.ok()) break;
    if (std::string bad = agrees(*t, true); !bad.empty()) {
      why = "ARN " + arn + " is malformed (empty field after the partition) and cannot be rebuilt: " + bad;
      return std::nullopt;
    }
    repaired_from = arn;
    return t->str();
  }
  why = parsed.error().message;
  return std::nullopt;
}

}  // namespace containctl::orch::findings
