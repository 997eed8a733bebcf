//! `account-not-audited`: an account the run could not (fully) audit — the coverage gap,
//! reported as a finding so it cannot be missed in a findings list.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, Severity};

pub const CHECK: Check = Check {
    id: "account-not-audited",
    title: "Account could not be audited",
    severity: Severity::High,
    references: &[],
    remediation:
        "Fix the cause named in the finding: deploy the audit role to the account (see `iam-auditor \
                  audit-policy`; check with aws sts assume-role --role-arn arn:aws:iam::ACCOUNT:role/ROLE \
                  --role-session-name test) or re-collect the damaged snapshot file, then run again.",
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

    #[test]
    fn the_advice_follows_the_collectors_hint() {
        let mut fixture = Fixture::new();
        fixture.failure = Some("collection failed: sts:AssumeRole failed: ServiceUnavailable".into());
        fixture.account.collection_error = Some(crate::snapshot::CollectionError {
            stage: "sts:AssumeRole".into(),
            code: "ServiceUnavailable".into(),
            message: "try later".into(),
            hint: Some("AWS was unavailable for this call through 3 attempts; run again later".into()),
            attempts: Some(3),
            faults: vec!["ServiceUnavailable".into()],
        });
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
}
