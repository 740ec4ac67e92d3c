// Canary: secret keys, session tokens and container authorization tokens never appear in an error
// message or a log line (spdlog captured at trace level), on success paths and failure paths of
// every provider in the chain.
#include <gtest/gtest.h>

#include "aws/assume_role.h"
#include "aws/config_file.h"
#include "aws/credential_chain.h"
#include "aws/credential_process.h"
#include "aws/metadata_credentials.h"
#include "tests/aws/credentials_test_support.h"

namespace containctl::aws {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kCanaries = {
    "CANARYsecretENV0wJalrXUtnFEMI", "CANARYtokenENV0FwoGZXIvYXdz",  "CANARYsecretFILE0K7MDENGbPxR",
    "CANARYsecretPROC0fiCYzEXAMPLE", "CANARYtokenPROC0IQoJb3JpZ2lu", "CANARYsecretMETA0bPxRfiCYz",
    "CANARYtokenMETA0AQoDYXdzEJr",   "CANARYcontainerAUTH0Bearer",   "CANARYsecretSTS0wJalrXUt",
    "CANARYtokenSTS0FQoGZXIvYXdz",
};
const std::string& canary(int i) { return kCanaries[static_cast<size_t>(i)]; }

std::string proc_json(const std::string& expiration, int version = 1) {
  return "{\"Version\": " + std::to_string(version) + ", \"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": \"" +
         canary(3) + "\", \"SessionToken\": \"" + canary(4) + "\", \"Expiration\": \"" + expiration + "\"}";
}

std::string meta_json(bool with_secret = true) {
  return std::string("{\"Code\": \"Success\", \"AccessKeyId\": \"ASIAMETA\", ") +
         (with_secret ? "\"SecretAccessKey\": \"" + canary(5) + "\", " : "") + "\"Token\": \"" + canary(6) +
         "\", \"Expiration\": \"2030-01-01T18:00:00Z\"}";
}

std::string assume_role_xml() {
  return "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>" +
         canary(8) + "</SecretAccessKey><SessionToken>" + canary(9) +
         "</SessionToken><Expiration>2030-01-01T13:00:00Z</Expiration></Credentials></AssumeRoleResult>"
         "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></AssumeRoleResponse>";
}

TEST(CredentialsCanary, NoSecretInAnyErrorOrLogLine) {
  testing::AwsSandbox box;
  testing::LogCapture logs;
  TimePoint start;
  parse_time("2030-01-01T12:00:00Z", start);
  ManualClock clock(start);
  std::vector<std::string> messages;
  int successes = 0, failures = 0;
  auto record = [&](const auto& r) {
    if (r.ok()) {
      ++successes;
    } else {
      ++failures;
      messages.push_back(r.error().describe() + " | " + r.error().code + " | " + r.error().message);
    }
  };
  auto chain = [&](const std::string& profile, std::shared_ptr<HttpTransport> transport = nullptr) {
    ChainOptions o;
    o.profile = profile;
    o.clock = &clock;
    o.region = "us-east-1";
    o.endpoints.all = "http://127.0.0.1:9";
    o.transport = o.metadata_transport = transport;
    auto p = default_credentials_provider(o);
    record(p);
    if (p.ok()) record((*p)->credentials());
  };

  // Environment.
  box.env.set("AWS_ACCESS_KEY_ID", "AKIAENV");
  box.env.set("AWS_SECRET_ACCESS_KEY", canary(0));
  box.env.set("AWS_SESSION_TOKEN", canary(1));
  chain("");
  box.env.unset("AWS_ACCESS_KEY_ID");
  chain("");  // partial environment
  box.env.unset("AWS_SECRET_ACCESS_KEY");
  box.env.unset("AWS_SESSION_TOKEN");

  // Files: a good profile, a half profile, and a syntax error on a secret's line.
  box.credentials("[file]\naws_access_key_id = AKIAFILE\naws_secret_access_key = " + canary(2) +
                  "\n[half]\naws_secret_access_key = " + canary(2) + "\n");
  chain("file");
  chain("half");
  box.credentials("[file]\naws_secret_access_key " + canary(2) + "\n");
  chain("file");
  record(load_shared_config());
  box.credentials("");

  // credential_process: good, non-zero after printing, garbage, expired, wrong version, refresh failure.
  auto cat = [](const std::string& s) { return "cat <<'EOF'\n" + s + "\nEOF\n"; };
  std::string good = box.script("good.sh", cat(proc_json("2030-01-01T13:00:00Z")));
  std::string fails =
      box.script("fails.sh", cat(proc_json("2030-01-01T13:00:00Z")) + "echo " + canary(3) + " >&2\nexit 4\n");
  std::string garbage = box.script("garbage.sh", "echo 'oops " + canary(3) + " " + canary(4) + "'\n");
  std::string expired = box.script("expired.sh", cat(proc_json("2029-12-31T00:00:00Z")));
  std::string version = box.script("version.sh", cat(proc_json("2030-01-01T13:00:00Z", 7)));
  box.config("[profile good]\ncredential_process = " + good + "\n[profile fails]\ncredential_process = " + fails +
             "\n[profile garbage]\ncredential_process = " + garbage + "\n[profile expired]\ncredential_process = " +
             expired + "\n[profile version]\ncredential_process = " + version + "\n");
  for (const char* p : {"good", "fails", "garbage", "expired", "version"}) chain(p);
  std::string flag = box.dir() + "/flag";
  std::string flaky =
      box.script("flaky.sh", "[ -e '" + flag + "' ] && exit 1\n" + cat(proc_json("2030-01-01T13:00:00Z")));
  auto flaky_provider = make_credential_process_provider(flaky, "flaky", &clock);
  record(flaky_provider->credentials());
  testing::write_file(flag, "");
  clock.advance(57min);
  record(flaky_provider->credentials());  // the warn path: refresh failed, old ones kept
  clock.set(start);
  box.config("");

  // Container: success, bad JSON, 500 with a secret in the body; the authorization token.
  box.env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds");
  box.env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", canary(7));
  for (auto answer : {testing::http(200, meta_json()), testing::http(200, "{bad " + canary(5)),
                      testing::http(500, canary(5) + canary(7)), testing::http(200, meta_json(false))}) {
    chain("", std::make_shared<testing::ScriptedTransport>([answer](const HttpRequest&) { return answer; }));
  }
  box.env.unset("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  box.env.unset("AWS_CONTAINER_AUTHORIZATION_TOKEN");

  // Instance metadata: success, a document without the secret, garbage.
  box.env.unset("AWS_EC2_METADATA_DISABLED");
  box.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9");
  for (std::string doc : {meta_json(), meta_json(false), "<garbage>" + canary(5) + canary(6)}) {
    chain("", std::make_shared<testing::ScriptedTransport>([doc](const HttpRequest& r) {
            if (r.method == "PUT") return testing::http(200, "imds-token");
            if (r.url.ends_with("/security-credentials/")) return testing::http(200, "role");
            return testing::http(200, doc);
          }));
  }
  box.env.set("AWS_EC2_METADATA_DISABLED", "true");

  // AssumeRole from a profile whose keys are canaries: success, then an access-denied, then garbage.
  box.credentials("[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = " + canary(2) + "\n");
  box.config("[profile role]\nrole_arn = arn:aws:iam::222222222222:role/R\nsource_profile = base\n");
  for (auto answer : {testing::http(200, assume_role_xml()),
                      testing::http(403,
                                    "<ErrorResponse><Error><Code>AccessDenied</Code><Message>denied</Message>"
                                    "</Error></ErrorResponse>"),
                      testing::http(200, "<AssumeRoleResponse>" + canary(8))}) {
    chain("role", std::make_shared<testing::ScriptedTransport>([answer](const HttpRequest&) { return answer; }));
  }

  // The test exercised both outcomes broadly...
  EXPECT_GE(successes, 8);
  EXPECT_GE(failures, 12);
  // ...and nothing secret leaked anywhere.
  std::string log = logs.text();
  EXPECT_FALSE(log.empty());
  EXPECT_NE(log.find("refreshing credentials"), std::string::npos);  // the capture really saw the warn line
  for (const auto& c : kCanaries) {
    EXPECT_EQ(log.find(c), std::string::npos) << "log leaks " << c;
    for (const auto& m : messages) EXPECT_EQ(m.find(c), std::string::npos) << "error leaks " << c << ": " << m;
  }
}

}  // namespace
}  // namespace containctl::aws
