// keys generate, approve.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <iostream>

#include "approvals/approval.h"
#include "aws/sigv4.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/gate.h"
#include "orchestrator/plan_file.h"
#include "orchestrator/session.h"
#include "orchestrator/settings.h"
#include "orchestrator/settings_source.h"

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
  std::string fingerprint;
  if (auto pem = approvals::read_public_key(paths->public_key); pem.ok()) {
    if (auto fp = approvals::key_fingerprint(*pem); fp.ok()) fingerprint = *fp;
  }
  json pinned = {{"public_key", pub_abs}, {"fingerprint", fingerprint},
                 {"principals", json::array({"arn:aws:iam::ACCOUNT:user/" + a.name})}};
  std::ostringstream text;
  text << "Generated an Ed25519 key pair for approver '" << a.name << "'\n"
       << "  private key: " << paths->private_key << " (mode 0600; only " << a.name << " should have it)\n"
       << "  public key:  " << paths->public_key << "\n"
       << "Add the approver to the settings file's \"approvers\" map:\n"
       << "  " << entry_text << "\n"
       << "or, pinning the key and binding the approver to their IAM principals (edit the ARNs):\n"
       << "  " << json(a.name).dump() << ": " << pinned.dump() << "\n"
       << "  fingerprint " << fingerprint << "\n";
  print_result(g, {{"name", a.name}, {"private_key", paths->private_key}, {"public_key", paths->public_key},
                   {"fingerprint", fingerprint}, {"approvers_entry", entry}, {"approvers_entry_pinned", {{a.name, pinned}}}},
               text.str());
  return kExitOk;
}

// What the approver is shown before signing: every target, every step with its calls, before and
// after states, and every option, from the typed plan (the same facts the dry-run prints).
std::string render_for_approval(const json& plan, const std::vector<PlanEntry>& entries) {
  std::ostringstream o;
  const json caller = plan.value("caller", json::object());
  o << "Plan " << plan.value("plan_hash", "").substr(0, 16) << "  created " << plan.value("created_at", "") << "\n"
    << "  made by " << (caller.is_object() ? caller.value("arn", "(unknown)") : std::string("(unknown)"))
    << "  requester label " << plan.value("requester", "") << "\n";
  const json options = plan.value("options", json::object());
  if (options.is_object() && !options.empty()) {
    o << "  options:\n";
    for (const auto& [k, v] : options.items()) o << "    " << k << " = " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  } else {
    o << "  options: none\n";
  }
  for (const auto& e : entries) {
    o << "\n" << e.target.arn << "  [" << e.family << ", account " << e.account << ", " << e.region << ", "
      << e.confidence << "]\n";
    if (e.steps.empty()) o << "  nothing to do\n";
    int n = 1;
    for (const auto& st : e.steps) {
      o << "  " << n++ << ". " << st.id << ": " << st.description << (st.reversible ? "" : "  [IRREVERSIBLE]") << "\n";
      for (const auto& c : st.calls)
        o << "       " << (c.mutating ? "call " : "read ") << c.service << ":" << c.operation << " " << c.params.dump()
          << "\n";
      o << "       before: " << st.before.dump() << "\n";
      o << "       after:  " << st.after.dump() << "\n";
      if (!st.args.empty()) o << "       args:   " << st.args.dump() << "\n";
      for (const auto& w : st.warnings) o << "       warning: " << w << "\n";
    }
  }
  return o.str();
}

actions::Identity plan_caller(const json& plan) {
  actions::Identity id;
  const json caller = plan.value("caller", json::object());
  if (caller.is_object()) {
    id.account = caller.value("account", "");
    id.arn = caller.value("arn", "");
    id.user_id = caller.value("user_id", "");
  }
  return id;
}

