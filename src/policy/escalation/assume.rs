//! Who may assume a role: the trust policy read as the resource-based policy it is, by the
//! same condition evaluator as everything else.
//!
//! AWS's rule for `sts:AssumeRole`: an explicit Deny in the trust policy wins; otherwise the
//! trust must allow the caller. When the trust names the caller itself (its user or role
//! ARN) in the caller's own account, that is enough. When it names the caller's account
//! (`123456789012`, `arn:aws:iam::123456789012:root`) or everyone (`*`), or the caller is
//! in another account, the caller's identity policies must allow `sts:AssumeRole` on the
//! role too. That half is the engine's; this module answers the trust half.

use crate::identifiers::{arn_account, whole_account};
use crate::policy::condition::{self, RequestContext, Truth};
use crate::policy::document::{Effect, PolicyDocument, Principal, PrincipalEntry, Statement};
use crate::policy::engine::Decision;

/// Who is asking, as a trust policy sees it.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    /// An IAM user or role: its ARN (`arn:aws:iam::111122223333:role/ci`).
    Aws { arn: &'a str },
    /// An AWS service, e.g. `lambda.amazonaws.com`.
    Service(&'a str),
    /// A web-identity or SAML provider, e.g. `cognito-identity.amazonaws.com`.
    Federated(&'a str),
}

/// The trust policy's answer for one caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnswer {
    pub decision: Decision,
    /// The trust names the caller's own ARN in the caller's own account: AWS then needs
    /// no identity permission for `sts:AssumeRole`.
    pub names_caller: bool,
    /// Statement indexes that allowed it.
    pub statements: Vec<usize>,
}

fn principal_entry_matches(entry: &PrincipalEntry, caller: Caller) -> bool {
    match caller {
        Caller::Service(service) => entry.kind == "Service" && entry.value.eq_ignore_ascii_case(service),
        Caller::Federated(provider) => {
            entry.kind == "Federated" && entry.value.eq_ignore_ascii_case(provider)
        }
        Caller::Aws { arn } => {
            if entry.kind != "AWS" {
                return false;
            }
            let value = entry.value.trim();
            if value == "*" || value == arn {
                return true;
            }
            let account = arn_account(arn).unwrap_or_default();
            whole_account(value).is_some_and(|whole| whole == account)
        }
    }
}

fn principal_matches(statement: &Statement, caller: Caller) -> bool {
    match (&statement.principal, &statement.not_principal) {
        (Some(Principal::Anyone), _) => true,
        (Some(p), _) => p.entries().iter().any(|e| principal_entry_matches(e, caller)),
        (None, Some(Principal::Anyone)) => false,
        (None, Some(not)) => !not.entries().iter().any(|e| principal_entry_matches(e, caller)),
        (None, None) => false,
    }
}

fn names_exactly(statement: &Statement, arn: &str) -> bool {
    statement
        .principal
        .as_ref()
        .is_some_and(|p| p.entries().iter().any(|e| e.kind == "AWS" && e.value == arn))
}

/// Does `trust` let `caller` perform `action` (e.g. `sts:assumerole`) on `role_arn`?
pub fn trust_answer(
    trust: &PolicyDocument,
    role_arn: &str,
    action: &str,
    caller: Caller,
    context: &RequestContext,
    problems: &mut Vec<String>,
) -> TrustAnswer {
    let mut allow: Option<Vec<String>> = None;
    let mut deny_if: Vec<String> = Vec::new();
    let mut names_caller = false;
    let mut statements = Vec::new();
    for (index, statement) in trust.statements.iter().enumerate() {
        if !statement.matches_action(action) || !principal_matches(statement, caller) {
            continue;
        }
        let truth = if statement.conditions.is_empty() {
            Truth::Holds
        } else {
            let verdict = condition::evaluate_explained(&statement.conditions, context, false);
            problems.extend(verdict.problems);
            verdict.truth
        };
        match (statement.effect, truth) {
            (_, Truth::Fails(_)) => {}
            (Effect::Deny, Truth::Holds) => {
                return TrustAnswer {
                    decision: Decision::Denied,
                    names_caller: false,
                    statements: vec![index],
                }
            }
            (Effect::Deny, Truth::Depends(on)) => {
                deny_if.push(crate::policy::engine::deny_does_not_apply(&on))
            }
            (Effect::Allow, truth) => {
                statements.push(index);
                if let Caller::Aws { arn } = caller {
                    if names_exactly(statement, arn) && arn_account(arn) == arn_account(role_arn) {
                        names_caller = true;
                    }
                }
                match truth {
                    Truth::Holds => allow = Some(Vec::new()),
                    Truth::Depends(on) if allow.is_none() => allow = Some(on),
                    _ => {}
                }
            }
        }
    }
    let decision = match allow {
        None => Decision::Denied,
        Some(mut conditions) => {
            conditions.extend(deny_if);
            if conditions.is_empty() {
                Decision::Allowed
            } else {
                Decision::AllowedIf(conditions)
            }
        }
    };
    TrustAnswer { names_caller: names_caller && !decision.is_denied(), decision, statements }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::111122223333:role/admin";

    fn trust(statements: &str) -> PolicyDocument {
        PolicyDocument::literal(&format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
    }

    fn ctx(arn: &str, org: &str) -> RequestContext {
        let mut c = RequestContext::new();
        c.set("aws:PrincipalArn", vec![arn.into()]);
        c.set("aws:PrincipalAccount", vec![arn_account(arn).unwrap().into()]);
        c.set("aws:PrincipalOrgID", vec![org.into()]);
        c
    }

    fn ask(doc: &PolicyDocument, arn: &str, org: &str) -> TrustAnswer {
        trust_answer(doc, ROLE, "sts:assumerole", Caller::Aws { arn }, &ctx(arn, org), &mut Vec::new())
    }

    #[test]
    fn the_account_root_needs_identity_permission_the_named_user_does_not() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/ops"]},"Action":"sts:AssumeRole"}"#,
        );
        let ops = ask(&doc, "arn:aws:iam::111122223333:user/ops", "o-1");
        assert_eq!(ops.decision, Decision::Allowed);
        assert!(ops.names_caller);
        let dev = ask(&doc, "arn:aws:iam::111122223333:user/dev", "o-1");
        assert_eq!(dev.decision, Decision::Allowed);
        assert!(!dev.names_caller);
        assert_eq!(ask(&doc, "arn:aws:iam::999988887777:user/x", "o-1").decision, Decision::Denied);
    }

    #[test]
    fn a_deny_for_callers_outside_the_organization_holds() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
               {"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-mine"}}}"#,
        );
        assert_eq!(ask(&doc, "arn:aws:iam::999988887777:user/x", "o-other").decision, Decision::Denied);
        assert_eq!(ask(&doc, "arn:aws:iam::444455556666:user/x", "o-mine").decision, Decision::Allowed);
    }

    #[test]
    fn services_match_only_their_own_principal() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        );
        let c = RequestContext::new();
        let lambda = trust_answer(
            &doc,
            ROLE,
            "sts:assumerole",
            Caller::Service("lambda.amazonaws.com"),
            &c,
            &mut vec![],
        );
        assert_eq!(lambda.decision, Decision::Allowed);
        let ec2 =
            trust_answer(&doc, ROLE, "sts:assumerole", Caller::Service("ec2.amazonaws.com"), &c, &mut vec![]);
        assert_eq!(ec2.decision, Decision::Denied);
    }
}
