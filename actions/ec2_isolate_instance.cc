// Steps on the instance itself: evidence snapshots, termination protection and shutdown
// behaviour, the containment tags, and (optional) Elastic IP disassociation.
#include <spdlog/spdlog.h>

#include <mutex>

#include "actions/ec2_isolate_util.h"

namespace containctl::actions::ec2 {
namespace {

Status ok_or(const Result<aws::XmlResponse>& r) { return r.ok() ? Status(Ok{}) : Status(r.error()); }

// ---- snapshot: evidence, tagged with the run and target; started, never waited for ----

Result<json> find_snapshots(Context& ctx, const Step& step, const StepArgs& a) {
  aws::Params p;
  add_filter(p, 1, std::string("tag:") + kTagRunId, {ctx.run_id});
  add_filter(p, 2, std::string("tag:") + kTagTarget, {a.instance_arn});
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeSnapshots", p));
  json out = json::array();
  for (auto s : items(r.root(), "snapshotSet"))
    out.push_back({{"snapshot_id", text(s, "snapshotId")}, {"volume_id", text(s, "volumeId")},
                   {"state", text(s, "status")}});
  return out;
}

Result<json> snapshot_capture(Context& ctx, const Step& step, const StepArgs& a) {
  CC_ASSIGN(json existing, find_snapshots(ctx, step, a));
  return json{{"snapshots", existing}};
}

Result<json> snapshot_apply(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  if (ctx.run_id.empty()) return Error::internal("snapshot applied without a run id");
  if (!before.at("snapshots").empty()) return json{{"snapshots", before.at("snapshots")}};
  // Resumed after a crash: the first attempt may have started them already.
  CC_ASSIGN(json started, find_snapshots(ctx, step, a));
  if (!started.empty()) return json{{"snapshots", started}};
  aws::Params p = {{"InstanceSpecification.InstanceId", a.instance_id},
                   {"InstanceSpecification.ExcludeBootVolume", "false"},
                   {"Description", "containctl evidence " + ctx.run_id + " " + a.instance_id},
                   {"CopyTagsFromSource", "volume"}};
  add_tag_spec(p, "snapshot",
               {{kTagPurpose, "evidence"}, {kTagRunId, ctx.run_id}, {kTagTarget, a.instance_arn}});
  // CreateSnapshots takes no ClientToken: after an ambiguous failure
  // (the snapshots may have been started) read back by the run's tags before trying again.
  Error last = Error::internal("CreateSnapshots not attempted");
  for (int attempt = 1; attempt <= ctx.client.config().retry.max_attempts; ++attempt) {
    auto r = call_not_idempotent(ctx, "ec2", "CreateSnapshots", p);
    if (r.ok()) {
      json out = json::array();
      for (auto s : items(r->root(), "snapshotSet"))
        out.push_back({{"snapshot_id", text(s, "snapshotId")}, {"volume_id", text(s, "volumeId")}});
      return json{{"snapshots", out}};
    }
    last = r.error();
    if (!ambiguous(last)) return last;
    CC_ASSIGN(json found, find_snapshots(ctx, step, a));
    if (!found.empty()) return json{{"snapshots", found}};
  }
  return last;
}

Status snapshot_verify(Context& ctx, const Step& step, const StepArgs& a) {
  CC_ASSIGN(json found, find_snapshots(ctx, step, a));
  std::set<std::string> volumes;
  for (const auto& s : found)
    if (s["state"] != "error") volumes.insert(s["volume_id"].get<std::string>());
  for (const auto& v : a.volumes)
    if (!volumes.count(v.volume_id)) return not_holding("no evidence snapshot of volume " + v.volume_id);
  return Ok{};
}

// Snapshots are evidence: rollback keeps them and names them.
Status snapshot_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json& applied) {
  json list = applied.is_object() ? applied.value("snapshots", json::array()) : json::array();
  if (list.empty()) {
    auto found = find_snapshots(ctx, step, a);
    if (found.ok()) list = *found;
  }
  std::string ids;
  for (const auto& s : list) ids += (ids.empty() ? "" : ", ") + s["snapshot_id"].get<std::string>();
  spdlog::info("ec2-isolate: evidence snapshots kept (not deleted by rollback): {}", ids.empty() ? "none" : ids);
  return Ok{};
}

Status snapshot_verify_rollback(Context&, const Step&, const StepArgs&, const json&) { return Ok{}; }

// ---- instance-attributes: termination protection on, shutdown behaviour stop ----

Result<json> attributes_capture(Context& ctx, const Step& step, const StepArgs& a) {
  const std::string& id = a.instance_id;
  json out;
  std::mutex mu;
  CC_TRY(parallel(ctx.clock, {[&]() -> Status {
                     CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeInstanceAttribute",
                                            {{"InstanceId", id}, {"Attribute", "disableApiTermination"}}));
                     std::lock_guard l(mu);
                     out["termination_protection"] = text(r.root(), "disableApiTermination/value") == "true";
                     return Ok{};
                   },
                   [&]() -> Status {
                     CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeInstanceAttribute",
                                            {{"InstanceId", id}, {"Attribute", "instanceInitiatedShutdownBehavior"}}));
                     std::lock_guard l(mu);
                     out["shutdown_behavior"] = text(r.root(), "instanceInitiatedShutdownBehavior/value");
                     return Ok{};
                   }}));
  return out;
}

