//! The CIS AWS Foundations Benchmark section-1 control matrix: each item's status in one
//! account (the account pages), and per item how many accounts pass, fail, … (report.html).
//!
//! An item is judged by the checks that map to it (`checks::compliance`, the same mapping as
//! the findings' `references`), from what the stream counts per account ([`Tally`]: for each
//! item, whether an open or a suppressed finding concerns it), the account's coverage and the
//! checks the configuration disabled (DESIGN.md "CIS section 1 matrix"):
//! - **manual**: no check of this tool judges the item; a person checks it;
//! - **fail**: an open finding concerns it (the account page links the checks' findings);
//! - **accepted risk**: only suppressed findings concern it. Not a pass: the item fails, and
//!   a `[[suppressions]]` rule accepts every failing finding;
//! - **not collected**: the account was skipped or not fully audited (a gap never looks
//!   clean), or none of the item's checks ran there (no input, or disabled);
//! - **pass**: a check of the item ran there and found nothing.
//!
//! Item titles are v5.0.0's, as public listings of the benchmark give them; the numbering is
//! v5.0.0's with v3.0.0's beside it (v5.0.0 dropped v3.0.0's 1.3, so later items moved up by
//! one; `compliance.rs` has where the mapped numbers were confirmed).

use crate::audit::{CoverageRow, CoverageStatus};
use crate::checks::compliance::{self, Standard};
use crate::findings::{Finding, Status as FindingStatus};
use serde::{Deserialize, Serialize};

/// One recommendation of section 1.
#[derive(Debug, Serialize)]
pub struct Item {
    /// Its number in v5.0.0; None for v3.0.0's 1.3, which v5.0.0 dropped.
    pub v5: Option<&'static str>,
    pub v3: &'static str,
    pub title: &'static str,
}

const fn item(v5: Option<&'static str>, v3: &'static str, title: &'static str) -> Item {
    Item { v5, v3, title }
}

/// Section 1 (Identity and Access Management), in v5.0.0's order, v3.0.0's 1.3 in its place.
#[rustfmt::skip]
pub const ITEMS: &[Item] = &[
    item(Some("1.1"), "1.1", "Maintain current contact details"),
    item(Some("1.2"), "1.2", "Ensure security contact information is registered"),
    item(None, "1.3", "Ensure security questions are registered in the AWS account (v3.0.0 only)"),
    item(Some("1.3"), "1.4", "Ensure no 'root' user account access key exists"),
    item(Some("1.4"), "1.5", "Ensure MFA is enabled for the 'root' user account"),
    item(Some("1.5"), "1.6", "Ensure hardware MFA is enabled for the 'root' user account"),
    item(Some("1.6"), "1.7", "Eliminate use of the 'root' user for administrative and daily tasks"),
    item(Some("1.7"), "1.8", "Ensure IAM password policy requires minimum length of 14 or greater"),
    item(Some("1.8"), "1.9", "Ensure IAM password policy prevents password reuse"),
    item(Some("1.9"), "1.10", "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password"),
    item(Some("1.10"), "1.11", "Do not create access keys during initial setup for IAM users with a console password"),
    item(Some("1.11"), "1.12", "Ensure credentials unused for 45 days or more are disabled"),
    item(Some("1.12"), "1.13", "Ensure there is only one active access key for any single IAM user"),
    item(Some("1.13"), "1.14", "Ensure access keys are rotated every 90 days or less"),
    item(Some("1.14"), "1.15", "Ensure IAM users receive permissions only through groups"),
    item(Some("1.15"), "1.16", "Ensure IAM policies that allow full *:* administrative privileges are not attached"),
    item(Some("1.16"), "1.17", "Ensure a support role has been created to manage incidents with AWS Support"),
    item(Some("1.17"), "1.18", "Ensure IAM instance roles are used for AWS resource access from instances"),
    item(Some("1.18"), "1.19", "Ensure that all expired SSL/TLS certificates stored in AWS IAM are removed"),
    item(Some("1.19"), "1.20", "Ensure that IAM External Access Analyzer is enabled for all regions"),
    item(Some("1.20"), "1.21", "Ensure IAM users are managed centrally via identity federation or AWS Organizations for multi-account environments"),
    item(Some("1.21"), "1.22", "Ensure access to AWSCloudShellFullAccess is restricted"),
];

