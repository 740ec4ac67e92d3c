// The evidence a step left: what its apply returned, as journaled (snapshot ids, the isolation and
// created group ids, session-revocation cutoffs, new key ids and where their secret went). apply,
// status and rollback show it, so nobody has to open the journal to find it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace containctl::orch {

// The journaled `applied` without anything that looks like a secret (defence in depth: families
// never journal one); null when there is nothing to show.
nlohmann::json step_evidence(const nlohmann::json& applied);
// One line for people: "snapshots=snap-1,snap-2 isolation_group=sg-0abc"; "" when none.
std::string evidence_text(const nlohmann::json& applied);

}  // namespace containctl::orch
