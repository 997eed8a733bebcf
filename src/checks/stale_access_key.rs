//! `stale-access-key`: active access keys not rotated in `key_max_age_days`.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use chrono::Duration;

pub const CHECK: Check = Check {
    id: "stale-access-key",
    title: "Active access key not rotated",
    severity: Severity::Medium,
    references: &[],
    remediation: "Rotate the key: create a new one (aws iam create-access-key, named in the finding's command) \
                  and move the workload to it; then the finding's command deactivates the old key (aws iam \
                  update-access-key --status Inactive); once nothing breaks, delete it (aws iam delete-access-key).",
    family: Family::Credentials,
    needs: &[Input::CredentialReport],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(report) = &context.account.credential_report else { return Vec::new() };
    let days = context.thresholds.key_max_age_days;
    let cutoff = context.as_of - Duration::days(days.into());
    let mut findings = Vec::new();
    for row in report.users() {
        for key in row.active_keys() {
            let Some(rotated) = key.last_rotated.value() else { continue };
            if rotated >= cutoff {
                continue;
            }
            findings.push(
                context
                    .finding(&CHECK, ResourceType::User, &row.arn, &row.user)
                    .key(format!("access_key_{}", key.number))
                    .title(format!(
                        "Access key {} of {} is {} days old",
                        key.number,
                        row.user,
                        context.days_since(rotated)
                    ))
                    .detail(format!(
                        "Active access key {} was last rotated {} ({} days ago); the limit is {days} days.",
                        key.number,
                        rotated.format("%Y-%m-%d"),
                        context.days_since(rotated)
                    ))
                    .evidence("access_key", key.number)
                    .evidence("last_rotated", rotated.to_rfc3339())
                    .evidence("last_used", key.last_used.value().map(|d| d.to_rfc3339()))
                    .evidence("threshold_days", days)
                    // The new key is a comment: pasted whole, the block must not deactivate the
                    // old key before the workload has moved to the new one.
                    .command(fix::lines([
                        fix::note(&format!(
                            "first create a new key and move the workload to it: {}",
                            fix::Command::aws("iam create-access-key").arg("--user-name", &row.user).text()
                        )),
                        fix::note(&format!(
                            "then deactivate the old one, key {} (created {}):",
                            key.number,
                            rotated.format("%Y-%m-%d")
                        )),
                        fix::deactivate_key(&row.user, key),
                    ]))
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
    use crate::checks::test_support::{CredRow, Fixture};

    #[test]
    fn finds_old_active_keys_only() {
        let fixture = Fixture::new().credentials(&[
            CredRow::root().key(1, true, "2019-01-01T00:00:00+00:00", "N/A"),
            CredRow::user("old").key(1, true, "2024-01-01T00:00:00+00:00", "N/A").key(
                2,
                true,
                "2024-05-01T00:00:00+00:00",
                "N/A",
            ),
            CredRow::user("inactive").key(1, false, "2020-01-01T00:00:00+00:00", "N/A"),
            CredRow::user("edge").key(1, true, "2024-03-03T00:00:00+00:00", "N/A"),
        ]);
        let findings = fixture.run(&CHECK);
        let got: Vec<(&str, u64)> = findings
            .iter()
            .map(|f| (f.resource_name.as_str(), f.evidence.value()["access_key"].as_u64().unwrap()))
            .collect();
        // The root user's key is root-access-keys' business; 2024-03-03 is exactly 90 days old.
        assert_eq!(got, vec![("old", 1)]);
        assert_ne!(findings[0].fingerprint, String::new());
    }

    #[test]
    fn the_command_rotates_the_users_key_found_by_its_creation_time() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let fixture = Fixture::new().credentials(&[CredRow::user(HOSTILE).key(
            2,
            true,
            "2024-01-01T09:30:00+00:00",
            "N/A",
        )]);
        let findings = fixture.run(&CHECK);
        let command = command_of(
            &findings[0],
            &[
                &format!("# first create a new key and move the workload to it: aws iam create-access-key --user-name {HOSTILE_QUOTED}\n"),
                "# then deactivate the old one, key 2 (created 2024-01-01):\n",
            ],
        );
        assert!(command.ends_with(&format!(
            "aws iam update-access-key --user-name {HOSTILE_QUOTED} --access-key-id \"$(aws iam list-access-keys \
             --user-name {HOSTILE_QUOTED} --query 'AccessKeyMetadata[?starts_with(CreateDate, `\"2024-01-01T09:30:00\"`)].AccessKeyId' \
             --output text)\" --status Inactive"
        )), "{command}");
    }
}
