//! `root-access-keys`: the root user with an active access key.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, Severity};

pub const CHECK: Check = Check {
    id: "root-access-keys",
    title: "Root user has an active access key",
    severity: Severity::Critical,
    references: &[],
    remediation: "Not fixable from the CLI by the audit's identity: only the root user manages its keys. Sign in \
                  as root and delete the key on its Security credentials page (the console link), or, with \
                  centralized root access, delete the root credentials from the management account (aws sts \
                  assume-root with the IAMDeleteRootUserCredentials task policy). Move whatever used the key to \
                  an IAM role first.",
    family: Family::RootUser,
    needs: &[Input::RootFacts],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let root = context.account.credential_report.as_ref().and_then(|r| r.root());
    let (keys, source): (Vec<u8>, &str) = match root {
        Some(row) => (row.active_keys().map(|k| k.number).collect(), "credential report"),
        None => match context.account.account_summary.as_ref().and_then(|s| s.root_access_keys_present()) {
            Some(true) => (vec![0], "account summary (AccountAccessKeysPresent)"),
            _ => return Vec::new(),
        },
    };
    if keys.is_empty() {
        return Vec::new();
    }
    let which = if keys == [0] {
        "an access key".to_string()
    } else {
        format!("active access key(s) {}", keys.iter().map(u8::to_string).collect::<Vec<_>>().join(", "))
    };
    vec![context
        .account_finding(&CHECK)
        .title("Root user has an active access key")
        .detail(format!(
            "The {source} shows the root user with {which}: long-lived credentials with every power."
        ))
        .evidence("access_keys", keys.iter().filter(|k| **k > 0).collect::<Vec<_>>())
        .evidence("source", source)
        .console(fix::root_credentials_page(&context.account.account_id.root_arn()))
        .build()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{CredRow, Fixture};

    #[test]
    fn finds_an_active_root_key_not_an_inactive_one() {
        let active = CredRow::root().key(2, true, "2020-01-01T00:00:00+00:00", "N/A");
        let findings = Fixture::new().credentials(&[active]).run(&CHECK);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].evidence.value()["access_keys"], serde_json::json!([2]));
        let inactive = CredRow::root().key(1, false, "2020-01-01T00:00:00+00:00", "N/A");
        assert!(Fixture::new().credentials(&[inactive]).run(&CHECK).is_empty());
    }

    #[test]
    fn a_user_key_is_not_a_root_key() {
        let user = CredRow::user("alice").key(1, true, "2020-01-01T00:00:00+00:00", "N/A");
        assert!(Fixture::new().credentials(&[CredRow::root(), user]).run(&CHECK).is_empty());
    }

    #[test]
    fn the_account_summary_stands_in_for_the_report() {
        assert_eq!(
            Fixture::new().summary(r#"{"SummaryMap":{"AccountAccessKeysPresent":1}}"#).run(&CHECK).len(),
            1
        );
        assert!(Fixture::new()
            .summary(r#"{"SummaryMap":{"AccountAccessKeysPresent":0}}"#)
            .run(&CHECK)
            .is_empty());
    }

    #[test]
    fn no_command_the_audit_identity_could_run_and_the_link_opens_the_security_credentials() {
        let findings = Fixture::new()
            .credentials(&[CredRow::root().key(1, true, "2020-01-01T00:00:00+00:00", "N/A")])
            .run(&CHECK);
        assert_eq!(findings[0].remediation_command, None);
        assert_eq!(
            findings[0].console_url.as_deref(),
            Some("https://console.aws.amazon.com/iam/home#/security_credentials")
        );
        assert!(CHECK.remediation.contains("Not fixable from the CLI by the audit's identity"));
    }
}
