// The team store's journal (AwsJournal) against DynamoDB and S3 in moto_server on 127.0.0.1:
// large before-states go to S3 content-addressed before the item names them, a changed object is
// refused rather than restored from, and every state move is conditional on the state it comes
// from (a retry of our own write whose answer was lost is not a conflict).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "aws/credentials.h"
#include "aws/curl_transport.h"
#include "aws/sigv4.h"
#include "orchestrator/executor.h"
#include "orchestrator/finding_claims.h"
#include "orchestrator/journal_aws.h"
#include "orchestrator/state_init.h"
#include "tests/support/moto_server.h"

namespace containctl::orch {
namespace {

using nlohmann::json;
using aws::ddb_s;
using aws::ddb_str;

// Passes requests to moto and remembers the order of operations; when armed, lets the next
// DynamoDB UpdateItem reach moto and then loses its answer (a timeout), as a dropped connection does.
class LossyTransport : public aws::HttpTransport {
 public:
  Result<aws::HttpResponse> send(const aws::HttpRequest& req) override {
    std::string op(req.header("X-Amz-Target"));
    if (op.empty()) op = req.method + " " + req.url.substr(req.url.find('/', 8));
    {
      std::lock_guard lock(mu);
      ops.push_back(op);
    }
    auto r = real.send(req);
    if ((op == "DynamoDB_20120810.UpdateItem" && lose_next_update.exchange(false)) ||
        (op == "DynamoDB_20120810.PutItem" && lose_next_put.exchange(false))) {
      lost++;
      return Error{ErrorKind::kTimeout, "Timeout", "answer lost (test)"};
    }
    return r;
  }
  std::vector<std::string> taken() {
    std::lock_guard lock(mu);
    return std::exchange(ops, {});
  }
  aws::CurlTransport real;
  std::mutex mu;
  std::vector<std::string> ops;
  std::atomic<bool> lose_next_update{false};
  std::atomic<bool> lose_next_put{false};
  std::atomic<int> lost{0};
};

class AwsJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& moto = testing::MotoServer::shared();
    moto.reset();
    transport_ = std::make_shared<LossyTransport>();
    aws::ClientConfig cfg = moto.client_config(transport_);
    cfg.retry.max_attempts = 3;
    client_ = std::make_shared<aws::AwsClient>(cfg);
    state_.backend = "aws";
    state_.table = "containctl-state";
    state_.bucket = "containctl-state-123456789012";
    state_.region = "us-east-1";
    auto made = init_team_store(*client_, state_, false, "");
    ASSERT_TRUE(made.ok()) << made.error().describe();
    journal_ = std::make_unique<AwsJournal>(client_, state_.region, state_.table, state_.bucket,
                                            aws::SystemClock::instance());
    transport_->taken();
  }

  // A run of one target with one step "isolate".
  void create_run(const std::string& run_id) {
    PlanEntry e;
    e.target.arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
    e.family = "ec2-isolate";
    actions::Step s;
    s.id = "isolate";
    e.steps.push_back(s);
    RunRecord r;
    r.run_id = run_id;
    r.plan_hash = "h";
    r.status = "running";
    r.plan = {{"plan_hash", "h"}};
    Status st = journal_->create_run(r, {e});
    ASSERT_TRUE(st.ok()) << st.error().describe();
  }
  json step_item(const std::string& run_id) {
    auto key = journal_->step_item_key(run_id, 0, "isolate");
    EXPECT_TRUE(key.ok());
    auto item = journal_->table().get(key.ok() ? *key : json::object());
    EXPECT_TRUE(item.ok() && *item);
    return item.ok() && *item ? **item : json::object();
  }
  // A before-state whose JSON is larger than the item limit.
  static json big_before() {
    json b = {{"interfaces", json::array()}};
    for (int i = 0; i < 2000; ++i)
      b["interfaces"].push_back({{"id", "eni-" + std::to_string(100000 + i)},
                                 {"groups", {"sg-0a1b2c3d4e5f60718", "sg-0f1e2d3c4b5a69788", "sg-00aa11bb22cc33dd4"}}});
    EXPECT_GT(b.dump().size(), AwsJournal::kInlineLimit);
    return b;
  }

  StateSettings state_;
  std::shared_ptr<LossyTransport> transport_;
  std::shared_ptr<aws::AwsClient> client_;
  std::unique_ptr<AwsJournal> journal_;
};

