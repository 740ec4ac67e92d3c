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

bool holds(const json& policy, const ordered_json& statement) {
  if (!policy.value("present", false)) return false;
  auto doc = parse_policy(policy["text"].get<std::string>());
  if (!doc.ok()) return false;
  ordered_json found = find_statement(*doc, statement["Sid"].get<std::string>());
  return !found.is_null() && same_json(found, statement);
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

Status restore_policy(aws::AwsClient& c, const Where& w, const json& before) {
  CC_ASSIGN(json cur, get_policy(c, w));
  if (before.value("present", false)) {
    const std::string& text = before["text"].get_ref<const std::string&>();
    if (!cur.value("present", false) || cur["text"] != text) CC_TRY(put_policy(c, w, text));
  } else if (cur.value("present", false)) {
    CC_TRY(delete_policy(c, w));
  }
  return Ok{};
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
    return restore_policy(c, w, p);
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
    if (want.value("present", false) != cur.value("present", false) ||
        (want.value("present", false) && want["text"] != cur["text"]))
      return verification_failed("the bucket policy of " + w.bucket + " is not the original text byte for byte");
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
