#include "tests/support/sim_team_store.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>

#include "aws/url.h"
#include "tests/support/sim_ddb_expression.h"

namespace containctl::sim {

using nlohmann::json;

namespace {

constexpr const char* kPrefix = "com.amazonaws.dynamodb.v20120810#";
constexpr size_t kPageBytes = 1024 * 1024;  // Query returns at most 1 MB of items per call
constexpr size_t kMaxItemBytes = 400 * 1024;

struct Unsupported {
  std::string what;
};
struct Validation {
  std::string message;
};

// The members each operation may carry in this model (a subset of botocore's input shapes; the
// shapes themselves are checked against the model in tests/orchestrator/sim_team_store_test.cc).
const std::map<std::string, std::set<std::string>> kMembers = {
    {"GetItem", {"TableName", "Key", "ConsistentRead"}},
    {"PutItem", {"TableName", "Item", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues",
                 "ReturnValues"}},
    {"UpdateItem", {"TableName", "Key", "UpdateExpression", "ConditionExpression", "ExpressionAttributeNames",
                    "ExpressionAttributeValues", "ReturnValues"}},
    {"DeleteItem", {"TableName", "Key", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"}},
    {"Query", {"TableName", "KeyConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues",
               "ConsistentRead", "ExclusiveStartKey", "Limit", "ScanIndexForward"}},
    {"BatchWriteItem", {"RequestItems"}},
    {"TransactWriteItems", {"TransactItems"}},
};

// A member the operation requires, refused as DynamoDB refuses a missing one.
const json& required(const json& body, const std::string& name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    std::string camel = name;
    camel[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(camel[0])));
    throw Validation{"1 validation error detected: Value null at '" + camel +
                     "' failed to satisfy constraint: Member must not be null"};
  }
  return *it;
}

void check_members(const std::string& what, const json& body, const std::set<std::string>& allowed) {
  if (!body.is_object()) throw Validation{what + ": the request is not a JSON object"};
  for (const auto& [k, v] : body.items())
    if (!allowed.count(k)) throw Unsupported{what + " member " + k};
}

std::string key_string(const json& item, const char* name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object() || !it->contains("S") || !it->at("S").is_string())
    throw Validation{"One or more parameter values were invalid: Missing the key " + std::string(name) +
                     " in the item"};
  std::string v = it->at("S");
  if (v.empty())
    throw Validation{"One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
                     "contain an empty string value. Key: " + std::string(name)};
  return v;
}

void check_key(const json& key) {
  if (!key.is_object() || key.size() != 2)
    throw Validation{"The provided key element does not match the schema"};
  key_string(key, "pk");
  key_string(key, "sk");
}

double write_units(size_t before, size_t after) {
  return std::max(1.0, std::ceil(static_cast<double>(std::max(before, after)) / 1024.0));
}
double read_units(size_t bytes, bool consistent) {
  double u = std::max(1.0, std::ceil(static_cast<double>(bytes) / 4096.0));
  return consistent ? u : u / 2;
}

// One write of a request, prepared against the table as it is, not yet applied.
struct Write {
  std::string pk, sk;
  std::optional<json> before;  // the item now
  std::optional<json> after;   // the item afterwards (nullopt: deleted / absent)
  bool writes = true;          // false for ConditionCheck
  bool condition_ok = true;
  double units = 0;
};

}  // namespace

bool SimTeamStore::handles(const std::string& account, const std::string& service, const aws::HttpRequest&) const {
  return account == config_.account && (service == "dynamodb" || service == "s3");
}

double SimTeamStore::latency_median_ms(const std::string& service, const aws::HttpRequest& request) const {
  if (service == "s3") return config_.s3_latency_ms;
  std::string_view target = request.header("X-Amz-Target");
  if (target.ends_with(".TransactWriteItems")) return 2 * config_.ddb_latency_ms;
  if (target.ends_with(".BatchWriteItem")) return 1.5 * config_.ddb_latency_ms;
  return config_.ddb_latency_ms;
}

