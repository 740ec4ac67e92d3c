// The interface every action family implements. The orchestrator knows nothing service-specific:
// it discovers, plans, and then for each step captures the before-state, journals it (synced),
// applies, verifies, and on rollback restores from the journaled before-state.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actions/target.h"
#include "aws/client.h"

namespace containctl::actions {

using nlohmann::json;

// One API call a step makes, as shown in the plan. Never carries a secret.
struct ApiCall {
  std::string service;    // ec2, iam, s3, autoscaling, elasticloadbalancing, secretsmanager
  std::string operation;  // CreateSnapshots
  json params = json::object();
  bool mutating = true;
};

struct Step {
  std::string id;           // unique within the target: "snapshot", "isolate-network"
  std::string description;  // one line for people
  std::vector<ApiCall> calls;
  json before = json::object();  // the state at plan time, as discovered
  json after = json::object();   // the intended state
  bool reversible = true;        // false: rollback cannot restore it (it says so)
  std::vector<std::string> warnings;
  json args = json::object();    // what apply needs (family-specific); part of the plan hash
  // Steps run when every step named here has finished; a step with none may start at once.
  // Families list real data dependencies so the executor can run independent steps in parallel.
  std::vector<std::string> depends_on;
  // Rollback refuses to undo this step earlier than this many seconds after it was applied,
  // unless forced (IAM session revocation must outlive the longest session).
  int min_hold_seconds = 0;
  // Records state for people (tags) and cuts no access: runs after every other step of its target
  // has verified, never blocks one, and a failure leaves the target contained.
  bool cosmetic = false;
};

struct TargetPlan {
  Target target;
  std::string family;
  json discovered = json::object();  // the read-only discovery result
  std::vector<Step> steps;
  std::vector<std::string> warnings;  // what containment cannot do, collateral effects
  bool already_contained = false;     // the plan says so and has no steps
  std::string note;                   // e.g. why an ASIA key's role is the target
};

// --option KEY=VALUE pairs, e.g. ec2.min_conntrack_timeouts=true.
struct Options {
  std::map<std::string, std::string> values;
  bool flag(const std::string& key, bool fallback = false) const;
  std::string get(const std::string& key, const std::string& fallback = "") const;
};

// Who the tool runs as (sts:GetCallerIdentity), plus the key it signs with.
struct Identity {
  std::string account;
  std::string arn;
  std::string user_id;
  std::string access_key_id;  // the key in use; never deactivated or rotated by the tool
  // The rest of the chain behind these credentials, never contained either: the principal and
  // key of a source profile behind an assumed role, the instance whose metadata served them.
  struct Link {
    std::string arn;            // an IAM user or role, or an EC2 instance
    std::string access_key_id;  // a source profile's long-term key, when known
    std::string what;           // for messages: "source profile 'base'", "instance metadata"
  };
  std::vector<Link> chain;
};

struct RollbackOptions {
  bool reactivate_keys = false;  // turn keys deactivated by containment back on
  bool force = false;            // ignore min_hold_seconds
};

struct Context {
  aws::AwsClient& client;  // acts in the target's account
  const Target& target;
  std::string region;      // where the target lives (EC2: its region; S3: the bucket's; IAM: global region)
  std::string run_id;      // tags and names carry it
  const Identity& caller;
  const Options& options;
  std::vector<std::string> allow_principals;  // S3 allow-list: settings' s3_allow_access + caller
  aws::Clock& clock;
  // Set by the executor: waits `d` with the target's pool slot handed to other targets. Steps
  // call it through wait_without_calls(); unset, that is a plain sleep.
  std::function<void(std::chrono::milliseconds)> idle_wait = {};
  // This target's steps journaled by earlier runs that were not rolled back, as
  // [{run_id, step_id, state, applied}]: the only record of which resources containctl created
  // (a tag or a name can be written by anyone in the account). Set by the planner; may be empty.
  json journal = json::array();
  // Set by the executor: journals (durably) what `step` is about to open for a moment, e.g.
  // interfaces in the all-traffic group, or (null) that it is closed again. Through
  // open_window()/close_window(); unset, those do nothing.
  std::function<Status(const Step&, const json&)> exposure = {};
};

// Before a step opens something for a moment (EC2: interfaces in the all-traffic group) it records
// what; a run cut off by kill -9 then names it in `status`, `apply --resume` and `rollback`. Never
// open before this returned Ok.
Status open_window(Context& ctx, const Step& step, const json& what);
void close_window(Context& ctx, const Step& step);

// A wait during which the step makes no AWS calls at all (the EC2 untrack dwell): the executor
// lets other targets of the same account and region run meanwhile. Only for waits with nothing
// else of the step in flight.
void wait_without_calls(Context& ctx, std::chrono::milliseconds d);

class ActionFamily {
 public:
  virtual ~ActionFamily() = default;
  virtual std::string name() const = 0;
  virtual bool handles(const Target& target) const = 0;

