#include "orchestrator/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "aws/sigv4.h"

namespace containctl::orch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp_file(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

aws::TimePoint start_time() {
  aws::TimePoint t;
  aws::parse_time("2026-11-23T07:00:00Z", t);
  return t + std::chrono::milliseconds(42);
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/containctl-audit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/audit.jsonl";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_records(int n) {
    auto log = AuditLog::open(path_, clock_);
    ASSERT_TRUE(log.ok()) << log.error().describe();
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE((*log)->append("aws_call", {{"run_id", i % 2 ? "run-a" : "run-b"}, {"operation", "Op" + std::to_string(i)}})
                      .ok());
      clock_.advance(std::chrono::milliseconds(1));
    }
  }
  std::vector<std::string> lines() {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void rewrite(const std::vector<std::string>& ls) {
    std::ofstream out(path_, std::ios::trunc);
    for (const auto& l : ls) out << l << "\n";
  }
  // Recomputes one record's hash as a careful forger would.
  static std::string reseal(json rec) {
    rec["hash"] = audit_record_hash(rec);
    return rec.dump();
  }
  AuditVerifyResult verify() {
    auto r = verify_audit_log(path_);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    return r.ok() ? *r : AuditVerifyResult{};
  }
  void expect_bad(const std::string& what, uint64_t line, uint64_t seq) {
    auto r = verify();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.problem.find(what), std::string::npos) << r.problem;
    EXPECT_EQ(r.bad_line, line) << r.problem;
    EXPECT_EQ(r.bad_seq, seq) << r.problem;
    if (line) {
      EXPECT_NE(r.problem.find("line " + std::to_string(line)), std::string::npos) << r.problem;
    }
  }

  aws::ManualClock clock_{start_time()};
  std::string dir_, path_;
};

TEST_F(AuditLogTest, WritesTheDocumentedChain) {
  write_records(3);
  auto ls = lines();
  ASSERT_EQ(ls.size(), 3u);
  json first = json::parse(ls[0]);
  EXPECT_EQ(first["seq"], 1);
  EXPECT_EQ(first["time"], "2026-11-23T07:00:00.042Z");
  EXPECT_EQ(first["event"], "aws_call");
  EXPECT_EQ(first["run_id"], "run-a");
  EXPECT_EQ(first["prev_hash"], kGenesisHash);
  json copy = first;
  copy.erase("hash");
  EXPECT_EQ(first["hash"], aws::sha256_hex(copy.dump()));
  EXPECT_EQ(ls[0], first.dump()) << "each line is the compact sorted dump";
  json second = json::parse(ls[1]);
  EXPECT_EQ(second["prev_hash"], first["hash"]);
  EXPECT_EQ(second["time"], "2026-11-23T07:00:00.043Z");

  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat((dir_ + "/audit.head").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  auto r = verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 3u);
  EXPECT_TRUE(r.anchored);
  EXPECT_EQ(r.last_hash, json::parse(ls[2])["hash"]);
}

TEST_F(AuditLogTest, ReopenContinuesTheChain) {
  write_records(2);
  write_records(2);
  auto r = verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 4u);
  EXPECT_EQ(json::parse(lines()[3])["seq"], 4);
}

TEST_F(AuditLogTest, EmptyLogVerifies) {
  ASSERT_TRUE(AuditLog::open(path_, clock_).ok());
  auto r = verify();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.records, 0u);
  EXPECT_FALSE(verify_audit_log(dir_ + "/none.jsonl").ok());
}

TEST_F(AuditLogTest, DetectsChangedField) {
  write_records(5);
  auto ls = lines();
  ls[2].replace(ls[2].find("Op3"), 3, "Op9");
  rewrite(ls);
  expect_bad("was changed", 3, 3);
}

TEST_F(AuditLogTest, DetectsChangedRecordWithRecomputedHash) {
  write_records(5);
  auto ls = lines();
  json rec = json::parse(ls[1]);
  rec["operation"] = "Innocent";
  ls[1] = reseal(rec);
  rewrite(ls);
  expect_bad("record seq 2 (line 2) was changed or replaced", 2, 2);
}

TEST_F(AuditLogTest, DetectsRemovedRecord) {
  write_records(5);
  auto ls = lines();
  ls.erase(ls.begin() + 2);
  rewrite(ls);
  expect_bad("record seq 3 was removed before record seq 4 (line 3)", 3, 4);
}

