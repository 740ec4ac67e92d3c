#include "actions/s3_policy.h"

#include <algorithm>
#include <regex>

#include "aws/sigv4.h"

namespace containctl::actions::s3 {

std::string object_deny_sid(const std::string& key) {
  return "ContainctlDenyObject" + aws::sha256_hex(key).substr(0, 16);
}

Result<std::vector<std::string>> principal_patterns(const std::string& arn) {
  auto bad = [&](const std::string& why) {
    return Error::invalid("S3 allow-list entry '" + arn + "': " + why, "InvalidAllowPrincipal");
  };
  static const std::regex kSession(R"(^arn:(aws|aws-cn|aws-us-gov):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/[^/]+$)");
  static const std::regex kIam(R"(^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}|\*):(root|(user|role)/(.+))$)");
  static const std::regex kFederated(R"(^arn:(aws|aws-cn|aws-us-gov):sts::(\d{12}):federated-user/[\w+=,.@-]+$)");
  std::smatch m;
  if (std::regex_match(arn, m, kSession)) {
    std::string base = "arn:" + m[1].str() + ":iam::" + m[2].str() + ":role/";
    return std::vector<std::string>{base + m[3].str(), base + "*/" + m[3].str()};
  }
  if (std::regex_match(arn, m, kIam)) {
    // "role/*" or "user/**" would let every role or user through and void the containment.
    std::string rest = m[5].str();
    if (m[3].str() != "root" && rest.find_first_not_of("*/") == std::string::npos)
      return bad("matches every " + m[4].str() + " in the account, which would leave the bucket open");
    return std::vector<std::string>{arn};
  }
  if (std::regex_match(arn, m, kFederated)) return std::vector<std::string>{arn};
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

ordered_json bucket_deny_statement(const std::string& partition, const std::string& bucket,
                                   const std::vector<std::string>& patterns) {
  std::string arn = "arn:" + partition + ":s3:::" + bucket;
  return deny_statement(kBucketDenySid, ordered_json::array({arn, arn + "/*"}), patterns);
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

ordered_json object_deny_statement(const std::string& partition, const std::string& bucket, const std::string& key,
                                   const std::vector<std::string>& patterns, bool policy_variables) {
  std::string arn = "arn:" + partition + ":s3:::" + bucket + "/" + resource_key(key, policy_variables);
  return deny_statement(object_deny_sid(key), arn, patterns);
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
  return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump());
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
  std::string sid = string_field(statement, "Sid");
  bool replaced = false;
  for (auto& s : doc["Statement"]) {
    if (string_field(s, "Sid") == sid) {
      s = statement;
      replaced = true;
    }
  }
  if (!replaced) doc["Statement"].push_back(statement);
  std::string out = doc.dump(2);
  if (out.size() > kMaxBucketPolicyBytes)
    return Error::invalid("adding the deny statement would make the bucket policy " + std::to_string(out.size()) +
                              " bytes, over S3's 20 KB limit",
                          "PolicyTooLarge");
  return out;
}

bool supports_policy_variables(const std::string& current_text) {
  if (current_text.empty()) return true;
  auto doc = ordered_json::parse(current_text, nullptr, false);
  return string_field(doc, "Version") == "2012-10-17";
}

}  // namespace containctl::actions::s3
