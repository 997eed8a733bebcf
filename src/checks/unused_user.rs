//! `unused-user`: users with no console sign-in and no access-key use in `unused_days`.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use chrono::Duration;

pub const CHECK: Check = Check {
    id: "unused-user",
    title: "User has not been used recently",
    severity: Severity::Medium,
    references: &[],
    remediation: "Confirm with the owner that the user is no longer needed. The finding's command then disables \
                  its console password and access keys (aws iam delete-login-profile, aws iam update-access-key \
                  --status Inactive); for a user without credentials it lists the groups and policies to remove \
                  before aws iam delete-user.",
    family: Family::UnusedAccess,
    needs: &[Input::CredentialReport],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(report) = &context.account.credential_report else { return Vec::new() };
    let days = context.thresholds.unused_days;
    let cutoff = context.as_of - Duration::days(days.into());
    let mut findings = Vec::new();
    for row in report.users() {
        // A user younger than the window has not had the chance to be unused.
        let Some(created) = row.created.value() else { continue };
        if created >= cutoff {
            continue;
        }
        let last = row.last_activity();
        if last.is_some_and(|l| l >= cutoff) {
            continue;
        }
        let detail = match last {
            Some(l) => format!(
                "Last sign-in or access-key use {} ({} days before {}), more than {days} days.",
                l.format("%Y-%m-%d"),
                context.days_since(l),
                context.as_of.format("%Y-%m-%d")
            ),
            None => format!(
                "Never signed in nor used an access key (as far as the credential report knows); created {} ({} days ago).",
                created.format("%Y-%m-%d"),
                context.days_since(created)
            ),
        };
        findings.push(
            context
                .finding(&CHECK, ResourceType::User, &row.arn, &row.user)
                .title(format!("User {} unused for over {days} days", row.user))
                .detail(detail)
                .evidence("last_activity", last.map(|l| l.to_rfc3339()))
                .evidence("created", created.to_rfc3339())
                .evidence("threshold_days", days)
                .command(disable_or_delete(row))
                .console(fix::user_credentials_page(&row.arn, &row.user))
                .build(),
        );
    }
    findings
}

/// Disables the user's console password and active keys; a user without either is deleted,
/// once what it belongs to and holds is removed.
fn disable_or_delete(row: &crate::snapshot::credential_report::CredentialRow) -> String {
    let mut lines: Vec<String> = Vec::new();
    if row.password_enabled.is_true() {
        lines.push(fix::delete_login_profile(&row.user));
    }
    lines.extend(row.active_keys().map(|key| fix::deactivate_key(&row.user, key)));
    if !lines.is_empty() {
        return fix::lines(lines);
    }
    fix::delete_user(&row.user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{user_arn, CredRow, Fixture};

    #[test]
    fn finds_old_and_never_used_users_not_recent_or_new_ones() {
        let fixture = Fixture::new().credentials(&[
            CredRow::root(),
            CredRow::user("stale").password("2024-01-01T00:00:00+00:00"),
            CredRow::user("never"),
            CredRow::user("active").password("2024-05-20T00:00:00+00:00"),
            CredRow::user("key-user").key(1, true, "2023-01-01T00:00:00+00:00", "2024-05-30T00:00:00+00:00"),
            CredRow::user("new").created("2024-05-01T00:00:00+00:00"),
        ]);
        assert_eq!(fixture.arns(&CHECK), vec![user_arn("never"), user_arn("stale")]);
    }

    #[test]
    fn the_threshold_comes_from_config() {
        let fixture = Fixture::new()
            .credentials(&[CredRow::user("a").password("2024-04-01T00:00:00+00:00")])
            .thresholds(|t| t.unused_days = 30);
        assert_eq!(fixture.arns(&CHECK), vec![user_arn("a")]);
        let fixture = Fixture::new().credentials(&[CredRow::user("a").password("2024-04-01T00:00:00+00:00")]);
        assert!(fixture.run(&CHECK).is_empty());
    }

    #[test]
    fn the_command_disables_the_users_credentials_or_deletes_a_user_without_any() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let fixture = Fixture::new().credentials(&[
            CredRow::user(HOSTILE).password("2024-01-01T00:00:00+00:00"),
            CredRow::user("idle"),
        ]);
        let findings = fixture.run(&CHECK);
        let with_password = findings.iter().find(|f| f.resource_name == HOSTILE).unwrap();
        assert_eq!(
            command_of(with_password, &[]),
            format!("aws iam delete-login-profile --user-name {HOSTILE_QUOTED}")
        );
        let idle = findings.iter().find(|f| f.resource_name == "idle").unwrap();
        let command = command_of(idle, &["aws iam list-groups-for-user --user-name idle"]);
        assert!(command.ends_with("aws iam delete-user --user-name idle"), "{command}");
    }
}
