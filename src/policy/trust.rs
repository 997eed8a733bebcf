//! Trust policies: who may assume a role, read the way an attacker would.
//!
//! Three questions, one per check: may anyone assume it without a condition that limits
//! the caller (`wide-trust`)? Which AWS accounts does it trust (`external-trust`)? Does a
//! web-identity trust pin the token's audience and subject (`oidc-trust-unscoped`)?

use super::document::{Condition, Effect, PolicyDocument, Principal, Statement};
use serde::Serialize;

/// Condition keys that restrict *who* the caller is; `sts:ExternalId` is not one of them.
const CALLER_LIMITING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
];

const ASSUME_ACTIONS: &[&str] =
    &["sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml"];

fn allows_assumption(statement: &Statement) -> bool {
    statement.effect == Effect::Allow && ASSUME_ACTIONS.iter().any(|a| statement.matches_action(a))
}

/// A condition that, when present, really narrows who can match: a positive test whose
/// key must exist (no `IfExists`, no `ForAllValues`, which pass when the key is absent) and
/// none of whose values lets an arbitrary account in. Under a `Like` operator a wildcard in
/// an account or organization id, or in the account field of an ARN
/// (`arn:aws:iam::*:role/deployer`), admits anyone who creates a matching principal.
fn limits_callers(condition: &Condition) -> bool {
    let operator = condition.operator.to_ascii_lowercase();
    if condition.is_negated() || operator.ends_with("ifexists") || operator.starts_with("forallvalues:") {
        return false;
    }
    if !CALLER_LIMITING_KEYS.contains(&condition.key.as_str()) || condition.values.is_empty() {
        return false;
    }
    let like = condition.base_operator().contains("like");
    let wild = |s: &str| s.contains(['*', '?']);
    let admits_any_account = |value: &str| match condition.key.as_str() {
        _ if !like => false,
        "aws:principalarn" | "aws:sourcearn" => {
            // arn:partition:service:region:ACCOUNT:resource; too short to read = too wide to trust.
            value.split(':').nth(4).is_none_or(wild)
        }
        "aws:principalorgpaths" | "aws:sourceorgpaths" => value.split('/').next().is_none_or(wild),
        _ => wild(value),
    };
    !condition.values.iter().any(|v| admits_any_account(v))
}

/// A statement that lets anyone assume the role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenTrust {
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the principal is written: `"*"`, `{"AWS": "*"}` or a NotPrincipal.
    pub principal: String,
    /// Conditions present that do not limit the caller (e.g. sts:ExternalId).
    pub other_conditions: Vec<String>,
}

pub fn open_trust(document: &PolicyDocument) -> Vec<OpenTrust> {
    let mut found = Vec::new();
    for (index, statement) in document.statements.iter().enumerate() {
        if !allows_assumption(statement) {
            continue;
        }
        let principal = match (&statement.principal, &statement.not_principal) {
            (Some(Principal::Anyone), _) => "\"*\"".to_string(),
            (Some(p), _) if p.is_anyone() => "{\"AWS\": \"*\"}".to_string(),
            (None, Some(_)) => "NotPrincipal (everyone but the listed principals)".to_string(),
            _ => continue,
        };
        if statement.conditions.iter().any(limits_callers) {
            continue;
        }
        found.push(OpenTrust {
            statement: index,
            sid: statement.sid.clone(),
            principal,
            other_conditions: statement
                .conditions
                .iter()
                .map(|c| format!("{} {}", c.operator, c.key))
                .collect(),
        });
    }
    found
}

/// An AWS account named as a principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountTrust {
    pub account_id: String,
    /// As written in the policy (`123456789012`, `arn:aws:iam::123456789012:root`, a role ARN …).
    pub principal: String,
    /// `{"AWS": "123456789012"}` and `…:root` mean every principal of that account.
    pub whole_account: bool,
    pub external_id_required: bool,
    pub statement: usize,
}

/// Accounts the role trusts, and principals written as unique ids (deleted principals).
pub fn trusted_accounts(document: &PolicyDocument) -> (Vec<AccountTrust>, Vec<String>) {
    let mut accounts = Vec::new();
    let mut unique_ids = Vec::new();
    for (index, statement) in document.statements.iter().enumerate() {
        if !allows_assumption(statement) {
            continue;
        }
        let Some(principal) = &statement.principal else { continue };
        let external_id_required = statement.conditions.iter().any(|c| {
            c.key == "sts:externalid"
                && !c.is_negated()
                && !c.operator.to_ascii_lowercase().ends_with("ifexists")
        });
        for entry in principal.entries().iter().filter(|e| e.kind == "AWS") {
            let value = entry.value.trim();
            if value == "*" {
                continue;
            }
            let (account, whole_account) = if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
                (value.to_string(), true)
            } else if let Some(account) = crate::identifiers::arn_account(value) {
                (account.to_string(), value.ends_with(":root"))
            } else {
                // AROA… / AIDA…: what IAM shows once the principal named here was deleted.
                unique_ids.push(value.to_string());
                continue;
            };
            accounts.push(AccountTrust {
                account_id: account,
                principal: value.to_string(),
                whole_account,
                external_id_required,
                statement: index,
            });
        }
    }
    (accounts, unique_ids)
}

