//! `sso-assignment-to-nobody`: an Identity Center assignment on this account to a user or
//! group the identity store no longer has, or to a group without members. Stale grants: a
//! re-created user or group of the same id, or the next member added, gets the access.

use super::{AccountContext, Check, Family, Input};
use crate::access::join::Drift;
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "sso-assignment-to-nobody",
    title: "Identity Center assignment to a deleted user, deleted group or empty group",
    severity: Severity::Low,
    references: &["AWS IAM Identity Center User Guide: Remove user access (DeleteAccountAssignment)"],
    remediation:
        "Delete the stale assignment (aws sso-admin delete-account-assignment --instance-arn INSTANCE \
                  --target-type AWS_ACCOUNT --target-id ACCOUNT --permission-set-arn SET --principal-type \
                  USER|GROUP --principal-id ID).",
    family: Family::AdminPower,
    needs: &[Input::IdentityCenter],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(access) = context.access() else { return Vec::new() };
    let mut findings = Vec::new();
    for drift in &access.drift {
        let (set, set_arn, id, what, reason) = match drift {
            Drift::DeletedUser { permission_set, permission_set_arn, user_id } => (
                permission_set,
                permission_set_arn,
                user_id,
                format!("user {user_id}, which the identity store no longer has"),
                "deleted-user",
            ),
            Drift::DeletedGroup { permission_set, permission_set_arn, group_id } => (
                permission_set,
                permission_set_arn,
                group_id,
                format!("group {group_id}, which the identity store no longer has"),
                "deleted-group",
            ),
            Drift::EmptyGroup { permission_set, permission_set_arn, group_id, group } => (
                permission_set,
                permission_set_arn,
                group_id,
                format!("group {group}, which has no members"),
                "empty-group",
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
}
