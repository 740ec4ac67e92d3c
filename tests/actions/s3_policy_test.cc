// s3-contain's pure parts: allow-list patterns, deny statements, adding a statement to a policy,
// and the bucket-region rules (with a scripted transport, no server).
#include <gtest/gtest.h>

#include <regex>

#include "actions/s3_api.h"
#include "actions/s3_policy.h"

namespace containctl::actions::s3 {
namespace {

// IAM's ArnLike, enough for these patterns: per ARN component, * and ? are wildcards.
bool arn_like(const std::string& pattern, const std::string& value) {
  std::string re;
  for (char c : pattern) {
    if (c == '*') re += "[^:]*";
    else if (c == '?') re += "[^:]";
    else if (std::string("\\^$.|+()[]{}").find(c) != std::string::npos) re += std::string("\\") + c;
    else re += c;
  }
  return std::regex_match(value, std::regex(re));
}

bool allowed(const std::vector<std::string>& patterns, const std::string& principal_arn) {
  for (const auto& p : patterns)
    if (arn_like(p, principal_arn)) return true;
  return false;
}

TEST(S3Policy, AssumedRoleSessionBecomesItsRoleWithAnyPath) {
  auto p = principal_patterns("arn:aws:sts::123456789012:assumed-role/ContainctlContainment/run-42");
  ASSERT_TRUE(p.ok()) << p.error().describe();
  // aws:PrincipalArn of that session is the role ARN, which carries the role's path.
  EXPECT_TRUE(allowed(*p, "arn:aws:iam::123456789012:role/ContainctlContainment"));
  EXPECT_TRUE(allowed(*p, "arn:aws:iam::123456789012:role/security/ir/ContainctlContainment"));
  EXPECT_FALSE(allowed(*p, "arn:aws:iam::123456789012:role/EvilContainctlContainment"));
  EXPECT_FALSE(allowed(*p, "arn:aws:iam::123456789012:role/x/ContainctlContainmentX"));
  EXPECT_FALSE(allowed(*p, "arn:aws:iam::999999999999:role/ContainctlContainment"));
  EXPECT_FALSE(allowed(*p, "arn:aws:sts::123456789012:assumed-role/ContainctlContainment/run-42"));
}

TEST(S3Policy, UsersRolesAndRootPassThroughBadEntriesAreRefused) {
  for (std::string ok : {"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:role/a/b/Responder",
                         "arn:aws:iam::123456789012:root", "arn:aws-us-gov:iam::123456789012:role/BreakGlass*",
                         "arn:aws:sts::123456789012:federated-user/bob"}) {
    auto p = principal_patterns(ok);
    ASSERT_TRUE(p.ok()) << ok;
    EXPECT_EQ(*p, std::vector<std::string>{ok});
  }
  for (std::string bad : {"*", "arn:aws:iam::123456789012:role/*", "arn:aws:s3:::bucket", "Responder",
                          "arn:aws:iam::12345:role/x", "arn:aws:iam::123456789012:group/admins"}) {
    auto p = principal_patterns(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.error().message.find("'" + bad + "'"), std::string::npos) << p.error().message;
  }
  auto empty = allow_list_patterns({});
  EXPECT_FALSE(empty.ok());
  auto dedup = allow_list_patterns({"arn:aws:iam::123456789012:role/R", "arn:aws:sts::123456789012:assumed-role/R/s"});
  ASSERT_TRUE(dedup.ok());
  EXPECT_EQ(*dedup, (std::vector<std::string>{"arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:role/*/R"}));
}

TEST(S3Policy, AllowListEntriesCannotReachBeyondOneAccountOrEveryone) {
  // Each of these would exempt principals the settings did not name from the bucket's deny:
  // any account's role R, every account's root, every role, a session name that is a path.
  for (std::string bad : {"arn:aws:iam::*:role/R", "arn:aws:iam::*:root", "arn:aws:iam::1234567890*:role/R",
                          "arn:aws:iam::123456789012:role/?*", "arn:aws:iam::123456789012:user/*/?",
                          "arn:aws:sts::123456789012:assumed-role/R/a/b", "arn:aws:sts::123456789012:assumed-role/R*/s",
                          "arn:aws:sts::*:assumed-role/R/s", "arn:aws:sts::123456789012:federated-user/*",
                          "arn:aws:iam::123456789012:role/x/", "arn:aws:iam::123456789012:role/R\n"}) {
    auto p = principal_patterns(bad);
    EXPECT_FALSE(p.ok()) << bad;
  }
  // A principal with a path is allowed as written; a path wildcard is kept (it names one role).
  for (std::string ok : {"arn:aws:iam::123456789012:role/security/ir/Responder", "arn:aws:iam::123456789012:role/*/Responder",
                         "arn:aws:iam::123456789012:user/ops/alice", "arn:aws:iam::123456789012:role/ops/*"}) {
    auto p = principal_patterns(ok);
    ASSERT_TRUE(p.ok()) << ok << ": " << p.error().describe();
    EXPECT_EQ(*p, std::vector<std::string>{ok});
  }
  auto session = principal_patterns("arn:aws-cn:sts::123456789012:assumed-role/Responder/ops@example.com");
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(*session, (std::vector<std::string>{"arn:aws-cn:iam::123456789012:role/Responder",
                                                "arn:aws-cn:iam::123456789012:role/*/Responder"}));
}

TEST(S3Policy, BucketStatementDeniesEverythingButTheAllowList) {
  auto st = bucket_deny_statement("aws", "b-1", {"arn:aws:iam::123456789012:role/R"}).value();
  EXPECT_EQ(st["Sid"], kBucketDenySid);
  EXPECT_EQ(st["Effect"], "Deny");
  EXPECT_EQ(st["Principal"], "*");
  EXPECT_EQ(st["Action"], "s3:*");
  EXPECT_EQ(st["Resource"], (ordered_json{"arn:aws:s3:::b-1", "arn:aws:s3:::b-1/*"}));
  EXPECT_EQ(st["Condition"]["ArnNotLike"]["aws:PrincipalArn"], (ordered_json{"arn:aws:iam::123456789012:role/R"}));
  EXPECT_FALSE(st.contains("NotPrincipal"));
  auto doc = parse_policy(single_statement_policy(st));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["Version"], "2012-10-17");
}

// The resources are printed by aws::Arn (one type for every ARN): byte for byte the text S3
// policies have always held in each partition, and a partition or bucket that does not make an
// S3 ARN is an error naming it instead of a statement holding a malformed resource.
TEST(S3Policy, StatementResourcesArePrintedByTheArnType) {
  auto cn = bucket_deny_statement("aws-cn", "b-1", {"arn:aws-cn:iam::123456789012:role/R"});
  ASSERT_TRUE(cn.ok()) << cn.error().describe();
  EXPECT_EQ((*cn)["Resource"].dump(), R"(["arn:aws-cn:s3:::b-1","arn:aws-cn:s3:::b-1/*"])");
  auto gov = object_deny_statement("aws-us-gov", "b-1", "a/b*c", {"arn:aws-us-gov:iam::123456789012:role/R"}, false);
  ASSERT_TRUE(gov.ok()) << gov.error().describe();
  EXPECT_EQ((*gov)["Resource"], "arn:aws-us-gov:s3:::b-1/a/b*c");
  auto bad_partition = bucket_deny_statement("aws-xx", "b-1", {"arn:aws:iam::123456789012:role/R"});
  ASSERT_FALSE(bad_partition.ok());
  EXPECT_NE(bad_partition.error().message.find("aws-xx"), std::string::npos) << bad_partition.error().message;
  auto bad_bucket = object_deny_statement("aws", "b-1/x", "k", {"arn:aws:iam::123456789012:role/R"}, true);
  ASSERT_FALSE(bad_bucket.ok());
  EXPECT_NE(bad_bucket.error().message.find("b-1/x"), std::string::npos) << bad_bucket.error().message;
}

TEST(S3Policy, ObjectStatementEscapesWildcardsInTheKey) {
  EXPECT_EQ(resource_key("a*b?c$d", true), "a${*}b${?}c${$}d");
  EXPECT_EQ(resource_key("a*b", false), "a*b");
  auto st = object_deny_statement("aws", "b-1", "logs/x*.gz", {"arn:aws:iam::123456789012:role/R"}, true).value();
  EXPECT_EQ(st["Resource"], "arn:aws:s3:::b-1/logs/x${*}.gz");
  EXPECT_EQ(st["Sid"], object_deny_sid("logs/x*.gz"));
  EXPECT_NE(object_deny_sid("a"), object_deny_sid("b"));
  EXPECT_EQ(object_deny_sid("a"), object_deny_sid("a"));
  EXPECT_TRUE(std::regex_match(object_deny_sid("a b/c"), std::regex("^[A-Za-z0-9]+$")));
}

TEST(S3Policy, WithStatementAddsOrReplacesBySidAndKeepsTheRest) {
  const std::string owner =
      R"({"Version":"2012-10-17","Id":"keep","Statement":{"Sid":"Owner","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b-1/*"}})";
  auto st = object_deny_statement("aws", "b-1", "k", {"arn:aws:iam::123456789012:role/R"}, true).value();
  auto once = with_statement(owner, st);
  ASSERT_TRUE(once.ok());
  auto doc = parse_policy(*once);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["Id"], "keep");
  ASSERT_EQ((*doc)["Statement"].size(), 2u);
  EXPECT_EQ((*doc)["Statement"][0]["Sid"], "Owner");
  EXPECT_TRUE(same_json(find_statement(*doc, st["Sid"]), st));
  // Again: still two statements; the changed allow-list replaces ours.
  auto st2 = object_deny_statement("aws", "b-1", "k", {"arn:aws:iam::123456789012:role/Other"}, true).value();
  auto twice = with_statement(*once, st2);
  ASSERT_TRUE(twice.ok());
  auto doc2 = parse_policy(*twice);
  ASSERT_EQ((*doc2)["Statement"].size(), 2u);
  EXPECT_TRUE(same_json(find_statement(*doc2, st["Sid"]), st2));
  // No policy yet: a new document.
  auto fresh = with_statement("", st);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*parse_policy(*fresh))["Statement"].size(), 1u);
  // Garbage and oversize are errors.
  EXPECT_FALSE(with_statement("not json", st).ok());
  std::string big = R"({"Version":"2012-10-17","Statement":[{"Sid":"Big","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":[)";
  for (int i = 0; i < 700; ++i) big += std::string(i ? "," : "") + "\"arn:aws:s3:::b-1/k" + std::to_string(i) + "\"";
  big += "]}]}";
  auto too_big = with_statement(big, st);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, "PolicyTooLarge");
  EXPECT_FALSE(supports_policy_variables(R"({"Statement":[]})"));
  EXPECT_TRUE(supports_policy_variables(owner));
}

// Answers GetBucketLocation with a scripted body; counts the regions asked.
class LocationTransport : public aws::HttpTransport {
 public:
  explicit LocationTransport(std::string body, int status = 200) : body_(std::move(body)), status_(status) {}
  Result<aws::HttpResponse> send(const aws::HttpRequest& r) override {
    urls.push_back(r.url);
    return aws::HttpResponse{status_, {}, body_};
  }
  std::vector<std::string> urls;

 private:
  std::string body_;
  int status_;
};

Result<std::string> region_for(const std::string& body, int status = 200) {
  aws::ClientConfig cfg;
  cfg.transport = std::make_shared<LocationTransport>(body, status);
  aws::Credentials creds;
  creds.access_key_id = "AKIDEXAMPLE";
  creds.secret_access_key = "secret";
  cfg.credentials = std::make_shared<aws::StaticCredentialsProvider>(creds);
  cfg.retry.max_attempts = 1;
  aws::AwsClient c(cfg);
  return bucket_region(c, "aws", "evidence", "ap-southeast-2");
}

TEST(S3Region, LocationConstraintRules) {
  const std::string ns = "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
  EXPECT_EQ(*region_for(ns + "/>"), "us-east-1");
  EXPECT_EQ(*region_for(ns + ">EU</LocationConstraint>"), "eu-west-1");
  EXPECT_EQ(*region_for(ns + ">ap-south-1</LocationConstraint>"), "ap-south-1");
  auto missing = region_for("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>", 404);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "NoSuchBucket");
  EXPECT_NE(missing.error().message.find("'evidence'"), std::string::npos);
}

TEST(S3Acl, XmlRoundTripAndComparison) {
  json acl = {{"owner", {{"id", "abc"}, {"display_name", "o&wner"}}},
              {"grants", {{{"type", "CanonicalUser"}, {"id", "abc"}, {"permission", "FULL_CONTROL"}},
                          {{"type", "Group"}, {"uri", "http://acs.amazonaws.com/groups/global/AllUsers"}, {"permission", "READ"}}}}};
  std::string x = acl_xml(acl);
  EXPECT_NE(x.find("<DisplayName>o&amp;wner</DisplayName>"), std::string::npos);
  EXPECT_NE(x.find("xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>"), std::string::npos);
  EXPECT_FALSE(acl_is_private(acl));
  json reordered = acl;
  std::swap(reordered["grants"][0], reordered["grants"][1]);
  EXPECT_TRUE(same_acl(acl, reordered));
  json priv = acl;
  priv["grants"].erase(1);
  EXPECT_TRUE(acl_is_private(priv));
  EXPECT_FALSE(same_acl(acl, priv));
  auto headers = acl_grant_headers(acl);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].name, "x-amz-grant-full-control");
  EXPECT_EQ(headers[0].value, "id=\"abc\"");
  EXPECT_EQ(headers[1].name, "x-amz-grant-read");
  EXPECT_EQ(headers[1].value, "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"");
  EXPECT_EQ(content_md5(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

}  // namespace
}  // namespace containctl::actions::s3
