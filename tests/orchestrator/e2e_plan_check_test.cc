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
  void plan_and_edit(const std::function<void(json&)>& edit) {
    write_settings(org_settings("auto"));
    Proc p = plan({"--target", seed_["instance_arns"][0].get<std::string>()});
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

}  // namespace
}  // namespace containctl::e2e
