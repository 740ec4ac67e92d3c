#include "approvals/approval.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "aws/sigv4.h"

namespace containctl::approvals {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

aws::TimePoint at(const char* iso) {
  aws::TimePoint t;
  EXPECT_TRUE(aws::parse_time(iso, t)) << iso;
  return t;
}

class ApprovalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/containctl-approval-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (const char* name : {"alice", "bob", "carol", "mallory"}) {
      ASSERT_TRUE(generate_keypair(name, dir_).ok());
    }
    keys_ = {{"alice", pub("alice")}, {"bob", pub("bob")}, {"carol", pub("carol")}};  // mallory is not listed
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string pub(const std::string& n) const { return dir_ + "/" + n + ".pub.pem"; }
  std::string priv(const std::string& n) const { return dir_ + "/" + n + ".key.pem"; }
  Approval sign(const std::string& who, const std::string& hash = kHash, seconds ttl = hours(4)) {
    auto a = sign_approval(hash, who, priv(who), ttl, now_);
    EXPECT_TRUE(a.ok()) << a.error().describe();
    return *a;
  }
  ApprovalDecision eval(const std::vector<std::pair<std::string, Approval>>& in, int required = 1,
                        const std::string& requester = "arn:aws:iam::111122223333:user/dave") {
    return evaluate_approvals(in, kHash, requester, keys_, required, now_);
  }
  static void expect_one_refusal(const ApprovalDecision& d, const std::string& reason) {
    EXPECT_FALSE(d.satisfied);
    EXPECT_TRUE(d.accepted.empty());
    ASSERT_EQ(d.refusals.size(), 1u);
    EXPECT_NE(d.refusals[0].find(reason), std::string::npos) << d.refusals[0];
    EXPECT_NE(d.refusals[0].find("a.json"), std::string::npos) << "refusal names the source: " << d.refusals[0];
  }

  static inline const std::string kHash = aws::sha256_hex("the plan");
  std::string dir_;
  std::map<std::string, std::string> keys_;
  aws::TimePoint now_ = at("2026-11-23T07:00:00Z");
};

TEST_F(ApprovalTest, SignsTheDocumentedPayloadAndRoundTrips) {
  Approval a = sign("alice", kHash, minutes(30));
  EXPECT_EQ(a.issued_at, "2026-11-23T07:00:00Z");
  EXPECT_EQ(a.expires_at, "2026-11-23T07:30:00Z");
  EXPECT_EQ(signing_payload(a), "containctl-approval-v1\n" + kHash + "\nalice\n2026-11-23T07:00:00Z\n2026-11-23T07:30:00Z\n");
  auto good = verify_message(*read_public_key(pub("alice")), signing_payload(a), a.signature);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(*good);

  std::string file = dir_ + "/a.json";
  ASSERT_TRUE(write_approval(a, file).ok());
  auto back = load_approval(file);
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->signature, a.signature);
  EXPECT_EQ(back->plan_hash, a.plan_hash);
  auto d = eval({{file, *back}});
  EXPECT_TRUE(d.satisfied);
  EXPECT_EQ(d.accepted, std::vector<std::string>{"alice"});
  EXPECT_TRUE(d.refusals.empty());
}

TEST_F(ApprovalTest, RefusesApproverNotListed) {
  expect_one_refusal(eval({{"a.json", sign("mallory")}}), "not listed in the settings");
}

TEST_F(ApprovalTest, RefusesBadSignature) {
  Approval a = sign("alice");
  a.expires_at = "2027-11-23T07:00:00Z";  // extend its life without re-signing
  expect_one_refusal(eval({{"a.json", a}}), "signature does not verify");
  // Signed by someone else's key but claiming to be alice.
  Approval forged = sign("bob");
  forged.approver = "alice";
  expect_one_refusal(eval({{"a.json", forged}}), "signature does not verify");
}

TEST_F(ApprovalTest, RefusesApprovalForAnotherPlan) {
  expect_one_refusal(eval({{"a.json", sign("alice", aws::sha256_hex("another plan"))}}), "another plan");
}

TEST_F(ApprovalTest, RefusesExpiredAndFutureApprovals) {
  Approval a = sign("alice", kHash, hours(1));
  auto d = evaluate_approvals({{"a.json", a}}, kHash, "dave", keys_, 1, now_ + hours(1));
  expect_one_refusal(d, "expired");
  d = evaluate_approvals({{"a.json", a}}, kHash, "dave", keys_, 1, now_ + minutes(59));
  EXPECT_TRUE(d.satisfied);
  // Issued ahead of the applier's clock: a little skew is tolerated, an hour is not.
  d = evaluate_approvals({{"a.json", a}}, kHash, "dave", keys_, 1, now_ - minutes(4));
  EXPECT_TRUE(d.satisfied);
  d = evaluate_approvals({{"a.json", a}}, kHash, "dave", keys_, 1, now_ - hours(1) + minutes(30));
  expect_one_refusal(d, "issued in the future");
}

