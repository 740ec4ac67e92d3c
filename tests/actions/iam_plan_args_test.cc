// iam-contain's typed step arguments: a hand-edited or damaged plan step is refused with an error
// naming the step and the field, before any AWS call.
#include <gtest/gtest.h>

#include "actions/iam_common.h"
#include "actions/iam_contain.h"
#include "actions/iam_rotate_keys.h"
#include "aws/clock.h"
#include "tests/support/fake_transport.h"

namespace containctl::actions {
namespace {

using nlohmann::json;

Step user_step(const std::string& id, json args) {
  Step s;
  s.id = id;
  s.args = std::move(args);
  return s;
}

json user_args() { return {{"kind", "user"}, {"user_name", "mallory"}, {"account", "123456789012"}}; }

std::string problem(const Step& s) {
  Status st = iam::check_contain_step(s);
  if (st.ok()) return "";
  EXPECT_EQ(st.error().code, "InvalidPlan");
  return st.error().message;
}

TEST(IamPlanArgs, ValidStepsPass) {
  json keys = user_args();
  keys["key_ids"] = {"AKIAEXAMPLEKEY000001"};
  EXPECT_EQ(problem(user_step("deactivate-keys", keys)), "");
  EXPECT_EQ(problem(user_step("deny-all", user_args())), "");
  json role = {{"kind", "role"}, {"role_name", "app"}, {"account", "123456789012"}, {"max_session_duration", 3600}};
  EXPECT_EQ(problem(user_step("revoke-sessions", role)), "");
}

TEST(IamPlanArgs, EachBrokenFieldIsNamed) {
  struct Case {
    std::string step;
    json args;
    std::string names;
  };
  json no_name = user_args();
  no_name.erase("user_name");
  json bad_name = user_args();
  bad_name["user_name"] = "mallory/../x";
  json keys_not_list = user_args();
  keys_not_list["key_ids"] = "AKIAEXAMPLEKEY000001";
  json key_number = user_args();
  key_number["key_ids"] = {42};
  json bad_account = user_args();
  bad_account["account"] = "12345";
  json bad_kind = user_args();
  bad_kind["kind"] = "group";
  json role = {{"kind", "role"}, {"role_name", "app"}, {"account", "123456789012"}, {"max_session_duration", "3600"}};
  json pw = user_args();
  pw["password_out"] = "relative/pw.json";
  const std::vector<Case> cases = {
      {"deny-all", no_name, "args.user_name"},           {"deny-all", bad_name, "args.user_name"},
      {"deactivate-keys", keys_not_list, "args.key_ids"}, {"deactivate-keys", key_number, "args.key_ids"},
      {"deny-all", bad_account, "args.account"},         {"deny-all", bad_kind, "args.kind"},
      {"revoke-sessions", role, "args.max_session_duration"}, {"disable-console", pw, "args.password_out"},
      {"deactivate-mfa", user_args(), "args.serial"},    {"revoke-sessions", user_args(), "not a step of an IAM user"},
      {"deny-all", json::array(), "must be an object"},
  };
  for (const auto& c : cases) {
    const std::string msg = problem(user_step(c.step, c.args));
    EXPECT_NE(msg.find(c.names), std::string::npos) << c.step << " " << c.args.dump() << " -> " << msg;
    EXPECT_NE(msg.find("'" + c.step + "'"), std::string::npos) << msg;
  }
}

TEST(IamPlanArgs, RotateKeysStepsNameTheBrokenField) {
  json create = user_args();
  create["delivery"] = {{"type", "file"}, {"path", "/tmp/x/new.json"}};
  create["existing_key_ids"] = {"AKIAEXAMPLEKEY000001"};
  create["old_key_ids"] = {"AKIAEXAMPLEKEY000001"};
  EXPECT_TRUE(check_rotate_keys_step(user_step("create-new-key", create)).ok());
  auto named = [](const Step& s) {
    Status st = check_rotate_keys_step(s);
    return st.ok() ? std::string() : st.error().message;
  };
  json no_path = create;
  no_path["delivery"].erase("path");
  EXPECT_NE(named(user_step("create-new-key", no_path)).find("args.delivery.path"), std::string::npos);
  json sm = create;
  sm["delivery"] = {{"type", "secretsmanager"}, {"name", "x"}};
  EXPECT_NE(named(user_step("create-new-key", sm)).find("args.delivery.region"), std::string::npos);
  json bad_type = create;
  bad_type["delivery"]["type"] = "email";
  EXPECT_NE(named(user_step("create-new-key", bad_type)).find("args.delivery.type"), std::string::npos);
  json old_keys = create;
  old_keys["old_key_ids"] = {{{"id", 1}}};
  EXPECT_NE(named(user_step("create-new-key", old_keys)).find("args.old_key_ids"), std::string::npos);
  EXPECT_NE(named(user_step("deactivate-old-key", user_args())).find("args.key_ids"), std::string::npos);
  EXPECT_NE(named(user_step("delete-inactive-key", user_args())).find("args.key_id"), std::string::npos);
  EXPECT_NE(named(user_step("rotate-everything", user_args())).find("not a step"), std::string::npos);
}

TEST(IamPlanArgs, StepsDeclareTheIamResourceTheyWrite) {
  // One role named by two targets (any path, any case: IAM names are unique ignoring case) gives
  // one key, the key ec2-isolate's instance-role revocation uses for it too.
  Target a = *parse_target_arn("arn:aws:iam::123456789012:role/App");
  Target b = *parse_target_arn("arn:aws:iam::123456789012:role/team/app");
  json role = {{"kind", "role"}, {"role_name", "App"}, {"account", "123456789012"}, {"max_session_duration", 3600}};
  json role_b = role;
  role_b["role_name"] = "app";
  const auto ka = iam::contain_shared_resources(a, user_step("revoke-sessions", role));
  const auto kb = iam::contain_shared_resources(b, user_step("deny-all", role_b));
  ASSERT_EQ(ka.size(), 1u);
  EXPECT_EQ(ka, kb);
  EXPECT_EQ(ka[0], iam::principal_key(iam::Principal::kRole, "aws", "123456789012", "app"));
  // A user's keys and its policies are different resources; another account's role is another.
  Target u = *parse_target_arn("arn:aws:iam::123456789012:user/app");
  json keys = user_args();
  keys["user_name"] = "app";
  keys["key_ids"] = {"AKIAEXAMPLEKEY000001"};
  const auto kk = iam::contain_shared_resources(u, user_step("deactivate-keys", keys));
  const auto kd = iam::contain_shared_resources(u, user_step("deny-all", keys));
  EXPECT_EQ(kk, std::vector<std::string>{iam::access_keys_key("aws", "123456789012", "app")});
  EXPECT_NE(kk, kd);
  EXPECT_NE(kd, ka);
  json other = role;
  other["account"] = "222222222222";
  EXPECT_NE(iam::contain_shared_resources(a, user_step("deny-all", other)), ka);
  // Through the family interface, as the executor asks: rotation and containment of one user's
  // keys share one key.
  json create = keys;
  create["delivery"] = {{"type", "file"}, {"path", "/tmp/x/new.json"}};
  create["existing_key_ids"] = {"AKIAEXAMPLEKEY000001"};
  create["old_key_ids"] = {"AKIAEXAMPLEKEY000001"};
  EXPECT_EQ(make_iam_rotate_keys()->shared_resources(u, user_step("create-new-key", create)), kk);
  EXPECT_EQ(make_iam_contain()->shared_resources(u, user_step("deactivate-keys", keys)), kk);
  // A damaged step declares nothing (it fails in the step itself).
  EXPECT_TRUE(iam::contain_shared_resources(a, user_step("deny-all", json::array())).empty());
}

TEST(IamPlanArgs, ABrokenStepMakesNoCall) {
  auto transport = std::make_shared<testing::FakeTransport>();
  aws::ManualClock clock{std::chrono::system_clock::now()};
  aws::ClientConfig cfg;
  cfg.transport = transport;
  cfg.clock = &clock;
  cfg.credentials = std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "test"});
  aws::AwsClient client(cfg);
  Target t = *parse_target_arn("arn:aws:iam::123456789012:user/mallory");
  Identity caller{"123456789012", "arn:aws:iam::123456789012:user/responder", "", ""};
  Options opts;
  Context ctx{client, t, "us-east-1", "run-1", caller, opts, {}, clock};
  auto family = make_iam_contain();
  json args = user_args();
  args["key_ids"] = {nullptr};
  Step s = user_step("deactivate-keys", args);
  EXPECT_FALSE(family->capture(ctx, s).ok());
  EXPECT_FALSE(family->apply(ctx, s, json::object()).ok());
  EXPECT_FALSE(family->verify(ctx, s).ok());
  EXPECT_FALSE(family->rollback(ctx, s, json::object(), nullptr, {}).ok());
  auto rotate = make_iam_rotate_keys();
  Step r = user_step("create-new-key", user_args());  // no delivery
  EXPECT_FALSE(rotate->capture(ctx, r).ok());
  EXPECT_FALSE(rotate->apply(ctx, r, json::object()).ok());
  EXPECT_FALSE(rotate->rollback(ctx, r, json::object(), nullptr, {}).ok());
  EXPECT_FALSE(rotate->verify_rollback(ctx, r, json::object(), {}).ok());
  EXPECT_EQ(transport->request_count(), 0u);
}

}  // namespace
}  // namespace containctl::actions
