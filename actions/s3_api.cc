#include "actions/s3_api.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "aws/endpoints.h"
#include "aws/response.h"

namespace containctl::actions::s3 {
namespace {

constexpr const char* kS3Ns = "http://s3.amazonaws.com/doc/2006-03-01/";

std::string xml_escape(const std::string& in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string describe(const Where& w) {
  return w.key.empty() ? "S3 bucket '" + w.bucket + "'" : "S3 object '" + w.bucket + "/" + w.key + "'";
}

// Turns "the bucket/key does not exist" into an error that names it; other errors pass through.
Error explain(const Error& e, const Where& w, const std::string& op) {
  Error out = e;
  if (e.code == "NoSuchBucket")
    out.message = "S3 bucket '" + w.bucket + "' does not exist (" + op + " answered NoSuchBucket)";
  else if (e.code == "NoSuchKey")
    out.message = "S3 object '" + w.bucket + "/" + w.key + "' does not exist (" + op + " answered NoSuchKey)";
  else
    out.message = describe(w) + ": " + e.message;
  return out;
}

struct Call {
  const char* operation;
  const char* method;
  const char* subresource;
  bool object = false;
  std::string body;
  std::vector<aws::Header> headers;
};

Result<aws::HttpResponse> send(aws::AwsClient& client, const Where& w, Call c) {
  aws::RestRequest r;
  r.operation = c.operation;
  r.method = c.method;
  r.bucket = w.bucket;
  if (c.object) r.key = w.key;
  r.query = {{c.subresource, ""}};
  r.headers = std::move(c.headers);
  if (r.method == std::string("PUT")) r.headers.push_back({"Content-MD5", content_md5(c.body)});
  r.body = std::move(c.body);
  auto resp = client.rest_xml("s3", w.region, r);
  if (!resp.ok()) return explain(resp.error(), w, c.operation);
  return resp;
}

Status send_status(aws::AwsClient& client, const Where& w, Call c) {
  CC_TRY(send(client, w, std::move(c)));
  return Ok{};
}

// A GET whose "configuration does not exist" answer is a normal state.
Result<aws::XmlResponse> get_config(aws::AwsClient& client, const Where& w, Call c, const char* absent_code,
                                    bool& present) {
  auto resp = send(client, w, std::move(c));
  if (!resp.ok()) {
    if (resp.error().code == absent_code) {
      present = false;
      return aws::XmlResponse{};
    }
    return resp.error();
  }
  present = true;
  return aws::parse_xml(*resp);
}

json owner_of(const json& acl) { return acl.value("owner", json::object()); }

bool xml_bool(pugi::xml_node root, const char* name) { return aws::xml_text(root, name) == "true"; }

json read_pab(pugi::xml_node root) {
  json out = {{"present", true}};
  for (const char* f : kPabFields) out[f] = xml_bool(root, f);
  return out;
}

std::string pab_xml(const json& config, const char* ns) {
  std::string x = std::string("<PublicAccessBlockConfiguration xmlns=\"") + ns + "\">";
  for (const char* f : kPabFields) {
    bool v = config.contains(f) && config[f].is_boolean() && config[f].get<bool>();
    x += std::string("<") + f + ">" + (v ? "true" : "false") + "</" + f + ">";
  }
  return x + "</PublicAccessBlockConfiguration>";
}

std::string grantee_type(pugi::xml_node grantee) {
  for (pugi::xml_attribute a : grantee.attributes()) {
    std::string_view n = a.name();
    if (n == "type" || (n.size() > 5 && n.substr(n.size() - 5) == ":type")) return a.value();
  }
  return {};
}

}  // namespace

std::string content_md5(const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), digest, &len, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out), n);
}

