// plan discovers targets in parallel, bounded per (account, region), and still writes them in
// request order; a failing plan names the first failing target in request order. Through the real
// binary against moto_server, reading the call timings the audit log records.
#include <algorithm>
#include <ctime>

#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

// "2026-11-23T09:40:08.030Z" -> milliseconds since the epoch.
long long audit_ms(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms) != 7)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(::timegm(&tm)) * 1000 + ms;
}

// Targets whose calls overlapped in time, from audit records: each target's span runs from its
// first call's start to its last call's end. Times are whole milliseconds, so each span is shrunk
// by 3 ms at both ends: back-to-back targets (one after the other) never count as overlapping.
struct Overlap {
  size_t targets = 0;  // targets with calls
  int most = 0;        // the most at once
};
Overlap target_overlap(const std::vector<json>& records) {
  std::map<std::string, std::pair<long long, long long>> span;
  for (const auto& r : records) {
    if (r["event"] != "aws_call" || !r.contains("target")) continue;
    long long end = audit_ms(r["time"]), start = end - r["duration_ms"].get<long long>();
    auto [it, fresh] = span.try_emplace(r["target"].get<std::string>(), start, end);
    if (!fresh) it->second = {std::min(it->second.first, start), std::max(it->second.second, end)};
  }
  std::vector<std::pair<long long, int>> edges;  // (time, +1 start / -1 end); ends sort first
  for (const auto& [arn, s] : span) {
    if (s.second - s.first <= 6) continue;
    edges.push_back({s.first + 3, 1});
    edges.push_back({s.second - 3, -1});
  }
  std::sort(edges.begin(), edges.end());
  Overlap out{span.size(), 0};
  int now = 0;
  for (const auto& e : edges) out.most = std::max(out.most, now += e.second);
  return out;
}

class E2ePlanTest : public E2eTest {
 protected:
  // Seeds one instance and isolates it with an automatic run; returns its ARN.
  std::string isolate_one_instance() {
    seed(1);
    write_settings(org_settings("auto"));
    const std::string instance = seed_["instance_arns"][0];
    Proc p = plan({"--target", instance}, "plan.json", {"--option", "ec2.untrack_dwell_seconds=0"});
    EXPECT_EQ(p.code, 0) << p.all();
    Proc a = run({"--output", "json", "apply", dir_ + "/plan.json"});
    EXPECT_EQ(a.code, 0) << a.all();
    return instance;
  }
};

TEST_F(E2ePlanTest, TargetsAreDiscoveredInParallelWithinTheBoundAndListedInRequestOrder) {
  seed(6);
  write_settings(org_settings("auto"));
  std::vector<std::string> args = all_target_args();  // 6 instances, the user, the bucket
  Proc p = plan(args);
  ASSERT_EQ(p.code, 0) << p.all();

  json doc = json::parse(slurp(dir_ + "/plan.json"));
  std::vector<std::string> want, got;
  for (size_t i = 1; i < args.size(); i += 2) want.push_back(args[i]);
  for (const auto& t : doc["targets"]) got.push_back(t["target"]);
  EXPECT_EQ(got, want) << "the plan lists targets in request order";

  Overlap o = target_overlap(audit_records());
  ASSERT_EQ(o.targets, want.size());
  const int most = o.most;
  EXPECT_GE(most, 2) << "no two targets were ever discovered at the same time";
  EXPECT_LE(most, 4) << "more than 4 targets of one account and region were discovered at once";
}

// Targets that cannot be planned are reported and skipped; the others' plan is written (exit 4).
// When none can be planned, the error is that of the first failing target in request order.
TEST_F(E2ePlanTest, PartialPlanSkipsTargetsThatCannotBePlannedAndNamesThem) {
  seed(3);
  write_settings(org_settings("auto"));
  const std::string missing_a = "i-00000000000000aaa", missing_b = "i-00000000000000bbb";
  auto arn = [](const std::string& id) { return "arn:aws:ec2:us-east-1:123456789012:instance/" + id; };
  Proc p = plan({"--target", seed_["instance_arns"][0], "--target", arn(missing_a), "--target",
                 seed_["instance_arns"][1], "--target", arn(missing_b), "--target", seed_["instance_arns"][2]});
  EXPECT_EQ(p.code, 4) << p.all();
  EXPECT_NE(p.out.find("NOT PLANNED: " + arn(missing_a)), std::string::npos) << p.all();
  EXPECT_NE(p.out.find("NOT PLANNED: " + arn(missing_b)), std::string::npos) << p.all();
  ASSERT_TRUE(fs::exists(dir_ + "/plan.json"));
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  std::vector<std::string> got, want = {seed_["instance_arns"][0], seed_["instance_arns"][1], seed_["instance_arns"][2]};
  for (const auto& t : doc["targets"]) got.push_back(t["target"]);
  EXPECT_EQ(got, want) << "the planned targets, in request order";
  ASSERT_EQ(doc["unplanned"].size(), 2u);
  EXPECT_EQ(doc["unplanned"][0]["target"], arn(missing_a));
  EXPECT_EQ(doc["unplanned"][1]["target"], arn(missing_b));

  Proc none = plan({"--target", arn(missing_a), "--target", arn(missing_b)}, "none.json");
  EXPECT_EQ(none.code, 1) << none.all();
  EXPECT_NE(none.all().find(missing_a), std::string::npos) << none.all();
  EXPECT_EQ(none.all().find(missing_b), std::string::npos) << none.all();
  EXPECT_FALSE(fs::exists(dir_ + "/none.json"));
}

