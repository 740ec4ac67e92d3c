#include "stacksets/deploy_template.h"

#include <cmath>
#include <regex>
#include <set>
#include <sstream>

#include "stacksets/roles.h"

namespace containctl::stacksets {
namespace {

Doc ref(const std::string& name) { return Doc{{"Ref", name}}; }
Doc sub(const std::string& s) { return Doc{{"Fn::Sub", s}}; }
Doc get_att(const std::string& resource, const std::string& attr) {
  return Doc{{"Fn::GetAtt", Doc::array({resource, attr})}};
}

Doc statement(const std::string& sid, const std::vector<std::string>& acts, Doc resource) {
  Doc st;
  st["Sid"] = sid;
  st["Effect"] = "Allow";
  st["Action"] = acts;
  st["Resource"] = std::move(resource);
  return st;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

Result<std::set<std::string>> parse_sources(const std::string& list) {
  std::set<std::string> out;
  if (trim(list).empty()) return std::set<std::string>{"guardduty", "securityhub"};
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    item = trim(item);
    if (item != "guardduty" && item != "securityhub")
      return Error::invalid("unknown source '" + item + "' in --sources '" + list + "' (guardduty, securityhub)",
                            "UnknownSource");
    out.insert(item);
  }
  return out;
}

Status check_names(const DeployOptions& o) {
  if (o.code_bucket.empty() != o.code_key.empty())
    return Error{ErrorKind::kUsage, "Usage", "--code-bucket and --code-key go together (the S3 location of containctl-lambda.zip)"};
  // S3 bucket naming rules (lower case, digits, dots, hyphens; 3-63; starts and ends alphanumeric).
  static const std::regex kBucket("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$");
  if (!o.code_bucket.empty() && !std::regex_match(o.code_bucket, kBucket))
    return Error::invalid("--code-bucket '" + o.code_bucket + "' is not a valid S3 bucket name", "InvalidBucketName");
  if (o.code_key.size() > 1024) return Error::invalid("--code-key is longer than 1024 bytes", "InvalidKey");
  for (unsigned char c : o.code_key)
    if (c < 0x20 || c == 0x7f) return Error::invalid("--code-key holds a control character", "InvalidKey");
  static const std::regex kRole("^[A-Za-z0-9+=,.@_-]{1,64}$");
  if (!std::regex_match(o.member_role_name, kRole))
    return Error::invalid("member role name '" + o.member_role_name + "' is not a valid IAM role name",
                          "InvalidRoleName");
  return Ok{};
}

Doc parameters(const DeployOptions& o) {
  Doc p;
  auto param = [&](const std::string& name, const std::string& description, const std::string& def,
                   const std::string& pattern) {
    Doc d;
    d["Type"] = "String";
    d["Description"] = description;
    if (!def.empty() || name == "AlarmTopicArn") d["Default"] = def;
    if (!pattern.empty()) d["AllowedPattern"] = pattern;
    p[name] = std::move(d);
  };
  param("CodeBucket", "S3 bucket holding containctl-lambda.zip (scripts/package)", o.code_bucket,
        "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$");
  param("CodeKey", "S3 key of containctl-lambda.zip", o.code_key, ".+");
  param("FunctionName", "name of the Lambda function", kDefaultFunctionName, "^[A-Za-z0-9_-]{1,64}$");
  param("MemberRoleName", "the containctl role in each member account (stackset generate), assumed by the function",
        o.member_role_name, "^[A-Za-z0-9+=,.@_-]{1,64}$");
  param("StateTableName", "DynamoDB table of the team store (settings: state.table)", kDefaultStateTable,
        "^[A-Za-z0-9_.-]{3,255}$");
  param("SettingsKey", "key of the settings file in the team store bucket (CONTAINCTL_SETTINGS)", kDefaultSettingsKey,
        "^[^\\s]+$");
  param("AlarmTopicArn", "SNS topic the alarms notify (empty: none)", "", "^(arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:.+)?$");
  return p;
}

Doc state_table() {
  Doc props;
  props["TableName"] = ref("StateTableName");
  // The key schema the aws journal backend writes (orchestrator/journal_aws.h: pk, sk strings).
  props["AttributeDefinitions"] = Doc::array({Doc{{"AttributeName", "pk"}, {"AttributeType", "S"}},
                                              Doc{{"AttributeName", "sk"}, {"AttributeType", "S"}}});
  props["KeySchema"] = Doc::array({Doc{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                                   Doc{{"AttributeName", "sk"}, {"KeyType", "RANGE"}}});
  props["BillingMode"] = "PAY_PER_REQUEST";
  props["PointInTimeRecoverySpecification"] = Doc{{"PointInTimeRecoveryEnabled", true}};
  props["SSESpecification"] = Doc{{"SSEEnabled", true}};
  props["DeletionProtectionEnabled"] = true;
  props["Tags"] = Doc::array({Doc{{"Key", "containctl"}, {"Value", "state"}}});
  // The journal and the audit log outlive the stack: deleting the stack must not delete them.
  return Doc{{"Type", "AWS::DynamoDB::Table"}, {"DeletionPolicy", "Retain"}, {"UpdateReplacePolicy", "Retain"},
             {"Properties", std::move(props)}};
}

Doc state_bucket() {
  Doc props;
  props["BucketName"] = sub("containctl-state-${AWS::AccountId}-${AWS::Region}");
  props["VersioningConfiguration"] = Doc{{"Status", "Enabled"}};
  props["BucketEncryption"] = Doc{{"ServerSideEncryptionConfiguration",
                                   Doc::array({Doc{{"ServerSideEncryptionByDefault", Doc{{"SSEAlgorithm", "AES256"}}},
                                                   {"BucketKeyEnabled", true}}})}};
  props["PublicAccessBlockConfiguration"] = Doc{{"BlockPublicAcls", true}, {"BlockPublicPolicy", true},
                                                {"IgnorePublicAcls", true}, {"RestrictPublicBuckets", true}};
  props["OwnershipControls"] = Doc{{"Rules", Doc::array({Doc{{"ObjectOwnership", "BucketOwnerEnforced"}}})}};
  props["Tags"] = Doc::array({Doc{{"Key", "containctl"}, {"Value", "state"}}});
  return Doc{{"Type", "AWS::S3::Bucket"}, {"DeletionPolicy", "Retain"}, {"UpdateReplacePolicy", "Retain"},
             {"Properties", std::move(props)}};
}

Doc state_bucket_policy() {
  Doc deny;
  deny["Sid"] = "DenyInsecureTransport";
  deny["Effect"] = "Deny";
  deny["Principal"] = "*";
  deny["Action"] = "s3:*";
  deny["Resource"] = Doc::array({get_att("StateBucket", "Arn"), sub("${StateBucket.Arn}/*")});
  deny["Condition"] = Doc{{"Bool", Doc{{"aws:SecureTransport", "false"}}}};
  Doc props;
  props["Bucket"] = ref("StateBucket");
  props["PolicyDocument"] = Doc{{"Version", "2012-10-17"}, {"Statement", Doc::array({deny})}};
  return Doc{{"Type", "AWS::S3::BucketPolicy"}, {"Properties", std::move(props)}};
}

// The table's and the bucket's statements, from the operations the store's code calls.
std::vector<Doc> team_store_statements() {
  std::set<std::string> table, bucket, reads, writes;
  for (const auto& op : team_store_operations())
    for (const auto& a : op.iam_actions) {
      if (op.service == "dynamodb") table.insert(a);
      else if (!op.object_level) bucket.insert(a);
      else (a == "s3:GetObject" ? reads : writes).insert(a);
    }
  Doc prefixes = Doc::array();
  for (const auto& p : team_store_write_prefixes()) prefixes.push_back(sub("${StateBucket.Arn}/" + p + "*"));
  return {statement("TeamStoreTable", {table.begin(), table.end()}, get_att("StateTable", "Arn")),
          statement("TeamStoreBucket", {bucket.begin(), bucket.end()}, get_att("StateBucket", "Arn")),
          statement("TeamStoreReadObjects", {reads.begin(), reads.end()}, sub("${StateBucket.Arn}/*")),
          statement("TeamStoreWriteObjects", {writes.begin(), writes.end()}, std::move(prefixes))};
}

Result<Doc> function_role(const std::vector<const actions::ActionFamily*>& families) {
  Doc statements = Doc::array();
  for (const auto* f : families) {
    CC_ASSIGN(Doc st, family_statement(*f));
    statements.push_back(std::move(st));
  }
  // Containment in other accounts goes through their member role (ExternalId = account id).
  statements.push_back(statement("AssumeMemberRole", {"sts:AssumeRole"},
                                 sub("arn:${AWS::Partition}:iam::*:role/${MemberRoleName}")));
  for (auto& st : team_store_statements()) statements.push_back(std::move(st));
  // The support case and the Security Hub note after an automatic containment (docs/case.md).
  statements.push_back(escalation_statement());
  statements.push_back(statement("DeadLetterQueue", {"sqs:SendMessage"}, get_att("DeadLetterQueue", "Arn")));
  statements.push_back(statement(
      "FunctionLogs", {"logs:CreateLogStream", "logs:PutLogEvents"},
      sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${FunctionName}:*")));

  Doc trust;
  trust["Effect"] = "Allow";
  trust["Principal"] = Doc{{"Service", "lambda.amazonaws.com"}};
  trust["Action"] = "sts:AssumeRole";
  Doc props;
  props["Description"] = "containctl auto-containment function (generated by containctl deploy generate)";
  props["AssumeRolePolicyDocument"] = Doc{{"Version", "2012-10-17"}, {"Statement", Doc::array({trust})}};
  props["Policies"] = Doc::array({Doc{
      {"PolicyName", "ContainctlAutoContainment"},
      {"PolicyDocument", Doc{{"Version", "2012-10-17"}, {"Statement", std::move(statements)}}}}});
  return Doc{{"Type", "AWS::IAM::Role"}, {"Properties", std::move(props)}};
}

Doc function() {
  Doc env;
  // What `containctl lambda` reads (docs/lambda.md): the settings, which name the team store.
  env["CONTAINCTL_SETTINGS"] = sub("s3://${StateBucket}/${SettingsKey}");
  env["CONTAINCTL_STATE_DIR"] = "/tmp/containctl";
  Doc props;
  props["FunctionName"] = ref("FunctionName");
  props["Description"] = "containctl auto-containment: EventBridge findings handled as containctl respond";
  props["Runtime"] = "provided.al2023";
  props["Handler"] = "bootstrap";
  props["Architectures"] = Doc::array({"x86_64"});
  props["MemorySize"] = kFunctionMemoryMb;
  props["Timeout"] = kFunctionTimeoutSeconds;
  props["Role"] = get_att("FunctionRole", "Arn");
  props["Code"] = Doc{{"S3Bucket", ref("CodeBucket")}, {"S3Key", ref("CodeKey")}};
  props["Environment"] = Doc{{"Variables", std::move(env)}};
  props["DeadLetterConfig"] = Doc{{"TargetArn", get_att("DeadLetterQueue", "Arn")}};
  return Doc{{"Type", "AWS::Lambda::Function"}, {"DependsOn", "FunctionLogGroup"}, {"Properties", std::move(props)}};
}

Doc numeric_at_least(double v) { return Doc::array({Doc{{"numeric", Doc::array({">=", v})}}}); }

Doc guardduty_pattern(const std::optional<double>& min) {
  Doc p;
  p["source"] = Doc::array({"aws.guardduty"});
  p["detail-type"] = Doc::array({"GuardDuty Finding"});
  if (min) p["detail"] = Doc{{"severity", numeric_at_least(*min)}};
  return p;
}

// Only findings of AWS's own integrations (product/aws/...): anyone with
// securityhub:BatchImportFindings can import a finding under their account's product, and such a
// finding must not decide containment. Archived findings are left out; with the GuardDuty rule
// also deployed, GuardDuty's copies in Security Hub are too (each finding is handled once).
Doc securityhub_pattern(const std::optional<double>& min, bool guardduty_too) {
  Doc findings;
  findings["ProductArn"] = Doc::array({Doc{{"wildcard", "arn:*:securityhub:*::product/aws/*"}}});
  findings["RecordState"] = Doc::array({"ACTIVE"});
  // Control check results (Compliance set) are not threats; the function skips them too.
  findings["Compliance"] = Doc::array({Doc{{"exists", false}}});
  if (guardduty_too) findings["ProductName"] = Doc::array({Doc{{"anything-but", Doc::array({"GuardDuty"})}}});
  if (min) findings["Severity"] = Doc{{"Normalized", numeric_at_least(*min * 10)}};
  Doc p;
  p["source"] = Doc::array({"aws.securityhub"});
  p["detail-type"] = Doc::array({"Security Hub Findings - Imported"});
  p["detail"] = Doc{{"findings", std::move(findings)}};
  return p;
}

Doc rule(const std::string& description, Doc pattern) {
  Doc target;
  target["Id"] = "containctl";
  target["Arn"] = get_att("Function", "Arn");
  target["DeadLetterConfig"] = Doc{{"Arn", get_att("DeadLetterQueue", "Arn")}};
  target["RetryPolicy"] = Doc{{"MaximumRetryAttempts", 8}, {"MaximumEventAgeInSeconds", 3600}};
  Doc props;
  props["Description"] = description;
  props["State"] = "ENABLED";
  props["EventPattern"] = std::move(pattern);
  props["Targets"] = Doc::array({std::move(target)});
  return Doc{{"Type", "AWS::Events::Rule"}, {"Properties", std::move(props)}};
}

Doc permission(const std::string& rule_id) {
  Doc props;
  props["Action"] = "lambda:InvokeFunction";
  props["FunctionName"] = ref("Function");
  props["Principal"] = "events.amazonaws.com";
  props["SourceArn"] = get_att(rule_id, "Arn");
  props["SourceAccount"] = ref("AWS::AccountId");
  return Doc{{"Type", "AWS::Lambda::Permission"}, {"Properties", std::move(props)}};
}

Doc dead_letter_queue_policy(const std::vector<std::string>& rule_ids) {
  Doc arns = Doc::array();
  for (const auto& r : rule_ids) arns.push_back(get_att(r, "Arn"));
  Doc st;
  st["Sid"] = "EventBridgeDeadLetters";
  st["Effect"] = "Allow";
  st["Principal"] = Doc{{"Service", "events.amazonaws.com"}};
  st["Action"] = "sqs:SendMessage";
  st["Resource"] = get_att("DeadLetterQueue", "Arn");
  st["Condition"] = Doc{{"ArnEquals", Doc{{"aws:SourceArn", std::move(arns)}}}};
  Doc props;
  props["Queues"] = Doc::array({ref("DeadLetterQueue")});
  props["PolicyDocument"] = Doc{{"Version", "2012-10-17"}, {"Statement", Doc::array({st})}};
  return Doc{{"Type", "AWS::SQS::QueuePolicy"}, {"Properties", std::move(props)}};
}

Doc alarm(const std::string& description, const std::string& ns, const std::string& metric, Doc dimensions,
          const std::string& statistic) {
  Doc props;
  props["AlarmDescription"] = description;
  props["Namespace"] = ns;
  props["MetricName"] = metric;
  props["Dimensions"] = std::move(dimensions);
  props["Statistic"] = statistic;
  props["Period"] = 60;
  props["EvaluationPeriods"] = 1;
  props["Threshold"] = 1;
  props["ComparisonOperator"] = "GreaterThanOrEqualToThreshold";
  props["TreatMissingData"] = "notBreaching";
  props["AlarmActions"] = Doc{{"Fn::If", Doc::array({"HasAlarmTopic", Doc::array({ref("AlarmTopicArn")}),
                                                      ref("AWS::NoValue")})}};
  return Doc{{"Type", "AWS::CloudWatch::Alarm"}, {"Properties", std::move(props)}};
}

Doc output(const std::string& description, Doc value) {
  return Doc{{"Description", description}, {"Value", std::move(value)}};
}

}  // namespace

const std::vector<StoreOperation>& team_store_operations() {
  static const std::vector<StoreOperation> kOps = {
      {"dynamodb", "GetItem", {"dynamodb:GetItem"}},
      {"dynamodb", "PutItem", {"dynamodb:PutItem"}},
      {"dynamodb", "UpdateItem", {"dynamodb:UpdateItem"}},
      {"dynamodb", "DeleteItem", {"dynamodb:DeleteItem"}},
      {"dynamodb", "Query", {"dynamodb:Query"}},
      {"dynamodb", "BatchWriteItem", {"dynamodb:BatchWriteItem"}},
      // A transaction is authorised item by item: the kinds the store puts in one (Put, Update).
      {"dynamodb", "TransactWriteItems", {"dynamodb:PutItem", "dynamodb:UpdateItem"}},
      {"s3", "GetObject", {"s3:GetObject"}, true},
      // Audit checkpoints are written under Object Lock retention when the bucket has it.
      {"s3", "PutObject", {"s3:PutObject", "s3:PutObjectRetention"}, true},
      {"s3", "ListObjectsV2", {"s3:ListBucket"}},
      {"s3", "GetObjectLockConfiguration", {"s3:GetBucketObjectLockConfiguration"}},
  };
  return kOps;
}

const std::vector<std::string>& team_store_write_prefixes() {
  static const std::vector<std::string> kPrefixes = {"blobs/", "audit/checkpoints/", "plans/"};
  return kPrefixes;
}

Result<Doc> auto_containment_template(const DeployOptions& o, const std::vector<actions::ActionFamily*>& catalog) {
  CC_TRY(check_names(o));
  CC_ASSIGN(std::set<std::string> sources, parse_sources(o.sources));
  if (o.min_severity && (!std::isfinite(*o.min_severity) || *o.min_severity < 0 || *o.min_severity > 10))
    return Error::invalid("--min-severity must be between 0 and 10 (GuardDuty's scale; Security Hub's Normalized is "
                          "ten times it)",
                          "InvalidSeverity");
  CC_ASSIGN(auto families, select_families(catalog, o.actions));
  std::string names;
  for (const auto* f : families) names += (names.empty() ? "" : ", ") + f->name();

  Doc t;
  t["AWSTemplateFormatVersion"] = "2010-09-09";
  t["Description"] = "containctl auto-containment: EventBridge findings to the containctl Lambda function, its "
                     "team store, dead-letter queue and alarms (generated by containctl deploy generate; families: " +
                     names + ")";
  t["Parameters"] = parameters(o);
  t["Conditions"]["HasAlarmTopic"] =
      Doc{{"Fn::Not", Doc::array({Doc{{"Fn::Equals", Doc::array({ref("AlarmTopicArn"), ""})}}})}};
  Doc& r = t["Resources"];
  r["StateTable"] = state_table();
  r["StateBucket"] = state_bucket();
  r["StateBucketPolicy"] = state_bucket_policy();
  r["DeadLetterQueue"] = Doc{{"Type", "AWS::SQS::Queue"},
                             {"Properties", Doc{{"MessageRetentionPeriod", 1209600}, {"SqsManagedSseEnabled", true}}}};
  r["FunctionLogGroup"] =
      Doc{{"Type", "AWS::Logs::LogGroup"},
          {"Properties", Doc{{"LogGroupName", sub("/aws/lambda/${FunctionName}")}, {"RetentionInDays", 365}}}};
  CC_ASSIGN(r["FunctionRole"], function_role(families));
  r["Function"] = function();
  std::vector<std::string> rules;
  if (sources.count("guardduty")) {
    r["GuardDutyRule"] = rule("GuardDuty findings to containctl", guardduty_pattern(o.min_severity));
    r["GuardDutyRulePermission"] = permission("GuardDutyRule");
    rules.push_back("GuardDutyRule");
  }
  if (sources.count("securityhub")) {
    r["SecurityHubRule"] = rule("Security Hub findings (AWS integrations) to containctl",
                                securityhub_pattern(o.min_severity, sources.count("guardduty") > 0));
    r["SecurityHubRulePermission"] = permission("SecurityHubRule");
    rules.push_back("SecurityHubRule");
  }
  r["DeadLetterQueuePolicy"] = dead_letter_queue_policy(rules);
  r["FunctionErrorsAlarm"] =
      alarm("containctl function invocations failed (malformed event, AWS error, partial containment)", "AWS/Lambda",
            "Errors", Doc::array({Doc{{"Name", "FunctionName"}, {"Value", ref("Function")}}}), "Sum");
  r["DeadLetterQueueAlarm"] =
      alarm("findings that could not be delivered to or handled by containctl are waiting in the dead-letter queue",
            "AWS/SQS", "ApproximateNumberOfMessagesVisible",
            Doc::array({Doc{{"Name", "QueueName"}, {"Value", get_att("DeadLetterQueue", "QueueName")}}}), "Maximum");

  Doc& out = t["Outputs"];
  out["FunctionArn"] = output("the containctl function", get_att("Function", "Arn"));
  out["FunctionRoleArn"] =
      output("trust this role in the member roles (stackset generate --trusted-principal)", get_att("FunctionRole", "Arn"));
  out["StateTableName"] = output("settings: state.table", ref("StateTable"));
  out["StateBucketName"] = output("settings: state.bucket", ref("StateBucket"));
  out["SettingsLocation"] = output("upload the settings here (CONTAINCTL_SETTINGS)", sub("s3://${StateBucket}/${SettingsKey}"));
  out["DeadLetterQueueUrl"] = output("undelivered or failed finding events", ref("DeadLetterQueue"));
  return t;
}

}  // namespace containctl::stacksets