TEST_F(ApprovalTest, RefusesTheRequesterInEveryForm) {
  for (std::string requester : {"arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/ops/alice",
                                "arn:aws:sts::111122223333:assumed-role/Responder/alice", "alice", "Alice",
                                "arn:aws-us-gov:sts::111122223333:assumed-role/R/alice@example.com"}) {
    SCOPED_TRACE(requester);
    expect_one_refusal(eval({{"a.json", sign("alice")}}, 1, requester), "approver is the requester");
  }
  EXPECT_TRUE(eval({{"a.json", sign("alice")}}, 1, "arn:aws:sts::1:assumed-role/alice/bob").satisfied)
      << "a role named alice is not the person alice";
}

TEST_F(ApprovalTest, DuplicateApproverCountsOnce) {
  auto d = eval({{"a.json", sign("alice")}, {"b.json", sign("alice", kHash, hours(2))}}, 2);
  EXPECT_FALSE(d.satisfied);
  EXPECT_EQ(d.accepted, std::vector<std::string>{"alice"});
  ASSERT_EQ(d.refusals.size(), 1u);
  EXPECT_NE(d.refusals[0].find("b.json"), std::string::npos);
  EXPECT_NE(d.refusals[0].find("duplicate approver"), std::string::npos);
}

TEST_F(ApprovalTest, NeedsNDistinctApprovers) {
  std::vector<std::pair<std::string, Approval>> in = {{"a.json", sign("alice")}, {"b.json", sign("bob")}};
  EXPECT_TRUE(eval(in, 2).satisfied);
  EXPECT_FALSE(eval(in, 3).satisfied);
  in.push_back({"c.json", sign("carol")});
  auto d = eval(in, 3);
  EXPECT_TRUE(d.satisfied);
  EXPECT_EQ(d.accepted, (std::vector<std::string>{"alice", "bob", "carol"}));
  // A refused approval does not count toward N.
  in[2] = {"c.json", sign("mallory")};
  d = eval(in, 3);
  EXPECT_FALSE(d.satisfied);
  EXPECT_EQ(d.accepted.size(), 2u);
  EXPECT_EQ(d.refusals.size(), 1u);
}

TEST_F(ApprovalTest, UnreadableApproverKeyIsARefusalNotACrash) {
  keys_["alice"] = dir_ + "/missing.pub.pem";
  expect_one_refusal(eval({{"a.json", sign("alice")}}), "public key");
}

TEST_F(ApprovalTest, SignRejectsBadInput) {
  EXPECT_FALSE(sign_approval("abc", "alice", priv("alice"), hours(1), now_).ok());
  EXPECT_FALSE(sign_approval(kHash, "al ice", priv("alice"), hours(1), now_).ok());
  EXPECT_FALSE(sign_approval(kHash, "alice", priv("alice"), seconds(0), now_).ok());
  EXPECT_FALSE(sign_approval(kHash, "alice", pub("alice"), hours(1), now_).ok()) << "a public key cannot sign";
}

class LoadApprovalTest : public ApprovalTest {
 protected:
  std::string write(const std::string& text) {
    std::string p = dir_ + "/a.json";
    std::ofstream(p, std::ios::trunc) << text;
    return p;
  }
  void expect_error(const std::string& text, const std::string& field) {
    std::string p = write(text);
    auto r = load_approval(p);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find(p), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
  }
};

TEST_F(LoadApprovalTest, NamesFileAndField) {
  nlohmann::json good = to_json(sign("alice"));
  std::string text = good.dump(2);
  ASSERT_TRUE(load_approval(write(text)).ok());
  expect_error(text.substr(0, text.size() / 2), "not valid JSON");
  expect_error("[]", "JSON object");
  auto typo = good;
  typo["aprover"] = typo["approver"];
  typo.erase("approver");
  expect_error(typo.dump(), "'aprover'");
  for (const char* field : {"plan_hash", "approver", "issued_at", "expires_at", "signature"}) {
    auto missing = good;
    missing.erase(field);
    expect_error(missing.dump(), field);
    auto wrong_type = good;
    wrong_type[field] = 42;
    expect_error(wrong_type.dump(), field);
  }
  auto bad_time = good;
  bad_time["expires_at"] = "tomorrow";
  expect_error(bad_time.dump(), "expires_at");
  auto bad_sig = good;
  bad_sig["signature"] = "c2hvcnQ=";
  expect_error(bad_sig.dump(), "signature");
  auto bad_version = good;
  bad_version["version"] = 2;
  expect_error(bad_version.dump(), "version");
  auto r = load_approval(dir_ + "/nope.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nope.json"), std::string::npos);
}

