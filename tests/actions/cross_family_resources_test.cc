// Steps of different families that write one AWS resource declare the same key, so the executor
// never runs them at once: ec2-isolate's instance-role session revocation and iam-contain of that
// role both write the role's inline policies.
#include <gtest/gtest.h>

#include <algorithm>

#include "actions/registry.h"

namespace containctl::actions {
namespace {

using nlohmann::json;

Step step(const std::string& id, json args) {
  Step s;
  s.id = id;
  s.args = std::move(args);
  return s;
}

bool share_a_key(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& k) { return std::find(b.begin(), b.end(), k) != b.end(); });
}

TEST(CrossFamilyResourcesTest, InstanceRoleRevocationAndRoleContainmentShareTheRole) {
  ActionFamily* ec2 = find_family("ec2-isolate");
  ActionFamily* iam = find_family("iam-contain");
  ASSERT_NE(ec2, nullptr);
  ASSERT_NE(iam, nullptr);
  const std::string instance_arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
  Target instance = *parse_target_arn(instance_arn);
  Target role = *parse_target_arn("arn:aws:iam::123456789012:role/team/App-Role");
  Step revoke = step("revoke-role-sessions", {{"kind", "revoke-role-sessions"},
                                              {"roles", {"app-role"}},
                                              {"policy_name", "containctl-revoke-i-0123456789abcdef0"},
                                              {"instance_arn", instance_arn}});
  ASSERT_TRUE(ec2->check_step(revoke).ok()) << ec2->check_step(revoke).error().describe();
  Step deny = step("deny-all", {{"kind", "role"}, {"role_name", "App-Role"}, {"account", "123456789012"},
                                {"max_session_duration", 3600}});
  ASSERT_TRUE(iam->check_step(deny).ok()) << iam->check_step(deny).error().describe();
  EXPECT_TRUE(share_a_key(ec2->shared_resources(instance, revoke), iam->shared_resources(role, deny)));
  // Another account's role of the same name is another resource.
  Target elsewhere = *parse_target_arn("arn:aws:iam::222222222222:role/App-Role");
  Step deny_elsewhere = deny;
  deny_elsewhere.args["account"] = "222222222222";
  EXPECT_FALSE(share_a_key(ec2->shared_resources(instance, revoke), iam->shared_resources(elsewhere, deny_elsewhere)));
}

}  // namespace
}  // namespace containctl::actions
