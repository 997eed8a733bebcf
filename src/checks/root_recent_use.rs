//! `root-recent-use`: the root user's password or keys used within `root_use_days`.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, Severity};
use chrono::Duration;

pub const CHECK: Check = Check {
    id: "root-recent-use",
    title: "Root user used recently",
    severity: Severity::High,
    references: &[],
    remediation: "Find out who used root and why: the finding's command lists CloudTrail's root events since the \
                  first use found (aws cloudtrail lookup-events, in the region the events were recorded in). Move \
                  routine tasks to IAM roles and keep root for the few tasks that need it.",
    family: Family::RootUser,
    needs: &[Input::CredentialReport],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(root) = context.account.credential_report.as_ref().and_then(|r| r.root()) else {
        return Vec::new();
    };
    let days = context.thresholds.root_use_days;
    let cutoff = context.as_of - Duration::days(days.into());
    let mut uses: Vec<(String, chrono::DateTime<chrono::Utc>)> = Vec::new();
    if let Some(used) = root.password_last_used.value() {
        uses.push(("password".into(), used));
    }
    for key in &root.access_keys {
        if let Some(used) = key.last_used.value() {
            uses.push((format!("access key {}", key.number), used));
        }
    }
    uses.retain(|(_, used)| *used >= cutoff);
    if uses.is_empty() {
        return Vec::new();
    }
    let since =
        uses.iter().map(|(_, used)| *used).min().unwrap_or(cutoff).format("%Y-%m-%dT00:00:00Z").to_string();
    let command = fix::Command::aws("cloudtrail lookup-events")
        .raw("--lookup-attributes AttributeKey=Username,AttributeValue=root")
        .arg("--start-time", &since)
        .text();
    let described: Vec<String> =
        uses.iter().map(|(what, when)| format!("{what} on {}", when.format("%Y-%m-%d"))).collect();
    vec![context
        .account_finding(&CHECK)
        .title(format!("Root user used within the last {days} days"))
        .detail(format!("The root user's {}.", described.join(" and ")))
        .evidence("uses", uses.iter().map(|(w, d)| (w.clone(), d.to_rfc3339())).collect::<Vec<_>>())
        .evidence("threshold_days", days)
        .command(command)
        .build()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{CredRow, Fixture};

    #[test]
    fn finds_recent_password_or_key_use() {
        let recent = CredRow { password_last_used: "2024-05-20T08:00:00+00:00".into(), ..CredRow::root() };
        assert_eq!(Fixture::new().credentials(&[recent]).run(&CHECK).len(), 1);
        let key = CredRow::root().key(1, true, "2020-01-01T00:00:00+00:00", "2024-05-30T00:00:00+00:00");
        assert_eq!(Fixture::new().credentials(&[key]).run(&CHECK).len(), 1);
    }

    #[test]
    fn old_use_and_no_information_are_fine() {
        let old = CredRow { password_last_used: "2024-01-20T08:00:00+00:00".into(), ..CredRow::root() };
        assert!(Fixture::new().credentials(&[old]).run(&CHECK).is_empty());
        let never = CredRow { password_last_used: "no_information".into(), ..CredRow::root() };
        assert!(Fixture::new().credentials(&[never]).run(&CHECK).is_empty());
    }

    #[test]
    fn the_command_lists_root_events_since_the_first_use_found() {
        use crate::checks::test_support::command_of;
        let recent = CredRow { password_last_used: "2024-05-20T08:00:00+00:00".into(), ..CredRow::root() };
        let findings = Fixture::new().credentials(&[recent]).run(&CHECK);
        command_of(
            &findings[0],
            &["aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=root --start-time 2024-05-20T00:00:00Z"],
        );
    }
}