TEST_F(AwsJournalTest, ALargeBeforeStateIsStoredInS3ByItsHashBeforeTheItemNamesIt) {
  create_run("run-big");
  const json before = big_before();
  const std::string text = before.dump();
  const std::string hash = aws::sha256_hex(text);
  transport_->taken();
  Status st = journal_->record_before("run-big", 0, "isolate", before);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  // The object first, the item that names it after.
  std::vector<std::string> ops = transport_->taken();
  auto put = std::find(ops.begin(), ops.end(), "PUT /" + state_.bucket + "/blobs/sha256/" + hash);
  auto update = std::find(ops.begin(), ops.end(), "DynamoDB_20120810.UpdateItem");
  ASSERT_NE(put, ops.end()) << ::testing::PrintToString(ops);
  ASSERT_NE(update, ops.end()) << ::testing::PrintToString(ops);
  EXPECT_LT(put, update) << ::testing::PrintToString(ops);
  // The object holds exactly the JSON; the item holds its hash and not the JSON.
  auto body = get_blob(*client_, state_.region, state_.bucket, "blobs/sha256/" + hash);
  ASSERT_TRUE(body.ok()) << body.error().describe();
  EXPECT_EQ(*body, text);
  json item = step_item("run-big");
  EXPECT_EQ(ddb_str(item, "before_sha256"), hash);
  EXPECT_FALSE(item.contains("before"));
  EXPECT_EQ(ddb_str(item, "st"), "captured");
  // Read back equal.
  auto steps = journal_->steps("run-big");
  ASSERT_TRUE(steps.ok()) << steps.error().describe();
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ((*steps)[0].before, before);
}

TEST_F(AwsJournalTest, ABeforeStateS3RefusedIsNotRecordedAtAll) {
  create_run("run-nobucket");
  // A journal whose bucket does not exist: the object cannot be written, so the item must not
  // name it (and the step is not captured: nothing may be mutated on its account).
  AwsJournal broken(client_, state_.region, state_.table, "containctl-missing-bucket", aws::SystemClock::instance());
  Status st = broken.record_before("run-nobucket", 0, "isolate", big_before());
  ASSERT_FALSE(st.ok());
  json item = step_item("run-nobucket");
  EXPECT_FALSE(item.contains("before_sha256")) << item.dump();
  EXPECT_FALSE(item.contains("before")) << item.dump();
  EXPECT_EQ(ddb_str(item, "st"), "pending");
}

TEST_F(AwsJournalTest, AChangedS3BeforeStateIsAnErrorNotRestoredFrom) {
  create_run("run-tamper");
  const json before = big_before();
  ASSERT_TRUE(journal_->record_before("run-tamper", 0, "isolate", before).ok());
  const std::string hash = aws::sha256_hex(before.dump());
  // Someone with write access to the bucket swaps the before-state for one of their own.
  json swapped = before;
  swapped["interfaces"][0]["groups"] = {"sg-0attacker000000001"};
  ASSERT_TRUE(put_blob(*client_, state_.region, state_.bucket, "blobs/sha256/" + hash, swapped.dump()).ok());
  auto steps = journal_->steps("run-tamper");
  ASSERT_FALSE(steps.ok()) << "a changed before-state was read as the step's before-state";
  EXPECT_NE(steps.error().message.find("blobs/sha256/" + hash + " does not match its hash"), std::string::npos)
      << steps.error().message;
}

TEST_F(AwsJournalTest, AStepMovedFromAStateItMayNotComeFromIsAConflict) {
  create_run("run-moves");
  // pending -> applied skips applying: refused by the condition, and the error says where the step is.
  Status st = journal_->set_state("run-moves", 0, "isolate", step_state::kApplied);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "StateConflict");
  EXPECT_NE(st.error().message.find("is now 'pending'"), std::string::npos) << st.error().message;
  EXPECT_EQ(ddb_str(step_item("run-moves"), "st"), "pending");
  // Two processes move one step from applying: only the first one's move lands.
  ASSERT_TRUE(journal_->set_state("run-moves", 0, "isolate", step_state::kApplying).ok());
  AwsJournal other(client_, state_.region, state_.table, state_.bucket, aws::SystemClock::instance());
  ASSERT_TRUE(journal_->set_state("run-moves", 0, "isolate", step_state::kApplied).ok());
  Status late = other.set_state("run-moves", 0, "isolate", step_state::kApplied);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "StateConflict");
}

