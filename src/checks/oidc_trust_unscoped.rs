//! `oidc-trust-unscoped`: web-identity roles (GitHub Actions, EKS IRSA, any OIDC provider)
//! whose trust does not pin the token's subject to one repository or service account.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::trust::web_identity_trust;

pub const CHECK: Check = Check {
    id: "oidc-trust-unscoped",
    title: "Web-identity role trust is not scoped to one subject",
    severity: Severity::Critical,
    references: &[],
    remediation: "Add StringEquals on <provider>:aud (sts.amazonaws.com) and a StringEquals/StringLike on \
                  <provider>:sub naming one repository (repo:ORG/REPO:ref:refs/heads/main) or service account \
                  (system:serviceaccount:NS:SA), then apply it with aws iam update-assume-role-policy --role-name \
                  ROLE --policy-document file://trust.json.",
    family: Family::Trust,
    needs: &[Input::AuthorizationDetails],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(graph) = &context.account.authorization else { return Vec::new() };
    let mut findings = Vec::new();
    for role in &graph.roles {
        let Some(trust) = &role.trust_policy else { continue };
        let problems = web_identity_trust(trust);
        if problems.is_empty() {
            continue;
        }
        let providers: Vec<&str> = problems.iter().map(|p| p.provider.as_str()).collect();
        let all: Vec<&str> = problems.iter().flat_map(|p| p.problems.iter().map(String::as_str)).collect();
        let mut builder = context
            .finding(&CHECK, ResourceType::Role, &role.arn, &role.name)
            .title(format!("Role {} trusts {} without scoping the token", role.name, providers.join(", ")))
            .detail(format!("{}.", all.join("; ")))
            .evidence("web_identity", &problems);
        // A pinned subject without an audience check is a weakness, not an open door.
        if problems.iter().all(|p| p.audience_only) {
            builder = builder.severity(Severity::Medium);
        }
        findings.push(builder.build());
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{role_arn, Fixture};

    fn role(name: &str, condition: &str) -> String {
        format!(
            r#"{{"RoleName":"{name}","Path":"/","Arn":"{}","AssumeRolePolicyDocument":{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{condition}}}]}}}}"#,
            role_arn(name)
        )
    }

    #[test]
    fn finds_github_roles_without_sub_or_with_wide_sub() {
        let aud = r#""StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}"#;
        let roles = [
            role("aud-only", &format!("{{{aud}}}")),
            role(
                "org-wide",
                &format!(
                    r#"{{{aud},"StringLike":{{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}}}"#
                ),
            ),
            role(
                "scoped",
                &format!(
                    r#"{{{aud},"StringLike":{{"token.actions.githubusercontent.com:sub":"repo:acme/api:ref:refs/heads/main"}}}}"#
                ),
            ),
            role("no-aud", r#"{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/api:*"}}"#),
        ];
        let fixture = Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        let findings = fixture.run(&CHECK);
        let names: Vec<(&str, Severity)> =
            findings.iter().map(|f| (f.resource_name.as_str(), f.severity)).collect();
        assert_eq!(
            names,
            vec![
                ("aud-only", Severity::Critical),
                ("org-wide", Severity::Critical),
                ("no-aud", Severity::Medium)
            ]
        );
        assert!(findings[0].detail.contains("any repository on GitHub"));
    }
}