const GITHUB: &str = "token.actions.githubusercontent.com";

/// A web-identity (OIDC) trust and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebIdentityTrust {
    pub provider: String,
    pub statement: usize,
    pub audiences: Vec<String>,
    pub subjects: Vec<String>,
    pub problems: Vec<String>,
    /// True when the only problem is a missing audience (the subject is pinned).
    pub audience_only: bool,
}

pub fn web_identity_trust(document: &PolicyDocument) -> Vec<WebIdentityTrust> {
    let mut found = Vec::new();
    for (index, statement) in document.statements.iter().enumerate() {
        if !allows_assumption(statement) {
            continue;
        }
        let Some(principal) = &statement.principal else { continue };
        for entry in principal.entries().iter().filter(|e| e.kind == "Federated") {
            let Some(provider) = oidc_provider_host(&entry.value) else { continue };
            let provider_key = provider.to_ascii_lowercase();
            let positive = |suffix: &str| -> Vec<(&Condition, String)> {
                let key = format!("{provider_key}:{suffix}");
                statement
                    .conditions
                    .iter()
                    .filter(|c| c.key == key && !c.is_negated())
                    .flat_map(|c| c.values.iter().map(move |v| (c, v.clone())))
                    .collect()
            };
            let audiences = positive("aud");
            let subjects = positive("sub");
            let mut problems = Vec::new();
            if subjects.is_empty() {
                problems.push(if provider_key == GITHUB {
                    format!("no `{provider}:sub` condition: any repository on GitHub can assume this role")
                } else {
                    format!("no `{provider}:sub` condition: any identity this provider signs tokens for can assume this role")
                });
            }
            for (condition, subject) in &subjects {
                if let Some(why) = wide_subject(&provider_key, condition, subject) {
                    problems.push(format!("`{provider}:sub` pattern `{subject}` {why}"));
                }
            }
            let sub_ok = problems.is_empty();
            if audiences.is_empty() {
                problems.push(format!("no `{provider}:aud` condition"));
            }
            if problems.is_empty() {
                continue;
            }
            found.push(WebIdentityTrust {
                provider: provider.to_string(),
                statement: index,
                audiences: audiences.into_iter().map(|(_, v)| v).collect(),
                subjects: subjects.into_iter().map(|(_, v)| v).collect(),
                audience_only: sub_ok,
                problems,
            });
        }
    }
    found
}

/// `arn:aws:iam::…:oidc-provider/HOST` or a well-known web identity provider; None for SAML.
fn oidc_provider_host(federated: &str) -> Option<&str> {
    if let Some((_, host)) = federated.split_once(":oidc-provider/") {
        return Some(host);
    }
    let known =
        ["cognito-identity.amazonaws.com", "accounts.google.com", "graph.facebook.com", "www.amazon.com"];
    known.contains(&federated).then_some(federated)
}

