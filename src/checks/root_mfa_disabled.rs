//! `root-mfa-disabled`: the root user without MFA. An account whose root credentials were
//! removed (centralized root access) has nothing to protect and is compliant.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, Severity};
use crate::snapshot::credential_report::Reported;

pub const CHECK: Check = Check {
    id: "root-mfa-disabled",
    title: "Root user has no MFA",
    severity: Severity::Critical,
    references: &[],
    remediation: "Not fixable from the CLI by the audit's identity: only the root user registers its MFA. Sign in \
                  as root and register an MFA device (hardware preferred) on its Security credentials page (the \
                  console link), or remove the root credentials with centralized root access (aws iam \
                  enable-organizations-root-credentials-management, then aws sts assume-root and aws iam \
                  delete-login-profile).",
    family: Family::RootUser,
    needs: &[Input::RootFacts],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let root = context.account.credential_report.as_ref().and_then(|r| r.root());
    let summary = context.account.account_summary.as_ref();
    // The credential report writes `not_supported` for the root password, so only the
    // account summary can tell that the password is gone (centralized root access).
    let summary_says_no_credentials = summary.is_some_and(|s| {
        s.root_password_present() == Some(false) && s.root_access_keys_present() != Some(true)
    });
    let (mfa, source) = match root {
        Some(row) => {
            let no_password = row.password_enabled == Reported::Value(false) || summary_says_no_credentials;
            if no_password && row.active_keys().next().is_none() {
                return Vec::new();
            }
            (row.mfa_active, "credential report")
        }
        None if summary_says_no_credentials => return Vec::new(),
        None => match summary.and_then(|s| s.root_mfa_enabled()) {
            Some(mfa) => (mfa, "account summary (AccountMFAEnabled)"),
            None => return Vec::new(),
        },
    };
    if mfa {
        return Vec::new();
    }
    vec![context
        .account_finding(&CHECK)
        .title("Root user has no MFA device")
        .detail(format!("The {source} shows no MFA device on the root user."))
        .evidence("source", source)
        .console(fix::root_credentials_page(&context.account.account_id.root_arn()))
        .build()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{CredRow, Fixture};

    #[test]
    fn finds_root_without_mfa() {
        let fixture = Fixture::new().credentials(&[CredRow { mfa: false, ..CredRow::root() }]);
        let findings = fixture.run(&CHECK);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].resource_arn, "arn:aws:iam::111122223333:root");
    }

    #[test]
    fn root_with_mfa_or_without_credentials_is_fine() {
        assert!(Fixture::new().credentials(&[CredRow::root()]).run(&CHECK).is_empty());
        let removed = CredRow { mfa: false, password_enabled: "false".into(), ..CredRow::root() };
        assert!(Fixture::new().credentials(&[removed]).run(&CHECK).is_empty());
    }

    #[test]
    fn root_credentials_removed_under_centralized_root_access_are_compliant() {
        // The report says `not_supported` for the root password; the summary says it is gone.
        let no_mfa = CredRow { mfa: false, ..CredRow::root() };
        let removed = r#"{"SummaryMap":{"AccountMFAEnabled":0,"AccountPasswordPresent":0,"AccountAccessKeysPresent":0}}"#;
        assert!(Fixture::new()
            .credentials(std::slice::from_ref(&no_mfa))
            .summary(removed)
            .run(&CHECK)
            .is_empty());
        assert!(Fixture::new().summary(removed).run(&CHECK).is_empty());
        let present = r#"{"SummaryMap":{"AccountMFAEnabled":0,"AccountPasswordPresent":1,"AccountAccessKeysPresent":0}}"#;
        assert_eq!(Fixture::new().credentials(&[no_mfa]).summary(present).run(&CHECK).len(), 1);
    }

    #[test]
    fn the_account_summary_stands_in_for_the_report() {
        assert_eq!(Fixture::new().summary(r#"{"SummaryMap":{"AccountMFAEnabled":0}}"#).run(&CHECK).len(), 1);
        assert!(Fixture::new().summary(r#"{"SummaryMap":{"AccountMFAEnabled":1}}"#).run(&CHECK).is_empty());
    }

    #[test]
    fn no_command_the_audit_identity_could_run_and_the_link_opens_the_security_credentials() {
        let findings = Fixture::new().credentials(&[CredRow { mfa: false, ..CredRow::root() }]).run(&CHECK);
        assert_eq!(findings[0].remediation_command, None);
        assert_eq!(
            findings[0].console_url.as_deref(),
            Some("https://console.aws.amazon.com/iam/home#/security_credentials")
        );
        assert!(CHECK.remediation.contains("Not fixable from the CLI by the audit's identity"));
    }
}
