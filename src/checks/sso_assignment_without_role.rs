//! `sso-assignment-without-role`: an Identity Center assignment on this account whose
//! permission set role is missing from the account (deleted in IAM, or provisioning failed).

use super::{fix, AccountContext, Check, Family, Input};
use crate::access::join::Drift;
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "sso-assignment-without-role",
    title: "Identity Center assignment whose role is missing from the account",
    severity: Severity::Low,
    references: &[
        "AWS IAM Identity Center User Guide: Provisioning permission sets (ProvisionPermissionSet)",
    ],
    remediation:
        "Decide whether the assignment is still wanted. If it is, the finding's command re-provisions \
                  the permission set to the account (aws sso-admin provision-permission-set --target-type \
                  AWS_ACCOUNT); if not, remove the assignment (aws sso-admin delete-account-assignment).",
    family: Family::AdminPower,
    needs: &[Input::AuthorizationDetails, Input::IdentityCenter],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(access) = context.access() else { return Vec::new() };
    let mut findings = Vec::new();
    for drift in &access.drift {
        let Drift::AssignmentWithoutRole { permission_set, permission_set_arn, principals } = drift else {
            continue;
        };
        findings.push(
            context
                .finding(&CHECK, ResourceType::PermissionSet, permission_set_arn, permission_set)
                .title(format!("Permission set {permission_set} is assigned here, but its role is missing"))
                .detail(format!(
                    "{} {} assigned permission set {permission_set} on this account, but the account has no role \
                     AWSReservedSSO_{permission_set}_… under /aws-reserved/sso.amazonaws.com/: sign-in fails, and \
                     what the assignment would grant cannot be judged.",
                    principals.join(", "),
                    if principals.len() == 1 { "is" } else { "are" }
                ))
                .evidence("assigned", principals)
                .evidence("reason", "role-missing")
                .command_if(fix::sso_admin("sso-admin provision-permission-set", permission_set_arn).map(|c| {
                    c.raw("--target-type AWS_ACCOUNT").arg("--target-id", context.account.account_id.as_str()).text()
                }))
                .build(),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::sso_test_support::{fixture, ADMIN_ROLE, READ_ROLE};

    #[test]
    fn an_assignment_whose_role_is_missing_is_found_and_one_with_its_role_is_not() {
        let assignments = [("Admin", "USER", "u-alice"), ("Read_Only", "GROUP", "g-ops")];
        let (account, directory) = fixture(&[ADMIN_ROLE], &assignments);
        let found = account.run_with(&CHECK, &directory);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].resource_name, "Read_Only");
        assert!(found[0].detail.contains("group ops is assigned"), "{}", found[0].detail);
        let (account, directory) = fixture(&[ADMIN_ROLE, READ_ROLE], &assignments);
        assert!(account.run_with(&CHECK, &directory).is_empty());
    }

    #[test]
    fn the_command_provisions_the_permission_set_to_this_account() {
        use crate::checks::sso_test_support::{sso_admin, READ_SET};
        use crate::checks::test_support::{command_of, ACCOUNT};
        let (account, directory) = fixture(&[ADMIN_ROLE], &[("Read_Only", "GROUP", "g-ops")]);
        let provision = sso_admin("provision-permission-set", READ_SET);
        let found = account.run_with(&CHECK, &directory);
        assert_eq!(
            command_of(&found[0], &[]),
            format!("{provision} --target-type AWS_ACCOUNT --target-id {ACCOUNT}")
        );
    }
}
