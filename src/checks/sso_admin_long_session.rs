//! `sso-admin-long-session`: an admin-equivalent permission set whose sessions last longer
//! than `sso_admin_session_max_hours` (default 4). A stolen admin session stays good that long.
//!
//! Admin-equivalent: its own policies (inline, and the AWS managed policies the audit knows)
//! grant admin, or its role holds or reaches admin in some account of the organization (the
//! organization-wide pass, which also sees customer managed policies and boundaries). One
//! finding per permission set, filed under the account that runs Identity Center.

use super::{fix, AccountContext, Check, Family, Input};
use crate::access::roster::AdminEquivalent;
use crate::checks::full_admin_policy::grants_admin;
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::aws_managed;

pub const CHECK: Check = Check {
    id: "sso-admin-long-session",
    title: "Admin-equivalent permission set allows long sessions",
    severity: Severity::Medium,
    references: &["AWS IAM Identity Center User Guide: Set session duration", "AWS Well-Architected SEC03-BP02"],
    remediation: "Shorten the permission set's session to the limit: the finding's command sets it (aws sso-admin \
                  update-permission-set --session-duration) and re-provisions the set to every account it is on \
                  (aws sso-admin provision-permission-set --target-type ALL_PROVISIONED_ACCOUNTS).",
    family: Family::AdminPower,
    needs: &[Input::IdentityCenter],
    run,
};

/// An ISO 8601 duration of hours and minutes (`PT4H`, `PT1H30M`, `PT90M`), in minutes.
pub fn minutes(duration: &str) -> Option<u32> {
    let mut rest = duration.strip_prefix("PT")?;
    let mut total = 0u32;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let value: u32 = rest[..digits].parse().ok()?;
        total += match &rest[digits..digits + 1] {
            "H" => value * 60,
            "M" => value,
            "S" => 0,
            _ => return None,
        };
        rest = &rest[digits + 1..];
    }
    Some(total)
}

fn run(context: &AccountContext) -> Vec<Finding> {
    let (Some(directory), Some(found)) = (context.directory, context.admin_permission_sets()) else {
        return Vec::new();
    };
    if found.home_account != context.account.account_id.as_str() {
        return Vec::new();
    }
    let limit = context.thresholds.sso_admin_session_max_hours;
    let mut findings = Vec::new();
    for set in directory.permission_sets {
        // AWS's default session is one hour.
        let duration = set.session_duration.as_deref().unwrap_or("PT1H");
        let Some(length) = minutes(duration) else { continue };
        if length <= limit * 60 {
            continue;
        }
        let own = own_policies_grant_admin(directory, set);
        let in_accounts = found.sets.get(&set.permission_set_arn);
        let (why, conditional) = match (&own, in_accounts) {
            (Some(policy), _) => (format!("its policy {policy} grants admin"), false),
            (None, Some(seen)) => (
                format!("its role in account {} is admin-equivalent ({})", seen.account_id, seen.how),
                seen.admin == AdminEquivalent::Conditional,
            ),
            (None, None) => continue,
        };
        let hours = format!("{}h{:02}", length / 60, length % 60);
        let builder = context
            .finding(&CHECK, ResourceType::PermissionSet, &set.permission_set_arn, &set.name)
            .title(format!("Admin permission set {} allows {duration} sessions (limit {limit} h)", set.name))
            .detail(format!(
                "Permission set {} is admin-equivalent: {why}. Its sessions last {duration} ({hours}), longer than \
                 the {limit} h limit (sso_admin_session_max_hours); a leaked admin session stays usable that long.",
                set.name
            ))
            .evidence("session_duration", duration)
            .evidence("limit_hours", limit)
            .evidence("admin_because", &why)
            .evidence("accounts", &set.account_ids)
            .command_if(shorten(&set.permission_set_arn, limit));
        findings.push(if conditional { builder.severity(Severity::Low) } else { builder }.build());
    }
    findings
}

