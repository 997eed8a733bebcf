//! `sso-role-without-assignment`: an IAM Identity Center role in the account that no
//! assignment on this account lets anyone use, or whose permission set cannot be found.
//! Drift: the role keeps whatever power it has, and no access review lists it.

use super::{AccountContext, Check, Family, Input};
use crate::access::join::Drift;
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "sso-role-without-assignment",
    title: "Identity Center role with no assignment on its account",
    severity: Severity::Low,
    references: &["AWS IAM Identity Center User Guide: Remove access to accounts (DeleteAccountAssignment, DeletePermissionSet)"],
    remediation: "If no one should use the permission set here, remove it from the account (aws sso-admin \
                  delete-account-assignment for the last assignment removes the role; aws sso-admin \
                  provision-permission-set --target-type AWS_ACCOUNT re-syncs it). A role whose permission set \
                  is gone can be deleted after its instance is confirmed (aws iam delete-role).",
    family: Family::AdminPower,
    needs: &[Input::AuthorizationDetails, Input::IdentityCenter],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(access) = context.access() else { return Vec::new() };
    let mut findings = Vec::new();
    for drift in &access.drift {
        let finding = match drift {
            Drift::RoleWithoutAssignment { role_arn, role_name, permission_set } => context
                .finding(&CHECK, ResourceType::Role, role_arn, role_name)
                .title(format!("Identity Center role {role_name} has no assignment on this account"))
                .detail(format!(
                    "Permission set {permission_set} is provisioned to this account as role {role_name}, but no \
                     user or group is assigned it here, so no access review lists who may use it."
                ))
                .evidence("permission_set", permission_set)
                .evidence("reason", "no-assignment"),
            Drift::RoleWithoutPermissionSet { role_arn, role_name, permission_set, reason } => context
                .finding(&CHECK, ResourceType::Role, role_arn, role_name)
                .title(format!("Identity Center role {role_name} is linked to no permission set"))
                .detail(format!(
                    "The role's name carries permission set {permission_set}, but {reason}. Its people cannot \
                     be named."
                ))
                .evidence("permission_set", permission_set)
                .evidence("reason", reason),
            _ => continue,
        };
        findings.push(finding.build());
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::sso_test_support::{fixture, ADMIN_ROLE, READ_ROLE};

    #[test]
    fn a_role_no_one_is_assigned_here_is_found_and_an_assigned_one_is_not() {
        // Alice's Admin assignment is on this account; nobody has Read here.
        let ids = |roles: &[&str], assignments: &[(&str, &str, &str)]| {
            let (account, directory) = fixture(roles, assignments);
            account.run_with(&CHECK, &directory).into_iter().map(|f| f.resource_name).collect::<Vec<_>>()
        };
        assert_eq!(ids(&[ADMIN_ROLE, READ_ROLE], &[("Admin", "USER", "u-alice")]), [READ_ROLE]);
        assert!(ids(&[ADMIN_ROLE], &[("Admin", "USER", "u-alice")]).is_empty());
        let orphan = "AWSReservedSSO_Deleted_00000000000000aa";
        assert_eq!(ids(&[ADMIN_ROLE, orphan], &[("Admin", "USER", "u-alice")]), [orphan]);
    }
}
