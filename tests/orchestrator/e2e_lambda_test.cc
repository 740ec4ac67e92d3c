// containctl lambda end to end: the real binary as a function's process, fed EventBridge events by
// a local Runtime API endpoint (tests/support/runtime_api_server), containing in moto_server with
// its state in the team store (DynamoDB and S3 in moto) and its settings in S3 or SSM.
#include <sched.h>
#include <set>
#include <sys/mount.h>

#include "orchestrator/finding_claims.h"
#include "orchestrator/lambda_runtime.h"
#include "tests/orchestrator/e2e_util.h"
#include "tests/support/runtime_api_server.h"

namespace containctl::e2e {
namespace {

using testing::RuntimeApiServer;
using namespace std::chrono_literals;

class E2eLambdaTest : public E2eTest {
 protected:
  static json team_settings(const std::string& mode) {
    json s = org_settings(mode, "suspected");
    s["state"] = team_state_settings();
    return s;
  }
  // The team store made by `state init`, the settings put in S3 and SSM for the function.
  void setup_store(const std::string& mode) {
    write_settings(team_settings(mode));
    Proc init = run({"state", "init"});
    ASSERT_EQ(init.code, 0) << init.all();
    auto c = moto().client();
    aws::RestRequest mk;
    mk.operation = "CreateBucket";
    mk.method = "PUT";
    mk.bucket = "containctl-config";
    ASSERT_TRUE(c->rest_xml("s3", "us-east-1", mk).ok());
    aws::RestRequest put;
    put.operation = "PutObject";
    put.method = "PUT";
    put.bucket = "containctl-config";
    put.key = "lambda/settings.json";
    put.body = team_settings(mode).dump();
    ASSERT_TRUE(c->rest_xml("s3", "us-east-1", put).ok());
    auto p = c->json("ssm", "us-east-1", "AmazonSSM", "PutParameter",
                     {{"Name", "/containctl/settings"}, {"Value", team_settings(mode).dump()}, {"Type", "String"},
                      {"Overwrite", true}});
    ASSERT_TRUE(p.ok()) << p.error().describe();
  }

  // An EventBridge "GuardDuty Finding" event about the seeded instance.
  json guardduty_event(int n = 0, const std::string& updated = "2026-12-01T10:00:00.000Z") {
    json e = json::parse(slurp(CONTAINCTL_SOURCE_DIR "/tests/data/findings/awsdocs_guardduty_event.json"));
    std::string iid = seed_["instances"][n];
    e["account"] = "123456789012";
    json& d = e["detail"];
    d["accountId"] = "123456789012";
    d["id"] = "f" + std::to_string(n) + "c0e1f3c5a3b4e8a1f2d3c4b5a69788";
    d["arn"] = "arn:aws:guardduty:us-east-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0/finding/" +
               d["id"].get<std::string>();
    d["updatedAt"] = updated;
    d["type"] = "Backdoor:EC2/C&CActivity.B!DNS";
    d["resource"] = {{"resourceType", "Instance"},
                     {"instanceDetails", {{"instanceId", iid}, {"availabilityZone", "us-east-1a"}}}};
    return e;
  }

