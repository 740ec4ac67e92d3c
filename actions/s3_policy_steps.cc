// The bucket-policy steps of s3-contain: deny-policy (the bucket's whole policy becomes one deny)
// and object-deny (one object's deny statement merged into the policy). Several targets write
// one bucket's policy; the executor serializes them (S3ContainFamily::shared_resources).
#include "actions/s3_steps.h"

namespace containctl::actions::s3 {
namespace {

bool present(const json& policy) { return policy.is_object() && policy.value("present", false); }

// The exact text of a get_policy() answer ("" when absent or malformed).
std::string text_of(const json& policy) {
  auto it = policy.is_object() ? policy.find("text") : policy.end();
  return policy.is_object() && it != policy.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The policy document a get_policy() answer holds; null when there is none.
Result<ordered_json> document(const json& policy) {
  if (!present(policy)) return ordered_json(nullptr);
  return parse_policy(text_of(policy));
}

bool holds(const json& policy, const ordered_json& statement) {
  auto doc = document(policy);
  return doc.ok() && !doc->is_null() && has_equivalent_statement(*doc, statement);
}

bool same_text(const json& a, const json& b) {
  return present(a) == present(b) && (!present(a) || text_of(a) == text_of(b));
}

// A policy names its Statement either way; compare documents with it as an array.
ordered_json normalized(ordered_json doc) {
  if (doc.is_object()) doc["Statement"] = statements(doc);
  return doc;
}

Result<json> capture(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json p, get_policy(ctx.client, a.where));
  return json{{"policy", p}};
}

Status verify(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json cur, get_policy(ctx.client, a.where));
  if (!holds(cur, a.statement))
    return verification_failed("the bucket policy of " + a.where.bucket + " does not hold the deny statement of " +
                               what(a.where));
  return Ok{};
}

// --- deny-policy -------------------------------------------------------------------------------

Result<json> apply_bucket(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json cur, get_policy(ctx.client, a.where));
  if (holds(cur, a.statement)) return json{{"changed", false}};
  CC_TRY(put_policy(ctx.client, a.where, a.policy));
  return json{{"changed", true}};
}

// The deny-all policy replaced the whole document. Put back the recorded one, unless the policy
// is neither ours nor the recorded one any more: someone changed it since (another run contained
// an object of the bucket, the owner edited it), and a restore would silently discard that.
// --force puts back the recorded policy anyway.
Status rollback_bucket(Context& ctx, const StepArgs& a, const json& before, const json& /*applied*/,
                       const RollbackOptions& options) {
  CC_ASSIGN(json was, recorded(before, "policy"));
  // Nothing of ours to undo when the deny held before this run. Judged on the journaled
  // before-state, never on the apply's "changed": a resumed apply finds its own earlier write in
  // place and says "changed": false.
  if (holds(was, a.statement)) return Ok{};
  CC_ASSIGN(json cur, get_policy(ctx.client, a.where));
  if (same_text(cur, was)) return Ok{};
  if (!options.force && present(cur)) {
    CC_ASSIGN(ordered_json now, document(cur));
    CC_ASSIGN(ordered_json ours, parse_policy(a.policy));
    if (!same_json(now, ours))
      return Error::refused("the bucket policy of " + a.where.bucket + " changed since this run replaced it with the "
                                "containment policy; putting back the recorded original would discard that change. "
                                "Review the policy, then rerun rollback with --force to put back the original",
                            "PolicyChangedSinceApply");
  }
  if (present(was)) return put_policy(ctx.client, a.where, text_of(was));
  return delete_policy(ctx.client, a.where);
}

Status verify_rollback_bucket(Context& ctx, const StepArgs& a, const json& before, const RollbackOptions&) {
  CC_ASSIGN(json want, recorded(before, "policy"));
  CC_ASSIGN(json cur, get_policy(ctx.client, a.where));
  if (same_text(cur, want)) return Ok{};
  // Not ours to restore when the apply found the deny in place: then only the deny must be there.
  if (holds(want, a.statement)) return Ok{};
  return verification_failed("the bucket policy of " + a.where.bucket + " is not the original text byte for byte");
}

// --- object-deny -------------------------------------------------------------------------------

Result<json> apply_object(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json cur, get_policy(ctx.client, a.where));
  if (holds(cur, a.statement)) return json{{"changed", false}};
  // Merge into the policy as it is now, not as it was at plan time, so nobody's later edit is lost.
  CC_ASSIGN(std::string text, with_statement(present(cur) ? text_of(cur) : "", a.statement));
  CC_TRY(put_policy(ctx.client, a.where, text));
  return json{{"changed", true}};
}

// Takes out only this object's statement (and puts back what the apply replaced under its Sid).
// Statements added since, by the owner or by another run containing another object of the bucket,
// stay. When nothing else changed, the recorded text goes back byte for byte.
Status rollback_object(Context& ctx, const StepArgs& a, const json& before, const json& /*applied*/,
                       const RollbackOptions&) {
  CC_ASSIGN(json was, recorded(before, "policy"));
  CC_ASSIGN(ordered_json was_doc, document(was));
  if (!was_doc.is_null() && has_equivalent_statement(was_doc, a.statement))
    return Ok{};  // the deny held before this run (judged on the journal, as for deny-policy)
  CC_ASSIGN(json cur, get_policy(ctx.client, a.where));
  if (same_text(cur, was)) return Ok{};
  CC_ASSIGN(ordered_json now, document(cur));
  if (now.is_null()) return Ok{};  // the whole policy is gone: nothing of ours is left
  ordered_json next = without_statement(now, was_doc, a.statement);
  if (!was_doc.is_null() && same_json(normalized(next), normalized(was_doc)))
    return put_policy(ctx.client, a.where, text_of(was));
  if (was_doc.is_null() && statements(next).empty()) return delete_policy(ctx.client, a.where);
  if (same_json(normalized(next), normalized(now))) return Ok{};
  return put_policy(ctx.client, a.where, next.dump(2));
}

// The statement is gone (unless it held before), whatever else changed since.
Status verify_rollback_object(Context& ctx, const StepArgs& a, const json& before, const RollbackOptions&) {
  CC_ASSIGN(json want, recorded(before, "policy"));
  CC_ASSIGN(json cur, get_policy(ctx.client, a.where));
  if (same_text(cur, want) || holds(want, a.statement)) return Ok{};
  if (holds(cur, a.statement))
    return verification_failed("the bucket policy of " + a.where.bucket + " still holds the deny statement of " +
                               what(a.where));
  return Ok{};
}

}  // namespace

StepOps deny_policy_ops() {
  return {false, capture, apply_bucket, verify, rollback_bucket, verify_rollback_bucket};
}

StepOps object_deny_ops() {
  return {true, capture, apply_object, verify, rollback_object, verify_rollback_object};
}

}  // namespace containctl::actions::s3
