// The AWS Support security case end to end: the real binary against moto (whose Support backend
// keeps created cases), for a run of an instance and of a user; respond opening it from the
// settings; failures that never touch the containment; and the Security Hub note through a
// recording endpoint (moto has no BatchUpdateFindings), checked against botocore's model.
//
// moto quirk: every DescribeCases moves each case's severity one step (low > normal > high >
// urgent > critical > low) and its status. The first read shows the severity sent moved once;
// moto_shows() says what that is, so a wrong severity still fails.
#include <signal.h>

#include <regex>

#include "tests/orchestrator/e2e_util.h"
#include "tests/support/service_model.h"

namespace containctl::e2e {
namespace {

std::string moto_shows(const std::string& sent) {
  static const std::vector<std::string> order = {"low", "normal", "high", "urgent", "critical"};
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] == sent) return order[(i + 1) % order.size()];
  return "?";
}

class E2eCaseTest : public E2eTest {
 protected:
  void TearDown() override {
    if (recorder_pid_ > 0) {
      ::kill(recorder_pid_, SIGTERM);
      ::waitpid(recorder_pid_, nullptr, 0);
    }
    E2eTest::TearDown();
  }

  // Every case moto holds, read with boto3 (not with containctl's own client).
  json moto_cases() {
    std::string script = dir_ + "/cases.py";
    write_file(script,
               "import boto3, json, sys\n"
               "c = boto3.client('support', endpoint_url=sys.argv[1], region_name='us-east-1',\n"
               "                 aws_access_key_id='testing', aws_secret_access_key='testing')\n"
               "print(json.dumps(c.describe_cases(includeResolvedCases=True, includeCommunications=True)['cases']))\n");
    FILE* p = ::popen(("python3 '" + script + "' '" + moto().url() + "'").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    EXPECT_EQ(p ? ::pclose(p) : -1, 0);
    return json::parse(out, nullptr, false);
  }

  std::string apply_plan(const std::vector<std::string>& plan_args) {
    std::vector<std::string> a = {"plan", "-o", "plan.json"};
    a.insert(a.end(), plan_args.begin(), plan_args.end());
    Proc p = run(a);
    EXPECT_EQ(p.code, 0) << p.all();
    Proc r = run({"--output", "json", "apply", "plan.json"});
    EXPECT_EQ(r.code, 0) << r.all();
    return r.code == 0 ? json::parse(r.out)["run_id"].get<std::string>() : "";
  }

  std::string audit_head() {
    auto recs = audit_records();
    return recs.empty() ? "" : recs.back().value("hash", "");
  }

  json events(const std::string& name) {
    json out = json::array();
    for (const auto& r : audit_records())
      if (r.value("event", "") == name) out.push_back(r);
    return out;
  }

  // Starts tests/data/e2e/recorder.py answering `response`; returns its URL.
  std::string start_recorder(const std::string& response) {
    int port = testing::free_port();
    write_file(dir_ + "/response.json", response);
    recorder_log_ = dir_ + "/recorded.jsonl";
    pid_t pid = ::fork();
    if (pid == 0) {
      ::execlp("python3", "python3", CONTAINCTL_SOURCE_DIR "/tests/data/e2e/recorder.py", std::to_string(port).c_str(),
               recorder_log_.c_str(), (dir_ + "/response.json").c_str(), (char*)nullptr);
      _exit(127);
    }
    recorder_pid_ = pid;
    std::string url = "http://127.0.0.1:" + std::to_string(port);
    for (int i = 0; i < 100; ++i) {  // until it listens
      std::string cmd = "python3 -c \"import socket; socket.create_connection(('127.0.0.1', " + std::to_string(port) +
                        "), 0.2)\" 2>/dev/null";
      if (std::system(cmd.c_str()) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return url;
  }
  // Every request the recorder received, in order ({"method", "path", "headers", "body"} each).
  std::vector<json> recorded_calls() const {
    std::vector<json> calls;
    std::ifstream in(recorder_log_);
    for (std::string line; std::getline(in, line);) calls.push_back(json::parse(line));
    return calls;
  }
  // A recorded call as the request sent to the recorder at `base_url` (headers without the signature).
  static aws::HttpRequest recorded_request(const json& call, const std::string& base_url) {
    aws::HttpRequest req;
    req.method = call.at("method");
    req.url = base_url + call.at("path").get<std::string>();
    req.body = call.at("body");
    for (const auto& [k, v] : call.at("headers").items()) req.headers.push_back({k, v.get<std::string>()});
    return req;
  }

  std::string instance_finding(const std::string& sample) {
    std::string text = slurp(CONTAINCTL_SOURCE_DIR "/tests/data/findings/" + sample);
    text = std::regex_replace(text, std::regex("111122223333"), "123456789012");
    text = std::regex_replace(text, std::regex("i-0abcd1234ef567890"), seed_["instances"][0].get<std::string>());
    std::string path = dir_ + "/finding.json";
    write_file(path, text);
    return path;
  }

  pid_t recorder_pid_ = -1;
  std::string recorder_log_;
};

TEST_F(E2eCaseTest, InstanceRunCaseCarriesEveryFieldAndIsRecorded) {
  seed(1);
  write_settings(org_settings("auto"));
  const std::string instance = seed_["instance_arns"][0];
  const std::string run_id = apply_plan({"--target", instance});
  ASSERT_FALSE(run_id.empty());

  // Dry run: the exact request, and nothing sent.
  Proc dry = run({"--output", "json", "case", "open", run_id, "--support-plan", "enterprise", "--dry-run",
                  "--impact", "checkout service degraded", "--engagement", "CISO engaged, legal informed"});
  ASSERT_EQ(dry.code, 0) << dry.all();
  json req = json::parse(dry.out)["request"];
  EXPECT_EQ(req["severityCode"], "critical");
  EXPECT_EQ(testing::ServiceModel::load("support-2013-04-15.json").check_input("CreateCase", req), "");
  EXPECT_EQ(moto_cases().size(), 0u) << "--dry-run sent a case";

  Proc open = run({"--output", "json", "case", "open", run_id, "--support-plan", "enterprise", "--impact",
                   "checkout service degraded", "--engagement", "CISO engaged, legal informed", "--cc", "soc@example.com"});
  ASSERT_EQ(open.code, 0) << open.all();
  const std::string case_id = json::parse(open.out)["case_id"];
  ASSERT_FALSE(case_id.empty());

  json cases = moto_cases();
  ASSERT_EQ(cases.size(), 1u) << cases.dump();
  const json& c = cases[0];
  EXPECT_EQ(c["caseId"], case_id);
  EXPECT_NE(c["subject"].get<std::string>().find(run_id), std::string::npos) << c["subject"];
  EXPECT_EQ(c["serviceCode"], "customer-account");
  EXPECT_EQ(c["categoryCode"], "security");
  EXPECT_EQ(c["severityCode"], moto_shows("critical"));
  EXPECT_EQ(c["language"], "en");
  EXPECT_EQ(c["ccEmailAddresses"], json({"soc@example.com"}));
  const std::string body = c["recentCommunications"]["communications"][0]["body"];
  json st = status_json(run_id);
  std::vector<std::string> want = {run_id, instance, "ec2-isolate", "checkout service degraded",
                                   "CISO engaged, legal informed", "Language: en; method: email",
                                   st["plan_hash"].get<std::string>(), "step_applied", "run_finished",
                                   "Findings: none (the responder named the targets)", "Audit log head (SHA-256 chain): "};
  for (const auto& s : st["steps"]) want.push_back(s["step"].get<std::string>());
  for (const auto& w : want) EXPECT_NE(body.find(w), std::string::npos) << "missing '" << w << "' in:\n" << body;
  std::smatch snap;
  EXPECT_TRUE(std::regex_search(body, snap, std::regex("EBS snapshots: snap-[0-9a-f]+"))) << body;
  // The head named in the body is a record of the audit log.
  std::smatch head;
  ASSERT_TRUE(std::regex_search(body, head, std::regex("SHA-256 chain\\): ([0-9a-f]{64})")));
  bool found = false;
  for (const auto& r : audit_records()) found = found || r.value("hash", "") == head[1].str();
  EXPECT_TRUE(found);

  // Recorded with the run: journal (status) and audit log.
  EXPECT_EQ(status_json(run_id)["case_id"], case_id);
  Proc text_status = run({"status", run_id});
  EXPECT_NE(text_status.out.find("support case " + case_id), std::string::npos) << text_status.out;
  json opened = events("case_opened");
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0]["case_id"], case_id);
  EXPECT_EQ(opened[0]["run_id"], run_id);

  // Opening again finds the run's case: no second case.
  Proc again = run({"--output", "json", "case", "open", run_id});
  ASSERT_EQ(again.code, 0) << again.all();
  EXPECT_EQ(json::parse(again.out)["case_id"], case_id);
  EXPECT_EQ(json::parse(again.out)["already"], true);
  EXPECT_EQ(moto_cases().size(), 1u);

  Proc show = run({"case", "show", run_id});
  ASSERT_EQ(show.code, 0) << show.all();
  EXPECT_NE(show.out.find(case_id), std::string::npos);
  EXPECT_NE(show.out.find("Latest communication"), std::string::npos) << show.out;

  // moto has no AddCommunicationToCase: the rollback note fails, the rollback does not.
  Proc rb = run({"rollback", run_id});
  EXPECT_EQ(rb.code, 0) << rb.all();
  EXPECT_NE(rb.out.find("Support case " + case_id + ": NOT updated"), std::string::npos) << rb.out;
  EXPECT_EQ(status_json(run_id)["status"], "rolled_back");
  EXPECT_EQ(events("case_update_failed").size(), 1u);
}

// The journal's pending marker keeps two openers from both creating a case: one that another
// opener set moments ago refuses (nothing sent); one left by an opener that died long ago is taken
// over; the marker is never shown as the run's case.
TEST_F(E2eCaseTest, APendingOpenerIsNotDoubledAndAStaleOneIsTakenOver) {
  seed(1);
  write_settings(org_settings("auto"));
  const std::string run_id = apply_plan({"--target", seed_["instance_arns"][0].get<std::string>()});
  ASSERT_FALSE(run_id.empty());
  auto plant = [&](int seconds_ago) {
    std::string cmd = "python3 -c \"import sqlite3, datetime, sys; t = (datetime.datetime.now(datetime.timezone.utc) - "
                      "datetime.timedelta(seconds=" + std::to_string(seconds_ago) + ")).strftime('%Y-%m-%dT%H:%M:%SZ'); "
                      "c = sqlite3.connect(sys.argv[1]); c.execute('UPDATE runs SET case_id = ? WHERE run_id = ?', "
                      "('pending:' + t + ' other-opener', sys.argv[2])); c.commit()\" '" + state_ + "/journal.db' '" + run_id + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  };
  plant(5);
  Proc busy = run({"case", "open", run_id});
  EXPECT_EQ(busy.code, 3) << busy.all();
  EXPECT_NE(busy.err.find("another containctl began opening the support case of run " + run_id), std::string::npos)
      << busy.err;
  EXPECT_EQ(moto_cases().size(), 0u) << "a second case was created while another opener held the claim";
  Proc st = run({"--output", "json", "status", run_id});
  ASSERT_EQ(st.code, 0) << st.all();
  EXPECT_FALSE(json::parse(st.out).contains("case_id")) << "the marker was shown as a case: " << st.out;

  plant(600);
  Proc open = run({"--output", "json", "case", "open", run_id});
  ASSERT_EQ(open.code, 0) << open.all();
  const std::string case_id = json::parse(open.out)["case_id"];
  EXPECT_EQ(moto_cases().size(), 1u);
  st = run({"--output", "json", "status", run_id});
  EXPECT_EQ(json::parse(st.out).value("case_id", ""), case_id) << st.out;
}

// moto has no AddCommunicationToCase: `case update` and the rollback's communication go to a
// recording endpoint, checked against botocore's model; the rollback's says what was restored.
TEST_F(E2eCaseTest, CaseUpdateAndTheRollbackCommunicationReachTheRunsCase) {
  seed(1);
  write_settings(org_settings("auto"));
  const std::string instance = seed_["instance_arns"][0];
  const std::string run_id = apply_plan({"--target", instance});
  ASSERT_FALSE(run_id.empty());
  Proc open = run({"--output", "json", "case", "open", run_id});
  ASSERT_EQ(open.code, 0) << open.all();
  const std::string case_id = json::parse(open.out)["case_id"];
  const std::string support = start_recorder(R"({"result":true})");
  const std::map<std::string, std::string> env = {{"AWS_ENDPOINT_URL_SUPPORT", support}};
  const std::string canary = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARY0KEY";  // shaped like a secret access key
  Proc up = run({"case", "update", run_id, "--text", "Forensic image taken; old secret " + canary + " is void"}, env);
  ASSERT_EQ(up.code, 0) << up.all();
  Proc rb = run({"--output", "json", "rollback", run_id}, env);
  ASSERT_EQ(rb.code, 0) << rb.all();
  const std::vector<json> calls = recorded_calls();
  ASSERT_EQ(calls.size(), 2u) << rb.all();
  for (const auto& c : calls) {
    const aws::HttpRequest req = recorded_request(c, support);
    EXPECT_EQ(testing::ServiceModel::load("support-2013-04-15.json").check_request("AddCommunicationToCase", req), "")
        << c.dump();
    EXPECT_EQ(json::parse(req.body)["caseId"], case_id);
  }
  const std::string update = json::parse(calls[0].at("body").get<std::string>())["communicationBody"];
  EXPECT_NE(update.find("Forensic image taken"), std::string::npos) << update;
  EXPECT_EQ(update.find(canary), std::string::npos) << "a secret reached the case: " << update;
  const std::string note = json::parse(calls[1].at("body").get<std::string>())["communicationBody"];
  EXPECT_NE(note.find("rolled back run " + run_id), std::string::npos) << note;
  EXPECT_NE(note.find("Restored to the state recorded before containment:\n- " + instance), std::string::npos) << note;
}

// `apply --report-back` of a plan made from a Security Hub finding notes the finding (NOTIFIED),
// as respond does; the request fits BatchUpdateFindings' model.
TEST_F(E2eCaseTest, ApplyReportBackNotesTheSecurityHubFinding) {
  seed(1);
  write_settings(org_settings("auto", "suspected"));
  const std::string hub = start_recorder(
      R"({"ProcessedFindings":[{"Id":"x","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty"}],"UnprocessedFindings":[]})");
  Proc p = run({"plan", "--finding", instance_finding("asff_ec2_instance.json"), "-o", "plan.json"});
  ASSERT_EQ(p.code, 0) << p.all();
  Proc a = run({"--output", "json", "apply", "plan.json", "--report-back"}, {{"AWS_ENDPOINT_URL_SECURITYHUB", hub}});
  ASSERT_EQ(a.code, 0) << a.all();
  const std::string run_id = json::parse(a.out)["run_id"];
  const std::vector<json> calls = recorded_calls();
  ASSERT_EQ(calls.size(), 1u) << a.all();
  const aws::HttpRequest req = recorded_request(calls[0], hub);
  EXPECT_EQ(testing::ServiceModel::load("securityhub-2018-10-26-batchupdatefindings.json")
                .check_request("BatchUpdateFindings", req),
            "");
  json body = json::parse(req.body);
  EXPECT_EQ(body["Workflow"]["Status"], "NOTIFIED");
  EXPECT_NE(body["Note"]["Text"].get<std::string>().find(run_id), std::string::npos) << body.dump();
  EXPECT_EQ(events("securityhub_updated").size(), 1u);
}

// Where DescribeServices answers, a service code it does not list is refused before CreateCase,
// naming the codes it does list (the settings' escalation.service_code fixes it).
TEST_F(E2eCaseTest, ServiceCodesDescribeServicesDoesNotListAreRefusedBeforeCreateCase) {
  seed(1);
  write_settings(org_settings("auto"));
  const std::string run_id = apply_plan({"--target", seed_["instance_arns"][0].get<std::string>()});
  ASSERT_FALSE(run_id.empty());
  const std::string support = start_recorder(
      R"({"services":[{"code":"account-management","name":"Account","categories":[{"code":"security","name":"Security"}]}]})");
  Proc open = run({"case", "open", run_id}, {{"AWS_ENDPOINT_URL_SUPPORT", support}});
  EXPECT_NE(open.code, 0) << open.all();
  EXPECT_NE(open.err.find("does not list service code 'customer-account'"), std::string::npos) << open.err;
  EXPECT_NE(open.err.find("account-management"), std::string::npos) << open.err;
  const std::vector<json> calls = recorded_calls();
  ASSERT_EQ(calls.size(), 1u) << "only DescribeServices was called";
  EXPECT_NE(calls[0].at("headers").dump().find("DescribeServices"), std::string::npos) << calls[0].dump();
}

TEST_F(E2eCaseTest, UserRunCaseNamesThePrincipalAndNeverTheNewSecret) {
  seed(1);
  write_settings(org_settings("auto"));
  const std::string user = seed_["user_arn"];
  const std::string key_file = dir_ + "/new-key.json";
  const std::string run_id = apply_plan({"--target", user, "--actions", "iam-contain,iam-rotate-keys", "--option",
                                         "iam.secret_out=" + key_file, "--option", "iam.delete_inactive_key=true"});
  ASSERT_FALSE(run_id.empty());
  json delivered = json::parse(slurp(key_file), nullptr, false);
  ASSERT_TRUE(delivered.is_object()) << slurp(key_file);
  std::string secret;
  for (const auto& [k, v] : delivered.items())
    if (k.find("Secret") != std::string::npos && v.is_string()) secret = v.get<std::string>();
  ASSERT_GE(secret.size(), 20u) << "the rotated key's secret is the canary";

  Proc dry = run({"case", "open", run_id, "--dry-run", "--impact", "payroll exports at risk"});
  ASSERT_EQ(dry.code, 0) << dry.all();
  EXPECT_EQ(dry.all().find(secret), std::string::npos) << "the new secret in the dry run";

  Proc open = run({"--output", "json", "case", "open", run_id, "--support-plan", "business", "--impact",
                   "payroll exports at risk"});
  ASSERT_EQ(open.code, 0) << open.all();
  json cases = moto_cases();
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0]["severityCode"], moto_shows("urgent"));
  EXPECT_EQ(cases[0]["serviceCode"], "customer-account");
  EXPECT_EQ(cases[0]["categoryCode"], "security");
  const std::string body = cases[0]["recentCommunications"]["communications"][0]["body"];
  for (const std::string w : {run_id, user, std::string("iam-contain"), std::string("iam-rotate-keys"),
                              std::string("payroll exports at risk"),
                              std::string("IAM users and roles suspected of compromise\n- ") + user})
    EXPECT_NE(body.find(w), std::string::npos) << "missing '" << w << "' in:\n" << body;
  EXPECT_EQ(cases.dump().find(secret), std::string::npos) << "the new key's secret reached the case";
  EXPECT_EQ(slurp(state_ + "/audit.jsonl").find(secret), std::string::npos);
}

