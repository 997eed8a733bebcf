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
        let matching = config.suppressions.iter().filter(|rule| {
            *rule.check.get_ref() == finding.check
                && rule.account.as_deref().is_none_or(|a| a == finding.account_id.as_str())
                && wildcard_match(&rule.resource, &finding.resource_arn)
        });
        // A live rule wins over an expired one for the same finding.
        let mut expired = None;
        for rule in matching {
            let expires_at = rule.expires_at.unwrap_or(DateTime::<Utc>::MIN_UTC);
            let suppression = Suppression {
                reason: rule.reason.clone(),
                expires: rule.expires.get_ref().clone(),
                resource_pattern: rule.resource.clone(),
            };
            if expires_at >= as_of {
                finding.status = Status::Suppressed;
                finding.suppression = Some(suppression);
                expired = None;
                break;
            }
            expired = Some(suppression);
        }
        if let Some(lapsed) = expired {
            finding.evidence.insert(
                "expired_suppression",
                serde_json::json!({"reason": lapsed.reason, "expired": lapsed.expires, "resource_pattern": lapsed.resource_pattern}),
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
            references: vec![],
            status: Status::Open,
            suppression: None,
            first_seen: String::new(),
            change: Change::New,
            default_severity: true,
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
