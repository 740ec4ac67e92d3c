#include "orchestrator/plan_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "actions/registry.h"
#include "aws/concurrency.h"
#include "aws/sigv4.h"

namespace containctl::orch {
namespace {

Error bad(const std::string& where, const std::string& why) {
  return Error::invalid(where + ": " + why, "InvalidPlan");
}

Result<std::string> get_string(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return bad(where, "missing field '" + std::string(key) + "'");
  if (!j[key].is_string()) return bad(where + "." + key, "must be a string");
  return j[key].get<std::string>();
}

// Step ids are unique within an entry and every depends_on names another step of it, without a
// cycle: otherwise the executor could never start some steps.
Status check_step_graph(const std::vector<actions::Step>& steps, const std::string& where) {
  std::set<std::string> ids, done;
  for (const auto& s : steps)
    if (!ids.insert(s.id).second) return bad(where + ".steps", "step id '" + s.id + "' appears twice");
  for (const auto& s : steps)
    for (const auto& d : s.depends_on)
      if (!ids.count(d) || d == s.id)
        return bad(where + ".steps", "step '" + s.id + "' depends on '" + d + "', which is not another step of this target");
  while (done.size() < steps.size()) {
    size_t before = done.size();
    for (const auto& s : steps)
      if (!done.count(s.id) &&
          std::all_of(s.depends_on.begin(), s.depends_on.end(), [&](const std::string& d) { return done.count(d) > 0; }))
        done.insert(s.id);
    if (done.size() == before) return bad(where + ".steps", "the steps' depends_on form a cycle");
  }
  return Ok{};
}

}  // namespace

json step_to_json(const actions::Step& s) {
  json calls = json::array();
  for (const auto& c : s.calls)
    calls.push_back({{"service", c.service}, {"operation", c.operation}, {"params", c.params}, {"mutating", c.mutating}});
  json j = {{"id", s.id},           {"description", s.description}, {"calls", calls},
            {"before", s.before},   {"after", s.after},             {"reversible", s.reversible},
            {"warnings", s.warnings}, {"args", s.args},             {"depends_on", s.depends_on},
            {"min_hold_seconds", s.min_hold_seconds}};
  if (s.cosmetic) j["cosmetic"] = true;  // absent in plans without cosmetic steps, as before
  return j;
}

Result<actions::Step> step_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "must be an object");
  static const std::vector<std::string> kKnown = {"id", "description", "calls", "before", "after", "reversible",
                                                  "warnings", "args", "depends_on", "min_hold_seconds",
                                                  "cosmetic"};
  for (const auto& [k, v] : j.items())
    if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end()) return bad(where + "." + k, "unknown field");
  actions::Step s;
  CC_ASSIGN(s.id, get_string(j, "id", where));
  CC_ASSIGN(s.description, get_string(j, "description", where));
  if (!j.contains("calls") || !j["calls"].is_array()) return bad(where + ".calls", "must be an array");
  for (const auto& c : j["calls"]) {
    actions::ApiCall call;
    CC_ASSIGN(call.service, get_string(c, "service", where + ".calls"));
    CC_ASSIGN(call.operation, get_string(c, "operation", where + ".calls"));
    if (c.contains("params") && !c["params"].is_object()) return bad(where + ".calls.params", "must be an object");
    call.params = c.value("params", json::object());
    if (c.contains("mutating") && !c["mutating"].is_boolean()) return bad(where + ".calls.mutating", "must be true or false");
    call.mutating = c.value("mutating", true);
    s.calls.push_back(std::move(call));
  }
  s.before = j.value("before", json::object());
  s.after = j.value("after", json::object());
  if (!j.contains("reversible") || !j["reversible"].is_boolean()) return bad(where + ".reversible", "must be true or false");
  s.reversible = j["reversible"].get<bool>();
  if (j.contains("warnings")) {
    if (!j["warnings"].is_array()) return bad(where + ".warnings", "must be an array");
    for (const auto& w : j["warnings"]) s.warnings.push_back(w.is_string() ? w.get<std::string>() : w.dump());
  }
  s.args = j.value("args", json::object());
  if (j.contains("depends_on")) {
    if (!j["depends_on"].is_array()) return bad(where + ".depends_on", "must be an array of step ids");
    for (const auto& d : j["depends_on"]) {
      if (!d.is_string()) return bad(where + ".depends_on", "must be an array of step ids");
      s.depends_on.push_back(d.get<std::string>());
    }
  }
  if (j.contains("cosmetic")) {
    if (!j["cosmetic"].is_boolean()) return bad(where + ".cosmetic", "must be true or false");
    s.cosmetic = j["cosmetic"].get<bool>();
  }
  if (j.contains("min_hold_seconds")) {
    if (!j["min_hold_seconds"].is_number_integer()) return bad(where + ".min_hold_seconds", "must be an integer");
    s.min_hold_seconds = j["min_hold_seconds"].get<int>();
  }
  return s;
}

