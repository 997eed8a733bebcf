//! The one place that answers "is this request allowed": AWS's evaluation logic for one
//! principal, one action, one resource and what is known of the request's context.
//!
//! Layers, in AWS's order: the SCPs at every level of the account's OU path (each level must
//! allow, any may deny), the identity policies (inline, the default version of each attached
//! managed policy, and those of the user's groups), and the permissions boundary. An explicit
//! Deny anywhere wins. Resource-based policies (trust policies) are judged by
//! `escalation::trust`, session policies are out of scope: the engine answers for the
//! principal's own credentials, not for a session narrowed further.
//!
//! The answer has three values: allowed, allowed only when named conditions hold, denied.
//! Conditions on keys the snapshot cannot know (MFA, source IP, time) are never guessed:
//! they come back as the conditions the answer rests on. With `trace`, every statement's
//! part in the decision is kept, level by level, for `iam-auditor explain`.

use super::condition::{self, RequestContext, Truth};
use super::document::{Effect, PolicyDocument, Statement};
use super::effective::PolicySource;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One request, as the engine is asked it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Lower case, e.g. `iam:attachrolepolicy`.
    pub action: &'a str,
    /// An ARN, or `*` for actions that take no resource.
    pub resource: &'a str,
    pub context: &'a RequestContext,
}

/// A named policy document in one layer.
#[derive(Debug, Clone)]
pub struct Named<'a> {
    /// Shared by every principal the policy is attached to.
    pub source: Arc<PolicySource>,
    pub document: &'a PolicyDocument,
}

/// The SCPs attached at one node of the organization (root, an OU, the account).
#[derive(Debug, Clone)]
pub struct ScpLevel<'a> {
    /// e.g. `SCPs at ou-abcd (DenyIAM + FullAWSAccess)`.
    pub label: String,
    pub policies: Vec<Named<'a>>,
}