/// Why a subject pattern admits more than one repository / service account, if it does.
fn wide_subject(provider: &str, condition: &Condition, subject: &str) -> Option<&'static str> {
    // Under StringEquals a `*` is a literal character: the pattern admits one value.
    if !condition.base_operator().contains("like") {
        return None;
    }
    let wild = |s: &str| s.contains(['*', '?']);
    if subject.chars().all(|c| c == '*' || c == '?') {
        return Some("matches every subject");
    }
    if provider == GITHUB {
        if let Some(rest) = subject.strip_prefix("repo:") {
            let repo = rest.split(':').next().unwrap_or("");
            return match repo.split_once('/') {
                Some((owner, name)) if !wild(owner) && !wild(name) && !name.is_empty() => None,
                Some((owner, _)) if !wild(owner) => {
                    Some("matches more than one repository of the organisation")
                }
                _ => Some("matches repositories of any owner"),
            };
        }
        return None;
    }
    if provider.starts_with("oidc.eks.") {
        return match subject.strip_prefix("system:serviceaccount:").map(|r| r.split_once(':')) {
            Some(Some((namespace, account))) if !wild(namespace) && !wild(account) => None,
            _ => Some("matches more than one Kubernetes service account"),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(statement: &str) -> PolicyDocument {
        PolicyDocument::literal(&format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#))
    }

    #[test]
    fn anyone_without_a_limiting_condition_is_open() {
        for principal in [r#""*""#, r#"{"AWS":"*"}"#, r#"{"AWS":["*"]}"#] {
            let doc =
                trust(&format!(r#"{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}"#));
            assert_eq!(open_trust(&doc).len(), 1, "{principal}");
        }
    }

    #[test]
    fn an_org_or_account_condition_closes_it_but_external_id_does_not() {
        let org = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#,
        );
        assert!(open_trust(&org).is_empty());
        let arn = trust(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/ci-*"}}}"#,
        );
        assert!(open_trust(&arn).is_empty());
        // Under StringEquals a `*` is literal: it admits nobody new.
        let literal = trust(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"1111*"}}}"#,
        );
        assert!(open_trust(&literal).is_empty());
        let external_id = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"secret"}}}"#,
        );
        let open = open_trust(&external_id);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].other_conditions, vec!["StringEquals sts:externalid"]);
    }

    #[test]
    fn conditions_that_pass_when_absent_do_not_close_it() {
        for condition in [
            r#"{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
            r#"{"StringLike":{"aws:PrincipalArn":"*"}}"#,
            // Any account can create a role named deployer.
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deployer"}}"#,
            r#"{"StringLike":{"aws:PrincipalAccount":"1111*"}}"#,
            r#"{"StringLike":{"aws:PrincipalOrgID":"o-*"}}"#,
        ] {
            let doc = trust(&format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole","Condition":{condition}}}"#
            ));
            assert_eq!(open_trust(&doc).len(), 1, "{condition}");
        }
    }

    #[test]
    fn service_and_account_principals_are_not_open() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","AWS":"111122223333"},"Action":"sts:AssumeRole"}"#,
        );
        assert!(open_trust(&doc).is_empty());
        let deny = trust(r#"{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}"#);
        assert!(open_trust(&deny).is_empty());
    }

    #[test]
    fn a_bare_account_id_is_the_whole_account() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":["444455556666","arn:aws:iam::777788889999:role/deployer","AROAEXAMPLEDELETED1"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}"#,
        );
        let (accounts, unique_ids) = trusted_accounts(&doc);
        assert_eq!(accounts.len(), 2);
        assert!(accounts[0].whole_account && accounts[0].external_id_required);
        assert_eq!(accounts[1].account_id, "777788889999");
        assert!(!accounts[1].whole_account);
        assert_eq!(unique_ids, vec!["AROAEXAMPLEDELETED1"]);
    }

    fn github(condition: &str) -> Vec<WebIdentityTrust> {
        web_identity_trust(&trust(&format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{condition}}}"#
        )))
    }

    #[test]
    fn github_trust_with_only_aud_lets_any_repository_in() {
        let found =
            github(r#"{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}"#);
        assert_eq!(found.len(), 1);
        assert!(found[0].problems[0].contains("any repository on GitHub"));
        assert!(!found[0].audience_only);
    }

    #[test]
    fn github_subject_patterns() {
        let aud = r#""StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}"#;
        for scoped in
            ["repo:acme/api:*", "repo:acme/api:ref:refs/heads/main", "repo:acme/api:environment:prod"]
        {
            let found = github(&format!(
                r#"{{{aud},"StringLike":{{"token.actions.githubusercontent.com:sub":"{scoped}"}}}}"#
            ));
            assert!(found.is_empty(), "{scoped} is scoped");
        }
        for wide in ["*", "repo:*", "repo:acme/*", "repo:acme/api*"] {
            let found = github(&format!(
                r#"{{{aud},"StringLike":{{"token.actions.githubusercontent.com:sub":"{wide}"}}}}"#
            ));
            assert_eq!(found.len(), 1, "{wide} is too wide");
        }
        // Every value of a list counts: one wide value opens the role.
        let found = github(&format!(
            r#"{{{aud},"StringLike":{{"token.actions.githubusercontent.com:sub":["repo:acme/api:ref:refs/heads/main","repo:acme/*"]}}}}"#
        ));
        assert_eq!(found.len(), 1);
        // Under StringEquals `*` is literal.
        assert!(github(&format!(
            r#"{{{aud},"StringEquals":{{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}}}"#
        ))
        .is_empty());
    }

    #[test]
    fn scoped_subject_without_audience_is_a_lesser_problem() {
        let found = github(
            r#"{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/api:ref:refs/heads/main"}}"#,
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].audience_only);
    }

    #[test]
    fn eks_irsa_needs_one_service_account() {
        let issuer = "oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789";
        let doc = |sub: &str| {
            trust(&format!(
                r#"{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{issuer}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{issuer}:aud":"sts.amazonaws.com"}},"StringLike":{{"{issuer}:sub":"{sub}"}}}}}}"#
            ))
        };
        assert!(web_identity_trust(&doc("system:serviceaccount:payments:api")).is_empty());
        assert_eq!(web_identity_trust(&doc("system:serviceaccount:payments:*")).len(), 1);
        assert_eq!(web_identity_trust(&doc("system:serviceaccount:*")).len(), 1);
    }

    #[test]
    fn eks_pod_identity_and_saml_are_not_web_identity() {
        let pods = trust(
            r#"{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}"#,
        );
        assert!(web_identity_trust(&pods).is_empty());
        let saml = trust(
            r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/AWSSSO_abc_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"]}"#,
        );
        assert!(web_identity_trust(&saml).is_empty());
    }
}
