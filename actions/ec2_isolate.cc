// The family object: planning (pure, from the discovery) and dispatch of each step to its
// operations by the kind of its parsed arguments. Stateless, so the executor may run steps on several threads.
#include "actions/ec2_isolate.h"

#include "actions/ec2_isolate_util.h"
#include "actions/iam_common.h"

namespace containctl::actions {
namespace {

using namespace ec2;  // NOLINT: the family's own helpers

const std::map<std::string, StepOps>& ops_table() {
  static const std::map<std::string, StepOps> table = {
      {"snapshot", snapshot_ops()},          {"instance-attributes", attributes_ops()},
      {"asg-standby", asg_standby_ops()},    {"deregister-targets", target_groups_ops()},
      {"isolate-network", isolate_network_ops()}, {"conntrack-timeouts", conntrack_ops()},
      {"tag-instance", tags_ops()},          {"disassociate-eips", eips_ops()},
      {"revoke-role-sessions", role_sessions_ops()}, {"nacl-hard-cut", nacl_ops()},
  };
  return table;
}

// A step's operations and its parsed arguments: every operation reads the struct, never the json.
struct Dispatch {
  const StepOps* ops;
  StepArgs args;
};

Result<Dispatch> ops_for(const Step& step) {
  CC_ASSIGN(StepArgs args, parse_step_args(step));
  auto it = ops_table().find(args.kind);
  if (it == ops_table().end())
    return Error::invalid("step '" + step.id + "' has no ec2-isolate operations", "InvalidPlan");
  return Dispatch{&it->second, std::move(args)};
}

const char* kKnownOptions[] = {"ec2.min_conntrack_timeouts", "ec2.disassociate_eips",
                               "ec2.revoke_instance_role_sessions", "ec2.nacl_hard_cut", "ec2.untrack_dwell_seconds"};

Status check_options(const Options& options) {
  for (const auto& [key, value] : options.values) {
    if (key.rfind("ec2.", 0) != 0) continue;
    bool known = false;
    for (const char* k : kKnownOptions) known |= key == k;
    if (!known) return Error::invalid("unknown option '" + key + "' for ec2-isolate");
  }
  const std::string dwell = options.get("ec2.untrack_dwell_seconds", "2");
  if (dwell.empty() || dwell.size() > 3 || dwell.find_first_not_of("0123456789") != std::string::npos)
    return Error::invalid("option ec2.untrack_dwell_seconds must be 0-999 seconds, got '" + dwell + "'");
  return Ok{};
}

// Every interface is only in an isolation group that an earlier run of this target created (by
// the journal, never by a tag or a name: anyone can dress a group up as containctl's) and that has
// no rule in either direction. A group the adversary put there keeps their tracked connections
// alive, so it is not containment: the plan isolates again and rollback puts it back.
bool already_isolated(const Context& ctx, const json& d, const json& interfaces) {
  std::set<std::string> ours;
  for (const auto& rec : ctx.journal) {
    if (!rec.is_object() || rec.value("step_id", "") != "isolate-network") continue;
    const json applied = rec.value("applied", json());
    if (!applied.is_object()) continue;
    const json groups = applied.value("isolation_groups", json::object());
    for (const auto& [vpc, id] : groups.items())
      if (id.is_string()) ours.insert(id.get<std::string>());
  }
  const json groups = d.value("security_groups", json::object());
  for (const auto& e : interfaces) {
    const json g = e.value("groups", json::array());
    if (!g.is_array() || g.size() != 1 || !g[0].is_string() || !ours.count(g[0].get<std::string>())) return false;
    const json info = groups.value(g[0].get<std::string>(), json());
    if (!info.is_object() || info.value("ingress_rules", 1) != 0 || info.value("egress_rules", 1) != 0) return false;
  }
  return true;
}

ApiCall api(const std::string& service, const std::string& op, const aws::Params& params, bool mutating = true) {
  return {service, op, params_json(params), mutating};
}

class Ec2Isolate final : public ActionFamily {
 public:
  std::string name() const override { return "ec2-isolate"; }
  Status check_step(const Step& step) const override { return check_step_args(step); }
  bool handles(const Target& t) const override { return t.service == "ec2" && t.type == "instance"; }