// The Attribute=...&Value=... form: valid in AWS for both attributes.
Status set_attributes(Context& ctx, const std::string& id, const json& have, bool protection,
                      const std::string& behavior) {
  std::vector<std::function<Status()>> calls;
  if (have.value("termination_protection", !protection) != protection)
    calls.push_back([&] {
      return ok_or(call(ctx, "ec2", "ModifyInstanceAttribute",
                        {{"InstanceId", id}, {"Attribute", "disableApiTermination"}, {"Value", protection ? "true" : "false"}}));
    });
  if (have.value("shutdown_behavior", std::string()) != behavior && !behavior.empty())
    calls.push_back([&] {
      return ok_or(call(ctx, "ec2", "ModifyInstanceAttribute",
                        {{"InstanceId", id}, {"Attribute", "instanceInitiatedShutdownBehavior"}, {"Value", behavior}}));
    });
  return parallel(ctx.clock, std::move(calls));
}

Result<json> attributes_apply(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  CC_TRY(set_attributes(ctx, a.instance_id, before, true, "stop"));
  return json::object();
}

Status attributes_expect(Context& ctx, const Step& step, const StepArgs& a, bool protection, const std::string& behavior) {
  CC_ASSIGN(json now, attributes_capture(ctx, step, a));
  if (now["termination_protection"] != protection || now["shutdown_behavior"] != behavior)
    return not_holding("instance attributes are " + now.dump() + ", expected termination_protection=" +
                       (protection ? "true" : "false") + " shutdown_behavior=" + behavior);
  return Ok{};
}

Status attributes_verify(Context& ctx, const Step& step, const StepArgs& a) { return attributes_expect(ctx, step, a, true, "stop"); }

Status attributes_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json&) {
  CC_ASSIGN(json now, attributes_capture(ctx, step, a));
  return set_attributes(ctx, a.instance_id, now, before.at("termination_protection").get<bool>(),
                        before.at("shutdown_behavior").get<std::string>());
}

Status attributes_verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  return attributes_expect(ctx, step, a, before.at("termination_protection").get<bool>(),
                           before.at("shutdown_behavior").get<std::string>());
}

// ---- tag-instance: containment state and run id ----

Result<json> tags_capture(Context& ctx, const Step& step, const StepArgs& a) {
  aws::Params p;
  add_filter(p, 1, "resource-id", {a.instance_id});
  std::vector<std::string> keys;
  for (const auto& [k, v] : a.tags) keys.push_back(k);
  add_filter(p, 2, "key", keys);
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeTags", p));
  json tags = json::object();
  for (auto t : items(r.root(), "tagSet")) tags[text(t, "key")] = text(t, "value");
  return json{{"tags", tags}};  // keys absent here did not exist
}

Status put_tags(Context& ctx, const std::string& id, const json& tags) {
  if (tags.empty()) return Ok{};
  aws::Params p = {{"ResourceId.1", id}};
  int n = 0;
  for (const auto& [k, v] : tags.items()) {
    ++n;
    p.emplace_back("Tag." + std::to_string(n) + ".Key", k);
    p.emplace_back("Tag." + std::to_string(n) + ".Value", v.get<std::string>());
  }
  return ok_or(call(ctx, "ec2", "CreateTags", p));
}

// The plan is made before the run exists: the run-id tag gets the id of the run that applies it.
json run_tags(const Context& ctx, const StepArgs& a) {
  json tags = a.tags;
  tags[kTagRunId] = ctx.run_id;
  return tags;
}

Result<json> tags_apply(Context& ctx, const Step& step, const StepArgs& a, const json&) {
  if (ctx.run_id.empty()) return Error::internal("tag-instance applied without a run id");
  CC_TRY(put_tags(ctx, a.instance_id, run_tags(ctx, a)));
  return json::object();
}

Status tags_expect(Context& ctx, const Step& step, const StepArgs& a, const json& want) {
  CC_ASSIGN(json now, tags_capture(ctx, step, a));
  if (now["tags"] != want) return not_holding("instance tags are " + now["tags"].dump() + ", expected " + want.dump());
  return Ok{};
}

Status tags_verify(Context& ctx, const Step& step, const StepArgs& a) { return tags_expect(ctx, step, a, run_tags(ctx, a)); }

