// s3-contain: AWSSupport-ContainS3Resource done reversibly. A bucket gets Block Public Access,
// BucketOwnerEnforced (ACLs off), a deny-all-but-the-allow-list bucket policy and a run-id tag;
// an object gets its own deny statement added to the bucket policy and a private ACL. Rollback
// restores the exact recorded state. docs/s3.md explains the choices.
#pragma once

#include <memory>

#include "actions/action.h"

namespace containctl::actions {

std::unique_ptr<ActionFamily> make_s3_contain();

namespace s3 {

// Step ids. Bucket: policy first (the explicit deny holds everything while the rest changes),
// then ACLs off, then Block Public Access; rollback runs the reverse, so Block Public Access is
// relaxed before a public ACL or policy is put back (S3 rejects those while it is on) and the
// deny is the last thing to go.
inline constexpr const char* kStepDenyPolicy = "deny-policy";
inline constexpr const char* kStepDisableAcls = "disable-acls";
inline constexpr const char* kStepBlockPublic = "block-public-access";
inline constexpr const char* kStepTag = "tag-bucket";
// Object: ACL private first (the deny would hide the object's ACL from anyone not allow-listed),
// then the deny statement.
inline constexpr const char* kStepObjectAcl = "object-acl-private";
inline constexpr const char* kStepObjectDeny = "object-deny";

inline constexpr const char* kRunTagKey = "containctl:contained-by-run";

class S3ContainFamily final : public ActionFamily {
 public:
  std::string name() const override { return "s3-contain"; }
  bool handles(const Target& target) const override;
  // s3_discover.cc
  Result<json> discover(Context& ctx) override;
  Result<TargetPlan> plan(Context& ctx, const json& discovered) override;
  // s3_contain.cc
  Result<json> capture(Context& ctx, const Step& step) override;
  Result<json> apply(Context& ctx, const Step& step, const json& before) override;
  Status verify(Context& ctx, const Step& step) override;
  Status rollback(Context& ctx, const Step& step, const json& before, const json& applied,
                  const RollbackOptions& options) override;
  Status verify_rollback(Context& ctx, const Step& step, const json& before, const RollbackOptions& options) override;
  // Parses the step's typed args (s3_steps.h); the error names the field. Plans call it when they
  // load (ActionFamily::check_step), the steps again before each use.
  Status check_step(const Step& step) const override;
  std::vector<std::string> iam_actions() const override;
  // The bucket policy (deny-policy, object-deny) and the bucket's ACL mode (disable-acls,
  // object-acl-private: an object ACL cannot change once ACLs are off) are written by the bucket
  // and by each of its objects; one key covers both, as the policy's deny also governs who may
  // change an ACL.
  std::vector<std::string> shared_resources(const Target& target, const Step& step) const override;
};

}  // namespace s3
}  // namespace containctl::actions