SimTeamStore::Answer SimTeamStore::error(int status, const std::string& type, const std::string& message, bool throttled,
                                       json extra) {
  Answer a;
  a.throttled = throttled;
  a.response.status = status;
  json body = {{"__type", type.find('#') == std::string::npos ? kPrefix + type : type}, {"message", message}};
  body.update(extra);
  a.response.body = body.dump();
  a.response.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
  a.response.headers.push_back({"x-amzn-RequestId", "sim-ddb"});
  return a;
}

SimTeamStore::Answer SimTeamStore::answer(const std::string& service, const aws::HttpRequest& request,
                                        aws::TimePoint now) {
  std::lock_guard lock(mu_);
  if (service == "s3") return s3(request);
  if (config_.keep_requests) requests_.push_back(request);
  std::string target(request.header("X-Amz-Target"));
  const std::string prefix = "DynamoDB_20120810.";
  std::string op = target.rfind(prefix, 0) == 0 ? target.substr(prefix.size()) : target;
  stats_.calls[op]++;
  json body = json::parse(request.body, nullptr, false);
  try {
    if (body.is_discarded()) throw Validation{"the request body is not JSON"};
    if (std::string(request.header("Content-Type")) != "application/x-amz-json-1.0")
      throw Validation{"Content-Type is not application/x-amz-json-1.0"};
    return ddb(op, body, now);
  } catch (const Validation& v) {
    return error(400, "ValidationException", v.message);
  } catch (const ExprError& e) {
    if (!e.unsupported) return error(400, "ValidationException", e.message);
    unsupported_.push_back(op + ": " + e.message);
    return error(400, "ValidationException", "simulated DynamoDB does not model " + e.message);
  } catch (const Unsupported& u) {
    unsupported_.push_back(op + ": " + u.what);
    return error(400, "ValidationException", "simulated DynamoDB does not model " + u.what);
  } catch (const json::type_error& e) {
    // A member of the wrong JSON type ("ConsistentRead": "yes", a number where a string goes).
    return error(400, "SerializationException", std::string("a request member has the wrong type: ") + e.what());
  }
}

bool SimTeamStore::refill_and_check(Bucket& b, double rate, double need, aws::TimePoint now) {
  if (!b.init) {
    b.init = true;
    b.tokens = rate;  // one second of capacity
    b.last = now;
  }
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) b.tokens = std::min(rate, b.tokens + elapsed * rate);
  b.last = std::max(b.last, now);
  // A request larger than a second's capacity is admitted on a full bucket (and goes negative).
  return b.tokens >= std::min(need, rate);
}

std::string SimTeamStore::admit(const Units& u, aws::TimePoint now, bool& table_level) {
  table_level = false;
  double w = 0, r = 0;
  for (const auto& [pk, n] : u.write) {
    w += n;
    if (!refill_and_check(write_buckets_[pk], config_.partition_write_units, n, now))
      return "TableWriteKeyRangeThroughputExceeded";
  }
  for (const auto& [pk, n] : u.read) {
    r += n;
    if (!refill_and_check(read_buckets_[pk], config_.partition_read_units, n, now))
      return "TableReadKeyRangeThroughputExceeded";
  }
  table_level = true;
  if (w > 0 && !refill_and_check(table_write_, config_.table_write_units, w, now)) return "TableWriteAccountLimitExceeded";
  if (r > 0 && !refill_and_check(table_read_, config_.table_read_units, r, now)) return "TableReadAccountLimitExceeded";
  for (const auto& [pk, n] : u.write) {
    write_buckets_[pk].tokens -= n;
    stats_.partition_write_units[pk] += n;
  }
  for (const auto& [pk, n] : u.read) {
    read_buckets_[pk].tokens -= n;
    stats_.partition_read_units[pk] += n;
  }
  table_write_.tokens -= w;
  table_read_.tokens -= r;
  stats_.write_units += w;
  stats_.read_units += r;
  return "";
}

