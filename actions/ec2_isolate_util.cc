#include "actions/ec2_isolate_util.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <random>
#include <utility>

#include "aws/arn.h"
#include "aws/concurrency.h"

namespace containctl::actions::ec2 {

std::string text(pugi::xml_node node, const char* path) {
  if (!node) return {};
  pugi::xml_node n = *path ? node.first_element_by_path(path) : node;
  return n.text().as_string();
}

std::vector<pugi::xml_node> items(pugi::xml_node node, const char* path) {
  std::vector<pugi::xml_node> out;
  if (!node) return out;
  pugi::xml_node list = *path ? node.first_element_by_path(path) : node;
  for (pugi::xml_node child : list.children()) {
    std::string_view n = child.name();
    if (n == "item" || n == "member") out.push_back(child);
  }
  return out;
}

int& round_trip_depth() {
  thread_local int depth = 0;
  return depth;
}

Status parallel(aws::Clock& clock, std::vector<std::function<Status()>> tasks) {
  if (tasks.empty()) return Ok{};
  if (tasks.size() == 1) return tasks[0]();
  const int start = round_trip_depth();
  std::vector<Status> results(tasks.size());
  std::vector<int> depths(tasks.size(), start);
  std::vector<std::function<void()>> runs;
  runs.reserve(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i)
    runs.push_back([&, i] {
      round_trip_depth() = start;
      results[i] = tasks[i]();
      depths[i] = round_trip_depth();
    });
  CC_TRY(aws::fork_join(clock, std::move(runs)));  // a task that threw is an error, not a crash
  round_trip_depth() = *std::max_element(depths.begin(), depths.end());
  for (auto& r : results)
    if (!r.ok()) return r;
  return Ok{};
}

Result<aws::XmlResponse> call(Context& ctx, const std::string& service, const std::string& action,
                              const aws::Params& params) {
  return ctx.client.query(service, ctx.region, action, params);
}

bool has_code(const Error& e, std::initializer_list<const char*> codes) {
  for (const char* c : codes)
    if (e.code == c) return true;
  return false;
}

void add_filter(aws::Params& params, int n, const std::string& name, const std::vector<std::string>& values) {
  const std::string p = "Filter." + std::to_string(n);
  params.emplace_back(p + ".Name", name);
  for (size_t i = 0; i < values.size(); ++i) params.emplace_back(p + ".Value." + std::to_string(i + 1), values[i]);
}

void add_tag_spec(aws::Params& params, const std::string& resource_type,
                  const std::vector<std::pair<std::string, std::string>>& tags) {
  params.emplace_back("TagSpecification.1.ResourceType", resource_type);
  for (size_t i = 0; i < tags.size(); ++i) {
    const std::string p = "TagSpecification.1.Tag." + std::to_string(i + 1);
    params.emplace_back(p + ".Key", tags[i].first);
    params.emplace_back(p + ".Value", tags[i].second);
  }
}

json params_json(const aws::Params& params) {
  json out = json::object();
  for (const auto& [k, v] : params) out[k] = v;
  return out;
}

Result<std::string> instance_arn(const Context& ctx, const std::string& instance_id) {
  if (!ctx.target.arn.empty() && ctx.target.name == instance_id) return ctx.target.arn;
  std::string partition = ctx.target.partition.empty() ? "aws" : ctx.target.partition;
  CC_ASSIGN(aws::Arn arn, aws::ec2_instance_arn(partition, ctx.region, ctx.target.account, instance_id));
  return arn.str();
}

Result<aws::XmlResponse> call_not_idempotent(Context& ctx, const std::string& service, const std::string& action,
                                             const aws::Params& params) {
  return ctx.client.query(service, ctx.region, action, params, aws::CallOptions{.idempotent = false});
}

bool ambiguous(const Error& e) {
  return e.kind == ErrorKind::kTimeout || e.kind == ErrorKind::kNetwork || e.kind == ErrorKind::kTransient ||
         e.kind == ErrorKind::kThrottling || e.kind == ErrorKind::kParse;
}

std::string unguessable_suffix() {
  std::random_device rd;
  char out[17];
  std::snprintf(out, sizeof out, "%08x%08x", rd(), rd());
  return out;
}

namespace {
std::mutex created_mu;
std::map<std::string, std::string>& created_ids() {
  static std::map<std::string, std::string> ids;
  return ids;
}
}  // namespace

void remember_created(const std::string& key, const std::string& id) {
  std::lock_guard l(created_mu);
  created_ids()[key] = id;
}

std::string created_in_process(const std::string& key) {
  std::lock_guard l(created_mu);
  auto it = created_ids().find(key);
  return it == created_ids().end() ? "" : it->second;
}

Error not_holding(const std::string& what) {
  return Error{ErrorKind::kClient, "VerificationFailed", what};
}

}  // namespace containctl::actions::ec2