TEST_F(AwsJournalTest, ARetryOfOurOwnStepMoveWhoseAnswerWasLostSucceeds) {
  create_run("run-retry");
  ASSERT_TRUE(journal_->set_state("run-retry", 0, "isolate", step_state::kApplying).ok());
  // applying -> applied lands, its answer is lost, the client retries: the retry's condition fails
  // (the step is no longer applying) but the token it finds is ours.
  transport_->lose_next_update = true;
  Status st = journal_->set_state("run-retry", 0, "isolate", step_state::kApplied);
  EXPECT_EQ(transport_->lost.load(), 1);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(ddb_str(step_item("run-retry"), "st"), "applied");
}

TEST_F(AwsJournalTest, RunStatusMovesOnlyFromTheStatusesItMayComeFrom) {
  create_run("run-status");
  auto status = [&] {
    auto r = journal_->run("run-status");
    return r.ok() ? r->status : std::string("?");
  };
  // An apply's outcome from running; a rollback's outcome only from rolling_back.
  Status st = journal_->set_run_status("run-status", "rolled_back");
  ASSERT_FALSE(st.ok()) << "rolled_back was recorded for a run no rollback had started";
  EXPECT_EQ(st.error().code, "StateConflict");
  EXPECT_NE(st.error().message.find("is now 'running'"), std::string::npos) << st.error().message;
  EXPECT_EQ(status(), "running");
  ASSERT_TRUE(journal_->set_run_status("run-status", "succeeded").ok());
  // A second process finishing the same apply later does not rewrite its outcome.
  AwsJournal other(client_, state_.region, state_.table, state_.bucket, aws::SystemClock::instance());
  EXPECT_FALSE(other.set_run_status("run-status", "partial").ok());
  EXPECT_EQ(status(), "succeeded");
  ASSERT_TRUE(journal_->set_run_status("run-status", "rolling_back").ok());
  // A resume (running) never starts from a rollback.
  EXPECT_FALSE(other.set_run_status("run-status", "running").ok());
  EXPECT_EQ(status(), "rolling_back");
  // The rollback's outcome lands even when its first answer is lost.
  transport_->lose_next_update = true;
  st = journal_->set_run_status("run-status", "rolled_back");
  EXPECT_EQ(transport_->lost.load(), 1);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(status(), "rolled_back");
  EXPECT_FALSE(journal_->set_run_status("no-such-run", "rolling_back").ok());
}

// The support case's claim on the team store: a compare-and-set of case_id, so of two openers only
// one holds the pending marker, and the case replaces the marker only while it is still there.
TEST_F(AwsJournalTest, SupportCaseClaimIsACompareAndSet) {
  create_run("run-case");
  const std::string mine = std::string(kCasePendingPrefix) + "2026-12-01T10:00:00Z a";
  const std::string theirs = std::string(kCasePendingPrefix) + "2026-12-01T10:00:01Z b";
  auto swap = [&](const std::string& expected, const std::string& desired) {
    auto r = journal_->swap_run_case("run-case", expected, desired);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    return r.ok() && *r;
  };
  EXPECT_TRUE(swap("", mine));
  EXPECT_FALSE(swap("", theirs)) << "a second opener took a claim already held";
  auto run = journal_->run("run-case");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->case_id, "") << "a pending marker is not a case";
  EXPECT_EQ(run->case_pending, "2026-12-01T10:00:00Z a");
  EXPECT_TRUE(swap(mine, theirs)) << "a stale marker is taken over";
  EXPECT_FALSE(swap(mine, "case-1")) << "the first opener overwrote the claim it lost";
  EXPECT_TRUE(swap(theirs, "case-2"));
  EXPECT_EQ(journal_->run("run-case")->case_id, "case-2");
  EXPECT_FALSE(journal_->swap_run_case("no-such-run", "", mine).ok());
}

