// Every family checks its own steps when a plan loads (ActionFamily::check_step): a hand-edited
// step whose arguments are not the family's is refused there, before apply, naming the step.
#include <gtest/gtest.h>

#include "actions/registry.h"

namespace containctl::actions {
namespace {

Step edited_step(const std::string& id) {
  Step s;
  s.id = id;
  s.description = id;
  s.args = {{"kind", 42}, {"unexpected", "field"}};
  return s;
}

TEST(FamilyCheckStepTest, EveryFamilyRefusesAStepWithArgumentsThatAreNotItsOwn) {
  const std::map<std::string, std::string> a_step_of = {
      {"ec2-isolate", "isolate-network"}, {"iam-contain", "deny-all"},
      {"iam-rotate-keys", "create-new-key"}, {"s3-contain", "deny-policy"}};
  ASSERT_EQ(all_families().size(), a_step_of.size()) << "a family without a case here: " << family_names();
  for (const ActionFamily* family : all_families()) {
    SCOPED_TRACE(family->name());
    ASSERT_TRUE(a_step_of.count(family->name()));
    Status checked = family->check_step(edited_step(a_step_of.at(family->name())));
    ASSERT_FALSE(checked.ok()) << "check_step accepted a step whose arguments are not the family's";
    EXPECT_FALSE(checked.error().message.empty());
  }
}

}  // namespace
}  // namespace containctl::actions
