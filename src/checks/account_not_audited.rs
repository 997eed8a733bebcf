//! `account-not-audited`: an account the run could not (fully) audit — the coverage gap,
//! reported as a finding so it cannot be missed in a findings list.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, Severity};

pub const CHECK: Check = Check {
    id: "account-not-audited",
    title: "Account could not be audited",
    severity: Severity::High,
    references: &[],
    remediation:
        "Fix the cause named in the finding: deploy the audit role to the account (see `iam-auditor \
                  audit-policy`; when the role could not be assumed, the finding's command tries it with aws sts \
                  assume-role and prints only the session's ARN) or re-collect the damaged snapshot file, then \
                  run again.",
    family: Family::Coverage,
    needs: &[Input::CollectionStatus],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(failure) = &context.failure else { return Vec::new() };
    let mut finding = context
        .account_finding(&CHECK)
        .title(format!("Account {} was not fully audited", context.account.account_id))
        .detail(failure.clone())
        .evidence("reason", failure);
    // The advice follows the cause: the collector's hint (a passing fault says "run again",
    // a denied AssumeRole says which role to deploy), or, for a damaged or missing snapshot
    // file, re-collecting it.
    match &context.account.collection_error {
        Some(error) => {
            if let Some(hint) = &error.hint {
                finding = finding.remediation(hint.clone()).evidence("hint", hint);
            }
            if let Some(attempts) = error.attempts {
                finding = finding.evidence("attempts", attempts);
            }
            if !error.faults.is_empty() {
                finding = finding.evidence("faults", &error.faults);
            }
            if error.stage.to_ascii_lowercase().replace('-', "").contains("assumerole") {
                finding = finding.command_if(try_assume_role(context));
            }
        }
        None => {
            finding = finding.remediation(
                "Re-collect this account's snapshot files (iam-auditor collect, or the aws iam \
                 commands in the README's \"Making a snapshot with the AWS CLI\") and run again; the \
                 finding names the file and position that could not be read.",
            );
        }
    }
    vec![finding.build()]
}

/// `aws sts assume-role` into the account's audit role, printing the session's ARN (not its
/// credentials): run with the audit's own identity, it shows whether the role lets it in now.
fn try_assume_role(context: &AccountContext) -> Option<String> {
    let role = context.audit_role()?;
    let root = context.account.account_id.root_arn();
    let role_arn = format!("{}role/{role}", root.strip_suffix("root")?);
    Some(
        fix::Command::aws("sts assume-role")
            .arg("--role-arn", &role_arn)
            .raw("--role-session-name iam-auditor-check --query AssumedRoleUser.Arn --output text")
            .text(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::Fixture;

    #[test]
    fn reports_the_failure_and_nothing_when_audited() {
        assert!(Fixture::new().run(&CHECK).is_empty());
        let mut fixture = Fixture::new();
        fixture.failure = Some("AssumeRole failed: AccessDenied".into());
        let findings = fixture.run(&CHECK);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].detail.contains("AccessDenied"));
        assert!(findings[0].remediation.contains("Re-collect"), "no error.json: a snapshot file was bad");
    }

    /// An account whose collection failed at `stage` with `code`, and the collector's error.json.
    fn failed(stage: &str, code: &str, hint: Option<&str>, faults: &[&str]) -> Fixture {
        let mut fixture = Fixture::new();
        fixture.failure = Some(format!("collection failed: {stage} failed: {code}"));
        fixture.account.collection_error = Some(crate::snapshot::CollectionError {
            stage: stage.into(),
            code: code.into(),
            message: "try later".into(),
            hint: hint.map(str::to_string),
            attempts: Some(faults.len() as u32),
            faults: faults.iter().map(|f| f.to_string()).collect(),
        });
        fixture
    }

    #[test]
    fn the_advice_follows_the_collectors_hint() {
        let hint = "AWS was unavailable for this call through 3 attempts; run again later";
        let fixture = failed("sts:AssumeRole", "ServiceUnavailable", Some(hint), &["ServiceUnavailable"; 3]);
        let findings = fixture.run(&CHECK);
        assert_eq!(
            findings[0].remediation,
            "AWS was unavailable for this call through 3 attempts; run again later"
        );
        assert!(
            !findings[0].remediation.contains("deploy the audit role"),
            "a passing fault is not a missing role"
        );
        let evidence = findings[0].evidence.value();
        assert_eq!(evidence["attempts"], 3);
        assert_eq!(evidence["faults"][0], "ServiceUnavailable");
    }

    #[test]
    fn a_denied_assume_role_gets_the_command_that_tries_it_again() {
        use crate::checks::test_support::command_of;
        let fixture = failed("assume-role", "AccessDenied", None, &[]);
        let findings = (CHECK.run)(&fixture.context().with_audit_role("Audit Role"));
        command_of(
            &findings[0],
            &["aws sts assume-role --role-arn 'arn:aws:iam::111122223333:role/Audit Role' --role-session-name iam-auditor-check \
               --query AssumedRoleUser.Arn --output text"],
        );
    }
}
