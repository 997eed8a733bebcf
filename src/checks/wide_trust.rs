//! `wide-trust`: roles anyone with an AWS account can assume.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::trust::open_trust;

pub const CHECK: Check = Check {
    id: "wide-trust",
    title: "Role can be assumed by any AWS principal",
    severity: Severity::Critical,
    references: &[],
    remediation: "Name the principals that may assume the role, or add a condition on aws:PrincipalOrgID or \
                  aws:PrincipalAccount, and apply it with aws iam update-assume-role-policy --role-name ROLE \
                  --policy-document file://trust.json.",
    family: Family::Trust,
    needs: &[Input::AuthorizationDetails],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(graph) = &context.account.authorization else { return Vec::new() };
    let mut findings = Vec::new();
    for role in &graph.roles {
        let Some(trust) = &role.trust_policy else { continue };
        let open = open_trust(trust);
        if open.is_empty() {
            continue;
        }
        let first = &open[0];
        let mut detail = format!(
            "Statement {} of its trust policy allows Principal {} to assume it with no condition on the caller's \
             organization, account or ARN: anyone with an AWS account can.",
            first.statement, first.principal
        );
        if !first.other_conditions.is_empty() {
            detail.push_str(&format!(
                " The conditions it has ({}) do not limit who the caller is; sts:ExternalId in particular is a shared secret, not an identity.",
                first.other_conditions.join(", ")
            ));
        }
        findings.push(
            context
                .finding(&CHECK, ResourceType::Role, &role.arn, &role.name)
                .title(format!("Role {} can be assumed by any AWS principal", role.name))
                .detail(detail)
                .evidence("statements", &open)
                .build(),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{role_arn, Fixture};

    fn role(name: &str, trust: &str) -> String {
        format!(
            r#"{{"RoleName":"{name}","Path":"/","Arn":"{}","AssumeRolePolicyDocument":{{"Version":"2012-10-17","Statement":[{trust}]}}}}"#,
            role_arn(name)
        )
    }

    #[test]
    fn finds_roles_open_to_anyone() {
        let roles = [
            role("open", r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}"#),
            role(
                "star",
                r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}"#,
            ),
            role(
                "org",
                r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#,
            ),
            role(
                "service",
                r#"{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
            ),
            role(
                "account",
                r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}"#,
            ),
        ];
        let fixture = Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        let findings = fixture.run(&CHECK);
        assert_eq!(
            findings.iter().map(|f| f.resource_arn.clone()).collect::<Vec<_>>(),
            vec![role_arn("open"), role_arn("star")]
        );
        assert!(findings[1].detail.contains("ExternalId"), "{}", findings[1].detail);
    }
}
