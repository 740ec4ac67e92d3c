// Serialising templates: JSON (nlohmann, 2-space indent) or YAML (yaml-cpp, block style). Both are
// deterministic: the same Doc gives byte-identical text.
#pragma once

#include <string>

#include "stacksets/policy.h"

namespace containctl::stacksets {

enum class Format { kYaml, kJson };

Result<Format> parse_format(const std::string& text);
const char* extension(Format f);  // "yaml" or "json"

std::string to_yaml(const Doc& doc);
std::string to_json(const Doc& doc);
std::string emit(const Doc& doc, Format f);

}  // namespace containctl::stacksets
