// Everything a command needs, opened once: the state directory, the settings in force, the AWS
// session, and the audit log, with every AWS call of the session recorded in the audit log.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "orchestrator/audit_log.h"
#include "orchestrator/cli_common.h"
#include "orchestrator/journal.h"
#include "orchestrator/session.h"
#include "orchestrator/settings.h"
#include "orchestrator/team_audit.h"

namespace containctl::orch {

struct RuntimeOptions {
  // Recovery commands (rollback): a torn last audit record is quarantined (and that recorded)
  // instead of stopping the command.
  bool repair_torn_audit = false;
  // `state init`: the team store does not exist yet, so its audit log starts (start_team_audit)
  // once the store is made; the calls that make it are in the local audit log.
  bool team_store_being_made = false;
  // Recovery commands (status, rollback): settings that cannot be read or parsed do not stop the
  // command. It goes on with the local state (sqlite journal, audit log) and what each run recorded
  // (adopt_run_settings), warning on stderr what it fell back to. Settings that name the team store
  // (whose table and bucket are only in them) still stop it, with what to do.
  bool recovery = false;
};

// The warning (or, when the broken settings name the team store, the error) of a recovery command
// whose settings at `settings_path` cannot be used: Ok after warning on stderr that `fallback` is
// used instead.
Status recover_without_settings(const std::string& settings_path, const Error& problem, const std::string& fallback);

class Runtime {
 public:
  // need_aws: open the session (credentials, region). Settings errors are reported here.
  static Result<std::unique_ptr<Runtime>> open(const GlobalOptions& g, bool need_aws, const RuntimeOptions& options = {});
  // Writes the team audit log's checkpoint (Object Lock buckets) when anything was appended.
  ~Runtime();

  const GlobalOptions& globals() const { return g_; }
  const std::string& state_dir() const { return state_dir_; }
  const Settings& settings() const { return settings_; }
  // Why the settings could not be used (recovery only); null when they were read.
  const Error* settings_problem() const { return settings_problem_ ? &*settings_problem_ : nullptr; }
  // What a run needs recorded for its recovery (RunRecord::recovery), from the settings in force.
  nlohmann::json recovery_record() const;
  // Recovery with unusable settings: the member role (and S3 allow-list) the run recorded stand in
  // for the settings' (a warning says which); nothing happens when the settings were read.
  void adopt_run_settings(const RunRecord& run);
  Session& session() { return *session_; }
  aws::Clock& clock() { return *clock_; }

  // The team store's audit log (aws backend), or null.
  TeamAuditLog* team_audit() { return team_audit_.get(); }
  // Starts the team store's audit log (aws backend); open() does unless team_store_being_made.
  void start_team_audit();
  // Appends to the audit log (and to the team store's, aws backend); the run id of the current run
  // (if any) is added. A failure to write the local log is reported on stderr and remembered:
  // audit_health() then fails, and apply stops before its next mutating call (the log fails closed).
  // A failure to write the team store's log is logged as an error (its verify names the gap).
  void audit(const std::string& event, nlohmann::json fields);
  // Ok while every append succeeded; otherwise the first failure.
  Status audit_health();
  void set_run_id(const std::string& run_id);
  std::string run_id();  // the run this command created or resumed ("" when none)

  // The journal of the state backend the settings name (sqlite in the state directory, or the
  // team store, which opens the AWS session if the command had not).
  Result<std::unique_ptr<Journal>> open_journal();

  // A client for an entry's account (AssumeRole into member_role_name for other accounts).
  Result<aws::AwsClient*> client_for(const std::string& account, const std::string& partition);

 private:
  GlobalOptions g_;
  std::string state_dir_;
  Settings settings_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<TeamAuditLog> team_audit_;  // the team store's log (aws backend)
  aws::Clock* clock_ = &aws::SystemClock::instance();
  std::mutex mu_;
  std::string run_id_;
  std::string audit_failure_;  // the first failed append
  std::optional<Error> settings_problem_;
};

}  // namespace containctl::orch
