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
    vec![context
        .account_finding(&CHECK)
        .title(format!("Account {} was not fully audited", context.account.account_id))
        .detail(failure.clone())
        .evidence("reason", failure)
        .build()]
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
    }
}
