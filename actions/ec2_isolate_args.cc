// The shape of each ec2-isolate step's arguments, checked once before any step of a plan runs: a
// hand-edited or damaged plan gets an error naming the step and the field, and nothing changes.
// parse_step_args then reads the checked json once into StepArgs, which is all the operations see.
#include <cctype>

#include "actions/ec2_isolate_util.h"

namespace containctl::actions::ec2 {
namespace {

using Check = std::function<Status(const std::string& where, const json& value)>;

Error bad(const std::string& where, const std::string& what) {
  return Error::invalid("plan step " + where + " " + what, "InvalidPlan");
}

// An AWS id: `prefix` then 8 or 17 lowercase hex digits (i-, eni-, vpc-, subnet-, vol-, ...).
Check aws_id(const std::string& prefix) {
  return [prefix](const std::string& where, const json& v) -> Status {
    if (!v.is_string()) return bad(where, "must be a string (" + prefix + "...)");
    const std::string s = v.get<std::string>();
    const std::string hex = s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : "";
    const bool ok = (hex.size() == 8 || hex.size() == 17) &&
                    std::all_of(hex.begin(), hex.end(), [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); });
    if (!ok) return bad(where, "is not a valid id of the form " + prefix + "<8 or 17 hex digits>: '" + s + "'");
    return Ok{};
  };
}

Check string(bool may_be_empty = false) {
  return [may_be_empty](const std::string& where, const json& v) -> Status {
    if (!v.is_string()) return bad(where, "must be a string");
    if (!may_be_empty && v.get<std::string>().empty()) return bad(where, "must not be empty");
    return Ok{};
  };
}

Check arn() {
  return [](const std::string& where, const json& v) -> Status {
    if (!v.is_string() || v.get<std::string>().rfind("arn:", 0) != 0) return bad(where, "must be an ARN string");
    return Ok{};
  };
}

Check integer(long long lo, long long hi) {
  return [lo, hi](const std::string& where, const json& v) -> Status {
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
      return bad(where, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return Ok{};
  };
}

// An object with exactly these required fields (others are refused: a typo is not ignored).
Check object(std::vector<std::pair<std::string, Check>> fields) {
  return [fields](const std::string& where, const json& v) -> Status {
    if (!v.is_object()) return bad(where, "must be an object");
    for (const auto& [name, check] : fields) {
      auto it = v.find(name);
      if (it == v.end()) return bad(where, "has no field '" + name + "'");
      CC_TRY(check(where + "." + name, *it));
    }
    for (const auto& [key, value] : v.items()) {
      bool known = false;
      for (const auto& f : fields) known |= f.first == key;
      if (!known) return bad(where, "has an unknown field '" + key + "'");
    }
    return Ok{};
  };
}

Check array(Check element, bool may_be_empty = false) {
  return [element, may_be_empty](const std::string& where, const json& v) -> Status {
    if (!v.is_array()) return bad(where, "must be an array");
    if (!may_be_empty && v.empty()) return bad(where, "must not be empty");
    for (size_t i = 0; i < v.size(); ++i) CC_TRY(element(where + "[" + std::to_string(i) + "]", v[i]));
    return Ok{};
  };
}

Check map_of(Check value) {
  return [value](const std::string& where, const json& v) -> Status {
    if (!v.is_object()) return bad(where, "must be an object");
    for (const auto& [key, item] : v.items()) CC_TRY(value(where + "." + key, item));
    return Ok{};
  };
}

const std::map<std::string, Check>& schemas() {
  using F = std::vector<std::pair<std::string, Check>>;
  static const std::map<std::string, Check> table = {
      {"snapshot", object(F{{"kind", string()}, {"instance_id", aws_id("i-")}, {"instance_arn", arn()},
                            {"volumes", array(object(F{{"device", string()}, {"volume_id", aws_id("vol-")}}))}})},
      {"instance-attributes", object(F{{"kind", string()}, {"instance_id", aws_id("i-")}})},
      {"asg-standby", object(F{{"kind", string()}, {"instance_id", aws_id("i-")}, {"asg_name", string()}})},
      {"deregister-targets",
       object(F{{"kind", string()}, {"instance_id", aws_id("i-")},
                {"registrations", array(object(F{{"target_group_arn", arn()}, {"id", string()}, {"port", string(true)},
                                                 {"availability_zone", string(true)}}))}})},
      {"isolate-network",
       object(F{{"kind", string()}, {"instance_id", aws_id("i-")},
                {"interfaces", array(object(F{{"id", aws_id("eni-")}, {"vpc_id", aws_id("vpc-")}}))},
                {"dwell_seconds", integer(0, 999)}})},
      {"conntrack-timeouts",
       object(F{{"kind", string()}, {"interfaces", array(aws_id("eni-"))},
                {"timeouts", object(F{{"tcpEstablishedTimeout", integer(60, 432000)},
                                      {"udpStreamTimeout", integer(60, 180)}, {"udpTimeout", integer(30, 60)}})}})},
      {"tag-instance", object(F{{"kind", string()}, {"instance_id", aws_id("i-")}, {"tags", map_of(string(true))}})},
      {"disassociate-eips",
       object(F{{"kind", string()},
                {"addresses", array(object(F{{"allocation_id", string()}, {"association_id", string(true)},
                                             {"public_ip", string(true)}, {"network_interface_id", string(true)},
                                             {"private_ip", string(true)}}))}})},
      {"revoke-role-sessions", object(F{{"kind", string()}, {"roles", array(string())}, {"policy_name", string()},
                                        {"instance_arn", arn()}})},
      {"nacl-hard-cut", object(F{{"kind", string()}, {"instance_id", aws_id("i-")}, {"vpc_id", aws_id("vpc-")},
                                 {"subnets", array(aws_id("subnet-"))}})},
  };
  return table;
}

}  // namespace

Status check_step_args(const Step& step) {
  if (!step.args.is_object()) return bad("'" + step.id + "'", "has no argument object");
  auto kind = step.args.find("kind");
  if (kind == step.args.end() || !kind->is_string()) return bad("'" + step.id + "'", "has no string field 'kind'");
  auto it = schemas().find(kind->get<std::string>());
  if (it == schemas().end())
    return bad("'" + step.id + "'", "has unknown ec2-isolate kind '" + kind->get<std::string>() + "'");
  return it->second("'" + step.id + "' args", step.args);
}

json Registration::to_json() const {
  return {{"target_group_arn", target_group_arn}, {"id", id}, {"port", port}, {"availability_zone", availability_zone}};
}

json Timeouts::to_json() const {
  return {{"tcpEstablishedTimeout", tcp_established}, {"udpStreamTimeout", udp_stream}, {"udpTimeout", udp}};
}

namespace {

// Reads the fields check_step_args has just checked: each one present has the type its kind's
// schema demands, and a field the kind does not have was refused as unknown.
StepArgs read_checked(const json& j) {
  auto str = [&](const json& o, const char* k) {
    auto it = o.find(k);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto each = [&](const char* k, const std::function<void(const json&)>& f) {
    auto it = j.find(k);
    if (it != j.end() && it->is_array())
      for (const auto& e : *it) f(e);
  };
  StepArgs a;
  a.kind = str(j, "kind");
  a.instance_id = str(j, "instance_id");
  a.instance_arn = str(j, "instance_arn");
  a.asg_name = str(j, "asg_name");
  a.policy_name = str(j, "policy_name");
  a.vpc_id = str(j, "vpc_id");
  each("volumes", [&](const json& v) { a.volumes.push_back({str(v, "device"), str(v, "volume_id")}); });
  each("registrations", [&](const json& r) {
    a.registrations.push_back({str(r, "target_group_arn"), str(r, "id"), str(r, "port"), str(r, "availability_zone")});
  });
  each("interfaces", [&](const json& e) {
    if (e.is_string())  // conntrack-timeouts: interface ids
      a.interface_ids.push_back(e.get<std::string>());
    else  // isolate-network: {id, vpc_id}
      a.interfaces.push_back({str(e, "id"), str(e, "vpc_id")});
  });
  each("addresses", [&](const json& e) {
    a.addresses.push_back({str(e, "allocation_id"), str(e, "association_id"), str(e, "public_ip"),
                           str(e, "network_interface_id"), str(e, "private_ip")});
  });
  each("roles", [&](const json& r) { a.roles.push_back(r.get<std::string>()); });
  each("subnets", [&](const json& s) { a.subnets.push_back(s.get<std::string>()); });
  if (auto it = j.find("dwell_seconds"); it != j.end() && it->is_number_integer()) a.dwell_seconds = it->get<int>();
  if (auto it = j.find("timeouts"); it != j.end() && it->is_object()) {
    a.timeouts.tcp_established = it->at("tcpEstablishedTimeout").get<int>();
    a.timeouts.udp_stream = it->at("udpStreamTimeout").get<int>();
    a.timeouts.udp = it->at("udpTimeout").get<int>();
  }
  if (auto it = j.find("tags"); it != j.end() && it->is_object())
    for (const auto& [k, v] : it->items()) a.tags[k] = v.get<std::string>();
  return a;
}

}  // namespace

Result<StepArgs> parse_step_args(const Step& step) {
  CC_TRY(check_step_args(step));
  try {
    return read_checked(step.args);
  } catch (const std::exception& e) {  // only if a schema and read_checked disagree: an error, never a crash
    return bad("'" + step.id + "' args", std::string("could not be read: ") + e.what());
  }
}

}  // namespace containctl::actions::ec2