  struct Function {
    pid_t pid = -1;
    std::string out, err;
  };
  // hidden_libs: the child runs in its own user and mount namespaces where /usr/lib, /usr/lib64
  // (and so /lib, /lib64) and /usr/local/lib are empty directories; it checks that libc and the
  // loader are really gone (else exits 99) before it execs `program`.
  Function start_function(RuntimeApiServer& api, const std::string& settings, const std::string& name = "fn",
                          const std::string& program = CONTAINCTL_BINARY, bool hidden_libs = false) {
    auto env = base_env();
    env["AWS_LAMBDA_RUNTIME_API"] = api.host_port();
    env["CONTAINCTL_SETTINGS"] = settings;
    env["CONTAINCTL_STATE_DIR"] = dir_ + "/" + name + "-tmp";  // a function's /tmp, nothing kept
    Function f{-1, dir_ + "/" + name + ".out", dir_ + "/" + name + ".err"};
    std::vector<std::string> env_strs, argv_strs = {program, "--log-level", "info"};
    if (program == CONTAINCTL_BINARY) argv_strs.push_back("lambda");  // the bootstrap adds it itself
    std::string empty = dir_ + "/empty", uid_map = "0 " + std::to_string(::getuid()) + " 1\n",
                gid_map = "0 " + std::to_string(::getgid()) + " 1\n";
    fs::create_directories(empty);
    for (const auto& [k, v] : env) env_strs.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& e : env_strs) envp.push_back(e.data());
    for (auto& a : argv_strs) argv.push_back(a.data());
    envp.push_back(nullptr);
    argv.push_back(nullptr);
    f.pid = ::fork();
    if (f.pid == 0) {
      if (::chdir(dir_.c_str()) != 0) _exit(126);
      int o = ::open(f.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(f.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int i = ::open("/dev/null", O_RDONLY);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::dup2(i, 0);
      if (hidden_libs) {
        // Only system calls from here on (the parent has threads).
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(98);
        int fd = ::open("/proc/self/setgroups", O_WRONLY);
        if (fd >= 0) (void)!::write(fd, "deny", 4), ::close(fd);
        fd = ::open("/proc/self/uid_map", O_WRONLY);
        if (fd < 0 || ::write(fd, uid_map.data(), uid_map.size()) < 0) _exit(98);
        ::close(fd);
        fd = ::open("/proc/self/gid_map", O_WRONLY);
        if (fd < 0 || ::write(fd, gid_map.data(), gid_map.size()) < 0) _exit(98);
        ::close(fd);
        if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(98);
        for (const char* d : {"/usr/lib", "/usr/lib64", "/usr/local/lib"})
          if (::access(d, F_OK) == 0 && ::mount(empty.c_str(), d, nullptr, MS_BIND, nullptr) != 0) _exit(98);
        for (const char* gone : {"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6",
                                 "/usr/lib/x86_64-linux-gnu/libcurl.so.4", "/usr/lib/x86_64-linux-gnu/libssl.so.3"})
          if (::access(gone, F_OK) == 0) _exit(99);
      }
      ::execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    return f;
  }
  // Waits for the function to exit (the API's 500 ends it); kills it (by its pid) after `timeout`.
  Proc stop_function(const Function& f, std::chrono::seconds timeout = 30s) {
    Proc p;
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (::waitpid(f.pid, &status, WNOHANG) != f.pid) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(f.pid, SIGKILL);
        ::waitpid(f.pid, &status, 0);
        p.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    if (WIFEXITED(status)) p.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) p.signal = WTERMSIG(status);
    p.out = slurp(f.out);
    p.err = slurp(f.err);
    return p;
  }
  json team_status() {
    Proc p = run({"--output", "json", "status"});
    EXPECT_EQ(p.code, 0) << p.all();
    return p.code == 0 ? json::parse(p.out) : json::object();
  }
  // Either outcome, as JSON (an error's body is the Runtime API's {"errorType", "errorMessage"}),
  // with its kind under "_kind".
  static json outcome(const std::optional<RuntimeApiServer::Outcome>& o) {
    EXPECT_TRUE(o.has_value()) << "no outcome";
    if (!o) return json::object();
    json j = json::parse(o->body, nullptr, false);
    if (j.is_object()) j["_kind"] = o->kind;
    return j;
  }
  // The function's response (an error outcome fails the test), as the body it sent.
  static json response(const std::optional<RuntimeApiServer::Outcome>& o) {
    json j = outcome(o);
    if (!o) return j;
    EXPECT_EQ(o->kind, "response") << o->body;
    if (j.is_object()) j.erase("_kind");
    return j;
  }
  // Writes the claim of `event`'s finding as another invocation would have left it.
  void plant_claim(const json& event, const std::string& st, std::chrono::system_clock::time_point expires,
                   const std::string& request_id = "other-invocation") {
    auto keys = orch::finding_keys(event);
    ASSERT_TRUE(keys.ok() && keys->size() == 1u);
    long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(expires.time_since_epoch()).count();
    json item = {{"pk", {{"S", "FINDINGS"}}}, {"sk", {{"S", (*keys)[0].sort_key()}}}, {"st", {{"S", st}}},
                 {"request_id", {{"S", request_id}}}, {"expires", {{"N", std::to_string(ms)}}}};
    auto r = moto().client()->json("dynamodb", "us-east-1", "DynamoDB_20120810", "PutItem",
                                    {{"TableName", "containctl-state"}, {"Item", item}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  size_t runs_in_store() { return team_status().value("runs", json::array()).size(); }
};

TEST_F(E2eLambdaTest, GuardDutyEventIsolatesTheInstanceAndRecordsTheRunInTheTeamStore) {
  seed(1);
  setup_store("auto");
  const json before = seeded_state();
  RuntimeApiServer api;
  Function fn = start_function(api, "s3://containctl-config/lambda/settings.json");
  std::string id = api.push(guardduty_event().dump());
  json r = response(api.wait_outcome(id, 120s));
  api.finish();
  Proc p = stop_function(fn);
  EXPECT_FALSE(p.timed_out) << "the function did not end when the Runtime API said so";
  EXPECT_EQ(r["status"], "succeeded") << r.dump() << "\n" << p.all();
  EXPECT_EQ(r["decision"], "auto");
  ASSERT_TRUE(r["run_id"].is_string()) << r.dump();
  EXPECT_EQ(r["targets"], json::array({seed_["instance_arns"][0]}));
  EXPECT_EQ(r["plan"].get<std::string>().rfind("s3://containctl-state-123456789012/plans/", 0), 0u) << r.dump();

  const json after = world_state();
  std::string iid = seed_["instances"][0];
  EXPECT_NE(after["instances"][iid], before["instances"][iid]) << "the instance was isolated";
  // The run is in the team store: any responder with the settings sees it.
  json st = team_status();
  ASSERT_EQ(st["runs"].size(), 1u) << st.dump();
  EXPECT_EQ(st["runs"][0]["run_id"], r["run_id"]);
  EXPECT_EQ(st["runs"][0]["status"], "succeeded");
  // The documented protocol: one next before the event, its response, one more next.
  auto reqs = api.requests();
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_EQ(reqs[0], "GET /2018-06-01/runtime/invocation/next");
  EXPECT_EQ(reqs[1], "POST /2018-06-01/runtime/invocation/" + id + "/response");
  for (const auto& h : api.request_headers())
    EXPECT_EQ(h.count("authorization") + h.count("x-amz-security-token"), 0u) << "no AWS credentials to the Runtime API";
  // Nothing of the invocation is left in the function's /tmp for the next one to read.
  std::vector<std::string> left;
  if (fs::exists(dir_ + "/fn-tmp"))
    for (const auto& e : fs::directory_iterator(dir_ + "/fn-tmp")) left.push_back(e.path().string());
  EXPECT_TRUE(left.empty()) << left.size() << " left, e.g. " << (left.empty() ? "" : left[0]);
}

TEST_F(E2eLambdaTest, BadEventsAreInvocationErrorsAndTheNextEventIsStillHandled) {
  seed(1);
  setup_store("auto");
  RuntimeApiServer api;
  Function fn = start_function(api, "ssm:/containctl/settings");
  std::string not_json = api.push("{\"detail-type\": \"GuardDuty Finding\", ");
  json other = guardduty_event();
  other["detail-type"] = "EC2 Instance State-change Notification";
  std::string wrong_type = api.push(other.dump());
  json no_updated = guardduty_event();
  no_updated["detail"].erase("updatedAt");
  std::string no_time = api.push(no_updated.dump());
  std::string good = api.push(guardduty_event().dump());
  auto o1 = api.wait_outcome(not_json, 60s), o2 = api.wait_outcome(wrong_type, 60s), o3 = api.wait_outcome(no_time, 60s);
  json r = response(api.wait_outcome(good, 120s));
  api.finish();
  Proc p = stop_function(fn);
  for (const auto& o : {o1, o2, o3}) {
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->kind, "error") << o->body;
    json doc = json::parse(o->body);
    EXPECT_EQ(doc["errorType"], "Containctl.InvalidEvent") << o->body;
    EXPECT_EQ(o->error_type, "Containctl.InvalidEvent");
  }
  EXPECT_NE(o1->body.find("not JSON"), std::string::npos) << o1->body;
  EXPECT_NE(o2->body.find("EC2 Instance State-change Notification"), std::string::npos) << o2->body;
  EXPECT_EQ(r["status"], "succeeded") << r.dump() << "\n" << p.all();
  EXPECT_EQ(team_status()["runs"].size(), 1u);
}

TEST_F(E2eLambdaTest, TheSameEventTwiceContainsOnceEvenAcrossParallelFunctions) {
  seed(2);
  setup_store("auto");
  RuntimeApiServer api;
  Function a = start_function(api, "s3://containctl-config/lambda/settings.json", "fn-a");
  Function b = start_function(api, "s3://containctl-config/lambda/settings.json", "fn-b");
  const json event = guardduty_event();
  std::string first = api.push(event.dump()), second = api.push(event.dump());
  json r1 = outcome(api.wait_outcome(first, 120s)), r2 = outcome(api.wait_outcome(second, 120s));
  // The same finding updated later is a new event; another finding is handled on its own.
  std::string updated = api.push(guardduty_event(0, "2026-12-01T11:00:00.000Z").dump());
  json r3 = response(api.wait_outcome(updated, 120s));
  api.finish();
  Proc pa = stop_function(a), pb = stop_function(b);
  // One handles it. The other finds it handled ("duplicate") or, while the first still holds the
  // claim, answers an error so that Lambda retries (never a success for a finding it did not see done).
  std::multiset<std::string> statuses = {r1.value("status", r1.value("errorType", "")),
                                         r2.value("status", r2.value("errorType", ""))};
  EXPECT_EQ(statuses.count("succeeded"), 1u) << r1.dump() << "\n" << r2.dump() << "\n" << pa.all() << pb.all();
  EXPECT_EQ(statuses.count("duplicate") + statuses.count("Containctl.FindingInProgress"), 1u)
      << r1.dump() << "\n" << r2.dump();
  json dup = r1.value("status", "") == "succeeded" ? r2 : r1;
  if (dup.contains("status")) {
    EXPECT_TRUE(dup["run_id"].is_null());
    EXPECT_EQ(dup["duplicates"].size(), 1u);
  }
  // The later update was handled: the journal knows the instance is isolated, so nothing to do again.
  EXPECT_NE(r3["status"], "duplicate") << r3.dump();
  json st = team_status();
  size_t succeeded = 0;
  for (const auto& run : st["runs"]) succeeded += run["status"] == "succeeded";
  EXPECT_EQ(succeeded, 1u) << "contained once: " << st.dump();
}

// Claims left by other invocations: one still within its deadline is not "handled" (the event is
// answered with an error so Lambda retries it); one whose holder was killed (expired) or failed
// is taken over; one done is a duplicate.
TEST_F(E2eLambdaTest, ClaimsHeldExpiredFailedOrDoneAreJudgedByTheirState) {
  seed(3);
  setup_store("auto");
  const auto now = std::chrono::system_clock::now();
  const json held = guardduty_event(0), expired = guardduty_event(1), failed = guardduty_event(2),
             done = guardduty_event(0, "2026-12-01T09:00:00.000Z");
  plant_claim(held, "handling", now + 10min);
  plant_claim(expired, "handling", now - 1s);
  plant_claim(failed, "failed", now + 10min);
  plant_claim(done, "done", now - 1h);
  RuntimeApiServer api;
  Function f = start_function(api, "s3://containctl-config/lambda/settings.json");
  json r_held = outcome(api.wait_outcome(api.push(held.dump()), 120s));
  EXPECT_EQ(r_held["_kind"], "error") << r_held.dump();
  EXPECT_EQ(r_held.value("errorType", ""), "Containctl.FindingInProgress") << r_held.dump();
  EXPECT_EQ(runs_in_store(), 0u) << "a finding another invocation holds was contained again";
  json r_expired = response(api.wait_outcome(api.push(expired.dump()), 120s));
  EXPECT_EQ(r_expired.value("status", ""), "succeeded") << r_expired.dump();
  json r_failed = response(api.wait_outcome(api.push(failed.dump()), 120s));
  EXPECT_EQ(r_failed.value("status", ""), "succeeded") << r_failed.dump();
  json r_done = response(api.wait_outcome(api.push(done.dump()), 120s));
  EXPECT_EQ(r_done.value("status", ""), "duplicate") << r_done.dump();
  api.finish();
  Proc p = stop_function(f);
  EXPECT_EQ(runs_in_store(), 2u) << p.all();
}

// The claim's PutItem landed but its answer was lost, and the client's retry found the item: it
// names this invocation's request id, so it is this invocation's claim, not another's in progress.
TEST_F(E2eLambdaTest, AClaimThisInvocationAlreadyMadeIsItsOwn) {
  seed(1);
  setup_store("auto");
  const json event = guardduty_event(0);
  RuntimeApiServer api;
  const std::string id = api.push(event.dump());  // handed out when the function asks
  plant_claim(event, "handling", std::chrono::system_clock::now() + 10min, id);
  Function f = start_function(api, "s3://containctl-config/lambda/settings.json");
  json r = outcome(api.wait_outcome(id, 120s));
  api.finish();
  Proc p = stop_function(f);
  EXPECT_EQ(r.value("status", ""), "succeeded") << r.dump() << "\n" << p.all();
}

TEST_F(E2eLambdaTest, ApprovalModeStoresThePlanInTheTeamStoreAndContainsNothing) {
  seed(1);
  setup_store("approval");
  const json before = seeded_state();
  RuntimeApiServer api;
  Function fn = start_function(api, "ssm:/containctl/settings");
  std::string id = api.push(guardduty_event().dump());
  json r = response(api.wait_outcome(id, 120s));
  api.finish();
  Proc p = stop_function(fn);
  EXPECT_EQ(r["status"], "approval_needed") << r.dump() << p.all();
  EXPECT_EQ(r["decision"], "approval");
  EXPECT_TRUE(r["run_id"].is_null());
  std::string plan = r["plan"];
  ASSERT_EQ(plan.rfind("s3://containctl-state-123456789012/plans/", 0), 0u) << plan;
  aws::RestRequest get;
  get.operation = "GetObject";
  get.bucket = "containctl-state-123456789012";
  get.key = plan.substr(std::string("s3://containctl-state-123456789012/").size());
  auto obj = moto().client()->rest_xml("s3", "us-east-1", get);
  ASSERT_TRUE(obj.ok()) << obj.error().describe();
  EXPECT_EQ(json::parse(obj->body)["plan_hash"], r["plan_hash"]);
  EXPECT_EQ(world_state(), before) << "nothing contained without approval";
  EXPECT_TRUE(team_status()["runs"].empty());
}

TEST_F(E2eLambdaTest, MissingSettingsOrNoTeamStoreFailInitialisation) {
  seed(1);
  setup_store("auto");
  {
    RuntimeApiServer api;
    Function fn = start_function(api, "ssm:/containctl/no-such-parameter");
    Proc p = stop_function(fn);
    EXPECT_EQ(p.code, 1) << p.all();
    auto e = api.init_error();
    ASSERT_TRUE(e.has_value()) << p.all();
    EXPECT_NE(e->body.find("ssm:/containctl/no-such-parameter"), std::string::npos) << e->body;
    EXPECT_NE(e->body.find("ParameterNotFound"), std::string::npos) << e->body;
  }
  {
    write_file(dir_ + "/local.json", org_settings("auto").dump());  // sqlite backend: no team store
    RuntimeApiServer api;
    Function fn = start_function(api, dir_ + "/local.json");
    Proc p = stop_function(fn);
    EXPECT_EQ(p.code, 1) << p.all();
    auto e = api.init_error();
    ASSERT_TRUE(e.has_value()) << p.all();
    EXPECT_NE(e->body.find("team store"), std::string::npos) << e->body;
    EXPECT_TRUE(api.requests().size() == 1) << "no next after an init error";
  }
}

// The Runtime API is plain HTTP: only ever on the loopback interface.
TEST(LambdaRuntimeApi, OnlyLoopbackEndpointsAreAccepted) {
  for (const char* ok : {"127.0.0.1:9001", "localhost:9001", "[::1]:9001"})
    EXPECT_TRUE(orch::RuntimeApi::open(ok).ok()) << ok;
  for (const char* bad : {"10.0.0.1:9001", "169.254.169.254:80", "127.0.0.1.example.com:9001", "example.com:9001",
                          "127.0.0.1", "127.0.0.1:9001/x", "user@127.0.0.1:9001", ""}) {
    auto r = orch::RuntimeApi::open(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "InvalidRuntimeApi") << bad;
    }
  }
}

TEST_F(E2eLambdaTest, WithoutARuntimeApiItSaysSo) {
  Proc p = run({"lambda"});
  EXPECT_EQ(p.code, 2) << p.all();
  EXPECT_NE(p.err.find("AWS_LAMBDA_RUNTIME_API is not set"), std::string::npos) << p.err;
}

TEST_F(E2eLambdaTest, PackagedBootstrapRunsWithTheSystemLibrariesHidden) {
  seed(1);
  setup_store("auto");
  const std::string build = fs::path(CONTAINCTL_BINARY).parent_path().string();
  std::string cmd = "'" CONTAINCTL_SOURCE_DIR "/scripts/package-lambda' --allow-fault-injection --build-dir '" + build + "' --out '" + dir_ +
                    "/pkg/containctl-lambda.zip' > '" + dir_ + "/pkg.log' 2>&1 && mkdir -p '" + dir_ +
                    "/task' && cd '" + dir_ + "/task' && unzip -q ../pkg/containctl-lambda.zip";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(dir_ + "/pkg.log");
  const std::string task = dir_ + "/task";
  ASSERT_TRUE(fs::exists(task + "/bootstrap"));
  ASSERT_TRUE(fs::exists(task + "/lib/ld-linux-x86-64.so.2"));
  for (const char* lib : {"libcurl.so.4", "libssl.so.3", "libcrypto.so.3", "libc.so.6", "libstdc++.so.6"})
    EXPECT_TRUE(fs::exists(task + "/lib/" + lib)) << lib << " is bundled";

  // The control: in the same namespace the build's own binary cannot even start.
  {
    RuntimeApiServer api;
    Function fn = start_function(api, "ssm:/containctl/settings", "control", CONTAINCTL_BINARY, true);
    Proc p = stop_function(fn);
    EXPECT_EQ(p.code, 127) << "the system libraries were not hidden: " << p.all();
    EXPECT_TRUE(api.requests().empty());
  }
  const json before = seeded_state();
  RuntimeApiServer api;
  Function fn = start_function(api, "ssm:/containctl/settings", "packaged", task + "/bootstrap", true);
  std::string id = api.push(guardduty_event().dump());
  auto o = api.wait_outcome(id, 120s);
  api.finish();
  Proc p = stop_function(fn);
  ASSERT_TRUE(o.has_value()) << p.all();
  json r = response(o);
  EXPECT_EQ(r["status"], "succeeded") << r.dump() << "\n" << p.all();
  std::string iid = seed_["instances"][0];
  EXPECT_NE(world_state()["instances"][iid], before["instances"][iid]) << "the instance was isolated";
}

// The function opens the AWS Support case when the settings ask (respond() is shared), and the
// team store records the case id with the run (AwsJournal::set_run_case).
TEST_F(E2eLambdaTest, AutoContainmentOpensTheSupportCaseWhenTheSettingsAsk) {
  seed(1);
  setup_store("auto");
  json s = team_settings("auto");
  s["escalation"] = {{"open_case", "on-auto-containment"}, {"support_plan", "enterprise"}};
  write_settings(s);
  aws::RestRequest put;
  put.operation = "PutObject";
  put.method = "PUT";
  put.bucket = "containctl-config";
  put.key = "lambda/settings.json";
  put.body = s.dump();
  ASSERT_TRUE(moto().client()->rest_xml("s3", "us-east-1", put).ok());
  RuntimeApiServer api;
  Function fn = start_function(api, "s3://containctl-config/lambda/settings.json");
  std::string id = api.push(guardduty_event().dump());
  json r = response(api.wait_outcome(id, 120s));
  api.finish();
  Proc p = stop_function(fn);
  ASSERT_EQ(r["status"], "succeeded") << r.dump() << "\n" << p.all();
  const std::string run_id = r["run_id"];
  auto cases = moto().client()->json("support", "us-east-1", "AWSSupport_20130415", "DescribeCases",
                                     {{"includeResolvedCases", true}});
  ASSERT_TRUE(cases.ok()) << cases.error().describe();
  ASSERT_EQ((*cases)["cases"].size(), 1u) << cases->dump();
  EXPECT_NE((*cases)["cases"][0]["subject"].get<std::string>().find(run_id), std::string::npos);
  Proc st = run({"--output", "json", "status", run_id});
  ASSERT_EQ(st.code, 0) << st.all();
  EXPECT_EQ(json::parse(st.out)["case_id"], (*cases)["cases"][0]["caseId"]) << st.out;

  // The case's timeline and audit head come from the team store's log: the function's /tmp copy
  // is gone, and a responder's terminal has none of the run's records.
  Proc dry = run({"--output", "json", "case", "open", run_id, "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.all();
  const std::string body = json::parse(dry.out)["request"]["communicationBody"];
  const size_t timeline_at = body.find("5. Timeline"), artifacts_at = body.find("6. Artifacts");
  ASSERT_NE(timeline_at, std::string::npos) << "no timeline section:\n" << body;
  ASSERT_NE(artifacts_at, std::string::npos) << "no artifacts section:\n" << body;
  ASSERT_LT(timeline_at, artifacts_at) << body;
  const std::string timeline = body.substr(timeline_at, artifacts_at - timeline_at);
  EXPECT_NE(timeline.find("run_started"), std::string::npos) << "the timeline is empty:\n" << body;
  Proc audit = run({"--output", "json", "audit", "show"});
  ASSERT_EQ(audit.code, 0) << audit.all();
  const json team_log = json::parse(audit.out);
  std::set<std::string> team_hashes;
  for (const auto& rec : team_log.at("records")) team_hashes.insert(rec.value("hash", ""));
  const std::string marker = "Audit log head (SHA-256 chain): ";
  ASSERT_NE(body.find(marker), std::string::npos) << body;
  const std::string head = body.substr(body.find(marker) + marker.size(), 64);
  EXPECT_TRUE(team_hashes.count(head)) << "the head " << head << " is not in the team store's chain";
}

}  // namespace
}  // namespace containctl::e2e