int run_approve(const GlobalOptions& g, const ApproveArgs& a) {
  auto ttl = approvals::parse_duration(a.ttl);
  if (!ttl.ok()) return report_error(g, Error{ErrorKind::kUsage, "Usage", "--ttl: " + ttl.error().message});
  if (*ttl > kMaxTtl)
    return report_error(g, Error{ErrorKind::kUsage, "Usage", "--ttl " + a.ttl + " is longer than the 7 day maximum"});

  // The plan as apply will read it: the hash checked (an edited plan is refused), every step typed.
  auto plan_r = load_plan(a.plan);
  if (!plan_r.ok()) {
    Error e = plan_r.error();
    if (e.message.find("edited after planning") != std::string::npos) e.message += "; refusing to approve it";
    return report_error(g, e);
  }
  const json plan = std::move(plan_r).value();
  auto entries_r = plan_entries(plan);
  if (!entries_r.ok()) {
    Error e = entries_r.error();
    e.message = a.plan + ": " + e.message;
    return report_error(g, e);
  }
  const std::vector<PlanEntry> entries = std::move(entries_r).value();
  const std::string hash = plan.value("plan_hash", "");
  const actions::Identity maker = plan_caller(plan);

  // Mistakes surface now, not at apply: the settings in force must list this approver with this
  // key, and the gate must not refuse the plan.
  std::unique_ptr<Session> session;  // opened only for settings in S3 or SSM
  auto settings = load_settings_for(g, session);
  if (!settings.ok()) return report_error(g, settings.error());
  auto pem = approvals::approver_public_key(a.approver, settings->approvers);
  if (!pem.ok()) {
    Error e = pem.error();
    if (e.kind == ErrorKind::kRefused) e.message += " (" + settings->path + "); nothing signed";
    return report_error(g, e);
  }
  std::vector<std::string> refused;
  for (const auto& e : entries) {
    if (e.steps.empty()) continue;
    GateInput gin{e.account, e.family, e.target.arn, e.confidence, std::nullopt, std::chrono::system_clock::now()};
    GateDecision d = evaluate_gate(*settings, maker, gin);
    if (d.decision == "refused") refused.push_back(e.target.arn + ": " + d.reason);
  }
  const json refused_at_plan = plan.value("refused", json::array());
  size_t steps = 0;
  for (const auto& e : entries) steps += e.steps.size();
  if (steps == 0 && refused_at_plan.is_array() && !refused_at_plan.empty())
    refused.push_back("every target of the plan was refused when planned");
  if (!refused.empty()) {
    std::string why = "approval refused: the containment settings (" + settings->path + ") refuse this plan:";
    for (const auto& r : refused) why += "\n  " + r;
    return report_error(g, Error::refused(why + "\nnothing signed"));
  }

  const std::string review = render_for_approval(plan, entries);
  if (!g.json()) std::cout << review << "\n" << std::flush;

  auto approval = approvals::sign_approval(hash, a.approver, a.key, *ttl, std::chrono::system_clock::now());
  if (!approval.ok()) return report_error(g, approval.error());
  auto good = approvals::verify_message(*pem, approvals::signing_payload(*approval), approval->signature);
  if (!good.ok() || !*good)
    return report_error(g, Error::refused("the key " + a.key + " is not approver '" + a.approver +
                                          "''s: it does not match the public key " +
                                          settings->approvers.at(a.approver).public_key +
                                          " in the settings; nothing written"));
  Status st = approvals::write_approval(*approval, a.out);
  if (!st.ok()) return report_error(g, st.error());

  const bool self = approvals::approver_is(a.approver, settings->approvers.at(a.approver), maker.arn);
  json targets = json::array();
  for (const auto& e : entries) targets.push_back({{"target", e.target.arn}, {"steps", e.steps.size()}});
  std::ostringstream text;
  text << "Approved plan " << a.plan << " (plan_hash " << hash.substr(0, 16) << "...): " << targets.size()
       << (targets.size() == 1 ? " target, " : " targets, ") << steps << (steps == 1 ? " step" : " steps") << "\n";
  for (const auto& t : targets)
    text << "    " << t["target"].get<std::string>() << "  (" << t["steps"].get<size_t>() << " steps)\n";
  text << "Approval by " << approval->approver << " valid " << approval->issued_at << " .. " << approval->expires_at
       << " written to " << a.out << " (single use: one apply)\n";
  if (self)
    text << "warning: " << a.approver << " made this plan (" << maker.arn
         << "); an approval by the plan's caller is refused at apply time\n";
  json doc = approvals::to_json(*approval);
  doc.erase("signature");  // the file has it; the summary need not repeat it
  doc["file"] = a.out;
  doc["targets"] = targets;
  doc["steps"] = steps;
  doc["self_approval"] = self;
  doc["plan_caller"] = maker.arn;
  doc["review"] = review;
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