TEST_F(E2eCaseTest, RespondOpensTheCaseWhenTheSettingsAsk) {
  seed(1);
  json s = org_settings("auto", "suspected");
  s["escalation"] = {{"open_case", "on-auto-containment"}, {"support_plan", "business"}, {"cc", {"soc@example.com"}},
                     {"language", "en"}};
  write_settings(s);
  Proc r = run({"--output", "json", "respond", "--finding", instance_finding("guardduty_instance.json")});
  ASSERT_EQ(r.code, 0) << r.all();
  json out = json::parse(r.out);
  ASSERT_TRUE(out.contains("escalation")) << r.out;
  const std::string case_id = out["escalation"]["case"]["case_id"];
  json cases = moto_cases();
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0]["caseId"], case_id);
  EXPECT_EQ(cases[0]["severityCode"], moto_shows("urgent"));
  const std::string body = cases[0]["recentCommunications"]["communications"][0]["body"];
  for (const std::string w : {std::string("8cc0e1f3c5a3b4e8a1f2d3c4b5a69788"), std::string("Backdoor:EC2/C&CActivity.B!DNS"),
                              std::string("first seen 2026-11-23T05:01:10.000Z"),
                              std::string("Earliest activity a finding reports: 2026-11-23T05:01:10.000Z")})
    EXPECT_NE(body.find(w), std::string::npos) << "missing '" << w << "' in:\n" << body;
  EXPECT_EQ(status_json(out["run_id"])["case_id"], case_id);
}

