// Helpers shared by the ec2-isolate family's files: XML access, parallel calls, tag names, and
// the per-step operations table. Not a public API of the actions library.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "actions/action.h"

namespace containctl::actions::ec2 {

// Tags the family writes. The prefix makes every artefact traceable to the tool.
inline constexpr const char* kTagPurpose = "containctl:purpose";        // isolation | all-traffic | evidence | hard-cut
inline constexpr const char* kTagRunId = "containctl:run-id";
inline constexpr const char* kTagTarget = "containctl:target";          // the instance ARN
inline constexpr const char* kTagInstance = "containctl:instance";      // the instance id (temporary group)
inline constexpr const char* kTagContainment = "containctl:containment";  // on the instance: "isolated"
inline constexpr const char* kContainedValue = "isolated";

// Text of the element at `path` ("a/b/c") below `node`; "" when absent.
std::string text(pugi::xml_node node, const char* path);
// The <item>/<member> children of the element at `path` (or of `node` itself when path is "").
std::vector<pugi::xml_node> items(pugi::xml_node node, const char* path);

// Runs the tasks concurrently (the AwsClient is thread-safe) and waits for all of them; returns
// the first error in task order. The first task runs on the calling thread; the waits go through
// `clock` so that the family also runs under a virtual clock (aws/concurrency.h).
Status parallel(aws::Clock& clock, std::vector<std::function<Status()>> tasks);

// A logical clock of sequential AWS round trips on the calling thread. parallel() starts each task
// at the caller's value and leaves the caller at the maximum its tasks reached, so an instrumented
// transport that adds one per call measures the critical path exactly, independent of scheduling.
int& round_trip_depth();

// Query-protocol call in the target's region.
Result<aws::XmlResponse> call(Context& ctx, const std::string& service, const std::string& action,
                              const aws::Params& params);
bool has_code(const Error& e, std::initializer_list<const char*> codes);

// "Filter.N.Name"/"Filter.N.Value.M" pairs appended to params.
void add_filter(aws::Params& params, int n, const std::string& name, const std::vector<std::string>& values);
// "TagSpecification.1.*" for CreateX calls that tag on create.
void add_tag_spec(aws::Params& params, const std::string& resource_type,
                  const std::vector<std::pair<std::string, std::string>>& tags);
// ApiCall params for the plan, from query params.
json params_json(const aws::Params& params);

// The instance's ARN in the target's partition and account and the context's region.
Result<std::string> instance_arn(const Context& ctx, const std::string& instance_id);

// A step's arguments, typed: parsed once from Step.args by parse_step_args (which checks every
// field first, ec2_isolate_args.cc), so no operation reads a json field that may be missing or
// mistyped. Each kind fills the fields its schema has; the others stay empty.
struct Volume {
  std::string device, volume_id;
};
struct Registration {  // a direct target-group registration of the instance
  std::string target_group_arn, id, port, availability_zone;
  json to_json() const;  // the discovered form, as captured and journaled
};
struct Interface {
  std::string id, vpc_id;
};
struct Address {  // an Elastic IP association
  std::string allocation_id, association_id, public_ip, network_interface_id, private_ip;
};
struct Timeouts {  // connection-tracking timeouts, seconds
  int tcp_established = 0, udp_stream = 0, udp = 0;
  json to_json() const;  // as DescribeNetworkInterfaces reads them back
};
struct StepArgs {
  std::string kind;
  std::string instance_id;                  // all kinds but conntrack-timeouts, disassociate-eips, revoke-role-sessions
  std::string instance_arn;                 // snapshot, revoke-role-sessions
  std::vector<Volume> volumes;              // snapshot
  std::string asg_name;                     // asg-standby
  std::vector<Registration> registrations;  // deregister-targets
  std::vector<Interface> interfaces;        // isolate-network
  int dwell_seconds = 0;                    // isolate-network
  std::vector<std::string> interface_ids;   // conntrack-timeouts
  Timeouts timeouts;                        // conntrack-timeouts
  std::map<std::string, std::string> tags;  // tag-instance
  std::vector<Address> addresses;           // disassociate-eips
  std::vector<std::string> roles;           // revoke-role-sessions
  std::string policy_name;                  // revoke-role-sessions
  std::string vpc_id;                       // nacl-hard-cut
  std::vector<std::string> subnets;         // nacl-hard-cut
};

// Checks the step (check_step_args) and parses its arguments; the error names the step and field.
Result<StepArgs> parse_step_args(const Step& step);

// What each step kind does, on the step and its parsed arguments. StepArgs.kind selects the entry.
struct StepOps {
  std::function<Result<json>(Context&, const Step&, const StepArgs&)> capture;
  std::function<Result<json>(Context&, const Step&, const StepArgs&, const json&)> apply;
  std::function<Status(Context&, const Step&, const StepArgs&)> verify;
  std::function<Status(Context&, const Step&, const StepArgs&, const json& before, const json& applied,
                       const RollbackOptions&)>
      rollback;
  std::function<Status(Context&, const Step&, const StepArgs&, const json& before)> verify_rollback;
  // Optional: verify with the apply record (ActionFamily::verify_applied); unset, verify.
  std::function<Status(Context&, const Step&, const StepArgs&, const json& applied)> verify_applied = {};
};

// A rollback that does not depend on the options.
template <class F>
auto without_options(F f) {
  return [f](Context& ctx, const Step& step, const StepArgs& a, const json& before, const json& applied,
             const RollbackOptions&) { return f(ctx, step, a, before, applied); };
}

// For calls that are not idempotent (CreateSecurityGroup, CreateSnapshots): the client retries only
// what AWS certainly did not perform; after an ambiguous failure the caller reads back before it
// tries again.
Result<aws::XmlResponse> call_not_idempotent(Context& ctx, const std::string& service, const std::string& action,
                                             const aws::Params& params);
// The request may have reached AWS and been processed: timeout, connection error, 5xx, throttling.
bool ambiguous(const Error& e);

// 16 random hex digits: names nobody can take before containctl creates them, so a group found by
// such a name (kept in the journaled before-state) is one this run created.
std::string unguessable_suffix();

// Ids this process created for a run (key: run id, instance, vpc): how verify knows the group
// on an interface is the run's own without trusting a tag or a name.
void remember_created(const std::string& key, const std::string& id);
std::string created_in_process(const std::string& key);

// The step's arguments have the shape its kind needs (ec2_isolate_args.cc); the error names the
// step and the field. Run before any operation, so none of them meets a missing or mistyped field.
Status check_step_args(const Step& step);

// Discovery (ec2_isolate_discover.cc).
Result<json> discover_instance(Context& ctx);

// Step builders and operations, one per file.
StepOps snapshot_ops();            // ec2_isolate_instance.cc
StepOps attributes_ops();
StepOps tags_ops();
StepOps eips_ops();
StepOps asg_standby_ops();         // ec2_isolate_asg.cc
StepOps target_groups_ops();
StepOps isolate_network_ops();     // ec2_isolate_network.cc
StepOps conntrack_ops();           // ec2_isolate_options.cc
StepOps role_sessions_ops();
StepOps nacl_ops();
// CreateNetworkAcl's ClientToken for a nacl-hard-cut step: derived from the run, the step and the
// instance (aws::ec2_client_token), so every attempt and every resumed process sends the same one.
std::string nacl_token(const Context& ctx, const Step& step, const StepArgs& a);

// False (with the reason) for interfaces whose groups the account cannot change: requester-managed
// ones and service-managed types (Lambda, NAT gateway, endpoints...). ec2_isolate_discover.cc.
bool interface_modifiable(const json& eni, std::string* reason);

// Verification failure naming what does not hold.
Error not_holding(const std::string& what);

}  // namespace containctl::actions::ec2
