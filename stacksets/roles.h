// The IAM role templates: the containctl member role, AWS Security Incident Response's two
// containment roles, and the administration/execution roles of self-managed StackSets. Each
// function returns a complete CloudFormation template (a Doc) for one account.
#pragma once

#include <string>
#include <vector>

#include "actions/action.h"
#include "stacksets/policy.h"

namespace containctl::stacksets {

inline constexpr const char* kDefaultMemberRoleName = "ContainctlContainment";
inline constexpr const char* kSirRoleName = "AWSSecurityIncidentResponseContainment";
inline constexpr const char* kSirExecutionRoleName = "AWSSecurityIncidentResponseContainmentExecution";
inline constexpr const char* kSirServicePrincipal = "containment.security-ir.amazonaws.com";
inline constexpr const char* kStackSetAdministrationRoleName = "AWSCloudFormationStackSetAdministrationRole";
inline constexpr const char* kStackSetExecutionRoleName = "AWSCloudFormationStackSetExecutionRole";

// The role containctl assumes in each member account (Session::client_for_account, ExternalId =
// account id). Trusted by `trusted_principals`; permissions from the selected families.
Result<Doc> containctl_role_template(const std::string& role_name, const std::vector<std::string>& trusted_principals,
                                     const std::vector<const actions::ActionFamily*>& families);

// AWSSecurityIncidentResponseContainment + AWSSecurityIncidentResponseContainmentExecution, as in
// the SIR "containment only" template, with the current SSM document/ ARN form.
Doc aws_sir_roles_template();

// AWSCloudFormationStackSetAdministrationRole (self-managed StackSets, administrator account).
Doc stackset_administration_role_template();
// AWSCloudFormationStackSetExecutionRole (self-managed StackSets, each target account). Least
// privilege: CloudFormation plus managing only the named roles, instead of AWS's AdministratorAccess.
Doc stackset_execution_role_template(const std::vector<std::string>& managed_role_names);

// The role names a variant's template creates (for the execution role's scope).
std::vector<std::string> role_names_for_variant(const std::string& variant, const std::string& member_role_name);

}  // namespace containctl::stacksets