void SimTeamStore::record_states(const std::string& pk, const std::string& sk, const json* before, const json* after) {
  if (!after || !after->contains("st")) return;
  const json& st = after->at("st");
  if (before && before->contains("st") && before->at("st") == st) return;
  history_[pk + "|" + sk].push_back(st.value("S", ""));
}

std::string SimTeamStore::partition(const std::string& pk, const std::string& sk) const {
  return config_.partition_per_item ? pk + "|" + sk : pk;
}

SimTeamStore::Answer SimTeamStore::ddb(const std::string& op, const json& body, aws::TimePoint now) {
  auto members = kMembers.find(op);
  if (members == kMembers.end()) throw Unsupported{"operation " + op};
  check_members(op, body, members->second);
  auto table_of = [&](const json& spec) {
    if (spec.value("TableName", "") != config_.table)
      throw Validation{"Requested resource not found: Table: " + spec.value("TableName", "") + " not found"};
  };
  auto throttle = [&](const std::string& reason, bool table_level) {
    stats_.throttled[op]++;
    json reasons = json::array({{{"reason", reason},
                                 {"resource", "arn:aws:dynamodb:" + config_.region + ":" + config_.account +
                                                  ":table/" + config_.table}}});
    if (table_level)
      return error(400, "com.amazon.coral.availability#ThrottlingException",
                   "Throughput exceeds the current throughput limit for your table", true,
                   {{"throttlingReasons", reasons}});
    return error(400, "ProvisionedThroughputExceededException",
                 "The level of configured provisioned throughput for the table was exceeded. Consider increasing your "
                 "provisioning level with the UpdateTable API.",
                 true, {{"ThrottlingReasons", reasons}});
  };
  auto lost = [&]() {
    if (config_.lost_answer_rate <= 0) return false;
    if (std::uniform_real_distribution<double>(0, 1)(rng_) >= config_.lost_answer_rate) return false;
    stats_.lost_answers++;
    return true;
  };
  auto internal = [&] { return error(500, "InternalServerError", "Internal server error"); };
  auto ok = [&](json out) {
    Answer a;
    a.response.status = 200;
    a.response.body = out.dump();
    a.response.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
    a.response.headers.push_back({"x-amzn-RequestId", "sim-ddb"});
    return a;
  };
  // Prepares one Put / Update / Delete / ConditionCheck.
  auto prepare = [&](const std::string& kind, const json& spec) {
    Write w;
    json names = spec.value("ExpressionAttributeNames", json::object());
    json values = spec.value("ExpressionAttributeValues", json::object());
    Expressions ex(names, values);
    json key;
    if (kind == "Put") {
      if (!required(spec, "Item").is_object()) throw Validation{"Put without Item"};
      key = {{"pk", spec.at("Item").value("pk", json())}, {"sk", spec.at("Item").value("sk", json())}};
    } else {
      key = spec.value("Key", json());
    }
    check_key(key);
    w.pk = key_string(key, "pk");
    w.sk = key_string(key, "sk");
    w.before = find_item(w.pk, w.sk);
    const json current = w.before ? *w.before : json::object();
    if (spec.contains("ConditionExpression")) w.condition_ok = ex.condition(spec.at("ConditionExpression"), current);
    else if (kind == "ConditionCheck") throw Validation{"ConditionCheck without ConditionExpression"};
    if (kind == "Put") {
      w.after = spec.at("Item");
    } else if (kind == "Update") {
      if (!spec.contains("UpdateExpression")) throw Unsupported{"UpdateItem without UpdateExpression"};
      json item = w.before ? *w.before : key;
      ex.update(spec.at("UpdateExpression"), item);
      w.after = item;
    } else if (kind == "Delete") {
      w.after = std::nullopt;
    } else {
      w.writes = false;
      w.after = w.before;
    }
    ex.check_all_used();
    if (w.after && ddb_item_size(*w.after) > kMaxItemBytes)
      throw Validation{"Item size has exceeded the maximum allowed size"};
    w.units = write_units(w.before ? ddb_item_size(*w.before) : 0, w.after ? ddb_item_size(*w.after) : 0);
    return w;
  };
  auto commit = [&](const Write& w) {
    if (!w.writes) return;
    record_states(w.pk, w.sk, w.before ? &*w.before : nullptr, w.after ? &*w.after : nullptr);
    if (w.after) {
      items_[w.pk][w.sk] = *w.after;
    } else {
      auto p = items_.find(w.pk);
      if (p != items_.end()) p->second.erase(w.sk);
    }
  };
  auto check_return_values = [&](const json& spec, std::initializer_list<const char*> allowed) {
    if (!spec.contains("ReturnValues")) return std::string("NONE");
    std::string rv = spec.at("ReturnValues");
    for (const char* a : allowed)
      if (rv == a) return rv;
    throw Unsupported{"ReturnValues " + rv};
  };

  if (op == "GetItem") {
    table_of(body);
    const json& key = required(body, "Key");
    check_key(key);
    auto item = find_item(key_string(key, "pk"), key_string(key, "sk"));
    Units u;
    u.read[partition(key_string(key, "pk"), key_string(key, "sk"))] = read_units(item ? ddb_item_size(*item) : 0, body.value("ConsistentRead", false));
    bool table_level;
    if (std::string r = admit(u, now, table_level); !r.empty()) return throttle(r, table_level);
    json out = json::object();
    if (item) out["Item"] = *item;
    return ok(out);
  }
  if (op == "Query") {
    table_of(body);
    json names = body.value("ExpressionAttributeNames", json::object());
    json values = body.value("ExpressionAttributeValues", json::object());
    Expressions ex(names, values);
    auto kc = ex.key_condition(body.value("KeyConditionExpression", ""));
    ex.check_all_used();
    const bool forward = body.value("ScanIndexForward", true);
    const long limit = body.value("Limit", 0L);
    std::optional<std::string> after;  // the previous page's last sort key
    if (body.contains("ExclusiveStartKey")) {
      check_key(body.at("ExclusiveStartKey"));
      after = key_string(body.at("ExclusiveStartKey"), "sk");
    }
    json items = json::array();
    size_t bytes = 0;
    const json* last = nullptr;  // the last item of this page
    bool more = false;           // another selected item follows it
    // From the item after `after` in sort-key order (a seek, as DynamoDB's is), one page.
    auto page = [&](auto it, auto end) {
      for (; it != end; ++it) {
        if (!Expressions::sk_matches(kc, it->first)) continue;
        if ((limit > 0 && static_cast<long>(items.size()) >= limit) || bytes >= kPageBytes) {
          more = true;
          return;
        }
        bytes += ddb_item_size(it->second);
        items.push_back(it->second);
        last = &it->second;
      }
    };
    static const std::map<std::string, json> kNone;
    auto part = items_.find(kc.pk);
    const auto& sks = part == items_.end() ? kNone : part->second;
    if (forward)
      page(after ? sks.upper_bound(*after) : sks.begin(), sks.end());
    else
      page(after ? std::make_reverse_iterator(sks.lower_bound(*after)) : sks.rbegin(), sks.rend());
    Units u;
    u.read[kc.pk] = read_units(bytes, body.value("ConsistentRead", false));
    bool table_level;
    if (std::string r = admit(u, now, table_level); !r.empty()) return throttle(r, table_level);
    json out = {{"Items", items}, {"Count", items.size()}, {"ScannedCount", items.size()}};
    if (more && last) out["LastEvaluatedKey"] = {{"pk", last->at("pk")}, {"sk", last->at("sk")}};
    return ok(out);
  }
  if (op == "PutItem" || op == "UpdateItem" || op == "DeleteItem") {
    table_of(body);
    std::string rv = op == "UpdateItem" ? check_return_values(body, {"NONE", "ALL_NEW", "ALL_OLD"})
                                        : check_return_values(body, {"NONE"});
    Write w = prepare(op == "PutItem" ? "Put" : op == "UpdateItem" ? "Update" : "Delete", body);
    Units u;
    u.write[partition(w.pk, w.sk)] = w.units;
    bool table_level;
    if (std::string r = admit(u, now, table_level); !r.empty()) return throttle(r, table_level);
    if (!w.condition_ok) {
      stats_.condition_failed++;
      return error(400, "ConditionalCheckFailedException", "The conditional request failed");
    }
    commit(w);
    if (lost()) return internal();
    json out = json::object();
    if (rv == "ALL_NEW" && w.after) out["Attributes"] = *w.after;
    if (rv == "ALL_OLD" && w.before) out["Attributes"] = *w.before;
    return ok(out);
  }
  if (op == "TransactWriteItems") {
    const json& items = required(body, "TransactItems");
    if (!items.is_array() || items.empty() || items.size() > 100)
      throw Validation{"1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member "
                       "must have length less than or equal to 100"};
    std::vector<Write> writes;
    std::set<std::pair<std::string, std::string>> seen;
    Units u;
    for (const auto& it : items) {
      if (!it.is_object() || it.size() != 1) throw Validation{"a TransactItem must hold exactly one action"};
      const std::string kind = it.begin().key();
      const json& spec = it.begin().value();
      static const std::map<std::string, std::set<std::string>> kActions = {
          {"Put", {"TableName", "Item", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"}},
          {"Update", {"TableName", "Key", "UpdateExpression", "ConditionExpression", "ExpressionAttributeNames",
                      "ExpressionAttributeValues"}},
          {"Delete", {"TableName", "Key", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"}},
          {"ConditionCheck", {"TableName", "Key", "ConditionExpression", "ExpressionAttributeNames",
                              "ExpressionAttributeValues"}}};
      auto allowed = kActions.find(kind);
      if (allowed == kActions.end()) throw Unsupported{"TransactItems action " + kind};
      check_members("TransactItems " + kind, spec, allowed->second);
      table_of(spec);
      Write w = prepare(kind, spec);
      if (!seen.insert({w.pk, w.sk}).second)
        throw Validation{"Transaction request cannot include multiple operations on one item"};
      u.write[partition(w.pk, w.sk)] += 2 * w.units;  // transactional writes cost twice
      writes.push_back(std::move(w));
    }
    // As DynamoDB answers it: one reason per item in request order, {"Code": "None"} for the items
    // that did not cancel it, and the codes repeated in the message under "Message".
    auto cancelled = [&](const std::vector<std::pair<std::string, std::string>>& why, bool throttled) {
      json reasons = json::array();
      std::string codes;
      for (const auto& [code, message] : why) {
        reasons.push_back(code == "None" ? json{{"Code", code}} : json{{"Code", code}, {"Message", message}});
        codes += (codes.empty() ? "" : ", ") + code;
      }
      Answer a = error(400, "TransactionCanceledException", "", throttled, {{"CancellationReasons", reasons}});
      json b = json::parse(a.response.body);
      b.erase("message");
      b["Message"] = "Transaction cancelled, please refer cancellation reasons for specific reasons [" + codes + "]";
      a.response.body = b.dump();
      return a;
    };
    bool table_level;
    if (std::string r = admit(u, now, table_level); !r.empty()) {
      if (!config_.throttled_transaction_cancels) return throttle(r, table_level);
      // The items whose partition is over its limit (all of them when the table is) are named.
      stats_.throttled[op]++;
      std::vector<std::pair<std::string, std::string>> why;
      for (const auto& w : writes) {
        const std::string part = partition(w.pk, w.sk);
        bool over = table_level ||
                    !refill_and_check(write_buckets_[part], config_.partition_write_units, u.write.at(part), now);
        if (over)
          why.push_back({"ThrottlingError",
                         "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
                         "scaling your table or index so please try again shortly. If exceptions persist, check if "
                         "you have a hot key: "
                         "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html."});
        else
          why.push_back({"None", ""});
      }
      return cancelled(why, true);
    }
    bool all_ok = std::all_of(writes.begin(), writes.end(), [](const Write& w) { return w.condition_ok; });
    if (!all_ok) {
      stats_.condition_failed++;
      std::vector<std::pair<std::string, std::string>> why;
      for (const auto& w : writes)
        why.push_back(w.condition_ok ? std::pair<std::string, std::string>{"None", ""}
                                     : std::pair<std::string, std::string>{"ConditionalCheckFailed",
                                                                           "The conditional request failed"});
      return cancelled(why, false);
    }
    for (const auto& w : writes) commit(w);
    if (lost()) return internal();
    return ok(json::object());
  }
  // BatchWriteItem
  const json& req = required(body, "RequestItems");
  if (!req.is_object() || req.size() != 1 || !req.contains(config_.table))
    throw Validation{"Requested resource not found (RequestItems must name the table)"};
  const json& list = req.at(config_.table);
  if (!list.is_array() || list.empty() || list.size() > 25)
    throw Validation{"1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value "
                     "must satisfy constraint: [Member must have length less than or equal to 25]"};
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<std::pair<Write, json>> writes;
  for (const auto& r : list) {
    if (!r.is_object() || r.size() != 1) throw Validation{"a WriteRequest must hold exactly one request"};
    const std::string kind = r.begin().key();
    if (kind != "PutRequest" && kind != "DeleteRequest") throw Unsupported{"WriteRequest " + kind};
    json spec = r.begin().value();
    check_members(kind, spec, {kind == "PutRequest" ? "Item" : "Key"});
    Write w = prepare(kind == "PutRequest" ? "Put" : "Delete", spec);
    if (!seen.insert({w.pk, w.sk}).second)
      throw Validation{"Provided list of item keys contains duplicates"};
    writes.push_back({std::move(w), r});
  }
  json unprocessed = json::array();
  size_t done = 0;
  std::string last_reason;
  bool last_table_level = false;
  for (auto& [w, r] : writes) {
    Units u;
    u.write[partition(w.pk, w.sk)] = w.units;
    bool table_level;
    if (std::string reason = admit(u, now, table_level); !reason.empty()) {
      unprocessed.push_back(r);
      last_reason = reason;
      last_table_level = table_level;
      continue;
    }
    commit(w);
    done++;
  }
  if (done == 0) return throttle(last_reason, last_table_level);
  if (lost()) return internal();
  json out = {{"UnprocessedItems", json::object()}};
  if (!unprocessed.empty()) out["UnprocessedItems"][config_.table] = unprocessed;
  return ok(out);
}

SimTeamStore::Answer SimTeamStore::s3(const aws::HttpRequest& request) {
  Answer a;
  auto url = aws::parse_url(request.url);
  std::string bucket, key;
  if (url.ok()) {
    std::string path = url->path.size() > 1 ? url->path.substr(1) : "";
    if (url->host.rfind(config_.bucket + ".", 0) == 0) {
      bucket = config_.bucket;
      key = path;
    } else {
      size_t slash = path.find('/');
      bucket = path.substr(0, slash);
      key = slash == std::string::npos ? "" : path.substr(slash + 1);
    }
  }
  auto xml_error = [&](int status, const std::string& code, const std::string& message) {
    a.response.status = status;
    a.response.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message +
                      "</Message><RequestId>sim-s3</RequestId></Error>";
    a.response.headers.push_back({"x-amz-request-id", "sim-s3"});
    return a;
  };
  std::string op = request.method + (url.ok() && !url->query.empty() ? "?" + url->query : "");
  if (bucket == config_.bucket && key.empty() && request.method == "GET" && url.ok() &&
      url->query.find("list-type=2") != std::string::npos) {
    // ListObjectsV2 with a prefix (audit verify lists the checkpoints); one page.
    stats_.calls["s3:ListObjectsV2"]++;
    std::string prefix;
    for (size_t p = 0; p < url->query.size();) {
      size_t e = url->query.find('&', p);
      if (e == std::string::npos) e = url->query.size();
      std::string kv = url->query.substr(p, e - p);
      if (kv.rfind("prefix=", 0) == 0) prefix = kv.substr(7);
      p = e + 1;
    }
    for (size_t q; (q = prefix.find("%2F")) != std::string::npos;) prefix.replace(q, 3, "/");
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>" + bucket + "</Name>";
    int n = 0;
    for (const auto& [k, v] : objects_)
      if (k.rfind(prefix, 0) == 0) xml += "<Contents><Key>" + k + "</Key><Size>" + std::to_string(v.size()) + "</Size></Contents>", n++;
    xml += "<KeyCount>" + std::to_string(n) + "</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>";
    a.response.status = 200;
    a.response.body = xml;
    a.response.headers.push_back({"x-amz-request-id", "sim-s3"});
    return a;
  }
  if (bucket != config_.bucket || key.empty() || (url.ok() && !url->query.empty()) ||
      (request.method != "PUT" && request.method != "GET")) {
    stats_.calls["s3:" + op]++;
    unsupported_.push_back("s3 " + op + " " + request.url);
    return xml_error(501, "NotImplemented", "simulated S3 models PutObject and GetObject on the store bucket only");
  }
  a.response.headers.push_back({"x-amz-request-id", "sim-s3"});
  if (request.method == "PUT") {
    stats_.calls["s3:PutObject"]++;
    objects_[key] = request.body;
    a.response.status = 200;
    a.response.headers.push_back({"ETag", "\"sim\""});
    return a;
  }
  stats_.calls["s3:GetObject"]++;
  auto it = objects_.find(key);
  if (it == objects_.end()) return xml_error(404, "NoSuchKey", "The specified key does not exist.");
  a.response.status = 200;
  a.response.body = it->second;
  return a;
}

SimStoreStats SimTeamStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::vector<std::string> SimTeamStore::unsupported() const {
  std::lock_guard lock(mu_);
  return unsupported_;
}

std::map<std::string, std::vector<std::string>> SimTeamStore::state_history() const {
  std::lock_guard lock(mu_);
  return history_;
}

std::optional<json> SimTeamStore::find_item(const std::string& pk, const std::string& sk) const {
  auto p = items_.find(pk);
  if (p == items_.end()) return std::nullopt;
  auto s = p->second.find(sk);
  if (s == p->second.end()) return std::nullopt;
  return s->second;
}

std::optional<json> SimTeamStore::item(const std::string& pk, const std::string& sk) const {
  std::lock_guard lock(mu_);
  return find_item(pk, sk);
}

std::vector<aws::HttpRequest> SimTeamStore::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t SimTeamStore::object_count() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

double SimTeamStore::capacity_bound_s(std::string* which) const {
  std::lock_guard lock(mu_);
  double best = 0;
  std::string name;
  auto consider = [&](double units, double rate, const std::string& what) {
    double t = std::max(0.0, (units - rate) / rate);
    if (t > best) best = t, name = what;
  };
  for (const auto& [pk, u] : stats_.partition_write_units)
    consider(u, config_.partition_write_units, "partition " + pk + " writes");
  for (const auto& [pk, u] : stats_.partition_read_units)
    consider(u, config_.partition_read_units, "partition " + pk + " reads");
  consider(stats_.write_units, config_.table_write_units, "table writes");
  consider(stats_.read_units, config_.table_read_units, "table reads");
  if (which) *which = name;
  return best;
}

}  // namespace containctl::sim
