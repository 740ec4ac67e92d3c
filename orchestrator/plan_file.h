// The plan file: deterministic JSON (sorted keys) with a plan_hash over its canonical form, so an
// approval binds to the exact plan and an edited plan is refused.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actions/action.h"

namespace containctl::orch {

using nlohmann::json;

inline constexpr const char* kPlanFormat = "containctl-plan/1";

json step_to_json(const actions::Step& step);
Result<actions::Step> step_from_json(const json& j, const std::string& where);

// Hex SHA-256 of the plan's compact dump with "plan_hash" removed (keys sorted, no whitespace).
std::string compute_plan_hash(const json& plan);

// Sets plan_hash and writes the plan (pretty, trailing newline). Refuses to write through a symlink.
Status write_plan(const std::string& path, json& plan);

// Parses and validates a plan file; a truncated file, a missing or mistyped field, or a hash that
// does not match (the plan was edited) is an error naming the file and the field.
Result<json> load_plan(const std::string& path);

// One executable entry of a plan: a target and the family that contains it.
struct PlanEntry {
  actions::Target target;
  std::string family;
  std::string account;
  std::string region;
  std::string confidence;
  std::vector<actions::Step> steps;
};
// The plan's entries, each step checked by its family (ActionFamily::check_step) and the steps'
// ids and depends_on checked as a graph: an error names the entry, the step and the field, and
// nothing runs. `find` looks families up (the registry's; tests pass their own).
using FamilyLookup = std::function<actions::ActionFamily*(const std::string&)>;
Result<std::vector<PlanEntry>> plan_entries(const json& plan);
Result<std::vector<PlanEntry>> plan_entries(const json& plan, const FamilyLookup& find);

}  // namespace containctl::orch
