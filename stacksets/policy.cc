#include "stacksets/policy.h"

#include "aws/securityhub.h"
#include "aws/support.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>


namespace containctl::stacksets {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

std::string names_of(const std::vector<actions::ActionFamily*>& catalog) {
  std::string out;
  for (const auto* f : catalog) out += (out.empty() ? "" : ", ") + f->name();
  return out.empty() ? "(none registered)" : out;
}

// "service:Action" where service is lower-case and Action is alphanumeric (IAM's own grammar).
bool well_formed_action(const std::string& a) {
  size_t colon = a.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = a[i];
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
      return false;
  }
  for (size_t i = colon + 1; i < a.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(a[i]))) return false;
  return true;
}

}  // namespace

Result<std::vector<const actions::ActionFamily*>> select_families(
    const std::vector<actions::ActionFamily*>& catalog, const std::string& list) {
  std::vector<const actions::ActionFamily*> out;
  if (trim(list).empty()) {
    for (const auto* f : catalog) out.push_back(f);
    if (out.empty()) return Error::invalid("no action families are registered in this build", "NoActionFamilies");
    return out;
  }
  std::set<std::string> wanted;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item.empty()) return Error::invalid("--actions has an empty entry in '" + list + "'", "UnknownActionFamily");
    bool known = std::any_of(catalog.begin(), catalog.end(), [&](auto* f) { return f->name() == item; });
    if (!known)
      return Error::invalid("unknown action family '" + item + "' in --actions; known families: " + names_of(catalog),
                            "UnknownActionFamily");
    wanted.insert(item);
  }
  for (const auto* f : catalog)
    if (wanted.count(f->name())) out.push_back(f);
  return out;
}

std::string sid_for_family(const std::string& family_name) {
  std::string out;
  bool upper = true;
  for (char c : family_name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

Result<std::vector<std::string>> family_actions(const actions::ActionFamily& family) {
  std::vector<std::string> acts = family.iam_actions();
  if (acts.empty()) return Error::internal("action family '" + family.name() + "' declares no IAM actions");
  for (const auto& a : acts)
    if (!well_formed_action(a))
      return Error::internal("action family '" + family.name() + "' declares a malformed IAM action '" + a + "'");
  std::sort(acts.begin(), acts.end());
  acts.erase(std::unique(acts.begin(), acts.end()), acts.end());
  return acts;
}

Result<Doc> family_statement(const actions::ActionFamily& family) {
  CC_ASSIGN(std::vector<std::string> acts, family_actions(family));
  Doc st;
  st["Sid"] = sid_for_family(family.name());
  st["Effect"] = "Allow";
  st["Action"] = acts;
  // Resource "*": the targets are chosen at incident time (any instance, user, role or bucket in the
  // account), so the resources cannot be known when the role is deployed. docs/stacksets.md lists
  // what can be narrowed.
  st["Resource"] = "*";
  return st;
}

Doc escalation_statement() {
  std::vector<std::string> acts = aws::support_iam_actions();
  for (const auto& a : aws::securityhub_iam_actions()) acts.push_back(a);
  std::sort(acts.begin(), acts.end());
  Doc st;
  st["Sid"] = "Escalation";
  st["Effect"] = "Allow";
  st["Action"] = acts;
  // Support cases and Security Hub findings have no resource-level permissions.
  st["Resource"] = "*";
  return st;
}

Result<Doc> permission_policy(const std::vector<const actions::ActionFamily*>& families) {
  if (families.empty()) return Error::invalid("no action families selected", "NoActionFamilies");
  Doc doc;
  doc["Version"] = "2012-10-17";
  doc["Statement"] = Doc::array();
  for (const auto* f : families) {
    CC_ASSIGN(Doc st, family_statement(*f));
    doc["Statement"].push_back(std::move(st));
  }
  doc["Statement"].push_back(escalation_statement());
  return doc;
}

}  // namespace containctl::stacksets
