// The team state backend: one DynamoDB table and one S3 bucket, shared by every responder and
// automated run that has the settings and the credentials.
//
// Table (pk, sk: strings):
//   pk "RUNS",            sk "RUN#<run_id>"                the run (status, times, requester, apply counter)
//   pk "RUN#<run_id>",    sk "PLAN"                        the run's plan
//   pk "STEPS#<k>#<run_id>", sk "STEP#<entry 6 digits>#<id>"  one step (state, before, applied, ...),
//                         k = entry mod the run item's `shards`; a run item without `shards` (written
//                         before step items were spread) keeps them all under pk "RUN#<run_id>"
//   pk "TARGET#<arn>",    sk "ROLLBACK"                    when the target was last rolled back
//   pk "LOCKS",           sk "LOCK#<resource>"             a lease on a resource (leases.h)
//   pk "APPROVALS",       sk "APPROVAL#<approval id>"      a used approval (the run it authorized)
//   pk "RUN#<run_id>",    sk "CALLER"                      who AWS said ran the run and made its plan
//   pk "AUDIT",           sk "SEQ#<seq 20 digits>"         audit records; sk "HEAD": the chain head
// Why spread: DynamoDB serves one partition key value at most 1,000 write units a second, and
// every step makes 4 writes; on one key a run could journal ~250 steps a second whatever the
// number of accounts (docs/benchmarks.md). For the same reason the apply order is reserved from
// the run item's counter in blocks, not one ADD on one hot item per applied step.
// A JSON value (plan, before-state, applied) larger than kInlineLimit goes to S3 first, under
// "blobs/sha256/<hex>", and the item holds the hash; reads check the hash.
//
// Every write is acknowledged by DynamoDB before it returns (the durability rule), and every step
// transition is a conditional update on the states it may come from, so two processes cannot
// both move one step. A write whose answer was lost and was retried is recognised by the token
// it wrote rather than reported as a lost race.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <memory>
#include <string>

#include "aws/dynamodb.h"
#include "orchestrator/journal.h"

namespace containctl::orch {

class AwsJournal : public Journal {
 public:
  // Bytes of serialised JSON kept in the item; larger values go to S3 (items are limited to 400 KB).
  static constexpr size_t kInlineLimit = 100 * 1024;
  // Partition keys a new run's step items are spread over (fewer when the run has fewer entries).
  static constexpr int kStepShards = 32;
  // Apply sequence numbers one `ADD apply_counter` reserves for this process.
  static constexpr long long kApplySeqBlock = 64;

  AwsJournal(std::shared_ptr<aws::AwsClient> client, std::string region, std::string table, std::string bucket,
             aws::Clock& clock);

  Status create_run(const RunRecord& run, const std::vector<PlanEntry>& entries) override;
  Result<RunRecord> run(const std::string& run_id) override;
  Result<std::vector<RunRecord>> runs() override;
  Result<std::vector<StepRecord>> steps(const std::string& run_id) override;
  Status record_before(const std::string& run_id, int entry, const std::string& step_id,
                       const nlohmann::json& before) override;
  Status set_state(const std::string& run_id, int entry, const std::string& step_id, const std::string& state,
                   const std::string& error = "") override;
  Status record_applied(const std::string& run_id, int entry, const std::string& step_id,
                        const nlohmann::json& applied) override;
  Status set_run_status(const std::string& run_id, const std::string& status) override;
  Status record_approvals_used(const std::vector<UsedApproval>& used) override;
  Result<std::optional<UsedApproval>> approval_used(const std::string& approval_id) override;
  Result<std::vector<UsedApproval>> approvals_used_by(const std::string& run_id) override;
  Status record_run_caller(const std::string& run_id, const std::string& caller,
                           const std::string& plan_caller) override;
  Result<std::pair<std::string, std::string>> run_caller(const std::string& run_id) override;
  Status set_run_case(const std::string& run_id, const std::string& case_id) override;
  Result<bool> swap_run_case(const std::string& run_id, const std::string& expected,
                             const std::string& desired) override;
  Status set_run_owner(const std::string& run_id, const RunOwner& owner) override;
  Status set_exposure(const std::string& run_id, int entry, const std::string& step_id,
                      const nlohmann::json& exposure) override;
  std::optional<aws::TimePoint> last_rollback(const std::string& target_arn) override;
  Result<std::unique_ptr<RunGuard>> guard_run() override;
  Status import_run(const RunRecord& run, const std::vector<StepRecord>& steps) override;
  Result<Lease> take_lease(const Lease& want) override;
  Status renew_lease(const Lease& held, aws::TimePoint expires) override;
  Status release_lease(const Lease& held) override;
  Result<std::vector<Lease>> leases() override;