  Result<json> discover(Context& ctx) override { return discover_instance(ctx); }

  Result<TargetPlan> plan(Context& ctx, const json& d) override {
    CC_TRY(check_options(ctx.options));
    TargetPlan plan;
    plan.target = ctx.target;
    plan.family = name();
    plan.discovered = d;
    const std::string id = d["instance"]["id"];
    const std::string arn = d["instance"]["arn"];

    json modifiable = json::array();
    for (const auto& e : d["network_interfaces"]) {
      if (e["modifiable"]) {
        modifiable.push_back(e);
      } else {
        plan.warnings.push_back("network interface " + e["id"].get<std::string>() + " is skipped: " +
                                e["skip_reason"].get<std::string>() + "; its security groups cannot be changed");
      }
    }
    if (!modifiable.empty() && already_isolated(ctx, d, modifiable)) {
      plan.already_contained = true;
      plan.note = "instance " + id + " is already contained: every interface is only in an isolation group an "
                  "earlier run created, which has no rules";
      return plan;
    }
    if (modifiable.empty())
      plan.warnings.push_back("instance " + id + " has no network interface whose groups can be changed: "
                              "network isolation is not possible");

    if (!d["instance"]["volumes"].empty()) plan.steps.push_back(snapshot_step(ctx, d));
    if (!d.value("termination_protection", false) || d.value("shutdown_behavior", "") != "stop")
      plan.steps.push_back(attributes_step(d));
    if (!d["asg"].is_null()) {
      const std::string state = d["asg"]["lifecycle_state"];
      if (state == "InService")
        plan.steps.push_back(asg_step(d));
      else
        plan.warnings.push_back("instance is " + state + " in Auto Scaling group " +
                                d["asg"]["name"].get<std::string>() + ": no Standby step");
    }
    if (!d["target_registrations"].empty()) plan.steps.push_back(targets_step(d));
    if (!modifiable.empty()) plan.steps.push_back(network_step(ctx, d, modifiable));
    if (ctx.options.flag("ec2.min_conntrack_timeouts") && !modifiable.empty())
      plan.steps.push_back(conntrack_step(modifiable));
    plan.steps.push_back(tags_step(ctx, id));
    optional_steps(ctx, d, modifiable, plan);
    add_limits(d, plan);
    return plan;
  }

  Result<json> capture(Context& ctx, const Step& step) override {
    CC_ASSIGN(Dispatch d, ops_for(step));
    return d.ops->capture(ctx, step, d.args);
  }
  Result<json> apply(Context& ctx, const Step& step, const json& before) override {
    CC_ASSIGN(Dispatch d, ops_for(step));
    return d.ops->apply(ctx, step, d.args, before);
  }
  Status verify(Context& ctx, const Step& step) override {
    CC_ASSIGN(Dispatch d, ops_for(step));
    return d.ops->verify(ctx, step, d.args);
  }
  Status verify_applied(Context& ctx, const Step& step, const json& applied) override {
    CC_ASSIGN(Dispatch d, ops_for(step));
    return d.ops->verify_applied ? d.ops->verify_applied(ctx, step, d.args, applied) : d.ops->verify(ctx, step, d.args);
  }
  Status rollback(Context& ctx, const Step& step, const json& before, const json& applied,
                  const RollbackOptions& options) override {
    CC_ASSIGN(Dispatch d, ops_for(step));
    return d.ops->rollback(ctx, step, d.args, before, applied, options);
  }
  Status verify_rollback(Context& ctx, const Step& step, const json& before, const RollbackOptions&) override {
    CC_ASSIGN(Dispatch d, ops_for(step));
    return d.ops->verify_rollback(ctx, step, d.args, before);
  }

  // Each instance has its own isolation and all-traffic groups per run, so the network step
  // shares nothing; the hard cut replaces each subnet's ACL association, which another instance
  // of the same subnet writes too.
  std::vector<std::string> shared_resources(const Target& target, const Step& step) const override {
    std::vector<std::string> keys;
    auto args = parse_step_args(step);
    if (!args.ok()) return keys;  // a damaged step fails in the step itself
    if (args->kind == "nacl-hard-cut") {
      for (const auto& subnet : args->subnets)
        keys.push_back("ec2:subnet-network-acl:" + target.account + ":" + target.region + ":" + subnet);
    } else if (args->kind == "revoke-role-sessions") {
      // The instance role's inline policies: iam-contain of the same role writes them too.
      for (const auto& role : args->roles)
        keys.push_back(iam::principal_key(iam::Principal::kRole, target.partition, target.account, role));
    }
    return keys;
  }