TEST_F(AuditLogTest, DetectsRemovedFirstRecord) {
  write_records(3);
  auto ls = lines();
  ls.erase(ls.begin());
  rewrite(ls);
  expect_bad("record seq 1 was removed", 1, 2);
}

TEST_F(AuditLogTest, DetectsRemovedLastRecordsThroughTheAnchor) {
  write_records(5);
  auto ls = lines();
  ls.resize(3);
  rewrite(ls);
  expect_bad("records seq 4..5 were removed from the end", 0, 4);
  rewrite({});
  expect_bad("records seq 1..5 were removed from the end", 0, 1);
}

TEST_F(AuditLogTest, DetectsReplacedLastRecordThroughTheAnchor) {
  write_records(3);
  auto ls = lines();
  json rec = json::parse(ls[2]);
  rec["operation"] = "Innocent";
  ls[2] = reseal(rec);
  rewrite(ls);
  expect_bad("record seq 3 (line 3) was changed or replaced", 3, 3);
}

TEST_F(AuditLogTest, DetectsMissingAnchor) {
  write_records(2);
  fs::remove(dir_ + "/audit.head");
  expect_bad("is missing", 0, 0);
}

TEST_F(AuditLogTest, DetectsInsertedRecord) {
  write_records(4);
  auto ls = lines();
  // A forged record that chains correctly to record 2 and reuses seq 3.
  json forged = json::parse(ls[2]);
  forged["operation"] = "Forged";
  forged["prev_hash"] = json::parse(ls[1])["hash"];
  ls.insert(ls.begin() + 2, reseal(forged));
  rewrite(ls);
  expect_bad("record seq 3 (line 3) was inserted", 3, 3);
}

TEST_F(AuditLogTest, DetectsCopiedRecord) {
  write_records(4);
  auto ls = lines();
  ls.insert(ls.begin() + 3, ls[1]);  // seq 2 again after seq 3
  rewrite(ls);
  expect_bad("record seq 2 (line 4) is a copy of an earlier record", 4, 2);
}

TEST_F(AuditLogTest, DetectsReorderedRecords) {
  write_records(5);
  auto ls = lines();
  std::swap(ls[2], ls[3]);
  rewrite(ls);
  expect_bad("reordered: record seq 4 (line 3) comes before record seq 3 (line 4)", 3, 4);
}

TEST_F(AuditLogTest, DetectsTruncatedAndGarbledLines) {
  write_records(4);
  auto ls = lines();
  {
    std::ofstream out(path_, std::ios::trunc);
    for (int i = 0; i < 3; ++i) out << ls[i] << "\n";
    out << ls[3].substr(0, ls[3].size() / 2);  // cut off mid-record, no newline
  }
  expect_bad("line 4 is a truncated record", 4, 0);
  // Appending to such a log is refused rather than burying the damage.
  auto log = AuditLog::open(path_, clock_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().message.find("partial record"), std::string::npos);

  ls[1] = ls[1].substr(0, 30);  // garbled in the middle
  rewrite(ls);
  expect_bad("line 2 is not a valid JSON record", 2, 0);
}

TEST_F(AuditLogTest, ConcurrentAppendsFromThreadsKeepAValidChain) {
  auto log = AuditLog::open(path_, clock_);
  ASSERT_TRUE(log.ok());
  // A second handle on the same file in the same process competes through flock.
  auto other = AuditLog::open(path_, clock_);
  ASSERT_TRUE(other.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      AuditLog& l = t % 2 ? **log : **other;
      for (int i = 0; i < 25; ++i) ASSERT_TRUE(l.append("tick", {{"thread", t}, {"i", i}}).ok());
    });
  }
  for (auto& th : threads) th.join();
  auto r = verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 200u);
}

TEST_F(AuditLogTest, ConcurrentAppendsFromProcessesKeepAValidChain) {
  write_records(1);
  std::vector<pid_t> kids;
  for (int p = 0; p < 3; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      aws::ManualClock clock(start_time());
      auto log = AuditLog::open(path_, clock);
      bool good = log.ok();
      for (int i = 0; good && i < 20; ++i) good = (*log)->append("proc", {{"pid", ::getpid()}, {"i", i}}).ok();
      ::_exit(good ? 0 : 1);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // The parent's own handle notices the others' records and continues after them.
  write_records(1);
  auto r = verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 62u);
}

