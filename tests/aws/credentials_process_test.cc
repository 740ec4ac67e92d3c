// credential_process: word splitting without a shell, the JSON contract, errors that name the
// profile and the problem without echoing output, and caching until expiry on a ManualClock.
#include <gtest/gtest.h>

#include "aws/credential_chain.h"
#include "aws/credential_process.h"
#include "tests/aws/credentials_test_support.h"

namespace containctl::aws {
namespace {

using namespace std::chrono_literals;

const TimePoint kNow = [] {
  TimePoint t;
  parse_time("2030-01-01T12:00:00Z", t);
  return t;
}();

constexpr const char* kSecret = "procSECRETwJalrXUtnFEMIK7MDENGbPxRfiCY";
constexpr const char* kToken = "procTOKENFwoGZXIvYXdzEJr";

std::string json_answer(const std::string& expiration, int version = 1) {
  return "{\"Version\": " + std::to_string(version) + ", \"AccessKeyId\": \"ASIAPROCESS\", \"SecretAccessKey\": \"" +
         kSecret + "\", \"SessionToken\": \"" + kToken + "\"" +
         (expiration.empty() ? "" : ", \"Expiration\": \"" + expiration + "\"") + "}";
}

std::string printing(const std::string& json) { return "cat <<'EOF'\n" + json + "\nEOF\n"; }

TEST(SplitCommand, SplitsLikeAShellWithoutExpanding) {
  auto w = split_command("  /bin/helper --profile 'my prof' \"a \\\"b\\\" $HOME\" c\\ d $HOME;rm *  ");
  ASSERT_TRUE(w.ok()) << w.error().describe();
  std::vector<std::string> want{"/bin/helper", "--profile", "my prof", "a \"b\" $HOME", "c d", "$HOME;rm", "*"};
  EXPECT_EQ(*w, want);
  EXPECT_EQ(split_command("a''b \"\"")->size(), 2u);
  EXPECT_EQ((*split_command("a''b \"\""))[1], "");
}

TEST(SplitCommand, RejectsBrokenQuoting) {
  EXPECT_NE(split_command("helper 'open").error().message.find("single quote"), std::string::npos);
  EXPECT_NE(split_command("helper \"open").error().message.find("double quote"), std::string::npos);
  EXPECT_NE(split_command("helper \\").error().message.find("backslash"), std::string::npos);
  EXPECT_NE(split_command("   ").error().message.find("empty"), std::string::npos);
}

class CredentialProcess : public ::testing::Test {
 protected:
  testing::AwsSandbox box;
  ManualClock clock{kNow};
};

TEST_F(CredentialProcess, ValidAnswer) {
  std::string script = box.script("ok.sh", printing(json_answer("2030-01-01T13:00:00Z")));
  auto c = run_credential_process(script, "dev", clock);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "ASIAPROCESS");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, kToken);
  ASSERT_TRUE(c->expiration);
  EXPECT_EQ(format_iso8601(*c->expiration), "2030-01-01T13:00:00Z");
  EXPECT_EQ(c->source, "process:dev");
}

TEST_F(CredentialProcess, ArgumentsReachTheProcessLiterallyWithoutAShell) {
  std::string out = box.dir() + "/args.txt";
  std::string script = box.script(
      "args.sh", "for a in \"$@\"; do printf '%s\\n' \"$a\" >> '" + out + "'; done\n" + printing(json_answer("")));
  box.env.set("CANARY_VAR", "expanded");
  auto c = run_credential_process(script + " 'two words' '$CANARY_VAR' ';' 'x|y' `id`", "dev", clock);
  ASSERT_TRUE(c.ok()) << c.error().describe();
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "two words\n$CANARY_VAR\n;\nx|y\n`id`\n");
  EXPECT_FALSE(c->expiration);  // no Expiration: never expires
}

TEST_F(CredentialProcess, NonZeroExitNamesProfileAndStatusButNotOutput) {
  std::string script = box.script("fail.sh", printing(json_answer("2030-01-01T13:00:00Z")) + "exit 3\n");
  auto c = run_credential_process(script, "broken", clock);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("profile 'broken'"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("status 3"), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().message.find(kSecret), std::string::npos);
}

TEST_F(CredentialProcess, GarbageOutput) {
  std::string script = box.script("garbage.sh", std::string("echo 'not json at all ") + kSecret + "'\n");
  auto c = run_credential_process(script, "g", clock);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("not a JSON object"), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().message.find(kSecret), std::string::npos);
}

