//! `sso-assignment-to-nobody`: an Identity Center assignment on this account to a user or
//! group the identity store no longer has, or to a group without members. Stale grants: a
//! re-created user or group of the same id, or the next member added, gets the access.

use super::{fix, AccountContext, Check, Family, Input};
use crate::access::join::Drift;
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "sso-assignment-to-nobody",
    title: "Identity Center assignment to a deleted user, deleted group or empty group",
    severity: Severity::Low,
    references: &["AWS IAM Identity Center User Guide: Remove user access (DeleteAccountAssignment)"],
    remediation: "Delete the stale assignment: the finding's command does (aws sso-admin \
                  delete-account-assignment). For an empty group, decide first whether members are still to come.",
    family: Family::AdminPower,
    needs: &[Input::IdentityCenter],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(access) = context.access() else { return Vec::new() };
    let mut findings = Vec::new();
    for drift in &access.drift {
        let (set, set_arn, id, what, reason, principal_type) = match drift {
            Drift::DeletedUser { permission_set, permission_set_arn, user_id } => (
                permission_set,
                permission_set_arn,
                user_id,
                format!("user {user_id}, which the identity store no longer has"),
                "deleted-user",
                "--principal-type USER",
            ),
            Drift::DeletedGroup { permission_set, permission_set_arn, group_id } => (
                permission_set,
                permission_set_arn,
                group_id,
                format!("group {group_id}, which the identity store no longer has"),
                "deleted-group",
                "--principal-type GROUP",
            ),
            Drift::EmptyGroup { permission_set, permission_set_arn, group_id, group } => (
                permission_set,
                permission_set_arn,
                group_id,
                format!("group {group}, which has no members"),
                "empty-group",
                "--principal-type GROUP",
            ),
            _ => continue,
        };
        findings.push(
            context
                .finding(&CHECK, ResourceType::PermissionSet, set_arn, set)
                .key(id.as_str())
                .title(format!("Permission set {set} is assigned on this account to {what}"))
                .detail(format!(
                    "The assignment of permission set {set} on this account names {what}. It grants no one \
                     today, but whoever takes that place later gets the access without a review."
                ))
                .evidence("principal_id", id)
                .evidence("reason", reason)
                .command_if(fix::delete_assignment(
                    set_arn,
                    context.account.account_id.as_str(),
                    principal_type,
                    id,
                ))
                .build(),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::sso_test_support::{fixture, ADMIN_ROLE};

    #[test]
    fn stale_assignments_are_found_with_their_reason_and_live_ones_are_not() {
        let assignments = [
            ("Admin", "USER", "u-alice"),
            ("Admin", "USER", "u-gone"),
            ("Admin", "GROUP", "g-empty"),
            ("Admin", "GROUP", "g-gone"),
            ("Admin", "GROUP", "g-ops"),
        ];
        let (account, directory) = fixture(&[ADMIN_ROLE], &assignments);
        let mut reasons: Vec<String> = account
            .run_with(&CHECK, &directory)
            .iter()
            .map(|f| f.evidence.value()["reason"].as_str().unwrap().to_string())
            .collect();
        reasons.sort();
        assert_eq!(reasons, ["deleted-group", "deleted-user", "empty-group"]);
        let (account, directory) =
            fixture(&[ADMIN_ROLE], &[("Admin", "USER", "u-alice"), ("Admin", "GROUP", "g-ops")]);
        assert!(account.run_with(&CHECK, &directory).is_empty());
    }

    #[test]
    fn the_command_deletes_the_stale_assignment_naming_its_principal() {
        use crate::checks::sso_test_support::ADMIN_SET;
        use crate::checks::test_support::{command_of, ACCOUNT};
        let (account, directory) =
            fixture(&[ADMIN_ROLE], &[("Admin", "USER", "u-o'brien"), ("Admin", "GROUP", "g-empty")]);
        let found = account.run_with(&CHECK, &directory);
        let command = |reason: &str| {
            let finding = found.iter().find(|f| f.evidence.value()["reason"] == reason).unwrap();
            command_of(
                finding,
                &[&format!(
                    "--permission-set-arn {ADMIN_SET} --target-type AWS_ACCOUNT --target-id {ACCOUNT}"
                )],
            )
            .to_string()
        };
        assert!(command("deleted-user").ends_with(r"--principal-type USER --principal-id 'u-o'\''brien'"));
        assert!(command("empty-group").ends_with("--principal-type GROUP --principal-id g-empty"));
    }
}
