// Canary: a new access key's secret and a regenerated console password appear only in their 0600
// files. Everything else the families produce is collected (spdlog output at trace level, discovery,
// plan and step JSON, capture/apply results, error messages, audit call records) and searched.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "actions/iam_contain.h"
#include "actions/iam_rotate_keys.h"
#include "actions/secret_delivery.h"
#include "tests/actions/iam_test_util.h"

namespace containctl::actions {
namespace {

using namespace iamtest;

TEST(IamCanary, NewSecretAndGeneratedPasswordOnlyInTheir0600Files) {
  testing::MotoServer moto;
  auto setup = moto.client();
  iam_ok(*setup, "CreateUser", {{"UserName", "svc"}});
  const std::string old_key = create_key(*setup, "svc").access_key_id;
  iam_ok(*setup, "CreateLoginProfile", {{"UserName", "svc"}, {"Password", "Orig-Passw0rd!x"}});

  // Every log line at trace level, every audit record.
  auto log = std::make_shared<std::ostringstream>();
  auto logger = std::make_shared<spdlog::logger>("canary", std::make_shared<spdlog::sinks::ostream_sink_mt>(*log));
  logger->set_level(spdlog::level::trace);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::trace);
  Transcript t;
  aws::ClientConfig cfg = setup->config();
  cfg.observer = [&](const aws::CallRecord& r) {
    t.add(r.service + " " + r.operation + " " + r.region + " " + r.account + " " + std::to_string(r.http_status) +
          " " + r.request_id + " " + r.error_code);
  };
  aws::AwsClient client(cfg);

  const std::string dir = temp_dir();
  const std::string key_file = dir + "/new-key.json", pw_file = dir + "/password.json";
  Identity caller{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDARESP", "AKIARESPONDERKEY0001"};
  aws::ManualClock clock(std::chrono::system_clock::now());
  Target target = *parse_target_arn("arn:aws:iam::123456789012:user/svc");

  // 1. Rotate, delivering to a file.
  Options rot_opts;
  rot_opts.values["iam.secret_out"] = key_file;
  Context rc{client, target, "us-east-1", "run-canary", caller, rot_opts, {}, clock};
  auto rotate = make_iam_rotate_keys();
  auto rplan = plan_for(*rotate, rc, &t);
  ASSERT_TRUE(rplan.ok()) << rplan.error().describe();
  auto rapplied = apply_all(*rotate, rc, *rplan, &t);
  ASSERT_TRUE(rapplied.ok()) << rapplied.error().describe();
  for (const auto& j : *rapplied) {  // resume path
    auto again = rotate->apply(rc, j.step, j.before);
    ASSERT_TRUE(again.ok());
    t.add(*again);
  }
  // The new secret, read from the only place it may be.
  ASSERT_EQ(file_mode(key_file), 0600);
  const std::string secret = json::parse(read_file(key_file))["SecretAccessKey"];
  ASSERT_GE(secret.size(), 20u);
  // An error path: writing over the delivered file is refused.
  Status over = iam::write_new_secret_file(key_file, "x");
  ASSERT_FALSE(over.ok());
  t.add(over.error());

  // 2. Contain with disable_console, then roll back: a generated password goes to a new file.
  Options con_opts;
  con_opts.values["iam.disable_console"] = "true";
  con_opts.values["iam.password_out"] = pw_file;
  Context cc{client, target, "us-east-1", "run-canary", caller, con_opts, {}, clock};
  auto contain = make_iam_contain();
  auto cplan = plan_for(*contain, cc, &t);
  ASSERT_TRUE(cplan.ok()) << cplan.error().describe();
  auto capplied = apply_all(*contain, cc, *cplan, &t);
  ASSERT_TRUE(capplied.ok()) << capplied.error().describe();
  RollbackOptions ro;
  ro.reactivate_keys = true;
  must("contain rollback", rollback_all(*contain, cc, *capplied, ro));
  // Error path: the console password is gone again and the output file exists -> refused, named by path.
  iam_ok(*setup, "DeleteLoginProfile", {{"UserName", "svc"}});
  for (const auto& j : *capplied) {
    if (j.step.id != "disable-console") continue;
    Status st = contain->rollback(cc, j.step, j.before, j.applied, ro);
    ASSERT_FALSE(st.ok());
    t.add(st.error());
  }

  // 3. Roll the rotation back (it removes the delivered file with the key), then rotate again from
  // zero keys so a second secret goes through the same path.
  must("rotate rollback", rollback_all(*rotate, rc, *rapplied, {}));
  EXPECT_FALSE(std::filesystem::exists(key_file));
  iam_ok(*setup, "DeleteAccessKey", {{"UserName", "svc"}, {"AccessKeyId", old_key}});
  auto replan = plan_for(*rotate, rc, &t);  // zero keys now: a plain creation
  ASSERT_TRUE(replan.ok()) << replan.error().describe();
  auto reapplied = apply_all(*rotate, rc, *replan, &t);
  ASSERT_TRUE(reapplied.ok()) << reapplied.error().describe();
  const std::string secret2 = json::parse(read_file(key_file))["SecretAccessKey"];
  spdlog::default_logger()->flush();
  spdlog::set_default_logger(previous);

  ASSERT_EQ(file_mode(pw_file), 0600);
  ASSERT_EQ(file_mode(key_file), 0600);
  const std::string password = json::parse(read_file(pw_file))["Password"];
  ASSERT_GE(password.size(), 20u);
  // No partial or temporary files are left next to them.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"new-key.json", "password.json"}));

  std::string haystack = log->str();
  for (const auto& s : t.texts) haystack += "\n" + s;
  // The capture works: the log names the files, the transcript holds plans and results.
  EXPECT_NE(log->str().find(pw_file), std::string::npos) << "the password path is reported";
  EXPECT_NE(haystack.find("CreateAccessKey"), std::string::npos);
  EXPECT_NE(haystack.find("refusing to overwrite"), std::string::npos);
  for (const std::string* needle : {&secret, &secret2, &password})
    EXPECT_EQ(haystack.find(*needle), std::string::npos) << "a secret leaked outside its 0600 file";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace containctl::actions
