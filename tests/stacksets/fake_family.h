// A test-only action family: only name() and iam_actions() matter to the StackSet generator.
#pragma once

#include <string>
#include <vector>

#include "actions/action.h"

namespace containctl::stacksets::testing {

class FakeFamily final : public actions::ActionFamily {
 public:
  FakeFamily(std::string name, std::vector<std::string> iam) : name_(std::move(name)), iam_(std::move(iam)) {}
  std::string name() const override { return name_; }
  bool handles(const actions::Target&) const override { return false; }
  Result<actions::json> discover(actions::Context&) override { return unused(); }
  Result<actions::TargetPlan> plan(actions::Context&, const actions::json&) override { return unused(); }
  Result<actions::json> capture(actions::Context&, const actions::Step&) override { return unused(); }
  Result<actions::json> apply(actions::Context&, const actions::Step&, const actions::json&) override {
    return unused();
  }
  Status verify(actions::Context&, const actions::Step&) override { return unused(); }
  Status rollback(actions::Context&, const actions::Step&, const actions::json&, const actions::json&,
                  const actions::RollbackOptions&) override {
    return unused();
  }
  Status verify_rollback(actions::Context&, const actions::Step&, const actions::json&,
                         const actions::RollbackOptions&) override {
    return unused();
  }
  std::vector<std::string> iam_actions() const override { return iam_; }

 private:
  static Error unused() { return Error::internal("fake family"); }
  std::string name_;
  std::vector<std::string> iam_;
};

// Two overlapping families, listed unsorted and with a duplicate, like real code might.
inline std::vector<actions::ActionFamily*> fake_catalog() {
  static FakeFamily isolate("fake-isolate",
                            {"ec2:ModifyNetworkInterfaceAttribute", "ec2:DescribeInstances", "ec2:CreateSecurityGroup",
                             "ec2:DescribeInstances"});
  static FakeFamily deny("fake-deny", {"iam:PutUserPolicy", "iam:GetUser", "ec2:DescribeInstances"});
  return {&isolate, &deny};
}

}  // namespace containctl::stacksets::testing