// The run item's conditional put lands, its answer is lost, the client retries and the retry's
// condition fails: that is our run, not "run already exists". A second creator of the same id is
// refused before it writes anything: the first run's steps and plan stay as they are.
TEST_F(AwsJournalTest, ACreatedRunWhoseAnswerWasLostIsOursAndACollidingIdOverwritesNothing) {
  transport_->lose_next_put = true;
  create_run("run-lost");
  EXPECT_EQ(transport_->lost.load(), 1);
  auto run = journal_->run("run-lost");
  ASSERT_TRUE(run.ok()) << run.error().describe();
  ASSERT_TRUE(journal_->set_state("run-lost", 0, "isolate", step_state::kApplying).ok());

  AwsJournal other(client_, state_.region, state_.table, state_.bucket, aws::SystemClock::instance());
  PlanEntry e;
  e.target.arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0fedcba9876543210";
  e.family = "ec2-isolate";
  actions::Step s;
  s.id = "isolate";
  e.steps.push_back(s);
  RunRecord r{.run_id = "run-lost", .plan_hash = "other", .status = "running", .plan = {{"plan_hash", "other"}}};
  Status st = other.create_run(r, {e});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "RunExists");
  EXPECT_EQ(ddb_str(step_item("run-lost"), "st"), "applying") << "the colliding create overwrote the run's step";
  EXPECT_EQ(ddb_str(step_item("run-lost"), "target"), "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0");
  auto again = journal_->run("run-lost");
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->plan_hash, "h");
  EXPECT_EQ(again->plan, (json{{"plan_hash", "h"}}));
}

// state import of a run id the store already holds (a second import racing the first's check,
// or an id collision) is refused before any step item is written.
TEST_F(AwsJournalTest, AnImportOfARunIdAlreadyThereOverwritesNoStep) {
  create_run("run-there");
  ASSERT_TRUE(journal_->set_state("run-there", 0, "isolate", step_state::kApplying).ok());
  RunRecord r{.run_id = "run-there", .plan_hash = "imported", .status = "rolled_back", .plan = {{"plan_hash", "imported"}}};
  StepRecord s;
  s.run_id = "run-there";
  s.entry = 0;
  s.step_id = "isolate";
  s.target = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
  s.family = "ec2-isolate";
  s.state = step_state::kRolledBack;
  s.before = {{"interfaces", json::array()}};
  Status st = journal_->import_run(r, {s});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "RunExists");
  EXPECT_EQ(ddb_str(step_item("run-there"), "st"), "applying") << "the import overwrote the run's step";
  EXPECT_EQ(journal_->run("run-there")->plan_hash, "h");
  // A lost answer to an import's own put is not a collision either.
  transport_->lose_next_put = true;
  RunRecord fresh{.run_id = "run-imported", .plan_hash = "imported", .status = "rolled_back",
                  .plan = {{"plan_hash", "imported"}}};
  s.run_id = "run-imported";
  st = journal_->import_run(fresh, {s});
  EXPECT_EQ(transport_->lost.load(), 1);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  auto steps = journal_->steps("run-imported");
  ASSERT_TRUE(steps.ok());
  ASSERT_EQ(steps->size(), 1u);
  EXPECT_EQ((*steps)[0].state, step_state::kRolledBack);
}

// A run item whose writing was cut off (the process died between its put and the step items) is
// neither listed nor read as a run; an import of that run finishes it.
TEST_F(AwsJournalTest, ARunWhoseWritingWasCutOffIsNotListedAndAnImportFinishesIt) {
  json item = run_key("run-cut");
  item["run_id"] = ddb_s("run-cut");
  item["status"] = ddb_s("running");
  item["creating"] = ddb_s("tok-of-a-dead-process");
  item["wtok"] = ddb_s("tok-of-a-dead-process");
  ASSERT_TRUE(journal_->table().put(item, {"attribute_not_exists(pk)"}).ok());
  auto runs = journal_->runs();
  ASSERT_TRUE(runs.ok());
  for (const auto& r : *runs) EXPECT_NE(r.run_id, "run-cut");
  EXPECT_FALSE(journal_->run("run-cut").ok());
  RunRecord r{.run_id = "run-cut", .plan_hash = "h", .status = "rolled_back", .plan = {{"plan_hash", "h"}}};
  ASSERT_TRUE(journal_->import_run(r, {}).ok());
  auto back = journal_->run("run-cut");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->status, "rolled_back");
}