TEST_F(CredentialProcess, ExpiredAnswer) {
  std::string script = box.script("expired.sh", printing(json_answer("2030-01-01T11:59:00Z")));
  auto c = run_credential_process(script, "old", clock);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("expired at 2030-01-01T11:59:00Z"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("profile 'old'"), std::string::npos);
}

TEST_F(CredentialProcess, WrongVersionMissingFieldsAndBadExpiration) {
  struct Case {
    std::string json;
    std::string expect;
  } cases[] = {
      {json_answer("", 2), "unsupported Version 2"},
      {"{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}", "no Version"},
      {"{\"Version\": 1, \"SecretAccessKey\": \"S\"}", "no AccessKeyId"},
      {"{\"Version\": 1, \"AccessKeyId\": \"A\"}", "no SecretAccessKey"},
      {"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": 5}", "SecretAccessKey is not a string"},
      {"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", \"Expiration\": \"tomorrow\"}",
       "Expiration is not an ISO-8601 time"},
      {"[1, 2]", "not a JSON object"},
  };
  int i = 0;
  for (const auto& c : cases) {
    std::string script = box.script("case" + std::to_string(i++) + ".sh", printing(c.json));
    auto r = run_credential_process(script, "p", clock);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
}

TEST_F(CredentialProcess, MissingCommandAndTimeout) {
  auto missing = run_credential_process(box.dir() + "/does-not-exist --flag", "m", clock);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot run"), std::string::npos) << missing.error().message;

  // The helper starts a child that would outlive it; the whole group is killed at the timeout.
  std::string script = box.script("slow.sh", "sleep 30 &\nsleep 30\n");
  auto start = std::chrono::steady_clock::now();
  auto slow = run_credential_process(script, "slow", clock, ProcessOptions{std::chrono::milliseconds(300)});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.error().message.find("timed out after 300 ms"), std::string::npos) << slow.error().message;
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(CredentialProcess, ProviderCachesUntilShortlyBeforeExpiry) {
  // The script counts its runs and answers with an expiry one hour after the clock's start.
  std::string counter = box.dir() + "/runs";
  std::string script =
      box.script("count.sh", "echo x >> '" + counter + "'\n" + printing(json_answer("2030-01-01T13:00:00Z")));
  auto runs = [&] {
    std::ifstream f(counter);
    std::string line;
    int n = 0;
    while (std::getline(f, line)) ++n;
    return n;
  };
  auto provider = make_credential_process_provider(script, "cached", &clock);
  ASSERT_TRUE(provider->credentials().ok());
  ASSERT_TRUE(provider->credentials().ok());
  EXPECT_EQ(runs(), 1);
  clock.advance(54min);  // 6 minutes left: still cached
  ASSERT_TRUE(provider->credentials().ok());
  EXPECT_EQ(runs(), 1);
  clock.advance(2min);  // 4 minutes left: inside the 5-minute refresh window
  ASSERT_TRUE(provider->credentials().ok());
  EXPECT_EQ(runs(), 2);
}

TEST_F(CredentialProcess, FailedRefreshKeepsValidCredentialsThenFails) {
  std::string flag = box.dir() + "/broken";
  std::string script = box.script(
      "flaky.sh", "if [ -e '" + flag + "' ]; then exit 1; fi\n" + printing(json_answer("2030-01-01T13:00:00Z")));
  auto provider = make_credential_process_provider(script, "flaky", &clock);
  ASSERT_TRUE(provider->credentials().ok());
  testing::write_file(flag, "");
  clock.advance(57min);  // refresh due, refresh fails, 3 minutes of validity left: keep them
  auto kept = provider->credentials();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->access_key_id, "ASIAPROCESS");
  clock.advance(2min + 30s);  // 30 s left, inside the grace minute: now the failure surfaces
  auto failed = provider->credentials();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("profile 'flaky'"), std::string::npos) << failed.error().message;
}

TEST_F(CredentialProcess, ChainRunsTheProfilesProcessAndReportsItsFailure) {
  std::string good = box.script("good.sh", printing(json_answer("2030-01-01T13:00:00Z")));
  std::string bad = box.script("bad.sh", "exit 7\n");
  box.config("[profile good]\ncredential_process = " + good + "\n[profile bad]\ncredential_process = " + bad + "\n");
  ChainOptions o;
  o.clock = &clock;
  o.profile = "good";
  auto p = default_credentials_provider(o);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  auto c = (*p)->credentials();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->source, "process:good");

  o.profile = "bad";
  auto b = default_credentials_provider(o);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("profile 'bad'"), std::string::npos) << b.error().message;
  EXPECT_NE(b.error().message.find("status 7"), std::string::npos) << b.error().message;
}

}  // namespace
}  // namespace containctl::aws