impl Item {
    /// The checks that judge the item: those mapped to its v3.0.0 number (every mapped check
    /// names both versions). Empty for a manual item.
    pub fn checks(&self) -> impl Iterator<Item = &'static str> + '_ {
        crate::checks::CATALOG
            .iter()
            .map(|c| c.id)
            .filter(|id| compliance::of(id).iter().any(|c| c.standard == Standard::CisV3 && c.id == self.v3))
    }

    /// A fragment id for the item's row on an account page: `cis-1-9` (v5.0.0's number), or
    /// `cis-v3-1-3` for the item v5.0.0 dropped.
    pub fn anchor(&self) -> String {
        match self.v5 {
            Some(v5) => format!("cis-{}", v5.replace('.', "-")),
            None => format!("cis-v3-{}", self.v3.replace('.', "-")),
        }
    }

    /// Whether `finding` (of a check mapped to the item) concerns it. A weak password policy
    /// concerns v5.0.0 1.7 only when the length falls short, 1.8 only when reuse prevention
    /// does (or when there is no policy); its other shortcomings are no item of v5.0.0.
    fn concerns(&self, finding: &Finding) -> bool {
        if finding.check != "password-policy-weak" {
            return true;
        }
        let wanted = match self.v3 {
            "1.8" => "minimum length",
            "1.9" => "reuse prevention",
            _ => return true,
        };
        let evidence = finding.evidence.value();
        evidence["shortcomings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str())
            .any(|s| s.starts_with(wanted) || s == "no password policy")
    }
}

/// For one account, which items an open finding concerns and which a suppressed one does: a
/// bit per item of [`ITEMS`]. What the stream keeps per account for the matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    open: u32,
    suppressed: u32,
}

impl Tally {
    pub fn add(&mut self, finding: &Finding) {
        let controls = compliance::of(&finding.check);
        if controls.is_empty() {
            return;
        }
        for (i, item) in ITEMS.iter().enumerate() {
            let mapped = controls.iter().any(|c| c.standard == Standard::CisV3 && c.id == item.v3);
            if !mapped || !item.concerns(finding) {
                continue;
            }
            match finding.status {
                FindingStatus::Open => self.open |= 1 << i,
                FindingStatus::Suppressed => self.suppressed |= 1 << i,
            }
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.open |= other.open;
        self.suppressed |= other.suppressed;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    Accepted,
    NotCollected,
    Manual,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Accepted => "accepted risk",
            Status::NotCollected => "not collected",
            Status::Manual => "manual",
        }
    }
}

/// One item's status in one account, and why.
#[derive(Debug, Serialize)]
pub struct Judged {
    pub status: Status,
    pub why: String,
}

/// Item `index` of [`ITEMS`] in the account of `coverage`, from its [`Tally`] and the checks
/// the configuration disabled.
pub fn judge(index: usize, tally: Tally, coverage: &CoverageRow, disabled: &[String]) -> Judged {
    let item = &ITEMS[index];
    let checks: Vec<&str> = item.checks().collect();
    let judged = |status, why: String| Judged { status, why };
    if checks.is_empty() {
        return judged(Status::Manual, "no check of iam-auditor judges it: check it by hand".into());
    }
    if coverage.status == CoverageStatus::Skipped {
        return judged(Status::NotCollected, "the account was skipped".into());
    }
    if tally.open & (1 << index) != 0 {
        return judged(Status::Fail, format!("open findings of {}", checks.join(", ")));
    }
    if tally.suppressed & (1 << index) != 0 {
        return judged(Status::Accepted, "every finding is suppressed by an accepted-risk rule".into());
    }
    if coverage.status != CoverageStatus::Audited {
        return judged(Status::NotCollected, "the account was not fully audited".into());
    }
    let ran: Vec<&str> = checks
        .iter()
        .copied()
        .filter(|id| {
            !disabled.iter().any(|d| d == id) && !coverage.checks_without_input.iter().any(|c| c == id)
        })
        .collect();
    if ran.is_empty() {
        return judged(
            Status::NotCollected,
            format!("{} did not run here (no input, or disabled)", checks.join(", ")),
        );
    }
    judged(Status::Pass, format!("{} ran and found nothing", ran.join(", ")))
}

