// DynamoDB's JSON 1.0 API (X-Amz-Target: DynamoDB_20120810.<Operation>) on one table, signed and
// retried by AwsClient. Items are JSON in DynamoDB's attribute-value form:
// {"pk": {"S": "RUNS"}, "seq": {"N": "3"}}.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/client.h"

namespace containctl::aws {

// Attribute values.
nlohmann::json ddb_s(const std::string& v);
nlohmann::json ddb_n(long long v);
// An item's string / number attribute ("" / 0 when absent).
std::string ddb_str(const nlohmann::json& item, const std::string& name);
long long ddb_num(const nlohmann::json& item, const std::string& name);

// A condition expression with its placeholders.
struct DdbCondition {
  std::string expression;
  nlohmann::json names = nlohmann::json::object();   // "#s" -> "state"
  nlohmann::json values = nlohmann::json::object();  // ":s" -> {"S": "applying"}
};

// ConditionalCheckFailedException, or a transaction cancelled by one of its conditions.
bool ddb_condition_failed(const Error& e);

class DynamoDb {
 public:
  DynamoDb(std::shared_ptr<AwsClient> client, std::string region, std::string table)
      : client_(std::move(client)), region_(std::move(region)), table_(std::move(table)) {}

  const std::string& table() const { return table_; }
  const std::string& region() const { return region_; }
  AwsClient& client() { return *client_; }

  // Any operation; `body` gets TableName unless it names one or holds TransactItems/RequestItems.
  Result<nlohmann::json> call(const std::string& operation, nlohmann::json body);
  // Strongly consistent by default: state decisions never read a stale item.
  Result<std::optional<nlohmann::json>> get(const nlohmann::json& key, bool consistent = true);
  Status put(const nlohmann::json& item, const DdbCondition& cond = {});
  // UpdateItem; returns the item's attributes after the update (ReturnValues ALL_NEW).
  Result<nlohmann::json> update(const nlohmann::json& key, const std::string& update_expression, const DdbCondition& cond);
  Status remove(const nlohmann::json& key, const DdbCondition& cond = {});
  // Every item of partition `pk` whose sort key begins with `sk_prefix`, in sort-key order (all pages).
  Result<std::vector<nlohmann::json>> query(const std::string& pk, const std::string& sk_prefix = "",
                                            bool consistent = true);
  // TransactWriteItems (all or nothing, up to 100 items). `items` are TransactItems entries without
  // TableName ({"Put": {...}}, {"Update": {...}}, {"ConditionCheck": {...}}); it is added here.
  Status transact(nlohmann::json items);
  // BatchWriteItem of puts, 25 a call, resending unprocessed items (no conditions: for copies).
  Status batch_put(const std::vector<nlohmann::json>& items);

 private:
  std::shared_ptr<AwsClient> client_;
  std::string region_;
  std::string table_;
};

}  // namespace containctl::aws