// An approval's id is its signature text. A second spelling of the same signature bytes (the bits
// base64 padding leaves unused, set) would be a fresh id for a used approval: it is refused.
TEST_F(LoadApprovalTest, SecondSpellingOfTheSignatureIsRefused) {
  nlohmann::json good = to_json(sign("alice"));
  std::string sig = good["signature"];
  ASSERT_EQ(sig.size(), 88u);
  ASSERT_EQ(sig.substr(86), "==");
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  sig[85] = alphabet[alphabet.find(sig[85]) ^ 1];  // one of the four unused bits
  auto respelled = good;
  respelled["signature"] = sig;
  expect_error(respelled.dump(), "signature");
}

TEST(PersonTest, ExtractsThePerson) {
  EXPECT_EQ(person_of("arn:aws:iam::111122223333:user/alice"), "alice");
  EXPECT_EQ(person_of("arn:aws:iam::111122223333:user/a/b/Alice"), "alice");
  EXPECT_EQ(person_of("arn:aws:sts::111122223333:assumed-role/Responder/alice"), "alice");
  EXPECT_EQ(person_of("arn:aws:sts::111122223333:federated-user/alice"), "alice");
  EXPECT_EQ(person_of("alice"), "alice");
  EXPECT_FALSE(same_person("alice", ""));
  EXPECT_FALSE(same_person("alice", "alicia"));
  EXPECT_TRUE(same_person("alice@example.com", "alice"));
}

TEST(PrincipalTest, MatchesUsersWhateverTheirPathAndSessionsOfARole) {
  const std::string user = "arn:aws:iam::111122223333:user/ops/alice";
  EXPECT_TRUE(principal_matches("arn:aws:iam::111122223333:user/alice", user));
  EXPECT_TRUE(principal_matches("ARN:AWS:IAM::111122223333:USER/Alice", user));
  EXPECT_FALSE(principal_matches("arn:aws:iam::444455556666:user/alice", user)) << "another account";
  EXPECT_FALSE(principal_matches("arn:aws:iam::111122223333:user/alicia", user));
  const std::string session = "arn:aws:sts::111122223333:assumed-role/Responder/alice-laptop";
  EXPECT_TRUE(principal_matches("arn:aws:iam::111122223333:role/Responder", session)) << "the role covers its sessions";
  EXPECT_TRUE(principal_matches(session, session));
  EXPECT_FALSE(principal_matches("arn:aws:sts::111122223333:assumed-role/Responder/bob", session));
  EXPECT_FALSE(principal_matches("arn:aws:iam::111122223333:role/Other", session));
  EXPECT_FALSE(principal_matches("arn:aws:iam::111122223333:user/alice", session));
  EXPECT_FALSE(principal_matches("", session));
}

TEST(PrincipalTest, OneEntityWhateverPathOrCaseAndNoLookalikes) {
  // IAM names are unique in an account regardless of path and case: a role listed with a path is
  // the same role as the caller ARN without one, and the other way round.
  EXPECT_TRUE(principal_matches("arn:aws:iam::111122223333:role/team/Responder", "arn:aws:iam::111122223333:role/Responder"));
  EXPECT_TRUE(principal_matches("arn:aws:iam::111122223333:role/Responder", "arn:aws:iam::111122223333:role/a/b/RESPONDER"));
  EXPECT_TRUE(principal_matches("arn:aws:iam::111122223333:role/team/Responder",
                                "arn:aws:sts::111122223333:assumed-role/responder/alice"));
  // A session name is not a path: role "alice-laptop" under path /Responder/ is not a session of Responder.
  const std::string session = "arn:aws:sts::111122223333:assumed-role/Responder/alice-laptop";
  EXPECT_FALSE(principal_matches("arn:aws:iam::111122223333:role/Responder/alice-laptop", session));
  EXPECT_FALSE(principal_matches("arn:aws:iam::111122223333:user/Responder", session)) << "a user is not a role";
  EXPECT_FALSE(principal_matches("arn:aws:iam::111122223333:role/Responder", "arn:aws:iam::111122223333:user/Responder"));
  EXPECT_FALSE(principal_matches("arn:aws-us-gov:iam::111122223333:role/Responder", session)) << "another partition";
  // Not ARNs STS returns: a session name with a slash is no session of Responder.
  EXPECT_FALSE(principal_matches("arn:aws:iam::111122223333:role/Responder",
                                 "arn:aws:sts::111122223333:assumed-role/Responder/a/b"));
  EXPECT_TRUE(principal_matches(" not an arn", " NOT an ARN")) << "text that is no ARN matches only itself";
  EXPECT_FALSE(principal_matches("not an arn", "arn:aws:iam::111122223333:user/not an arn"));
  EXPECT_EQ(person_of("arn:aws:iam::111122223333:role/ops/Alice"), "alice");
}