  std::vector<std::string> iam_actions() const override {
    return {
        // discover, capture, verify
        "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeInstanceAttribute",
        "ec2:DescribeIamInstanceProfileAssociations", "ec2:DescribeAddresses", "ec2:DescribeSecurityGroups",
        "ec2:DescribeSnapshots", "ec2:DescribeTags", "ec2:DescribeNetworkAcls", "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeAutoScalingGroups", "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth", "iam:GetInstanceProfile", "iam:GetRolePolicy",
        // apply and rollback
        "ec2:CreateSnapshots", "ec2:CreateTags", "ec2:DeleteTags", "ec2:ModifyInstanceAttribute",
        "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifyNetworkInterfaceAttribute",
        "ec2:DisassociateAddress", "ec2:AssociateAddress", "ec2:CreateNetworkAcl", "ec2:DeleteNetworkAcl",
        "ec2:ReplaceNetworkAclAssociation", "autoscaling:UpdateAutoScalingGroup", "autoscaling:EnterStandby",
        "autoscaling:ExitStandby", "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets",
        "iam:PutRolePolicy", "iam:DeleteRolePolicy",
    };
  }

 private:
  static Step snapshot_step(Context& ctx, const json& d) {
    const std::string id = d["instance"]["id"];
    Step s;
    s.id = "snapshot";
    s.description = "Start EBS snapshots of every attached volume as evidence (not waited for; kept on rollback)";
    aws::Params p = {{"InstanceSpecification.InstanceId", id}, {"InstanceSpecification.ExcludeBootVolume", "false"},
                     {"CopyTagsFromSource", "volume"}};
    add_tag_spec(p, "snapshot", {{kTagPurpose, "evidence"}, {kTagRunId, ctx.run_id}, {kTagTarget, d["instance"]["arn"]}});
    s.calls = {api("ec2", "CreateSnapshots", p)};
    s.before = {{"volumes", d["instance"]["volumes"]}, {"snapshots", json::array()}};
    s.after = {{"snapshots", "one per volume, tagged " + std::string(kTagRunId) + "=" + ctx.run_id}};
    s.warnings = {"snapshots are evidence: rollback keeps them and lists their ids"};
    s.args = {{"kind", "snapshot"}, {"instance_id", id}, {"instance_arn", d["instance"]["arn"]},
              {"volumes", d["instance"]["volumes"]}};
    return s;
  }

  static Step attributes_step(const json& d) {
    const std::string id = d["instance"]["id"];
    Step s;
    s.id = "instance-attributes";
    s.description = "Turn termination protection on and set instance-initiated shutdown behaviour to stop";
    s.calls = {api("ec2", "ModifyInstanceAttribute", {{"InstanceId", id}, {"Attribute", "disableApiTermination"}, {"Value", "true"}}),
               api("ec2", "ModifyInstanceAttribute",
                   {{"InstanceId", id}, {"Attribute", "instanceInitiatedShutdownBehavior"}, {"Value", "stop"}})};
    s.before = {{"termination_protection", d["termination_protection"]}, {"shutdown_behavior", d["shutdown_behavior"]}};
    s.after = {{"termination_protection", true}, {"shutdown_behavior", "stop"}};
    s.args = {{"kind", "instance-attributes"}, {"instance_id", id}};
    return s;
  }