TEST_F(AuditLogTest, CanaryValuesNeverReachTheFile) {
  const std::string canary = "CANARY-wJalrXUtnFEMI-K7MDENG";
  auto log = AuditLog::open(path_, clock_);
  ASSERT_TRUE(log.ok());
  json fields = {{"secret_access_key", canary},
                 {"SessionToken", canary},
                 {"password", canary},
                 {"Authorization", canary},
                 {"signature", canary},
                 {"nested", {{"credentials", {{"AccessKeyId", "AKIAEXAMPLE"}, {"x", canary}}}, {"list", {{{"new_password", canary}}}}}},
                 {"url", "https://s3.amazonaws.com/b/k?X-Amz-Signature=" + canary + "&X-Amz-Date=1"},
                 {"header", "AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, Signature=" + canary},
                 {"operation", "CreateAccessKey"}};
  ASSERT_TRUE((*log)->append("aws_call", fields).ok());
  std::ifstream in(path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  EXPECT_EQ(text.find("CANARY"), std::string::npos) << text;
  EXPECT_NE(text.find("CreateAccessKey"), std::string::npos);
  EXPECT_NE(text.find("[REDACTED]"), std::string::npos);
  EXPECT_TRUE(verify().ok);
}

TEST_F(AuditLogTest, RejectsReservedFieldsAndNonObjects) {
  auto log = AuditLog::open(path_, clock_);
  ASSERT_TRUE(log.ok());
  EXPECT_FALSE((*log)->append("x", {{"seq", 7}}).ok());
  EXPECT_FALSE((*log)->append("x", {{"hash", "abc"}}).ok());
  EXPECT_FALSE((*log)->append("x", json::array({1, 2})).ok());
  EXPECT_FALSE((*log)->append("", json::object()).ok());
  EXPECT_TRUE(lines().empty());
}

TEST_F(AuditLogTest, InvalidUtf8IsStoredReplacedAndStillVerifies) {
  auto log = AuditLog::open(path_, clock_);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->append("x", {{"note", std::string("bad \xff\xfe bytes")}}).ok());
  EXPECT_TRUE(verify().ok);
}

TEST_F(AuditLogTest, ReadFiltersByRun) {
  write_records(5);
  auto all = read_audit_log(path_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 5u);
  auto b = read_audit_log(path_, "run-b");
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0]["seq"], 2);
  EXPECT_EQ((*b)[1]["seq"], 4);
}

// The forger of the tests above knows the chain rule but not the audit key. Here they rewrite the
// anchor too, which the unkeyed chain could not tell from the truth.
TEST_F(AuditLogTest, TruncationWithARewrittenAnchorNeedsTheKey) {
  write_records(5);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/audit.key.pem").c_str(), &st), 0) << "the audit key is made with the first record";
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto ls = lines();
  ls.resize(3);
  rewrite(ls);
  json head = json::parse(slurp_file(dir_ + "/audit.head"));
  head["seq"] = 3;
  head["hash"] = json::parse(ls[2])["hash"];
  std::ofstream(dir_ + "/audit.head", std::ios::trunc) << head.dump() << "\n";  // old signature kept
  expect_bad("not signed by the state directory's audit key", 0, 3);
  head.erase("signature");
  std::ofstream(dir_ + "/audit.head", std::ios::trunc) << head.dump() << "\n";
  expect_bad("is not signed", 0, 3);
}

TEST_F(AuditLogTest, RewrittenHistoryWithResignedChainNeedsTheKey) {
  write_records(4);
  auto ls = lines();
  // Rewrite record 2 and re-chain everything after it, as a forger with the chain rule would.
  std::string prev = json::parse(ls[0])["hash"];
  for (size_t i = 1; i < ls.size(); ++i) {
    json rec = json::parse(ls[i]);
    if (i == 1) rec["operation"] = "Innocent";
    rec["prev_hash"] = prev;
    rec["hash"] = audit_record_hash(rec);
    prev = rec["hash"];
    ls[i] = rec.dump();
  }
  rewrite(ls);
  json head = json::parse(slurp_file(dir_ + "/audit.head"));
  head["hash"] = prev;
  std::ofstream(dir_ + "/audit.head", std::ios::trunc) << head.dump() << "\n";
  expect_bad("not signed by the state directory's audit key", 0, 4);
}