  // Read-only calls that capture the current state of the target. Unknown or terminated
  // targets are errors that name the target.
  virtual Result<json> discover(Context& ctx) = 0;
  // Pure: builds the steps from the discovery. No AWS calls.
  virtual Result<TargetPlan> plan(Context& ctx, const json& discovered) = 0;
  // Read-only: the exact current state this step will change. The executor journals and syncs
  // it before calling apply, and rollback restores it.
  virtual Result<json> capture(Context& ctx, const Step& step) = 0;
  // Performs the step. Idempotent: applying a step that already holds is a no-op. Returns what
  // rollback needs beyond `before` (ids of created resources, ...).
  virtual Result<json> apply(Context& ctx, const Step& step, const json& before) = 0;
  // Reads back that the step's after-state holds.
  virtual Status verify(Context& ctx, const Step& step) = 0;
  // verify, given what apply returned (`applied`, as journaled: on a resumed run apply is
  // skipped and this is the record of the earlier one). The executor calls this one. A step whose
  // after-state carries a value chosen at apply (a revocation cutoff) checks that value here, so
  // a look-alike written by someone else does not pass; the default is verify.
  virtual Status verify_applied(Context& ctx, const Step& step, const json& applied) {
    (void)applied;
    return verify(ctx, step);
  }
  // Restores `before`. Idempotent; `applied` is null when the process died during apply.
  virtual Status rollback(Context& ctx, const Step& step, const json& before, const json& applied,
                          const RollbackOptions& options) = 0;
  // Reads back that `before` holds again (after rollback).
  virtual Status verify_rollback(Context& ctx, const Step& step, const json& before,
                                 const RollbackOptions& options) = 0;
  // Checks one step of a plan being loaded (apply, approve, rollback), before anything runs: its
  // id is one this family makes and its args, before and after have the fields and types the
  // family will read. The error names the field ("args.group_ids: expected an array of
  // strings"); the loader adds the entry and step. Must not throw and makes no AWS calls. The
  // default accepts every step; families override it with their typed parsing.
  virtual Status check_step(const Step& step) const { return Ok{}; }
  // Every IAM action this family can call (discover, apply, verify, rollback), e.g.
  // "ec2:DescribeInstances". The StackSet generator derives least-privilege roles from it.
  virtual std::vector<std::string> iam_actions() const = 0;
  // The AWS resources this step writes that a step of another target may write too, as opaque
  // keys naming the resource, not the target ("s3:bucket-policy:aws:BUCKET", a VPC's isolation
  // group, a role's inline policy). Pure: a function of the target and the step's args, so a plan
  // read from a file gives the same keys. Within a run the executor never runs two steps sharing
  // a key at once, and rolls such steps back in the reverse order they were applied.
  virtual std::vector<std::string> shared_resources(const Target& target, const Step& step) const {
    (void)target;
    (void)step;
    return {};
  }
  // True when rolling `step` back with `options` leaves part of its containment in place by
  // design (access keys stay inactive without --reactivate-keys); rollback then records the step
  // partly_restored, and a later rollback with other options finishes it.
  virtual bool rollback_keeps_contained(const Step& step, const RollbackOptions& options) const {
    (void)step;
    (void)options;
    return false;
  }
};

}  // namespace containctl::actions
