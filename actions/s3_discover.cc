// s3-contain: discovery (read-only) and the plan built from it (pure).
#include <algorithm>

#include "actions/s3_api.h"
#include "actions/s3_contain.h"
#include "actions/s3_policy.h"

namespace containctl::actions::s3 {
namespace {

json base_args(const json& d) {
  json a = {{"bucket", d["bucket"]}, {"region", d["region"]}, {"partition", d["partition"]}};
  if (d.value("type", "") == "object") a["key"] = d["key"];
  return a;
}

json policy_view(const json& policy) {
  if (!policy.value("present", false)) return nullptr;
  return policy["text"];
}

std::string pab_text(const json& pab) {
  if (!pab.value("present", false)) return "none";
  std::string out;
  for (const char* f : kPabFields) out += std::string(out.empty() ? "" : ", ") + f + "=" + (pab.value(f, false) ? "true" : "false");
  return out;
}

// The allow-list: the settings' entries, the tool's identity and the identity ctx.client signs as
// (in a member account that is the member role, which the caller's ARN does not cover).
Result<std::vector<std::string>> allow_patterns(const Context& ctx, const json& d) {
  std::vector<std::string> principals = ctx.allow_principals;
  if (!ctx.caller.arn.empty()) principals.push_back(ctx.caller.arn);
  if (std::string acting = d.value("acting_identity", ""); !acting.empty()) principals.push_back(acting);
  return allow_list_patterns(principals);
}

// True when the policy holds a statement that does what `statement` does (whatever its Sid).
bool policy_holds(const json& policy, const ordered_json& statement) {
  if (!policy.value("present", false)) return false;
  auto doc = parse_policy(policy["text"].get<std::string>());
  return doc.ok() && has_equivalent_statement(*doc, statement);
}

std::vector<std::string> common_warnings(const json& d) {
  std::vector<std::string> w;
  w.push_back("Presigned URLs signed by allow-listed principals keep working until they expire: they act as the signer.");
  w.push_back("Sessions and credentials already issued to allow-listed principals are not affected.");
  w.push_back("Access points and Multi-Region Access Points keep their own policies and are not changed: the bucket "
              "policy's deny still applies to requests through them, but review them (and any delegated from other "
              "accounts) separately.");
  const json& rep = d["replication"];
  if (rep.value("present", false)) {
    std::string dests;
    for (const auto& x : rep.value("destinations", json::array()))
      dests += (dests.empty() ? "" : ", ") + x.get<std::string>();
    w.push_back("Replication is configured (role " + rep.value("role", "?") + ", destinations " + dests +
                "): objects already replicated there are not contained, and replication from this bucket fails "
                "while the deny holds unless the replication role is allow-listed.");
  }
  const json& acct = d["account_public_access_block"];
  if (!acct.value("readable", false))
    w.push_back("Account-level Block Public Access could not be read (" + acct.value("error", "") +
                "); it is not changed either way.");
  else
    w.push_back("Account-level Block Public Access is reported, not changed (" + pab_text(acct) + ").");
  return w;
}

Step tag_step(const json& d, const std::string& ctx_run_id, const std::string& bucket) {
  // Planning runs without a run id; apply tags with the real one.
  const std::string run_id = ctx_run_id.empty() ? "<run id>" : ctx_run_id;
  Step s;
  s.id = kStepTag;
  s.description = "Tag bucket " + bucket + " with " + kRunTagKey + "=" + run_id +
                  " (PutBucketTagging replaces the whole set, so the existing tags are merged in and restored exactly)";
  json after = json::array();
  for (const auto& t : d["tags"]["tags"])
    if (t.value("Key", "") != kRunTagKey) after.push_back(t);
  after.push_back({{"Key", kRunTagKey}, {"Value", run_id}});
  s.calls.push_back({"s3", "PutBucketTagging", {{"Bucket", bucket}, {"TagSet", after}}, true});
  s.before = {{"tags", d["tags"].value("present", false) ? d["tags"]["tags"] : json(nullptr)}};
  s.after = {{"tags", after}};
  s.args = base_args(d);
  s.args["tag_key"] = kRunTagKey;
  if (!ctx_run_id.empty()) s.args["tag_value"] = ctx_run_id;
  s.cosmetic = true;  // a refused PutBucketTagging never holds up the access-cutting steps
  return s;
}

Result<TargetPlan> plan_bucket(Context& ctx, const json& d, TargetPlan tp) {
  const std::string bucket = d["bucket"];
  CC_ASSIGN(auto patterns, allow_patterns(ctx, d));
  CC_ASSIGN(ordered_json statement, bucket_deny_statement(d["partition"], bucket, patterns));
  std::string desired = single_statement_policy(statement);
  std::string prev;  // the step the next one waits for: one chain, see the step ids in s3_contain.h

  if (!policy_holds(d["policy"], statement)) {
    Step s;
    s.id = kStepDenyPolicy;
    s.description = "Replace the bucket policy of " + bucket +
                    " with one statement denying every S3 action on the bucket and its objects to every principal "
                    "not on the allow-list";
    s.calls.push_back({"s3", "PutBucketPolicy", {{"Bucket", bucket}, {"Policy", ordered_json::parse(desired)}}, true});
    s.before = {{"policy", policy_view(d["policy"])}};
    s.after = {{"policy", desired}, {"allowed_principal_arns", patterns}};
    s.args = base_args(d);
    s.args["policy"] = desired;
    s.args["sid"] = kBucketDenySid;
    s.warnings.push_back("Every principal not on the allow-list loses access, including the bucket's applications and "
                         "AWS services that deliver to it (CloudTrail, access logs, replication).");
    s.warnings.push_back(d["policy"].value("present", false)
                             ? "The original policy text is journaled and put back byte for byte on rollback."
                             : "The bucket has no policy today; rollback deletes the containment policy.");
    tp.steps.push_back(std::move(s));
    prev = kStepDenyPolicy;
  }
  if (!ownership_enforced(d["ownership"])) {
    Step s;
    s.id = kStepDisableAcls;
    s.description = "Disable ACLs on " + bucket + " (Object Ownership BucketOwnerEnforced" +
                    (acl_is_private(d["bucket_acl"]) ? "" : ", after resetting the bucket ACL to private, which S3 requires") +
                    ")";
    if (!acl_is_private(d["bucket_acl"]))
      s.calls.push_back({"s3", "PutBucketAcl", {{"Bucket", bucket}, {"ACL", "private"}}, true});
    s.calls.push_back({"s3", "PutBucketOwnershipControls",
                       {{"Bucket", bucket}, {"OwnershipControls", {{"Rules", {{{"ObjectOwnership", "BucketOwnerEnforced"}}}}}}},
                       true});
    s.before = {{"ownership", d["ownership"]}, {"bucket_acl", d["bucket_acl"]}};
    s.after = {{"ownership", {{"present", true}, {"object_ownership", "BucketOwnerEnforced"}}},
               {"bucket_acl", "disabled: the bucket owner owns every object and ACLs grant nothing"}};
    s.args = base_args(d);
    if (!prev.empty()) s.depends_on.push_back(prev);
    s.warnings.push_back("Rollback restores the ownership setting first, then the recorded bucket ACL grants.");
    tp.steps.push_back(std::move(s));
    prev = kStepDisableAcls;
  }
  if (!all_public_access_blocked(d["public_access_block"])) {
    Step s;
    s.id = kStepBlockPublic;
    s.description = "Turn on all four Block Public Access settings of bucket " + bucket;
    json on = {{"present", true}};
    json cfg;
    for (const char* f : kPabFields) on[f] = cfg[f] = true;
    s.calls.push_back({"s3", "PutPublicAccessBlock", {{"Bucket", bucket}, {"PublicAccessBlockConfiguration", cfg}}, true});
    s.before = {{"public_access_block", d["public_access_block"]}};
    s.after = {{"public_access_block", on}};
    s.args = base_args(d);
    if (!prev.empty()) s.depends_on.push_back(prev);
    s.warnings.push_back(d["public_access_block"].value("present", false)
                             ? "Rollback puts back the original settings (" + pab_text(d["public_access_block"]) + ")."
                             : "The bucket has no Block Public Access configuration today; rollback deletes it.");
    tp.steps.push_back(std::move(s));
  }
  if (tp.steps.empty()) {
    tp.already_contained = true;
    std::string by;
    for (const auto& t : d["tags"]["tags"])
      if (t.value("Key", "") == kRunTagKey) by = " (tagged by run " + t.value("Value", "") + ")";
    tp.note = "Bucket " + bucket + " is already contained" + by +
              ": the deny-all policy with this allow-list, BucketOwnerEnforced and all Block Public Access settings "
              "are in place. Nothing to do.";
    return tp;
  }
  const json& tags = d["tags"]["tags"];
  bool tagged = std::any_of(tags.begin(), tags.end(), [](const json& t) { return t.value("Key", "") == kRunTagKey; });
  if (!tagged && tags.size() >= 50)
    tp.warnings.push_back("The bucket already has 50 tags, S3's limit: it is not tagged with the run id.");
  else
    tp.steps.push_back(tag_step(d, ctx.run_id, bucket));
  return tp;
}

Result<TargetPlan> plan_object(Context& ctx, const json& d, TargetPlan tp) {
  const std::string bucket = d["bucket"], key = d["key"];
  const std::string object = bucket + "/" + key;
  CC_ASSIGN(auto patterns, allow_patterns(ctx, d));
  std::string current = d["policy"].value("present", false) ? d["policy"]["text"].get<std::string>() : "";
  bool vars = supports_policy_variables(current);
  CC_ASSIGN(ordered_json statement, object_deny_statement(d["partition"], bucket, key, patterns, vars));
  bool deny_holds = policy_holds(d["policy"], statement);
  bool acls_off = ownership_enforced(d["ownership"]);
  bool acl_private = acl_is_private(d["object_acl"]);
  if (deny_holds && (acls_off || acl_private)) {
    tp.already_contained = true;
    tp.note = "Object " + object + " is already contained: its deny statement " + statement["Sid"].get<std::string>() +
              " is in the bucket policy and its ACL is " + (acls_off ? "disabled" : "private") + ". Nothing to do.";
    return tp;
  }
  std::string prev;
  if (!acls_off && !acl_private) {
    Step s;
    s.id = kStepObjectAcl;
    s.description = "Make the ACL of object " + object + " private (owner full control only)";
    s.calls.push_back({"s3", "PutObjectAcl", {{"Bucket", bucket}, {"Key", key}, {"ACL", "private"}}, true});
    s.before = {{"object_acl", d["object_acl"]}};
    s.after = {{"object_acl", "private"}};
    s.args = base_args(d);
    s.warnings.push_back("The ACL change applies to the current version of the object; older versions keep theirs "
                         "(the deny statement covers every version).");
    tp.steps.push_back(std::move(s));
    prev = kStepObjectAcl;
  }
  if (!deny_holds) {
    auto merged = with_statement(current, statement);
    if (!merged.ok()) {
      Error e = merged.error();
      e.message = "S3 bucket '" + bucket + "': cannot add the object deny statement: " + e.message;
      return e;
    }
    Step s;
    s.id = kStepObjectDeny;
    s.description = "Add statement " + statement["Sid"].get<std::string>() + " to the bucket policy of " + bucket +
                    ", denying every S3 action on object " + key + " to every principal not on the allow-list (the "
                    "rest of the policy stays as it is)";
    s.calls.push_back({"s3", "PutBucketPolicy", {{"Bucket", bucket}, {"Policy", ordered_json::parse(*merged)}}, true});
    s.before = {{"policy", policy_view(d["policy"])}};
    s.after = {{"policy", *merged}, {"allowed_principal_arns", patterns}};
    s.args = base_args(d);
    s.args["statement"] = statement;
    s.args["sid"] = statement["Sid"];
    if (!prev.empty()) s.depends_on.push_back(prev);
    s.warnings.push_back(d["policy"].value("present", false)
                             ? "Apply adds the statement to the policy as it is then; rollback puts back that exact text."
                             : "The bucket has no policy today; rollback deletes it.");
    tp.steps.push_back(std::move(s));
  }
  if (!vars && key.find_first_of("*?") != std::string::npos)
    tp.warnings.push_back("The key contains * or ?, and the bucket policy's Version does not allow escaping them: the "
                          "deny also covers every key that pattern matches.");
  const std::string object_owner = d["object_acl"]["owner"].value("id", "");
  if (!acls_off && !object_owner.empty() && object_owner != d["bucket_acl"]["owner"].value("id", ""))
    tp.warnings.push_back("The object is owned by another account (canonical id " + object_owner +
                          "): its owner keeps full control through the ACL. Containing the bucket (BucketOwnerEnforced) "
                          "makes the bucket owner own it.");
  tp.warnings.push_back("The bucket's Block Public Access, ownership and the rest of its policy are not changed.");
  return tp;
}

}  // namespace

bool S3ContainFamily::handles(const Target& target) const {
  return target.service == "s3" && (target.type == "bucket" || target.type == "object");
}

Result<json> S3ContainFamily::discover(Context& ctx) {
  const Target& t = ctx.target;
  if (!handles(t)) return Error::invalid("s3-contain cannot contain '" + t.arn + "' (S3 buckets and objects only)");
  if (t.type == "object") CC_TRY(check_key_utf8(t.name, t.key));
  CC_ASSIGN(std::string region, bucket_region(ctx.client, t.partition, t.name, ctx.region));
  Where w{t.name, region, t.key};
  json d = {{"bucket", t.name}, {"type", t.type}, {"partition", t.partition}, {"region", region}};
  if (t.type == "object") d["key"] = t.key;
  CC_ASSIGN(d["acting_identity"], acting_identity(ctx.client, ctx.region.empty() ? region : ctx.region));
  CC_ASSIGN(d["policy"], get_policy(ctx.client, w));
  CC_ASSIGN(d["public_access_block"], get_public_access_block(ctx.client, w));
  CC_ASSIGN(d["ownership"], get_ownership(ctx.client, w));
  CC_ASSIGN(d["bucket_acl"], get_acl(ctx.client, w, false));
  if (t.type == "object") {
    CC_ASSIGN(d["object_acl"], get_acl(ctx.client, w, true));
  }
  CC_ASSIGN(d["tags"], get_tags(ctx.client, w));
  CC_ASSIGN(d["replication"], get_replication(ctx.client, w));
  d["account_public_access_block"] = get_account_public_access_block(ctx.client, region);
  return d;
}

Result<TargetPlan> S3ContainFamily::plan(Context& ctx, const json& d) {
  // plan() reads fields with operator[], so a discovery of the wrong shape is refused up front.
  const bool object = d.is_object() && d.value("type", "") == "object";
  for (const char* f : {"bucket", "partition", "region", "policy", "public_access_block", "ownership", "bucket_acl",
                        "tags", "replication", "account_public_access_block"}) {
    if (!d.is_object() || !d.contains(f)) return Error::invalid(std::string("s3-contain discovery has no '") + f + "'");
  }
  if (object && (!d.contains("key") || !d.contains("object_acl")))
    return Error::invalid("s3-contain discovery of an object has no 'key' or 'object_acl'");
  TargetPlan tp;
  tp.target = ctx.target;
  tp.target.region = d.value("region", "");
  tp.family = name();
  tp.discovered = d;
  Result<TargetPlan> out = object ? plan_object(ctx, d, std::move(tp))
                                                            : plan_bucket(ctx, d, std::move(tp));
  if (!out.ok() || out->already_contained) return out;
  for (auto& w : common_warnings(d)) out->warnings.push_back(std::move(w));
  return out;
}

}  // namespace containctl::actions::s3