TEST(PrincipalTest, ApproverIsTheCallerByPrincipalOrByName) {
  ApproverSpec bound{"k.pem", "", {"arn:aws:iam::111122223333:role/Responder"}};
  // "zed" is bound to the Responder role: any of its sessions is zed.
  EXPECT_TRUE(approver_is("zed", bound, "arn:aws:sts::111122223333:assumed-role/Responder/someone"));
  // Without principals the name decides: user name or session name.
  ApproverSpec plain{"k.pem", "", {}};
  EXPECT_TRUE(approver_is("alice", plain, "arn:aws:sts::111122223333:assumed-role/Responder/alice"));
  EXPECT_TRUE(approver_is("alice", plain, "arn:aws:iam::111122223333:user/team/alice"));
  EXPECT_FALSE(approver_is("alice", plain, "arn:aws:iam::111122223333:user/bob"));
  EXPECT_FALSE(approver_is("alice", plain, ""));
}

TEST_F(ApprovalTest, PlanCallerAndApplyCallerMayNotApprove) {
  ApprovalCheck check;
  check.plan_hash = kHash;
  check.now = now_;
  check.approvers = {{"alice", {pub("alice"), "", {}}},
                     {"bob", {pub("bob"), "", {"arn:aws:iam::111122223333:user/robert"}}}};
  check.excluded = {{"the plan's caller", "arn:aws:iam::111122223333:user/alice"},
                    {"the apply caller", "arn:aws:iam::111122223333:user/robert"}};
  auto d = evaluate_approvals({{"a.json", sign("alice")}}, check);
  expect_one_refusal(d, "the approver is the plan's caller (arn:aws:iam::111122223333:user/alice)");
  d = evaluate_approvals({{"a.json", sign("bob")}}, check);
  expect_one_refusal(d, "the approver is the apply caller (arn:aws:iam::111122223333:user/robert)");
  check.excluded = {{"the plan's caller", "arn:aws:iam::111122223333:user/dave"}};
  d = evaluate_approvals({{"a.json", sign("bob")}}, check);
  EXPECT_TRUE(d.satisfied);
  ASSERT_EQ(d.accepted_approvals.size(), 1u);
  EXPECT_EQ(d.accepted_approvals[0].id.size(), 64u);
}

TEST_F(ApprovalTest, PinnedFingerprintRefusesAReplacedKeyFile) {
  auto alice_pem = read_public_key(pub("alice"));
  ASSERT_TRUE(alice_pem.ok());
  auto fp = key_fingerprint(*alice_pem);
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(fp->rfind("sha256:", 0), 0u);
  EXPECT_EQ(fp->size(), 7u + 64u);
  ApprovalCheck check;
  check.plan_hash = kHash;
  check.now = now_;
  check.approvers = {{"alice", {pub("alice"), *fp, {}}}};
  EXPECT_TRUE(evaluate_approvals({{"a.json", sign("alice")}}, check).satisfied);
  // Someone swaps alice's public key file for mallory's and signs as alice with mallory's key.
  fs::copy_file(pub("mallory"), pub("alice"), fs::copy_options::overwrite_existing);
  auto forged = sign_approval(kHash, "alice", priv("mallory"), hours(1), now_);
  ASSERT_TRUE(forged.ok());
  auto d = evaluate_approvals({{"a.json", *forged}}, check);
  expect_one_refusal(d, "not the " + *fp + " the settings pin");
}

TEST_F(ApprovalTest, PublicKeyWritableByOthersIsRefused) {
  ::chmod(pub("alice").c_str(), 0666);
  auto d = eval({{"a.json", sign("alice")}});
  expect_one_refusal(d, "writable by group or others");
}

TEST(DurationTest, ParsesUnits) {
  EXPECT_EQ(*parse_duration("30m"), seconds(1800));
  EXPECT_EQ(*parse_duration("4h"), seconds(14400));
  EXPECT_EQ(*parse_duration("1d"), seconds(86400));
  EXPECT_EQ(*parse_duration("90s"), seconds(90));
  EXPECT_EQ(*parse_duration("1h30m"), seconds(5400));
  for (const char* bad : {"", "4", "h", "4x", "0m", "-1h", "4h ", "99999999999h"}) {
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace containctl::approvals
