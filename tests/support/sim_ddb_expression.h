// DynamoDB's condition, key-condition and update expressions, as far as containctl's team store
// sends them (orchestrator/journal_aws*.cc, team_audit.cc, finding_claims.cc), for the simulated
// team store. Anything outside that subset is an error naming it, never a guess: nested paths,
// list indexes, functions other than attribute_exists / attribute_not_exists / begins_with,
// SET arithmetic other than "a + b" / "a - b" and ADD on anything but 64-bit integers,
// if_not_exists, list_append, DELETE. As DynamoDB does, a placeholder that is not defined, a
// defined one that no expression uses, a bare attribute name that is one of its reserved words
// (tests/data/dynamodb/reserved_keywords.txt), a key condition operator other than = < <= > >=
// BETWEEN begins_with, and an update (SET, ADD or REMOVE) of a key attribute are ValidationExceptions.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace containctl::sim {

// A parse or evaluation problem: `validation` ones are DynamoDB's ValidationException; the
// others are the model's own limits ("unsupported"), reported as such.
struct ExprError {
  bool unsupported = false;
  std::string message;
};

class Expressions {
 public:
  // names/values: ExpressionAttributeNames / ExpressionAttributeValues of the request.
  Expressions(const nlohmann::json& names, const nlohmann::json& values) : names_(names), values_(values) {}

  // True when `item` (an attribute map; empty object when absent) satisfies `expr`.
  bool condition(const std::string& expr, const nlohmann::json& item);
  // Applies `expr` to `item` (which may be empty: an upsert).
  void update(const std::string& expr, nlohmann::json& item);
  // "pk = :v [AND begins_with(sk, :p)]" (also "sk = :s", "sk BETWEEN", comparisons on sk): the
  // partition key value and a predicate on the sort key.
  struct KeyCondition {
    std::string pk;
    std::string op;  // "", "begins_with", "=", "<", "<=", ">", ">=", "between"
    std::string a, b;
  };
  KeyCondition key_condition(const std::string& expr);
  // Every placeholder of the request must have been used (call after the expressions).
  void check_all_used() const;

  static bool sk_matches(const KeyCondition& k, const std::string& sk);

 private:
  const nlohmann::json& names_;
  const nlohmann::json& values_;
  std::set<std::string> used_names_, used_values_;
  friend struct ExprParser;
};

// DynamoDB's item size (attribute names plus values, UTF-8 bytes; numbers approximated as
// DynamoDB does: about one byte per two significant digits plus one).
size_t ddb_item_size(const nlohmann::json& item);

}  // namespace containctl::sim