// A run-id tag that is neither this run's nor the original belongs to a later containment:
// putting the old tags back would hide it, so rollback stops unless forced.
Status tags_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json&, const RollbackOptions& options) {
  const std::string& id = a.instance_id;
  CC_ASSIGN(json now, tags_capture(ctx, step, a));
  const json current = now["tags"].value(kTagRunId, json());
  if (!options.force && !current.is_null() && current != ctx.run_id && current != before.at("tags").value(kTagRunId, json()))
    return Error{ErrorKind::kRefused, "ChangedSinceApply",
                 "instance " + id + " is tagged " + kTagRunId + "=" + current.dump() + " by a later run since " +
                     ctx.run_id + " tagged it; rollback left its tags; rollback --force restores them anyway"};
  json removed = json::array();
  for (const auto& [k, v] : a.tags)
    if (!before.at("tags").contains(k)) removed.push_back(k);
  std::vector<std::function<Status()>> calls;
  calls.push_back([&] { return put_tags(ctx, id, before.at("tags")); });
  if (!removed.empty())
    calls.push_back([&] {
      aws::Params p = {{"ResourceId.1", id}};
      for (size_t i = 0; i < removed.size(); ++i) p.emplace_back("Tag." + std::to_string(i + 1) + ".Key", removed[i]);
      return ok_or(call(ctx, "ec2", "DeleteTags", p));
    });
  return parallel(ctx.clock, std::move(calls));
}

Status tags_verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  return tags_expect(ctx, step, a, before.at("tags"));
}

// ---- disassociate-eips (option ec2.disassociate_eips) ----

Result<json> eips_capture(Context& ctx, const Step& step, const StepArgs& a) {
  aws::Params p;
  int n = 0;
  for (const auto& address : a.addresses) p.emplace_back("AllocationId." + std::to_string(++n), address.allocation_id);
  CC_ASSIGN(auto r, call(ctx, "ec2", "DescribeAddresses", p));
  json out = json::array();
  for (auto a : items(r.root(), "addressesSet"))
    out.push_back({{"allocation_id", text(a, "allocationId")}, {"association_id", text(a, "associationId")},
                   {"public_ip", text(a, "publicIp")}, {"network_interface_id", text(a, "networkInterfaceId")},
                   {"private_ip", text(a, "privateIpAddress")}});
  return json{{"addresses", out}};
}

Result<json> eips_apply(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  std::vector<std::function<Status()>> calls;
  for (const auto& addr : before.at("addresses")) {
    if (addr.at("association_id").get<std::string>().empty()) continue;
    calls.push_back([&, addr] {
      Status s = ok_or(call(ctx, "ec2", "DisassociateAddress", {{"AssociationId", addr.at("association_id")}}));
      if (!s.ok() && has_code(s.error(), {"InvalidAssociationID.NotFound"})) return Status(Ok{});
      return s;
    });
  }
  CC_TRY(parallel(ctx.clock, std::move(calls)));
  return json::object();
}

Status eips_verify(Context& ctx, const Step& step, const StepArgs& a) {
  CC_ASSIGN(json now, eips_capture(ctx, step, a));
  for (const auto& addr : now["addresses"])
    if (!addr.at("network_interface_id").get<std::string>().empty())
      return not_holding("Elastic IP " + addr.at("public_ip").get<std::string>() + " is still associated");
  return Ok{};
}

Status eips_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before, const json&) {
  CC_ASSIGN(json now, eips_capture(ctx, step, a));
  std::vector<std::function<Status()>> calls;
  for (const auto& addr : before.at("addresses")) {
    if (addr.at("network_interface_id").get<std::string>().empty()) continue;
    bool already = false;
    for (const auto& n : now["addresses"])
      already |= n["allocation_id"] == addr.at("allocation_id") && n["network_interface_id"] == addr.at("network_interface_id");
    if (already) continue;
    // No reassociation: if someone took the address meanwhile, fail loudly instead of stealing it.
    calls.push_back([&, addr] {
      return ok_or(call(ctx, "ec2", "AssociateAddress",
                        {{"AllocationId", addr.at("allocation_id")}, {"NetworkInterfaceId", addr.at("network_interface_id")},
                         {"PrivateIpAddress", addr.at("private_ip")}, {"AllowReassociation", "false"}}));
    });
  }
  return parallel(ctx.clock, std::move(calls));
}

Status eips_verify_rollback(Context& ctx, const Step& step, const StepArgs& a, const json& before) {
  CC_ASSIGN(json now, eips_capture(ctx, step, a));
  for (const auto& addr : before.at("addresses")) {
    bool found = false;
    for (const auto& n : now["addresses"])
      found |= n["allocation_id"] == addr.at("allocation_id") && n["network_interface_id"] == addr.at("network_interface_id") &&
               n["private_ip"] == addr.at("private_ip");
    if (!found) return not_holding("Elastic IP " + addr.at("public_ip").get<std::string>() + " is not back on its interface");
  }
  return Ok{};
}

}  // namespace

StepOps snapshot_ops() {
  return {snapshot_capture, snapshot_apply, snapshot_verify, without_options(snapshot_rollback), snapshot_verify_rollback};
}
StepOps attributes_ops() {
  return {attributes_capture, attributes_apply, attributes_verify, without_options(attributes_rollback), attributes_verify_rollback};
}
StepOps tags_ops() { return {tags_capture, tags_apply, tags_verify, tags_rollback, tags_verify_rollback}; }
StepOps eips_ops() { return {eips_capture, eips_apply, eips_verify, without_options(eips_rollback), eips_verify_rollback}; }

}  // namespace containctl::actions::ec2