/// Everything in force for one principal.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    /// Root first. Empty for the management account and for service-linked roles.
    /// Shared by every principal of an account (cloning a set copies no level).
    pub scp_levels: Arc<[ScpLevel<'a>]>,
    pub identity: Vec<Named<'a>>,
    pub boundary: Option<Named<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", content = "conditions", rename_all = "kebab-case")]
pub enum Decision {
    Allowed,
    /// Allowed when every listed condition holds (a Deny's condition appears negated).
    AllowedIf(Vec<String>),
    Denied,
}

impl Decision {
    pub fn is_denied(&self) -> bool {
        matches!(self, Decision::Denied)
    }

    /// The conditions it rests on; empty when unconditional.
    pub fn conditions(&self) -> &[String] {
        match self {
            Decision::AllowedIf(c) => c,
            _ => &[],
        }
    }

    /// Both allowed: the union of the conditions each rests on. Denied if either is.
    pub fn and(self, other: Decision) -> Decision {
        match (self, other) {
            (Decision::Denied, _) | (_, Decision::Denied) => Decision::Denied,
            (Decision::Allowed, d) | (d, Decision::Allowed) => d,
            (Decision::AllowedIf(mut a), Decision::AllowedIf(b)) => {
                for c in b {
                    if !a.contains(&c) {
                        a.push(c);
                    }
                }
                Decision::AllowedIf(a)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LevelKind {
    Scp,
    Identity,
    PermissionsBoundary,
}

/// What one statement did to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", content = "why", rename_all = "kebab-case")]
pub enum StatementMatch {
    Applies,
    /// Applies when these conditions hold.
    AppliesIf(Vec<String>),
    ActionNotMatched,
    ResourceNotMatched,
    ConditionFails(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementTrace {
    pub policy: String,
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: &'static str,
    #[serde(flatten)]
    pub result: StatementMatch,
}

/// A layer's verdict on the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "conditions", rename_all = "kebab-case")]
pub enum LevelOutcome {
    Allows,
    AllowsIf(Vec<String>),
    /// No statement allows it: an implicit deny.
    NoAllow,
    Denies,
    /// An explicit Deny applies when these conditions hold.
    DeniesIf(Vec<String>),
    /// Denies when the first conditions hold; allows when the second hold.
    AllowsIfNotDenied {
        deny_if: Vec<String>,
        allow_if: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelTrace {
    pub kind: LevelKind,
    pub label: String,
    pub outcome: LevelOutcome,
    /// Every statement of the layer, when traced; empty otherwise.
    pub statements: Vec<StatementTrace>,
    /// A level with no Allow at all, read as carrying FullAWSAccess (see `evaluate`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub implicit_full_access: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    #[serde(flatten)]
    pub decision: Decision,
    pub levels: Vec<LevelTrace>,
    /// Conditions the engine could not read (unknown operator, bad value), named.
    pub problems: Vec<String>,
}

/// Judges one statement: does it apply to the request?
pub fn statement_match(
    statement: &Statement,
    request: &Request,
    problems: &mut Vec<String>,
) -> StatementMatch {
    statement_match_explained(statement, request, true, problems)
}

/// [`statement_match`]; with `explain` false, a failing condition's reason is left empty.
fn statement_match_explained(
    statement: &Statement,
    request: &Request,
    explain: bool,
    problems: &mut Vec<String>,
) -> StatementMatch {
    if !statement.matches_action(request.action) {
        return StatementMatch::ActionNotMatched;
    }
    if !resource_matches(statement, request) {
        return StatementMatch::ResourceNotMatched;
    }
    if statement.conditions.is_empty() {
        return StatementMatch::Applies;
    }
    let verdict = condition::evaluate_explained(&statement.conditions, request.context, explain);
    problems.extend(verdict.problems);
    match verdict.truth {
        Truth::Holds => StatementMatch::Applies,
        Truth::Fails(why) => StatementMatch::ConditionFails(why),
        Truth::Depends(on) => StatementMatch::AppliesIf(on),
    }
}

/// Resource patterns with policy variables (`user/${aws:username}`) are matched with the
/// variables filled in from the request; one whose variable is unknown matches nothing,
/// since it cannot be shown to name this resource.
pub(crate) fn resource_matches(statement: &Statement, request: &Request) -> bool {
    if request.resource == "*" {
        // An action without a resource: only `*`-like grants carry it.
        return statement.matches_resource(super::admin::ANY_RESOURCE) || statement.matches_resource("*");
    }
    match statement.resource_with_variables() {
        None => statement.matches_resource(request.resource),
        Some((patterns, negated)) => {
            let hit = patterns.iter().any(|p| match condition::substitute(p, request.context) {
                Some(p) => super::pattern::wildcard_match(&p, request.resource),
                None => false,
            });
            hit != negated
        }
    }
}

struct LayerScan {
    outcome: LevelOutcome,
    statements: Vec<StatementTrace>,
    implicit_full_access: bool,
}

fn scan_layer(
    policies: &[Named],
    request: &Request,
    trace: bool,
    scp: bool,
    problems: &mut Vec<String>,
) -> LayerScan {
    let mut statements = Vec::new();
    let mut allow: Option<Vec<String>> = None; // Some(empty): unconditional
    let mut deny: Option<Vec<String>> = None;
    let mut has_allow_statement = false;
    for named in policies {
        for (index, statement) in named.document.statements.iter().enumerate() {
            has_allow_statement |= statement.effect == Effect::Allow;
            let result = statement_match_explained(statement, request, trace, problems);
            match (&result, statement.effect) {
                (StatementMatch::Applies, Effect::Allow) => allow = Some(Vec::new()),
                (StatementMatch::AppliesIf(on), Effect::Allow) if allow.is_none() => allow = Some(on.clone()),
                (StatementMatch::Applies, Effect::Deny) => deny = Some(Vec::new()),
                (StatementMatch::AppliesIf(on), Effect::Deny) => match &mut deny {
                    Some(existing) if existing.is_empty() => {}
                    Some(existing) => existing.extend(on.iter().cloned()),
                    None => deny = Some(on.clone()),
                },
                _ => {}
            }
            if trace {
                statements.push(StatementTrace {
                    policy: named.source.describe(),
                    statement: index,
                    sid: statement.sid.clone(),
                    effect: if statement.effect == Effect::Allow { "Allow" } else { "Deny" },
                    result,
                });
            } else if matches!(deny.as_deref(), Some([])) {
                break;
            }
        }
    }
    // An SCP level holding only Deny statements is read as also carrying FullAWSAccess:
    // AWS attaches it to every node by default, and hand-made snapshots often list only
    // the deny policies. (An allow-list level names its Allows and is judged as written.)
    let implicit_full_access = scp && !has_allow_statement;
    if implicit_full_access {
        allow = Some(Vec::new());
    }
    let outcome = match (deny, allow) {
        (Some(d), _) if d.is_empty() => LevelOutcome::Denies,
        (Some(d), None) => LevelOutcome::DeniesIf(d),
        (Some(d), Some(a)) => LevelOutcome::AllowsIfNotDenied { deny_if: d, allow_if: a },
        (None, None) => LevelOutcome::NoAllow,
        (None, Some(a)) if a.is_empty() => LevelOutcome::Allows,
        (None, Some(a)) => LevelOutcome::AllowsIf(a),
    };
    LayerScan { outcome, statements, implicit_full_access }
}

/// The condition under which a conditional Deny leaves the request allowed, in words.
pub fn deny_does_not_apply(deny_conditions: &[String]) -> String {
    format!("a Deny does not apply (it applies when {})", deny_conditions.join(" and "))
}

/// The decision one layer contributes: deny, allow, or allow under conditions (a
/// conditional Deny contributes "a Deny does not apply (it applies when …)").
fn layer_decision(outcome: &LevelOutcome) -> Decision {
    match outcome {
        LevelOutcome::Allows => Decision::Allowed,
        LevelOutcome::AllowsIf(a) => Decision::AllowedIf(a.clone()),
        LevelOutcome::NoAllow | LevelOutcome::Denies => Decision::Denied,
        // A conditional deny alone still leaves no allow at this layer.
        LevelOutcome::DeniesIf(_) => Decision::Denied,
        LevelOutcome::AllowsIfNotDenied { deny_if, allow_if } => {
            let mut all = allow_if.clone();
            all.push(deny_does_not_apply(deny_if));
            Decision::AllowedIf(all)
        }
    }
}

impl PolicySet<'_> {
    /// Evaluates one request. With `trace`, every statement's part is kept.
    pub fn evaluate(&self, request: &Request, trace: bool) -> Evaluation {
        let mut problems = Vec::new();
        let mut levels = Vec::new();
        let mut decision = Decision::Allowed;
        let mut layers: Vec<(LevelKind, String, &[Named])> = self
            .scp_levels
            .iter()
            .map(|l| (LevelKind::Scp, l.label.clone(), l.policies.as_slice()))
            .collect();
        layers.push((LevelKind::Identity, "identity policies".to_string(), self.identity.as_slice()));
        if let Some(boundary) = &self.boundary {
            layers.push((
                LevelKind::PermissionsBoundary,
                format!("permissions boundary {}", boundary.source.policy),
                std::slice::from_ref(boundary),
            ));
        }
        for (kind, label, policies) in layers {
            let scan = scan_layer(policies, request, trace, kind == LevelKind::Scp, &mut problems);
            decision = decision.and(layer_decision(&scan.outcome));
            levels.push(LevelTrace {
                kind,
                label,
                outcome: scan.outcome,
                statements: scan.statements,
                implicit_full_access: scan.implicit_full_access,
            });
            if decision.is_denied() && !trace {
                break;
            }
        }
        Evaluation { decision, levels, problems }
    }

    /// The decision alone, as fast as the engine goes: [`Self::evaluate`] untraced, without
    /// building the levels' labels and traces nobody reads (the escalation search asks this
    /// millions of times).
    pub fn decide(&self, request: &Request) -> Decision {
        let mut problems = Vec::new();
        let mut decision = Decision::Allowed;
        let scps = self.scp_levels.iter().map(|l| (l.policies.as_slice(), true));
        let rest = std::iter::once((self.identity.as_slice(), false))
            .chain(self.boundary.iter().map(|b| (std::slice::from_ref(b), false)));
        for (policies, scp) in scps.chain(rest) {
            let scan = scan_layer(policies, request, false, scp, &mut problems);
            decision = decision.and(layer_decision(&scan.outcome));
            if decision.is_denied() {
                break;
            }
        }
        decision
    }

    /// Could any identity policy allow `action` on some resource? A cheap filter before
    /// asking resource by resource; never decides anything by itself.
    pub fn may_allow_action(&self, action: &str) -> bool {
        self.identity
            .iter()
            .flat_map(|n| n.document.statements.iter())
            .any(|s| s.effect == Effect::Allow && s.matches_action(action))
    }

    /// The same principal with its identity policies replaced by one granting everything:
    /// what it would hold after writing itself an admin policy (caps still apply).
    pub fn with_identity<'b>(&self, identity: Vec<Named<'b>>) -> PolicySet<'b>
    where
        Self: 'b,
    {
        PolicySet { scp_levels: self.scp_levels.clone(), identity, boundary: self.boundary.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, document: &PolicyDocument) -> Named<'static> {
        let document: &'static PolicyDocument = Box::leak(Box::new(document.clone()));
        Named {
            source: Arc::new(PolicySource { policy: name.into(), policy_arn: None, via_group: None }),
            document,
        }
    }

    fn doc(statements: &str) -> PolicyDocument {
        PolicyDocument::literal(&format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
    }

    fn context(principal: &str) -> RequestContext {
        let mut c = RequestContext::new();
        c.set("aws:PrincipalArn", vec![principal.to_string()]);
        c.set("aws:username", vec![principal.rsplit('/').next().unwrap().to_string()]);
        c
    }

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    fn ask(set: &PolicySet, action: &str, resource: &str) -> Decision {
        let ctx = context(ALICE);
        set.decide(&Request { action, resource, context: &ctx })
    }

    #[test]
    fn identity_allow_and_implicit_deny() {
        let set = PolicySet {
            identity: vec![named("s3", &doc(r#"{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}"#))],
            ..Default::default()
        };
        assert_eq!(ask(&set, "s3:getobject", "arn:aws:s3:::b/k"), Decision::Allowed);
        assert_eq!(ask(&set, "s3:putobject", "arn:aws:s3:::b/k"), Decision::Denied);
    }

    /// `decide` skips the traces and labels; its answer is `evaluate`'s, traced or not.
    #[test]
    fn decide_answers_what_evaluate_answers() {
        let admin = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        let deny_only = doc(r#"{"Effect":"Deny","Action":"iam:*","Resource":"arn:aws:iam::*:role/prod-*"}"#);
        let mfa = doc(
            r#"{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
               {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}"#,
        );
        let boundary = doc(r#"{"Effect":"Allow","Action":["iam:*","s3:*"],"Resource":"*"}"#);
        let set = PolicySet {
            scp_levels: vec![ScpLevel { label: "root".into(), policies: vec![named("deny", &deny_only)] }]
                .into(),
            identity: vec![named("mfa", &mfa), named("admin", &admin)],
            boundary: Some(named("boundary", &boundary)),
        };
        let ctx = context(ALICE);
        for (action, resource) in [
            ("iam:putrolepolicy", "arn:aws:iam::111122223333:role/prod-app"),
            ("iam:putrolepolicy", "arn:aws:iam::111122223333:role/dev-app"),
            ("s3:getobject", "arn:aws:s3:::b/k"),
            ("ec2:runinstances", "*"),
        ] {
            let request = Request { action, resource, context: &ctx };
            let decided = set.decide(&request);
            assert_eq!(decided, set.evaluate(&request, false).decision, "{action} on {resource}");
            assert_eq!(decided, set.evaluate(&request, true).decision, "{action} on {resource}");
        }
    }

    #[test]
    fn explicit_deny_wins_in_any_layer() {
        let admin = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        let deny_iam = doc(r#"{"Effect":"Deny","Action":"iam:*","Resource":"*"}"#);
        let set = PolicySet {
            scp_levels: vec![ScpLevel { label: "root".into(), policies: vec![named("deny", &deny_iam)] }]
                .into(),
            identity: vec![named("admin", &admin)],
            boundary: None,
        };
        assert_eq!(ask(&set, "iam:createuser", "*"), Decision::Denied);
        assert_eq!(
            ask(&set, "s3:getobject", "arn:aws:s3:::b/k"),
            Decision::Allowed,
            "implicit FullAWSAccess"
        );
        let set = PolicySet {
            identity: vec![named("admin", &admin), named("deny", &deny_iam)],
            ..Default::default()
        };
        assert_eq!(ask(&set, "iam:createuser", "*"), Decision::Denied);
    }

    #[test]
    fn an_allow_list_scp_level_must_allow() {
        let admin = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        let allow_s3 = doc(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
        let set = PolicySet {
            scp_levels: vec![
                ScpLevel { label: "root".into(), policies: vec![named("full", &admin)] },
                ScpLevel { label: "ou".into(), policies: vec![named("s3-only", &allow_s3)] },
            ]
            .into(),
            identity: vec![named("admin", &admin)],
            boundary: None,
        };
        assert_eq!(ask(&set, "s3:getobject", "*"), Decision::Allowed);
        assert_eq!(ask(&set, "iam:createuser", "*"), Decision::Denied);
    }

    #[test]
    fn the_boundary_caps() {
        let admin = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        let boundary = doc(r#"{"Effect":"Allow","Action":["s3:*","cloudwatch:*"],"Resource":"*"}"#);
        let set = PolicySet {
            identity: vec![named("admin", &admin)],
            boundary: Some(named("b", &boundary)),
            ..Default::default()
        };
        assert_eq!(ask(&set, "s3:getobject", "*"), Decision::Allowed);
        assert_eq!(ask(&set, "iam:putuserpolicy", ALICE), Decision::Denied);
    }

    #[test]
    fn a_deny_unless_break_glass_scp_is_decided_by_the_principal_arn() {
        let admin = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        let scp = doc(
            r#"{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/break-glass"}}}"#,
        );
        let set = PolicySet {
            scp_levels: vec![ScpLevel { label: "root".into(), policies: vec![named("guard", &scp)] }].into(),
            identity: vec![named("admin", &admin)],
            boundary: None,
        };
        assert_eq!(ask(&set, "iam:createuser", "*"), Decision::Denied, "alice is not break-glass");
        let ctx = context("arn:aws:iam::111122223333:role/break-glass");
        assert_eq!(
            set.decide(&Request { action: "iam:createuser", resource: "*", context: &ctx }),
            Decision::Allowed
        );
    }

    #[test]
    fn unknown_keys_give_a_conditional_answer() {
        let mfa_allow = doc(
            r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}"#,
        );
        let set = PolicySet { identity: vec![named("mfa", &mfa_allow)], ..Default::default() };
        let d = ask(&set, "ec2:runinstances", "*");
        assert!(
            matches!(&d, Decision::AllowedIf(c) if c.len() == 1 && c[0].contains("MultiFactorAuthPresent")),
            "{d:?}"
        );

        let admin = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        let deny_ip = doc(
            r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
        );
        let set =
            PolicySet { identity: vec![named("admin", &admin), named("ip", &deny_ip)], ..Default::default() };
        let d = ask(&set, "ec2:runinstances", "*");
        assert!(
            matches!(&d, Decision::AllowedIf(c) if c[0].starts_with("a Deny does not apply (it applies when NotIpAddress")),
            "{d:?}"
        );
    }

    #[test]
    fn resource_variables_name_only_the_caller() {
        let own_keys = doc(
            r#"{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}"#,
        );
        let set = PolicySet { identity: vec![named("own", &own_keys)], ..Default::default() };
        assert_eq!(ask(&set, "iam:createaccesskey", ALICE), Decision::Allowed);
        assert_eq!(
            ask(&set, "iam:createaccesskey", "arn:aws:iam::111122223333:user/admin"),
            Decision::Denied
        );
    }

    #[test]
    fn the_trace_names_every_statement_and_why() {
        let d = doc(
            r#"{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"Own","Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::111122223333:user/bob"}"#,
        );
        let set = PolicySet { identity: vec![named("p", &d)], ..Default::default() };
        let ctx = context(ALICE);
        let e = set.evaluate(&Request { action: "iam:putuserpolicy", resource: ALICE, context: &ctx }, true);
        assert_eq!(e.decision, Decision::Denied);
        let identity = &e.levels[0];
        assert_eq!(identity.outcome, LevelOutcome::NoAllow);
        assert_eq!(identity.statements[0].result, StatementMatch::ActionNotMatched);
        assert_eq!(identity.statements[1].result, StatementMatch::ResourceNotMatched);
    }
}
