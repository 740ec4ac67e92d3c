#include "stacksets/deploy.h"

#include <map>
#include <random>
#include <set>
#include <sstream>

#include "aws/arn.h"

namespace containctl::stacksets {
namespace {

constexpr const char* kService = "cloudformation";

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Adds the context ("CreateStackInstances for accounts ...") in front of an AWS error, keeping
// its code, kind and request id.
Error with_context(Error e, const std::string& context) {
  e.message = context + ": " + e.message;
  return e;
}

template <class T>
Result<T> ctx(Result<T> r, const std::string& context) {
  if (!r.ok()) return with_context(r.error(), context);
  return r;
}

void add_list(aws::Params& p, const std::string& name, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) p.emplace_back(name + ".member." + std::to_string(i + 1), values[i]);
}

void add_operation_preferences(aws::Params& p) {
  p.emplace_back("OperationPreferences.RegionConcurrencyType", "PARALLEL");
  p.emplace_back("OperationPreferences.MaxConcurrentPercentage", "100");
  p.emplace_back("OperationPreferences.FailureTolerancePercentage", "10");
}

// Our own OperationId (AWS generates one when it is missing): a retried request with the same id
// is not run twice.
std::string new_operation_id(aws::Clock& clock) {
  std::random_device rd;
  std::ostringstream id;
  id << "containctl-" << aws::format_amz_date(clock.now()) << "-" << std::hex << rd() << rd();
  return id.str();
}

class Deployer {
 public:
  Deployer(aws::AwsClient& client, aws::Clock& clock, const DeployRequest& req) : c_(client), clock_(clock), req_(req) {}

  Result<DeployReport> run() {
    const Resolved& sel = req_.selection;
    report_.stack_set_name = sel.stack_set_name;
    if (sel.model != Model::kStack) CC_TRY(deploy_stack_set());
    if (sel.model == Model::kServiceManaged || sel.model == Model::kStack) {
      CC_ASSIGN(StackResult s, deploy_stack(sel.model == Model::kStack ? sel.stack_set_name : sel.management_stack_name));
      report_.stack = s;
    }
    return report_;
  }

 private:
  Result<aws::XmlResponse> call(const std::string& op, const aws::Params& p) {
    return c_.query(kService, req_.region, op, p);
  }

  bool is_service_managed() const { return req_.selection.model == Model::kServiceManaged; }

