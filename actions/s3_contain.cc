// s3-contain: capture, apply, verify and rollback of each step. Every method reads the bucket's
// state afresh and is stateless, so steps can run on any thread, twice, or after a crash.
#include "actions/s3_contain.h"

#include "actions/s3_api.h"
#include "actions/s3_policy.h"

namespace containctl::actions {

std::unique_ptr<ActionFamily> make_s3_contain() { return std::make_unique<s3::S3ContainFamily>(); }

namespace s3 {
namespace {

Error verification_failed(const std::string& what) { return {ErrorKind::kClient, "VerificationFailed", what}; }

Result<Where> where_of(const Step& step) {
  const json& a = step.args;
  if (!a.contains("bucket") || !a["bucket"].is_string() || !a.contains("region") || !a["region"].is_string())
    return Error::invalid("s3-contain step '" + step.id + "' has no bucket/region in its args (corrupt plan?)");
  return Where{a["bucket"], a["region"], a.value("key", "")};
}

std::string what(const Where& w) { return w.key.empty() ? "bucket " + w.bucket : "object " + w.bucket + "/" + w.key; }

Error unknown_step(const Step& step) { return Error::internal("s3-contain has no step '" + step.id + "'"); }

Result<json> recorded(const json& before, const char* field, const Step& step) {
  if (!before.is_object() || !before.contains(field))
    return Error::invalid("s3-contain step '" + step.id + "': the recorded before-state has no '" + field + "'");
  return before[field];
}

// The deny statement a policy step puts: the object statement itself, or ours inside the whole
// bucket policy.
Result<ordered_json> desired_statement(const Step& step) {
  if (step.args.contains("statement")) return ordered_json::parse(step.args["statement"].dump());
  CC_ASSIGN(ordered_json doc, parse_policy(step.args.value("policy", "")));
  ordered_json st = find_statement(doc, step.args.value("sid", ""));
  if (st.is_null()) return Error::invalid("s3-contain step '" + step.id + "': its policy has no statement " +
                                          step.args.value("sid", ""));
  return st;
}

// The policy document a get_policy() answer holds; null when there is none.
Result<ordered_json> document(const json& policy) {
  if (!policy.is_object() || !policy.value("present", false)) return ordered_json(nullptr);
  auto text = policy.find("text");
  if (text == policy.end() || !text->is_string()) return Error::invalid("a bucket policy record has no text");
  return parse_policy(text->get<std::string>());
}

bool holds(const json& policy, const ordered_json& statement) {
  auto doc = document(policy);
  return doc.ok() && has_equivalent_statement(*doc, statement);
}

bool same_text(const json& a, const json& b) {
  return a.value("present", false) == b.value("present", false) &&
         (!a.value("present", false) || a.value("text", "") == b.value("text", ""));
}

bool has_tag(const json& tags, const std::string& key, const std::string& value) {
  for (const auto& t : tags.value("tags", json::array()))
    if (t.value("Key", "") == key && t.value("Value", "") == value) return true;
  return false;
}

// --- apply -------------------------------------------------------------------------------------

Result<json> apply_policy(aws::AwsClient& c, const Where& w, const Step& step) {
  CC_ASSIGN(ordered_json statement, desired_statement(step));
  CC_ASSIGN(json cur, get_policy(c, w));
  if (holds(cur, statement)) return json{{"changed", false}};
  std::string text;
  if (step.id == kStepDenyPolicy) {
    text = step.args.value("policy", "");
  } else {
    // Merge into the policy as it is now, not as it was at plan time, so nobody's later edit is lost.
    CC_ASSIGN(text, with_statement(cur.value("present", false) ? cur["text"].get<std::string>() : "", statement));
  }
  CC_TRY(put_policy(c, w, text));
  return json{{"changed", true}};
}

Result<json> apply_disable_acls(aws::AwsClient& c, const Where& w) {
  CC_ASSIGN(json own, get_ownership(c, w));
  if (ownership_enforced(own)) return json{{"changed", false}};
  // S3 refuses BucketOwnerEnforced while the bucket ACL grants anything beyond the owner
  // (InvalidBucketAclWithObjectOwnership); the grants were captured, rollback puts them back.
  CC_ASSIGN(json acl, get_acl(c, w, false));
  bool reset = !acl_is_private(acl);
  if (reset) CC_TRY(put_canned_private_acl(c, w, false));
  CC_TRY(put_ownership(c, w, "BucketOwnerEnforced"));
  return json{{"changed", true}, {"bucket_acl_reset", reset}};
}

Result<json> apply_block_public(aws::AwsClient& c, const Where& w) {
  CC_ASSIGN(json pab, get_public_access_block(c, w));
  if (all_public_access_blocked(pab)) return json{{"changed", false}};
  json on = json::object();
  for (const char* f : kPabFields) on[f] = true;
  CC_TRY(put_public_access_block(c, w, on));
  return json{{"changed", true}};
}

// The run id is only known when the plan is applied (planning passes none), so the apply-time
// context wins over the plan's placeholder.
Result<std::string> run_tag_value(const Context& ctx, const Step& step) {
  std::string v = !ctx.run_id.empty() ? ctx.run_id : step.args.value("tag_value", "");
  if (v.empty()) return Error::invalid("s3-contain step '" + step.id + "': no run id to tag the bucket with");
  return v;
}

Result<json> apply_tag(aws::AwsClient& c, const Where& w, const Step& step, const std::string& value) {
  const std::string key = step.args.value("tag_key", "");
  CC_ASSIGN(json cur, get_tags(c, w));
  if (has_tag(cur, key, value)) return json{{"changed", false}};
  json merged = json::array();
  for (const auto& t : cur["tags"])
    if (t.value("Key", "") != key) merged.push_back(t);
  merged.push_back({{"Key", key}, {"Value", value}});
  CC_TRY(put_tags(c, w, merged));
  return json{{"changed", true}, {"tag_value", value}};
}

Result<json> apply_object_acl(aws::AwsClient& c, const Where& w) {
  CC_ASSIGN(json acl, get_acl(c, w, true));
  if (acl_is_private(acl)) return json{{"changed", false}};
  CC_TRY(put_canned_private_acl(c, w, true));
  return json{{"changed", true}};
}

// --- rollback ----------------------------------------------------------------------------------

// The bucket's deny-all policy replaced the whole document. Put back the recorded one, unless the
// policy is neither ours nor the recorded one any more: someone changed it since (another run
// contained an object of the bucket, the owner edited it), and a restore would silently discard
// that. --force puts back the recorded policy anyway.
Status restore_policy(aws::AwsClient& c, const Where& w, const json& before, const Step& step, bool force) {
  CC_ASSIGN(json cur, get_policy(c, w));
  if (same_text(cur, before)) return Ok{};
  if (!force && cur.value("present", false)) {
    CC_ASSIGN(ordered_json now, document(cur));
    CC_ASSIGN(ordered_json ours, parse_policy(step.args.value("policy", "")));
    if (!same_json(now, ours))
      return Error::refused("the bucket policy of " + w.bucket + " changed since this run replaced it with the "
                                "containment policy; putting back the recorded original would discard that change. "
                                "Review the policy, then rerun rollback with --force to put back the original",
                            "PolicyChangedSinceApply");
  }
  if (before.value("present", false)) {
    const std::string& text = before["text"].get_ref<const std::string&>();
    if (!cur.value("present", false) || cur["text"] != text) CC_TRY(put_policy(c, w, text));
  } else if (cur.value("present", false)) {
    CC_TRY(delete_policy(c, w));
  }
  return Ok{};
}

// A statement names its Statement either way; compare documents with it as an array.
ordered_json normalized(ordered_json doc) {
  if (doc.is_object()) doc["Statement"] = statements(doc);
  return doc;
}

// An object's deny statement was merged into the policy: take out only that statement (and put
// back what the apply replaced under its Sid). Statements added since, by the owner or by another
// run containing another object of the bucket, stay. When nothing else changed, the recorded text
// goes back byte for byte.
Status remove_statement(aws::AwsClient& c, const Where& w, const json& before, const ordered_json& ours) {
  CC_ASSIGN(ordered_json before_doc, document(before));
  if (!before_doc.is_null() && has_equivalent_statement(before_doc, ours))
    return Ok{};  // the deny held before this run, so its apply wrote nothing
  CC_ASSIGN(json cur, get_policy(c, w));
  if (same_text(cur, before)) return Ok{};
  CC_ASSIGN(ordered_json now, document(cur));
  if (now.is_null()) return Ok{};  // the whole policy is gone: nothing of ours is left
  ordered_json next = without_statement(now, before_doc, ours);
  if (!before_doc.is_null() && same_json(normalized(next), normalized(before_doc)))
    return put_policy(c, w, before["text"].get<std::string>());
  if (before_doc.is_null() && statements(next).empty()) return delete_policy(c, w);
  if (same_json(normalized(next), normalized(now))) return Ok{};
  return put_policy(c, w, next.dump(2));
}

// Ownership first: S3 rejects ACL writes while BucketOwnerEnforced is on.
Status restore_ownership_and_acl(aws::AwsClient& c, const Where& w, const json& own_before, const json& acl_before) {
  CC_ASSIGN(json own, get_ownership(c, w));
  if (own_before.value("present", false)) {
    std::string value = own_before.value("object_ownership", "");
    if (!own.value("present", false) || own.value("object_ownership", "") != value) CC_TRY(put_ownership(c, w, value));
  } else if (own.value("present", false)) {
    CC_TRY(delete_ownership(c, w));
  }
  if (ownership_enforced(own_before)) return Ok{};  // ACLs were off before: nothing to put back
  CC_ASSIGN(json acl, get_acl(c, w, false));
  if (!same_acl(acl, acl_before)) CC_TRY(put_acl(c, w, false, acl_before));
  return Ok{};
}

Status restore_public_access_block(aws::AwsClient& c, const Where& w, const json& before) {
  CC_ASSIGN(json cur, get_public_access_block(c, w));
  if (same_public_access_block(cur, before)) return Ok{};
  if (before.value("present", false)) return put_public_access_block(c, w, before);
  return delete_public_access_block(c, w);
}

Status restore_tags(aws::AwsClient& c, const Where& w, const json& before) {
  CC_ASSIGN(json cur, get_tags(c, w));
  bool want = before.value("present", false) && !before.value("tags", json::array()).empty();
  if (want) {
    if (!same_tags(cur, before)) CC_TRY(put_tags(c, w, before["tags"]));
  } else if (cur.value("present", false)) {
    CC_TRY(delete_tags(c, w));
  }
  return Ok{};
}

Status restore_object_acl(aws::AwsClient& c, const Where& w, const json& before) {
  CC_ASSIGN(json acl, get_acl(c, w, true));
  if (!same_acl(acl, before)) CC_TRY(put_acl(c, w, true, before));
  return Ok{};
}

}  // namespace

Result<json> S3ContainFamily::capture(Context& ctx, const Step& step) {
  CC_ASSIGN(Where w, where_of(step));
  auto& c = ctx.client;
  if (step.id == kStepDenyPolicy || step.id == kStepObjectDeny) {
    CC_ASSIGN(json p, get_policy(c, w));
    return json{{"policy", p}};
  }
  if (step.id == kStepDisableAcls) {
    CC_ASSIGN(json own, get_ownership(c, w));
    CC_ASSIGN(json acl, get_acl(c, w, false));
    return json{{"ownership", own}, {"bucket_acl", acl}};
  }
  if (step.id == kStepBlockPublic) {
    CC_ASSIGN(json pab, get_public_access_block(c, w));
    return json{{"public_access_block", pab}};
  }
  if (step.id == kStepTag) {
    CC_ASSIGN(json tags, get_tags(c, w));
    return json{{"tags", tags}};
  }
  if (step.id == kStepObjectAcl) {
    CC_ASSIGN(json acl, get_acl(c, w, true));
    return json{{"object_acl", acl}};
  }
  return unknown_step(step);
}

Result<json> S3ContainFamily::apply(Context& ctx, const Step& step, const json& before) {
  CC_ASSIGN(Where w, where_of(step));
  if (step.id == kStepDenyPolicy || step.id == kStepObjectDeny) return apply_policy(ctx.client, w, step);
  if (step.id == kStepDisableAcls) return apply_disable_acls(ctx.client, w);
  if (step.id == kStepBlockPublic) return apply_block_public(ctx.client, w);
  if (step.id == kStepTag) {
    CC_ASSIGN(std::string value, run_tag_value(ctx, step));
    return apply_tag(ctx.client, w, step, value);
  }
  if (step.id == kStepObjectAcl) return apply_object_acl(ctx.client, w);
  return unknown_step(step);
}

Status S3ContainFamily::verify(Context& ctx, const Step& step) {
  CC_ASSIGN(Where w, where_of(step));
  auto& c = ctx.client;
  if (step.id == kStepDenyPolicy || step.id == kStepObjectDeny) {
    CC_ASSIGN(ordered_json statement, desired_statement(step));
    CC_ASSIGN(json cur, get_policy(c, w));
    if (!holds(cur, statement))
      return verification_failed("the bucket policy of " + w.bucket + " does not hold statement " +
                                 statement["Sid"].get<std::string>());
    return Ok{};
  }
  if (step.id == kStepDisableAcls) {
    CC_ASSIGN(json own, get_ownership(c, w));
    if (!ownership_enforced(own))
      return verification_failed("Object Ownership of bucket " + w.bucket + " is not BucketOwnerEnforced");
    return Ok{};
  }
  if (step.id == kStepBlockPublic) {
    CC_ASSIGN(json pab, get_public_access_block(c, w));
    if (!all_public_access_blocked(pab))
      return verification_failed("Block Public Access of bucket " + w.bucket + " is not fully on");
    return Ok{};
  }
  if (step.id == kStepTag) {
    CC_ASSIGN(std::string value, run_tag_value(ctx, step));
    CC_ASSIGN(json tags, get_tags(c, w));
    if (!has_tag(tags, step.args.value("tag_key", ""), value))
      return verification_failed("bucket " + w.bucket + " does not carry tag " + step.args.value("tag_key", ""));
    return Ok{};
  }
  if (step.id == kStepObjectAcl) {
    CC_ASSIGN(json acl, get_acl(c, w, true));
    if (!acl_is_private(acl)) return verification_failed("the ACL of " + what(w) + " is not private");
    return Ok{};
  }
  return unknown_step(step);
}

Status S3ContainFamily::rollback(Context& ctx, const Step& step, const json& before, const json& applied,
                                 const RollbackOptions& options) {
  CC_ASSIGN(Where w, where_of(step));
  auto& c = ctx.client;
  if (step.id == kStepDenyPolicy || step.id == kStepObjectDeny) {
    CC_ASSIGN(json p, recorded(before, "policy", step));
    if (applied.is_object() && applied.value("changed", true) == false) return Ok{};  // the apply wrote nothing
    if (step.id == kStepDenyPolicy) return restore_policy(c, w, p, step, options.force);
    CC_ASSIGN(ordered_json ours, desired_statement(step));
    return remove_statement(c, w, p, ours);
  }
  if (step.id == kStepDisableAcls) {
    CC_ASSIGN(json own, recorded(before, "ownership", step));
    CC_ASSIGN(json acl, recorded(before, "bucket_acl", step));
    return restore_ownership_and_acl(c, w, own, acl);
  }
  if (step.id == kStepBlockPublic) {
    CC_ASSIGN(json pab, recorded(before, "public_access_block", step));
    return restore_public_access_block(c, w, pab);
  }
  if (step.id == kStepTag) {
    CC_ASSIGN(json tags, recorded(before, "tags", step));
    return restore_tags(c, w, tags);
  }
  if (step.id == kStepObjectAcl) {
    CC_ASSIGN(json acl, recorded(before, "object_acl", step));
    return restore_object_acl(c, w, acl);
  }
  return unknown_step(step);
}

Status S3ContainFamily::verify_rollback(Context& ctx, const Step& step, const json& before,
                                        const RollbackOptions& options) {
  CC_ASSIGN(Where w, where_of(step));
  auto& c = ctx.client;
  if (step.id == kStepDenyPolicy || step.id == kStepObjectDeny) {
    CC_ASSIGN(json want, recorded(before, "policy", step));
    CC_ASSIGN(json cur, get_policy(c, w));
    if (same_text(cur, want)) return Ok{};
    if (step.id == kStepDenyPolicy)
      return verification_failed("the bucket policy of " + w.bucket + " is not the original text byte for byte");
    // An object's statement: it is gone (unless it held before), whatever else changed since.
    CC_ASSIGN(ordered_json ours, desired_statement(step));
    CC_ASSIGN(ordered_json want_doc, document(want));
    CC_ASSIGN(ordered_json now, document(cur));
    if (!now.is_null() && has_equivalent_statement(now, ours) &&
        (want_doc.is_null() || !has_equivalent_statement(want_doc, ours)))
      return verification_failed("the bucket policy of " + w.bucket + " still holds the deny statement of " + what(w));
    return Ok{};
  }
  if (step.id == kStepDisableAcls) {
    CC_ASSIGN(json own_want, recorded(before, "ownership", step));
    CC_ASSIGN(json acl_want, recorded(before, "bucket_acl", step));
    CC_ASSIGN(json own, get_ownership(c, w));
    if (own.value("present", false) != own_want.value("present", false) ||
        own.value("object_ownership", "") != own_want.value("object_ownership", ""))
      return verification_failed("Object Ownership of bucket " + w.bucket + " is not back to the original");
    if (ownership_enforced(own_want)) return Ok{};
    CC_ASSIGN(json acl, get_acl(c, w, false));
    if (!same_acl(acl, acl_want)) return verification_failed("the ACL grants of bucket " + w.bucket + " are not the original");
    return Ok{};
  }
  if (step.id == kStepBlockPublic) {
    CC_ASSIGN(json want, recorded(before, "public_access_block", step));
    CC_ASSIGN(json cur, get_public_access_block(c, w));
    if (!same_public_access_block(cur, want))
      return verification_failed("Block Public Access of bucket " + w.bucket + " is not back to the original");
    return Ok{};
  }
  if (step.id == kStepTag) {
    CC_ASSIGN(json want, recorded(before, "tags", step));
    CC_ASSIGN(json cur, get_tags(c, w));
    if (!same_tags(cur, want)) return verification_failed("the tags of bucket " + w.bucket + " are not the original");
    return Ok{};
  }
  if (step.id == kStepObjectAcl) {
    CC_ASSIGN(json want, recorded(before, "object_acl", step));
    CC_ASSIGN(json acl, get_acl(c, w, true));
    if (!same_acl(acl, want)) return verification_failed("the ACL grants of " + what(w) + " are not the original");
    return Ok{};
  }
  return unknown_step(step);
}

std::vector<std::string> S3ContainFamily::shared_resources(const Target& target, const Step& step) const {
  auto where = where_of(step);
  if (!where.ok()) return {};  // a corrupt plan fails in the step itself
  const std::string bucket = "arn:" + target.partition + ":s3:::" + where->bucket;
  // One key for both: the policy decides who may change ACLs (its deny covers the ACL calls).
  if (step.id == kStepDenyPolicy || step.id == kStepObjectDeny || step.id == kStepDisableAcls ||
      step.id == kStepObjectAcl)
    return {"s3:bucket-access:" + bucket};
  return {};
}

std::vector<std::string> S3ContainFamily::iam_actions() const {
  // IAM action names, not API operation names: several operations share one action
  // (Delete* of a configuration needs its Put* action; GetPublicAccessBlock is
  // s3:GetBucketPublicAccessBlock; the account block via S3 Control is s3:GetAccountPublicAccessBlock).
  return {
      "s3:GetBucketLocation",          // GetBucketLocation
      "s3:GetBucketPolicy",            // GetBucketPolicy
      "s3:PutBucketPolicy",            // PutBucketPolicy
      "s3:DeleteBucketPolicy",         // DeleteBucketPolicy
      "s3:GetBucketPublicAccessBlock", // GetPublicAccessBlock
      "s3:PutBucketPublicAccessBlock", // PutPublicAccessBlock, DeletePublicAccessBlock
      "s3:GetBucketOwnershipControls", // GetBucketOwnershipControls
      "s3:PutBucketOwnershipControls", // PutBucketOwnershipControls, DeleteBucketOwnershipControls
      "s3:GetBucketAcl",               // GetBucketAcl
      "s3:PutBucketAcl",               // PutBucketAcl
      "s3:GetObjectAcl",               // GetObjectAcl
      "s3:PutObjectAcl",               // PutObjectAcl
      "s3:GetBucketTagging",           // GetBucketTagging
      "s3:PutBucketTagging",           // PutBucketTagging, DeleteBucketTagging
      "s3:GetReplicationConfiguration",// GetBucketReplication
      "s3:GetAccountPublicAccessBlock",// S3 Control GetPublicAccessBlock
      "sts:GetCallerIdentity",         // who ctx.client signs as (needs no grant; listed for completeness)
  };
}

}  // namespace s3
}  // namespace containctl::actions
