#include "orchestrator/state_init.h"

#include <pugixml.hpp>

#include "actions/s3_api.h"
#include "aws/dynamodb.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
constexpr const char* kS3Ns = "http://s3.amazonaws.com/doc/2006-03-01/";

Result<aws::HttpResponse> s3_call(aws::AwsClient& client, const StateSettings& st, const std::string& op,
                                  const std::string& method, const std::string& sub, const std::string& body,
                                  std::vector<aws::Header> headers = {}) {
  aws::RestRequest r;
  r.operation = op;
  r.method = method;
  r.bucket = st.bucket;
  if (!sub.empty()) r.query.push_back({sub, ""});
  r.body = body;
  r.headers = std::move(headers);
  if (method == "PUT" && !body.empty()) r.headers.push_back({"Content-MD5", actions::s3::content_md5(body)});
  return client.rest_xml("s3", st.region, r);
}

Status init_table(aws::AwsClient& client, const StateSettings& st, std::vector<InitStep>& out) {
  aws::DynamoDb ddb(std::shared_ptr<aws::AwsClient>(&client, [](aws::AwsClient*) {}), st.region, st.table);
  const std::string what = "dynamodb table " + st.table;
  auto described = ddb.call("DescribeTable", json::object());
  if (described.ok()) {
    // An existing table must have the key schema the store writes, or nothing would work.
    std::string pk, sk;
    for (const auto& k : (*described)["Table"].value("KeySchema", json::array()))
      (k.value("KeyType", "") == "HASH" ? pk : sk) = k.value("AttributeName", "");
    if (pk != "pk" || sk != "sk")
      return Error::invalid(what + " exists with another key schema (hash '" + pk + "', range '" + sk +
                            "'); the team store needs hash 'pk' and range 'sk' (both strings)");
    out.push_back({what, "present"});
  } else if (described.error().code == "ResourceNotFoundException") {
    json body = {{"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}},
                                           {{"AttributeName", "sk"}, {"AttributeType", "S"}}}},
                 {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}}, {{"AttributeName", "sk"}, {"KeyType", "RANGE"}}}},
                 {"BillingMode", "PAY_PER_REQUEST"},
                 {"SSESpecification", {{"Enabled", true}}},
                 {"DeletionProtectionEnabled", true},
                 {"Tags", {{{"Key", "containctl"}, {"Value", "state"}}}}};
    auto created = ddb.call("CreateTable", body);
    if (!created.ok() && created.error().code != "ResourceInUseException") return created.error();
    out.push_back({what, "created (pk/sk strings, on-demand, encrypted, deletion protection)"});
  } else {
    return described.error();
  }
  // Wait until it can take writes.
  for (int i = 0;; ++i) {
    CC_ASSIGN(json d, ddb.call("DescribeTable", json::object()));
    if (d["Table"].value("TableStatus", "") == "ACTIVE") break;
    if (i >= 120) return Error::io(what + " did not become ACTIVE within 2 minutes");
    client.config().clock->sleep_for(std::chrono::seconds(1));
  }
  auto pitr = ddb.call("UpdateContinuousBackups",
                       {{"PointInTimeRecoverySpecification", {{"PointInTimeRecoveryEnabled", true}}}});
  if (!pitr.ok()) return pitr.error();
  out.push_back({what + " point-in-time recovery", "enabled"});
  return Ok{};
}

Status init_bucket(aws::AwsClient& client, const StateSettings& st, bool object_lock, const std::string& kms_key,
                   std::vector<InitStep>& out) {
  const std::string what = "s3 bucket " + st.bucket;
  std::string body;
  if (st.region != "us-east-1")
    body = std::string("<CreateBucketConfiguration xmlns=\"") + kS3Ns + "\"><LocationConstraint>" + st.region +
           "</LocationConstraint></CreateBucketConfiguration>";
  auto head = s3_call(client, st, "HeadBucket", "HEAD", "", "");
  bool exists = head.ok();
  if (!exists && head.error().http_status != 404) return head.error();
  if (!exists) {
    std::vector<aws::Header> h;
    if (object_lock) h.push_back({"x-amz-bucket-object-lock-enabled", "true"});
    auto created = s3_call(client, st, "CreateBucket", "PUT", "", body, h);
    if (!created.ok() && created.error().code != "BucketAlreadyOwnedByYou") return created.error();
    out.push_back({what, object_lock ? "created with Object Lock" : "created"});
  } else {
    out.push_back({what, "present"});
  }
  CC_TRY(s3_call(client, st, "PutBucketVersioning", "PUT", "versioning",
                 std::string("<VersioningConfiguration xmlns=\"") + kS3Ns +
                     "\"><Status>Enabled</Status></VersioningConfiguration>"));
  out.push_back({what + " versioning", "enabled"});
  std::string sse = kms_key.empty() ? "<SSEAlgorithm>AES256</SSEAlgorithm>"
                                    : "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>" + kms_key + "</KMSMasterKeyID>";
  CC_TRY(s3_call(client, st, "PutBucketEncryption", "PUT", "encryption",
                 std::string("<ServerSideEncryptionConfiguration xmlns=\"") + kS3Ns +
                     "\"><Rule><ApplyServerSideEncryptionByDefault>" + sse +
                     "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"
                     "</ServerSideEncryptionConfiguration>"));
  out.push_back({what + " default encryption", kms_key.empty() ? "SSE-S3 (AES256)" : "SSE-KMS " + kms_key});
  json pab = {{"BlockPublicAcls", true}, {"IgnorePublicAcls", true}, {"BlockPublicPolicy", true},
              {"RestrictPublicBuckets", true}};
  CC_TRY(actions::s3::put_public_access_block(client, {st.bucket, st.region, ""}, pab));
  out.push_back({what + " public access block", "all four blocked"});
  if (object_lock) {
    // Enabling Object Lock on an existing versioned bucket is allowed; it cannot be undone.
    CC_TRY(s3_call(client, st, "PutObjectLockConfiguration", "PUT", "object-lock",
                   std::string("<ObjectLockConfiguration xmlns=\"") + kS3Ns +
                       "\"><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>"));
    out.push_back({what + " Object Lock", "enabled (audit checkpoints are kept under COMPLIANCE retention)"});
  }
  return Ok{};
}

}  // namespace

Result<std::vector<InitStep>> init_team_store(aws::AwsClient& client, const StateSettings& state, bool object_lock,
                                              const std::string& kms_key) {
  if (state.backend != "aws")
    return Error::invalid("state init makes the team store: the settings' \"state\" must say \"backend\": \"aws\" "
                          "with a table and a bucket (the sqlite backend needs no setup)");
  std::vector<InitStep> out;
  CC_TRY(init_table(client, state, out));
  CC_TRY(init_bucket(client, state, object_lock, kms_key, out));
  return out;
}

Result<bool> bucket_object_lock(aws::AwsClient& client, const StateSettings& state) {
  auto r = s3_call(client, state, "GetObjectLockConfiguration", "GET", "object-lock", "");
  if (!r.ok()) {
    if (r.error().code == "ObjectLockConfigurationNotFoundError") return false;
    return r.error();
  }
  pugi::xml_document doc;
  if (!doc.load_buffer(r->body.data(), r->body.size())) return false;
  return std::string(doc.document_element().child_value("ObjectLockEnabled")) == "Enabled";
}

}  // namespace containctl::orch