TEST_F(AuditLogTest, DeletingLogAndAnchorIsDetectedWhileTheKeyExists) {
  write_records(3);
  fs::remove(path_);
  fs::remove(dir_ + "/audit.head");
  expect_bad("is missing although the state directory's audit key exists", 0, 0);
  // The next command starts a new chain, and says why in its first record: verify names it.
  write_records(2);
  expect_bad("record seq 1 (line 1) restarts the chain", 1, 1);
}

TEST_F(AuditLogTest, ExpectHeadChecksAnAnchorKeptElsewhere) {
  write_records(3);
  std::string kept = json::parse(lines()[1])["hash"];  // copied to a ticket after record 2
  write_records(2);
  auto good = verify_audit_log(path_, kept);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->ok) << good->problem;
  EXPECT_EQ(good->expected_head_seq, 2u);
  // The whole log replaced by a fresh, self-consistent one (key and all): only the kept hash tells.
  fs::remove(path_);
  fs::remove(dir_ + "/audit.head");
  fs::remove(dir_ + "/audit.key.pem");
  fs::remove(dir_ + "/audit.pub.pem");
  write_records(6);
  ASSERT_TRUE(verify().ok) << "a fresh log verifies on its own";
  auto bad = verify_audit_log(path_, kept);
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok);
  EXPECT_NE(bad->problem.find("expected head " + kept + " is not a record of this log"), std::string::npos)
      << bad->problem;
}

TEST_F(AuditLogTest, TornLastLineIsQuarantinedAndRecorded) {
  write_records(3);
  std::string torn = R"({"seq":4,"time":"2026-11-23T07:00:00.100Z","event":"aws_ca)";
  {
    std::ofstream out(path_, std::ios::app);
    out << torn;
  }
  expect_bad("line 4 is a truncated record", 4, 0);
  ASSERT_FALSE(AuditLog::open(path_, clock_).ok()) << "appending after a torn line would bury it";
  auto r = repair_audit_log(path_, clock_, "test");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(r->repaired);
  EXPECT_EQ(r->bytes, torn.size());
  EXPECT_EQ(slurp_file(r->quarantine), torn);
  struct stat st {};
  ASSERT_EQ(::stat(r->quarantine.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 4u);
  ASSERT_EQ(v.notes.size(), 1u);
  EXPECT_NE(v.notes[0].find("quarantined to " + r->quarantine), std::string::npos) << v.notes[0];
  // Nothing torn now: a second repair does nothing.
  auto again = repair_audit_log(path_, clock_, "test");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->repaired);
}

TEST_F(AuditLogTest, RecoveryOpensATornLogByRepairingIt) {
  write_records(2);
  { std::ofstream(path_, std::ios::app) << "{\"seq\":3,"; }
  auto log = AuditLog::open(path_, clock_, AuditOpenOptions{true});
  ASSERT_TRUE(log.ok()) << log.error().describe();
  ASSERT_TRUE((*log)->append("rollback_started", {}).ok());
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 4u);  // 2 + audit_repaired + rollback_started
}

TEST_F(AuditLogTest, SymlinkedLogAnchorOrKeyIsRefused) {
  write_records(1);
  fs::rename(path_, dir_ + "/real.jsonl");
  fs::create_symlink(dir_ + "/real.jsonl", path_);
  auto log = AuditLog::open(path_, clock_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().message.find("symbolic link"), std::string::npos) << log.error().message;
  fs::remove(path_);
  fs::rename(dir_ + "/real.jsonl", path_);
  fs::rename(dir_ + "/audit.key.pem", dir_ + "/real.key.pem");
  fs::create_symlink(dir_ + "/real.key.pem", dir_ + "/audit.key.pem");
  log = AuditLog::open(path_, clock_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().message.find("symbolic link"), std::string::npos) << log.error().message;
}

TEST(AuditHeadPathTest, SitsNextToTheLog) {
  EXPECT_EQ(audit_head_path("/s/audit.jsonl"), "/s/audit.head");
  EXPECT_EQ(audit_head_path("/s/log.txt"), "/s/log.txt.head");
}

}  // namespace
}  // namespace containctl::orch
