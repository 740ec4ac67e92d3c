// The plan loader hands every step of every entry to its family's check_step (the typed parse),
// and checks the steps' graph, so a hand-edited plan is refused naming entry, step and field.
#include <gtest/gtest.h>

#include "orchestrator/plan_file.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

// A family whose steps carry {"port": integer} and whose check_step reads it like typed parsing
// would, including one path that throws (nlohmann get<> on the wrong type).
class CheckingFamily final : public actions::ActionFamily {
 public:
  std::string name() const override { return "fake-family"; }
  bool handles(const actions::Target& t) const override { return t.type == "instance"; }
  Status check_step(const actions::Step& step) const override {
    ++checked;
    if (step.id != "isolate" && step.id != "snapshot") return Error::invalid("id: unknown step '" + step.id + "'");
    if (!step.args.contains("port") || !step.args["port"].is_number_integer())
      return Error::invalid("args.port: expected an integer");
    if (step.args.contains("count")) (void)step.args["count"].get<int>();  // throws on a string
    return Ok{};
  }
  Result<json> discover(actions::Context&) override { return unused(); }
  Result<actions::TargetPlan> plan(actions::Context&, const json&) override { return unused(); }
  Result<json> capture(actions::Context&, const actions::Step&) override { return unused(); }
  Result<json> apply(actions::Context&, const actions::Step&, const json&) override { return unused(); }
  Status verify(actions::Context&, const actions::Step&) override { return unused(); }
  Status rollback(actions::Context&, const actions::Step&, const json&, const json&,
                  const actions::RollbackOptions&) override {
    return unused();
  }
  Status verify_rollback(actions::Context&, const actions::Step&, const json&, const actions::RollbackOptions&) override {
    return unused();
  }
  std::vector<std::string> iam_actions() const override { return {}; }
  mutable int checked = 0;

 private:
  static Error unused() { return Error::internal("not used"); }
};

json step(const std::string& id, json args, std::vector<std::string> deps = {}) {
  actions::Step s;
  s.id = id;
  s.description = id;
  s.args = std::move(args);
  s.depends_on = std::move(deps);
  return step_to_json(s);
}

json plan_with(json steps, const std::string& target = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0") {
  json entry = {{"target", target}, {"family", "fake-family"}, {"account", "123456789012"},
                {"region", "us-east-1"}, {"confidence", "confirmed"}, {"steps", std::move(steps)}};
  return {{"format", kPlanFormat}, {"targets", json::array({entry})}};
}

struct PlanCheck : ::testing::Test {
  CheckingFamily fam;
  FamilyLookup find = [this](const std::string& n) -> actions::ActionFamily* { return n == fam.name() ? &fam : nullptr; };
  std::string refused(const json& plan) {
    auto r = plan_entries(plan, find);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message;
  }
};

TEST_F(PlanCheck, EveryStepGoesThroughTheFamilysCheck) {
  auto r = plan_entries(plan_with({step("snapshot", {{"port", 1}}), step("isolate", {{"port", 2}}, {"snapshot"})}), find);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(fam.checked, 2);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].steps[1].depends_on, std::vector<std::string>{"snapshot"});
}

TEST_F(PlanCheck, AWrongFieldIsRefusedNamingEntryStepAndField) {
  std::string why = refused(plan_with({step("snapshot", {{"port", 1}}), step("isolate", {{"port", "80"}})}));
  EXPECT_NE(why.find("plan.targets[0].steps[1]"), std::string::npos) << why;
  EXPECT_NE(why.find("step 'isolate'"), std::string::npos) << why;
  EXPECT_NE(why.find("args.port"), std::string::npos) << why;
  EXPECT_NE(refused(plan_with({step("reboot", {{"port", 1}})})).find("unknown step 'reboot'"), std::string::npos);
}

TEST_F(PlanCheck, AFamilyCheckThatThrowsIsAnErrorNotACrash) {
  std::string why = refused(plan_with({step("isolate", {{"port", 1}, {"count", "many"}})}));
  EXPECT_NE(why.find("plan.targets[0].steps[0]"), std::string::npos) << why;
  EXPECT_NE(why.find("type must be number"), std::string::npos) << why;
}

TEST_F(PlanCheck, StepGraphMustBeRunnable) {
  EXPECT_NE(refused(plan_with({step("isolate", {{"port", 1}}), step("isolate", {{"port", 1}})})).find("appears twice"),
            std::string::npos);
  EXPECT_NE(refused(plan_with({step("isolate", {{"port", 1}}, {"snapshot"})})).find("depends on 'snapshot'"),
            std::string::npos);
  EXPECT_NE(refused(plan_with({step("isolate", {{"port", 1}}, {"snapshot"}), step("snapshot", {{"port", 1}}, {"isolate"})}))
                .find("cycle"),
            std::string::npos);
}

TEST_F(PlanCheck, FamilyMustHandleTheTargetAndCallFieldsAreTyped) {
  EXPECT_NE(refused(plan_with({step("isolate", {{"port", 1}})}, "arn:aws:s3:::some-bucket")).find("does not handle"),
            std::string::npos);
  json p = plan_with({step("isolate", {{"port", 1}})});
  p["targets"][0]["steps"][0]["calls"] = {{{"service", "ec2"}, {"operation", "X"}, {"mutating", "yes"}}};
  EXPECT_NE(refused(p).find("calls.mutating"), std::string::npos);
  p["targets"][0]["steps"][0]["calls"] = {{{"service", "ec2"}, {"operation", "X"}, {"params", "a=b"}}};
  EXPECT_NE(refused(p).find("calls.params"), std::string::npos);
}

}  // namespace
}  // namespace containctl::orch
