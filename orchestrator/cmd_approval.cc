// keys generate, approve.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "approvals/approval.h"
#include "aws/sigv4.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/plan_file.h"

namespace containctl::orch {
namespace {

using nlohmann::json;

struct KeysArgs {
  std::string name, out;
};

struct ApproveArgs {
  std::string plan, approver, key, ttl = "4h", out;
};

// Approvals are meant to be used soon after they are given; a week-long approval is a standing
// permission, which is what the settings' auto mode is for.
constexpr std::chrono::hours kMaxTtl{24 * 7};

int run_keys_generate(const GlobalOptions& g, const KeysArgs& a) {
  auto paths = approvals::generate_keypair_files(a.name, a.out);
  if (!paths.ok()) return report_error(g, paths.error());
  std::error_code ec;
  std::string pub_abs = std::filesystem::absolute(paths->public_key, ec).lexically_normal().string();
  if (ec) pub_abs = paths->public_key;
  json entry = {{a.name, pub_abs}};
  std::string entry_text = json(a.name).dump() + ": " + json(pub_abs).dump();  // "alice": "/path"
  std::ostringstream text;
  text << "Generated an Ed25519 key pair for approver '" << a.name << "'\n"
       << "  private key: " << paths->private_key << " (mode 0600; only " << a.name << " should have it)\n"
       << "  public key:  " << paths->public_key << "\n"
       << "Add the approver to the settings file's \"approvers\" map:\n"
       << "  " << entry_text << "\n";
  print_result(g, {{"name", a.name}, {"private_key", paths->private_key}, {"public_key", paths->public_key},
                   {"approvers_entry", entry}},
               text.str());
  return kExitOk;
}

Error bad_plan(const std::string& path, const std::string& what) {
  return Error::invalid(path + ": " + what, "InvalidPlan");
}

int run_approve(const GlobalOptions& g, const ApproveArgs& a) {
  auto ttl = approvals::parse_duration(a.ttl);
  if (!ttl.ok()) return report_error(g, Error{ErrorKind::kUsage, "Usage", "--ttl: " + ttl.error().message});
  if (*ttl > kMaxTtl)
    return report_error(g, Error{ErrorKind::kUsage, "Usage", "--ttl " + a.ttl + " is longer than the 7 day maximum"});

  std::ifstream in(a.plan, std::ios::binary);
  if (!in) return report_error(g, bad_plan(a.plan, "cannot read plan file"));
  std::stringstream buf;
  buf << in.rdbuf();
  json plan = json::parse(buf.str(), nullptr, false);
  if (plan.is_discarded()) return report_error(g, bad_plan(a.plan, "not valid JSON (truncated or malformed plan file)"));
  if (!plan.is_object()) return report_error(g, bad_plan(a.plan, "a plan file is a JSON object"));
  if (!plan.contains("plan_hash") || !plan["plan_hash"].is_string())
    return report_error(g, bad_plan(a.plan, "field 'plan_hash' is missing or not a string"));
  std::string hash = plan["plan_hash"].get<std::string>();
  json body = plan;
  body.erase("plan_hash");
  // The plan's own rule: hex SHA-256 of the compact, key-sorted dump without "plan_hash".
  if (aws::sha256_hex(body.dump()) != hash)
    return report_error(g, bad_plan(a.plan, "plan_hash does not match the plan's content: the plan was edited after "
                                            "planning; refusing to approve it"));
  if (!plan.contains("targets") || !plan["targets"].is_array())
    return report_error(g, bad_plan(a.plan, "field 'targets' is missing or not an array"));

  std::ostringstream text;
  size_t steps = 0;
  json targets = json::array();
  for (size_t i = 0; i < plan["targets"].size(); ++i) {
    const json& t = plan["targets"][i];
    std::string where = "targets[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("target") || !t["target"].is_string())
      return report_error(g, bad_plan(a.plan, "field '" + where + ".target' is missing or not a string"));
    if (!t.contains("steps") || !t["steps"].is_array())
      return report_error(g, bad_plan(a.plan, "field '" + where + ".steps' is missing or not an array"));
    steps += t["steps"].size();
    targets.push_back({{"target", t["target"]}, {"steps", t["steps"].size()}});
  }
  // Every step as its family will read it: nobody signs a plan that apply would refuse.
  if (auto entries = plan_entries(plan); !entries.ok()) return report_error(g, bad_plan(a.plan, entries.error().message));
  std::string requester = plan.contains("requester") && plan["requester"].is_string() ? plan["requester"].get<std::string>() : "";

  auto approval = approvals::sign_approval(hash, a.approver, a.key, *ttl, std::chrono::system_clock::now());
  if (!approval.ok()) return report_error(g, approval.error());
  Status st = approvals::write_approval(*approval, a.out);
  if (!st.ok()) return report_error(g, st.error());

  text << "Approving plan " << a.plan << " (plan_hash " << hash.substr(0, 16) << "...)\n";
  if (!requester.empty()) text << "  requested by " << requester << "\n";
  text << "  " << targets.size() << (targets.size() == 1 ? " target, " : " targets, ") << steps
       << (steps == 1 ? " step" : " steps") << ":\n";
  for (const auto& t : targets)
    text << "    " << t["target"].get<std::string>() << "  (" << t["steps"].get<size_t>() << " steps)\n";
  text << "Approval by " << approval->approver << " valid " << approval->issued_at << " .. " << approval->expires_at
       << " written to " << a.out << "\n";
  if (approvals::same_person(a.approver, requester))
    text << "warning: " << a.approver << " requested this plan; an approval by the requester is refused at apply time\n";
  json doc = approvals::to_json(*approval);
  doc.erase("signature");  // the file has it; the summary need not repeat it
  doc["file"] = a.out;
  doc["targets"] = targets;
  doc["steps"] = steps;
  doc["self_approval"] = approvals::same_person(a.approver, requester);
  print_result(g, doc, text.str());
  return kExitOk;
}

}  // namespace

void add_approval_commands(CLI::App& app, GlobalOptions& g, int& rc) {
  auto keys_args = std::make_shared<KeysArgs>();
  CLI::App* keys = app.add_subcommand("keys", "approver key pairs");
  keys->require_subcommand(1);
  CLI::App* gen = keys->add_subcommand("generate", "make an Ed25519 key pair: NAME.key.pem (0600) and NAME.pub.pem");
  gen->add_option("--name", keys_args->name, "approver name, as listed in the settings' approvers")->required();
  gen->add_option("--out", keys_args->out, "directory for the key files (created 0700 if missing)")->required();
  gen->callback([&g, &rc, keys_args] { rc = run_keys_generate(g, *keys_args); });

  auto approve_args = std::make_shared<ApproveArgs>();
  CLI::App* approve = app.add_subcommand("approve", "sign an approval for one exact plan");
  approve->add_option("plan", approve_args->plan, "plan file")->required();
  approve->add_option("--approver", approve_args->approver, "your approver name")->required();
  approve->add_option("--key", approve_args->key, "your private key (NAME.key.pem)")->required();
  approve->add_option("--ttl", approve_args->ttl, "how long the approval is valid: 30m, 4h (default), 1d");
  approve->add_option("-o,--out", approve_args->out, "approval file to write")->required();
  approve->callback([&g, &rc, approve_args] { rc = run_approve(g, *approve_args); });
}

}  // namespace containctl::orch
