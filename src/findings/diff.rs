//! What changed since the previous run: each finding is `new` or `persisting` (keeping the
//! `first_seen` of its first appearance), and the previous run's findings that are gone are
//! `resolved`.
//!
//! Gone is not the same as fixed: a finding of an account this run could not audit, or of a
//! check that had no input in that account, is unknown now, and is not counted as resolved.

use super::{Change, Finding, Status};
use crate::audit::{CoverageRow, CoverageStatus};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The findings of an earlier run, as its findings.json holds them.
#[derive(Debug, Deserialize)]
pub struct PreviousRun {
    pub run: PreviousRunInfo,
    pub findings: Vec<Finding>,
    /// Its access-roster.csv, read beside findings.json when the run has one.
    #[serde(skip)]
    pub roster: Option<crate::access::roster::PreviousRoster>,
}

#[derive(Debug, Deserialize)]
pub struct PreviousRunInfo {
    pub id: String,
}

impl PreviousRun {
    pub fn load(path: &Path) -> Result<PreviousRun, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a findings.json of this tool: {e}", path.display()))
    }
}

/// Marks `current` against `previous` and returns the resolved findings.
pub fn compare(current: &mut [Finding], coverage: &[CoverageRow], previous: PreviousRun) -> Vec<Finding> {
    let before: HashMap<&str, &Finding> =
        previous.findings.iter().map(|f| (f.fingerprint.as_str(), f)).collect();
    for finding in current.iter_mut() {
        let Some(earlier) = before.get(finding.fingerprint.as_str()) else {
            finding.change = Change::New;
            continue;
        };
        finding.first_seen = earlier.first_seen.clone();
        // An accepted risk whose suppression lapsed is news to the reader, however old.
        let lapsed = earlier.status == Status::Suppressed && finding.status == Status::Open;
        finding.change = if lapsed { Change::New } else { Change::Persisting };
    }
    let now: HashSet<&str> = current.iter().map(|f| f.fingerprint.as_str()).collect();
    let judged = |finding: &Finding| {
        coverage.iter().any(|row| {
            row.account_id == finding.account_id.as_str()
                && row.status == CoverageStatus::Audited
                && !row.checks_without_input.iter().any(|c| *c == finding.check)
        })
    };
    previous.findings.iter().filter(|f| !now.contains(f.fingerprint.as_str()) && judged(f)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Evidence, ResourceType, Severity};
    use crate::identifiers::AccountId;

    fn finding(fingerprint: &str, check: &str, account: &str, first_seen: &str) -> Finding {
        Finding {
            fingerprint: fingerprint.into(),
            check: check.to_string().into(),
            severity: Severity::High,
            account_id: AccountId::parse(account).unwrap(),
            account_name: String::new(),
            resource_type: ResourceType::User,
            resource_arn: format!("arn:aws:iam::{account}:user/{fingerprint}"),
            resource_name: fingerprint.into(),
            title: String::new(),
            detail: String::new(),
            evidence: Evidence::from_map(Default::default()),
            remediation: "".into(),
            references: vec![],
            status: Status::Open,
            suppression: None,
            first_seen: first_seen.into(),
            change: Change::New,
            default_severity: true,
        }
    }

    fn row(account: &str, status: CoverageStatus, without_input: &[&str]) -> CoverageRow {
        CoverageRow {
            account_id: account.into(),
            account_name: String::new(),
            status,
            error: None,
            hint: None,
            attempts: None,
            checks_without_input: without_input.iter().map(|c| c.to_string()).collect(),
            problems: vec![],
            notes: vec![],
            inventory: None,
            api_calls: None,
        }
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn new_persisting_and_resolved_with_first_seen_kept() {
        let previous = PreviousRun {
            run: PreviousRunInfo { id: "r1".into() },
            findings: vec![
                finding("kept", "console-without-mfa", A, "2026-01-01T00:00:00Z"),
                finding("fixed", "console-without-mfa", A, "2026-01-01T00:00:00Z"),
            ],
            roster: None,
        };
        let mut current = vec![
            finding("kept", "console-without-mfa", A, "2026-02-01T00:00:00Z"),
            finding("fresh", "console-without-mfa", A, "2026-02-01T00:00:00Z"),
        ];
        let resolved = compare(&mut current, &[row(A, CoverageStatus::Audited, &[])], previous);
        assert_eq!(current[0].change, Change::Persisting);
        assert_eq!(current[0].first_seen, "2026-01-01T00:00:00Z");
        assert_eq!(current[1].change, Change::New);
        assert_eq!(current[1].first_seen, "2026-02-01T00:00:00Z");
        assert_eq!(resolved.iter().map(|f| f.fingerprint.as_str()).collect::<Vec<_>>(), vec!["fixed"]);
    }

    #[test]
    fn findings_of_unaudited_accounts_or_checks_without_input_are_not_resolved() {
        let previous = PreviousRun {
            run: PreviousRunInfo { id: "r1".into() },
            findings: vec![
                finding("in-failed-account", "console-without-mfa", B, "t"),
                finding("check-had-no-input", "console-without-mfa", A, "t"),
                finding("really-fixed", "admin-access", A, "t"),
            ],
            roster: None,
        };
        let coverage =
            [row(A, CoverageStatus::Audited, &["console-without-mfa"]), row(B, CoverageStatus::Failed, &[])];
        let resolved = compare(&mut [], &coverage, previous);
        assert_eq!(resolved.iter().map(|f| f.fingerprint.as_str()).collect::<Vec<_>>(), vec!["really-fixed"]);
    }

    #[test]
    fn a_lapsed_suppression_is_new_again() {
        let mut earlier = finding("risk", "admin-access", A, "2025-01-01T00:00:00Z");
        earlier.status = Status::Suppressed;
        let previous =
            PreviousRun { run: PreviousRunInfo { id: "r1".into() }, findings: vec![earlier], roster: None };
        let mut current = vec![finding("risk", "admin-access", A, "2026-02-01T00:00:00Z")];
        compare(&mut current, &[row(A, CoverageStatus::Audited, &[])], previous);
        assert_eq!(current[0].change, Change::New);
        assert_eq!(current[0].first_seen, "2025-01-01T00:00:00Z", "first seen long ago, new to the reader");
    }
}