TEST_F(E2eCaseTest, CaseFailureIsReportedAndNeverBlocksContainment) {
  seed(1);
  json s = org_settings("auto", "suspected");
  s["escalation"] = {{"open_case", "on-auto-containment"}};
  write_settings(s);
  json before = seeded_state();
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(testing::free_port());
  Proc r = run({"--output", "json", "respond", "--finding", instance_finding("guardduty_instance.json")},
               {{"AWS_ENDPOINT_URL_SUPPORT", nowhere}});
  ASSERT_EQ(r.code, 0) << "containment succeeded; the case failing must not change that: " << r.all();
  json out = json::parse(r.out);
  EXPECT_EQ(out["status"], "succeeded");
  EXPECT_TRUE(out["escalation"].contains("case_error")) << r.out;
  const std::string iid = seed_["instances"][0];
  EXPECT_NE(world_state()["instances"][iid], before["instances"][iid]) << "the instance was isolated";
  json failed = events("case_open_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["run_id"], out["run_id"]);
  EXPECT_FALSE(status_json(out["run_id"]).contains("case_id"));
}

TEST_F(E2eCaseTest, RespondToASecurityHubFindingNotesItAndRollbackNotesAgain) {
  seed(1);
  write_settings(org_settings("auto", "suspected"));
  const std::string recorded =
      R"({"ProcessedFindings":[{"Id":"x","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty"}],"UnprocessedFindings":[]})";
  const std::string hub = start_recorder(recorded);
  Proc r = run({"--output", "json", "respond", "--finding", instance_finding("asff_ec2_instance.json")},
               {{"AWS_ENDPOINT_URL_SECURITYHUB", hub}});
  ASSERT_EQ(r.code, 0) << r.all();
  json out = json::parse(r.out);
  EXPECT_EQ(out["escalation"]["security_hub"]["updated"], 1) << r.out;
  Proc rb = run({"rollback", out["run_id"]}, {{"AWS_ENDPOINT_URL_SECURITYHUB", hub}});
  EXPECT_EQ(rb.code, 0) << rb.all();
  const std::vector<json> calls = recorded_calls();
  ASSERT_EQ(calls.size(), 2u);
  auto model = testing::ServiceModel::load("securityhub-2018-10-26-batchupdatefindings.json");
  for (size_t i = 0; i < calls.size(); ++i) {
    const aws::HttpRequest req = recorded_request(calls[i], hub);
    EXPECT_EQ(model.check_request("BatchUpdateFindings", req), "") << calls[i].dump();
    json body = json::parse(req.body);
    EXPECT_EQ(body["FindingIdentifiers"][0]["ProductArn"], "arn:aws:securityhub:us-east-1::product/aws/guardduty");
    EXPECT_NE(body["FindingIdentifiers"][0]["Id"].get<std::string>().find("8cc0e1f3c5a3b4e8a1f2d3c4b5a69788"),
              std::string::npos);
    const std::string note = body["Note"]["Text"];
    EXPECT_LE(note.size(), 512u);
    EXPECT_NE(note.find(out["run_id"].get<std::string>()), std::string::npos) << note;
    EXPECT_EQ(note.find(secret_), std::string::npos);
    if (i == 0) {
      EXPECT_EQ(body["Workflow"]["Status"], "NOTIFIED");
      EXPECT_NE(note.find(seed_["instance_arns"][0].get<std::string>()), std::string::npos) << note;
    } else {
      EXPECT_NE(note.find("rolled back"), std::string::npos) << note;
    }
  }
}

}  // namespace
}  // namespace containctl::e2e
