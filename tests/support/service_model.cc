#include "tests/support/service_model.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "aws/url.h"

namespace containctl::testing {

using nlohmann::json;

ServiceModel ServiceModel::load(const std::string& file) {
  ServiceModel m;
  std::ifstream in(std::string(CONTAINCTL_SOURCE_DIR) + "/tests/data/botocore/" + file);
  EXPECT_TRUE(in.good()) << "missing model " << file;
  std::stringstream ss;
  ss << in.rdbuf();
  m.doc_ = json::parse(ss.str(), nullptr, false);
  EXPECT_TRUE(m.doc_.is_object() && m.doc_.contains("shapes") && m.doc_.contains("operations")) << file;
  return m;
}

std::string ServiceModel::check_shape(const std::string& name, const json& v, const std::string& path) const {
  const json& shapes = doc_.at("shapes");
  if (!shapes.contains(name)) return path + ": the model has no shape " + name;
  const json& s = shapes.at(name);
  const std::string type = s.value("type", "");
  auto bounds = [&](double n, const char* what) -> std::string {
    if (s.contains("min") && n < s.at("min").get<double>()) return path + ": " + what + " below min " + s.at("min").dump();
    if (s.contains("max") && n > s.at("max").get<double>()) return path + ": " + what + " above max " + s.at("max").dump();
    return "";
  };
  if (type == "structure") {
    if (!v.is_object()) return path + ": expected an object (" + name + ")";
    const json& members = s.value("members", json::object());
    for (const auto& r : s.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) return path + ": missing required member " + r.get<std::string>();
    for (const auto& [k, val] : v.items()) {
      if (!members.contains(k)) return path + ": " + name + " has no member '" + k + "'";
      if (auto e = check_shape(members.at(k).at("shape").get<std::string>(), val, path + "." + k); !e.empty()) return e;
    }
    return "";
  }
  if (type == "list") {
    if (!v.is_array()) return path + ": expected a list (" + name + ")";
    if (auto e = bounds(static_cast<double>(v.size()), "length"); !e.empty()) return e;
    for (size_t i = 0; i < v.size(); ++i)
      if (auto e = check_shape(s.at("member").at("shape").get<std::string>(), v[i], path + "[" + std::to_string(i) + "]");
          !e.empty())
        return e;
    return "";
  }
  if (type == "map") {
    if (!v.is_object()) return path + ": expected a map (" + name + ")";
    for (const auto& [k, val] : v.items())
      if (auto e = check_shape(s.at("value").at("shape").get<std::string>(), val, path + "." + k); !e.empty()) return e;
    return "";
  }
  if (type == "string") {
    if (!v.is_string()) return path + ": expected a string (" + name + ")";
    const std::string str = v.get<std::string>();
    if (auto e = bounds(static_cast<double>(str.size()), "length"); !e.empty()) return e;
    if (s.contains("enum")) {
      bool ok = false;
      for (const auto& x : s.at("enum")) ok = ok || x.get<std::string>() == str;
      if (!ok) return path + ": '" + str + "' is not in the enum of " + name;
    }
    if (s.contains("pattern") && !std::regex_search(str, std::regex(s.at("pattern").get<std::string>())))
      return path + ": '" + str + "' does not match " + s.at("pattern").get<std::string>();
    return "";
  }
  if (type == "boolean") return v.is_boolean() ? "" : path + ": expected a boolean (" + name + ")";
  if (type == "integer" || type == "long") {
    if (!v.is_number_integer()) return path + ": expected an integer (" + name + ")";
    return bounds(v.get<double>(), "value");
  }
  if (type == "double" || type == "float") return v.is_number() ? "" : path + ": expected a number (" + name + ")";
  if (type == "timestamp") return v.is_string() || v.is_number() ? "" : path + ": expected a timestamp (" + name + ")";
  if (type == "blob") return v.is_string() ? "" : path + ": expected base64 text (" + name + ")";
  return path + ": shape type '" + type + "' not handled by the checker";
}

std::string ServiceModel::check_input(const std::string& op, const json& body) const {
  const json& ops = doc_.at("operations");
  if (!ops.contains(op)) return "the model has no operation " + op;
  if (!ops.at(op).contains("input")) return body.empty() ? "" : op + " takes no input";
  return check_shape(ops.at(op).at("input").at("shape").get<std::string>(), body, op);
}

std::string ServiceModel::check_output(const std::string& op, const json& body) const {
  const json& ops = doc_.at("operations");
  if (!ops.contains(op)) return "the model has no operation " + op;
  if (!ops.at(op).contains("output")) return "";
  return check_shape(ops.at(op).at("output").at("shape").get<std::string>(), body, op + " output");
}

std::string ServiceModel::check_request(const std::string& op, const aws::HttpRequest& req) const {
  const json& meta = doc_.at("metadata");
  const std::string protocol = meta.value("protocol", "");
  auto url = aws::parse_url(req.url);
  if (!url.ok()) return "unparseable URL " + req.url;
  if (protocol == "json") {
    const std::string want = meta.value("targetPrefix", "") + "." + op;
    if (std::string(req.header("X-Amz-Target")) != want)
      return "X-Amz-Target is '" + std::string(req.header("X-Amz-Target")) + "', the model says " + want;
    const std::string ct = "application/x-amz-json-" + meta.value("jsonVersion", "1.1");
    if (std::string(req.header("Content-Type")) != ct) return "Content-Type is not " + ct;
    if (req.method != "POST" || (url->path != "/" && !url->path.empty())) return "JSON protocol calls are POST /";
  } else if (protocol == "rest-json") {
    const json& http = doc_.at("operations").at(op).at("http");
    if (req.method != http.value("method", "")) return "method " + req.method + ", the model says " + http.value("method", "");
    if (url->path != http.value("requestUri", "")) return "path " + url->path + ", the model says " + http.value("requestUri", "");
  } else {
    return "protocol '" + protocol + "' not handled by the checker";
  }
  json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return "the body is not JSON";
  return check_input(op, body);
}

}  // namespace containctl::testing