// The support-case claim's compare-and-set lands, its answer is lost, the retry finds `desired`
// there: the claim is ours, not lost to another opener.
TEST_F(AwsJournalTest, ASupportCaseClaimWhoseAnswerWasLostIsOurs) {
  create_run("run-case-lost");
  const std::string mine = std::string(kCasePendingPrefix) + "2026-12-01T10:00:00Z a";
  transport_->lose_next_update = true;
  auto r = journal_->swap_run_case("run-case-lost", "", mine);
  EXPECT_EQ(transport_->lost.load(), 1);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_TRUE(*r) << "our own landed claim was reported as held by another opener";
  EXPECT_FALSE(*journal_->swap_run_case("run-case-lost", "", std::string(kCasePendingPrefix) + "t b"));
}

// A finding claim's finish lands, its answer is lost, the retry's condition (still handling) fails:
// finished by us, not an error that would make the function report the finding as failed.
TEST_F(AwsJournalTest, AFindingClaimFinishWhoseAnswerWasLostSucceeds) {
  FindingClaims claims(client_, state_.region, state_.table, aws::SystemClock::instance());
  FindingKey key{"aws.guardduty", "arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f", "f",
                 "2026-12-01T10:00:00Z"};
  auto c = claims.claim(key, "req-1", aws::SystemClock::instance().now() + std::chrono::minutes(5));
  ASSERT_TRUE(c.ok()) << c.error().describe();
  ASSERT_EQ(*c, FindingClaims::Claim::kMine);
  transport_->lose_next_update = true;
  Status st = claims.finish(key, "req-1", "done");
  EXPECT_EQ(transport_->lost.load(), 1);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  auto item = claims.get(key);
  ASSERT_TRUE(item.ok() && *item);
  EXPECT_EQ(ddb_str(**item, "st"), "done");
  // Another request's finish of the same claim is still refused.
  EXPECT_FALSE(claims.finish(key, "req-2", "failed").ok());
}

TEST_F(AwsJournalTest, TheRunsRecoveryAndCaseMarkerReadBackSideBySide) {
  PlanEntry e;
  e.target.arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
  e.family = "ec2-isolate";
  RunRecord r{.run_id = "run-rec", .plan_hash = "h", .status = "running", .plan = {{"plan_hash", "h"}}};
  r.owner = {.pid = 4242, .host = "ir-laptop"};
  r.recovery = {{"member_role_name", "ContainRole"}, {"state_backend", "aws"}};
  ASSERT_TRUE(journal_->create_run(r, {e}).ok());
  auto claimed = journal_->swap_run_case("run-rec", "", std::string(kCasePendingPrefix) + "t tok");
  ASSERT_TRUE(claimed.ok() && *claimed);
  auto back = journal_->run("run-rec");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->recovery, r.recovery);
  EXPECT_EQ(back->case_pending, "t tok");
  EXPECT_EQ(back->owner.pid, 4242);
  // An imported run keeps it too.
  RunRecord imported{.run_id = "run-imp", .plan_hash = "h", .status = "rolled_back", .plan = {{"plan_hash", "h"}}};
  imported.recovery = r.recovery;
  ASSERT_TRUE(journal_->import_run(imported, {}).ok());
  auto again = journal_->run("run-imp");
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(again->recovery, r.recovery);
}

}  // namespace
}  // namespace containctl::orch