Result<std::string> bucket_region(aws::AwsClient& client, const std::string& partition, const std::string& bucket,
                                  const std::string& caller_region) {
  CC_ASSIGN(aws::Partition part, aws::partition_by_name(partition));
  Where w{bucket, caller_region.empty() ? part.global_region : caller_region, ""};
  auto resp = send(client, w, {"GetBucketLocation", "GET", "location"});
  // A regional endpoint may refuse (redirect) where the global region answers for any bucket.
  if (!resp.ok() && resp.error().code != "NoSuchBucket" && w.region != part.global_region) {
    w.region = part.global_region;
    resp = send(client, w, {"GetBucketLocation", "GET", "location"});
  }
  if (!resp.ok()) {
    Error e = resp.error();
    if (e.kind == ErrorKind::kAuth)
      e.message = "S3 bucket '" + bucket + "': GetBucketLocation was denied; only the owning account may call it, so "
                  "the bucket may belong to another account than the one containment runs in (" + e.message + ")";
    return e;
  }
  CC_ASSIGN(aws::XmlResponse x, aws::parse_xml(*resp));
  std::string loc = x.root().text().as_string();
  if (loc.empty()) return part.name == "aws" ? std::string("us-east-1") : part.global_region;
  if (loc == "EU") return std::string("eu-west-1");
  return loc;
}

Result<std::string> acting_identity(aws::AwsClient& client, const std::string& region) {
  CC_ASSIGN(aws::XmlResponse x, client.query("sts", region, "GetCallerIdentity", {}));
  std::string arn = aws::xml_text(x.root(), "Arn");
  if (arn.empty()) return Error{ErrorKind::kParse, "UnparseableResponse", "GetCallerIdentity returned no Arn"};
  return arn;
}

Result<json> get_policy(aws::AwsClient& client, const Where& w) {
  auto resp = send(client, w, {"GetBucketPolicy", "GET", "policy"});
  if (!resp.ok()) {
    if (resp.error().code == "NoSuchBucketPolicy") return json{{"present", false}};
    return resp.error();
  }
  return json{{"present", true}, {"text", resp->body}};
}

Status put_policy(aws::AwsClient& client, const Where& w, const std::string& text) {
  return send_status(client, w, {"PutBucketPolicy", "PUT", "policy", false, text, {{"Content-Type", "application/json"}}});
}

Status delete_policy(aws::AwsClient& client, const Where& w) {
  return send_status(client, w, {"DeleteBucketPolicy", "DELETE", "policy"});
}

Result<json> get_public_access_block(aws::AwsClient& client, const Where& w) {
  bool present = false;
  CC_ASSIGN(aws::XmlResponse x, get_config(client, w, {"GetPublicAccessBlock", "GET", "publicAccessBlock"},
                                           "NoSuchPublicAccessBlockConfiguration", present));
  if (!present) return json{{"present", false}};
  return read_pab(x.root());
}

Status put_public_access_block(aws::AwsClient& client, const Where& w, const json& config) {
  return send_status(client, w, {"PutPublicAccessBlock", "PUT", "publicAccessBlock", false, pab_xml(config, kS3Ns)});
}

Status delete_public_access_block(aws::AwsClient& client, const Where& w) {
  return send_status(client, w, {"DeletePublicAccessBlock", "DELETE", "publicAccessBlock"});
}

bool all_public_access_blocked(const json& pab) {
  if (!pab.value("present", false)) return false;
  for (const char* f : kPabFields)
    if (!pab.value(f, false)) return false;
  return true;
}

bool same_public_access_block(const json& a, const json& b) {
  bool pa = a.value("present", false), pb = b.value("present", false);
  if (pa != pb) return false;
  if (!pa) return true;
  for (const char* f : kPabFields)
    if (a.value(f, false) != b.value(f, false)) return false;
  return true;
}

json get_account_public_access_block(aws::AwsClient& client, const std::string& region) {
  if (client.config().account_id.empty())
    return {{"readable", false}, {"error", "the account id of the client is unknown, so S3 Control cannot be asked"}};
  aws::RestRequest r;
  r.operation = "GetPublicAccessBlock";
  r.path = "/v20180820/configuration/publicAccessBlock";
  auto resp = client.rest_xml("s3control", region, r);
  if (!resp.ok()) {
    if (resp.error().code == "NoSuchPublicAccessBlockConfiguration") return {{"readable", true}, {"present", false}};
    return {{"readable", false}, {"error", resp.error().describe()}};
  }
  auto x = aws::parse_xml(*resp);
  if (!x.ok()) return {{"readable", false}, {"error", x.error().describe()}};
  json out = read_pab(x->root());
  out["readable"] = true;
  return out;
}

Result<json> get_ownership(aws::AwsClient& client, const Where& w) {
  bool present = false;
  CC_ASSIGN(aws::XmlResponse x, get_config(client, w, {"GetBucketOwnershipControls", "GET", "ownershipControls"},
                                           "OwnershipControlsNotFoundError", present));
  if (!present) return json{{"present", false}};
  return json{{"present", true}, {"object_ownership", aws::xml_text(x.root(), "ObjectOwnership")}};
}

