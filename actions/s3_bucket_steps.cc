// The bucket-only steps of s3-contain: block-public-access and tag-bucket.
#include "actions/s3_contain.h"
#include "actions/s3_steps.h"

namespace containctl::actions::s3 {
namespace {

// --- block-public-access -----------------------------------------------------------------------

Result<json> capture_pab(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json pab, get_public_access_block(ctx.client, a.where));
  return json{{"public_access_block", pab}};
}

Result<json> apply_pab(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json pab, get_public_access_block(ctx.client, a.where));
  if (all_public_access_blocked(pab)) return json{{"changed", false}};
  json on = json::object();
  for (const char* f : kPabFields) on[f] = true;
  CC_TRY(put_public_access_block(ctx.client, a.where, on));
  return json{{"changed", true}};
}

Status verify_pab(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json pab, get_public_access_block(ctx.client, a.where));
  if (!all_public_access_blocked(pab))
    return verification_failed("Block Public Access of bucket " + a.where.bucket + " is not fully on");
  return Ok{};
}

Status rollback_pab(Context& ctx, const StepArgs& a, const json& before, const json&, const RollbackOptions&) {
  CC_ASSIGN(json want, recorded(before, "public_access_block"));
  CC_ASSIGN(json cur, get_public_access_block(ctx.client, a.where));
  if (same_public_access_block(cur, want)) return Ok{};
  if (want.is_object() && want.value("present", false)) return put_public_access_block(ctx.client, a.where, want);
  return delete_public_access_block(ctx.client, a.where);
}

Status verify_rollback_pab(Context& ctx, const StepArgs& a, const json& before, const RollbackOptions&) {
  CC_ASSIGN(json want, recorded(before, "public_access_block"));
  CC_ASSIGN(json cur, get_public_access_block(ctx.client, a.where));
  if (!same_public_access_block(cur, want))
    return verification_failed("Block Public Access of bucket " + a.where.bucket + " is not back to the original");
  return Ok{};
}

// --- tag-bucket --------------------------------------------------------------------------------

bool has_tag(const json& tags, const std::string& key, const std::string& value) {
  for (const auto& t : tags.value("tags", json::array()))
    if (t.value("Key", "") == key && t.value("Value", "") == value) return true;
  return false;
}

// The run id is only known when the plan is applied (`plan` has no run), so the apply-time run id
// wins over anything the plan carries.
Result<std::string> run_tag_value(const Context& ctx, const StepArgs& a) {
  std::string v = !ctx.run_id.empty() ? ctx.run_id : a.tag_value;
  if (v.empty()) return Error::invalid("s3-contain tag-bucket: no run id to tag bucket " + a.where.bucket + " with");
  return v;
}

Result<json> capture_tags(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(json tags, get_tags(ctx.client, a.where));
  return json{{"tags", tags}};
}

Result<json> apply_tag(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(std::string value, run_tag_value(ctx, a));
  CC_ASSIGN(json cur, get_tags(ctx.client, a.where));
  if (has_tag(cur, a.tag_key, value)) return json{{"changed", false}, {"tag_value", value}};
  json merged = json::array();
  for (const auto& t : cur.value("tags", json::array()))
    if (t.value("Key", "") != a.tag_key) merged.push_back(t);
  merged.push_back({{"Key", a.tag_key}, {"Value", value}});
  CC_TRY(put_tags(ctx.client, a.where, merged));
  return json{{"changed", true}, {"tag_value", value}};
}

Status verify_tag(Context& ctx, const StepArgs& a) {
  CC_ASSIGN(std::string value, run_tag_value(ctx, a));
  CC_ASSIGN(json tags, get_tags(ctx.client, a.where));
  if (!has_tag(tags, a.tag_key, value))
    return verification_failed("bucket " + a.where.bucket + " does not carry tag " + a.tag_key + "=" + value);
  return Ok{};
}

Status rollback_tags(Context& ctx, const StepArgs& a, const json& before, const json&, const RollbackOptions&) {
  CC_ASSIGN(json want, recorded(before, "tags"));
  CC_ASSIGN(json cur, get_tags(ctx.client, a.where));
  json tags = want.is_object() ? want.value("tags", json::array()) : json::array();
  if (want.is_object() && want.value("present", false) && !tags.empty()) {
    if (!same_tags(cur, want)) CC_TRY(put_tags(ctx.client, a.where, tags));
  } else if (cur.value("present", false)) {
    CC_TRY(delete_tags(ctx.client, a.where));
  }
  return Ok{};
}

Status verify_rollback_tags(Context& ctx, const StepArgs& a, const json& before, const RollbackOptions&) {
  CC_ASSIGN(json want, recorded(before, "tags"));
  CC_ASSIGN(json cur, get_tags(ctx.client, a.where));
  if (!same_tags(cur, want)) return verification_failed("the tags of bucket " + a.where.bucket + " are not the original");
  return Ok{};
}

}  // namespace

StepOps block_public_ops() { return {false, capture_pab, apply_pab, verify_pab, rollback_pab, verify_rollback_pab}; }

StepOps tag_ops() { return {false, capture_tags, apply_tag, verify_tag, rollback_tags, verify_rollback_tags}; }

}  // namespace containctl::actions::s3
