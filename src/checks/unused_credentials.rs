//! `unused-credentials`: an enabled console password or active access key not used for
//! `credential_unused_days` (a credential never used counts from when it was created).

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use chrono::{DateTime, Duration, Utc};

pub const CHECK: Check = Check {
    id: "unused-credentials",
    title: "Credential unused for too long",
    severity: Severity::Medium,
    references: &[],
    remediation:
        "Disable what is not used: the finding's command removes the console password (aws iam \
                  delete-login-profile) or deactivates the key (aws iam update-access-key --status Inactive).",
    family: Family::UnusedAccess,
    needs: &[Input::CredentialReport],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(report) = &context.account.credential_report else { return Vec::new() };
    let days = context.thresholds.credential_unused_days;
    let cutoff = context.as_of - Duration::days(days.into());
    let mut findings = Vec::new();
    // (credential, last used, when it came to exist)
    let stale = |last: Option<DateTime<Utc>>, since: Option<DateTime<Utc>>| match last {
        Some(last) => last < cutoff,
        None => since.is_some_and(|s| s < cutoff),
    };
    for row in report.users() {
        // (credential, last used, the command that disables it)
        let mut unused: Vec<(String, Option<DateTime<Utc>>, String)> = Vec::new();
        if row.password_enabled.is_true() {
            let since = row.password_last_changed.value().or(row.created.value());
            if stale(row.password_last_used.value(), since) {
                unused.push((
                    "password".into(),
                    row.password_last_used.value(),
                    fix::delete_login_profile(&row.user),
                ));
            }
        }
        for key in row.active_keys() {
            if stale(key.last_used.value(), key.last_rotated.value()) {
                let command = fix::deactivate_key(&row.user, key);
                unused.push((format!("access_key_{}", key.number), key.last_used.value(), command));
            }
        }
        for (credential, last, command) in unused {
            let what = if credential == "password" {
                "Console password".to_string()
            } else {
                format!("Access key {}", &credential[11..])
            };
            let detail = match last {
                Some(l) => format!(
                    "{what} last used {} ({} days ago), over {days} days.",
                    l.format("%Y-%m-%d"),
                    context.days_since(l)
                ),
                None => format!("{what} has never been used and is over {days} days old."),
            };
            findings.push(
                context
                    .finding(&CHECK, ResourceType::User, &row.arn, &row.user)
                    .key(&credential)
                    .title(format!("{what} of {} unused for over {days} days", row.user))
                    .detail(detail)
                    .evidence("credential", &credential)
                    .evidence("last_used", last.map(|l| l.to_rfc3339()))
                    .evidence("threshold_days", days)
                    .command(command)
                    .console(fix::user_credentials_page(&row.arn, &row.user))
                    .build(),
            );
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{user_arn, CredRow, Fixture};

    #[test]
    fn finds_each_unused_credential() {
        let fixture = Fixture::new().credentials(&[
            CredRow::user("old-password").password("2024-03-01T00:00:00+00:00"),
            CredRow::user("never-password").password("no_information"),
            CredRow::user("fresh-password").password("no_information").created("2024-05-25T00:00:00+00:00"),
            CredRow::user("keys").key(1, true, "2023-01-01T00:00:00+00:00", "2024-05-30T00:00:00+00:00").key(
                2,
                true,
                "2023-01-01T00:00:00+00:00",
                "N/A",
            ),
            CredRow::user("inactive-key").key(
                1,
                false,
                "2020-01-01T00:00:00+00:00",
                "2020-02-01T00:00:00+00:00",
            ),
        ]);
        let findings = fixture.run(&CHECK);
        let got: Vec<(&str, String)> = findings
            .iter()
            .map(|f| {
                (f.resource_name.as_str(), f.evidence.value()["credential"].as_str().unwrap().to_string())
            })
            .collect();
        let want = [("old-password", "password"), ("never-password", "password"), ("keys", "access_key_2")];
        assert_eq!(got, want.map(|(name, credential)| (name, credential.to_string())));
        assert_eq!(findings[2].resource_arn, user_arn("keys"));
    }

    #[test]
    fn the_command_disables_the_unused_credential_of_the_user() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let row = CredRow::user(HOSTILE).password("2024-03-01T00:00:00+00:00").key(
            1,
            true,
            "2023-01-01T00:00:00+00:00",
            "N/A",
        );
        let findings = Fixture::new().credentials(&[row]).run(&CHECK);
        assert_eq!(
            command_of(&findings[0], &[HOSTILE_QUOTED]),
            format!("aws iam delete-login-profile --user-name {HOSTILE_QUOTED}")
        );
        command_of(&findings[1], &["aws iam update-access-key", HOSTILE_QUOTED, "2023-01-01T00:00:00"]);
    }
}