  static Step asg_step(const json& d) {
    const json& g = d["asg"];
    const std::string id = d["instance"]["id"];
    const int min = g["min"], desired = g["desired"];
    Step s;
    s.id = "asg-standby";
    s.description = "Put the instance into Standby in Auto Scaling group " + g["name"].get<std::string>() +
                    " with desired capacity decremented (the group stops replacing it and drains its load balancers)";
    if (desired - 1 < min)
      s.calls.push_back(api("autoscaling", "UpdateAutoScalingGroup",
                            {{"AutoScalingGroupName", g["name"]}, {"MinSize", std::to_string(desired - 1)}}));
    s.calls.push_back(api("autoscaling", "EnterStandby",
                          {{"AutoScalingGroupName", g["name"]}, {"InstanceIds.member.1", id},
                           {"ShouldDecrementDesiredCapacity", "true"}}));
    s.before = {{"min", min}, {"max", g["max"]}, {"desired", desired}, {"lifecycle_state", "InService"}};
    s.after = {{"min", std::min(min, desired - 1)}, {"max", g["max"]}, {"desired", desired - 1},
               {"lifecycle_state", "Standby"}};
    if (desired - 1 < min) s.warnings.push_back("MinSize is lowered to " + std::to_string(desired - 1) +
                                                " so the decrement is allowed; rollback restores it");
    s.args = {{"kind", "asg-standby"}, {"instance_id", id}, {"asg_name", g["name"]}};
    return s;
  }

  static Step targets_step(const json& d) {
    Step s;
    s.id = "deregister-targets";
    s.description = "Deregister the instance from target groups it is registered in directly";
    json regs = json::array();
    for (const auto& r : d["target_registrations"]) {
      regs.push_back({{"target_group_arn", r["target_group_arn"]}, {"id", r["id"]}, {"port", r["port"]},
                      {"availability_zone", r["availability_zone"]}});
      s.calls.push_back(api("elasticloadbalancing", "DeregisterTargets",
                            {{"TargetGroupArn", r["target_group_arn"]}, {"Targets.member.1.Id", r["id"]},
                             {"Targets.member.1.Port", r["port"]}}));
    }
    s.before = {{"registrations", regs}};
    s.after = {{"registrations", json::array()}};
    s.warnings = {"the load balancer drains existing connections for the target group's deregistration delay"};
    s.args = {{"kind", "deregister-targets"}, {"instance_id", d["instance"]["id"]}, {"registrations", regs}};
    return s;
  }

  static Step network_step(Context& ctx, const json& d, const json& enis) {
    const std::string id = d["instance"]["id"];
    Step s;
    s.id = "isolate-network";
    s.description = "Isolate every changeable network interface: move it to a temporary all-traffic group (which "
                    "makes its flows untracked), then to an isolation group with no rules (which cuts them); "
                    "delete the temporary group";
    json interfaces = json::array(), before = json::array(), after = json::array();
    std::set<std::string> vpcs;
    for (const auto& e : enis) {
      interfaces.push_back({{"id", e["id"]}, {"vpc_id", e["vpc_id"]}});
      before.push_back({{"id", e["id"]}, {"groups", e["groups"]}});
      after.push_back({{"id", e["id"]}, {"groups", {"<this run's isolation group>"}}});
      vpcs.insert(e["vpc_id"].get<std::string>());
    }
    for (const std::string& vpc : vpcs) {
      s.calls.push_back(api("ec2", "CreateSecurityGroup",
                            {{"GroupName", "containctl-isolation-" + id + "-<random>"}, {"VpcId", vpc},
                             {kTagPurpose, "isolation"}}));
      const std::pair<const char*, const char*> egress[] = {{"IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"},
                                                           {"IpPermissions.1.Ipv6Ranges.1.CidrIpv6", "::/0"}};
      for (const auto& [range, cidr] : egress)
        s.calls.push_back(api("ec2", "RevokeSecurityGroupEgress",
                              {{"GroupId", "<isolation group>"}, {"IpPermissions.1.IpProtocol", "-1"}, {range, cidr}}));
      s.calls.push_back(api("ec2", "CreateSecurityGroup",
                            {{"GroupName", "containctl-all-traffic-" + id + "-<random>"}, {"VpcId", vpc}, {kTagPurpose, "all-traffic"}}));
      for (const char* op : {"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"})
        s.calls.push_back(api("ec2", op, {{"GroupId", "<all-traffic group>"}, {"IpPermissions.1.IpProtocol", "-1"},
                                          {"IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"},
                                          {"IpPermissions.1.Ipv6Ranges.1.CidrIpv6", "::/0"}}));
    }
    for (const auto& e : enis)
      s.calls.push_back(api("ec2", "ModifyNetworkInterfaceAttribute",
                            {{"NetworkInterfaceId", e["id"]}, {"SecurityGroupId.1", "<all-traffic group>"}}));
    for (const auto& e : enis)
      s.calls.push_back(api("ec2", "ModifyNetworkInterfaceAttribute",
                            {{"NetworkInterfaceId", e["id"]}, {"SecurityGroupId.1", "<isolation group>"}}));
    s.calls.push_back(api("ec2", "DeleteSecurityGroup", {{"GroupId", "<all-traffic group>"}}));
    s.before = {{"interfaces", before}};
    s.after = {{"interfaces", after}};
    const int dwell = std::stoi(ctx.options.get("ec2.untrack_dwell_seconds", "2"));
    s.args = {{"kind", "isolate-network"}, {"instance_id", id}, {"interfaces", interfaces}, {"dwell_seconds", dwell}};
    return s;
  }