  Status deploy_stack_set() {
    const Resolved& sel = req_.selection;
    const std::string& name = sel.stack_set_name;
    auto existing = call("DescribeStackSet", {{"StackSetName", name}});
    if (!existing.ok() && existing.error().code != "StackSetNotFoundException")
      return with_context(existing.error(), "DescribeStackSet " + name);
    std::string wanted_model = is_service_managed() ? "SERVICE_MANAGED" : "SELF_MANAGED";

    aws::Params p{{"StackSetName", name}, {"TemplateBody", req_.template_body}};
    p.emplace_back("Description", "containctl containment roles (" + std::string(to_string(sel.variant)) + ")");
    p.emplace_back("Capabilities.member.1", "CAPABILITY_NAMED_IAM");
    p.emplace_back("PermissionModel", wanted_model);
    if (is_service_managed()) {
      p.emplace_back("AutoDeployment.Enabled", "true");
      p.emplace_back("AutoDeployment.RetainStacksOnAccountRemoval", "false");
    } else {
      if (!req_.caller_account.empty()) {
        CC_ASSIGN(aws::Arn admin, aws::iam_arn(req_.partition, req_.caller_account, aws::ArnKind::kIamRole,
                                               "AWSCloudFormationStackSetAdministrationRole"));
        p.emplace_back("AdministrationRoleARN", admin.str());
      }
      p.emplace_back("ExecutionRoleName", "AWSCloudFormationStackSetExecutionRole");
    }

    if (existing.ok()) {
      std::string model = aws::xml_text(existing->root(), "PermissionModel");
      if (!model.empty() && model != wanted_model)
        return Error::invalid("StackSet " + name + " exists with permission model " + model + ", but --model " +
                              to_string(sel.model) + " needs " + wanted_model +
                              "; delete it or choose another --stack-set-name");
      report_.stack_set_id = aws::xml_text(existing->root(), "StackSetId");
      report_.stack_set_action = "updated";
      add_operation_preferences(p);
      p.emplace_back("OperationId", new_operation_id(clock_));
      CC_ASSIGN(aws::XmlResponse r, ctx(call("UpdateStackSet", p), "UpdateStackSet " + name));
      CC_TRY(track_operation(aws::xml_text(r.root(), "OperationId"), "UPDATE_STACK_SET", /*last=*/false));
    } else {
      CC_ASSIGN(aws::XmlResponse r, ctx(call("CreateStackSet", p), "CreateStackSet " + name));
      report_.stack_set_id = aws::xml_text(r.root(), "StackSetId");
      report_.stack_set_action = "created";
    }

    CC_ASSIGN(std::vector<InstanceResult> before, list_instances());
    aws::Params ci{{"StackSetName", name}};
    std::string targets;
    if (is_service_managed()) {
      // A repeated OU is harmless to AWS, but skipping OUs that already have instances keeps a
      // re-deploy to the one UpdateStackSet operation.
      std::set<std::string> have;
      for (const auto& i : before)
        if (!i.organizational_unit.empty()) have.insert(i.organizational_unit);
      std::vector<std::string> missing;
      for (const auto& ou : sel.ous)
        if (!have.count(ou)) missing.push_back(ou);
      if (missing.empty()) return finish();
      add_list(ci, "DeploymentTargets.OrganizationalUnitIds", missing);
      targets = "OUs " + join(missing);
    } else {
      std::set<std::string> have;
      for (const auto& i : before)
        if (i.region == sel.region) have.insert(i.account);
      std::vector<std::string> missing;
      for (const auto& a : sel.accounts)
        if (!have.count(a)) missing.push_back(a);
      if (missing.empty()) return finish();
      add_list(ci, "Accounts", missing);
      targets = "accounts " + join(missing);
    }
    add_list(ci, "Regions", {sel.region});
    add_operation_preferences(ci);
    ci.emplace_back("OperationId", new_operation_id(clock_));
    CC_ASSIGN(aws::XmlResponse r, ctx(call("CreateStackInstances", ci),
                                          "CreateStackInstances for " + targets + " in " + sel.region));
    CC_TRY(track_operation(aws::xml_text(r.root(), "OperationId"), "CREATE_STACK_INSTANCES", /*last=*/true));
    return finish();
  }

  // Records an operation; waits for it when --wait is given, or when another operation must follow
  // (StackSets run one operation at a time: OperationInProgressException otherwise).
  Status track_operation(const std::string& id, const std::string& action, bool last) {
    OperationResult op{id, action, "RUNNING", ""};
    if (req_.wait || !last) {
      CC_ASSIGN(op, wait_operation(id, action));
    } else {
      CC_ASSIGN(op, describe_operation(id, action));
      if (running(op.status)) report_.complete = false;
    }
    report_.operations.push_back(op);
    return Ok{};
  }

  static bool running(const std::string& status) {
    return status == "RUNNING" || status == "QUEUED" || status == "STOPPING";
  }

  Result<OperationResult> describe_operation(const std::string& id, const std::string& action) {
    auto r = call("DescribeStackSetOperation", {{"StackSetName", req_.selection.stack_set_name}, {"OperationId", id}});
    if (!r.ok()) return with_context(r.error(), "DescribeStackSetOperation " + id);
    OperationResult op{id, action, aws::xml_text(r->root(), "Status"), aws::xml_text(r->root(), "StatusReason")};
    return op;
  }

  Result<OperationResult> wait_operation(const std::string& id, const std::string& action) {
    auto deadline = clock_.now() + req_.timeout;
    while (true) {
      CC_ASSIGN(OperationResult op, describe_operation(id, action));
      if (!running(op.status)) return op;
      if (clock_.now() >= deadline)
        return Error{ErrorKind::kTimeout, "OperationTimeout",
                     "StackSet operation " + id + " (" + action + ") still " + op.status + " after waiting"};
      clock_.sleep_for(req_.poll_interval);
    }
  }