std::string compute_plan_hash(const json& plan) {
  json copy = plan;
  copy.erase("plan_hash");
  return aws::sha256_hex(copy.dump());
}

Status write_plan(const std::string& path, json& plan) {
  plan["plan_hash"] = compute_plan_hash(plan);
  std::string text = plan.dump(2) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Error::io(path + ": cannot write plan file: " + std::strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      ::close(fd);
      return Error::io(path + ": write failed");
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  return Ok{};
}

Result<json> load_plan(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io(path + ": cannot read plan file");
  std::stringstream buf;
  buf << in.rdbuf();
  json plan = json::parse(buf.str(), nullptr, false);
  if (plan.is_discarded()) return bad(path, "not valid JSON (truncated or malformed plan file)");
  if (!plan.is_object()) return bad(path, "a plan file is a JSON object");
  CC_ASSIGN(std::string format, get_string(plan, "format", path));
  if (format != kPlanFormat) return bad(path + ".format", "unsupported plan format '" + format + "'");
  CC_ASSIGN(std::string hash, get_string(plan, "plan_hash", path));
  if (hash != compute_plan_hash(plan))
    return bad(path, "plan_hash does not match the plan's content: the plan was edited after planning");
  CC_TRY(plan_entries(plan));  // validates every target and step
  return plan;
}

Result<std::vector<PlanEntry>> plan_entries(const json& plan) { return plan_entries(plan, actions::find_family); }

Result<std::vector<PlanEntry>> plan_entries(const json& plan, const FamilyLookup& find) {
  if (!plan.contains("targets") || !plan["targets"].is_array()) return bad("plan.targets", "must be an array");
  std::vector<PlanEntry> out;
  for (size_t i = 0; i < plan["targets"].size(); ++i) {
    const json& t = plan["targets"][i];
    std::string where = "plan.targets[" + std::to_string(i) + "]";
    if (!t.is_object()) return bad(where, "must be an object");
    PlanEntry e;
    CC_ASSIGN(std::string arn, get_string(t, "target", where));
    CC_ASSIGN(e.target, actions::parse_target_arn(arn));
    CC_ASSIGN(e.family, get_string(t, "family", where));
    const actions::ActionFamily* fam = find(e.family);
    if (!fam) return bad(where + ".family", "unknown action family '" + e.family + "'");
    CC_ASSIGN(e.account, get_string(t, "account", where));
    CC_ASSIGN(e.region, get_string(t, "region", where));
    CC_ASSIGN(e.confidence, get_string(t, "confidence", where));
    if (!fam->handles(e.target))
      return bad(where + ".family", "action family '" + e.family + "' does not handle target " + e.target.arn);
    if (!t.contains("steps") || !t["steps"].is_array()) return bad(where + ".steps", "must be an array");
    for (size_t k = 0; k < t["steps"].size(); ++k) {
      std::string step_where = where + ".steps[" + std::to_string(k) + "]";
      CC_ASSIGN(actions::Step s, step_from_json(t["steps"][k], step_where));
      // The family's typed check: a hand-edited field is refused here, before anything runs.
      Status checked = aws::catch_all_status(step_where, [&] { return fam->check_step(s); });
      if (!checked.ok())
        return bad(step_where + " (" + e.target.arn + ", step '" + s.id + "')", checked.error().message);
      e.steps.push_back(std::move(s));
    }
    CC_TRY(check_step_graph(e.steps, where));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace containctl::orch