namespace containctl::orch {
namespace {

int update_items_on(const std::vector<std::string>& ops) {
  return static_cast<int>(std::count(ops.begin(), ops.end(), "DynamoDB_20120810.UpdateItem"));
}

PlanEntry entry_of(int i, std::vector<std::string> steps) {
  PlanEntry e;
  char id[32];
  std::snprintf(id, sizeof id, "i-%017d", i);
  e.target.arn = std::string("arn:aws:ec2:us-east-1:123456789012:instance/") + id;
  e.family = "ec2-isolate";
  for (const auto& name : steps) {
    actions::Step s;
    s.id = name;
    e.steps.push_back(s);
  }
  return e;
}

// One partition key value takes at most 1,000 write units a second: a run's step items are
// spread over several, and the apply order costs one write on the run item per block, not per step.
TEST_F(AwsJournalTest, StepItemsOfOneRunLandOnSeveralPartitionKeys) {
  std::vector<PlanEntry> entries;
  for (int i = 0; i < 40; ++i) entries.push_back(entry_of(i, {"isolate"}));
  RunRecord r{"run-wide", "h", "running"};
  r.plan = {{"plan_hash", "h"}};
  ASSERT_TRUE(journal_->create_run(r, entries).ok());
  auto run_item = journal_->table().get(run_key("run-wide"));
  ASSERT_TRUE(run_item.ok() && *run_item);
  EXPECT_EQ(aws::ddb_num(**run_item, "shards"), AwsJournal::kStepShards);
  std::set<std::string> partitions;
  for (int k = 0; k < AwsJournal::kStepShards; ++k) {
    auto part = journal_->table().query("STEPS#" + std::to_string(k) + "#run-wide", "STEP#");
    ASSERT_TRUE(part.ok()) << part.error().describe();
    for (const auto& it : *part) {
      EXPECT_EQ(aws::ddb_num(it, "entry") % AwsJournal::kStepShards, k);
      partitions.insert(ddb_str(it, "pk"));
    }
  }
  EXPECT_EQ(partitions.size(), static_cast<size_t>(AwsJournal::kStepShards));
  auto old_key = journal_->table().query("RUN#run-wide", "STEP#");
  ASSERT_TRUE(old_key.ok());
  EXPECT_TRUE(old_key->empty());
  // Read back whole and in plan order, by another process too.
  AwsJournal other(client_, state_.region, state_.table, state_.bucket, aws::SystemClock::instance());
  auto steps = other.steps("run-wide");
  ASSERT_TRUE(steps.ok()) << steps.error().describe();
  ASSERT_EQ(steps->size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ((*steps)[i].entry, i);
  // Three steps applied: ascending apply order, one reservation on the run item for all three.
  transport_->taken();
  for (int i : {5, 6, 7}) {
    ASSERT_TRUE(journal_->record_before("run-wide", i, "isolate", {{"groups", {"sg-1"}}}).ok());
    ASSERT_TRUE(journal_->set_state("run-wide", i, "isolate", step_state::kApplying).ok());
    ASSERT_TRUE(journal_->record_applied("run-wide", i, "isolate", json::object()).ok());
  }
  EXPECT_EQ(update_items_on(transport_->taken()), 3 * 3 + 1);
  steps = other.steps("run-wide");
  ASSERT_TRUE(steps.ok());
  EXPECT_LT((*steps)[5].apply_seq, (*steps)[6].apply_seq);
  EXPECT_LT((*steps)[6].apply_seq, (*steps)[7].apply_seq);
  EXPECT_GT((*steps)[5].apply_seq, 0);
  // Another process (a resume elsewhere) reserves above everything handed out before.
  ASSERT_TRUE(other.record_before("run-wide", 8, "isolate", {{"groups", {"sg-1"}}}).ok());
  ASSERT_TRUE(other.set_state("run-wide", 8, "isolate", step_state::kApplying).ok());
  ASSERT_TRUE(other.record_applied("run-wide", 8, "isolate", json::object()).ok());
  steps = other.steps("run-wide");
  ASSERT_TRUE(steps.ok());
  EXPECT_GT((*steps)[8].apply_seq, AwsJournal::kApplySeqBlock);
  ASSERT_TRUE(journal_->record_before("run-wide", 9, "isolate", {{"groups", {"sg-1"}}}).ok());
  ASSERT_TRUE(journal_->set_state("run-wide", 9, "isolate", step_state::kApplying).ok());
  ASSERT_TRUE(journal_->record_applied("run-wide", 9, "isolate", json::object()).ok());
  auto order = rollback_order(other, "run-wide", entries);
  ASSERT_TRUE(order.ok()) << order.error().describe();
  ASSERT_EQ(order->size(), 5u);
  EXPECT_EQ(order->front().record.entry, 8);  // newest first
}

// A run written before step items were spread (no `shards` on the run item, every step item
// under pk "RUN#<id>") is still read, resumed and rolled back where it is.
TEST_F(AwsJournalTest, ARunInTheOldSingleKeyLayoutIsStillReadResumedAndRolledBack) {
  auto& t = journal_->table();
  std::vector<PlanEntry> entries = {entry_of(0, {"isolate", "tag"}), entry_of(1, {"isolate"})};
  ASSERT_TRUE(t.put({{"pk", ddb_s("RUN#run-old")}, {"sk", ddb_s("PLAN")}, {"plan", ddb_s(R"({"plan_hash":"h"})")}}).ok());
  struct Old { int entry; const char* id; const char* st; long long seq; };
  const std::vector<Old> old = {{0, "isolate", "verified", 1}, {0, "tag", "pending", 0}, {1, "isolate", "pending", 0}};
  long long ord = 0;
  for (const auto& o : old) {
    json item = step_key("run-old", o.entry, o.id, 0);
    ASSERT_EQ(ddb_str(item, "pk"), "RUN#run-old");
    item["run_id"] = ddb_s("run-old");
    item["entry"] = aws::ddb_n(o.entry);
    item["step_id"] = ddb_s(o.id);
    item["target"] = ddb_s(entries[o.entry].target.arn);
    item["family"] = ddb_s("ec2-isolate");
    item["st"] = ddb_s(o.st);
    item["apply_seq"] = aws::ddb_n(o.seq);
    item["ord"] = aws::ddb_n(ord++);
    if (o.seq) item["before"] = ddb_s(R"({"groups":["sg-1"]})");
    ASSERT_TRUE(t.put(item).ok());
  }
  ASSERT_TRUE(t.put({{"pk", ddb_s("RUNS")}, {"sk", ddb_s("RUN#run-old")}, {"run_id", ddb_s("run-old")},
                     {"plan_hash", ddb_s("h")}, {"status", ddb_s("failed")}, {"started_at", ddb_s("2026-11-30T00:00:00Z")},
                     {"apply_counter", aws::ddb_n(1)}})
                  .ok());
  // Read.
  auto steps = journal_->steps("run-old");
  ASSERT_TRUE(steps.ok()) << steps.error().describe();
  ASSERT_EQ(steps->size(), 3u);
  EXPECT_EQ((*steps)[0].state, "verified");
  EXPECT_EQ((*steps)[1].step_id, "tag");
  EXPECT_EQ((*steps)[2].entry, 1);
  // Resumed: the pending steps move in place, their apply order after the one applied before.
  for (const auto& [entry, id] : std::vector<std::pair<int, std::string>>{{0, "tag"}, {1, "isolate"}}) {
    ASSERT_TRUE(journal_->record_before("run-old", entry, id, {{"groups", {"sg-2"}}}).ok());
    ASSERT_TRUE(journal_->set_state("run-old", entry, id, step_state::kApplying).ok());
    ASSERT_TRUE(journal_->record_applied("run-old", entry, id, json::object()).ok());
    ASSERT_TRUE(journal_->set_state("run-old", entry, id, step_state::kVerified).ok());
  }
  auto raw = t.query("RUN#run-old", "STEP#");
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->size(), 3u);
  for (const auto& it : *raw) EXPECT_EQ(ddb_str(it, "st"), "verified") << ddb_str(it, "sk");
  for (int k = 0; k < AwsJournal::kStepShards; ++k) {
    auto spread = t.query("STEPS#" + std::to_string(k) + "#run-old", "STEP#");
    ASSERT_TRUE(spread.ok());
    EXPECT_TRUE(spread->empty()) << k;
  }
  // Rolled back, newest application first, from another process.
  AwsJournal other(client_, state_.region, state_.table, state_.bucket, aws::SystemClock::instance());
  auto order = rollback_order(other, "run-old", entries);
  ASSERT_TRUE(order.ok()) << order.error().describe();
  ASSERT_EQ(order->size(), 3u);
  EXPECT_EQ((*order)[0].record.entry, 1);
  EXPECT_EQ((*order)[1].record.step_id, "tag");
  EXPECT_EQ((*order)[2].record.apply_seq, 1);
  for (const auto& it : *order) {
    ASSERT_TRUE(other.set_state("run-old", it.record.entry, it.record.step_id, step_state::kRollingBack).ok());
    ASSERT_TRUE(other.set_state("run-old", it.record.entry, it.record.step_id, step_state::kRolledBack).ok());
  }
  steps = journal_->steps("run-old");
  ASSERT_TRUE(steps.ok());
  for (const auto& s : *steps) EXPECT_EQ(s.state, "rolled_back") << s.step_id;
  EXPECT_TRUE(other.last_rollback(entries[1].target.arn).has_value());
}

}  // namespace
}  // namespace containctl::orch