/// Per item, how many accounts have each status: report.html's roll-up.
#[derive(Debug, Serialize)]
pub struct Rollup<'a> {
    pub item: &'a Item,
    pub anchor: String,
    pub manual: bool,
    pub pass: usize,
    pub fail: usize,
    pub accepted: usize,
    pub not_collected: usize,
    /// The first failing accounts (at most [`FAILING_NAMED`]), to follow to their pages.
    pub failing: Vec<&'a str>,
    /// Failing accounts past those.
    pub failing_more: usize,
}

/// Failing accounts named per item in the roll-up.
pub const FAILING_NAMED: usize = 5;

pub fn rollup<'a>(
    coverage: &'a [CoverageRow],
    tally_of: impl Fn(&str) -> Tally,
    disabled: &[String],
) -> Vec<Rollup<'a>> {
    let tallies: Vec<Tally> = coverage.iter().map(|c| tally_of(&c.account_id)).collect();
    ITEMS
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let mut row = Rollup {
                item,
                anchor: item.anchor(),
                manual: item.checks().next().is_none(),
                pass: 0,
                fail: 0,
                accepted: 0,
                not_collected: 0,
                failing: Vec::new(),
                failing_more: 0,
            };
            if row.manual {
                return row;
            }
            for (account, tally) in coverage.iter().zip(&tallies) {
                match judge(index, *tally, account, disabled).status {
                    Status::Pass => row.pass += 1,
                    Status::Fail => {
                        row.fail += 1;
                        if row.failing.len() < FAILING_NAMED {
                            row.failing.push(&account.account_id);
                        }
                    }
                    Status::Accepted => row.accepted += 1,
                    Status::NotCollected | Status::Manual => row.not_collected += 1,
                }
            }
            row.failing_more = row.fail - row.failing.len();
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::report::html::tests::{coverage, evidence, finding};

    fn index(v5: &str) -> usize {
        ITEMS.iter().position(|i| i.v5 == Some(v5)).unwrap()
    }

    fn audited() -> CoverageRow {
        let mut row = coverage("111122223333", "prod", CoverageStatus::Audited, None);
        row.checks_without_input.clear();
        row
    }

    fn status(v5: &str, findings: &[Finding], row: &CoverageRow, disabled: &[String]) -> Status {
        let mut tally = Tally::default();
        findings.iter().for_each(|f| tally.add(f));
        judge(index(v5), tally, row, disabled).status
    }

    #[test]
    fn items_follow_v5_numbering_with_v3_beside_and_every_mapped_check_has_its_item() {
        let v5: Vec<&str> = ITEMS.iter().filter_map(|i| i.v5).collect();
        assert_eq!(v5.len(), 21);
        for (n, id) in v5.iter().enumerate() {
            assert_eq!(*id, format!("1.{}", n + 1));
        }
        // v5.0.0 dropped v3.0.0's 1.3: the items after it moved up by one.
        for item in ITEMS.iter().filter(|i| i.v5.is_some()) {
            let number = |id: &str| id.trim_start_matches("1.").parse::<u32>().unwrap();
            let (v3, v5) = (number(item.v3), number(item.v5.unwrap()));
            assert_eq!(v3, if v5 <= 2 { v5 } else { v5 + 1 }, "{v5}");
        }
        // Every benchmark number of the compliance table is an item here, on both versions.
        for check in crate::checks::CATALOG {
            for control in compliance::of(check.id).iter().filter(|c| c.standard != Standard::SecurityHub) {
                let found = ITEMS.iter().any(|i| match control.standard {
                    Standard::CisV3 => i.v3 == control.id,
                    _ => i.v5 == Some(control.id),
                });
                assert!(found, "{}: {control:?}", check.id);
            }
        }
        assert_eq!(
            ITEMS[index("1.15")].checks().collect::<Vec<_>>(),
            ["admin-access", "sso-admin-assignment", "full-admin-policy"]
        );
        let anchors: std::collections::BTreeSet<String> = ITEMS.iter().map(Item::anchor).collect();
        assert_eq!(anchors.len(), ITEMS.len(), "one row anchor per item");
    }

    #[test]
    fn an_open_finding_fails_its_item_and_a_quiet_check_passes_it() {
        let row = audited();
        let open = finding("console-without-mfa", Severity::High, "bob");
        assert_eq!(status("1.9", std::slice::from_ref(&open), &row, &[]), Status::Fail);
        assert_eq!(status("1.13", &[open], &row, &[]), Status::Pass);
    }

    #[test]
    fn items_no_check_judges_are_manual_everywhere() {
        let skipped = coverage("222233334444", "old", CoverageStatus::Skipped, Some("suspended"));
        for v5 in ["1.1", "1.2", "1.5", "1.10", "1.16", "1.17", "1.18", "1.20", "1.21"] {
            assert_eq!(status(v5, &[], &audited(), &[]), Status::Manual, "{v5}");
            assert_eq!(status(v5, &[], &skipped, &[]), Status::Manual, "{v5}");
        }
    }

    #[test]
    fn no_input_a_disabled_check_or_an_account_not_audited_is_not_collected() {
        let mut row = audited();
        row.checks_without_input = vec!["console-without-mfa".into()];
        assert_eq!(status("1.9", &[], &row, &[]), Status::NotCollected);
        assert_eq!(status("1.9", &[], &audited(), &["console-without-mfa".into()]), Status::NotCollected);
        // One check of 1.11 without input, the other ran: judged by the one that ran.
        let mut row = audited();
        row.checks_without_input = vec!["unused-user".into()];
        assert_eq!(status("1.11", &[], &row, &[]), Status::Pass);
        // A failed account: what fails still fails, but nothing passes.
        let failed = coverage("555566667777", "r&d", CoverageStatus::Failed, Some("AccessDenied"));
        assert_eq!(status("1.13", &[], &failed, &[]), Status::NotCollected);
        let open = finding("stale-access-key", Severity::Medium, "old");
        assert_eq!(status("1.13", &[open], &failed, &[]), Status::Fail);
        let skipped = coverage("222233334444", "old", CoverageStatus::Skipped, Some("suspended"));
        assert_eq!(status("1.13", &[], &skipped, &[]), Status::NotCollected);
    }

    #[test]
    fn suppressed_only_is_an_accepted_risk_and_an_open_one_beside_it_fails() {
        let mut accepted = finding("admin-access", Severity::High, "break-glass");
        accepted.status = FindingStatus::Suppressed;
        assert_eq!(status("1.15", std::slice::from_ref(&accepted), &audited(), &[]), Status::Accepted);
        let open = finding("full-admin-policy", Severity::High, "AllAccess");
        assert_eq!(status("1.15", &[accepted, open], &audited(), &[]), Status::Fail);
    }

    #[test]
    fn a_weak_password_policy_fails_only_the_items_its_shortcomings_concern() {
        let weak = |shortcomings: serde_json::Value| {
            let mut f = finding("password-policy-weak", Severity::Medium, "account");
            f.evidence = evidence(serde_json::json!({ "shortcomings": shortcomings }));
            f
        };
        let short = weak(serde_json::json!(["minimum length 8 < 14"]));
        assert_eq!(status("1.7", std::slice::from_ref(&short), &audited(), &[]), Status::Fail);
        assert_eq!(status("1.8", &[short], &audited(), &[]), Status::Pass);
        let symbols = weak(serde_json::json!(["does not require symbols"]));
        assert_eq!(status("1.7", std::slice::from_ref(&symbols), &audited(), &[]), Status::Pass);
        let none = weak(serde_json::json!(["no password policy"]));
        assert_eq!(status("1.8", &[none], &audited(), &[]), Status::Fail);
    }

    #[test]
    fn the_rollup_counts_accounts_per_status_and_names_the_first_failing() {
        let mut rows =
            vec![audited(), coverage("555566667777", "r&d", CoverageStatus::Failed, Some("AccessDenied"))];
        let failing: Vec<String> = (0..7).map(|n| format!("44445555666{n}")).collect();
        rows.extend(failing.iter().map(|id| CoverageRow { account_id: id.clone(), ..audited() }));
        let mut prod = Tally::default();
        prod.add(&finding("console-without-mfa", Severity::High, "bob"));
        let tally_of = |id: &str| if id.starts_with("4444") { prod } else { Tally::default() };
        let rollup = rollup(&rows, tally_of, &[]);
        let mfa = rollup.iter().find(|r| r.item.v5 == Some("1.9")).unwrap();
        assert_eq!((mfa.pass, mfa.fail, mfa.accepted, mfa.not_collected), (1, 7, 0, 1));
        assert_eq!(mfa.failing, failing[..FAILING_NAMED]);
        assert_eq!(mfa.failing_more, 2);
        let contact = rollup.iter().find(|r| r.item.v5 == Some("1.1")).unwrap();
        assert!(contact.manual && contact.pass + contact.fail + contact.not_collected == 0);
    }
}
