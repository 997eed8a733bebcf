//! Accepted risks: one summary per `[[suppressions]]` rule of the config, with its owner,
//! ticket, expiry, how many findings it covered this run and whether it is active, expiring
//! within [`EXPIRING_WITHIN_DAYS`] or lapsed. findings.json carries them as
//! `suppression_rules`; report.html shows them as a table (lapsed and expiring ones in a
//! callout at the top) and the digest lists the lapsed and expiring ones.
//!
//! The counts come from [`super::Counts`], which the stream keeps while findings go by: no
//! finding is held for them. Not here: deciding what a rule suppresses (`findings::policy`).

use crate::config::SuppressionRule;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A rule expiring within this many days of the run's `as_of` is flagged.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleStatus {
    /// Applies, and expires more than [`EXPIRING_WITHIN_DAYS`] after `as_of`.
    Active,
    /// Applies, and expires within [`EXPIRING_WITHIN_DAYS`] of `as_of`.
    ExpiringSoon,
    /// Expired: its findings are open again.
    Lapsed,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Active => "active",
            RuleStatus::ExpiringSoon => "expiring-soon",
            RuleStatus::Lapsed => "lapsed",
        }
    }

    /// Judged against `as_of`, the instant suppressions are applied at (a rule that lapsed
    /// by then no longer suppresses anything, so the two never disagree).
    pub fn of(expires_at: DateTime<Utc>, as_of: DateTime<Utc>) -> RuleStatus {
        if expires_at < as_of {
            RuleStatus::Lapsed
        } else if expires_at - as_of <= chrono::Duration::days(EXPIRING_WITHIN_DAYS) {
            RuleStatus::ExpiringSoon
        } else {
            RuleStatus::Active
        }
    }
}

/// One rule as findings.json's `suppression_rules` and the report's table show it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSummary {
    /// The rule's place among the config's `[[suppressions]]`, from 1.
    pub rule: usize,
    pub check: String,
    pub resource_pattern: String,
    /// The account the rule is limited to; None: every account.
    pub account: Option<String>,
    pub reason: String,
    pub owner: Option<String>,
    pub ticket: Option<String>,
    /// As written in the config.
    pub expires: String,
    /// The instant it expires (a date means the end of that day, UTC).
    pub expires_at: String,
    pub status: RuleStatus,
    /// Whole days from `as_of` to the expiry; negative once lapsed.
    pub days_left: i64,
    /// Findings covered this run: suppressed by the rule or, once it lapsed, open again
    /// because of it. 0: the rule matched nothing (a stale rule).
    pub findings: usize,
}

/// ` (owner O, ticket T)`, either part alone, or nothing: who answers for a rule.
pub fn whom(owner: Option<&str>, ticket: Option<&str>) -> String {
    match (owner, ticket) {
        (Some(owner), Some(ticket)) => format!(" (owner {owner}, ticket {ticket})"),
        (Some(owner), None) => format!(" (owner {owner})"),
        (None, Some(ticket)) => format!(" (ticket {ticket})"),
        (None, None) => String::new(),
    }
}

impl RuleSummary {
    /// A rule that lapsed or expires soon: listed at the top of the report and in the digest.
    pub fn needs_attention(&self) -> bool {
        self.status != RuleStatus::Active
    }

    /// One line for the digest and the log.
    pub fn sentence(&self) -> String {
        let whom = whom(self.owner.as_deref(), self.ticket.as_deref());
        let covered = match self.findings {
            0 => "matched no finding this run".to_string(),
            1 => "covers 1 finding".to_string(),
            n => format!("covers {n} findings"),
        };
        let when = match self.status {
            RuleStatus::Lapsed => {
                let open = if self.findings == 0 { covered } else { format!("{covered}, open again") };
                format!("lapsed on {}: {open}", self.expires)
            }
            _ => format!(
                "expires {} (in {} day{}): {covered}",
                self.expires,
                self.days_left,
                if self.days_left == 1 { "" } else { "s" }
            ),
        };
        format!(
            "Rule {} · {} on {}{}{whom} — {}: {when}",
            self.rule,
            self.check,
            self.resource_pattern,
            self.account.as_deref().map(|a| format!(" in {a}")).unwrap_or_default(),
            self.reason
        )
    }
}

