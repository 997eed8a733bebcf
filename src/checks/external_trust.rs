//! `external-trust`: roles that trust an AWS account outside the organization (or, without
//! organization data, outside the audited accounts): named as a principal, or by an
//! `aws:PrincipalAccount` / `aws:PrincipalArn` condition on a `"*"` principal, and let in by
//! the whole trust policy, Deny statements included, as the engine judges it ([`trusted_accounts`]).

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::trust::{trusted_accounts, Scope};

pub const CHECK: Check = Check {
    id: "external-trust",
    title: "Role trusts an AWS account outside the organization",
    severity: Severity::Medium,
    references: &[],
    remediation: "Confirm the third party and the need. Then rewrite the trust policy: remove the accounts no one \
                  vouches for, trust a specific role ARN rather than a whole account, and require an \
                  sts:ExternalId condition for vendor roles. The finding's command saves the trust policy (aws \
                  iam get-role) and applies the edited file (aws iam update-assume-role-policy).",
    family: Family::Trust,
    needs: &[Input::AuthorizationDetails],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(graph) = &context.account.authorization else { return Vec::new() };
    let members_known = !context.organization.accounts.is_empty();
    let scope_name = if members_known { "the organization" } else { "the audited accounts" };
    let scope = Scope {
        known_accounts: context.known_accounts,
        organization_id: context.organization.id.as_deref().filter(|_| members_known),
    };
    let mut findings = Vec::new();
    for role in &graph.roles {
        let Some(trust) = &role.trust_policy else { continue };
        let found = trusted_accounts(trust, &role.arn, &scope);
        let external = &found.accounts;
        if external.is_empty() {
            continue;
        }
        let ids: Vec<&str> = external.iter().map(|a| a.account_id.as_str()).collect();
        let without_external_id: Vec<&str> =
            external.iter().filter(|a| !a.external_id_required).map(|a| a.account_id.as_str()).collect();
        let mut detail = format!(
            "Its trust policy lets account(s) {} assume it; they are outside {scope_name}.",
            ids.join(", ")
        );
        for account in external.iter().filter(|a| a.named_by_condition.is_some()) {
            detail.push_str(&format!(
                " Account {} is let in by the condition {} on a principal of \"*\".",
                account.account_id,
                account.named_by_condition.as_deref().unwrap_or_default()
            ));
        }
        if external.iter().any(|a| a.whole_account) {
            detail.push_str(" A bare account id or :root principal means every principal that account allows, not its root user.");
        }
        if !without_external_id.is_empty() {
            detail.push_str(&format!(
                " No sts:ExternalId condition guards the trust of {}: the confused-deputy protection vendors rely on is missing.",
                without_external_id.join(", ")
            ));
        }
        for account in external.iter().filter(|a| !a.rests_on.is_empty()) {
            detail.push_str(&format!(
                " The trust of {} rests on conditions the snapshot cannot decide: {}.",
                account.account_id,
                account.rests_on.join("; ")
            ));
        }
        let mut builder = context
            .finding(&CHECK, ResourceType::Role, &role.arn, &role.name)
            .title(format!("Role {} trusts external account(s) {}", role.name, ids.join(", ")))
            .detail(detail)
            .evidence("external_accounts", external)
            .evidence("external_id_missing", !without_external_id.is_empty())
            .command(fix::rewrite_trust(
                &role.name,
                &format!(
                    "keep account(s) {} only if confirmed, each as a role ARN, with an sts:ExternalId condition for a \
                     vendor",
                    ids.join(", ")
                ),
            ));
        if !found.unique_ids.is_empty() {
            builder = builder.evidence("deleted_principals", &found.unique_ids);
        }
        if !found.unreadable_conditions.is_empty() {
            builder = builder.evidence("unreadable_conditions", &found.unreadable_conditions);
        }
        findings.push(builder.build());
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{role_arn, Fixture};

    fn role(name: &str, principal: &str, condition: &str) -> String {
        format!(
            r#"{{"RoleName":"{name}","Path":"/","Arn":"{}","AssumeRolePolicyDocument":{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"{condition}}}]}}}}"#,
            role_arn(name)
        )
    }

    const ORG: &str = r#"{"Accounts":[{"Id":"111122223333","Arn":"arn:aws:organizations::111122223333:account/o-abc/111122223333","Name":"m","Status":"ACTIVE"},
                                       {"Id":"444455556666","Arn":"arn:aws:organizations::111122223333:account/o-abc/444455556666","Name":"p","Status":"ACTIVE"}]}"#;

    #[test]
    fn finds_accounts_outside_the_org_and_notes_external_id() {
        let ext_id = r#","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}"#;
        let roles = [
            role("vendor", "arn:aws:iam::999988887777:root", ext_id),
            role("vendor-noid", "999988887777", ""),
            role("sibling", "arn:aws:iam::444455556666:role/deployer", ""),
            role("self", "arn:aws:iam::111122223333:root", ""),
        ];
        let fixture =
            Fixture::new().org(ORG, None).gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        let findings = fixture.run(&CHECK);
        let arns: Vec<&str> = findings.iter().map(|f| f.resource_arn.as_str()).collect();
        assert_eq!(arns, vec![role_arn("vendor"), role_arn("vendor-noid")]);
        assert_eq!(findings[0].evidence.value()["external_id_missing"], false);
        assert_eq!(findings[1].evidence.value()["external_id_missing"], true);
        assert!(findings[1].detail.contains("not its root user"));
    }

    #[test]
    fn without_org_data_the_audited_accounts_are_the_scope() {
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"RoleDetailList":[{}]}}"#,
            role("sibling", "arn:aws:iam::444455556666:role/deployer", "")
        ));
        let findings = fixture.run(&CHECK);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].detail.contains("audited accounts"));
    }

    fn anyone(name: &str, condition: &str) -> String {
        format!(
            r#"{{"RoleName":"{name}","Path":"/","Arn":"{}","AssumeRolePolicyDocument":{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{condition}}}]}}}}"#,
            role_arn(name)
        )
    }

    #[test]
    fn finds_accounts_named_by_a_condition_on_a_star_principal() {
        let roles = [
            anyone("by-account", r#"{"StringEquals":{"aws:PrincipalAccount":"999988887777"}}"#),
            anyone("by-arn", r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::888877776666:role/ci-*"}}"#),
            anyone("sibling", r#"{"StringEquals":{"aws:PrincipalAccount":"444455556666"}}"#),
            anyone(
                "excluded",
                r#"{"StringNotEquals":{"aws:PrincipalAccount":"999988887777"},"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
            ),
        ];
        let fixture = Fixture::new()
            .org(ORG, Some(r#"{"OrganizationId":"o-abc","RootId":"r-1","Policies":[]}"#))
            .gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        let findings = fixture.run(&CHECK);
        let names: Vec<&str> = findings.iter().map(|f| f.resource_name.as_str()).collect();
        assert_eq!(names, vec!["by-account", "by-arn"]);
        assert!(
            findings[0].detail.contains("StringEquals aws:PrincipalAccount = 999988887777"),
            "{}",
            findings[0].detail
        );
        assert_eq!(findings[1].evidence.value()["external_accounts"][0]["account_id"], "888877776666");
        assert_eq!(findings[1].evidence.value()["external_accounts"][0]["whole_account"], false);
    }

    #[test]
    fn a_deny_for_callers_outside_the_organization_is_applied() {
        let fixture = Fixture::new().org(ORG, Some(r#"{"OrganizationId":"o-abc","RootId":"r-1","Policies":[]}"#)).gaad(
            &format!(
                r#"{{"RoleDetailList":[{{"RoleName":"guarded","Path":"/","Arn":"{}","AssumeRolePolicyDocument":{{"Statement":[
                    {{"Effect":"Allow","Principal":{{"AWS":"999988887777"}},"Action":"sts:AssumeRole"}},
                    {{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{{"StringNotEquals":{{"aws:PrincipalOrgID":"o-abc"}}}}}}]}}}}]}}"#,
                role_arn("guarded")
            ),
        );
        assert!(fixture.run(&CHECK).is_empty());
    }

    #[test]
    fn an_undecidable_condition_is_named() {
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"RoleDetailList":[{}]}}"#,
            role(
                "partner",
                "999988887777",
                r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-partner"},"StringEqualz":{"sts:ExternalId":"x"}}"#
            )
        ));
        let findings = fixture.run(&CHECK);
        assert_eq!(findings.len(), 1);
        let detail = &findings[0].detail;
        assert!(detail.contains("belongs to organization o-partner"), "{detail}");
        assert!(detail.contains("StringEqualz sts:ExternalId"), "{detail}");
        let evidence = findings[0].evidence.value();
        assert!(
            evidence["unreadable_conditions"][0].as_str().unwrap().contains("StringEqualz"),
            "{evidence}"
        );
    }

    #[test]
    fn the_command_saves_the_trust_policy_says_what_to_change_and_applies_it() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let fixture =
            Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, role(HOSTILE, "999988887777", "")));
        let findings = fixture.run(&CHECK);
        command_of(
            &findings[0],
            &[
                &format!("aws iam get-role --role-name {HOSTILE_QUOTED} --query Role.AssumeRolePolicyDocument --output json > trust.json\n# edit trust.json: "),
                "999988887777",
                &format!("\naws iam update-assume-role-policy --role-name {HOSTILE_QUOTED} --policy-document file://trust.json"),
            ],
        );
    }
}
