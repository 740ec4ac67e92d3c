// Differential test against botocore (../shared/tools/botocore_sign.py, which runs botocore's own
// SigV4Auth / S3SigV4Auth / *QueryAuth with a frozen clock) over the requests this tool really
// sends. Requests are built the way AwsClient builds them (form bodies and S3 keys encoded with
// uri_encode), then both signers must produce the same canonical request, string to sign and
// Authorization byte for byte.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/sigv4.h"

namespace containctl::aws {
namespace {

constexpr char kTool[] = CONTAINCTL_SHARED_DIR "/tools/botocore_sign.py";
constexpr char kTimestamp[] = "20240229T235959Z";  // leap day, end of day: date math matters
const Credentials kCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
const Credentials kSessionCreds{"ASIAIOSFODNN7EXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
                                "IQoJb3JpZ2luX2VjEA0aCXVzLWVhc3QtMSJHMEUCIQD+example/token+with/slashes=="};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

struct Case {
  std::string name;
  HttpRequest request;
  std::string region = "us-east-1";
  std::string service;
  bool s3 = false;
  Credentials creds = kCreds;
  int presign = 0;  // seconds; 0 = header signing
};

nlohmann::json botocore(const Case& c) {
  std::string cmd = "python3 " + shell_quote(kTool) + " --json --method " + shell_quote(c.request.method) +
                    " --url " + shell_quote(c.request.url) + " --region " + shell_quote(c.region) + " --service " +
                    shell_quote(c.service) + " --access-key " + shell_quote(c.creds.access_key_id) +
                    " --secret-key " + shell_quote(c.creds.secret_access_key) + " --timestamp " + kTimestamp;
  if (!c.creds.session_token.empty()) cmd += " --session-token " + shell_quote(c.creds.session_token);
  for (const auto& h : c.request.headers) cmd += " -H " + shell_quote(h.name + ": " + h.value);
  if (!c.request.body.empty()) cmd += " --data " + shell_quote(c.request.body);
  if (c.presign) cmd += " --presign --expires " + std::to_string(c.presign);
  cmd += " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return {};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "botocore_sign.py said: " << out;
  return j;
}

std::string form(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string body;
  for (const auto& [k, v] : params) {
    if (!body.empty()) body += "&";
    body += uri_encode(k, false) + "=" + uri_encode(v, false);
  }
  return body;
}

const Header kForm{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"};

std::vector<Case> cases() {
  std::vector<Case> out;
  out.push_back({"Ec2ModifyNetworkInterfaceAttribute",
                 {"POST", "https://ec2.eu-west-1.amazonaws.com/", {kForm, {"User-Agent", "containctl/0.1.0"}},
                  form({{"Action", "ModifyNetworkInterfaceAttribute"},
                        {"Version", "2016-11-15"},
                        {"NetworkInterfaceId", "eni-0123456789abcdef0"},
                        {"SecurityGroupId.1", "sg-0aaaaaaaaaaaaaaaa"},
                        {"SecurityGroupId.2", "sg-0bbbbbbbbbbbbbbbb"},
                        {"DryRun", "false"}})},
                 "eu-west-1",
                 "ec2"});
  out.push_back({"IamPutUserPolicy",
                 {"POST", "https://iam.amazonaws.com/", {kForm},
                  form({{"Action", "PutUserPolicy"},
                        {"Version", "2010-05-08"},
                        {"UserName", "mallory+ops@example"},
                        {"PolicyName", "containctl-deny-all"},
                        {"PolicyDocument",
                         R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",)"
                         R"("Condition":{"DateLessThan":{"aws:TokenIssueTime":"2024-02-29T23:59:59Z"}}}]})"}})},
                 "us-east-1",
                 "iam"});
  out.push_back({"IamListUsersQueryGet",
                 {"GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fops%2F", {}, ""},
                 "us-east-1",
                 "iam"});
  out.push_back({"StsAssumeRoleWithSessionToken",
                 {"POST", "https://sts.us-west-2.amazonaws.com/", {kForm},
                  form({{"Action", "AssumeRole"},
                        {"Version", "2011-06-15"},
                        {"RoleArn", "arn:aws:iam::111122223333:role/ContainctlContainment"},
                        {"RoleSessionName", "containctl-2024"},
                        {"ExternalId", "111122223333"},
                        {"DurationSeconds", "900"}})},
                 "us-west-2",
                 "sts",
                 false,
                 kSessionCreds});
  for (const auto& [name, key] : std::vector<std::pair<std::string, std::string>>{
           {"Spaces", "evidence/a b  c.txt"},
           {"Unicode", "evidence/r\xC3\xA9sum\xC3\xA9-\xE6\x97\xA5\xE6\x9C\xAC.txt"},
           {"PlusEquals", "evidence/a+b=c&d.txt"},
           {"Punctuation", "evidence/(x)!*'@$,;:~.txt"},
           {"DotSegmentsAndSlashes", "evidence/./x/../y//z"}}) {
    Case put{"S3Put" + name,
             {"PUT", "https://evidence-bucket.s3.us-east-1.amazonaws.com/" + uri_encode(key, true),
              {{"Content-Type", "application/octet-stream"}, {"x-amz-server-side-encryption", "AES256"}},
              "captured bytes\n"},
             "us-east-1",
             "s3",
             true};
    out.push_back(put);
    Case get{"S3Get" + name,
             {"GET", "https://s3.us-east-1.amazonaws.com/evidence-bucket/" + uri_encode(key, true) + "?versionId=3%2FL4kqtJl40",
              {{"Range", "bytes=0-99"}}, ""},
             "us-east-1",
             "s3",
             true,
             kSessionCreds};
    out.push_back(get);
  }
  out.push_back({"S3PutBucketPolicySubresource",
                 {"PUT", "https://s3.us-east-1.amazonaws.com/evidence-bucket?policy", {{"Content-Type", "application/json"}},
                  R"({"Version":"2012-10-17","Statement":[]})"},
                 "us-east-1",
                 "s3",
                 true});
  out.push_back({"S3ControlGetPublicAccessBlock",
                 {"GET", "https://111122223333.s3-control.us-east-1.amazonaws.com/v20180820/configuration/publicAccessBlock",
                  {{"x-amz-account-id", "111122223333"}}, ""},
                 "us-east-1",
                 "s3",
                 true});
  out.push_back({"JsonOrganizationsListAccounts",
                 {"POST", "https://organizations.us-east-1.amazonaws.com/",
                  {{"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", "AWSOrganizationsV20161128.ListAccountsForParent"}},
                  R"({"ParentId":"ou-ab12-cdef3456","MaxResults":20})"},
                 "us-east-1",
                 "organizations"});
  out.push_back({"JsonSsoAdminWithSessionToken",
                 {"POST", "https://sso.eu-central-1.amazonaws.com/",
                  {{"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", "SWBExternalService.DeleteAccountAssignment"}},
                  R"({"InstanceArn":"arn:aws:sso:::instance/ssoins-1","TargetId":"111122223333"})"},
                 "eu-central-1",
                 "sso",
                 false,
                 kSessionCreds});
  out.push_back({"S3PresignedGetWithToken",
                 {"GET", "https://evidence-bucket.s3.us-east-1.amazonaws.com/" + uri_encode("incident/a b.json", true), {}, ""},
                 "us-east-1",
                 "s3",
                 true,
                 kSessionCreds,
                 900});
  return out;
}

class BotocoreDifferential : public ::testing::TestWithParam<Case> {};

TEST_P(BotocoreDifferential, SameCanonicalRequestStringToSignAndAuthorization) {
  const Case& c = GetParam();
  nlohmann::json ref = botocore(c);
  ASSERT_TRUE(ref.is_object());
  ASSERT_EQ(ref.value("signer", ""), std::string(c.s3 ? "S3SigV4" : "SigV4") + (c.presign ? "QueryAuth" : "Auth"));

  SigningParams p{c.region, c.service, {}};
  ASSERT_TRUE(parse_time(kTimestamp, p.time));
  p.s3_mode = c.s3;
  p.content_sha256_header = c.s3 && !c.presign;
  HttpRequest req = c.request;
  Result<SigningResult> r = Error::internal("unset");
  if (c.presign) {
    p.payload = PayloadMode::kUnsigned;
    r = presign_url(req, c.creds, p, c.presign);
  } else {
    r = sign_request(req, c.creds, p);
  }
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->canonical_request, ref.at("canonical_request").get<std::string>());
  EXPECT_EQ(r->string_to_sign, ref.at("string_to_sign").get<std::string>());
  if (c.presign) {
    // Parameter order differs between signers; the signature is what the service checks.
    std::string ref_url = ref.at("url").get<std::string>();
    EXPECT_TRUE(ref_url.ends_with("X-Amz-Signature=" + r->signature)) << ref_url;
    EXPECT_NE(r->url.find("X-Amz-Security-Token=" + uri_encode(c.creds.session_token, false)), std::string::npos);
  } else {
    EXPECT_EQ(r->authorization, ref.at("authorization").get<std::string>());
    EXPECT_EQ(r->signed_headers.find("user-agent"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(ToolRequests, BotocoreDifferential, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace containctl::aws
