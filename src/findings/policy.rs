//! What the config says about findings: severity overrides and suppressions.
//!
//! A suppressed finding is not hidden: it keeps its place in findings.json and gets its own
//! section in the report. A suppression past its expiry no longer applies, and the finding
//! says so, so that an auditor sees an accepted risk lapse.

use super::{Finding, Status, Suppression};
use crate::config::Config;
use crate::policy::pattern::wildcard_match;
use chrono::{DateTime, Utc};

pub fn apply(config: &Config, as_of: DateTime<Utc>, findings: &mut [Finding]) {
    for finding in findings.iter_mut() {
        if finding.default_severity {
            if let Some(severity) = config.checks.severity.get(finding.check.as_ref()) {
                finding.severity = *severity;
            }
        }
        let matching = config.suppressions.iter().enumerate().filter(|(_, rule)| {
            *rule.check.get_ref() == finding.check
                && rule.account.as_deref().is_none_or(|a| a == finding.account_id.as_str())
                && wildcard_match(&rule.resource, &finding.resource_arn)
        });
        // A live rule wins over an expired one for the same finding.
        let mut expired = None;
        for (index, rule) in matching {
            let expires_at = rule.expires_at.unwrap_or(DateTime::<Utc>::MIN_UTC);
            let suppression = Suppression {
                rule: Some(index + 1),
                reason: rule.reason.clone(),
                expires: rule.expires.get_ref().clone(),
                resource_pattern: rule.resource.clone(),
                owner: rule.owner.clone(),
                ticket: rule.ticket.clone(),
            };
            if expires_at >= as_of {
                finding.status = Status::Suppressed;
                finding.suppression = Some(suppression);
                expired = None;
                break;
            }
            expired = Some(suppression);
        }
        finding.lapsed_rule = expired.as_ref().and_then(|lapsed| lapsed.rule);
        if let Some(lapsed) = expired {
            finding.evidence.insert(
                "expired_suppression",
                serde_json::json!({
                    "rule": lapsed.rule,
                    "reason": lapsed.reason,
                    "expired": lapsed.expires,
                    "resource_pattern": lapsed.resource_pattern,
                    "owner": lapsed.owner,
                    "ticket": lapsed.ticket,
                }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Change, ResourceType, Severity};
    use crate::identifiers::AccountId;

    fn finding(check: &str, arn: &str) -> Finding {
        Finding {
            fingerprint: String::new(),
            check: check.to_string().into(),
            severity: Severity::High,
            account_id: AccountId::parse("111122223333").unwrap(),
            account_name: String::new(),
            resource_type: ResourceType::Role,
            resource_arn: arn.into(),
            resource_name: String::new(),
            title: String::new(),
            detail: String::new(),
            evidence: crate::findings::Evidence::from_map(Default::default()),
            remediation: "".into(),
            remediation_command: None,
            console_url: None,
            references: vec![],
            status: Status::Open,
            suppression: None,
            first_seen: String::new(),
            change: Change::New,
            default_severity: true,
            lapsed_rule: None,
        }
    }

    fn config(text: &str) -> Config {
        Config::parse(text).unwrap()
    }

    #[test]
    fn suppression_until_expiry_then_open_again() {
        let config = config(
            "[[suppressions]]\ncheck = \"admin-access\"\nresource = \"arn:aws:iam::*:role/break-glass\"\nreason = \"approved\"\nexpires = \"2024-06-30\"\n",
        );
        let arn = "arn:aws:iam::111122223333:role/break-glass";
        let mut before =
            [finding("admin-access", arn), finding("admin-access", "arn:aws:iam::111122223333:role/other")];
        apply(&config, "2024-06-01T00:00:00Z".parse().unwrap(), &mut before);
        assert_eq!(before[0].status, Status::Suppressed);
        assert_eq!(before[0].suppression.as_ref().unwrap().reason, "approved");
        assert_eq!(before[1].status, Status::Open, "the pattern names one role");

        let mut after = [finding("admin-access", arn)];
        apply(&config, "2024-07-01T00:00:00Z".parse().unwrap(), &mut after);
        assert_eq!(after[0].status, Status::Open);
        assert_eq!(after[0].evidence.value()["expired_suppression"]["reason"], "approved");
        assert_eq!(after[0].evidence.value()["expired_suppression"]["rule"], 1);
        assert_eq!(after[0].lapsed_rule, Some(1), "counted against the lapsed rule");
        assert_eq!(before[0].lapsed_rule, None);
    }

    #[test]
    fn a_suppression_names_its_rule_owner_and_ticket_and_a_live_rule_wins_over_a_lapsed_one() {
        let config = config(
            "[[suppressions]]\ncheck = \"admin-access\"\nresource = \"*\"\nreason = \"old\"\nexpires = \"2024-01-01\"\n\
             [[suppressions]]\ncheck = \"admin-access\"\nresource = \"*break-glass\"\nreason = \"new\"\nexpires = \"2025-01-01\"\n\
             owner = \"security team\"\nticket = \"SEC-142\"\n",
        );
        let mut findings = [
            finding("admin-access", "arn:aws:iam::111122223333:role/break-glass"),
            finding("admin-access", "arn:aws:iam::111122223333:role/other"),
        ];
        apply(&config, "2024-06-01T00:00:00Z".parse().unwrap(), &mut findings);
        let live = findings[0].suppression.as_ref().expect("suppressed by the live rule");
        assert_eq!(
            (live.rule, live.owner.as_deref(), live.ticket.as_deref()),
            (Some(2), Some("security team"), Some("SEC-142"))
        );
        assert_eq!(findings[0].lapsed_rule, None, "the live rule wins");
        assert!(findings[0].evidence.value().get("expired_suppression").is_none());
        assert_eq!(findings[1].status, Status::Open);
        assert_eq!(findings[1].lapsed_rule, Some(1));
        assert_eq!(findings[1].evidence.value()["expired_suppression"]["owner"], serde_json::Value::Null);
    }

    #[test]
    fn severity_override_replaces_only_the_default() {
        let config = config("[checks.severity]\n\"admin-access\" = \"critical\"\n");
        let mut findings = [finding("admin-access", "a"), finding("admin-access", "b")];
        findings[1].default_severity = false;
        findings[1].severity = Severity::Info;
        apply(&config, Utc::now(), &mut findings);
        assert_eq!(findings[0].severity, Severity::Critical);
        assert_eq!(findings[1].severity, Severity::Info, "a capped admin stays info");
    }

    #[test]
    fn a_rule_for_another_account_does_not_apply() {
        let config = config(
            "[[suppressions]]\ncheck = \"admin-access\"\nresource = \"*\"\nreason = \"r\"\nexpires = \"2999-01-01\"\naccount = \"999999999999\"\n",
        );
        let mut findings = [finding("admin-access", "a")];
        apply(&config, Utc::now(), &mut findings);
        assert_eq!(findings[0].status, Status::Open);
    }
}
