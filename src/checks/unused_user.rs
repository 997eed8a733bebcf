//! `unused-user`: users with no console sign-in and no access-key use in `unused_days`.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use chrono::Duration;

pub const CHECK: Check = Check {
    id: "unused-user",
    title: "User has not been used recently",
    severity: Severity::Medium,
    references: &[],
    remediation: "Confirm with the owner, then remove the user's credentials (aws iam delete-login-profile, aws iam \
                  update-access-key --status Inactive) and the user (aws iam delete-user) once its policies and \
                  group memberships are removed.",
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
                .build(),
        );
    }
    findings
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
}
