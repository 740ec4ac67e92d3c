// The team store (one DynamoDB table, one S3 bucket) in the scale simulation: an in-memory
// DynamoDB table with the operations and expressions containctl sends (GetItem, PutItem,
// UpdateItem, DeleteItem, Query, BatchWriteItem, TransactWriteItems; sim_ddb_expression.h), and
// S3 PutObject/GetObject/ListObjectsV2 for offloaded before-states and audit checkpoints, plugged into SimTransport.
//
// Metered as DynamoDB meters: write units = ceil(max(item before, after) / 1 KB) per item (twice
// that inside TransactWriteItems; a failed condition still costs its units), strongly consistent
// reads 1 unit per 4 KB (eventually consistent half). Limits, each a token bucket holding one
// second of its rate:
//   - per partition key value: 1,000 write units/s and 3,000 read units/s (DynamoDB's per-partition
//     limits; split-for-heat, which may spread one key's sort-key range over partitions after
//     sustained load, is not modelled: an incident is over before it would help);
//   - per table: 4,000 write / 12,000 read request units/s: what a newly created on-demand table
//     serves at once (twice its 2,000 / 6,000 initial "previous peak"); 40,000 / 40,000 is the
//     per-table account quota a warmed table can reach.
// Over a partition's limit: ProvisionedThroughputExceededException with ThrottlingReasons
// [TableWriteKeyRangeThroughputExceeded] (or Read); over the table's: ThrottlingException with
// [TableWriteAccountLimitExceeded]; a BatchWriteItem whose items are partly over returns them in
// UnprocessedItems; a TransactWriteItems over either is cancelled as DynamoDB does:
// TransactionCanceledException whose CancellationReasons say ThrottlingError for the items over
// (every item when the table is) and None for the others (see throttled_transaction_cancels). Anything this model does not implement answers 400 with
// "simulated DynamoDB does not model ..." and is recorded in unsupported().
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/sim_transport.h"

namespace containctl::sim {

struct SimStoreConfig {
  std::string account = "999900000000";  // the security tooling account holding the store
  std::string region = "us-east-1";
  std::string table = "containctl-state";
  std::string bucket = "containctl-state-999900000000";
  double partition_write_units = 1000;
  double partition_read_units = 3000;
  double table_write_units = 4000;
  double table_read_units = 12000;
  // What-if: every item its own partition (the most DynamoDB's split-for-heat could give, or a
  // key design that spreads a run's items over many partition key values). Off: one partition
  // per partition key value.
  bool partition_per_item = false;
  // Median latencies: a client in the store's region (a Lambda or runner in the security tooling
  // account); TransactWriteItems twice, BatchWriteItem 1.5x.
  double ddb_latency_ms = 8;
  double s3_latency_ms = 25;
  // Share of writes that are applied but whose answer is lost (HTTP 500 after the write): the
  // client retries, and the store must recognise its own landed write.
  double lost_answer_rate = 0;
  // A TransactWriteItems over capacity: cancelled with per-item ThrottlingError reasons (true, what
  // an on-demand table answers), or refused whole with the ProvisionedThroughputExceededException /
  // ThrottlingException above (false; DynamoDB answers that too).
  bool throttled_transaction_cancels = true;
  uint64_t seed = 7;
  bool keep_requests = false;  // keep every DynamoDB request (for shape checks in tests)
};

struct SimStoreStats {
  std::map<std::string, long> calls;       // per operation (DynamoDB) or "s3:<op>"
  std::map<std::string, long> throttled;   // per operation
  long condition_failed = 0;               // ConditionalCheckFailed (alone or in a transaction)
  long lost_answers = 0;
  double write_units = 0, read_units = 0;  // consumed (admitted requests)
  std::map<std::string, double> partition_write_units;  // per partition key value
  std::map<std::string, double> partition_read_units;
};

class SimTeamStore final : public aws::SimService {
 public:
  explicit SimTeamStore(SimStoreConfig config) : config_(std::move(config)), rng_(config_.seed) {}

  bool handles(const std::string& account, const std::string& service, const aws::HttpRequest& request) const override;
  double latency_median_ms(const std::string& service, const aws::HttpRequest& request) const override;
  Answer answer(const std::string& service, const aws::HttpRequest& request, aws::TimePoint now) override;

  SimStoreStats stats() const;
  std::vector<std::string> unsupported() const;
  // Every value the attribute "st" took on each item, in order (set by any write), keyed "pk|sk".
  std::map<std::string, std::vector<std::string>> state_history() const;
  std::optional<nlohmann::json> item(const std::string& pk, const std::string& sk) const;
  size_t object_count() const;
  std::vector<aws::HttpRequest> requests() const;  // with keep_requests
  // What no client can beat for the units this run consumed: the largest of (units - one second
  // of rate) / rate over the partitions and the table, for writes and reads; and which one.
  double capacity_bound_s(std::string* which = nullptr) const;

 private:
  struct Bucket {
    double tokens = 0;
    aws::TimePoint last{};
    bool init = false;
  };
  struct Units {
    std::map<std::string, double> write, read;  // per partition key value
  };
  std::string partition(const std::string& pk, const std::string& sk) const;
  std::optional<nlohmann::json> find_item(const std::string& pk, const std::string& sk) const;  // mu_ held
  Answer ddb(const std::string& op, const nlohmann::json& body, aws::TimePoint now);
  Answer s3(const aws::HttpRequest& request);
  // Admits `units` at `now` or says which limit it is over ("" when admitted).
  std::string admit(const Units& units, aws::TimePoint now, bool& table_level);
  bool refill_and_check(Bucket& b, double rate, double need, aws::TimePoint now);
  void record_states(const std::string& pk, const std::string& sk, const nlohmann::json* before,
                     const nlohmann::json* after);
  Answer error(int status, const std::string& type, const std::string& message, bool throttled = false,
               nlohmann::json extra = nlohmann::json::object());

  SimStoreConfig config_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, std::map<std::string, nlohmann::json>> items_;  // pk -> sk -> item
  std::map<std::string, std::string> objects_;
  std::map<std::string, Bucket> write_buckets_, read_buckets_;
  Bucket table_write_, table_read_;
  SimStoreStats stats_;
  std::vector<std::string> unsupported_;
  std::map<std::string, std::vector<std::string>> history_;
  std::vector<aws::HttpRequest> requests_;
};

}  // namespace containctl::sim