  Result<std::vector<InstanceResult>> list_instances() {
    std::vector<InstanceResult> out;
    std::string token;
    do {
      aws::Params p{{"StackSetName", req_.selection.stack_set_name}};
      if (!token.empty()) p.emplace_back("NextToken", token);
      auto r = call("ListStackInstances", p);
      if (!r.ok()) return with_context(r.error(), "ListStackInstances " + req_.selection.stack_set_name);
      for (pugi::xml_node m : aws::xml_list(r->root(), "Summaries")) {
        InstanceResult i;
        i.account = m.child_value("Account");
        i.region = m.child_value("Region");
        i.organizational_unit = m.child_value("OrganizationalUnitId");
        i.status = m.child_value("Status");
        i.reason = m.child_value("StatusReason");
        i.detailed_status = aws::xml_text(m.child("StackInstanceStatus"), "DetailedStatus");
        out.push_back(i);
      }
      token = aws::xml_text(r->root(), "NextToken");
    } while (!token.empty());
    return out;
  }

  // Per-account outcome: the operations' results plus the instances' own status.
  Status finish() {
    std::map<std::string, std::string> failed;  // "account (region)" -> reason
    for (const auto& op : report_.operations) {
      if (running(op.status)) continue;
      std::string token;
      do {
        aws::Params p{{"StackSetName", req_.selection.stack_set_name}, {"OperationId", op.operation_id}};
        if (!token.empty()) p.emplace_back("NextToken", token);
        auto r = call("ListStackSetOperationResults", p);
        if (!r.ok()) return with_context(r.error(), "ListStackSetOperationResults " + op.operation_id);
        for (pugi::xml_node m : aws::xml_list(r->root(), "Summaries")) {
          std::string status = m.child_value("Status");
          if (status == "FAILED" || status == "CANCELLED") {
            std::string reason = m.child_value("StatusReason");
            failed[std::string(m.child_value("Account")) + " (" + m.child_value("Region") + ")"] =
                status + (reason.empty() ? "" : ": " + reason);
          }
        }
        token = aws::xml_text(r->root(), "NextToken");
      } while (!token.empty());
      if (op.status == "FAILED" || op.status == "STOPPED")
        failed["operation " + op.operation_id] = op.status + (op.reason.empty() ? "" : ": " + op.reason);
    }
    CC_ASSIGN(report_.instances, list_instances());
    for (const auto& i : report_.instances) {
      if (i.status == "INOPERABLE" || i.detailed_status == "FAILED" || i.detailed_status == "CANCELLED") {
        auto& reason = failed[i.account + " (" + i.region + ")"];
        if (reason.empty()) reason = i.detailed_status + (i.reason.empty() ? "" : ": " + i.reason);
      }
    }
    for (const auto& [who, reason] : failed)
      report_.failures.push_back((who.rfind("operation ", 0) == 0 ? "" : "account ") + who + ": " + reason);
    return Ok{};
  }

  Result<StackResult> describe_stack(const std::string& name) {
    auto r = call("DescribeStacks", {{"StackName", name}});
    if (!r.ok()) return r.error();
    pugi::xml_node m = aws::xml_list(r->root(), "Stacks").empty() ? pugi::xml_node() : aws::xml_list(r->root(), "Stacks")[0];
    StackResult s;
    s.account = req_.caller_account;
    s.name = name;
    s.stack_id = m.child_value("StackId");
    s.status = m.child_value("StackStatus");
    s.reason = m.child_value("StackStatusReason");
    return s;
  }

