// A hand-edited plan (hash recomputed, so it passes the hash check) whose steps do not hold what
// their family needs is refused by apply and by approve with exit 1 naming the entry, the step and
// the field, before any mutating call: the loader checks every step (plan_file.cc plan_entries ->
// ActionFamily::check_step and the step graph).
#include "orchestrator/plan_file.h"
#include "tests/orchestrator/e2e_util.h"

namespace containctl::e2e {
namespace {

class E2ePlanCheckTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    seed(1);
  }
  // Plans the instance, lets `edit` change the plan, and re-seals it with a correct hash.
  void plan_and_edit(const std::function<void(json&)>& edit, std::vector<std::string> extra = {}) {
    write_settings(org_settings("auto"));
    std::vector<std::string> args = {"--target", seed_["instance_arns"][0].get<std::string>()};
    args.insert(args.end(), extra.begin(), extra.end());
    Proc p = plan(args);
    ASSERT_EQ(p.code, 0) << p.all();
    json doc = json::parse(slurp(dir_ + "/plan.json"));
    ASSERT_GE(doc["targets"][0]["steps"].size(), 2u) << doc.dump(1);
    edit(doc);
    doc["plan_hash"] = orch::compute_plan_hash(doc);
    write_file(dir_ + "/plan.json", doc.dump(2));
  }
  void expect_refused(const std::string& field) {
    json before = world_state();
    size_t mark = audit_count();
    Proc a = run({"apply", "plan.json"});
    EXPECT_EQ(a.code, 1) << a.all();
    EXPECT_NE(a.err.find("plan.targets[0].steps"), std::string::npos) << a.err;
    EXPECT_NE(a.err.find(field), std::string::npos) << a.err;
    EXPECT_EQ(mutating_calls_since(mark), std::vector<std::string>{}) << a.all();
    EXPECT_EQ(world_state(), before);
    EXPECT_EQ(status_json()["runs"].size(), 0u);
    Proc k = run({"keys", "generate", "--name", "bob", "--out", "keys"});
    ASSERT_EQ(k.code, 0) << k.all();
    Proc ap = run({"approve", "plan.json", "--approver", "bob", "--key", "keys/bob.key.pem", "-o", "bob.json"});
    EXPECT_EQ(ap.code, 1) << ap.all();
    EXPECT_NE(ap.err.find(field), std::string::npos) << ap.err;
    EXPECT_FALSE(fs::exists(dir_ + "/bob.json"));
  }
};

TEST_F(E2ePlanCheckTest, StepDependingOnAStepThatIsNotThereIsRefused) {
  plan_and_edit([](json& doc) { doc["targets"][0]["steps"][1]["depends_on"] = {"no-such-step"}; });
  expect_refused("depends on 'no-such-step'");
}

TEST_F(E2ePlanCheckTest, StepsThatDependOnEachOtherAreRefused) {
  plan_and_edit([](json& doc) {
    auto& steps = doc["targets"][0]["steps"];
    steps[0]["depends_on"] = {steps[1]["id"]};
    steps[1]["depends_on"] = {steps[0]["id"]};
  });
  expect_refused("cycle");
}

TEST_F(E2ePlanCheckTest, MistypedCallFieldIsRefused) {
  plan_and_edit([](json& doc) { doc["targets"][0]["steps"][0]["calls"][0]["mutating"] = "no"; });
  expect_refused("calls.mutating");
}

// The optional EC2 steps' arguments are typed like the others': a field missing from a hand-edited
// plan is named (exit 1) and nothing is called, instead of an operation reading a missing field.
TEST_F(E2ePlanCheckTest, OptionalEc2StepMissingAFieldIsRefusedNamingIt) {
  plan_and_edit(
      [](json& doc) {
        bool found = false;
        for (auto& s : doc["targets"][0]["steps"])
          if (s["id"] == "nacl-hard-cut") {
            s["args"].erase("subnets");
            found = true;
          }
        ASSERT_TRUE(found) << doc.dump(1);
      },
      {"--option", "ec2.nacl_hard_cut=true"});
  expect_refused("no field 'subnets'");
}

TEST_F(E2ePlanCheckTest, ConntrackStepWithAMistypedTimeoutIsRefusedNamingIt) {
  plan_and_edit(
      [](json& doc) {
        bool found = false;
        for (auto& s : doc["targets"][0]["steps"])
          if (s["id"] == "conntrack-timeouts") {
            s["args"]["timeouts"]["tcpEstablishedTimeout"] = "60";
            found = true;
          }
        ASSERT_TRUE(found) << doc.dump(1);
      },
      {"--option", "ec2.min_conntrack_timeouts=true"});
  expect_refused("timeouts.tcpEstablishedTimeout");
}

}  // namespace
}  // namespace containctl::e2e