Status put_ownership(aws::AwsClient& client, const Where& w, const std::string& object_ownership) {
  std::string body = std::string("<OwnershipControls xmlns=\"") + kS3Ns + "\"><Rule><ObjectOwnership>" +
                     xml_escape(object_ownership) + "</ObjectOwnership></Rule></OwnershipControls>";
  return send_status(client, w, {"PutBucketOwnershipControls", "PUT", "ownershipControls", false, body});
}

Status delete_ownership(aws::AwsClient& client, const Where& w) {
  return send_status(client, w, {"DeleteBucketOwnershipControls", "DELETE", "ownershipControls"});
}

bool ownership_enforced(const json& ownership) {
  return ownership.value("present", false) && ownership.value("object_ownership", "") == "BucketOwnerEnforced";
}

Result<json> get_acl(aws::AwsClient& client, const Where& w, bool object) {
  CC_ASSIGN(aws::HttpResponse resp, send(client, w, {object ? "GetObjectAcl" : "GetBucketAcl", "GET", "acl", object}));
  CC_ASSIGN(aws::XmlResponse x, aws::parse_xml(resp));
  pugi::xml_node root = x.root();
  pugi::xml_node owner = root.child("Owner");
  json out;
  out["owner"] = {{"id", owner.child("ID").text().as_string()},
                  {"display_name", owner.child("DisplayName").text().as_string()}};
  out["grants"] = json::array();
  for (pugi::xml_node g : root.child("AccessControlList").children("Grant")) {
    pugi::xml_node grantee = g.child("Grantee");
    json grant = {{"type", grantee_type(grantee)}, {"permission", g.child("Permission").text().as_string()}};
    for (auto [xml_name, field] : {std::pair{"ID", "id"}, {"URI", "uri"}, {"EmailAddress", "email"},
                                   {"DisplayName", "display_name"}}) {
      if (pugi::xml_node n = grantee.child(xml_name)) grant[field] = n.text().as_string();
    }
    out["grants"].push_back(std::move(grant));
  }
  return out;
}

Status put_canned_private_acl(aws::AwsClient& client, const Where& w, bool object) {
  return send_status(client, w, {object ? "PutObjectAcl" : "PutBucketAcl", "PUT", "acl", object, "",
                                 {{"x-amz-acl", "private"}}});
}

std::string acl_xml(const json& acl) {
  std::string x = std::string("<AccessControlPolicy xmlns=\"") + kS3Ns + "\"><Owner><ID>" +
                  xml_escape(owner_of(acl).value("id", "")) + "</ID>";
  if (std::string dn = owner_of(acl).value("display_name", ""); !dn.empty())
    x += "<DisplayName>" + xml_escape(dn) + "</DisplayName>";
  x += "</Owner><AccessControlList>";
  for (const auto& g : acl["grants"]) {
    x += "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"" +
         xml_escape(g.value("type", "")) + "\">";
    for (auto [field, xml_name] : {std::pair{"id", "ID"}, {"uri", "URI"}, {"email", "EmailAddress"},
                                   {"display_name", "DisplayName"}}) {
      if (std::string v = g.value(field, ""); !v.empty())
        x += std::string("<") + xml_name + ">" + xml_escape(v) + "</" + xml_name + ">";
    }
    x += "</Grantee><Permission>" + xml_escape(g.value("permission", "")) + "</Permission></Grant>";
  }
  return x + "</AccessControlList></AccessControlPolicy>";
}

std::vector<aws::Header> acl_grant_headers(const json& acl) {
  std::map<std::string, std::string> by_header;
  for (const auto& g : acl.value("grants", json::array())) {
    std::string perm = g.value("permission", "");
    std::transform(perm.begin(), perm.end(), perm.begin(), [](unsigned char c) { return c == '_' ? '-' : std::tolower(c); });
    std::string who;
    if (std::string v = g.value("id", ""); !v.empty()) who = "id=\"" + v + "\"";
    else if (std::string u = g.value("uri", ""); !u.empty()) who = "uri=\"" + u + "\"";
    else if (std::string e = g.value("email", ""); !e.empty()) who = "emailAddress=\"" + e + "\"";
    if (who.empty() || perm.empty()) continue;
    std::string& h = by_header["x-amz-grant-" + perm];
    h += (h.empty() ? "" : ", ") + who;
  }
  std::vector<aws::Header> out;
  for (auto& [name, value] : by_header) out.push_back({name, value});
  return out;
}

