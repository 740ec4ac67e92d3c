#include "approvals/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace containctl::approvals {
namespace {

namespace fs = std::filesystem;

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/containctl-keys-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string dir_;
};

TEST_F(KeysTest, GeneratesPrivateKey0600AndPublicKey) {
  auto paths = generate_keypair_files("alice", dir_);
  ASSERT_TRUE(paths.ok()) << paths.error().describe();
  EXPECT_EQ(paths->private_key, dir_ + "/alice.key.pem");
  EXPECT_EQ(paths->public_key, dir_ + "/alice.pub.pem");
  struct stat st {};
  ASSERT_EQ(::stat(paths->private_key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_NE(slurp(paths->private_key).find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  EXPECT_NE(slurp(paths->public_key).find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
  EXPECT_TRUE(read_public_key(paths->public_key).ok());
}

TEST_F(KeysTest, RefusesToOverwriteEitherFile) {
  ASSERT_TRUE(generate_keypair_files("alice", dir_).ok());
  std::string before = slurp(dir_ + "/alice.key.pem");
  auto again = generate_keypair_files("alice", dir_);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
  EXPECT_EQ(slurp(dir_ + "/alice.key.pem"), before);

  // Only the public key is in the way: nothing new is left behind.
  std::ofstream(dir_ + "/bob.pub.pem") << "placeholder";
  ASSERT_FALSE(generate_keypair_files("bob", dir_).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/bob.key.pem"));
  EXPECT_EQ(slurp(dir_ + "/bob.pub.pem"), "placeholder");
}

TEST_F(KeysTest, RejectsBadNames) {
  std::vector<std::string> names = {"", "../evil", "a/b", ".hidden", "-flag", "white space", std::string(65, 'a')};
  for (const std::string& name : names) {
    EXPECT_FALSE(generate_keypair_files(name, dir_).ok()) << name;
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(KeysTest, CreatesMissingOutputDirectory) {
  auto paths = generate_keypair_files("carol", dir_ + "/nested/keys");
  ASSERT_TRUE(paths.ok()) << paths.error().describe();
  EXPECT_TRUE(fs::exists(paths->public_key));
}

TEST_F(KeysTest, SignVerifyRoundTripAndTamper) {
  auto paths = generate_keypair_files("alice", dir_);
  ASSERT_TRUE(paths.ok());
  auto sig = sign_message(paths->private_key, "hello");
  ASSERT_TRUE(sig.ok()) << sig.error().describe();
  auto pem = read_public_key(paths->public_key);
  ASSERT_TRUE(pem.ok());
  EXPECT_TRUE(*verify_message(*pem, "hello", *sig));
  EXPECT_FALSE(*verify_message(*pem, "hellO", *sig));
  std::string bad = *sig;
  bad[3] = bad[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(*verify_message(*pem, "hello", bad));
  EXPECT_FALSE(*verify_message(*pem, "hello", "not base64!"));

  auto other = generate_keypair_files("mallory", dir_);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*verify_message(*read_public_key(other->public_key), "hello", *sig));
}

TEST_F(KeysTest, RefusesGroupReadablePrivateKey) {
  auto paths = generate_keypair_files("alice", dir_);
  ASSERT_TRUE(paths.ok());
  ::chmod(paths->private_key.c_str(), 0644);
  auto sig = sign_message(paths->private_key, "x");
  ASSERT_FALSE(sig.ok());
  EXPECT_NE(sig.error().message.find("chmod 600"), std::string::npos);
}

TEST_F(KeysTest, RejectsNonKeyFiles) {
  std::ofstream(dir_ + "/junk.pem") << "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
  EXPECT_FALSE(read_public_key(dir_ + "/junk.pem").ok());
  EXPECT_FALSE(read_public_key(dir_ + "/missing.pem").ok());
}

TEST(Base64Test, RoundTripsAllLengths) {
  std::string data;
  for (int n = 0; n < 70; ++n) {
    std::string out;
    ASSERT_TRUE(base64_decode(base64_encode(data), out)) << n;
    EXPECT_EQ(out, data);
    data += static_cast<char>(n * 37);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  std::string out;
  EXPECT_FALSE(base64_decode("Zm8", out));
  EXPECT_FALSE(base64_decode("Z=8=", out));
  EXPECT_FALSE(base64_decode("Zm9v!mFy", out));
  // Unused bits set: the same bytes spelled another way.
  EXPECT_FALSE(base64_decode("Zm9=", out));
  EXPECT_FALSE(base64_decode("Zh==", out));
}

}  // namespace
}  // namespace containctl::approvals
