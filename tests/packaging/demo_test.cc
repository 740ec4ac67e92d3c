// scripts/demo on a built tree: it builds the binary only (never the tests or everything), and
// shows the evidence of the run (status RUN with the isolation group and snapshot ids) and the
// undo command, from containctl itself.
#include <gtest/gtest.h>

#include "tests/packaging/pkg_util.h"

namespace containctl::pkgtest {
namespace {

TEST(Demo, BuildsOnlyTheBinaryAndShowsTheRunsEvidence) {
  fs::path tmp = temp_dir("demo");
  // A cmake that logs how it was called, then runs the real one.
  fs::path bin = tmp / "bin";
  fs::create_directories(bin);
  {
    std::ofstream w(bin / "cmake");
    w << "#!/bin/sh\necho \"$*\" >> " << q((tmp / "cmake.log").string()) << "\nexec /usr/bin/cmake \"$@\"\n";
  }
  fs::permissions(bin / "cmake", fs::perms::owner_all);
  Cmd demo = sh("cd " + q(CONTAINCTL_SOURCE_DIR) + " && env PATH=" + q(bin.string()) + ":$PATH CONTAINCTL_BUILD_DIR=" +
                q(build_dir().string()) + " timeout 600 scripts/demo");
  ASSERT_EQ(demo.code, 0) << demo.out;
  const std::string log = slurp(tmp / "cmake.log");
  std::stringstream lines(log);
  std::string line;
  int builds = 0;
  while (std::getline(lines, line)) {
    if (line.find("--build") == std::string::npos) continue;
    builds++;
    EXPECT_NE(line.find("--target containctl"), std::string::npos) << "the demo builds only the binary: " << line;
  }
  EXPECT_EQ(builds, 1) << log;
  // The run's status shows each step's evidence; apply names the undo command.
  const size_t status = demo.out.find("== Status of ");
  ASSERT_NE(status, std::string::npos) << demo.out;
  const std::string section = demo.out.substr(status, demo.out.find("\n== ", status + 1) - status);
  EXPECT_NE(section.find("isolation_groups."), std::string::npos) << section;
  EXPECT_NE(section.find("sg-"), std::string::npos) << section;
  EXPECT_NE(section.find("run by arn:aws:iam::"), std::string::npos) << section;
  EXPECT_NE(demo.out.find("Undo: containctl rollback run-"), std::string::npos) << demo.out;
  EXPECT_NE(demo.out.find("Contained now:"), std::string::npos) << demo.out;
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace containctl::pkgtest