  uint64_t step_commits() const override { return commits_.load(); }
  std::string backend() const override { return "aws"; }
  std::string location() const override;

  aws::DynamoDb& table() { return ddb_; }
  // The key of a step item, in the layout its run was written with.
  Result<nlohmann::json> step_item_key(const std::string& run_id, int entry, const std::string& step_id);
  const std::string& bucket() const { return bucket_; }

 private:
  // The attribute for a JSON value: inline ("<name>": S) or in S3 ("<name>_sha256": S).
  Status put_json(nlohmann::json& values, const std::string& placeholder, const nlohmann::json& v, std::string& expr,
                  const std::string& name);
  Result<nlohmann::json> read_json(const nlohmann::json& item, const std::string& name);
  // Puts the run item, marked "creating", only if the id is free (or, `take_over_unfinished`, held
  // by a run whose writing never finished); returns the token the item carries. A put refused
  // because our own earlier attempt landed (its answer lost) is ours. Errors: RunExists.
  Result<std::string> claim_run(nlohmann::json run_item, bool take_over_unfinished);
  // Removes the mark once the run's plan and steps are stored, if the item still carries `tok`.
  Status finish_run(const std::string& run_id, const std::string& tok, int shards);
  // A conditional update of one step; a condition that fails because our own earlier attempt
  // already landed (same token) is success.
  Status step_update(const std::string& run_id, int entry, const std::string& step_id, std::string update,
                     const std::string& from_states_of, nlohmann::json names, nlohmann::json values,
                     const std::string& what);

  // The run's `shards` (0: the old single-key layout), read once from the run item: it never
  // changes after the run is created or imported.
  Result<int> shards_of(const std::string& run_id);
  // The next apply sequence number of the run, from this process's reserved block.
  Result<long long> next_apply_seq(const std::string& run_id);

  aws::DynamoDb ddb_;
  std::string bucket_;
  std::mutex mu_;
  std::map<std::string, int> shards_;
  struct SeqBlock {
    long long next = 0, last = 0;  // the numbers of the reserved block not handed out yet
    bool reserving = false;        // a thread is reserving the next block
  };
  std::map<std::string, SeqBlock> seq_blocks_;
  aws::Clock& clock_;
  std::atomic<uint64_t> commits_{0};
};

// Keys.
nlohmann::json run_key(const std::string& run_id);
nlohmann::json plan_key(const std::string& run_id);
// `shards` 0: the layout of runs created before step items were spread (pk "RUN#<run_id>").
nlohmann::json step_key(const std::string& run_id, int entry, const std::string& step_id, int shards);
std::string step_partition(const std::string& run_id, int entry, int shards);
// How many partition keys a run of `entries` entries spreads its step items over.
int step_shards_for(size_t entries);
// The run item's attributes that a created and an imported run share (key, ids, status, times,
// apply counter, shards, recovery); each adds its own (the owner, the finish time).
nlohmann::json run_item_of(const RunRecord& run, const std::string& started_at, long long apply_counter, int shards);

// S3 objects of the team store (content-addressed blobs, audit checkpoints).
Status put_blob(aws::AwsClient& client, const std::string& region, const std::string& bucket, const std::string& key,
                const std::string& body);
Result<std::string> get_blob(aws::AwsClient& client, const std::string& region, const std::string& bucket,
                             const std::string& key);

}  // namespace containctl::orch
