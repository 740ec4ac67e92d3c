// `stackset deploy`: creates or updates the StackSet and its stack instances, and (service-managed)
// the plain stack for the management account, which StackSets skip; waits through the injected
// Clock and reports per-account results.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/client.h"
#include "stacksets/template.h"

namespace containctl::stacksets {

struct DeployRequest {
  Resolved selection;
  std::string template_body;  // the member-role template, as text
  std::string caller_account;  // where the StackSet (and the management stack) live
  std::string partition = "aws";
  std::string region;  // where CloudFormation is called (the StackSet's home region)
  bool wait = false;
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
};

struct OperationResult {
  std::string operation_id;
  std::string action;  // UPDATE_STACK_SET, CREATE_STACK_INSTANCES
  std::string status;  // RUNNING, SUCCEEDED, FAILED, STOPPED (or QUEUED when not waited for)
  std::string reason;
};

struct InstanceResult {
  std::string account;
  std::string region;
  std::string organizational_unit;
  std::string status;           // CURRENT, OUTDATED, INOPERABLE
  std::string detailed_status;  // SUCCEEDED, FAILED, RUNNING, PENDING, ...
  std::string reason;
};

struct StackResult {
  std::string account;
  std::string name;
  std::string stack_id;
  std::string action;  // created, updated, unchanged
  std::string status;  // CREATE_COMPLETE, ...
  std::string reason;
};

struct DeployReport {
  std::string stack_set_name;
  std::string stack_set_id;
  std::string stack_set_action;  // created, updated ("" for the stack model)
  std::vector<OperationResult> operations;
  std::vector<InstanceResult> instances;
  std::optional<StackResult> stack;  // the management-account stack (or the stack model's one stack)
  std::vector<std::string> failures;  // "account 111111111111 (us-east-1): reason"
  bool complete = true;  // false when not waited for and something is still running

  nlohmann::json to_json() const;
  std::string to_text() const;
};

// API errors come back as Errors naming the operation (and the accounts it was for). Per-account
// failures inside a finished operation are listed in DeployReport::failures.
Result<DeployReport> deploy(aws::AwsClient& client, aws::Clock& clock, const DeployRequest& request);

}  // namespace containctl::stacksets
