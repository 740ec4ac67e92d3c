#include "stacksets/emit.h"

#include <algorithm>
#include <cctype>

#include <yaml-cpp/yaml.h>

namespace containctl::stacksets {
namespace {

// Plain scalars that a YAML reader would not read back as the same string: numbers, account ids,
// dates ("2012-10-17" is a timestamp to YAML 1.1 readers such as cfn-lint's), booleans and nulls
// in their YAML 1.1 spellings. yaml-cpp quotes syntax characters itself but not these.
bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  unsigned char c0 = static_cast<unsigned char>(s[0]);
  if (std::isdigit(c0)) return true;
  if ((c0 == '-' || c0 == '+' || c0 == '.') && s.size() > 1 && std::isdigit(static_cast<unsigned char>(s[1])))
    return true;
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* const kWords[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf",
                                       ".nan"};
  for (const char* w : kWords)
    if (lower == w) return true;
  return false;
}

void write(YAML::Emitter& out, const Doc& v) {
  switch (v.type()) {
    case Doc::value_t::object:
      out << YAML::BeginMap;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        write(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case Doc::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& e : v) write(out, e);
      out << YAML::EndSeq;
      break;
    case Doc::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (s.find('\n') != std::string::npos)
        out << YAML::Literal << s;  // embedded templates (TemplateBody) stay readable
      else if (needs_quotes(s))
        out << YAML::DoubleQuoted << s;
      else
        out << s;
      break;
    }
    case Doc::value_t::boolean:
      out << (v.get<bool>() ? "true" : "false");
      break;
    case Doc::value_t::number_integer:
      out << v.get<long long>();
      break;
    case Doc::value_t::number_unsigned:
      out << v.get<unsigned long long>();
      break;
    case Doc::value_t::number_float:
      out << v.get<double>();
      break;
    default:
      out << YAML::Null;
  }
}

}  // namespace

Result<Format> parse_format(const std::string& text) {
  if (text == "yaml" || text == "yml") return Format::kYaml;
  if (text == "json") return Format::kJson;
  return Error::invalid("unknown --format '" + text + "' (yaml or json)");
}

const char* extension(Format f) { return f == Format::kYaml ? "yaml" : "json"; }

std::string to_yaml(const Doc& doc) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetMapFormat(YAML::Block);
  out.SetSeqFormat(YAML::Block);
  write(out, doc);
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') s += '\n';
  return s;
}

std::string to_json(const Doc& doc) { return doc.dump(2) + "\n"; }

std::string emit(const Doc& doc, Format f) { return f == Format::kYaml ? to_yaml(doc) : to_json(doc); }

}  // namespace containctl::stacksets
