#include "actions/s3_policy.h"

#include <algorithm>

#include "aws/arn.h"
#include "aws/sigv4.h"

namespace containctl::actions::s3 {

std::string object_deny_sid(const std::string& key) {
  return "ContainctlDenyObject" + aws::sha256_hex(key).substr(0, 16);
}

Result<std::vector<std::string>> principal_patterns(const std::string& arn) {
  auto bad = [&](const std::string& why) {
    return Error::invalid("S3 allow-list entry '" + arn + "': " + why, "InvalidAllowPrincipal");
  };
  const bool wildcards = arn.find_first_of("*?") != std::string::npos;
  // The entry is an ARN in which an IAM user or role path and name may hold the ArnLike wildcards:
  // aws::Arn validates it with each wildcard read as a name character (1:1, so offsets hold).
  std::string probe = arn;
  std::replace_if(probe.begin(), probe.end(), [](char c) { return c == '*' || c == '?'; }, 'x');
  auto a = aws::parse_arn(probe);
  if (!a.ok() || (wildcards && !a->is_iam_principal()) ||
      arn.compare(0, arn.size() - a->resource_text().size(), probe, 0, probe.size() - a->resource_text().size()) != 0)
    return bad("expected an IAM role, user or account root ARN (wildcards only in a user or role path and name), "
               "an assumed-role session ARN or a federated-user ARN, in one account");
  switch (a->kind) {
    case aws::ArnKind::kStsAssumedRole: {
      // aws:PrincipalArn of a session is its role's ARN, with the role's path.
      CC_ASSIGN(aws::Arn role, aws::iam_arn(a->partition, a->account, aws::ArnKind::kIamRole, a->name));
      CC_ASSIGN(aws::Arn any_path, aws::iam_arn(a->partition, a->account, aws::ArnKind::kIamRole, a->name, "/*/"));
      return std::vector<std::string>{role.str(), any_path.str()};
    }
    case aws::ArnKind::kIamUser:
    case aws::ArnKind::kIamRole: {
      // "role/*" or "user/*/?*" would let every role or user through and void the containment.
      std::string_view after_kind = std::string_view(arn).substr(arn.size() - a->resource_text().size() + 5);
      if (after_kind.find_first_not_of("*?/") == std::string_view::npos)
        return bad(std::string("matches every ") + (a->kind == aws::ArnKind::kIamUser ? "user" : "role") +
                   " in the account, which would leave the bucket open");
      return std::vector<std::string>{arn};
    }
    case aws::ArnKind::kIamRoot:
    case aws::ArnKind::kStsFederatedUser: return std::vector<std::string>{arn};
    default: break;
  }
  return bad("expected an IAM role, user or account root ARN, an assumed-role session ARN or a federated-user ARN");
}

Result<std::vector<std::string>> allow_list_patterns(const std::vector<std::string>& principals) {
  std::vector<std::string> out;
  for (const auto& p : principals) {
    CC_ASSIGN(auto patterns, principal_patterns(p));
    for (auto& pat : patterns)
      if (std::find(out.begin(), out.end(), pat) == out.end()) out.push_back(std::move(pat));
  }
  if (out.empty())
    return Error::invalid("the S3 allow-list is empty: containment would lock out the tool's own rollback",
                          "EmptyAllowList");
  return out;
}

namespace {

// value() throws on a type mismatch; policies come from outside, so look before reading.
std::string string_field(const ordered_json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ordered_json deny_statement(const std::string& sid, ordered_json resource, const std::vector<std::string>& patterns) {
  ordered_json st;
  st["Sid"] = sid;
  st["Effect"] = "Deny";
  st["Principal"] = "*";
  st["Action"] = "s3:*";
  st["Resource"] = std::move(resource);
  // ArnNotLike on aws:PrincipalArn rather than NotPrincipal: see docs/s3.md. A request without
  // the key (anonymous) makes the negated operator true, so anonymous access is denied too.
  st["Condition"]["ArnNotLike"]["aws:PrincipalArn"] = patterns;
  return st;
}

}  // namespace

Result<ordered_json> bucket_deny_statement(const std::string& partition, const std::string& bucket,
                                           const std::vector<std::string>& patterns) {
  CC_ASSIGN(aws::Arn arn, aws::s3_arn(partition, bucket));
  CC_ASSIGN(aws::Arn objects, aws::s3_arn(partition, bucket, "*"));
  return deny_statement(kBucketDenySid, ordered_json::array({arn.str(), objects.str()}), patterns);
}

std::string resource_key(const std::string& key, bool policy_variables) {
  if (!policy_variables) return key;
  std::string out;
  for (char c : key) {
    if (c == '*' || c == '?' || c == '$') {
      out += "${";
      out += c;
      out += "}";
    } else {
      out += c;
    }
  }
  return out;
}

Result<ordered_json> object_deny_statement(const std::string& partition, const std::string& bucket,
                                           const std::string& key, const std::vector<std::string>& patterns,
                                           bool policy_variables) {
  CC_ASSIGN(aws::Arn arn, aws::s3_arn(partition, bucket, resource_key(key, policy_variables)));
  return deny_statement(object_deny_sid(key), arn.str(), patterns);
}

std::string single_statement_policy(const ordered_json& statement) {
  ordered_json doc;
  doc["Version"] = "2012-10-17";
  doc["Statement"] = ordered_json::array({statement});
  return doc.dump(2);
}

Result<ordered_json> parse_policy(const std::string& text) {
  auto doc = ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Error{ErrorKind::kParse, "UnparseablePolicy", "the bucket policy is not a JSON object"};
  if (!doc.contains("Statement") || !(doc["Statement"].is_array() || doc["Statement"].is_object()))
    return Error{ErrorKind::kParse, "UnparseablePolicy", "the bucket policy has no Statement"};
  return doc;
}

ordered_json find_statement(const ordered_json& policy, const std::string& sid) {
  if (!policy.is_object() || !policy.contains("Statement")) return nullptr;
  const auto& st = policy["Statement"];
  auto matches = [&](const ordered_json& s) { return string_field(s, "Sid") == sid; };
  if (st.is_object()) return matches(st) ? st : ordered_json(nullptr);
  if (st.is_array())
    for (const auto& s : st)
      if (matches(s)) return s;
  return nullptr;
}

bool same_json(const ordered_json& a, const ordered_json& b) {
  // Through the unordered json type: object keys compare as sets. Both sides hold only text that
  // parsed or that we built from valid UTF-8, so the dumps cannot throw.
  return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump());
}

ordered_json statements(const ordered_json& policy) {
  if (!policy.is_object() || !policy.contains("Statement")) return ordered_json::array();
  const auto& st = policy["Statement"];
  if (st.is_array()) return st;
  return ordered_json::array({st});
}

namespace {
ordered_json without_sid(ordered_json st) {
  if (st.is_object()) st.erase("Sid");
  return st;
}
}  // namespace

bool has_equivalent_statement(const ordered_json& policy, const ordered_json& statement) {
  const ordered_json want = without_sid(statement);
  for (const auto& s : statements(policy))
    if (same_json(without_sid(s), want)) return true;
  return false;
}

ordered_json without_statement(const ordered_json& current, const ordered_json& before, const ordered_json& ours) {
  // What the apply replaced: the statements `before` had under our Sid (a decoy, an older deny).
  const std::string sid = string_field(ours, "Sid");
  std::vector<ordered_json> replaced;
  for (const auto& s : statements(before))
    if (string_field(s, "Sid") == sid && !same_json(s, ours)) replaced.push_back(s);
  const ordered_json now = statements(current);
  auto in_now = [&](const ordered_json& s) {
    return std::any_of(now.begin(), now.end(), [&](const ordered_json& n) { return same_json(n, s); });
  };
  replaced.erase(std::remove_if(replaced.begin(), replaced.end(), in_now), replaced.end());
  // Ours goes; the first replaced statement takes its place, so the order comes back too.
  ordered_json kept = ordered_json::array();
  size_t next = 0;
  for (const auto& s : now) {
    if (!same_json(s, ours))
      kept.push_back(s);
    else if (next < replaced.size())
      kept.push_back(replaced[next++]);
  }
  for (; next < replaced.size(); ++next) kept.push_back(replaced[next]);
  ordered_json out = current;
  out["Statement"] = std::move(kept);
  return out;
}

Result<std::string> with_statement(const std::string& current_text, const ordered_json& statement) {
  ordered_json doc;
  if (current_text.empty()) {
    doc["Version"] = "2012-10-17";
    doc["Statement"] = ordered_json::array();
  } else {
    CC_ASSIGN(doc, parse_policy(current_text));
    if (doc["Statement"].is_object()) doc["Statement"] = ordered_json::array({doc["Statement"]});
  }
  // The first statement named like ours becomes ours; further ones go (S3 refuses duplicate Sids).
  // Rollback puts back whatever was there under the name (without_statement).
  std::string sid = string_field(statement, "Sid");
  ordered_json kept = ordered_json::array();
  bool replaced = false;
  for (auto& s : doc["Statement"]) {
    if (string_field(s, "Sid") != sid) {
      kept.push_back(std::move(s));
    } else if (!replaced) {
      kept.push_back(statement);
      replaced = true;
    }
  }
  if (!replaced) kept.push_back(statement);
  doc["Statement"] = std::move(kept);
  std::string out;
  try {
    out = doc.dump(2);
  } catch (const nlohmann::json::exception&) {  // type_error 316: a string is not valid UTF-8
    return Error::invalid("the bucket policy with the deny statement is not valid UTF-8 (an object key that is not "
                          "UTF-8?)",
                          "InvalidUtf8");
  }
  if (out.size() > kMaxBucketPolicyBytes)
    return Error::invalid("adding the deny statement would make the bucket policy " + std::to_string(out.size()) +
                              " bytes, over S3's 20 KB limit",
                          "PolicyTooLarge");
  return out;
}

Status check_key_utf8(const std::string& bucket, const std::string& key) {
  try {
    (void)nlohmann::json(key).dump();
    return Ok{};
  } catch (const nlohmann::json::exception&) {
    std::string shown = nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return Error::invalid("S3 object key " + shown + " in bucket '" + bucket +
                              "' is not valid UTF-8: S3 keys and bucket policies are UTF-8, so no statement can name it",
                          "InvalidObjectKey");
  }
}

bool supports_policy_variables(const std::string& current_text) {
  if (current_text.empty()) return true;
  auto doc = ordered_json::parse(current_text, nullptr, false);
  return string_field(doc, "Version") == "2012-10-17";
}

}  // namespace containctl::actions::s3