/// Every rule of the config, in its order, with the findings it covered (`by_rule`: rule
/// number → findings, as [`super::Counts`] counted them).
pub fn summarise(
    rules: &[SuppressionRule],
    by_rule: &BTreeMap<usize, usize>,
    as_of: DateTime<Utc>,
) -> Vec<RuleSummary> {
    rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            // Config::parse sets expires_at on every rule it accepts.
            let expires_at = rule.expires_at.unwrap_or(DateTime::<Utc>::MIN_UTC);
            RuleSummary {
                rule: index + 1,
                check: rule.check.get_ref().clone(),
                resource_pattern: rule.resource.clone(),
                account: rule.account.clone(),
                reason: rule.reason.clone(),
                owner: rule.owner.clone(),
                ticket: rule.ticket.clone(),
                expires: rule.expires.get_ref().clone(),
                expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                status: RuleStatus::of(expires_at, as_of),
                days_left: (expires_at - as_of).num_days(),
                findings: by_rule.get(&(index + 1)).copied().unwrap_or(0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn thirty_days_is_soon_thirty_one_is_not_and_a_second_past_expiry_is_lapsed() {
        let as_of = at("2026-12-01T00:00:00Z");
        let days = |d: i64| as_of + chrono::Duration::days(d);
        assert_eq!(RuleStatus::of(days(31), as_of), RuleStatus::Active, "31 days is not soon");
        assert_eq!(RuleStatus::of(days(30) + chrono::Duration::seconds(1), as_of), RuleStatus::Active);
        assert_eq!(RuleStatus::of(days(30), as_of), RuleStatus::ExpiringSoon, "exactly 30 days is");
        assert_eq!(RuleStatus::of(as_of, as_of), RuleStatus::ExpiringSoon, "expiring at as_of still applies");
        assert_eq!(RuleStatus::of(as_of - chrono::Duration::seconds(1), as_of), RuleStatus::Lapsed);
    }

    #[test]
    fn counts_per_rule_take_suppressed_findings_and_findings_open_again_under_a_lapsed_rule() {
        use crate::findings::Severity;
        use crate::findings::{Status, Suppression};
        use crate::report::html::tests::finding;
        let suppressed = |rule: Option<usize>| {
            let mut f = finding("admin-access", Severity::High, "a");
            f.status = Status::Suppressed;
            f.suppression = Some(Suppression {
                rule,
                reason: "r".into(),
                expires: "2030-01-01".into(),
                resource_pattern: "*".into(),
                owner: None,
                ticket: None,
            });
            f
        };
        let mut lapsed = finding("admin-access", Severity::High, "b");
        lapsed.lapsed_rule = Some(3);
        let plain = finding("admin-access", Severity::High, "c");
        let findings = [suppressed(Some(1)), suppressed(Some(1)), suppressed(None), lapsed, plain];
        let counts = crate::report::Counts::of(&findings);
        assert_eq!(counts.by_rule, BTreeMap::from([(1, 2), (3, 1)]), "an unnumbered rule counts nowhere");
        assert_eq!((counts.suppressed, counts.open), (3, 2));
    }

    #[test]
    fn every_rule_is_summarised_in_config_order_with_its_count_and_a_stale_rule_shows_zero() {
        let config = Config::parse(
                "[[suppressions]]\ncheck = \"admin-access\"\nresource = \"*break-glass\"\nreason = \"safe\"\n\
                 expires = \"2027-03-31\"\nowner = \"secops\"\nticket = \"SEC-142\"\n\
                 [[suppressions]]\ncheck = \"external-trust\"\nresource = \"*vendor\"\nreason = \"contract\"\n\
                 expires = \"2026-09-30\"\naccount = \"444455556666\"\n\
                 [[suppressions]]\ncheck = \"wide-trust\"\nresource = \"*\"\nreason = \"migration\"\n\
                 expires = \"2026-12-31\"\n",
        )
        .unwrap();
        let by_rule = BTreeMap::from([(1, 3), (2, 1)]);
        let rules = summarise(&config.suppressions, &by_rule, at("2026-12-02T00:00:00Z"));
        let seen: Vec<(usize, RuleStatus, usize, i64)> =
            rules.iter().map(|r| (r.rule, r.status, r.findings, r.days_left)).collect();
        assert_eq!(
            seen,
            vec![
                (1, RuleStatus::Active, 3, 119),
                (2, RuleStatus::Lapsed, 1, -62),
                (3, RuleStatus::ExpiringSoon, 0, 29),
            ]
        );
        assert_eq!(rules[0].expires_at, "2027-03-31T23:59:59Z");
        assert_eq!(
            (rules[0].owner.as_deref(), rules[0].ticket.as_deref()),
            (Some("secops"), Some("SEC-142"))
        );
        assert!(!rules[0].needs_attention() && rules[1].needs_attention() && rules[2].needs_attention());
        assert_eq!(
            rules[1].sentence(),
            "Rule 2 · external-trust on *vendor in 444455556666 — contract: lapsed on 2026-09-30: covers 1 finding, open again"
        );
        assert_eq!(
            rules[2].sentence(),
            "Rule 3 · wide-trust on * — migration: expires 2026-12-31 (in 29 days): matched no finding this run"
        );
        let json = serde_json::to_value(&rules[1]).unwrap();
        assert_eq!(json["status"], "lapsed");
        assert!(json["owner"].is_null(), "an absent owner is null, not left out");
    }
}
