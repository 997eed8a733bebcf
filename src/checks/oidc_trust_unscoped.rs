//! `oidc-trust-unscoped`: web-identity roles (GitHub Actions, EKS IRSA, any OIDC provider)
//! whose trust does not pin the token's subject to one repository or service account (for a
//! Cognito identity pool: the audience to one pool), judged by the engine with the tokens an
//! attacker can get ([`web_identity_trust`]). Only statements that allow
//! `sts:AssumeRoleWithWebIdentity` count, and Deny statements apply.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::trust::web_identity_trust;

pub const CHECK: Check = Check {
    id: "oidc-trust-unscoped",
    title: "Web-identity role trust is not scoped to one subject",
    severity: Severity::Critical,
    references: &[],
    remediation: "Decide which workload should assume the role, then pin the token to it in the trust policy: \
                  StringEquals on the provider's aud key (sts.amazonaws.com for GitHub Actions and EKS) and on its \
                  sub key naming one repository and branch or one service account (a Cognito identity pool: aud \
                  naming the one pool). The finding's command saves the trust policy (aws iam get-role) and \
                  applies the edited file (aws iam update-assume-role-policy).",
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
        let mut detail = format!("{}.", all.join("; "));
        let mut rests_on: Vec<&str> =
            problems.iter().flat_map(|p| p.rests_on.iter().map(String::as_str)).collect();
        rests_on.dedup();
        if !rests_on.is_empty() {
            detail.push_str(&format!(
                " A token gets in under conditions the snapshot cannot decide or the caller controls: {}.",
                rests_on.join("; ")
            ));
        }
        let unreadable: Vec<&str> =
            problems.iter().flat_map(|p| p.unreadable_conditions.iter().map(String::as_str)).collect();
        let mut builder = context
            .finding(&CHECK, ResourceType::Role, &role.arn, &role.name)
            .title(format!("Role {} trusts {} without scoping the token", role.name, providers.join(", ")))
            .detail(detail)
            .evidence("web_identity", &problems)
            .command(fix::rewrite_trust(
                &role.name,
                &format!(
                    "for {}, add StringEquals conditions on the aud and sub keys naming the one audience and subject \
                     (repository and branch, or service account) that may assume the role",
                    providers.join(", ")
                ),
            ));
        if !unreadable.is_empty() {
            builder = builder.evidence("unreadable_conditions", &unreadable);
        }
        // A pinned subject without an audience check is a weakness, not an open door; so are
        // the guests of one's own identity pool.
        if problems.iter().all(|p| p.audience_only || p.guests_only) {
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
        assert!(findings[0].detail.contains(":aud = sts.amazonaws.com"), "{}", findings[0].detail);
    }

    fn federated(name: &str, provider: &str, action: &str, condition: &str) -> String {
        format!(
            r#"{{"RoleName":"{name}","Path":"/","Arn":"{}","AssumeRolePolicyDocument":{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{provider}"}},"Action":"{action}","Condition":{condition}}}]}}}}"#,
            role_arn(name)
        )
    }

    #[test]
    fn a_federated_principal_allowed_only_assume_role_is_not_reported() {
        let github = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
        let roles = [
            federated("assume-role-only", github, "sts:AssumeRole", "{}"),
            federated("web-identity", github, "sts:AssumeRoleWithWebIdentity", "{}"),
        ];
        let fixture = Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        let names: Vec<String> = fixture.run(&CHECK).into_iter().map(|f| f.resource_name).collect();
        assert_eq!(names, vec!["web-identity"]);
    }

    #[test]
    fn cognito_identity_pools() {
        let pool = r#""StringEquals":{"cognito-identity.amazonaws.com:aud":"eu-west-1:11111111-2222-3333-4444-555555555555"}"#;
        let amr =
            |v: &str| format!(r#""ForAnyValue:StringLike":{{"cognito-identity.amazonaws.com:amr":"{v}"}}"#);
        let cognito = |name: &str, condition: String| {
            federated(name, "cognito-identity.amazonaws.com", "sts:AssumeRoleWithWebIdentity", &condition)
        };
        let roles = [
            cognito("documented", format!("{{{pool},{}}}", amr("authenticated"))),
            cognito("any-pool", format!("{{{}}}", amr("authenticated"))),
            cognito("any-pool-guests", format!("{{{}}}", amr("unauthenticated"))),
            cognito("own-pool-guests", format!("{{{pool},{}}}", amr("unauthenticated"))),
        ];
        let fixture = Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        let findings = fixture.run(&CHECK);
        let got: Vec<(&str, Severity)> =
            findings.iter().map(|f| (f.resource_name.as_str(), f.severity)).collect();
        assert_eq!(
            got,
            vec![
                ("any-pool", Severity::Critical),
                ("any-pool-guests", Severity::Critical),
                ("own-pool-guests", Severity::Medium)
            ]
        );
        assert!(!findings[0].detail.contains("guest"), "{}", findings[0].detail);
        assert!(findings[1].detail.contains("guest"), "{}", findings[1].detail);
        assert!(findings[2].detail.contains("guest"), "{}", findings[2].detail);
    }

    #[test]
    fn the_command_saves_the_trust_policy_says_what_to_change_and_applies_it() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let fixture = Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, role(HOSTILE, "{}")));
        let findings = fixture.run(&CHECK);
        command_of(
            &findings[0],
            &[
                &format!("aws iam get-role --role-name {HOSTILE_QUOTED} --query Role.AssumeRolePolicyDocument --output json > trust.json\n# edit trust.json: "),
                "token.actions.githubusercontent.com",
                &format!("\naws iam update-assume-role-policy --role-name {HOSTILE_QUOTED} --policy-document file://trust.json"),
            ],
        );
    }
}
