#include "orchestrator/findings.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "actions/target.h"

namespace containctl::orch {

using nlohmann::json;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Walks a finding, remembering where it is so every error names the file and the field.
struct Walker {
  std::string source;

  Error bad(const std::string& path, const std::string& what) const {
    return Error::invalid(source + ": " + (path.empty() ? "" : path + ": ") + what, "InvalidFinding");
  }
  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  // The API prints PascalCase, EventBridge carries camelCase: accept either spelling.
  // How a missing field would be spelled here: camelCase inside an EventBridge detail.
  static std::string spell(const json& obj, std::string_view name) {
    std::string s(name);
    bool camel = obj.is_object() && !obj.empty();
    for (const auto& [k, v] : obj.items()) camel = camel && !k.empty() && std::islower(static_cast<unsigned char>(k[0]));
    if (camel && !s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    return s;
  }
  static const json* find(const json& obj, std::string_view name, std::string* spelled = nullptr) {
    if (spelled) *spelled = spell(obj, name);
    if (!obj.is_object()) return nullptr;
    for (const auto& [k, v] : obj.items()) {
      if (iequals(k, name)) {
        if (spelled) *spelled = k;
        return &v;
      }
    }
    return nullptr;
  }
  Result<const json*> object(const json& obj, const std::string& path, std::string_view name,
                             std::string& child_path) const {
    std::string spelled(name);
    const json* v = find(obj, name, &spelled);
    child_path = join(path, spelled);
    if (!v) return bad(child_path, "is missing");
    if (!v->is_object()) return bad(child_path, "must be an object");
    return v;
  }
  Result<std::string> string(const json& obj, const std::string& path, std::string_view name) const {
    std::string spelled(name);
    const json* v = find(obj, name, &spelled);
    if (!v) return bad(join(path, spelled), "is missing");
    if (!v->is_string() || v->get_ref<const std::string&>().empty())
      return bad(join(path, spelled), "must be a non-empty string");
    return v->get<std::string>();
  }
  static std::string optional(const json& obj, std::string_view name) {
    const json* v = find(obj, name);
    return v && v->is_string() ? v->get<std::string>() : "";
  }
  // The ARN must be one containctl accepts (partition, service, type).
  Result<std::string> checked(const std::string& arn, const std::string& path) const {
    auto t = actions::parse_target_arn(arn);
    if (!t.ok()) return bad(path, "gives target " + arn + ", which is not usable: " + t.error().message);
    return arn;
  }
};

struct KeyOwner {
  std::string key_id, principal_name, principal_type, account, partition;
};

// The AKIA/ASIA rule shared by GuardDuty AccessKeyDetails and ASFF AwsIamAccessKey.
Result<FindingTarget> target_for_key(const Walker& w, const KeyOwner& k, const std::string& path) {
  FindingTarget t;
  t.access_key_id = k.key_id;
  std::string type = k.principal_type;
  bool akia = k.key_id.rfind("AKIA", 0) == 0, asia = k.key_id.rfind("ASIA", 0) == 0;
  if (iequals(type, "Root"))
    return w.bad(path, "the access key belongs to the account root user, which cannot be contained by policy; "
                       "secure the root credentials by hand");
  std::string kind;
  if (iequals(type, "IAMUser")) {
    kind = "user";
  } else if (iequals(type, "AssumedRole") || iequals(type, "Role")) {
    kind = "role";
  } else if (!type.empty()) {
    return w.bad(path, "principal type '" + type + "' is not supported (IAMUser, AssumedRole)");
  } else if (akia) {
    kind = "user";
  } else if (asia) {
    kind = "role";
  } else {
    return w.bad(path, "no principal type, and access key id '" + k.key_id + "' is neither AKIA nor ASIA");
  }
  if (k.principal_name.empty()) return w.bad(path, "the principal name of the access key is missing");
  t.arn = "arn:" + k.partition + ":iam::" + k.account + ":" + kind + "/" + k.principal_name;
  std::string key = k.key_id.empty() ? "an access key" : "access key " + k.key_id;
  if (kind == "user" && asia)
    t.note = "temporary credentials " + k.key_id + " of IAM user " + k.principal_name +
             " (GetSessionToken); containing the user also revokes them";
  else if (kind == "user")
    t.note = key + " of IAM user " + k.principal_name + " is named in the finding";
  else
    t.note = key + " is a session of role " + k.principal_name +
             "; the role is contained because session credentials cannot be revoked one by one";
  return t;
}

Status guardduty(const Walker& w, const json& f, const std::string& path, std::vector<FindingTarget>& out) {
  std::string rpath;
  CC_ASSIGN(const json* resource, w.object(f, path, "Resource", rpath));
  CC_ASSIGN(std::string rtype, w.string(*resource, rpath, "ResourceType"));
  std::string partition = w.optional(f, "Partition");
  if (partition.empty()) partition = "aws";
  std::string id = w.optional(f, "Id"), type = w.optional(f, "Type");
  auto add = [&](FindingTarget t, const std::string& where) -> Status {
    CC_ASSIGN(t.arn, w.checked(t.arn, where));
    t.finding_id = id;
    t.finding_type = type;
    t.source = w.source;
    out.push_back(std::move(t));
    return Ok{};
  };
  if (iequals(rtype, "Instance")) {
    std::string dpath;
    CC_ASSIGN(const json* details, w.object(*resource, rpath, "InstanceDetails", dpath));
    CC_ASSIGN(std::string instance, w.string(*details, dpath, "InstanceId"));
    CC_ASSIGN(std::string region, w.string(f, path, "Region"));
    CC_ASSIGN(std::string account, w.string(f, path, "AccountId"));
    FindingTarget t;
    t.arn = "arn:" + partition + ":ec2:" + region + ":" + account + ":instance/" + instance;
    t.note = "instance named by GuardDuty finding " + type;
    return add(std::move(t), Walker::join(dpath, "InstanceId"));
  }
  if (iequals(rtype, "AccessKey")) {
    std::string dpath;
    CC_ASSIGN(const json* details, w.object(*resource, rpath, "AccessKeyDetails", dpath));
    KeyOwner k;
    k.key_id = w.optional(*details, "AccessKeyId");
    k.principal_type = w.optional(*details, "UserType");
    if (!iequals(k.principal_type, "Root")) {
      CC_ASSIGN(k.principal_name, w.string(*details, dpath, "UserName"));
    }
    CC_ASSIGN(k.account, w.string(f, path, "AccountId"));
    k.partition = partition;
    CC_ASSIGN(FindingTarget t, target_for_key(w, k, dpath));
    return add(std::move(t), dpath);
  }
  if (iequals(rtype, "S3Bucket")) {
    std::string spelled = "S3BucketDetails";
    const json* buckets = Walker::find(*resource, "S3BucketDetails", &spelled);
    std::string bpath = Walker::join(rpath, spelled);
    if (!buckets) return w.bad(bpath, "is missing");
    if (!buckets->is_array() || buckets->empty()) return w.bad(bpath, "must be a non-empty array");
    std::string actor;
    if (const json* keys = Walker::find(*resource, "AccessKeyDetails"); keys && keys->is_object())
      actor = w.optional(*keys, "AccessKeyId");
    for (size_t i = 0; i < buckets->size(); ++i) {
      std::string ipath = bpath + "[" + std::to_string(i) + "]";
      if (!(*buckets)[i].is_object()) return w.bad(ipath, "must be an object");
      CC_ASSIGN(std::string name, w.string((*buckets)[i], ipath, "Name"));
      FindingTarget t;
      t.arn = "arn:" + partition + ":s3:::" + name;
      t.note = "bucket named by GuardDuty finding " + type + (actor.empty() ? "" : " (accessed with key " + actor + ")");
      CC_TRY(add(std::move(t), Walker::join(ipath, "Name")));
    }
    return Ok{};
  }
  return w.bad(Walker::join(rpath, "ResourceType"),
               "resource type '" + rtype + "' is not supported (Instance, AccessKey, S3Bucket)");
}

// One ASFF resource -> a target, or an error; `unsupported` is set for a type we do not handle.
Result<FindingTarget> asff_resource(const Walker& w, const json& f, const json& r, const std::string& path,
                                    const std::string& rtype, bool& unsupported) {
  std::string partition = w.optional(r, "Partition");
  if (partition.empty()) partition = "aws";
  std::string region = w.optional(r, "Region");
  if (region.empty()) region = w.optional(f, "Region");
  CC_ASSIGN(std::string rid, w.string(r, path, "Id"));
  std::string idpath = Walker::join(path, "Id");
  bool is_arn = rid.rfind("arn:", 0) == 0;
  const json* details = Walker::find(r, "Details");
  std::string dpath = Walker::join(path, "Details");
  auto account = [&]() { return w.string(f, "", "AwsAccountId"); };
  FindingTarget t;
  if (rtype == "AwsEc2Instance") {
    if (is_arn) {
      t.arn = rid;
    } else if (rid.rfind("i-", 0) == 0) {
      if (region.empty()) return w.bad(Walker::join(path, "Region"), "is missing (needed to build the instance ARN)");
      CC_ASSIGN(std::string acct, account());
      t.arn = "arn:" + partition + ":ec2:" + region + ":" + acct + ":instance/" + rid;
    } else {
      return w.bad(idpath, "'" + rid + "' is neither an instance ARN nor an instance id");
    }
    t.note = "instance named by Security Hub finding";
    CC_ASSIGN(t.arn, w.checked(t.arn, idpath));
    return t;
  }
  if (rtype == "AwsIamUser" || rtype == "AwsIamRole") {
    bool user = rtype == "AwsIamUser";
    if (is_arn) {
      t.arn = rid;
    } else {
      std::string sub = user ? "AwsIamUser" : "AwsIamRole", spath;
      if (!details) return w.bad(dpath, "is missing (the resource Id is not an ARN)");
      CC_ASSIGN(const json* d, w.object(*details, dpath, sub, spath));
      CC_ASSIGN(std::string name, w.string(*d, spath, user ? "UserName" : "RoleName"));
      std::string iam_path = w.optional(*d, "Path");
      if (iam_path.empty()) iam_path = "/";
      CC_ASSIGN(std::string acct, account());
      t.arn = "arn:" + partition + ":iam::" + acct + ":" + (user ? "user" : "role") + iam_path + name;
    }
    t.note = std::string(user ? "user" : "role") + " named by Security Hub finding";
    CC_ASSIGN(t.arn, w.checked(t.arn, idpath));
    return t;
  }
  if (rtype == "AwsIamAccessKey") {
    std::string spath;
    if (!details) return w.bad(dpath, "is missing");
    CC_ASSIGN(const json* d, w.object(*details, dpath, "AwsIamAccessKey", spath));
    KeyOwner k;
    k.key_id = w.optional(*d, "AccessKeyId");
    if (k.key_id.empty() && rid.find("AKIA") != std::string::npos) k.key_id = rid.substr(rid.find("AKIA"));
    if (k.key_id.empty() && rid.find("ASIA") != std::string::npos) k.key_id = rid.substr(rid.find("ASIA"));
    k.principal_type = w.optional(*d, "PrincipalType");
    k.principal_name = w.optional(*d, "PrincipalName");
    if (k.principal_name.empty()) k.principal_name = w.optional(*d, "UserName");  // deprecated spelling
    if (k.principal_name.empty() && !iequals(k.principal_type, "Root"))
      return w.bad(Walker::join(spath, "PrincipalName"), "is missing");
    k.account = w.optional(*d, "AccountId");
    if (k.account.empty()) {
      CC_ASSIGN(k.account, account());
    }
    k.partition = partition;
    CC_ASSIGN(t, target_for_key(w, k, spath));
    CC_ASSIGN(t.arn, w.checked(t.arn, spath));
    return t;
  }
  if (rtype == "AwsS3Bucket") {
    if (is_arn) {
      t.arn = rid;
    } else if (rid.find(':') == std::string::npos && rid.find('/') == std::string::npos) {
      t.arn = "arn:" + partition + ":s3:::" + rid;
    } else {
      return w.bad(idpath, "'" + rid + "' is neither a bucket ARN nor a bucket name");
    }
    t.note = "bucket named by Security Hub finding";
    CC_ASSIGN(t.arn, w.checked(t.arn, idpath));
    return t;
  }
  unsupported = true;
  return w.bad(Walker::join(path, "Type"), "resource type '" + rtype +
                                               "' is not supported (AwsEc2Instance, AwsIamUser, AwsIamRole, "
                                               "AwsIamAccessKey, AwsS3Bucket)");
}

Status asff(const Walker& w, const json& f, const std::string& path, std::vector<FindingTarget>& out) {
  std::string spelled = "Resources";
  const json* resources = Walker::find(f, "Resources", &spelled);
  std::string rpath = Walker::join(path, spelled);
  if (!resources) return w.bad(rpath, "is missing");
  if (!resources->is_array() || resources->empty()) return w.bad(rpath, "must be a non-empty array");
  std::string id = w.optional(f, "Id"), type;
  if (const json* types = Walker::find(f, "Types"); types && types->is_array() && !types->empty() &&
                                                      (*types)[0].is_string())
    type = (*types)[0].get<std::string>();
  Walker scoped{w.source};
  std::vector<FindingTarget> found;
  std::optional<Error> first_unsupported;
  for (size_t i = 0; i < resources->size(); ++i) {
    std::string ipath = rpath + "[" + std::to_string(i) + "]";
    const json& r = (*resources)[i];
    if (!r.is_object()) return w.bad(ipath, "must be an object");
    CC_ASSIGN(std::string rtype, w.string(r, ipath, "Type"));
    bool unsupported = false;
    auto t = asff_resource(scoped, f, r, ipath, rtype, unsupported);
    if (!t.ok()) {
      if (!unsupported) return t.error();
      if (!first_unsupported) first_unsupported = t.error();
      spdlog::warn("{}", t.error().message);
      continue;
    }
    t->finding_id = id;
    t->finding_type = type;
    t->source = w.source;
    found.push_back(std::move(*t));
  }
  if (found.empty() && first_unsupported) return *first_unsupported;
  for (auto& t : found) out.push_back(std::move(t));
  return Ok{};
}

Status one_finding(const Walker& w, const json& f, const std::string& path, std::vector<FindingTarget>& out) {
  if (!f.is_object()) return w.bad(path, "a finding must be a JSON object");
  if (Walker::find(f, "Resources")) return asff(w, f, path, out);
  if (Walker::find(f, "Resource")) return guardduty(w, f, path, out);
  return w.bad(path, "neither a GuardDuty finding (no Resource) nor a Security Hub ASFF finding (no Resources)");
}

Status findings_array(const Walker& w, const json& arr, const std::string& path, std::vector<FindingTarget>& out) {
  if (!arr.is_array()) return w.bad(path, "must be an array of findings");
  if (arr.empty()) return w.bad(path, "contains no findings");
  for (size_t i = 0; i < arr.size(); ++i) CC_TRY(one_finding(w, arr[i], path + "[" + std::to_string(i) + "]", out));
  return Ok{};
}

}  // namespace

Result<std::vector<FindingTarget>> targets_from_finding(const json& doc, const std::string& source_name) {
  Walker w{source_name};
  std::vector<FindingTarget> raw;
  if (doc.is_array()) {
    CC_TRY(findings_array(w, doc, "", raw));
  } else if (!doc.is_object()) {
    return w.bad("", "a finding file holds a JSON object");
  } else if (doc.contains("detail-type")) {
    if (!doc["detail-type"].is_string()) return w.bad("detail-type", "must be a string");
    std::string dt = doc["detail-type"].get<std::string>();
    if (!doc.contains("detail") || !doc["detail"].is_object()) return w.bad("detail", "is missing or not an object");
    if (dt == "GuardDuty Finding") {
      CC_TRY(one_finding(w, doc["detail"], "detail", raw));
    } else if (dt.rfind("Security Hub Findings", 0) == 0) {
      std::string spelled = "findings";
      const json* arr = Walker::find(doc["detail"], "findings", &spelled);
      if (!arr) return w.bad("detail." + spelled, "is missing");
      CC_TRY(findings_array(w, *arr, "detail." + spelled, raw));
    } else {
      return w.bad("detail-type", "'" + dt + "' is not a GuardDuty or Security Hub finding event");
    }
  } else if (std::string spelled = "Findings"; const json* arr = Walker::find(doc, "Findings", &spelled)) {
    CC_TRY(findings_array(w, *arr, spelled, raw));
  } else {
    CC_TRY(one_finding(w, doc, "", raw));
  }
  // One target once, even when several findings name it.
  std::vector<FindingTarget> out;
  std::set<std::string> seen;
  for (auto& t : raw) {
    if (seen.insert(t.arn).second) out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<FindingTarget>> load_finding_file(const std::string& path_or_dash) {
  std::string source = path_or_dash == "-" ? "<stdin>" : path_or_dash;
  std::string text;
  if (path_or_dash == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    std::ifstream in(path_or_dash, std::ios::binary);
    if (!in) return Error::invalid(source + ": cannot read finding file", "InvalidFinding");
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return Error::invalid(source + ": the finding file is empty", "InvalidFinding");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error::invalid(source + ": not valid JSON (truncated or malformed finding) near byte " +
                              std::to_string(e.byte),
                          "InvalidFinding");
  }
  return targets_from_finding(doc, source);
}

}  // namespace containctl::orch
