// Issue 20, items 7 and 10, end to end with the real binary: never silent while waiting on AWS
// (retries, a request AWS does not answer, the dwell countdown on a terminal; --connect-timeout and
// --read-timeout), and command-line habits (global options anywhere, "did you mean", --output json
// for every command, audit show filters, colour on a terminal only and NO_COLOR, the ARN form for a
// bare instance id).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>

#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2eHabitsTest : public E2eTest {
 protected:
  // Runs containctl with stdin, stdout and stderr on one pseudo-terminal; `out` holds what the
  // terminal showed (stdout and stderr together).
  Proc run_on_tty(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra = {},
                  std::chrono::seconds limit = std::chrono::seconds(120)) {
    ExecLine line(args, env_with(extra));
    int master = -1;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid == 0) {
      if (::chdir(dir_.c_str()) != 0) _exit(126);
      line.exec();
    }
    Proc r;
    if (pid < 0) {
      ADD_FAILURE() << "forkpty";
      return r;
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (true) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        r.timed_out = true;
        break;
      }
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO: the child closed the terminal (it exited)
      r.out.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(master);
    if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    return r;
  }

  // A listener on 127.0.0.1 whose connections complete (the kernel's backlog) and never get an
  // answer: AWS hanging.
  struct SilentEndpoint {
    int fd = -1;
    std::string url;
    SilentEndpoint() {
      fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0 ||
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return;
      url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    }
    ~SilentEndpoint() {
      if (fd >= 0) ::close(fd);
    }
  };
};

