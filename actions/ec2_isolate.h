// The ec2-isolate action family: reversible containment of one EC2 instance (evidence snapshots,
// termination protection, Auto Scaling Standby, target-group deregistration, per-interface network
// isolation through an all-traffic group, tags, and opt-in EIP, role-session and NACL steps).
// What each step does, its IAM actions and its limits: docs/ec2-isolate.md.
#pragma once

#include <memory>

#include "actions/action.h"

namespace containctl::actions {

std::unique_ptr<ActionFamily> make_ec2_isolate();

}  // namespace containctl::actions
