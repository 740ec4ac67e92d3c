// Canary tests: redact_auth hides signatures and session tokens wherever they are printed, and no
// error the signer produces carries the secret key or the session token.
#include <gtest/gtest.h>

#include "aws/sigv4.h"

namespace containctl::aws {
namespace {

const Credentials kCanary{"AKIACANARYACCESSKEY1", "CANARYsecret/KEY+0123456789abcdefghijklm",
                          "CANARYtoken/abc+def=="};

SigningParams params(const char* service = "iam") {
  SigningParams p{"us-east-1", service, {}};
  parse_time("20240301T000000Z", p.time);
  return p;
}

bool leaks(const std::string& text) {
  return text.find(kCanary.secret_access_key) != std::string::npos ||
         text.find(kCanary.session_token) != std::string::npos ||
         text.find(uri_encode(kCanary.session_token, false)) != std::string::npos;
}

TEST(RedactAuth, HidesTheSignatureInAnAuthorizationHeader) {
  HttpRequest req{"GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", {}, ""};
  auto r = sign_request(req, kCanary, params());
  ASSERT_TRUE(r.ok()) << r.error().describe();
  std::string shown = redact_auth("Authorization: " + r->authorization);
  EXPECT_EQ(shown.find(r->signature), std::string::npos) << shown;
  EXPECT_NE(shown.find("Signature=*****"), std::string::npos) << shown;
  // What stays is what helps: the key id, scope and signed headers.
  EXPECT_NE(shown.find("Credential=AKIACANARYACCESSKEY1/20240301/us-east-1/iam/aws4_request"), std::string::npos);
  EXPECT_NE(shown.find("SignedHeaders=host;x-amz-date;x-amz-security-token"), std::string::npos);
}

TEST(RedactAuth, HidesSignatureAndTokenInAPresignedUrl) {
  HttpRequest req{"GET", "https://b.s3.amazonaws.com/k.txt?versionId=1", {}, ""};
  SigningParams p = params("s3");
  p.s3_mode = true;
  p.payload = PayloadMode::kUnsigned;
  auto r = presign_url(req, kCanary, p, 60);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_TRUE(leaks(r->url));  // the raw URL does carry the (encoded) token
  std::string shown = redact_auth(r->url);
  EXPECT_FALSE(leaks(shown)) << shown;
  EXPECT_EQ(shown.find(r->signature), std::string::npos) << shown;
  EXPECT_NE(shown.find("X-Amz-Signature=*****"), std::string::npos) << shown;
  EXPECT_NE(shown.find("X-Amz-Security-Token=*****&"), std::string::npos) << shown;
  EXPECT_NE(shown.find("versionId=1"), std::string::npos) << shown;
}

TEST(RedactAuth, HidesTheTokenInHeaderDumpsAndCanonicalRequests) {
  HttpRequest req{"POST", "https://sts.amazonaws.com/", {{"Content-Type", "application/x-www-form-urlencoded"}},
                  "Action=GetCallerIdentity&Version=2011-06-15"};
  auto r = sign_request(req, kCanary, params("sts"));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(leaks(r->canonical_request));
  EXPECT_FALSE(leaks(redact_auth(r->canonical_request))) << redact_auth(r->canonical_request);
  std::string dump;
  for (const auto& h : req.headers) dump += h.name + ": " + h.value + "\n";
  std::string shown = redact_auth(dump);
  EXPECT_FALSE(leaks(shown)) << shown;
  EXPECT_EQ(shown.find(r->signature), std::string::npos) << shown;
  EXPECT_NE(shown.find("x-amz-security-token: *****"), std::string::npos) << shown;
  // Case does not matter, and several occurrences are all hidden.
  EXPECT_EQ(redact_auth("X-AMZ-SECURITY-TOKEN=abc&x-amz-signature=def&Signature=ghi"),
            "X-AMZ-SECURITY-TOKEN=*****&x-amz-signature=*****&Signature=*****");
  EXPECT_EQ(redact_auth("nothing secret here"), "nothing secret here");
}

// What each marker masks, and where its value ends, at the edges: values that run to the end of the
// text, markers back to back, a marker inside a masked value, and the Authorization forms
// (a SigV4 value is kept for its key id and scope, any other masked whole).
TEST(RedactAuth, MasksEachMarkersValueUpToItsOwnStops) {
  EXPECT_EQ(redact_auth("signature=abc"), "signature=*****");
  EXPECT_EQ(redact_auth("signature=signature=abc def"), "signature=***** def");
  EXPECT_EQ(redact_auth("a=1&Signature=x;y"), "a=1&Signature=*****;y");
  EXPECT_EQ(redact_auth("x-amz-security-token:   tok en\nnext"), "x-amz-security-token:   *****\nnext");
  EXPECT_EQ(redact_auth("{\"x-amz-security-token\":\"t,o k\"}"), "{\"x-amz-security-token\":\"*****\"}");
  EXPECT_EQ(redact_auth("Authorization: Bearer abc\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=s"),
            "Authorization: *****\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=*****");
  EXPECT_EQ(redact_auth("authorization=\"AWS id:sig\"&b=2"), "authorization=\"*****\"&b=2");
  EXPECT_EQ(redact_auth("authorization=signature=x"), "authorization=*****");
  EXPECT_EQ(redact_auth("signature"), "signature");
}

// Error text is anyone's to fill (AWS echoes names and values back): a long message made of markers
// has every one masked. (Masking used to replace in place, one shift of the rest of the text per
// marker: a 480 KB message took 18 s in the fuzz build, a 1.9 MB one 210 s; bench/sigv4_bench
// BM_RedactServiceText_ManyMarkers measures it, fuzz/regressions/xml_response/ replays it.)
TEST(RedactAuth, MasksEveryOneOfManyMarkersInALongMessage) {
  std::string text, expected;
  for (int i = 0; i < 20000; ++i) {
    text += i % 2 ? "Signature=abc " : "authorization=Bearer&";
    expected += i % 2 ? "Signature=***** " : "authorization=*****&";
  }
  EXPECT_EQ(redact_service_text(text), expected);
}

TEST(SignerErrors, NeverCarryTheSecretOrTheToken) {
  struct Bad {
    const char* what;
    HttpRequest req;
    Credentials creds = kCanary;
    SigningParams p = params();
  };
  std::vector<Bad> cases;
  cases.push_back({"no scheme", {"GET", "iam.amazonaws.com/?X-Amz-Security-Token=CANARYtoken/abc+def==", {}, ""}});
  cases.push_back({"bad port", {"GET", "https://iam.amazonaws.com:99999/", {}, ""}});
  cases.push_back({"CR/LF in value", {"GET", "https://iam.amazonaws.com/", {{"X-Token", "CANARYtoken/abc+def==\r\nX: y"}}, ""}});
  cases.push_back({"bad header name", {"GET", "https://iam.amazonaws.com/", {{"Bad Name", "CANARYtoken/abc+def=="}}, ""}});
  Bad region{"bad region", {"GET", "https://iam.amazonaws.com/", {}, ""}};
  region.p.region = "us-east-1\n";
  cases.push_back(region);
  Bad service{"bad service", {"GET", "https://iam.amazonaws.com/", {}, ""}};
  service.p.service = "";
  cases.push_back(service);
  Bad token{"CR/LF in token", {"GET", "https://iam.amazonaws.com/", {}, ""}};
  token.creds.session_token = kCanary.session_token + "\r\n";
  cases.push_back(token);
  Bad key{"bad key id", {"GET", "https://iam.amazonaws.com/", {}, ""}};
  key.creds.access_key_id = "AKIA/ODD";
  cases.push_back(key);
  Bad empty{"no secret", {"GET", "https://iam.amazonaws.com/", {}, ""}};
  empty.creds.secret_access_key.clear();
  cases.push_back(empty);

  for (auto& c : cases) {
    HttpRequest before = c.req;
    auto r = sign_request(c.req, c.creds, c.p);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_FALSE(leaks(r.error().describe())) << c.what << ": " << r.error().describe();
    EXPECT_FALSE(r.error().message.empty()) << c.what;
    EXPECT_EQ(c.req.headers.size(), before.headers.size()) << c.what << ": a rejected request is left unchanged";
    auto q = presign_url(c.req, c.creds, c.p, 60);
    ASSERT_FALSE(q.ok()) << c.what;
    EXPECT_FALSE(leaks(q.error().describe())) << c.what << ": " << q.error().describe();
  }
  auto expiry = presign_url({"GET", "https://iam.amazonaws.com/", {}, ""}, kCanary, params(), 604801);
  ASSERT_FALSE(expiry.ok());
  EXPECT_EQ(expiry.error().code, "InvalidExpiry");
}

}  // namespace
}  // namespace containctl::aws