// A retried call says so (service, operation, AWS's code or the network error's class: nothing
// else); --read-timeout and --connect-timeout bound the wait on an endpoint that never answers.
TEST_F(E2eHabitsTest, RetriesAreReportedAndTimeoutsBoundTheWait) {
  write_settings(org_settings("auto"));
  seed(1);
  const std::string inst = seed_["instance_arns"][0];
  SilentEndpoint silent;
  ASSERT_FALSE(silent.url.empty());
  const auto t0 = std::chrono::steady_clock::now();
  Proc p = run({"--read-timeout", "1", "--connect-timeout", "2", "--log-level", "info", "plan", "--target", inst, "-o",
                "never.json"},
               {{"AWS_ENDPOINT_URL", silent.url}});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(p.code, 1) << p.all();
  EXPECT_LT(took, std::chrono::seconds(30)) << "three attempts of about 1 s, not 60 s each";
  EXPECT_NE(p.err.find("GetCallerIdentity (us-east-1)"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("retrying in"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("(attempt 2 of "), std::string::npos) << p.err;
  EXPECT_FALSE(fs::exists(dir_ + "/never.json"));
  // The AWS CLI's spellings are accepted too.
  Proc cli = run({"--cli-read-timeout", "1", "--cli-connect-timeout", "2", "plan", "--target", inst, "-o", "never.json"},
                 {{"AWS_ENDPOINT_URL", silent.url}});
  EXPECT_EQ(cli.code, 1) << cli.all();
  Proc bad = run({"--read-timeout", "-3", "status"});
  EXPECT_EQ(bad.code, 2) << bad.all();
}

// On a terminal, at the default log level: a request AWS does not answer says so every few
// seconds, and each retry says so.
TEST_F(E2eHabitsTest, AHangingRequestIsNeverSilentOnATerminal) {
  write_settings(org_settings("auto"));
  seed(1);
  const std::string inst = seed_["instance_arns"][0];
  SilentEndpoint silent;
  ASSERT_FALSE(silent.url.empty());
  Proc tty = run_on_tty({"--read-timeout", "6", "plan", "--target", inst, "-o", "never.json"},
                        {{"AWS_ENDPOINT_URL", silent.url}});
  EXPECT_EQ(tty.code, 1) << tty.out;
  EXPECT_NE(tty.out.find("still waiting for AWS ("), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find(" 127.0.0.1): 5 s"), std::string::npos) << "after 5 s, the host only: " << tty.out;
  EXPECT_NE(tty.out.find("retrying in"), std::string::npos) << "retries are shown on a terminal: " << tty.out;
}

// The untrack dwell counts down on a terminal, and the run then finishes as usual.
TEST_F(E2eHabitsTest, TheDwellCountsDownOnATerminal) {
  write_settings(org_settings("auto"));
  seed(1);
  const std::string inst = seed_["instance_arns"][0];
  ASSERT_EQ(plan({"--target", inst}, "d.json", {"--option", "ec2.untrack_dwell_seconds=7"}).code, 0);
  Proc tty = run_on_tty({"apply", "d.json"});
  EXPECT_EQ(tty.code, 0) << tty.out;
  EXPECT_NE(tty.out.find(inst + ": waiting 7 s more"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find(inst + ": waiting 2 s more"), std::string::npos) << "a line every 5 s: " << tty.out;
  json st = status_json();
  ASSERT_EQ(st["runs"].size(), 1u) << st.dump();
  ASSERT_EQ(run({"rollback", st["runs"][0]["run_id"].get<std::string>(), "--force"}).code, 0);
  EXPECT_EQ(world_state(), seeded_state());
}

// "did you mean" for a mistyped command or option; global options after the subcommand; a bare
// instance id gets the ARN form (in plan) or the run's ARN (in rollback --target).
TEST_F(E2eHabitsTest, TyposGlobalOptionsAnywhereAndBareInstanceIds) {
  write_settings(org_settings("auto"));
  seed(1);
  Proc typo = run({"stauts"});
  EXPECT_EQ(typo.code, 2) << typo.all();
  EXPECT_NE(typo.err.find("did you mean 'status'?"), std::string::npos) << typo.err;
  Proc sub = run({"audit", "shwo"});
  EXPECT_EQ(sub.code, 2) << sub.all();
  EXPECT_NE(sub.err.find("did you mean 'show'?"), std::string::npos) << sub.err;
  Proc opt = run({"plan", "--taget", seed_["bucket_arn"].get<std::string>(), "-o", "x.json"});
  EXPECT_EQ(opt.code, 2) << opt.all();
  EXPECT_NE(opt.err.find("did you mean '--target'?"), std::string::npos) << opt.err;

  Proc after = run({"status", "--output", "json"});
  ASSERT_EQ(after.code, 0) << after.all();
  EXPECT_TRUE(json::parse(after.out).contains("runs")) << after.out;
  Proc after_sub = run({"audit", "show", "--output", "json"});
  ASSERT_EQ(after_sub.code, 0) << after_sub.all();
  EXPECT_TRUE(json::parse(after_sub.out).contains("records")) << after_sub.out;
  // The contract's spelling (before the subcommand) still works.
  EXPECT_EQ(run({"--output", "json", "status"}).code, 0);

  const std::string inst = seed_["instance_arns"][0];
  const std::string id = inst.substr(inst.rfind('/') + 1);
  Proc bare = run({"plan", "--target", id, "-o", "bare.json"});
  EXPECT_EQ(bare.code, 2) << bare.all();
  EXPECT_NE(bare.err.find("arn:aws:ec2:REGION:ACCOUNT:instance/" + id), std::string::npos) << bare.err;
  EXPECT_FALSE(fs::exists(dir_ + "/bare.json"));

  ASSERT_EQ(plan({"--target", inst}, "p.json").code, 0);
  ASSERT_EQ(run({"apply", "p.json"}).code, 0);
  const std::string run_id = status_json()["runs"][0]["run_id"];
  Proc rb = run({"rollback", run_id, "--target", id, "--force"});
  EXPECT_EQ(rb.code, 1) << rb.all();
  EXPECT_NE(rb.err.find("did you mean " + inst + "?"), std::string::npos) << rb.err;
  ASSERT_EQ(run({"rollback", run_id, "--target", inst, "--force"}).code, 0);
  EXPECT_EQ(world_state(), seeded_state());
}

// --output json is one JSON document for the template generators too.
TEST_F(E2eHabitsTest, TemplateGeneratorsHonourOutputJson) {
  Proc gen = run({"--output", "json", "stackset", "generate", "--accounts", "123456789012", "--trusted-principal",
                  "arn:aws:iam::999999999999:role/IncidentResponder"});
  ASSERT_EQ(gen.code, 0) << gen.all();
  json doc = json::parse(gen.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "one JSON document, not YAML: " << gen.out.substr(0, 300);
  ASSERT_FALSE(doc["templates"].empty()) << doc.dump();
  EXPECT_TRUE(doc["templates"][0]["template"].contains("Resources")) << doc.dump();
  EXPECT_TRUE(doc["templates"][0].contains("name")) << doc.dump();

  Proc dep = run({"deploy", "generate", "--output", "json"});
  ASSERT_EQ(dep.code, 0) << dep.all();
  json d = json::parse(dep.out, nullptr, false);
  ASSERT_FALSE(d.is_discarded()) << "one JSON document, not YAML: " << dep.out.substr(0, 300);
  EXPECT_TRUE(d["template"].contains("Resources")) << dep.out.substr(0, 300);
  // Text output keeps YAML.
  Proc yaml = run({"deploy", "generate"});
  ASSERT_EQ(yaml.code, 0) << yaml.all();
  EXPECT_TRUE(json::parse(yaml.out, nullptr, false).is_discarded());
}

// audit show --run, --event (repeatable or comma-separated) and --since (a time or an age).
TEST_F(E2eHabitsTest, AuditShowFilters) {
  write_settings(org_settings("auto"));
  seed(1);
  const std::string inst = seed_["instance_arns"][0];
  ASSERT_EQ(plan({"--target", inst}, "p.json").code, 0);
  ASSERT_EQ(run({"apply", "p.json"}).code, 0);
  const std::string run_id = status_json()["runs"][0]["run_id"];
  auto records = [&](const std::vector<std::string>& filters) {
    std::vector<std::string> a = {"--output", "json", "audit", "show"};
    a.insert(a.end(), filters.begin(), filters.end());
    Proc p = run(a);
    EXPECT_EQ(p.code, 0) << p.all();
    json doc = json::parse(p.code == 0 ? p.out : "{}", nullptr, false);
    return doc.is_object() && doc.contains("records") ? doc["records"] : json::array();
  };
  const json all = records({});
  ASSERT_GT(all.size(), 3u);
  const json by_run = records({"--run", run_id});
  ASSERT_FALSE(by_run.empty());
  for (const auto& r : by_run) EXPECT_EQ(r.value("run_id", ""), run_id) << r.dump();
  EXPECT_LT(by_run.size(), all.size());

  const json gates = records({"--event", "gate_decision"});
  ASSERT_FALSE(gates.empty());
  for (const auto& r : gates) EXPECT_EQ(r["event"], "gate_decision");
  const json two = records({"--event", "gate_decision,run_started"});
  std::set<std::string> seen;
  for (const auto& r : two) seen.insert(r["event"].get<std::string>());
  EXPECT_EQ(seen, (std::set<std::string>{"gate_decision", "run_started"}));
  EXPECT_EQ(records({"--event", "gate_decision", "--event", "run_started"}).size(), two.size());

  EXPECT_EQ(records({"--since", "1h"}).size(), all.size());
  // An age longer than the clock's range means every record, not none.
  EXPECT_EQ(records({"--since", "9999999d"}).size(), all.size());
  EXPECT_EQ(records({"--since", "9999999h"}).size(), all.size());
  EXPECT_TRUE(records({"--since", "2261-01-01T00:00:00Z"}).empty());
  EXPECT_EQ(records({"--since", "2000-01-01T00:00:00Z"}).size(), all.size());
  Proc bad = run({"audit", "show", "--since", "yesterday"});
  EXPECT_EQ(bad.code, 2) << bad.all();
  EXPECT_NE(bad.err.find("--since yesterday"), std::string::npos) << bad.err;
  Proc clash = run({"audit", "show", run_id, "--run", "run-other"});
  EXPECT_EQ(clash.code, 2) << clash.all();
}

// Colour on a terminal only, and never with NO_COLOR; a pipe never gets escape codes.
TEST_F(E2eHabitsTest, ColourOnATerminalOnlyAndNoColorRespected) {
  write_settings(org_settings("auto"));
  seed(1);
  const std::string bucket = seed_["bucket_arn"];
  ASSERT_EQ(plan({"--target", bucket}, "p.json").code, 0);
  Proc tty = run_on_tty({"apply", "p.json"});
  EXPECT_EQ(tty.code, 0) << tty.out;
  EXPECT_NE(tty.out.find("\033[32mcontained\033[0m"), std::string::npos) << "the summary in colour: " << tty.out;
  Proc st = run_on_tty({"status"});
  EXPECT_NE(st.out.find("\033["), std::string::npos) << st.out;
  Proc plain = run_on_tty({"status"}, {{"NO_COLOR", "1"}});
  EXPECT_EQ(plain.code, 0) << plain.out;
  EXPECT_NE(plain.out.find("contained"), std::string::npos) << plain.out;
  EXPECT_EQ(plain.out.find("\033["), std::string::npos) << plain.out;
  Proc piped = run({"status"});
  EXPECT_EQ(piped.out.find("\033["), std::string::npos) << piped.out;
  // Log lines too: the retries of a refused connection, at info level.
  const std::vector<std::string> refused = {"--log-level", "info", "--endpoint-url", "http://127.0.0.1:1",
                                            "plan", "--target", bucket, "-o", "c.json"};
  Proc logs = run_on_tty(refused, {{"NO_COLOR", "1"}});
  EXPECT_NE(logs.out.find("retrying in"), std::string::npos) << logs.out;
  EXPECT_EQ(logs.out.find("\033["), std::string::npos) << logs.out;
  ASSERT_EQ(run({"rollback", status_json()["runs"][0]["run_id"].get<std::string>(), "--force"}).code, 0);
}

}  // namespace
}  // namespace containctl::e2e