// The settings' executor bounds reach both plan (discovery) and apply: with one target at a time,
// no two targets' calls overlap in either.
TEST_F(E2ePlanTest, ExecutorSettingsBoundPlanAndApply) {
  seed(3);
  json settings = org_settings("auto");
  settings["executor"] = {{"workers", 1}, {"per_account_region", 1}};
  write_settings(settings);
  std::vector<std::string> targets;
  for (const auto& arn : seed_["instance_arns"]) targets.insert(targets.end(), {"--target", arn});
  Proc p = plan(targets, "plan.json", {"--option", "ec2.untrack_dwell_seconds=0"});
  ASSERT_EQ(p.code, 0) << p.all();
  const std::vector<json> planned = audit_records();
  Overlap during_plan = target_overlap(planned);
  EXPECT_EQ(during_plan.targets, 3u);
  EXPECT_EQ(during_plan.most, 1) << "plan discovered targets at once despite executor.workers = 1";
  Proc a = run({"--output", "json", "apply", dir_ + "/plan.json"});
  ASSERT_EQ(a.code, 0) << a.all();
  std::vector<json> all = audit_records();
  Overlap during_apply = target_overlap(std::vector<json>(all.begin() + static_cast<long>(planned.size()), all.end()));
  EXPECT_EQ(during_apply.targets, 3u);
  EXPECT_EQ(during_apply.most, 1) << "apply ran targets at once despite executor.workers = 1";
}

// A plan made with --option applies: apply hands the plan's options to the families, and once
// did so by iterating a destroyed temporary (a crash whenever a plan had any option).
TEST_F(E2ePlanTest, PlanWithOptionsApplies) {
  seed(1);
  write_settings(org_settings("auto"));
  Proc p = plan({"--target", seed_["instance_arns"][0]}, "plan.json", {"--option", "ec2.untrack_dwell_seconds=0"});
  ASSERT_EQ(p.code, 0) << p.all();
  json doc = json::parse(slurp(dir_ + "/plan.json"));
  EXPECT_EQ(doc["options"]["ec2.untrack_dwell_seconds"], "0") << doc["options"].dump();
  Proc a = run({"--output", "json", "apply", dir_ + "/plan.json"});
  ASSERT_EQ(a.code, 0) << a.all();
  EXPECT_EQ(json::parse(a.out)["status"], "succeeded") << a.out;
}

// rate_limits in the settings pace the real clients: with IAM at 4 calls a second and a burst of
// 1, discovering one user (several IAM reads) spreads its calls over more than a second; without
// the limit the same plan's IAM calls land within a fraction of that.
TEST_F(E2ePlanTest, RateLimitsFromSettingsPaceTheCalls) {
  seed(1);
  json settings = org_settings("auto");
  settings["rate_limits"] = {{"iam", {{"rate_per_second", 4}, {"burst", 1}}}};
  write_settings(settings);
  Proc p = plan({"--target", seed_["user_arn"]});
  ASSERT_EQ(p.code, 0) << p.all();
  std::vector<long long> ends;
  for (const auto& r : audit_records())
    if (r.value("event", "") == "aws_call" && r.value("service", "") == "iam") ends.push_back(audit_ms(r["time"]));
  ASSERT_GE(ends.size(), 6u) << "a user's discovery makes several IAM calls";
  std::sort(ends.begin(), ends.end());
  // n calls at 4/s after a burst of 1 need at least (n - 1) / 4 seconds.
  const double need_ms = (ends.size() - 1) * 250.0 * 0.9;
  EXPECT_GE(ends.back() - ends.front(), need_ms) << ends.size() << " IAM calls";
}

// "Already contained" reaches the family through the planner: an instance this state directory's
// journal isolated (a rule-free group the run created) is planned as already contained, with no
// steps; the family alone cannot know the group is ours (a tag or a name never says so).
TEST_F(E2ePlanTest, InstanceIsolatedByAnEarlierRunIsPlannedAsAlreadyContained) {
  const std::string instance = isolate_one_instance();
  if (HasFailure()) return;
  Proc again = plan({"--target", instance}, "again.json");
  ASSERT_EQ(again.code, 0) << again.all();
  json doc = json::parse(slurp(dir_ + "/again.json"));
  ASSERT_EQ(doc["targets"].size(), 1u) << doc.dump();
  EXPECT_EQ(doc["targets"][0]["already_contained"], true) << doc["targets"][0].dump();
  EXPECT_TRUE(doc["targets"][0]["steps"].empty()) << doc["targets"][0].dump();
}

// An adversary who still holds credentials puts the isolated instance back in its old group. The
// next plan must not call it "already contained" on the strength of the journal alone: it reads the
// instance back, says the containment no longer holds, and names the steps it would take again.
TEST_F(E2ePlanTest, HeldTargetOpenedUpAgainIsNotReportedContained) {
  const std::string instance = isolate_one_instance();
  if (HasFailure()) return;
  python("reopen '" + dir_ + "/seed.json'");
  Proc again = plan({"--target", instance}, "again.json");
  ASSERT_EQ(again.code, 0) << again.all();
  json doc = json::parse(slurp(dir_ + "/again.json"));
  ASSERT_EQ(doc["targets"].size(), 1u) << doc.dump();
  const json& t = doc["targets"][0];
  EXPECT_EQ(t["already_contained"], false) << t.dump();
  ASSERT_TRUE(t.contains("reopened")) << t.dump();
  EXPECT_NE(std::find(t["reopened"].begin(), t["reopened"].end(), "isolate-network"), t["reopened"].end()) << t.dump();
  EXPECT_NE(t["warnings"].dump().find("no longer shows it contained"), std::string::npos) << t.dump();
  EXPECT_TRUE(t["steps"].empty()) << "one containment per target: the plan does not contain it twice";
}

}  // namespace
}  // namespace containctl::e2e
