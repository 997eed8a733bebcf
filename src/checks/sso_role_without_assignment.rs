//! `sso-role-without-assignment`: an IAM Identity Center role in the account that no
//! assignment on this account lets anyone use, or whose permission set cannot be found.
//! Drift: the role keeps whatever power it has, and no access review lists it.

use super::{fix, AccountContext, Check, Family, Input};
use crate::access::join::Drift;
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "sso-role-without-assignment",
    title: "Identity Center role with no assignment on its account",
    severity: Severity::Low,
    references: &["AWS IAM Identity Center User Guide: Remove access to accounts (DeleteAccountAssignment, DeletePermissionSet)"],
    remediation: "Decide whether anyone should use the permission set on this account. If someone should, assign \
                  them (aws sso-admin create-account-assignment). If not, the role is a leftover: the finding's \
                  command confirms no one is assigned it here (aws sso-admin list-account-assignments), lists \
                  what must go first and deletes the role (aws iam delete-role). A role whose permission set is \
                  gone is deleted the same way once its Identity Center instance is confirmed.",
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
                .evidence("reason", "no-assignment")
                .command(confirm_then_delete(context, role_arn, role_name)),
            Drift::RoleWithoutPermissionSet { role_arn, role_name, permission_set, reason } => context
                .finding(&CHECK, ResourceType::Role, role_arn, role_name)
                .title(format!("Identity Center role {role_name} is linked to no permission set"))
                .detail(format!(
                    "The role's name carries permission set {permission_set}, but {reason}. Its people cannot \
                     be named."
                ))
                .evidence("permission_set", permission_set)
                .evidence("reason", reason)
                .command(fix::lines([
                    fix::note("once its Identity Center instance is confirmed, the role is deleted:"),
                    fix::delete_role(role_name),
                ])),
            _ => continue,
        };
        findings.push(finding.build());
    }
    findings
}

/// Lists who is assigned the role's permission set here (no one, when the finding holds), then
/// deletes the role.
fn confirm_then_delete(context: &AccountContext, role_arn: &str, role_name: &str) -> String {
    let set = context.access().and_then(|a| a.permission_set_of_role(role_arn));
    let confirm = set.and_then(|set| fix::list_assignments(set, context.account.account_id.as_str()));
    let delete = [fix::note("if no one should use it here, delete the role:"), fix::delete_role(role_name)];
    fix::lines(confirm.into_iter().chain(delete))
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

    #[test]
    fn the_command_confirms_no_one_is_assigned_then_deletes_the_role() {
        use crate::checks::sso_test_support::{sso_admin, READ_SET};
        use crate::checks::test_support::{command_of, ACCOUNT};
        let (account, directory) = fixture(&[ADMIN_ROLE, READ_ROLE], &[("Admin", "USER", "u-alice")]);
        let found = account.run_with(&CHECK, &directory);
        let command = command_of(
            &found[0],
            &[&format!(
                "{} --account-id {ACCOUNT}\n# if no one should use it here",
                sso_admin("list-account-assignments", READ_SET)
            )],
        );
        assert!(command.ends_with(&format!("aws iam delete-role --role-name {READ_ROLE}")), "{command}");
    }
}
