#include "orchestrator/evidence.h"

#include <algorithm>
#include <cctype>

namespace containctl::orch {
namespace {

using nlohmann::json;

bool secret_like(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  key.erase(std::remove(key.begin(), key.end(), '_'), key.end());
  for (const char* word : {"secretaccesskey", "password", "sessiontoken", "privatekey", "secretstring"})
    if (key.find(word) != std::string::npos) return true;
  return false;
}

json scrub(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, x] : v.items())
      if (!secret_like(k)) out[k] = scrub(x);
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& x : v) out.push_back(scrub(x));
    return out;
  }
  return v;
}

bool empty_value(const json& v) {
  return v.is_null() || ((v.is_string() || v.is_array() || v.is_object()) && v.empty());
}

std::string scalar(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void flatten(const json& v, const std::string& prefix, std::string& out) {
  if (empty_value(v)) return;
  if (v.is_object()) {
    for (const auto& [k, x] : v.items()) flatten(x, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  std::string value;
  if (v.is_array()) {
    bool scalars = std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_primitive(); });
    if (scalars) {
      for (const auto& x : v) value += (value.empty() ? "" : ",") + scalar(x);
    } else {
      value = v.dump();
    }
  } else {
    value = scalar(v);
  }
  if (value.size() > 200) value = value.substr(0, 197) + "...";
  out += (out.empty() ? "" : " ") + (prefix.empty() ? std::string("value") : prefix) + "=" + value;
}

}  // namespace

json step_evidence(const json& applied) {
  if (empty_value(applied)) return json();
  json e = scrub(applied);
  return empty_value(e) ? json() : e;
}

std::string evidence_text(const json& applied) {
  std::string out;
  flatten(step_evidence(applied), "", out);
  return out;
}

}  // namespace containctl::orch
