// Read-only discovery of everything containment of one instance touches. Calls that do not depend
// on each other run in parallel: three rounds (the instance; everything keyed by the instance id;
// everything keyed by what the second round found).
#include <algorithm>
#include <mutex>
#include <set>

#include "actions/ec2_isolate_util.h"
#include "aws/arn.h"

namespace containctl::actions::ec2 {
namespace {

json parse_eni(pugi::xml_node n) {
  json eni;
  eni["id"] = text(n, "networkInterfaceId");
  eni["vpc_id"] = text(n, "vpcId");
  eni["subnet_id"] = text(n, "subnetId");
  eni["interface_type"] = text(n, "interfaceType");
  eni["requester_managed"] = text(n, "requesterManaged") == "true";
  eni["device_index"] = text(n, "attachment/deviceIndex");
  json groups = json::array();
  for (auto g : items(n, "groupSet")) groups.push_back(text(g, "groupId"));
  eni["groups"] = groups;
  json ips = json::array();
  for (auto ip : items(n, "privateIpAddressesSet")) ips.push_back(text(ip, "privateIpAddress"));
  if (ips.empty() && !text(n, "privateIpAddress").empty()) ips.push_back(text(n, "privateIpAddress"));
  eni["private_ips"] = ips;
  json ct = nullptr;
  if (pugi::xml_node c = n.child("connectionTrackingConfiguration")) {
    ct = json::object();
    for (const char* k : {"tcpEstablishedTimeout", "udpStreamTimeout", "udpTimeout"})
      if (!text(c, k).empty()) ct[k] = std::stoi(text(c, k));
  }
  eni["conntrack"] = ct;
  std::string reason;
  eni["modifiable"] = interface_modifiable(eni, &reason);
  eni["skip_reason"] = reason;
  return eni;
}

json parse_instance(pugi::xml_node n) {
  json inst;
  inst["id"] = text(n, "instanceId");
  inst["state"] = text(n, "instanceState/name");
  inst["vpc_id"] = text(n, "vpcId");
  inst["subnet_id"] = text(n, "subnetId");
  inst["availability_zone"] = text(n, "placement/availabilityZone");
  json volumes = json::array();
  for (auto b : items(n, "blockDeviceMapping"))
    if (!text(b, "ebs/volumeId").empty())
      volumes.push_back({{"device", text(b, "deviceName")}, {"volume_id", text(b, "ebs/volumeId")}});
  inst["volumes"] = volumes;
  json tags = json::object();
  for (auto t : items(n, "tagSet")) tags[text(t, "key")] = text(t, "value");
  inst["tags"] = tags;
  return inst;
}

// All target groups of the account/region (paged); the caller filters by VPC.
Result<std::vector<json>> list_target_groups(Context& ctx) {
  std::vector<json> out;
  std::string marker;
  do {
    aws::Params p;
    if (!marker.empty()) p.emplace_back("Marker", marker);
    CC_ASSIGN(auto r, call(ctx, "elasticloadbalancing", "DescribeTargetGroups", p));
    for (auto m : aws::xml_list(r.root(), "TargetGroups"))
      out.push_back({{"arn", text(m, "TargetGroupArn")}, {"vpc_id", text(m, "VpcId")},
                     {"target_type", text(m, "TargetType")}});
    marker = aws::xml_text(r.root(), "NextMarker");
  } while (!marker.empty());
  return out;
}

}  // namespace

bool interface_modifiable(const json& eni, std::string* reason) {
  // Only interfaces the account owns accept security-group changes; service-managed ones (Lambda
  // Hyperplane, NAT gateway, endpoints, load balancers...) answer OperationNotPermitted in AWS.
  if (eni.value("requester_managed", false)) {
    *reason = "requester-managed interface (owned by an AWS service)";
    return false;
  }
  const std::string type = eni.value("interface_type", "");
  static const char* kOwnable[] = {"", "interface", "efa", "efa-only", "trunk", "branch"};
  for (const char* t : kOwnable)
    if (type == t) return true;
  *reason = "managed interface type '" + type + "'";
  return false;
}

Result<json> discover_instance(Context& ctx) {
  const std::string id = ctx.target.name;
  auto described = call(ctx, "ec2", "DescribeInstances", {{"InstanceId.1", id}});
  if (!described.ok()) {
    const Error& e = described.error();
    if (has_code(e, {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}))
      return Error{ErrorKind::kInvalidInput, "InstanceNotFound",
                   "instance " + id + " not found in account " + ctx.target.account + " region " + ctx.region +
                       " (" + e.code + ")"};
    return e;
  }
  pugi::xml_node inst_node;
  for (auto r : items(described->root(), "reservationSet"))
    for (auto i : items(r, "instancesSet"))
      if (text(i, "instanceId") == id) inst_node = i;
  if (!inst_node)
    return Error{ErrorKind::kInvalidInput, "InstanceNotFound",
                 "instance " + id + " not found in account " + ctx.target.account + " region " + ctx.region};
  json d;
  d["instance"] = parse_instance(inst_node);
  CC_ASSIGN(d["instance"]["arn"], instance_arn(ctx, id));
  const std::string state = d["instance"]["state"];
  if (state == "terminated" || state == "shutting-down")
    return Error{ErrorKind::kInvalidInput, "InstanceTerminated",
                 "instance " + id + " is " + state + "; there is nothing to contain"};

  std::mutex mu;  // guards d across the parallel tasks
  std::vector<json> target_groups;
  std::string asg_name, asg_lifecycle;
  json assoc = nullptr;
  d["elastic_ips"] = json::array();
  d["security_groups"] = json::object();
  CC_TRY(parallel(ctx.clock, {
      [&]() -> Status {
        aws::Params p;
        add_filter(p, 1, "attachment.instance-id", {id});
        CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeNetworkInterfaces", p));
        json enis = json::array();
        for (auto n : items(r.root(), "networkInterfaceSet")) enis.push_back(parse_eni(n));
        std::sort(enis.begin(), enis.end(),
                  [](const json& a, const json& b) { return a["device_index"] < b["device_index"]; });
        std::lock_guard l(mu);
        d["network_interfaces"] = enis;
        return Ok{};
      },
      [&]() -> Status {
        CC_ASSIGN(auto r, call(ctx, "autoscaling", "DescribeAutoScalingInstances", {{"InstanceIds.member.1", id}}));
        for (auto m : aws::xml_list(r.root(), "AutoScalingInstances")) {
          asg_name = text(m, "AutoScalingGroupName");
          asg_lifecycle = text(m, "LifecycleState");
        }
        return Ok{};
      },
      [&]() -> Status {
        CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeInstanceAttribute",
                               {{"InstanceId", id}, {"Attribute", "disableApiTermination"}}));
        std::lock_guard l(mu);
        d["termination_protection"] = text(r.root(), "disableApiTermination/value") == "true";
        return Ok{};
      },
      [&]() -> Status {
        CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeInstanceAttribute",
                               {{"InstanceId", id}, {"Attribute", "instanceInitiatedShutdownBehavior"}}));
        std::lock_guard l(mu);
        d["shutdown_behavior"] = text(r.root(), "instanceInitiatedShutdownBehavior/value");
        return Ok{};
      },
      [&]() -> Status {
        aws::Params p;
        add_filter(p, 1, "instance-id", {id});
        CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeIamInstanceProfileAssociations", p));
        for (auto a : items(r.root(), "iamInstanceProfileAssociationSet")) {
          const std::string st = text(a, "state");
          if (st == "associated" || st == "associating")
            assoc = {{"association_id", text(a, "associationId")}, {"arn", text(a, "iamInstanceProfile/arn")}};
        }
        return Ok{};
      },
      [&]() -> Status {
        aws::Params p;
        add_filter(p, 1, "instance-id", {id});
        CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeAddresses", p));
        json eips = json::array();
        for (auto a : items(r.root(), "addressesSet"))
          eips.push_back({{"allocation_id", text(a, "allocationId")}, {"association_id", text(a, "associationId")},
                          {"public_ip", text(a, "publicIp")}, {"network_interface_id", text(a, "networkInterfaceId")},
                          {"private_ip", text(a, "privateIpAddress")}});
        std::lock_guard l(mu);
        d["elastic_ips"] = eips;
        return Ok{};
      },
      [&]() -> Status {
        CC_ASSIGN(target_groups, list_target_groups(ctx));
        return Ok{};
      },
  }));

  // Round 3: what depends on round 2.
  std::set<std::string> ips;
  std::set<std::string> subnets;
  for (const auto& e : d["network_interfaces"]) {
    for (const auto& ip : e["private_ips"]) ips.insert(ip.get<std::string>());
    subnets.insert(e["subnet_id"].get<std::string>());
  }
  d["asg"] = nullptr;
  d["instance_profile"] = nullptr;
  d["target_registrations"] = json::array();
  d["network_acls"] = json::array();
  json asg = nullptr;
  std::vector<std::function<Status()>> round3;
  if (!asg_name.empty()) {
    round3.push_back([&]() -> Status {
      CC_ASSIGN(auto r, call(ctx, "autoscaling", "DescribeAutoScalingGroups",
                             {{"AutoScalingGroupNames.member.1", asg_name}}));
      for (auto g : aws::xml_list(r.root(), "AutoScalingGroups")) {
        json tgs = json::array();
        for (auto t : items(g, "TargetGroupARNs")) tgs.push_back(t.text().as_string());
        asg = {{"name", asg_name}, {"min", std::stoi(text(g, "MinSize"))}, {"max", std::stoi(text(g, "MaxSize"))},
               {"desired", std::stoi(text(g, "DesiredCapacity"))}, {"lifecycle_state", asg_lifecycle},
               {"target_group_arns", tgs}};
      }
      return Ok{};
    });
  }
  const std::string vpc = d["instance"]["vpc_id"];
  for (const auto& tg : target_groups) {
    if (tg["vpc_id"] != vpc) continue;
    round3.push_back([&, tg]() -> Status {
      const std::string arn = tg["arn"];
      CC_ASSIGN(auto r, call(ctx, "elasticloadbalancing", "DescribeTargetHealth", {{"TargetGroupArn", arn}}));
      for (auto m : aws::xml_list(r.root(), "TargetHealthDescriptions")) {
        const std::string tid = text(m, "Target/Id");
        if (tid != id && !ips.count(tid)) continue;
        // Draining or never-registered targets are not registrations to undo or restore.
        const std::string st = text(m, "TargetHealth/State");
        if (st == "draining" || text(m, "TargetHealth/Reason") == "Target.NotRegistered") continue;
        json reg = {{"target_group_arn", arn}, {"id", tid}, {"port", text(m, "Target/Port")},
                    {"availability_zone", text(m, "Target/AvailabilityZone")},
                    {"state", text(m, "TargetHealth/State")}};
        std::lock_guard l(mu);
        d["target_registrations"].push_back(reg);
      }
      return Ok{};
    });
  }
  if (!assoc.is_null()) {
    round3.push_back([&]() -> Status {
      // The profile's name, whatever path it was created under (instance-profile/[PATH/]NAME),
      // as aws::Arn parses and validates it.
      const std::string text_arn = assoc.value("arn", "");
      auto arn = aws::parse_arn(text_arn);
      if (!arn.ok() || arn->kind != aws::ArnKind::kIamInstanceProfile)
        return Error::internal("EC2 returned instance profile ARN '" + text_arn +
                               "', which is not an IAM instance profile ARN" +
                               (arn.ok() ? "" : " (" + arn.error().message + ")"));
      const std::string name = arn->name;
      json profile = assoc;
      profile["name"] = name;
      profile["roles"] = json::array();
      CC_ASSIGN(auto r, ctx.client.query("iam", ctx.region, "GetInstanceProfile", {{"InstanceProfileName", name}}));
      for (auto m : aws::xml_list(r.root(), "Roles")) profile["roles"].push_back(text(m, "RoleName"));
      std::lock_guard l(mu);
      d["instance_profile"] = profile;
      return Ok{};
    });
  }
  // The rules of every group the interfaces are in: "already contained" judges content.
  std::set<std::string> groups;
  for (const auto& e : d["network_interfaces"])
    for (const auto& g : e["groups"]) groups.insert(g.get<std::string>());
  if (!groups.empty()) {
    round3.push_back([&]() -> Status {
      aws::Params p;
      int n = 0;
      for (const auto& g : groups) p.emplace_back("GroupId." + std::to_string(++n), g);
      CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeSecurityGroups", p));
      json out = json::object();
      for (auto g : items(r.root(), "securityGroupInfo"))
        out[text(g, "groupId")] = {{"vpc_id", text(g, "vpcId")},
                                   {"ingress_rules", items(g, "ipPermissions").size()},
                                   {"egress_rules", items(g, "ipPermissionsEgress").size()}};
      std::lock_guard l(mu);
      d["security_groups"] = out;
      return Ok{};
    });
  }
  if (!subnets.empty()) {
    round3.push_back([&]() -> Status {
      aws::Params p;
      add_filter(p, 1, "association.subnet-id", {subnets.begin(), subnets.end()});
      CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeNetworkAcls", p));
      json acls = json::array();
      for (auto acl : items(r.root(), "networkAclSet"))
        for (auto a : items(acl, "associationSet"))
          if (subnets.count(text(a, "subnetId")))
            acls.push_back({{"subnet_id", text(a, "subnetId")}, {"network_acl_id", text(acl, "networkAclId")},
                            {"association_id", text(a, "networkAclAssociationId")}});
      std::lock_guard l(mu);
      d["network_acls"] = acls;
      return Ok{};
    });
  }
  CC_TRY(parallel(ctx.clock, std::move(round3)));
  d["asg"] = asg;
  // Registrations the ASG made itself are drained by Standby; only direct ones are deregistered.
  if (!asg.is_null()) {
    json direct = json::array();
    for (const auto& reg : d["target_registrations"]) {
      bool via_asg = false;
      for (const auto& a : asg["target_group_arns"]) via_asg |= a == reg["target_group_arn"];
      if (!via_asg) direct.push_back(reg);
    }
    d["target_registrations"] = direct;
  }
  std::sort(d["target_registrations"].begin(), d["target_registrations"].end(),
            [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return d;
}

}  // namespace containctl::actions::ec2
