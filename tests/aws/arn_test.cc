#include "aws/arn.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace containctl::aws {
namespace {

TEST(Arn, ParsesEveryFormFieldByField) {
  auto u = parse_arn("arn:aws:iam::111122223333:user/ops/team/alice");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->kind, ArnKind::kIamUser);
  EXPECT_EQ(u->path, "/ops/team/");
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->account, "111122223333");

  auto r = parse_arn("arn:aws-us-gov:iam::111122223333:role/BreakGlass");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, ArnKind::kIamRole);
  EXPECT_EQ(r->partition, "aws-us-gov");
  EXPECT_EQ(r->path, "/");
  EXPECT_EQ(r->name, "BreakGlass");

  auto root = parse_arn("arn:aws:iam::111122223333:root");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->kind, ArnKind::kIamRoot);

  auto s = parse_arn("arn:aws:sts::111122223333:assumed-role/Responder/alice@example.com");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, ArnKind::kStsAssumedRole);
  EXPECT_EQ(s->name, "Responder");
  EXPECT_EQ(s->session, "alice@example.com");

  auto i = parse_arn("arn:aws-cn:ec2:cn-north-1:111122223333:instance/i-0123456789abcdef0");
  ASSERT_TRUE(i.ok()) << i.error().message;
  EXPECT_EQ(i->kind, ArnKind::kEc2Instance);
  EXPECT_EQ(i->region, "cn-north-1");
  EXPECT_EQ(i->name, "i-0123456789abcdef0");

  auto b = parse_arn("arn:aws:s3:::logs.example-1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kind, ArnKind::kS3Bucket);
  EXPECT_EQ(b->name, "logs.example-1");

  auto o = parse_arn("arn:aws:s3:::logs/a/b:c/../d");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->kind, ArnKind::kS3Object);
  EXPECT_EQ(o->name, "logs");
  EXPECT_EQ(o->key, "a/b:c/../d");

  auto g = parse_arn("arn:aws:iam::aws:policy/AdministratorAccess");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->kind, ArnKind::kGeneric);
  EXPECT_EQ(g->resource, "policy/AdministratorAccess");

  auto ap = parse_arn("arn:aws:s3:us-east-1:111122223333:accesspoint/ap1");
  ASSERT_TRUE(ap.ok());
  EXPECT_EQ(ap->kind, ArnKind::kGeneric);
}

TEST(Arn, RoundTripsEveryAcceptedText) {
  const std::vector<std::string> texts = {
      "arn:aws:iam::111122223333:user/alice",
      "arn:aws:iam::111122223333:user/a/b/alice",
      "arn:aws:iam::111122223333:role/x/BreakGlass",
      "arn:aws:iam::111122223333:root",
      "arn:aws:iam::111122223333:instance-profile/p",
      "arn:aws:iam::111122223333:instance-profile/x/y/p",
      "arn:aws:sts::111122223333:assumed-role/R/s1",
      "arn:aws:sts::111122223333:federated-user/bob",
      "arn:aws:ec2:us-east-1:111122223333:instance/i-0123abcd",
      "arn:aws-us-gov:ec2:us-gov-west-1:111122223333:instance/i-0123456789abcdef0",
      "arn:aws:s3:::bucket",
      "arn:aws:s3:::bucket/key/with/slashes and spaces",
      "arn:aws:ec2:us-east-1:111122223333:security-group/sg-1",
      "arn:aws:kms:eu-west-1:111122223333:key/abcd",
      "arn:aws:iam::aws:policy/service-role/AWSConfigRole",
  };
  for (const auto& t : texts) {
    auto a = parse_arn(t);
    ASSERT_TRUE(a.ok()) << t << ": " << a.error().message;
    EXPECT_EQ(a->str(), t);
  }
}

// EC2 reports an instance's profile by ARN; its name (what GetInstanceProfile takes) is the last
// element whatever path the profile was created under.
TEST(Arn, InstanceProfileHasAPathAndAName) {
  auto p = parse_arn("arn:aws:iam::111122223333:instance-profile/svc/a/app-profile");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kind, ArnKind::kIamInstanceProfile);
  EXPECT_EQ(p->path, "/svc/a/");
  EXPECT_EQ(p->name, "app-profile");
  EXPECT_EQ(p->str(), "arn:aws:iam::111122223333:instance-profile/svc/a/app-profile");
  EXPECT_FALSE(p->is_iam_principal());
  auto plain = parse_arn("arn:aws:iam::111122223333:instance-profile/p");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->path, "/");
  EXPECT_EQ(plain->name, "p");
  for (const char* bad : {"arn:aws:iam::111122223333:instance-profile/svc/", "arn:aws:iam::111122223333:instance-profile//p",
                          "arn:aws:iam:us-east-1:111122223333:instance-profile/p", "arn:aws:iam::111122223333:instance-profile/a b"}) {
    auto a = parse_arn(bad);
    EXPECT_FALSE(a.ok()) << bad;
  }
}

