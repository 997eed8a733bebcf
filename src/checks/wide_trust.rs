//! `wide-trust`: roles anyone with an AWS account can assume: the trust policy, Deny
//! statements included, lets in a caller from an account the attacker creates (fitted to any
//! wildcard the trust leaves open), judged by the engine ([`open_trust`]).

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::trust::open_trust;

pub const CHECK: Check = Check {
    id: "wide-trust",
    title: "Role can be assumed by any AWS principal",
    severity: Severity::Critical,
    references: &[],
    remediation: "Decide who should assume the role, then rewrite its trust policy: name those principals, or \
                  add a condition on aws:PrincipalOrgID or aws:PrincipalAccount. The finding's command saves the \
                  trust policy (aws iam get-role), says which statement to change and applies the edited file \
                  (aws iam update-assume-role-policy).",
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
        let Some(first) = open.first() else { continue };
        let mut detail = format!(
            "Statement {} of its trust policy allows Principal {} to assume it, and the whole trust policy, Deny \
             statements included, lets in a caller from an account outside the organization ({}): anyone with an \
             AWS account can.",
            first.statement, first.principal, first.caller
        );
        if !first.rests_on.is_empty() {
            detail.push_str(&format!(
                " It rests only on conditions the caller controls or the snapshot cannot decide: {}.",
                first.rests_on.join("; ")
            ));
        }
        if !first.other_conditions.is_empty() {
            detail.push_str(&format!(
                " The conditions it has ({}) do not limit who the caller is; sts:ExternalId in particular is a shared secret, not an identity.",
                first.other_conditions.join(", ")
            ));
        }
        let mut builder = context
            .finding(&CHECK, ResourceType::Role, &role.arn, &role.name)
            .title(format!("Role {} can be assumed by any AWS principal", role.name))
            .detail(detail)
            .evidence("statements", &open)
            .evidence("rests_on", &first.rests_on)
            .command(fix::rewrite_trust(
                &role.name,
                &format!(
                    "statement {} lets in any AWS account; name the principals that may assume the role, or add an \
                     aws:PrincipalOrgID condition",
                    first.statement
                ),
            ));
        if !first.unreadable_conditions.is_empty() {
            builder = builder.evidence("unreadable_conditions", &first.unreadable_conditions);
        }
        findings.push(builder.build());
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
        assert!(findings[1].detail.contains("StringEquals sts:ExternalId = x"), "{}", findings[1].detail);
    }

    #[test]
    fn a_deny_for_callers_outside_the_organization_is_applied() {
        let allow = r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}"#;
        let roles = [
            role(
                "org-deny",
                &format!(
                    r#"{allow},{{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{{"StringNotEquals":{{"aws:PrincipalOrgID":"o-mine"}}}}}}"#
                ),
            ),
            role(
                "ip-deny",
                &format!(
                    r#"{allow},{{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{{"NotIpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}"#
                ),
            ),
        ];
        let fixture = Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        let findings = fixture.run(&CHECK);
        assert_eq!(findings.iter().map(|f| f.resource_name.as_str()).collect::<Vec<_>>(), vec!["ip-deny"]);
        assert!(findings[0].detail.contains("aws:SourceIp"), "{}", findings[0].detail);
    }

    #[test]
    fn a_condition_naming_one_account_is_not_wide() {
        let roles = [
            role(
                "one-account",
                r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"999988887777"}}}"#,
            ),
            role(
                "one-arn",
                r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::999988887777:role/x"}}}"#,
            ),
            role(
                "any-deployer",
                r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deployer"}}}"#,
            ),
        ];
        let fixture = Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        let findings = fixture.run(&CHECK);
        assert_eq!(
            findings.iter().map(|f| f.resource_name.as_str()).collect::<Vec<_>>(),
            vec!["any-deployer"]
        );
        assert!(findings[0].detail.contains(":role/deployer"), "{}", findings[0].detail);
    }

    #[test]
    fn an_unknown_operator_is_reported_in_the_evidence() {
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"RoleDetailList":[{}]}}"#,
            role(
                "odd",
                r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEqualz":{"aws:PrincipalOrgID":"o-mine"}}}"#,
            )
        ));
        let findings = fixture.run(&CHECK);
        assert_eq!(findings.len(), 1);
        let evidence = findings[0].evidence.value();
        assert!(
            evidence["unreadable_conditions"][0].as_str().unwrap().contains("StringEqualz"),
            "{evidence}"
        );
        assert!(findings[0].detail.contains("operator not understood"), "{}", findings[0].detail);
    }

    #[test]
    fn the_command_saves_the_trust_policy_says_what_to_change_and_applies_it() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"RoleDetailList":[{}]}}"#,
            role(HOSTILE, r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}"#)
        ));
        let findings = fixture.run(&CHECK);
        command_of(
            &findings[0],
            &[
                &format!("aws iam get-role --role-name {HOSTILE_QUOTED} --query Role.AssumeRolePolicyDocument --output json > trust.json\n# edit trust.json: "),
                "statement",
                &format!("\naws iam update-assume-role-policy --role-name {HOSTILE_QUOTED} --policy-document file://trust.json"),
            ],
        );
    }
}
