// Permission policies derived from the action families' own lists of the IAM actions they call
// (ActionFamily::iam_actions()). Nothing here keeps a list of actions: the generated role can only
// drift from the code if a family's iam_actions() drifts from what the family calls.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actions/action.h"
#include "aws/result.h"

namespace containctl::stacksets {

// Templates keep insertion order so the output reads top-down like a hand-written template and is
// byte-identical for the same input.
using Doc = nlohmann::ordered_json;

// Resolves a comma-separated --actions list against `catalog` (the registry in production, fakes in
// tests). Empty list: every family in the catalog, in catalog order. Unknown names are an error that
// lists the known families; duplicates are ignored. Result is in catalog order.
Result<std::vector<const actions::ActionFamily*>> select_families(
    const std::vector<actions::ActionFamily*>& catalog, const std::string& list);

// "ec2-isolate" -> "Ec2Isolate" (IAM Sids are alphanumeric).
std::string sid_for_family(const std::string& family_name);

// The family's iam_actions(), sorted and deduplicated. An empty list or a malformed entry
// (not "service:Action") is an internal error naming the family: it is a bug in that family.
Result<std::vector<std::string>> family_actions(const actions::ActionFamily& family);

// {"Sid": ..., "Effect": "Allow", "Action": [...], "Resource": "*"}
Result<Doc> family_statement(const actions::ActionFamily& family);

// The escalation calls (AWS Support case, Security Hub note), from the lists kept beside them
// (aws::support_iam_actions, aws::securityhub_iam_actions): {"Sid": "Escalation", ...}.
Doc escalation_statement();

// {"Version": "2012-10-17", "Statement": [one statement per family, then the escalation statement]}
Result<Doc> permission_policy(const std::vector<const actions::ActionFamily*>& families);

}  // namespace containctl::stacksets
