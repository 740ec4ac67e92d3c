// The ACL steps of s3-contain: disable-acls (the bucket's Object Ownership BucketOwnerEnforced,
// which turns every ACL off) and object-acl-private (one object's ACL). A bucket and its objects
// both change what ACLs do; the executor serializes them (S3ContainFamily::shared_resources).
#include "actions/s3_steps.h"

namespace containctl::actions::s3 {
namespace {

bool present(const json& j) { return j.is_object() && j.value("present", false); }

// --- disable-acls ------------------------------------------------------------------------------

Result<json> capture_bucket(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json own, get_ownership(ctx.client, a.where));
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, false));
  return json{{"ownership", own}, {"bucket_acl", acl}};
}

Result<json> apply_bucket(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json own, get_ownership(ctx.client, a.where));
  if (ownership_enforced(own)) return json{{"changed", false}};
  // S3 refuses BucketOwnerEnforced while the bucket ACL grants anything beyond the owner
  // (InvalidBucketAclWithObjectOwnership); the grants were captured, rollback puts them back.
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, false));
  bool reset = !acl_is_private(acl);
  if (reset) CC_TRY(put_canned_private_acl(ctx.client, a.where, false));
  CC_TRY(put_ownership(ctx.client, a.where, "BucketOwnerEnforced"));
  return json{{"changed", true}, {"bucket_acl_reset", reset}};
}

Status verify_bucket(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json own, get_ownership(ctx.client, a.where));
  if (!ownership_enforced(own))
    return verification_failed("Object Ownership of bucket " + a.where.bucket + " is not BucketOwnerEnforced");
  return Ok{};
}

bool same_ownership(const json& a, const json& b) {
  return present(a) == present(b) && a.value("object_ownership", "") == b.value("object_ownership", "");
}

// Ownership first: S3 rejects ACL writes while BucketOwnerEnforced is on.
Status rollback_bucket(Context& ctx, const StepArgs& a, const json& before, const json&, const RollbackOptions&) {
  CC_ASSIGN(json own_before, recorded(before, "ownership"));
  CC_ASSIGN(json acl_before, recorded(before, "bucket_acl"));
  CC_ASSIGN(json own, get_ownership(ctx.client, a.where));
  if (present(own_before)) {
    if (!same_ownership(own, own_before))
      CC_TRY(put_ownership(ctx.client, a.where, own_before.value("object_ownership", "")));
  } else if (present(own)) {
    CC_TRY(delete_ownership(ctx.client, a.where));
  }
  if (ownership_enforced(own_before)) return Ok{};  // ACLs were off before: nothing to put back
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, false));
  if (!same_acl(acl, acl_before)) CC_TRY(put_acl(ctx.client, a.where, false, acl_before));
  return Ok{};
}

Status verify_rollback_bucket(Context& ctx, const StepArgs& a, const json& before, const RollbackOptions&) {
  CC_ASSIGN(json own_want, recorded(before, "ownership"));
  CC_ASSIGN(json acl_want, recorded(before, "bucket_acl"));
  CC_ASSIGN(json own, get_ownership(ctx.client, a.where));
  if (!same_ownership(own, own_want))
    return verification_failed("Object Ownership of bucket " + a.where.bucket + " is not back to the original");
  if (ownership_enforced(own_want)) return Ok{};
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, false));
  if (!same_acl(acl, acl_want))
    return verification_failed("the ACL grants of bucket " + a.where.bucket + " are not the original");
  return Ok{};
}

// --- object-acl-private ------------------------------------------------------------------------

Result<json> capture_object(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, true));
  return json{{"object_acl", acl}};
}

Result<json> apply_object(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, true));
  if (acl_is_private(acl)) return json{{"changed", false}};
  CC_TRY(put_canned_private_acl(ctx.client, a.where, true));
  return json{{"changed", true}};
}

Status verify_object(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, true));
  if (!acl_is_private(acl)) return verification_failed("the ACL of " + what(a.where) + " is not private");
  return Ok{};
}

Status rollback_object(Context& ctx, const StepArgs& a, const json& before, const json&, const RollbackOptions&) {
  CC_ASSIGN(json want, recorded(before, "object_acl"));
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, true));
  if (!same_acl(acl, want)) CC_TRY(put_acl(ctx.client, a.where, true, want));
  return Ok{};
}

Status verify_rollback_object(Context& ctx, const StepArgs& a, const json& before, const RollbackOptions&) {
  CC_ASSIGN(json want, recorded(before, "object_acl"));
  CC_ASSIGN(json acl, get_acl(ctx.client, a.where, true));
  if (!same_acl(acl, want)) return verification_failed("the ACL grants of " + what(a.where) + " are not the original");
  return Ok{};
}

}  // namespace

StepOps disable_acls_ops() {
  return {false, capture_bucket, apply_bucket, verify_bucket, rollback_bucket, verify_rollback_bucket};
}

StepOps object_acl_ops() {
  return {true, capture_object, apply_object, verify_object, rollback_object, verify_rollback_object};
}

}  // namespace containctl::actions::s3
