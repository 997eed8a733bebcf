//! `external-trust`: roles that trust an AWS account outside the organization (or, without
//! organization data, outside the audited accounts).

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::trust::trusted_accounts;

pub const CHECK: Check = Check {
    id: "external-trust",
    title: "Role trusts an AWS account outside the organization",
    severity: Severity::Medium,
    references: &[],
    remediation:
        "Confirm the third party and the need; require an sts:ExternalId condition for vendor roles and \
                  trust a specific role ARN rather than the whole account, then apply it with aws iam \
                  update-assume-role-policy --role-name ROLE --policy-document file://trust.json.",
    family: Family::Trust,
    needs: &[Input::AuthorizationDetails],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(graph) = &context.account.authorization else { return Vec::new() };
    let scope =
        if context.organization.accounts.is_empty() { "the audited accounts" } else { "the organization" };
    let mut findings = Vec::new();
    for role in &graph.roles {
        let Some(trust) = &role.trust_policy else { continue };
        let (accounts, deleted) = trusted_accounts(trust);
        let external: Vec<_> =
            accounts.into_iter().filter(|a| !context.known_accounts.contains(&a.account_id)).collect();
        if external.is_empty() {
            continue;
        }
        let mut ids: Vec<&str> = external.iter().map(|a| a.account_id.as_str()).collect();
        ids.dedup();
        let without_external_id: Vec<&str> =
            external.iter().filter(|a| !a.external_id_required).map(|a| a.account_id.as_str()).collect();
        let mut detail = format!(
            "Its trust policy lets account(s) {} assume it; they are outside {scope}.",
            ids.join(", ")
        );
        if external.iter().any(|a| a.whole_account) {
            detail.push_str(" A bare account id or :root principal means every principal that account allows, not its root user.");
        }
        if !without_external_id.is_empty() {
            detail.push_str(&format!(
                " No sts:ExternalId condition guards the trust of {}: the confused-deputy protection vendors rely on is missing.",
                without_external_id.join(", ")
            ));
        }
        let mut builder = context
            .finding(&CHECK, ResourceType::Role, &role.arn, &role.name)
            .title(format!("Role {} trusts external account(s) {}", role.name, ids.join(", ")))
            .detail(detail)
            .evidence("external_accounts", &external)
            .evidence("external_id_missing", !without_external_id.is_empty());
        if !deleted.is_empty() {
            builder = builder.evidence("deleted_principals", &deleted);
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
}
