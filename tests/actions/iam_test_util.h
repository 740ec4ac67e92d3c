// Helpers for the IAM family tests: IAM fixtures made with direct calls, a state snapshot to compare
// before containment and after rollback, and an executor stand-in that drives a family the way the
// orchestrator does (plan serialised to JSON and read back, capture -> apply -> verify per step,
// rollback in reverse with verify_rollback).
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "actions/action.h"
#include "aws/sigv4.h"
#include "tests/support/moto_server.h"

namespace containctl::actions::iamtest {

using nlohmann::json;

inline std::string must(const char* what, const Status& s) {
  EXPECT_TRUE(s.ok()) << what << ": " << s.error().describe();
  return s.ok() ? "" : s.error().describe();
}

inline aws::XmlResponse iam_ok(aws::AwsClient& c, const std::string& action, const aws::Params& p) {
  auto r = c.query("iam", "us-east-1", action, p);
  if (!r.ok()) ADD_FAILURE() << "iam " << action << ": " << r.error().describe();
  return r.ok() ? *r : aws::XmlResponse{};
}

inline aws::Credentials create_key(aws::AwsClient& c, const std::string& user) {
  auto r = iam_ok(c, "CreateAccessKey", {{"UserName", user}});
  aws::Credentials creds;
  if (!r.doc) return creds;
  creds.access_key_id = aws::xml_text(r.root(), "AccessKeyId");
  creds.secret_access_key = aws::xml_text(r.root(), "SecretAccessKey");
  creds.source = "test";
  return creds;
}

inline std::string allow_all_policy() {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
}

// Everything about a user that containment may touch, in a comparable form.
inline json user_state(aws::AwsClient& c, const std::string& user) {
  json s;
  auto keys = iam_ok(c, "ListAccessKeys", {{"UserName", user}});
  s["keys"] = json::object();
  for (auto n : aws::xml_list(keys.root(), "AccessKeyMetadata"))
    s["keys"][aws::xml_text(n, "AccessKeyId")] = aws::xml_text(n, "Status");
  s["inline"] = json::object();
  auto pols = iam_ok(c, "ListUserPolicies", {{"UserName", user}});
  for (auto n : aws::xml_list(pols.root(), "PolicyNames")) {
    std::string name = n.text().as_string();
    auto doc = iam_ok(c, "GetUserPolicy", {{"UserName", user}, {"PolicyName", name}});
    s["inline"][name] = json::parse(aws::uri_decode(aws::xml_text(doc.root(), "PolicyDocument")));
  }
  s["attached"] = json::array();
  auto att = iam_ok(c, "ListAttachedUserPolicies", {{"UserName", user}});
  for (auto n : aws::xml_list(att.root(), "AttachedPolicies")) s["attached"].push_back(aws::xml_text(n, "PolicyArn"));
  s["groups"] = json::array();
  auto groups = iam_ok(c, "ListGroupsForUser", {{"UserName", user}});
  for (auto n : aws::xml_list(groups.root(), "Groups")) s["groups"].push_back(aws::xml_text(n, "GroupName"));
  s["tags"] = json::object();
  auto tags = iam_ok(c, "ListUserTags", {{"UserName", user}});
  for (auto n : aws::xml_list(tags.root(), "Tags")) s["tags"][aws::xml_text(n, "Key")] = aws::xml_text(n, "Value");
  s["login_profile"] = c.query("iam", "us-east-1", "GetLoginProfile", {{"UserName", user}}).ok();
  s["mfa"] = json::array();
  auto mfa = iam_ok(c, "ListMFADevices", {{"UserName", user}});
  for (auto n : aws::xml_list(mfa.root(), "MFADevices")) s["mfa"].push_back(aws::xml_text(n, "SerialNumber"));
  return s;
}

inline json role_state(aws::AwsClient& c, const std::string& role) {
  json s;
  s["inline"] = json::object();
  auto pols = iam_ok(c, "ListRolePolicies", {{"RoleName", role}});
  for (auto n : aws::xml_list(pols.root(), "PolicyNames")) {
    std::string name = n.text().as_string();
    auto doc = iam_ok(c, "GetRolePolicy", {{"RoleName", role}, {"PolicyName", name}});
    s["inline"][name] = json::parse(aws::uri_decode(aws::xml_text(doc.root(), "PolicyDocument")));
  }
  s["tags"] = json::object();
  auto tags = iam_ok(c, "ListRoleTags", {{"RoleName", role}});
  for (auto n : aws::xml_list(tags.root(), "Tags")) s["tags"][aws::xml_text(n, "Key")] = aws::xml_text(n, "Value");
  return s;
}

inline json step_to_json(const Step& s) {
  json calls = json::array();
  for (const auto& c : s.calls)
    calls.push_back({{"service", c.service}, {"operation", c.operation}, {"params", c.params}, {"mutating", c.mutating}});
  return {{"id", s.id},         {"description", s.description}, {"calls", calls},
          {"before", s.before}, {"after", s.after},             {"reversible", s.reversible},
          {"warnings", s.warnings}, {"args", s.args},           {"depends_on", s.depends_on},
          {"min_hold_seconds", s.min_hold_seconds}, {"cosmetic", s.cosmetic}};
}

inline Step step_from_json(const json& j) {
  Step s;
  s.id = j["id"];
  s.description = j["description"];
  for (const auto& c : j["calls"]) s.calls.push_back({c["service"], c["operation"], c["params"], c["mutating"]});
  s.before = j["before"];
  s.after = j["after"];
  s.reversible = j["reversible"];
  s.warnings = j["warnings"].get<std::vector<std::string>>();
  s.args = j["args"];
  s.depends_on = j["depends_on"].get<std::vector<std::string>>();
  s.min_hold_seconds = j["min_hold_seconds"];
  s.cosmetic = j.value("cosmetic", false);
  return s;
}

inline json plan_to_json(const TargetPlan& p) {
  json steps = json::array();
  for (const auto& s : p.steps) steps.push_back(step_to_json(s));
  return {{"target", p.target.arn}, {"family", p.family},   {"discovered", p.discovered}, {"steps", steps},
          {"warnings", p.warnings}, {"already_contained", p.already_contained}, {"note", p.note}};
}

// One applied step as the journal would hold it.
struct Journaled {
  Step step;
  json before;
  json applied;
};

// Everything a run produced that could leak a secret (for the canary test).
struct Transcript {
  std::vector<std::string> texts;
  void add(const json& j) { texts.push_back(j.dump()); }
  void add(const std::string& s) { texts.push_back(s); }
  void add(const Error& e) { texts.push_back(e.describe() + " " + e.message + " " + e.code); }
};

// discover -> plan -> JSON -> steps, as a separate `apply` process would see them.
inline Result<TargetPlan> plan_for(ActionFamily& f, Context& ctx, Transcript* t = nullptr) {
  CC_ASSIGN(json d, f.discover(ctx));
  if (t) t->add(d);
  CC_ASSIGN(TargetPlan p, f.plan(ctx, d));
  json pj = plan_to_json(p);
  if (t) t->add(pj);
  TargetPlan back = p;
  back.steps.clear();
  const json reread = json::parse(pj.dump());
  for (const auto& s : reread["steps"]) back.steps.push_back(step_from_json(s));
  return back;
}

// Applies the steps in order (they are listed in dependency order by the families).
inline Result<std::vector<Journaled>> apply_all(ActionFamily& f, Context& ctx, const TargetPlan& p,
                                                Transcript* t = nullptr) {
  std::vector<Journaled> out;
  for (const auto& s : p.steps) {
    for (const auto& dep : s.depends_on) {
      bool seen = false;
      for (const auto& j : out) seen = seen || j.step.id == dep;
      if (!seen) return Error::internal("step " + s.id + " listed before its dependency " + dep);
    }
    CC_ASSIGN(json before, f.capture(ctx, s));
    if (t) t->add(before);
    CC_ASSIGN(json applied, f.apply(ctx, s, before));
    if (t) t->add(applied);
    CC_TRY(f.verify_applied(ctx, s, applied));
    out.push_back({s, before, applied});
  }
  return out;
}

inline Status rollback_all(ActionFamily& f, Context& ctx, const std::vector<Journaled>& steps,
                           const RollbackOptions& o) {
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    CC_TRY(f.rollback(ctx, it->step, it->before, it->applied, o));
    CC_TRY(f.verify_rollback(ctx, it->step, it->before, o));
  }
  return Ok{};
}

inline const Step* find_step(const TargetPlan& p, const std::string& id) {
  for (const auto& s : p.steps)
    if (s.id == id) return &s;
  return nullptr;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline int file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 0777;
}

// A fresh directory under /tmp for files a test writes.
inline std::string temp_dir() {
  char tmpl[] = "/tmp/containctl-iam-test-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d ? d : "";
}

}  // namespace containctl::actions::iamtest
