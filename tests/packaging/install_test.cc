// `cmake --install` into a DESTDIR puts the binary, the man page and the completions in the usual
// places; scripts/package's deb step makes containctl_<version>_amd64.deb whose Depends come from
// dpkg-shlibdeps (the binary's real libraries) and whose files are those same files.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "tests/packaging/pkg_util.h"

namespace containctl::pkgtest {
namespace {

const char* const kInstalled[] = {
    "usr/bin/containctl",
    "usr/share/man/man1/containctl.1",
    "usr/share/bash-completion/completions/containctl",
    "usr/share/zsh/vendor-completions/_containctl",
    "usr/share/doc/containctl/README.md",
};

TEST(Install, DestdirGetsBinaryManPageAndCompletions) {
  fs::path dest = temp_dir("install");
  Cmd r = sh("DESTDIR=" + q(dest.string()) + " cmake --install " + q(build_dir().string()) + " --prefix /usr");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : kInstalled) EXPECT_TRUE(fs::is_regular_file(dest / f)) << f;
  struct stat st {};
  ASSERT_EQ(::stat((dest / "usr/bin/containctl").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXOTH);
  EXPECT_EQ(slurp(dest / "usr/share/man/man1/containctl.1"), slurp(build_dir() / "share/man/man1/containctl.1"));
  // The installed binary is the built one and runs.
  Cmd v = sh(q((dest / "usr/bin/containctl").string()) + " --version");
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_EQ(v.out.rfind("containctl ", 0), 0u) << v.out;
  // man finds the page through the installed tree.
  Cmd m = sh("MANWIDTH=200 man -M " + q((dest / "usr/share/man").string()) + " containctl | head -5");
  EXPECT_NE(m.out.find("plan, approve, apply and roll back"), std::string::npos) << m.out;
  // Nothing else: a file added to the install rules must be added here too.
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dest))
    if (e.is_regular_file()) ++files;
  EXPECT_EQ(files, std::size(kInstalled));
  fs::remove_all(dest);
}

TEST(Package, DebHasTheFilesAndComputedDepends) {
  fs::path dist = temp_dir("dist");
  Cmd r = sh(q(CONTAINCTL_SOURCE_DIR "/scripts/package") + " --deb-only --no-build --build-dir " + q(build_dir().string()) +
             " --dist " + q(dist.string()));
  ASSERT_EQ(r.code, 0) << r.out;
  fs::path deb = dist / ("containctl_" CONTAINCTL_VERSION_FOR_TEST "_amd64.deb");
  ASSERT_TRUE(fs::is_regular_file(deb)) << r.out;

  Cmd depends = sh("dpkg-deb -f " + q(deb.string()) + " Depends");
  ASSERT_EQ(depends.code, 0) << depends.out;
  // The libraries the binary links (ldd) each appear as their Debian package, with a version from
  // the shlibs/symbols files: dpkg-shlibdeps, not a list written by hand.
  for (const char* pkg : {"libc6 (>=", "libcurl4 (>=", "libssl3 (>=", "libsqlite3-0 (>=", "libyaml-cpp0.7",
                          "libpugixml1v5", "libstdc++6 (>="})
    EXPECT_NE(depends.out.find(pkg), std::string::npos) << pkg << " missing from Depends: " << depends.out;
  Cmd ldd = sh("ldd " + q(CONTAINCTL_BINARY) + " | grep -c '=> /'");
  Cmd dep_count = sh("dpkg-deb -f " + q(deb.string()) + " Depends | tr ',' '\\n' | grep -c .");
  EXPECT_GE(std::stoi(ldd.out), 8) << "the binary links its libraries dynamically";
  EXPECT_GE(std::stoi(dep_count.out), 8) << depends.out;
  EXPECT_EQ(sh("dpkg-deb -f " + q(deb.string()) + " Package").out, "containctl\n");
  EXPECT_EQ(sh("dpkg-deb -f " + q(deb.string()) + " Version").out, CONTAINCTL_VERSION_FOR_TEST "\n");
  EXPECT_EQ(sh("dpkg-deb -f " + q(deb.string()) + " Architecture").out, "amd64\n");

  Cmd contents = sh("dpkg-deb --contents " + q(deb.string()));
  ASSERT_EQ(contents.code, 0) << contents.out;
  for (const char* f : kInstalled) EXPECT_NE(contents.out.find(std::string("./") + f), std::string::npos) << f;
  // The packaged binary is stripped and still runs.
  fs::path x = dist / "x";
  ASSERT_EQ(sh("dpkg-deb -x " + q(deb.string()) + " " + q(x.string())).code, 0);
  Cmd v = sh(q((x / "usr/bin/containctl").string()) + " --version");
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_LT(fs::file_size(x / "usr/bin/containctl"), fs::file_size(CONTAINCTL_BINARY));
  fs::remove_all(dist);
}

}  // namespace
}  // namespace containctl::pkgtest