  static Step conntrack_step(const json& enis) {
    Step s;
    s.id = "conntrack-timeouts";
    s.description = "Set connection-tracking idle timeouts to their minimums (TCP 60 s, UDP 30 s, UDP stream 60 s) so "
                    "flows that stay tracked die sooner once idle";
    json ids = json::array(), before = json::object();
    const json timeouts = {{"tcpEstablishedTimeout", 60}, {"udpStreamTimeout", 60}, {"udpTimeout", 30}};
    for (const auto& e : enis) {
      ids.push_back(e["id"]);
      before[e["id"].get<std::string>()] = e["conntrack"];
      s.calls.push_back(api("ec2", "ModifyNetworkInterfaceAttribute",
                            {{"NetworkInterfaceId", e["id"]}, {"ConnectionTrackingSpecification.TcpEstablishedTimeout", "60"},
                             {"ConnectionTrackingSpecification.UdpStreamTimeout", "60"},
                             {"ConnectionTrackingSpecification.UdpTimeout", "30"}}));
    }
    s.before = {{"interfaces", before}};
    s.after = {{"timeouts", timeouts}};
    s.warnings = {"timeouts are a Nitro feature; an interface without explicit settings is restored to the EC2 "
                  "defaults (TCP 432000 s, UDP 30 s, UDP stream 180 s)"};
    s.args = {{"kind", "conntrack-timeouts"}, {"interfaces", ids}, {"timeouts", timeouts}};
    return s;
  }

  static Step tags_step(Context& ctx, const std::string& id) {
    Step s;
    s.id = "tag-instance";
    s.description = "Tag the instance with its containment state and the run id";
    const json tags = {{kTagContainment, kContainedValue}, {kTagRunId, ctx.run_id}};
    s.calls = {api("ec2", "CreateTags", {{"ResourceId.1", id}, {"Tag.1.Key", kTagContainment}, {"Tag.1.Value", kContainedValue},
                                         {"Tag.2.Key", kTagRunId}, {"Tag.2.Value", ctx.run_id}})};
    s.after = {{"tags", tags}};
    s.args = {{"kind", "tag-instance"}, {"instance_id", id}, {"tags", tags}};
    s.cosmetic = true;  // "isolated" only once every containment step verified
    return s;
  }

