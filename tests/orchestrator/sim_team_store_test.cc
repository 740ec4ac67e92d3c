// The simulated team store (tests/support/sim_team_store.h) that the scale simulation runs the aws
// backend on: DynamoDB's semantics as the journal relies on them (conditions, updates, queries,
// transactions, batches), its limits and throttling errors, and the requests the journal sends
// checked against botocore's DynamoDB model.
#include <gtest/gtest.h>

#include "aws/dynamodb.h"
#include "orchestrator/team_audit.h"
#include "tests/support/service_model.h"
#include "tests/support/sim_scenario.h"

namespace containctl::sim {
namespace {

using nlohmann::json;
using aws::ddb_n;
using aws::ddb_s;

const aws::TimePoint kT0 = std::chrono::system_clock::from_time_t(1'790'000'000);

// One client on the store's account, single attempt unless told otherwise, in virtual time.
struct Fixture {
  aws::VirtualClock clock{kT0};
  std::shared_ptr<aws::SimTransport> transport;
  std::shared_ptr<SimTeamStore> store;
  std::shared_ptr<aws::AwsClient> client;
  std::unique_ptr<aws::DynamoDb> ddb;

  explicit Fixture(SimStoreConfig cfg = {}, int attempts = 1) {
    aws::SimConfig sc;
    sc.transient_rate = 0;
    transport = std::make_shared<aws::SimTransport>(clock, sc);
    store = std::make_shared<SimTeamStore>(cfg);
    transport->add_service(store);
    aws::ClientConfig cc;
    cc.transport = transport;
    cc.clock = &clock;
    cc.credentials = std::make_shared<aws::StaticCredentialsProvider>(
        aws::Credentials{aws::SimTransport::access_key_for(cfg.account), "s", "", std::nullopt, "sim"});
    cc.account_id = cfg.account;
    cc.retry.max_attempts = attempts;
    client = std::make_shared<aws::AwsClient>(cc);
    ddb = std::make_unique<aws::DynamoDb>(client, cfg.region, cfg.table);
    clock.thread_enter();
  }
  ~Fixture() { clock.thread_leave(); }
};

json key(const std::string& pk, const std::string& sk) { return {{"pk", ddb_s(pk)}, {"sk", ddb_s(sk)}}; }

TEST(SimTeamStoreTest, ConditionalWritesRefuseTheSecondWriterAsDynamoDbDoes) {
  Fixture f;
  json item = key("RUNS", "RUN#r1");
  item["status"] = ddb_s("running");
  ASSERT_TRUE(f.ddb->put(item, {"attribute_not_exists(pk)"}).ok());
  Status again = f.ddb->put(item, {"attribute_not_exists(pk)"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "ConditionalCheckFailedException");
  EXPECT_TRUE(aws::ddb_condition_failed(again.error()));

  // A state move on the expected previous states, with placeholders as the journal writes them.
  json step = key("RUN#r1", "STEP#000000#a");
  step["st"] = ddb_s("pending");
  ASSERT_TRUE(f.ddb->put(step).ok());
  aws::DdbCondition to_captured{"attribute_exists(pk) AND #st IN (:f0, :f1)", {{"#st", "st"}},
                                {{":f0", ddb_s("pending")}, {":f1", ddb_s("failed")}, {":to", ddb_s("captured")}}};
  auto moved = f.ddb->update(key("RUN#r1", "STEP#000000#a"), "SET #st = :to", to_captured);
  ASSERT_TRUE(moved.ok()) << moved.error().describe();
  EXPECT_EQ(aws::ddb_str(*moved, "st"), "captured");
  auto twice = f.ddb->update(key("RUN#r1", "STEP#000000#a"), "SET #st = :to", to_captured);
  ASSERT_FALSE(twice.ok());
  EXPECT_TRUE(aws::ddb_condition_failed(twice.error()));

  // ADD counts; a missing item with attribute_exists is refused, not created.
  for (int i = 1; i <= 3; ++i) {
    auto c = f.ddb->update(key("RUNS", "RUN#r1"), "ADD apply_counter :one", {"attribute_exists(pk)", json::object(), {{":one", ddb_n(1)}}});
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(aws::ddb_num(*c, "apply_counter"), i);
  }
  auto missing = f.ddb->update(key("RUNS", "RUN#nope"), "ADD apply_counter :one",
                               {"attribute_exists(pk)", json::object(), {{":one", ddb_n(1)}}});
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(f.store->item("RUNS", "RUN#nope"));

  // Delete only by the owner.
  json lock = key("LOCKS", "LOCK#x");
  lock["owner"] = ddb_s("me");
  ASSERT_TRUE(f.ddb->put(lock).ok());
  EXPECT_FALSE(f.ddb->remove(key("LOCKS", "LOCK#x"), {"#o = :owner", {{"#o", "owner"}}, {{":owner", ddb_s("you")}}}).ok());
  EXPECT_TRUE(f.ddb->remove(key("LOCKS", "LOCK#x"), {"#o = :owner", {{"#o", "owner"}}, {{":owner", ddb_s("me")}}}).ok());
  EXPECT_FALSE(f.store->item("LOCKS", "LOCK#x"));
  EXPECT_TRUE(f.store->unsupported().empty());
}

TEST(SimTeamStoreTest, ValidationErrorsAndUnmodelledExpressionsFailLoudly) {
  Fixture f;
  // A value placeholder no expression uses, a reserved word used bare, an undefined placeholder.
  auto unused = f.ddb->update(key("A", "B"), "SET x = :x", {"", json::object(), {{":x", ddb_s("1")}, {":y", ddb_s("2")}}});
  ASSERT_FALSE(unused.ok());
  EXPECT_EQ(unused.error().code, "ValidationException");
  EXPECT_NE(unused.error().message.find("unused"), std::string::npos) << unused.error().message;
  auto reserved = f.ddb->update(key("A", "B"), "SET status = :x", {"", json::object(), {{":x", ddb_s("1")}}});
  ASSERT_FALSE(reserved.ok());
  EXPECT_NE(reserved.error().message.find("reserved keyword"), std::string::npos);
  auto undefined = f.ddb->update(key("A", "B"), "SET x = :nope", {"", json::object(), {{":x", ddb_s("1")}}});
  ASSERT_FALSE(undefined.ok());
  EXPECT_TRUE(f.store->unsupported().empty());
  // Outside the model: an error naming it, and recorded so a scenario fails.
  auto fn = f.ddb->update(key("A", "B"), "SET x = if_not_exists(x, :x)", {"", json::object(), {{":x", ddb_s("1")}}});
  ASSERT_FALSE(fn.ok());
  EXPECT_NE(fn.error().message.find("does not model"), std::string::npos) << fn.error().message;
  auto op = f.ddb->call("Scan", json::object());
  ASSERT_FALSE(op.ok());
  EXPECT_EQ(f.store->unsupported().size(), 2u);
}

// What DynamoDB refuses, the model refuses too (each of these was accepted before): a key condition
// operator other than = < <= > >= BETWEEN begins_with, an update that removes a key attribute, a
// bare name from DynamoDB's full reserved-word list (and only from it), a missing required member,
// a member of the wrong type; arithmetic it cannot do exactly (decimals) is outside the model, not
// truncated.
TEST(SimTeamStoreTest, RefusesWhatDynamoDbRefusesAndDoesNotTruncateNumbers) {
  Fixture f;
  json row = key("RUN#r", "STEP#1");
  row["n"] = ddb_n(1);
  ASSERT_TRUE(f.ddb->put(row).ok());

  auto ne = f.ddb->call("Query", {{"KeyConditionExpression", "pk = :p AND sk <> :s"},
                                  {"ExpressionAttributeValues", {{":p", ddb_s("RUN#r")}, {":s", ddb_s("STEP#2")}}}});
  ASSERT_FALSE(ne.ok()) << "sk <> :s answered " << ne->dump();
  EXPECT_EQ(ne.error().code, "ValidationException");
  EXPECT_NE(ne.error().message.find("Invalid operator used in KeyConditionExpression: <>"), std::string::npos)
      << ne.error().message;
  auto lt = f.ddb->call("Query", {{"KeyConditionExpression", "pk = :p AND sk < :s"},
                                  {"ExpressionAttributeValues", {{":p", ddb_s("RUN#r")}, {":s", ddb_s("STEP#2")}}}});
  ASSERT_TRUE(lt.ok()) << lt.error().describe();
  EXPECT_EQ(lt->at("Count"), 1);

  auto remove_key = f.ddb->update(key("RUN#r", "STEP#1"), "REMOVE sk", {});
  ASSERT_FALSE(remove_key.ok());
  EXPECT_NE(remove_key.error().message.find("Cannot update attribute sk. This attribute is part of the key"),
            std::string::npos)
      << remove_key.error().message;
  EXPECT_TRUE(f.store->item("RUN#r", "STEP#1").value_or(json()).contains("sk"));

  // EVENT, STEP, TARGET and EXPIRES are not reserved words; RECORD and STATUS are.
  auto plain = f.ddb->update(key("RUN#r", "STEP#1"), "SET event = :v, step = :v2, target = :v3, expires = :v4",
                             {"", json::object(),
                              {{":v", ddb_s("e")}, {":v2", ddb_s("s")}, {":v3", ddb_s("t")}, {":v4", ddb_n(5)}}});
  EXPECT_TRUE(plain.ok()) << plain.error().describe();
  for (const char* word : {"record", "status"}) {
    auto reserved = f.ddb->update(key("RUN#r", "STEP#1"), std::string("SET ") + word + " = :v",
                                  {"", json::object(), {{":v", ddb_s("x")}}});
    ASSERT_FALSE(reserved.ok()) << word;
    EXPECT_NE(reserved.error().message.find("reserved keyword"), std::string::npos) << reserved.error().message;
  }
  EXPECT_TRUE(f.store->unsupported().empty());

  auto half = f.ddb->update(key("RUN#r", "STEP#1"), "ADD n :h", {"", json::object(), {{":h", {{"N", "1.5"}}}}});
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().message.find("does not model"), std::string::npos) << half.error().message;
  EXPECT_EQ(f.store->item("RUN#r", "STEP#1").value_or(json()).value("n", json()), ddb_n(1)) << "1 + 1.5 was written";
  EXPECT_EQ(f.store->unsupported().size(), 1u);

  // Straight to the store: requests DynamoDb::call would not send.
  auto send = [&](const std::string& op, const json& body) {
    aws::HttpRequest req;
    req.method = "POST";
    req.url = "https://dynamodb.us-east-1.amazonaws.com/";
    req.headers = {{"X-Amz-Target", "DynamoDB_20120810." + op}, {"Content-Type", "application/x-amz-json-1.0"}};
    req.body = body.dump();
    auto a = f.store->answer("dynamodb", req, kT0);
    return std::make_pair(a.response.status, json::parse(a.response.body, nullptr, false));
  };
  for (const auto& [op, body, member] : std::vector<std::tuple<std::string, json, std::string>>{
           {"GetItem", {{"TableName", "containctl-state"}}, "key"},
           {"TransactWriteItems", json::object(), "transactItems"},
           {"BatchWriteItem", json::object(), "requestItems"}}) {
    auto [status, answer] = send(op, body);
    EXPECT_EQ(status, 400) << op;
    EXPECT_EQ(answer.value("__type", ""), "com.amazonaws.dynamodb.v20120810#ValidationException") << op;
    EXPECT_NE(answer.value("message", "").find("Value null at '" + member + "'"), std::string::npos) << answer.dump();
  }
  auto [status, wrong] = send("GetItem", {{"TableName", "containctl-state"}, {"Key", key("RUN#r", "STEP#1")},
                                          {"ConsistentRead", "yes"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(wrong.value("__type", ""), "com.amazonaws.dynamodb.v20120810#SerializationException") << wrong.dump();
}

TEST(SimTeamStoreTest, TransactionsAreAllOrNothingAndNameTheFailedCondition) {
  Fixture f;
  json a = key("AUDIT", "SEQ#1");
  ASSERT_TRUE(f.ddb->put(a).ok());
  json items = json::array();
  json b = key("AUDIT", "SEQ#2");
  items.push_back({{"Put", {{"Item", b}, {"ConditionExpression", "attribute_not_exists(pk)"}}}});
  items.push_back({{"Put", {{"Item", a}, {"ConditionExpression", "attribute_not_exists(pk)"}}}});
  Status st = f.ddb->transact(items);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "TransactionCanceledException");
  EXPECT_NE(st.error().message.find("[None, ConditionalCheckFailed]"), std::string::npos) << st.error().message;
  EXPECT_TRUE(aws::ddb_condition_failed(st.error()));
  EXPECT_FALSE(f.store->item("AUDIT", "SEQ#2")) << "a cancelled transaction wrote one of its items";
  // Two actions on one item are a validation error.
  json dup = json::array({{{"Put", {{"Item", b}}}}, {{"Put", {{"Item", b}}}}});
  Status d = f.ddb->transact(dup);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "ValidationException");
}

// A TransactWriteItems over capacity is cancelled as DynamoDB cancels it (ThrottlingError for the
// items over, None for the others); nothing is written; the client classifies it as throttling.
// The team audit log, whose appends are such transactions on one partition, gets through a
// throttled store by the client's retries with backoff and keeps its chain whole (before the
// client classified the cancellation as throttling, the first throttled append failed as an I/O
// error of the audit log).
TEST(SimTeamStoreTest, AThrottledTransactionIsCancelledWithThrottlingErrorAndRetried) {
  SimStoreConfig cfg;
  cfg.ddb_latency_ms = 0.001;
  cfg.partition_write_units = 10;  // one second of burst: two audit appends (2 items x 1 unit x 2)
  {
    Fixture f(cfg);
    json other = key("OTHER", "X");
    json items = json::array();
    for (int i = 0; i < 3; ++i)
      items.push_back({{"Put", {{"Item", key("AUDIT", "SEQ#" + std::to_string(i))}}}});
    ASSERT_TRUE(f.ddb->transact(items).ok());  // 6 units of the partition's 10
    items = json::array({{{"Put", {{"Item", other}}}}});
    for (int i = 3; i < 6; ++i)
      items.push_back({{"Put", {{"Item", key("AUDIT", "SEQ#" + std::to_string(i))}}}});
    Status st = f.ddb->transact(items);  // 6 more on AUDIT: over; 2 on OTHER: not
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, "TransactionCanceledException");
    EXPECT_NE(st.error().message.find("[None, ThrottlingError, ThrottlingError, ThrottlingError]"), std::string::npos)
        << st.error().message;
    EXPECT_EQ(st.error().kind, ErrorKind::kThrottling);
    EXPECT_FALSE(aws::ddb_condition_failed(st.error()));
    EXPECT_FALSE(f.store->item("OTHER", "X")) << "a cancelled transaction wrote one of its items";
    EXPECT_EQ(f.store->stats().throttled.at("TransactWriteItems"), 1);
  }
  Fixture f(cfg, /*attempts=*/8);
  orch::TeamAuditLog log(f.client, cfg.region, cfg.table, cfg.bucket, f.clock);
  for (int i = 0; i < 6; ++i) {
    Status st = log.append("sim_event", {{"i", i}});
    ASSERT_TRUE(st.ok()) << "append " << i << ": " << st.error().describe();
  }
  EXPECT_GT(f.store->stats().throttled.at("TransactWriteItems"), 0) << "the cut partition should throttle appends";
  auto recs = log.records();
  ASSERT_TRUE(recs.ok()) << recs.error().describe();
  ASSERT_EQ(recs->size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ((*recs)[i].value("i", -1), i);
  auto v = log.verify();
  ASSERT_TRUE(v.ok()) << v.error().describe();
  EXPECT_TRUE(v->ok) << v->problem;
  EXPECT_EQ(v->records, 6u);
  EXPECT_TRUE(f.store->unsupported().empty());
}

TEST(SimTeamStoreTest, QueryPagesAtOneMegabyteAndTheClientReadsEveryPage) {
  Fixture f;
  std::vector<json> items;
  for (int i = 0; i < 300; ++i) {
    char sk[32];
    std::snprintf(sk, sizeof sk, "STEP#%06d#a", i);
    json it = key("RUN#big", sk);
    it["pad"] = ddb_s(std::string(8000, 'p'));
    items.push_back(it);
  }
  ASSERT_TRUE(f.ddb->batch_put(items).ok());
  auto got = f.ddb->query("RUN#big", "STEP#");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  ASSERT_EQ(got->size(), 300u);
  EXPECT_EQ(aws::ddb_str(got->front(), "sk"), "STEP#000000#a");
  EXPECT_EQ(aws::ddb_str(got->back(), "sk"), "STEP#000299#a");
  EXPECT_GE(f.store->stats().calls.at("Query"), 3) << "2.4 MB should take three pages";
}

// Pages of Limit items, forwards and backwards, each page starting after the previous one's
// LastEvaluatedKey, and only the items the key condition selects.
TEST(SimTeamStoreTest, QueryPagesByLimitInEitherDirection) {
  Fixture f;
  std::vector<json> items;
  for (int i = 0; i < 7; ++i) items.push_back(key("RUN#p", "STEP#" + std::to_string(i)));
  items.push_back(key("RUN#p", "OTHER#0"));
  items.push_back(key("RUN#q", "STEP#9"));
  ASSERT_TRUE(f.ddb->batch_put(items).ok());
  for (bool forward : {true, false}) {
    json body = {{"KeyConditionExpression", "pk = :p AND begins_with(sk, :s)"},
                 {"ExpressionAttributeValues", {{":p", ddb_s("RUN#p")}, {":s", ddb_s("STEP#")}}},
                 {"Limit", 3},
                 {"ScanIndexForward", forward}};
    std::vector<std::string> seen;
    std::vector<size_t> page_sizes;
    for (int page = 0; page < 10; ++page) {
      auto r = f.ddb->call("Query", body);
      ASSERT_TRUE(r.ok()) << r.error().describe();
      page_sizes.push_back(r->at("Items").size());
      for (const auto& it : r->at("Items")) seen.push_back(aws::ddb_str(it, "sk"));
      if (!r->contains("LastEvaluatedKey")) break;
      body["ExclusiveStartKey"] = r->at("LastEvaluatedKey");
    }
    std::vector<std::string> want = {"STEP#0", "STEP#1", "STEP#2", "STEP#3", "STEP#4", "STEP#5", "STEP#6"};
    if (!forward) std::reverse(want.begin(), want.end());
    EXPECT_EQ(seen, want) << (forward ? "forwards" : "backwards");
    EXPECT_EQ(page_sizes, (std::vector<size_t>{3, 3, 1})) << (forward ? "forwards" : "backwards");
  }
}

// 1,200 one-KB writes to one partition key in no time: the partition's 1,000 units/s (one second
// of burst) let about 1,000 through, the rest get ProvisionedThroughputExceededException, which
// the real client classifies as throttling. The same writes over 200 keys stay within the
// partitions, and the new on-demand table's 4,000 units/s.
TEST(SimTeamStoreTest, OnePartitionKeyIsThrottledAtItsThousandWriteUnits) {
  SimStoreConfig cfg;
  cfg.ddb_latency_ms = 0.001;  // every write at the same virtual instant
  Fixture hot(cfg);
  int throttled = 0, other = 0;
  for (int i = 0; i < 1200; ++i) {
    json it = key("RUN#hot", "STEP#" + std::to_string(i));
    it["pad"] = ddb_s(std::string(900, 'p'));
    Status st = hot.ddb->put(it);
    if (st.ok()) continue;
    if (st.error().code == "ProvisionedThroughputExceededException" && st.error().kind == ErrorKind::kThrottling) throttled++;
    else other++;
  }
  EXPECT_EQ(other, 0);
  EXPECT_EQ(throttled, 200);
  EXPECT_EQ(hot.store->stats().throttled.at("PutItem"), 200);

  Fixture spread(cfg);
  for (int i = 0; i < 1200; ++i) {
    json it = key("RUN#" + std::to_string(i % 200), "STEP#" + std::to_string(i));
    it["pad"] = ddb_s(std::string(900, 'p'));
    ASSERT_TRUE(spread.ddb->put(it).ok()) << i;
  }
  // ... and the table's limit is the next one: 4,000 more at once are over it.
  int table_throttled = 0;
  for (int i = 0; i < 4000; ++i) {
    json it = key("RUN#t" + std::to_string(i % 400), "STEP#" + std::to_string(i));
    Status st = spread.ddb->put(it);
    if (!st.ok() && st.error().code == "ThrottlingException") table_throttled++;
  }
  EXPECT_EQ(table_throttled, 1200) << "4,000 units of table capacity, 2,800 left after the first 1,200";

  // The what-if of a key design that spreads items (partition_per_item): the hot key's 1,200
  // writes pass, only the table's limit remains.
  cfg.partition_per_item = true;
  Fixture spread_items(cfg);
  for (int i = 0; i < 1200; ++i) {
    json it = key("RUN#hot", "STEP#" + std::to_string(i));
    it["pad"] = ddb_s(std::string(900, 'p'));
    ASSERT_TRUE(spread_items.ddb->put(it).ok()) << i;
  }
}

// Every request the journal and the team audit log send in a run, checked against botocore's
// DynamoDB model (framing: POST /, X-Amz-Target, JSON 1.0; body: members, types, bounds, enums).
TEST(SimTeamStoreTest, EveryRequestOfAnAwsBackendRunFitsBotocoresModel) {
  Scenario sc;
  sc.name = "shapes";
  sc.backend = "aws";
  sc.audit = true;
  sc.targets = make_targets(30, 3, {"us-east-1", "eu-west-1"});
  sc.large_before_every = 10;
  sc.store.keep_requests = true;
  sc.sim.transient_rate = 0;
  // run_scenario hands back every DynamoDB request the store kept (store.keep_requests).
  auto r = run_scenario(sc);
  for (const auto& e : r.errors) ADD_FAILURE() << e;
  for (const auto& a : r.store_anomalies) ADD_FAILURE() << a;
  ASSERT_EQ(r.journal_steps_verified, 60);
  EXPECT_EQ(r.store_objects, 3u) << "targets 0, 10, 20 have a 120 KB before-state: offloaded to S3";
  ASSERT_FALSE(r.store_requests.empty());
  auto model = testing::ServiceModel::load("dynamodb-2012-08-10.json");
  std::set<std::string> ops;
  for (const auto& req : r.store_requests) {
    std::string target(req.header("X-Amz-Target"));
    std::string op = target.substr(target.find('.') + 1);
    ops.insert(op);
    EXPECT_EQ(model.check_request(op, req), "") << req.body.substr(0, 400);
  }
  // The check is not vacuous: a member the model does not name is refused.
  aws::HttpRequest bad = r.store_requests.front();
  json body = json::parse(bad.body);
  body["ReturnConsumedCapacityX"] = "TOTAL";
  bad.body = body.dump();
  std::string target(bad.header("X-Amz-Target"));
  EXPECT_NE(model.check_request(target.substr(target.find('.') + 1), bad), "");
  // What the journal and audit log use in a run (create_run, per-step updates, read-back, audit).
  for (const char* op : {"BatchWriteItem", "PutItem", "GetItem", "UpdateItem", "Query", "TransactWriteItems"})
    EXPECT_TRUE(ops.count(op)) << op;
}

}  // namespace
}  // namespace containctl::sim