TEST(Arn, RefusesMalformedWithTheFieldNamed) {
  struct Case {
    std::string text, expect;
  };
  const std::vector<Case> cases = {
      {"not-an-arn", "not an ARN"},
      {"urn:aws:iam::111122223333:user/a", "does not start with 'arn:'"},
      {"arn:aws-xx:iam::111122223333:user/a", "unsupported partition"},
      {"arn:aws:iam::1111:user/a", "not 12 digits"},
      {"arn:aws:iam:us-east-1:111122223333:user/a", "no region"},
      {"arn:aws:iam::111122223333:role/x/", "name '' is not valid"},
      {"arn:aws:iam::111122223333:role//BreakGlass", "IAM path '//'"},
      {"arn:aws:iam::111122223333:user/a b", "not valid"},
      {"arn:aws:ec2:us-east-1:111122223333:instance/i-XYZ", "instance id"},
      {"arn:aws:ec2:cn-north-1:111122223333:instance/i-0123abcd", "not in partition"},
      {"arn:aws:ec2:mars-1:111122223333:instance/i-0123abcd", "region 'mars-1'"},
      {"arn:aws:s3:::Bad_Bucket", "not a valid bucket name"},
      {"arn:aws:s3:::bucket/", "empty object key"},
      {"arn:aws:sts::111122223333:assumed-role/R", "no session name"},
      {"arn:aws:iam::111122223333:", "empty resource"},
      {"arn:aws:IAM::111122223333:user/a", "service 'IAM'"},
      {std::string("arn:aws:s3:::bucket/a\nb"), "control characters"},
  };
  for (const auto& c : cases) {
    auto a = parse_arn(c.text);
    ASSERT_FALSE(a.ok()) << c.text;
    EXPECT_NE(a.error().message.find(c.expect), std::string::npos) << c.text << " -> " << a.error().message;
    EXPECT_EQ(a.error().kind, ErrorKind::kInvalidInput);
  }
}

// An instance ARN from an imported finding with a 200,000-letter region: refused, naming the region.
TEST(Arn, AnInstanceArnWithAVeryLongRegionIsRefused) {
  auto a = parse_arn("arn:aws:ec2:us-" + std::string(200000, 'a') + "-1:111122223333:instance/i-0123abcd");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("region 'us-aaaa"), std::string::npos);
}

TEST(Arn, BuildersValidateAndMatchParse) {
  auto r = iam_arn("aws", "111122223333", ArnKind::kIamRole, "BreakGlass", "/x/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->str(), "arn:aws:iam::111122223333:role/x/BreakGlass");
  EXPECT_FALSE(iam_arn("aws", "1", ArnKind::kIamUser, "a").ok());
  EXPECT_FALSE(iam_arn("aws", "111122223333", ArnKind::kIamUser, "a", "x").ok());
  auto i = ec2_instance_arn("aws", "eu-west-1", "111122223333", "i-0123abcd");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->str(), "arn:aws:ec2:eu-west-1:111122223333:instance/i-0123abcd");
  EXPECT_FALSE(ec2_instance_arn("aws", "cn-north-1", "111122223333", "i-0123abcd").ok());
  auto o = s3_arn("aws", "bucket", "k/1");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->str(), "arn:aws:s3:::bucket/k/1");
  EXPECT_EQ(s3_arn("aws", "bucket")->kind, ArnKind::kS3Bucket);
}

// The forms the S3 deny statements and the member-account role are printed in (s3_policy.cc,
// session.cc): the builder's text is the hand-concatenated one, and a field that would change the
// ARN's form is refused instead of printed.
TEST(Arn, S3AndRoleBuildersPrintTheStatementFormsAndRefuseTheRest) {
  EXPECT_EQ(s3_arn("aws-cn", "b-1", "*")->str(), "arn:aws-cn:s3:::b-1/*");
  EXPECT_EQ(s3_arn("aws", "b-1", "logs/x${*}.gz")->str(), "arn:aws:s3:::b-1/logs/x${*}.gz");
  EXPECT_EQ(s3_arn("aws-us-gov", "b.1-x")->str(), "arn:aws-us-gov:s3:::b.1-x");
  EXPECT_FALSE(s3_arn("aws", "b-1/k").ok());    // a key smuggled into the bucket
  EXPECT_FALSE(s3_arn("aws", "Bad_Bucket").ok());
  EXPECT_FALSE(s3_arn("aws-xx", "b-1").ok());
  EXPECT_FALSE(s3_arn("aws", "b-1", std::string("a\x01b")).ok());  // a control character in a key
  auto role = iam_arn("aws", "111122223333", ArnKind::kIamRole, "ContainctlMember");
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(role->str(), "arn:aws:iam::111122223333:role/ContainctlMember");
  auto slash = iam_arn("aws", "111122223333", ArnKind::kIamRole, "team/ContainctlMember");
  ASSERT_FALSE(slash.ok());
  EXPECT_NE(slash.error().message.find("team/ContainctlMember"), std::string::npos) << slash.error().message;
}

TEST(Arn, PrincipalOfAndSameEntityIgnoreSessionPathAndCase) {
  auto session = *parse_arn("arn:aws:sts::111122223333:assumed-role/Responder/alice");
  EXPECT_EQ(principal_of(session).str(), "arn:aws:iam::111122223333:role/Responder");
  auto with_path = *parse_arn("arn:aws:iam::111122223333:role/team/responder");
  EXPECT_TRUE(same_iam_entity(principal_of(session), with_path));
  auto other_acct = *parse_arn("arn:aws:iam::444455556666:role/Responder");
  EXPECT_FALSE(same_iam_entity(principal_of(session), other_acct));
  auto user = *parse_arn("arn:aws:iam::111122223333:user/Responder");
  EXPECT_FALSE(same_iam_entity(principal_of(session), user));
  EXPECT_FALSE(same_iam_entity(session, session));  // a session is not a user or role
  EXPECT_TRUE(iam_name_equal("BreakGlass", "breakglass"));
  EXPECT_FALSE(iam_name_equal("BreakGlass", "breakglas"));
}

}  // namespace
}  // namespace containctl::aws