  // The plain stack (management account for service-managed; the only stack for --model stack).
  Result<StackResult> deploy_stack(const std::string& name) {
    auto existing = describe_stack(name);
    bool exists = existing.ok() && !existing->stack_id.empty() && existing->status != "DELETE_COMPLETE";
    if (!existing.ok() && !(existing.error().code == "ValidationError" &&
                            existing.error().message.find("does not exist") != std::string::npos))
      return with_context(existing.error(), "DescribeStacks " + name);
    aws::Params p{{"StackName", name}, {"TemplateBody", req_.template_body}};
    p.emplace_back("Capabilities.member.1", "CAPABILITY_NAMED_IAM");
    std::string action;
    if (exists) {
      auto r = call("UpdateStack", p);
      if (!r.ok() && r.error().message.find("No updates are to be performed") != std::string::npos) {
        action = "unchanged";
      } else if (!r.ok()) {
        return with_context(r.error(), "UpdateStack " + name + " in account " + req_.caller_account);
      } else {
        action = "updated";
      }
    } else {
      auto r = call("CreateStack", p);
      if (!r.ok()) return with_context(r.error(), "CreateStack " + name + " in account " + req_.caller_account);
      action = "created";
    }
    auto deadline = clock_.now() + req_.timeout;
    while (true) {
      CC_ASSIGN(StackResult s, ctx(describe_stack(name), "DescribeStacks " + name));
      s.action = action;
      bool in_progress = s.status.size() > 12 && s.status.ends_with("_IN_PROGRESS");
      if (!in_progress || !req_.wait) {
        if (in_progress) report_.complete = false;
        bool ok = in_progress || s.status == "CREATE_COMPLETE" || s.status == "UPDATE_COMPLETE";
        if (!ok)
          report_.failures.push_back("account " + req_.caller_account + " (stack " + name + "): " + s.status +
                                     (s.reason.empty() ? "" : ": " + s.reason));
        return s;
      }
      if (clock_.now() >= deadline)
        return Error{ErrorKind::kTimeout, "OperationTimeout", "stack " + name + " still " + s.status + " after waiting"};
      clock_.sleep_for(req_.poll_interval);
    }
  }

  aws::AwsClient& c_;
  aws::Clock& clock_;
  const DeployRequest& req_;
  DeployReport report_;
};

}  // namespace

Result<DeployReport> deploy(aws::AwsClient& client, aws::Clock& clock, const DeployRequest& request) {
  return Deployer(client, clock, request).run();
}

nlohmann::json DeployReport::to_json() const {
  nlohmann::json j;
  j["stack_set"] = {{"name", stack_set_name}, {"id", stack_set_id}, {"action", stack_set_action}};
  j["operations"] = nlohmann::json::array();
  for (const auto& o : operations)
    j["operations"].push_back({{"operation_id", o.operation_id}, {"action", o.action}, {"status", o.status},
                               {"reason", o.reason}});
  j["instances"] = nlohmann::json::array();
  for (const auto& i : instances)
    j["instances"].push_back({{"account", i.account}, {"region", i.region}, {"organizational_unit", i.organizational_unit},
                              {"status", i.status}, {"detailed_status", i.detailed_status}, {"reason", i.reason}});
  if (stack)
    j["stack"] = {{"account", stack->account}, {"name", stack->name}, {"stack_id", stack->stack_id},
                  {"action", stack->action}, {"status", stack->status}, {"reason", stack->reason}};
  j["failures"] = failures;
  j["complete"] = complete;
  return j;
}

std::string DeployReport::to_text() const {
  std::ostringstream out;
  if (!stack_set_action.empty()) {
    out << "StackSet " << stack_set_name << " " << stack_set_action << " (" << stack_set_id << ")\n";
    for (const auto& o : operations)
      out << "  operation " << o.operation_id << " " << o.action << ": " << o.status
          << (o.reason.empty() ? "" : " (" + o.reason + ")") << "\n";
    for (const auto& i : instances)
      out << "  account " << i.account << " " << i.region << ": " << i.status
          << (i.detailed_status.empty() ? "" : "/" + i.detailed_status) << (i.reason.empty() ? "" : " (" + i.reason + ")")
          << "\n";
  }
  if (stack)
    out << "Stack " << stack->name << " in account " << stack->account << " " << stack->action << ": "
        << stack->status << (stack->reason.empty() ? "" : " (" + stack->reason + ")") << "\n";
  if (!complete) out << "Still in progress; re-run with --wait to wait for the result.\n";
  for (const auto& f : failures) out << "FAILED " << f << "\n";
  return out.str();
}

}  // namespace containctl::stacksets
