#include "orchestrator/runtime.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "orchestrator/journal.h"
#include "orchestrator/settings_source.h"
#include "orchestrator/state_store.h"

namespace containctl::orch {

using nlohmann::json;

Result<std::unique_ptr<Runtime>> Runtime::open(const GlobalOptions& g, bool need_aws, const RuntimeOptions& options) {
  auto rt = std::make_unique<Runtime>();
  rt->g_ = g;
  rt->state_dir_ = resolve_state_dir(g);
  // Settings from S3 or SSM open the session first (and it is the command's session).
  auto settings = load_settings_for(g, rt->session_);
  if (settings.ok()) {
    rt->settings_ = std::move(settings).value();
  } else if (options.recovery && settings.error().kind != ErrorKind::kUsage) {
    rt->settings_.path = resolve_settings_path(g);
    CC_TRY(recover_without_settings(rt->settings_.path, settings.error(),
                                    "the journal and audit log in " + rt->state_dir_ +
                                        " (local state) and the member role each run recorded"));
    rt->settings_problem_ = settings.error();
  } else {
    return settings.error();
  }
  CC_TRY(ensure_state_dir(rt->state_dir_));
  CC_ASSIGN(rt->audit_, AuditLog::open(rt->state_dir_ + "/audit.jsonl", *rt->clock_,
                                       AuditOpenOptions{options.repair_torn_audit}));
  // The team store's audit log needs the session whatever the command.
  if (rt->settings_.state.backend == "aws" || rt->session_) need_aws = true;
  if (need_aws) {
    if (!rt->session_) { CC_ASSIGN(rt->session_, Session::open(g)); }
    for (const auto& [key, bucket] : rt->settings_.rate_limits) {
      size_t slash = key.find('/');
      if (slash == std::string::npos)
        rt->session_->limiter().configure(key, bucket);
      else
        rt->session_->limiter().configure_operation(key.substr(0, slash), key.substr(slash + 1), bucket);
    }
    Runtime* self = rt.get();
    rt->session_->set_observer([self](const aws::CallRecord& c) {
      nlohmann::json f = {{"service", c.service}, {"operation", c.operation}, {"region", c.region},
                          {"http_status", c.http_status}, {"duration_ms", c.duration.count()},
                          {"attempts", c.attempts}};
      if (!c.account.empty()) f["account"] = c.account;
      if (!c.context.empty()) f["target"] = c.context;
      if (!c.request_id.empty()) f["request_id"] = c.request_id;
      if (!c.error_code.empty()) f["error_code"] = c.error_code;
      self->audit("aws_call", f);
    });
  }
  if (!options.team_store_being_made) rt->start_team_audit();
  return rt;
}

void Runtime::start_team_audit() {
  if (settings_.state.backend != "aws" || team_audit_) return;
  aws::ClientConfig config = team_store_client_config(session_->base_config());
  const StateSettings& st = settings_.state;
  team_audit_ = std::make_unique<TeamAuditLog>(std::make_shared<aws::AwsClient>(config),
                                               st.region.empty() ? session_->region() : st.region, st.table, st.bucket,
                                               *clock_);
}

Runtime::~Runtime() {
  if (!team_audit_) return;
  auto cp = team_audit_->checkpoint();
  if (!cp.ok()) spdlog::error("audit checkpoint in the team store: {}", cp.error().describe());
}

void Runtime::set_run_id(const std::string& run_id) {
  std::lock_guard lock(mu_);
  run_id_ = run_id;
}

std::string Runtime::run_id() {
  std::lock_guard lock(mu_);
  return run_id_;
}

void Runtime::audit(const std::string& event, nlohmann::json fields) {
  {
    std::lock_guard lock(mu_);
    if (!run_id_.empty() && !fields.contains("run_id")) fields["run_id"] = run_id_;
  }
  if (Status st = audit_->append(event, fields); !st.ok()) {
    spdlog::error("audit log {}: could not record '{}': {}", audit_->path(), event, st.error().describe());
    std::lock_guard lock(mu_);
    if (audit_failure_.empty())
      audit_failure_ = "audit log " + audit_->path() + ": could not record '" + event + "': " + st.error().message;
  }
  if (team_audit_) {
    // Fails closed like the file: the run stops before its next mutating call.
    if (Status st = team_audit_->append(event, fields); !st.ok()) {
      spdlog::error("audit log in the team store: could not record '{}': {}", event, st.error().describe());
      std::lock_guard lock(mu_);
      if (audit_failure_.empty())
        audit_failure_ = "audit log in the team store (" + team_audit_->location() + "): could not record '" + event +
                         "': " + st.error().message;
    }
  }
}

Status Runtime::audit_health() {
  std::lock_guard lock(mu_);
  if (audit_failure_.empty()) return Ok{};
  return Error{ErrorKind::kIo, "AuditLogFailed",
               audit_failure_ + "; containctl records every change before making it and stops here (the audit "
                                "log fails closed)"};
}

Result<std::unique_ptr<Journal>> Runtime::open_journal() {
  if (settings_problem_) {
    std::error_code ec;
    if (!std::filesystem::exists(state_dir_ + "/journal.db", ec))
      return Error::invalid("settings " + settings_.path + " cannot be used (" + settings_problem_->message +
                                ") and " + state_dir_ + " has no local journal: containctl cannot tell where the runs "
                                "are recorded. If the settings name the team store (\"state\": {\"backend\": "
                                "\"aws\"}), fix them or pass --settings FILE naming a good copy; otherwise pass "
                                "--state-dir DIR naming the state directory of the runs",
                            "SettingsUnusable");
  }
  if (settings_.state.backend == "sqlite") return orch::open_journal(settings_.state, state_dir_, *clock_, nullptr);
  if (!session_) { CC_ASSIGN(session_, Session::open(g_)); }
  StateSettings state = settings_.state;
  if (state.region.empty()) state.region = session_->region();
  return orch::open_journal(state, state_dir_, *clock_, &session_->base_config());
}

json Runtime::recovery_record() const {
  return {{"member_role_name", settings_.member_role_name}, {"s3_allow_access", settings_.s3_allow_access},
          {"settings", settings_.path}, {"settings_sha256", settings_.sha256}, {"state_backend", settings_.state.backend}};
}

void Runtime::adopt_run_settings(const RunRecord& run) {
  if (!settings_problem_) return;
  const json& rec = run.recovery;
  if (rec.is_object() && rec.contains("member_role_name") && rec["member_role_name"].is_string()) {
    settings_.member_role_name = rec["member_role_name"].get<std::string>();
    std::cerr << "containctl: warning: run " << run.run_id << ": member role '" << settings_.member_role_name
              << "' as the run recorded it" << std::endl;
  } else {
    std::cerr << "containctl: warning: run " << run.run_id << " recorded no member role (an older journal): using '"
              << settings_.member_role_name << "' for other accounts" << std::endl;
  }
  if (rec.is_object() && rec.contains("s3_allow_access") && rec["s3_allow_access"].is_array())
    for (const auto& a : rec["s3_allow_access"])
      if (a.is_string()) settings_.s3_allow_access.push_back(a.get<std::string>());
}

Status recover_without_settings(const std::string& path, const Error& problem, const std::string& fallback) {
  // A local file that names the aws backend: the runs are in the team store, whose table and bucket
  // only that file says. Guessing the local state instead would show the wrong runs.
  std::error_code ec;
  bool team_store = false;
  if (path.rfind("s3://", 0) != 0 && path.rfind("ssm:", 0) != 0 && std::filesystem::is_regular_file(path, ec) &&
      std::filesystem::file_size(path, ec) < (1 << 20)) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    static const std::regex kAws(R"re("backend"\s*:\s*"aws")re");
    team_store = std::regex_search(buf.str(), kAws);
  }
  if (team_store)
    return Error::invalid(problem.message + "\nThat file names the team store (\"state\": {\"backend\": \"aws\"}); its "
                              "table and bucket are only in it, so containctl cannot find the runs without it. Fix " +
                              path + " or pass --settings FILE naming a good copy, then run the command again; nothing "
                              "was changed",
                          "SettingsUnusable");
  std::cerr << "containctl: warning: " << problem.message << "\ncontainctl: warning: going on without the settings: "
            << fallback << "; fix them before planning or applying" << std::endl;
  return Ok{};
}

Result<aws::AwsClient*> Runtime::client_for(const std::string& account, const std::string& partition) {
  return session_->client_for_account(account, partition, settings_.member_role_name);
}

}  // namespace containctl::orch
