// No secret in any error: a proxy in front of moto answers the containment's mutating calls the way
// AWS answers a request whose signature does not match, echoing the canonical request (session
// token included), the string to sign, the Authorization header and the signature. None of it may
// reach stderr, --output json, the journal, the audit log, status or audit show.
#include <regex>
#include <spawn.h>

#include "tests/orchestrator/e2e_util.h"

extern char** environ;

namespace containctl::e2e {
namespace {

constexpr char kToken[] = "FQoGZXIvYXdzECanaryTOKEN/with+slash=and+plus==";
constexpr char kTokenEncoded[] = "FQoGZXIvYXdzECanaryTOKEN%2Fwith%2Bslash%3Dand%2Bplus%3D%3D";

// The echoing proxy, started on a free port and stopped by its pid.
class EchoProxy {
 public:
  EchoProxy(const std::string& moto_url, const std::string& ops) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::string script = CONTAINCTL_SOURCE_DIR "/tests/data/e2e/echo_proxy.py";
    std::vector<std::string> args = {"python3", script, moto_url, ops};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::posix_spawnp(&pid_, "python3", &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    FILE* f = ::fdopen(fds[0], "r");
    if (f && std::fscanf(f, "%d", &port_) != 1) port_ = 0;
    if (f) std::fclose(f);
  }
  ~EchoProxy() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class E2eErrorCanaryTest : public E2eTest {};

// Text that carries a signature value: SigV4 signatures are 64 hex digits.
bool has_signature(const std::string& text) {
  static const std::regex sig("[Ss]ignature=[0-9a-f]{64}");
  return std::regex_search(text, sig);
}

TEST_F(E2eErrorCanaryTest, SignatureDoesNotMatchEchoReachesNoOutputJournalOrAuditRecord) {
  seed(1);
  write_settings(org_settings("auto"));
  EchoProxy proxy(moto().url(), "UpdateAccessKey,PutUserPolicy,DeleteLoginProfile");
  ASSERT_GT(proxy.port(), 0) << "echo proxy did not start";
  std::map<std::string, std::string> env = {{"AWS_ENDPOINT_URL", proxy.url()}, {"AWS_SESSION_TOKEN", kToken}};

  Proc p = run({"plan", "--target", seed_["user_arn"].get<std::string>(), "--actions", "iam-contain", "-o", "plan.json"},
               env);
  ASSERT_EQ(p.code, 0) << p.all();
  std::string outputs = p.all();
  Proc a = run({"--log-level", "debug", "--output", "json", "apply", "plan.json"}, env);
  EXPECT_EQ(a.code, 4) << a.all();
  outputs += a.all();
  // The failure is still explained: the code and the service's first sentence stay.
  EXPECT_NE(a.all().find("SignatureDoesNotMatch"), std::string::npos) << a.all();
  json doc = json::parse(a.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << a.out;
  std::string run_id = doc.value("run_id", "");
  ASSERT_FALSE(run_id.empty()) << a.out;
  // Text output too.
  Proc a2 = run({"apply", "plan.json", "--resume", run_id}, env);
  outputs += a2.all();
  for (auto args : std::vector<std::vector<std::string>>{{"--output", "json", "status", run_id},
                                                        {"status", run_id},
                                                        {"audit", "show", run_id},
                                                        {"--output", "json", "audit", "show", run_id}}) {
    Proc r = run(args, env);
    outputs += r.all();
  }
  // The proxy really echoed the token: the audit log names the failed calls.
  bool failed_call = false;
  for (const auto& r : audit_records())
    if (r.value("event", "") == "aws_call" && r.value("error_code", "") == "SignatureDoesNotMatch") failed_call = true;
  EXPECT_TRUE(failed_call) << "the proxy answered no call with SignatureDoesNotMatch";

  auto clean = [](const std::string& what, const std::string& text) {
    EXPECT_EQ(text.find(kToken), std::string::npos) << "token in " << what;
    EXPECT_EQ(text.find(kTokenEncoded), std::string::npos) << "encoded token in " << what;
    EXPECT_FALSE(has_signature(text)) << "signature in " << what;
    EXPECT_EQ(text.find("x-amz-date:"), std::string::npos) << "canonical request in " << what;
  };
  clean("command output", outputs);
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(state_)) {
    if (!e.is_regular_file()) continue;
    ++files;
    clean(e.path().string(), slurp(e.path()));
  }
  EXPECT_GE(files, 2);
}

}  // namespace
}  // namespace containctl::e2e
