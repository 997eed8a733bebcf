//! `stale-access-key`: active access keys not rotated in `key_max_age_days`.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use chrono::Duration;

pub const CHECK: Check = Check {
    id: "stale-access-key",
    title: "Active access key not rotated",
    severity: Severity::Medium,
    references: &[],
    remediation: "Rotate the key: aws iam create-access-key --user-name USER, move the workload to the new key, \
                  then aws iam update-access-key --status Inactive and aws iam delete-access-key for the old one.",
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
}
