#include "aws/dynamodb.h"

#include <algorithm>
#include <chrono>

namespace containctl::aws {

using nlohmann::json;

json ddb_s(const std::string& v) { return {{"S", v}}; }
json ddb_n(long long v) { return {{"N", std::to_string(v)}}; }

std::string ddb_str(const json& item, const std::string& name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object()) return "";
  auto s = it->find("S");
  return s != it->end() && s->is_string() ? s->get<std::string>() : "";
}

long long ddb_num(const json& item, const std::string& name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object()) return 0;
  auto n = it->find("N");
  if (n == it->end() || !n->is_string()) return 0;
  try {
    return std::stoll(n->get<std::string>());
  } catch (...) {
    return 0;
  }
}

bool ddb_condition_failed(const Error& e) {
  if (e.code == "ConditionalCheckFailedException") return true;
  // A cancelled transaction names each item's reason; a condition among them is a lost race.
  return e.code == "TransactionCanceledException" && e.message.find("ConditionalCheckFailed") != std::string::npos;
}

namespace {

// The placeholders serve the update expression too, so they are sent with or without a condition.
void with_condition(json& body, const DdbCondition& cond) {
  if (!cond.expression.empty()) body["ConditionExpression"] = cond.expression;
  if (!cond.names.empty()) body["ExpressionAttributeNames"] = cond.names;
  if (!cond.values.empty()) body["ExpressionAttributeValues"] = cond.values;
}

}  // namespace

Result<json> DynamoDb::call(const std::string& operation, json body) {
  if (!body.contains("TableName") && !body.contains("TransactItems") && !body.contains("RequestItems"))
    body["TableName"] = table_;
  return client_->json("dynamodb", region_, "DynamoDB_20120810", operation, body, true);
}

Result<std::optional<json>> DynamoDb::get(const json& key, bool consistent) {
  CC_ASSIGN(json r, call("GetItem", {{"Key", key}, {"ConsistentRead", consistent}}));
  if (!r.contains("Item") || !r["Item"].is_object()) return std::optional<json>();
  return std::optional<json>(r["Item"]);
}

Status DynamoDb::put(const json& item, const DdbCondition& cond) {
  json body = {{"Item", item}};
  with_condition(body, cond);
  CC_TRY(call("PutItem", body));
  return Ok{};
}

Result<json> DynamoDb::update(const json& key, const std::string& update_expression, const DdbCondition& cond) {
  json body = {{"Key", key}, {"UpdateExpression", update_expression}, {"ReturnValues", "ALL_NEW"}};
  with_condition(body, cond);
  CC_ASSIGN(json r, call("UpdateItem", body));
  return r.value("Attributes", json::object());
}

Status DynamoDb::remove(const json& key, const DdbCondition& cond) {
  json body = {{"Key", key}};
  with_condition(body, cond);
  CC_TRY(call("DeleteItem", body));
  return Ok{};
}

Result<std::vector<json>> DynamoDb::query(const std::string& pk, const std::string& sk_prefix, bool consistent) {
  std::vector<json> out;
  json body = {{"KeyConditionExpression", sk_prefix.empty() ? "pk = :pk" : "pk = :pk AND begins_with(sk, :sk)"},
               {"ExpressionAttributeValues", {{":pk", ddb_s(pk)}}},
               {"ConsistentRead", consistent}};
  if (!sk_prefix.empty()) body["ExpressionAttributeValues"][":sk"] = ddb_s(sk_prefix);
  for (;;) {
    CC_ASSIGN(json r, call("Query", body));
    for (const auto& item : r.value("Items", json::array())) out.push_back(item);
    if (!r.contains("LastEvaluatedKey") || r["LastEvaluatedKey"].empty()) break;
    body["ExclusiveStartKey"] = r["LastEvaluatedKey"];
  }
  return out;
}

Status DynamoDb::transact(json items) {
  for (auto& it : items)
    for (auto& [kind, op] : it.items()) op["TableName"] = table_;
  CC_TRY(call("TransactWriteItems", {{"TransactItems", items}}));
  return Ok{};
}

Status DynamoDb::batch_put(const std::vector<json>& items) {
  for (size_t i = 0; i < items.size(); i += 25) {
    json reqs = json::array();
    for (size_t j = i; j < std::min(items.size(), i + 25); ++j) reqs.push_back({{"PutRequest", {{"Item", items[j]}}}});
    json pending = {{table_, reqs}};
    // Unprocessed items come back when a partition is over its write capacity: send them again,
    // backing off, as DynamoDB asks.
    for (int attempt = 0; !pending.empty(); ++attempt) {
      if (attempt > 0) {
        if (attempt > 8) return Error{ErrorKind::kThrottling, "UnprocessedItems", "BatchWriteItem left items unwritten"};
        client_->config().clock->sleep_for(std::chrono::milliseconds(50 << std::min(attempt, 5)));
      }
      CC_ASSIGN(json r, call("BatchWriteItem", {{"RequestItems", pending}}));
      pending = r.value("UnprocessedItems", json::object());
    }
  }
  return Ok{};
}

}  // namespace containctl::aws
