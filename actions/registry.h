// The action families the tool knows, by name.
#pragma once

#include <string>
#include <vector>

#include "actions/action.h"

namespace containctl::actions {

// Every family, in a fixed order. Owned by the registry.
const std::vector<ActionFamily*>& all_families();
// nullptr when unknown.
ActionFamily* find_family(const std::string& name);
// Names of all families, comma-separated (for error messages).
std::string family_names();

}  // namespace containctl::actions