Status put_acl(aws::AwsClient& client, const Where& w, bool object, const json& acl) {
  // Buckets get the AccessControlPolicy body. Objects get the equivalent x-amz-grant-* headers
  // (the owner cannot change, so the body's Owner adds nothing): both forms are valid S3, and the
  // header form is the one moto implements for objects, so it is the one the tests can check.
  if (object) return send_status(client, w, {"PutObjectAcl", "PUT", "acl", true, "", acl_grant_headers(acl)});
  return send_status(client, w, {"PutBucketAcl", "PUT", "acl", false, acl_xml(acl), {{"Content-Type", "application/xml"}}});
}

namespace {

// Display names are informational (AWS is dropping them); a grant is who + what.
using GrantKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
std::multiset<GrantKey> grant_keys(const json& acl) {
  std::multiset<GrantKey> out;
  for (const auto& g : acl.value("grants", json::array()))
    out.insert({g.value("type", ""), g.value("id", ""), g.value("uri", ""), g.value("email", ""),
                g.value("permission", "")});
  return out;
}

}  // namespace

bool acl_is_private(const json& acl) {
  const json& grants = acl.value("grants", json::array());
  if (grants.size() != 1) return false;
  const json& g = grants[0];
  return g.value("type", "") == "CanonicalUser" && g.value("id", "") == owner_of(acl).value("id", "") &&
         g.value("permission", "") == "FULL_CONTROL";
}

bool same_acl(const json& a, const json& b) {
  return owner_of(a).value("id", "") == owner_of(b).value("id", "") && grant_keys(a) == grant_keys(b);
}

Result<json> get_tags(aws::AwsClient& client, const Where& w) {
  bool present = false;
  CC_ASSIGN(aws::XmlResponse x, get_config(client, w, {"GetBucketTagging", "GET", "tagging"}, "NoSuchTagSet", present));
  if (!present) return json{{"present", false}, {"tags", json::array()}};
  json tags = json::array();
  for (pugi::xml_node t : x.root().child("TagSet").children("Tag"))
    tags.push_back({{"Key", t.child("Key").text().as_string()}, {"Value", t.child("Value").text().as_string()}});
  return json{{"present", true}, {"tags", tags}};
}

Status put_tags(aws::AwsClient& client, const Where& w, const json& tags) {
  std::string body = std::string("<Tagging xmlns=\"") + kS3Ns + "\"><TagSet>";
  for (const auto& t : tags)
    body += "<Tag><Key>" + xml_escape(t.value("Key", "")) + "</Key><Value>" + xml_escape(t.value("Value", "")) +
            "</Value></Tag>";
  body += "</TagSet></Tagging>";
  return send_status(client, w, {"PutBucketTagging", "PUT", "tagging", false, body});
}

Status delete_tags(aws::AwsClient& client, const Where& w) {
  return send_status(client, w, {"DeleteBucketTagging", "DELETE", "tagging"});
}

bool same_tags(const json& a, const json& b) {
  auto as_set = [](const json& t) {
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& e : t.value("tags", json::array())) out.insert({e.value("Key", ""), e.value("Value", "")});
    return out;
  };
  // An empty tag set and no tag set are the same thing to anyone reading the bucket.
  return as_set(a) == as_set(b);
}

Result<json> get_replication(aws::AwsClient& client, const Where& w) {
  bool present = false;
  CC_ASSIGN(aws::XmlResponse x, get_config(client, w, {"GetBucketReplication", "GET", "replication"},
                                           "ReplicationConfigurationNotFoundError", present));
  if (!present) return json{{"present", false}};
  json dests = json::array();
  for (pugi::xml_node rule : x.root().children("Rule")) {
    std::string d = rule.child("Destination").child("Bucket").text().as_string();
    if (!d.empty() && std::find(dests.begin(), dests.end(), d) == dests.end()) dests.push_back(d);
  }
  return json{{"present", true}, {"role", aws::xml_text(x.root(), "Role")}, {"destinations", dests}};
}

}  // namespace containctl::actions::s3
