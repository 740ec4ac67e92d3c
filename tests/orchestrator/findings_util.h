// Helpers shared by the findings tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "orchestrator/findings.h"

namespace containctl::orch::testing {

using nlohmann::json;

inline std::string finding_data(const std::string& name) {
  return std::string(CONTAINCTL_SOURCE_DIR) + "/tests/data/findings/" + name;
}

inline json read_finding(const std::string& name) {
  std::ifstream in(finding_data(name));
  return json::parse(in);
}

inline FindingTargets judge(const json& doc) {
  auto r = targets_from_finding(doc, "finding.json");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  return r.ok() ? *r : FindingTargets{};
}

inline FindingTargets judge_file(const std::string& name) {
  auto r = load_finding_file(finding_data(name));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  return r.ok() ? *r : FindingTargets{};
}

inline std::vector<std::string> arns(const FindingTargets& f) {
  std::vector<std::string> out;
  for (const auto& t : f.targets) out.push_back(t.arn);
  return out;
}

// The skipped entry whose resource contains `resource`, or nullptr.
inline const SkippedResource* skipped(const FindingTargets& f, const std::string& resource) {
  for (const auto& s : f.skipped) {
    if (s.resource.find(resource) != std::string::npos) return &s;
  }
  return nullptr;
}

inline const FindingTarget* target(const FindingTargets& f, const std::string& arn) {
  for (const auto& t : f.targets) {
    if (t.arn == arn) return &t;
  }
  return nullptr;
}

struct CliRun {
  int code = -1;
  std::string out;
};

// The real binary, with no credentials and an endpoint nothing listens on, so any AWS call would
// fail the command. `stdin_file` feeds stdin; stderr goes to stdout's end only for text checks.
inline CliRun containctl(const std::string& args, const std::string& stdin_file = "/dev/null") {
  std::string cmd = "env -i PATH=/usr/bin:/bin HOME=/nonexistent AWS_ENDPOINT_URL=http://127.0.0.1:9 "
                    "AWS_EC2_METADATA_DISABLED=true CONTAINCTL_STATE_DIR=/nonexistent/state " +
                    std::string(CONTAINCTL_BINARY) + " " + args + " <" + stdin_file + " 2>&1";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace containctl::orch::testing
