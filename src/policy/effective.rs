//! Effective identity permissions: a principal's policies, capped by its permissions
//! boundary and the SCPs above its account, asked "is this action on this resource allowed?".
//!
//! The evaluation order is IAM's: an explicit Deny anywhere wins; otherwise the identity
//! policies must Allow, and every cap (boundary, each SCP level) must Allow too. Conditions
//! are not evaluated: a conditional Allow is counted as an Allow (the grant exists, under
//! some circumstances) and a conditional Deny is not counted as a Deny (it does not always
//! apply). Both choices make the audit err towards reporting power, never hiding it.

use super::document::{Effect, PolicyDocument, Statement};
use serde::Serialize;

/// Where an identity policy comes from: the "path" an auditor reads in a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicySource {
    /// The policy's name (inline) or managed policy name.
    pub policy: String,
    /// The managed policy's ARN; None for inline policies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    /// The group the policy reaches the user through; None when attached directly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_group: Option<String>,
}

impl PolicySource {
    pub fn describe(&self) -> String {
        // Service control policies carry their `p-…` id where a managed policy has its ARN.
        if self.policy_arn.as_deref().is_some_and(|id| id.starts_with("p-")) {
            return format!("SCP {}", self.policy);
        }
        let kind = if self.policy_arn.is_some() { "managed policy" } else { "inline policy" };
        match &self.via_group {
            Some(group) => format!("{kind} {} via group {group}", self.policy),
            None => format!("{kind} {} (direct)", self.policy),
        }
    }
}

/// One identity policy in force for a principal.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub source: PolicySource,
    pub document: &'a PolicyDocument,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapKind {
    PermissionsBoundary,
    Scp,
}

/// A layer that can only take permissions away: a permissions boundary, or the SCPs
/// attached at one level of the organization (root, an OU, the account).
#[derive(Debug, Clone)]
pub struct Cap<'a> {
    pub kind: CapKind,
    /// e.g. "permissions boundary arn:…" or "SCPs at r-abcd".
    pub label: String,
    pub documents: Vec<(String, &'a PolicyDocument)>,
}

impl Cap<'_> {
    fn allows(&self, action: &str, resource: &str) -> bool {
        let statements = || self.documents.iter().flat_map(|(_, d)| d.statements.iter());
        let denied =
            statements().any(|s| s.effect == Effect::Deny && unconditional_match(s, action, resource));
        if denied {
            return false;
        }
        // An SCP level that holds only Deny statements in the snapshot is taken to carry
        // FullAWSAccess too: AWS attaches it to every node by default, and hand-made
        // snapshots often list only the deny policies.
        let has_allow = statements().any(|s| s.effect == Effect::Allow);
        if !has_allow && self.kind == CapKind::Scp {
            return true;
        }
        statements()
            .any(|s| s.effect == Effect::Allow && s.matches_action(action) && s.matches_resource(resource))
    }
}

fn unconditional_match(statement: &Statement, action: &str, resource: &str) -> bool {
    !statement.is_conditional() && statement.matches_action(action) && statement.matches_resource(resource)
}

/// A principal's identity policies and the caps on them.
#[derive(Debug, Clone, Default)]
pub struct Permissions<'a> {
    pub grants: Vec<Grant<'a>>,
    pub caps: Vec<Cap<'a>>,
}

/// The outcome of one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<'a> {
    /// Allowed by these identity policies; `conditional` when every granting statement has a Condition.
    Allowed { by: Vec<&'a PolicySource>, conditional: bool },
    /// No identity policy allows it.
    NotGranted,
    /// An identity policy explicitly denies it.
    Denied(&'a PolicySource),
    /// Granted, but a cap does not allow it.
    Capped(&'a str),
}

impl<'a> Permissions<'a> {
    /// Lower-case `action`; `resource` an ARN (or a probe standing for any ARN).
    pub fn decide(&'a self, action: &str, resource: &str, with_caps: bool) -> Decision<'a> {
        let mut by = Vec::new();
        let mut unconditional = false;
        for grant in &self.grants {
            for statement in &grant.document.statements {
                if !(statement.matches_action(action) && statement.matches_resource(resource)) {
                    continue;
                }
                match statement.effect {
                    Effect::Deny if !statement.is_conditional() => return Decision::Denied(&grant.source),
                    Effect::Deny => {}
                    Effect::Allow => {
                        if by.last() != Some(&&grant.source) {
                            by.push(&grant.source);
                        }
                        unconditional |= !statement.is_conditional();
                    }
                }
            }
        }
        if by.is_empty() {
            return Decision::NotGranted;
        }
        if with_caps {
            if let Some(cap) = self.caps.iter().find(|c| !c.allows(action, resource)) {
                return Decision::Capped(&cap.label);
            }
        }
        Decision::Allowed { by, conditional: !unconditional }
    }

    pub fn allows(&'a self, action: &str, resource: &str, with_caps: bool) -> bool {
        matches!(self.decide(action, resource, with_caps), Decision::Allowed { .. })
    }

    /// Every statement of every document in play, grants and caps.
    pub fn all_statements(&self) -> impl Iterator<Item = &Statement> {
        let grants = self.grants.iter().flat_map(|g| g.document.statements.iter());
        let caps = self.caps.iter().flat_map(|c| c.documents.iter().flat_map(|(_, d)| d.statements.iter()));
        grants.chain(caps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str) -> PolicySource {
        PolicySource { policy: name.into(), policy_arn: None, via_group: None }
    }

    #[test]
    fn explicit_deny_wins() {
        let allow =
            PolicyDocument::literal(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
        let deny =
            PolicyDocument::literal(r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#);
        let perms = Permissions {
            grants: vec![
                Grant { source: source("a"), document: &allow },
                Grant { source: source("d"), document: &deny },
            ],
            caps: vec![],
        };
        assert!(matches!(perms.decide("iam:createuser", "*", true), Decision::Denied(s) if s.policy == "d"));
    }

    #[test]
    fn a_conditional_deny_does_not_cancel_and_a_conditional_allow_counts() {
        let docs = PolicyDocument::literal(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
               {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#,
        );
        let perms =
            Permissions { grants: vec![Grant { source: source("a"), document: &docs }], caps: vec![] };
        assert!(matches!(
            perms.decide("s3:getobject", "*", true),
            Decision::Allowed { conditional: true, .. }
        ));
    }

    #[test]
    fn a_boundary_caps_and_an_scp_level_of_denies_only_does_not() {
        let allow =
            PolicyDocument::literal(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
        let boundary =
            PolicyDocument::literal(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#);
        let scp = PolicyDocument::literal(
            r#"{"Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#,
        );
        let perms = Permissions {
            grants: vec![Grant { source: source("a"), document: &allow }],
            caps: vec![
                Cap {
                    kind: CapKind::Scp,
                    label: "SCPs at r-1".into(),
                    documents: vec![("deny".into(), &scp)],
                },
                Cap {
                    kind: CapKind::PermissionsBoundary,
                    label: "boundary".into(),
                    documents: vec![("b".into(), &boundary)],
                },
            ],
        };
        assert!(perms.allows("s3:getobject", "*", true));
        assert_eq!(perms.decide("iam:createuser", "*", true), Decision::Capped("boundary"));
        assert_eq!(
            perms.decide("organizations:leaveorganization", "*", true),
            Decision::Capped("SCPs at r-1")
        );
        assert!(perms.allows("iam:createuser", "*", false));
    }
}
