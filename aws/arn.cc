#include "aws/arn.h"

#include <algorithm>
#include <array>

#include "aws/endpoints.h"

namespace containctl::aws {
namespace {

bool all_of(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_alnum_dash(char c) { return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
// IAM user, role and session names: [\w+=,.@-]
bool is_iam_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || std::string_view("_+=,.@-").find(c) != std::string_view::npos;
}
// IAM path characters: U+0021 to U+007E
bool is_path_char(char c) { return c >= 0x21 && c <= 0x7e; }
bool is_printable(char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; }

bool valid_account12(std::string_view a) { return a.size() == 12 && all_of(a, is_digit); }
bool valid_iam_name(std::string_view n, size_t min = 1, size_t max = 128) {
  return n.size() >= min && n.size() <= max && all_of(n, is_iam_name_char);
}
bool valid_iam_path(std::string_view p) {
  if (p == "/") return true;
  return p.size() >= 3 && p.size() <= 512 && p.front() == '/' && p.back() == '/' && all_of(p, is_path_char);
}
bool valid_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  auto edge = [](char c) { return (c >= 'a' && c <= 'z') || is_digit(c); };
  if (!edge(b.front()) || !edge(b.back())) return false;
  return std::all_of(b.begin(), b.end(), [&](char c) { return edge(c) || c == '.' || c == '-'; });
}

Error bad(std::string_view text, const std::string& why) {
  return Error::invalid("ARN '" + std::string(text) + "': " + why, "InvalidArn");
}

Status check_iam_account(std::string_view text, const Arn& a) {
  if (!a.region.empty()) return bad(text, a.service + " ARNs have no region (got '" + a.region + "')");
  if (!valid_account12(a.account)) return bad(text, "account '" + a.account + "' is not 12 digits");
  return Ok{};
}

// user/[PATH/]NAME, role/[PATH/]NAME or instance-profile/[PATH/]NAME
Status parse_iam_path_name(std::string_view text, std::string_view res, Arn& a) {
  size_t first = res.find('/');
  size_t last = res.rfind('/');
  a.path = std::string(res.substr(first, last - first + 1));
  a.name = std::string(res.substr(last + 1));
  std::string what = a.kind == ArnKind::kIamUser ? "user" : a.kind == ArnKind::kIamRole ? "role" : "instance profile";
  if (!valid_iam_path(a.path))
    return bad(text, "IAM path '" + a.path + "' is not valid (expected / or /a/b/ of printable characters)");
  if (!valid_iam_name(a.name))
    return bad(text, "IAM " + what + " name '" + a.name + "' is not valid (1 to 128 of letters, digits, _+=,.@-)");
  return Ok{};
}

Status parse_sts(std::string_view text, std::string_view res, Arn& a) {
  if (res.starts_with("assumed-role/")) {
    a.kind = ArnKind::kStsAssumedRole;
    std::string_view rest = res.substr(13);
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return bad(text, "assumed-role ARN has no session name (assumed-role/ROLE/SESSION)");
    a.name = std::string(rest.substr(0, slash));
    a.session = std::string(rest.substr(slash + 1));
    if (!valid_iam_name(a.name)) return bad(text, "role name '" + a.name + "' is not valid");
    if (!valid_iam_name(a.session, 1, 64)) return bad(text, "session name '" + a.session + "' is not valid");
    return check_iam_account(text, a);
  }
  if (res.starts_with("federated-user/")) {
    a.kind = ArnKind::kStsFederatedUser;
    a.name = std::string(res.substr(15));
    if (!valid_iam_name(a.name, 1, 64)) return bad(text, "federated user name '" + a.name + "' is not valid");
    return check_iam_account(text, a);
  }
  a.resource = std::string(res);
  return Ok{};
}

Status parse_ec2(std::string_view text, std::string_view res, Arn& a) {
  if (!res.starts_with("instance/")) {
    a.resource = std::string(res);
    return Ok{};
  }
  a.kind = ArnKind::kEc2Instance;
  a.name = std::string(res.substr(9));
  auto part = partition_for_region(a.region);
  if (!part.ok()) return bad(text, "region '" + a.region + "' is not valid");
  if (part->name != a.partition) return bad(text, "region " + a.region + " is not in partition " + a.partition);
  if (!valid_account12(a.account)) return bad(text, "account '" + a.account + "' is not 12 digits");
  std::string_view id = a.name;
  if (!(id.starts_with("i-") && id.size() >= 10 && id.size() <= 19 && all_of(id.substr(2), is_hex)))
    return bad(text, "instance id '" + a.name + "' is not valid (expected i- and 8 to 17 lower-case hex digits)");
  return Ok{};
}

Status parse_s3(std::string_view text, std::string_view res, Arn& a) {
  if (!a.region.empty() || !a.account.empty()) {  // access points and other regional S3 resources
    a.resource = std::string(res);
    return Ok{};
  }
  size_t slash = res.find('/');
  a.name = std::string(res.substr(0, slash));
  if (!valid_bucket(a.name)) return bad(text, "'" + a.name + "' is not a valid bucket name");
  if (slash == std::string_view::npos) {
    a.kind = ArnKind::kS3Bucket;
    return Ok{};
  }
  a.kind = ArnKind::kS3Object;
  a.key = std::string(res.substr(slash + 1));
  if (a.key.empty()) return bad(text, "empty object key");
  return Ok{};
}

}  // namespace

Result<Arn> parse_arn(std::string_view text) {
  if (!all_of(text, is_printable)) return bad("(unprintable)", "contains control characters");
  std::array<std::string_view, 5> f;
  size_t start = 0;
  for (auto& field : f) {
    size_t colon = text.find(':', start);
    if (colon == std::string_view::npos)
      return bad(text, "not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)");
    field = text.substr(start, colon - start);
    start = colon + 1;
  }
  std::string_view res = text.substr(start);
  if (f[0] != "arn") return bad(text, "does not start with 'arn:'");
  Arn a;
  a.partition = std::string(f[1]);
  a.service = std::string(f[2]);
  a.region = std::string(f[3]);
  a.account = std::string(f[4]);
  if (!partition_by_name(a.partition).ok())
    return bad(text, "unsupported partition '" + a.partition + "' (expected aws, aws-cn or aws-us-gov)");
  if (a.service.empty() || !all_of(a.service, is_lower_alnum_dash)) return bad(text, "service '" + a.service + "' is not valid");
  if (!all_of(a.region, is_lower_alnum_dash)) return bad(text, "region '" + a.region + "' is not valid");
  if (!a.account.empty() && a.account != "aws" && !valid_account12(a.account))
    return bad(text, "account '" + a.account + "' is not 12 digits");
  if (res.empty()) return bad(text, "empty resource");

  Status st = Ok{};
  if (a.service == "iam" && (res.starts_with("user/") || res.starts_with("role/"))) {
    a.kind = res.starts_with("user/") ? ArnKind::kIamUser : ArnKind::kIamRole;
    st = check_iam_account(text, a);
    if (st.ok()) st = parse_iam_path_name(text, res, a);
  } else if (a.service == "iam" && res.starts_with("instance-profile/")) {
    a.kind = ArnKind::kIamInstanceProfile;
    st = check_iam_account(text, a);
    if (st.ok()) st = parse_iam_path_name(text, res, a);
  } else if (a.service == "iam" && res == "root") {
    a.kind = ArnKind::kIamRoot;
    st = check_iam_account(text, a);
  } else if (a.service == "sts") {
    st = parse_sts(text, res, a);
  } else if (a.service == "ec2") {
    st = parse_ec2(text, res, a);
  } else if (a.service == "s3") {
    st = parse_s3(text, res, a);
  } else {
    a.resource = std::string(res);
  }
  if (!st.ok()) return st.error();
  return a;
}

std::string Arn::resource_text() const {
  switch (kind) {
    case ArnKind::kIamUser: return "user" + path + name;
    case ArnKind::kIamRole: return "role" + path + name;
    case ArnKind::kIamRoot: return "root";
    case ArnKind::kIamInstanceProfile: return "instance-profile" + path + name;
    case ArnKind::kStsAssumedRole: return "assumed-role/" + name + "/" + session;
    case ArnKind::kStsFederatedUser: return "federated-user/" + name;
    case ArnKind::kEc2Instance: return "instance/" + name;
    case ArnKind::kS3Bucket: return name;
    case ArnKind::kS3Object: return name + "/" + key;
    case ArnKind::kGeneric: break;
  }
  return resource;
}

std::string Arn::str() const {
  return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource_text();
}

namespace {
// Builders print and parse back, so they validate exactly as parse_arn does; a field that would
// change the ARN's form (a path without slashes, a key with no bucket) is refused.
Result<Arn> reparse(const Arn& a) {
  auto back = parse_arn(a.str());
  if (back.ok() && (back->kind != a.kind || back->path != a.path || back->name != a.name))
    return Error::invalid("ARN '" + a.str() + "': fields do not form a valid ARN of the intended kind", "InvalidArn");
  return back;
}
}  // namespace

Result<Arn> iam_arn(const std::string& partition, const std::string& account, ArnKind user_or_role,
                    const std::string& name, const std::string& path) {
  if (user_or_role != ArnKind::kIamUser && user_or_role != ArnKind::kIamRole)
    return Error::internal("iam_arn: kind must be user or role");
  Arn a;
  a.kind = user_or_role;
  a.partition = partition;
  a.service = "iam";
  a.account = account;
  a.path = path.empty() ? "/" : path;
  a.name = name;
  return reparse(a);
}

Result<Arn> ec2_instance_arn(const std::string& partition, const std::string& region, const std::string& account,
                             const std::string& instance_id) {
  Arn a;
  a.kind = ArnKind::kEc2Instance;
  a.partition = partition;
  a.service = "ec2";
  a.region = region;
  a.account = account;
  a.name = instance_id;
  return reparse(a);
}

Result<Arn> s3_arn(const std::string& partition, const std::string& bucket, const std::string& key) {
  Arn a;
  a.kind = key.empty() ? ArnKind::kS3Bucket : ArnKind::kS3Object;
  a.partition = partition;
  a.service = "s3";
  a.name = bucket;
  a.key = key;
  return reparse(a);
}

Arn principal_of(const Arn& arn) {
  if (arn.kind != ArnKind::kStsAssumedRole) return arn;
  Arn r;
  r.kind = ArnKind::kIamRole;
  r.partition = arn.partition;
  r.service = "iam";
  r.account = arn.account;
  r.path = "/";
  r.name = arn.name;
  return r;
}

bool iam_name_equal(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

bool same_iam_entity(const Arn& a, const Arn& b) {
  return a.is_iam_principal() && a.kind == b.kind && a.partition == b.partition && a.account == b.account &&
         iam_name_equal(a.name, b.name);
}

}  // namespace containctl::aws
