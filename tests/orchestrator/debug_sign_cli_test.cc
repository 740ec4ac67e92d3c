#include <algorithm>
// `containctl debug sign`, run as the real binary with canary credentials in the environment.
//
// What the output may contain (see aws/debug_sign.h for the reasoning):
//  - the secret key: never, anywhere (stdout or stderr);
//  - the session token: never either, raw or URI-encoded: where SigV4 puts it (the
//    x-amz-security-token line of canonical_request, X-Amz-Security-Token in a presigned
//    canonical_request and url) it is printed as *****.
// The signature must equal botocore's for the same inputs, and the canonical request botocore's
// with the token masked.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace containctl::orch {
namespace {

namespace fs = std::filesystem;

constexpr char kAccessKey[] = "ASIACANARYACCESSKEY1";
constexpr char kSecret[] = "CANARYsecretKEY/0123456789+abcdefghijklm";
constexpr char kToken[] = "CANARYsessionTOKEN/with+slash=and+plus==";
constexpr char kTokenEncoded[] = "CANARYsessionTOKEN%2Fwith%2Bslash%3Dand%2Bplus%3D%3D";
constexpr char kTimestamp[] = "20240301T101500Z";

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string masked(std::string text) {
  for (const std::string secret : {std::string(kToken), std::string(kTokenEncoded)})
    for (size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p + 5))
      text.replace(p, secret.size(), "*****");
  return text;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

class DebugSignCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("containctl-debug-sign-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A clean environment: only the canary credentials (or none), no shared files, no metadata.
  CliRun run(const std::vector<std::string>& args, bool with_creds = true) {
    std::string cmd = "env -i PATH=/usr/bin:/bin HOME=" + quote(dir_.string()) +
                      " AWS_CONFIG_FILE=" + quote((dir_ / "no-config").string()) +
                      " AWS_SHARED_CREDENTIALS_FILE=" + quote((dir_ / "no-credentials").string()) +
                      " AWS_EC2_METADATA_DISABLED=true";
    if (with_creds)
      cmd += std::string(" AWS_ACCESS_KEY_ID=") + kAccessKey + " AWS_SECRET_ACCESS_KEY=" + quote(kSecret) +
             " AWS_SESSION_TOKEN=" + quote(kToken);
    cmd += " " + quote(CONTAINCTL_BINARY);
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " 2>" + quote((dir_ / "stderr").string());
    CliRun r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream e(dir_ / "stderr");
    r.err.assign(std::istreambuf_iterator<char>(e), {});
    // The canary secret must never be printed, whatever happened.
    EXPECT_EQ(r.out.find(kSecret), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(kSecret), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(kToken), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find(kTokenEncoded), std::string::npos) << r.err;
    return r;
  }

  nlohmann::json botocore(const std::vector<std::string>& args) {
    std::string cmd = "python3 " + quote(CONTAINCTL_SHARED_DIR "/tools/botocore_sign.py") + " --json" +
                      " --access-key " + kAccessKey + " --secret-key " + quote(kSecret) + " --session-token " +
                      quote(kToken) + " --timestamp " + kTimestamp;
    for (const auto& a : args) cmd += " " + quote(a);
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
    return nlohmann::json::parse(out);
  }

  std::string write(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  fs::path dir_;
};

TEST_F(DebugSignCli, HeaderSigningMatchesBotocoreAndShowsTokenOnlyInCanonicalRequest) {
  const std::string body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2FX"
                           "&RoleSessionName=s";
  std::string body_file = write("body", body);
  CliRun r = run({"--region", "eu-west-3", "debug", "sign", "--method", "POST", "--url", "https://sts.eu-west-3.amazonaws.com/",
               "--header", "Content-Type: application/x-www-form-urlencoded; charset=utf-8", "--header",
               "User-Agent: containctl-test", "--body-file", body_file, "--service", "sts", "--timestamp", kTimestamp});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  for (const char* field : {"canonical_request", "string_to_sign", "signed_headers", "signature", "authorization"})
    EXPECT_TRUE(doc.contains(field)) << field;
  EXPECT_EQ(doc["credential_scope"], "20240301/eu-west-3/sts/aws4_request");  // the global --region

  auto ref = botocore({"--method", "POST", "--url", "https://sts.eu-west-3.amazonaws.com/", "-H",
                       "Content-Type: application/x-www-form-urlencoded; charset=utf-8", "-H",
                       "User-Agent: containctl-test", "--data", body, "--region", "eu-west-3", "--service", "sts"});
  EXPECT_EQ(doc["canonical_request"], masked(ref["canonical_request"]));
  EXPECT_EQ(doc["string_to_sign"], ref["string_to_sign"]);
  EXPECT_EQ(doc["authorization"], ref["authorization"]);
  EXPECT_NE(doc["authorization"].get<std::string>().find(doc["signature"].get<std::string>()), std::string::npos);

  // The token: nowhere in the output; its canonical-request line shows it masked.
  EXPECT_EQ(count(r.out + r.err, kToken), 0u) << r.out;
  EXPECT_EQ(count(r.out + r.err, kTokenEncoded), 0u) << r.out;
  EXPECT_NE(doc["canonical_request"].get<std::string>().find("x-amz-security-token:*****"), std::string::npos);
  EXPECT_NE(doc["headers"].dump().find("*****"), std::string::npos);
}

TEST_F(DebugSignCli, PresignPutsTheEncodedTokenInUrlAndCanonicalRequestOnly) {
  const std::string url = "https://evidence.s3.us-east-1.amazonaws.com/incident/a%20b.json";
  CliRun r = run({"debug", "sign", "--method", "GET", "--url", url, "--service", "s3", "--s3", "--presign", "900",
               "--timestamp", kTimestamp});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_TRUE(doc.contains("url"));
  EXPECT_FALSE(doc.contains("authorization"));
  const std::string signed_url = doc["url"];
  EXPECT_TRUE(signed_url.ends_with("X-Amz-Signature=" + doc["signature"].get<std::string>()));
  EXPECT_EQ(count(r.out + r.err, kToken), 0u);  // raw form nowhere
  EXPECT_EQ(count(r.out + r.err, kTokenEncoded), 0u) << r.out;  // nor encoded
  EXPECT_EQ(count(signed_url, "X-Amz-Security-Token=*****&"), 1u) << signed_url;
  EXPECT_EQ(count(doc["canonical_request"].get<std::string>(), "X-Amz-Security-Token=*****"), 1u);

  auto ref = botocore({"--method", "GET", "--url", url, "--region", "us-east-1", "--service", "s3", "--presign",
                       "--expires", "900"});
  EXPECT_EQ(doc["canonical_request"], masked(ref["canonical_request"]));
  EXPECT_EQ(doc["string_to_sign"], ref["string_to_sign"]);
  EXPECT_TRUE(ref["url"].get<std::string>().ends_with("X-Amz-Signature=" + doc["signature"].get<std::string>()));
}

TEST_F(DebugSignCli, S3PutWithBodyMatchesBotocore) {
  std::string body_file = write("obj", std::string(300, 'z') + "\n");
  const std::string url = "https://s3.us-east-1.amazonaws.com/evidence/k%2Bey%3D1.txt";
  CliRun r = run({"debug", "sign", "--method", "PUT", "--url", url, "--header", "x-amz-acl: private", "--body-file",
               body_file, "--service", "s3", "--s3", "--timestamp", kTimestamp});
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  auto ref = botocore({"--method", "PUT", "--url", url, "-H", "x-amz-acl: private", "--data-file", body_file,
                       "--region", "us-east-1", "--service", "s3"});
  EXPECT_EQ(doc["canonical_request"], masked(ref["canonical_request"]));
  EXPECT_EQ(doc["authorization"], ref["authorization"]);
}

TEST_F(DebugSignCli, BadInputIsAnErrorNamingTheProblem) {
  struct Bad {
    std::vector<std::string> extra;
    std::string message;
  };
  std::string base_url = "https://iam.amazonaws.com/";
  std::vector<Bad> cases = {
      {{"--url", "iam.amazonaws.com/"}, "malformed URL"},
      {{"--url", "ftp://iam.amazonaws.com/"}, "unsupported scheme"},
      {{"--url", "https://:443/"}, "empty host"},
      {{"--url", base_url, "--header", "X-No-Colon"}, "has no ':'"},
      {{"--url", base_url, "--header", "X-Evil: a\r\nInjected: b"}, "CR or LF"},
      {{"--url", base_url, "--body-file", "/nonexistent/body"}, "--body-file"},
      {{"--url", base_url, "--timestamp", "2024-03-01"}, "--timestamp"},
      {{"--url", base_url, "--timestamp", "20241301T000000Z"}, "--timestamp"},
      {{"--url", base_url, "--service", "bad/service"}, "signing service"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"debug", "sign", "--method", "GET"};
    // A case that names its own --service replaces the default one (CLI11 allows it once).
    if (std::find(c.extra.begin(), c.extra.end(), "--service") == c.extra.end()) {
      args.push_back("--service");
      args.push_back("iam");
    }
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    CliRun r = run(args);
    EXPECT_EQ(r.code, 1) << c.message << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST_F(DebugSignCli, UsageErrorsExit2) {
  EXPECT_EQ(run({"debug", "sign", "--method", "GET", "--service", "iam"}).code, 2);  // no --url
  EXPECT_EQ(run({"debug", "sign", "--method", "GET", "--url", "https://iam.amazonaws.com/", "--service", "iam",
                 "--presign", "0"})
                .code,
            2);
}

TEST_F(DebugSignCli, NoCredentialsIsAnError) {
  CliRun r = run({"debug", "sign", "--method", "GET", "--url", "https://iam.amazonaws.com/", "--service", "iam"},
              /*with_creds=*/false);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_FALSE(r.err.empty());
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace containctl::orch
