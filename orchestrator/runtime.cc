#include "orchestrator/runtime.h"

#include <spdlog/spdlog.h>

#include "orchestrator/journal.h"
#include "orchestrator/settings_source.h"
#include "orchestrator/state_store.h"

namespace containctl::orch {

Result<std::unique_ptr<Runtime>> Runtime::open(const GlobalOptions& g, bool need_aws, const RuntimeOptions& options) {
  auto rt = std::make_unique<Runtime>();
  rt->g_ = g;
  rt->state_dir_ = resolve_state_dir(g);
  // Settings from S3 or SSM open the session first (and it is the command's session).
  CC_ASSIGN(rt->settings_, load_settings_for(g, rt->session_));
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
  if (settings_.state.backend == "sqlite") return orch::open_journal(settings_.state, state_dir_, *clock_, nullptr);
  if (!session_) { CC_ASSIGN(session_, Session::open(g_)); }
  StateSettings state = settings_.state;
  if (state.region.empty()) state.region = session_->region();
  return orch::open_journal(state, state_dir_, *clock_, &session_->base_config());
}

Result<aws::AwsClient*> Runtime::client_for(const std::string& account, const std::string& partition) {
  return session_->client_for_account(account, partition, settings_.member_role_name);
}

}  // namespace containctl::orch