  static void optional_steps(Context& ctx, const json& d, const json& enis, TargetPlan& plan) {
    const std::string id = d["instance"]["id"];
    const json& eips = d["elastic_ips"];
    if (ctx.options.flag("ec2.disassociate_eips") && !eips.empty()) {
      Step s;
      s.id = "disassociate-eips";
      s.description = "[option ec2.disassociate_eips] Disassociate the instance's Elastic IPs (they stay allocated)";
      for (const auto& a : eips) s.calls.push_back(api("ec2", "DisassociateAddress", {{"AssociationId", a["association_id"]}}));
      s.before = {{"addresses", eips}};
      s.after = {{"addresses", "allocated, not associated"}};
      s.args = {{"kind", "disassociate-eips"}, {"addresses", eips}};
      plan.steps.push_back(s);
    } else if (!eips.empty()) {
      plan.warnings.push_back("the instance keeps its Elastic IP(s); --option ec2.disassociate_eips=true removes them");
    }
    const json& profile = d["instance_profile"];
    const bool has_roles = !profile.is_null() && !profile["roles"].empty();
    if (ctx.options.flag("ec2.revoke_instance_role_sessions") && has_roles) {
      Step s;
      s.id = "revoke-role-sessions";
      const std::string policy = "containctl-revoke-" + id;
      s.description = "[option ec2.revoke_instance_role_sessions] Deny every action to sessions of the instance "
                      "profile's role(s) issued to this instance before now (other instances keep working)";
      for (const auto& r : profile["roles"])
        s.calls.push_back(api("iam", "PutRolePolicy", {{"RoleName", r}, {"PolicyName", policy},
                                                       {"PolicyDocument", "Deny * if ec2:SourceInstanceARN=" +
                                                                              d["instance"]["arn"].get<std::string>() +
                                                                              " and aws:TokenIssueTime < apply time"}}));
      s.before = {{"roles", profile["roles"]}, {"policy", nullptr}};
      s.after = {{"policy", policy}};
      s.min_hold_seconds = 6 * 3600;  // EC2-delivered role credentials stay valid for up to 6 hours
      s.warnings = {"stolen credentials of this instance stop working; rollback is refused for 6 hours so that "
                    "they expire first"};
      s.args = {{"kind", "revoke-role-sessions"}, {"roles", profile["roles"]}, {"policy_name", policy},
                {"instance_arn", d["instance"]["arn"]}};
      plan.steps.push_back(s);
    } else if (has_roles) {
      plan.warnings.push_back("credentials of the instance profile's role already issued to this instance stay valid "
                              "until they expire; --option ec2.revoke_instance_role_sessions=true revokes them");
    }
    if (ctx.options.flag("ec2.nacl_hard_cut")) {
      std::set<std::string> subnets;
      for (const auto& e : enis) subnets.insert(e["subnet_id"].get<std::string>());
      Step s;
      s.id = "nacl-hard-cut";
      s.description = "[option ec2.nacl_hard_cut] SUBNET-WIDE: associate the instance's subnet(s) with a new deny-all "
                      "network ACL, which breaks every connection, tracked or not, of EVERY resource in them";
      s.calls.push_back(api("ec2", "CreateNetworkAcl", {{"VpcId", d["instance"]["vpc_id"]}, {kTagPurpose, "hard-cut"}}));
      json before = json::array();
      for (const auto& a : d["network_acls"]) {
        before.push_back(a);
        s.calls.push_back(api("ec2", "ReplaceNetworkAclAssociation",
                              {{"AssociationId", a["association_id"]}, {"NetworkAclId", "<hard-cut ACL>"}}));
      }
      s.before = {{"subnets", before}};
      s.after = {{"subnets", "associated with the deny-all network ACL"}};
      s.warnings = {"subnet-wide: every other instance, endpoint and service in subnet(s) " +
                    json(subnets).dump() + " loses all connectivity until rollback"};
      s.args = {{"kind", "nacl-hard-cut"}, {"instance_id", id}, {"vpc_id", d["instance"]["vpc_id"]}, {"subnets", subnets}};
      plan.steps.push_back(s);
    }
  }

  static void add_limits(const json& d, TargetPlan& plan) {
    plan.warnings.push_back(
        "tracked connections survive the security-group change until they are idle: ICMP, and flows through Network "
        "Load Balancers, NAT gateways, Gateway Load Balancers, PrivateLink endpoints, Transit Gateway, egress-only "
        "internet gateways, Global Accelerator, Network Firewall and DynamoDB gateway endpoints are always tracked "
        "(TCP idle timeout 5 days by default; see ec2.min_conntrack_timeouts and ec2.nacl_hard_cut)");
    plan.warnings.push_back(
        "security groups do not filter DNS queries to the VPC resolver (VPC+2), nor the instance metadata service "
        "and other link-local addresses: DNS exfiltration stays possible; use Route 53 Resolver DNS Firewall to "
        "block it");
    if (!d["asg"].is_null())
      plan.warnings.push_back("termination protection does not stop Auto Scaling from terminating the instance; "
                              "Standby does");
  }
};

}  // namespace

std::unique_ptr<ActionFamily> make_ec2_isolate() { return std::make_unique<Ec2Isolate>(); }

}  // namespace containctl::actions
