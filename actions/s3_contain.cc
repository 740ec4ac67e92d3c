// s3-contain: the family's entry points. Each parses the step's typed args and runs the step's
// operations from the table (actions/s3_steps.h). Every operation reads the bucket's state afresh
// and is stateless, so steps can run on any thread, twice, or after a crash.
#include "actions/s3_contain.h"

#include "actions/s3_steps.h"
#include "aws/arn.h"

namespace containctl::actions {

std::unique_ptr<ActionFamily> make_s3_contain() { return std::make_unique<s3::S3ContainFamily>(); }

namespace s3 {
namespace {

struct Parsed {
  const StepOps* ops;
  StepArgs args;
};

// A step that does not parse fails with the reason (plans are checked when they load, so this is
// for plans that bypassed the loader).
Result<Parsed> parsed(const Step& step) {
  auto args = parse_step_args(step);
  if (!args.ok()) {
    Error e = args.error();
    e.message = "s3-contain step '" + step.id + "': " + e.message;
    return e;
  }
  return Parsed{step_ops(step.id), std::move(*args)};
}

}  // namespace

Status S3ContainFamily::check_step(const Step& step) const {
  auto args = parse_step_args(step);
  if (!args.ok()) return args.error();
  return Ok{};
}

Result<json> S3ContainFamily::capture(Context& ctx, const Step& step) {
  CC_ASSIGN(Parsed p, parsed(step));
  return p.ops->capture(ctx, p.args);
}

Result<json> S3ContainFamily::apply(Context& ctx, const Step& step, const json& before) {
  CC_ASSIGN(Parsed p, parsed(step));
  return p.ops->apply(ctx, p.args);
}

Status S3ContainFamily::verify(Context& ctx, const Step& step) {
  CC_ASSIGN(Parsed p, parsed(step));
  return p.ops->verify(ctx, p.args);
}

Status S3ContainFamily::rollback(Context& ctx, const Step& step, const json& before, const json& applied,
                                 const RollbackOptions& options) {
  CC_ASSIGN(Parsed p, parsed(step));
  return p.ops->rollback(ctx, p.args, before, applied, options);
}

Status S3ContainFamily::verify_rollback(Context& ctx, const Step& step, const json& before,
                                        const RollbackOptions& options) {
  CC_ASSIGN(Parsed p, parsed(step));
  return p.ops->verify_rollback(ctx, p.args, before, options);
}

std::vector<std::string> S3ContainFamily::shared_resources(const Target& target, const Step& step) const {
  auto args = parse_step_args(step);
  if (!args.ok()) return {};  // the step itself fails with the reason
  // Keyed by the bucket's canonical ARN; a name no ARN holds still serializes on the name.
  auto arn = aws::s3_arn(target.partition, args->where.bucket);
  const std::string bucket = arn.ok() ? arn->str() : args->where.bucket;
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