/// Sets the session to `hours` and provisions the change to every account the set is on.
fn shorten(permission_set_arn: &str, hours: u32) -> Option<String> {
    let update = fix::sso_admin("sso-admin update-permission-set", permission_set_arn)?
        .arg("--session-duration", &format!("PT{hours}H"));
    let provision = fix::sso_admin("sso-admin provision-permission-set", permission_set_arn)?
        .raw("--target-type ALL_PROVISIONED_ACCOUNTS");
    Some(fix::lines([update.text(), provision.text()]))
}

/// The inline policy or a known AWS managed policy of `set` that grants admin alone.
fn own_policies_grant_admin(
    directory: &crate::access::join::Directory,
    set: &crate::snapshot::identity_center::PermissionSet,
) -> Option<String> {
    if let Some(document) = directory.identity_center.inline_documents.get(&set.permission_set_arn) {
        if grants_admin("inline", document).is_some() {
            return Some("(inline)".into());
        }
    }
    set.attached_managed_policies.iter().find_map(|policy| {
        let document = aws_managed::builtin(&policy.arn)?;
        grants_admin(&policy.name, document).map(|_| policy.name.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::sso_test_support::{fixture, ADMIN_ROLE, ADMIN_SET, READ_ROLE, READ_SET};
    use crate::checks::test_support::ACCOUNT;
    use crate::checks::{AdminPermissionSet, AdminPermissionSets};

    #[test]
    fn durations_read_as_minutes() {
        assert_eq!(minutes("PT4H"), Some(240));
        assert_eq!(minutes("PT1H30M"), Some(90));
        assert_eq!(minutes("PT90M"), Some(90));
        assert_eq!(minutes("P1D"), None);
    }

    fn run_with(found: AdminPermissionSets) -> Vec<Finding> {
        let (account, directory) = fixture(&[ADMIN_ROLE, READ_ROLE], &[("Admin", "USER", "u-alice")]);
        let found: &'static AdminPermissionSets = Box::leak(Box::new(found));
        run(&account.context().with_directory(Some(&directory)).with_admin_permission_sets(found))
    }

    #[test]
    fn an_admin_set_with_long_sessions_is_found_and_a_long_read_only_one_is_not() {
        // Admin (AdministratorAccess, PT8H) is found from its own policy; Read_Only (PT12H) is not admin.
        let found = run_with(AdminPermissionSets { home_account: ACCOUNT.into(), sets: Default::default() });
        assert_eq!(found.iter().map(|f| f.resource_arn.as_str()).collect::<Vec<_>>(), [ADMIN_SET]);
        assert!(found[0].detail.contains("AdministratorAccess grants admin"), "{}", found[0].detail);
        // Filed once, under the account that runs Identity Center.
        let elsewhere =
            run_with(AdminPermissionSets { home_account: "999999999999".into(), sets: Default::default() });
        assert!(elsewhere.is_empty());
    }

    #[test]
    fn a_set_admin_only_through_its_role_in_some_account_is_found_too() {
        let mut sets = std::collections::HashMap::new();
        sets.insert(
            READ_SET.to_string(),
            AdminPermissionSet {
                account_id: "999988887777".into(),
                role_arn: "arn:aws:iam::999988887777:role/x".into(),
                admin: AdminEquivalent::Yes,
                how: "managed policy Custom (direct)".into(),
            },
        );
        let found = run_with(AdminPermissionSets { home_account: ACCOUNT.into(), sets });
        assert_eq!(found.len(), 2);
        assert!(found.iter().any(|f| f.resource_arn == READ_SET && f.detail.contains("999988887777")));
    }

    #[test]
    fn the_command_shortens_the_session_to_the_limit_and_provisions_it() {
        use crate::checks::test_support::command_of;
        let found = run_with(AdminPermissionSets { home_account: ACCOUNT.into(), sets: Default::default() });
        use crate::checks::sso_test_support::sso_admin;
        let update = sso_admin("update-permission-set", ADMIN_SET);
        let provision = sso_admin("provision-permission-set", ADMIN_SET);
        let expected =
            format!("{update} --session-duration PT4H\n{provision} --target-type ALL_PROVISIONED_ACCOUNTS");
        assert_eq!(command_of(&found[0], &[]), expected);
    }
}
