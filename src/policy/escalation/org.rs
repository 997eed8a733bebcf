//! Escalation across accounts: a role in account A that reaches admin, trusted by a
//! principal of account B, makes that principal reach admin too.
//!
//! Each account is searched on its own (`graph.rs`) while it is loaded; what crosses
//! accounts is kept small: the roles whose trust names AWS principals (with their trust
//! policy), and the principals whose identity policies name `sts:AssumeRole` (with only
//! the statements that can bear on it). This pass then follows `sts:AssumeRole` from
//! account to account until nothing new is reached. Edges other than AssumeRole never
//! cross accounts in AWS (a role is passed, and IAM is written, within its own account).

use super::assume::{trust_answer, Caller};
use super::catalogue::Category;
use super::graph::{Escalation, Step};
use super::principal::NodeKind;
use crate::identifiers::arn_account;
use crate::policy::condition::RequestContext;
use crate::policy::document::{Effect, PolicyDocument, Principal, Statement};
use crate::policy::effective::PolicySource;
use crate::policy::engine::{Named, PolicySet, Request, ScpLevel};
use std::collections::{BTreeMap, HashMap};

/// A policy document cut down to the statements that bear on one action.
#[derive(Debug, Clone)]
struct Owned {
    source: PolicySource,
    document: PolicyDocument,
}

fn keep_statements(named: &Named, action: &str) -> Option<Owned> {
    let mut statements: Vec<Statement> =
        named.document.statements.iter().filter(|s| s.matches_action(action)).cloned().collect();
    let had_allow = named.document.statements.iter().any(|s| s.effect == Effect::Allow);
    if had_allow && !statements.iter().any(|s| s.effect == Effect::Allow) {
        // The policy allowed other things only: keep an Allow that matches nothing, so an
        // SCP allow-list level still allows nothing here rather than looking deny-only
        // (which the engine reads as carrying FullAWSAccess).
        statements.extend(
            PolicyDocument::literal(
                r#"{"Statement":[{"Effect":"Allow","Action":"zznothing:zznothing","Resource":"*"}]}"#,
            )
            .statements,
        );
    }
    if statements.is_empty() {
        return None;
    }
    Some(Owned { source: named.source.clone(), document: PolicyDocument { statements, notes: Vec::new() } })
}

/// A principal that may call `sts:AssumeRole` on roles of other accounts.
#[derive(Debug, Clone)]
pub struct ExportedCaller {
    pub arn: String,
    pub kind: NodeKind,
    context: RequestContext,
    scp_levels: Vec<(String, Vec<Owned>)>,
    identity: Vec<Owned>,
    boundary: Option<Owned>,
    /// Its `sts:AssumeRole` decision when the same on every role (every statement that
    /// names the action names it on `*`).
    everywhere: Option<crate::policy::engine::Decision>,
}

impl ExportedCaller {
    pub fn new(arn: &str, kind: NodeKind, context: &RequestContext, policies: &PolicySet) -> ExportedCaller {
        const ACTION: &str = "sts:assumerole";
        let mut caller = ExportedCaller {
            arn: arn.to_string(),
            kind,
            context: context.clone(),
            scp_levels: policies
                .scp_levels
                .iter()
                .map(|l| {
                    (l.label.clone(), l.policies.iter().filter_map(|n| keep_statements(n, ACTION)).collect())
                })
                .collect(),
            identity: policies.identity.iter().filter_map(|n| keep_statements(n, ACTION)).collect(),
            boundary: policies.boundary.as_ref().and_then(|b| keep_statements(b, ACTION)),
            everywhere: None,
        };
        let on_any = caller
            .scp_levels
            .iter()
            .flat_map(|(_, owned)| owned.iter())
            .chain(&caller.identity)
            .chain(&caller.boundary)
            .flat_map(|o| o.document.statements.iter())
            .filter(|s| s.matches_action(ACTION))
            .all(|s| s.names_every_resource());
        if on_any {
            let account = arn_account(arn).unwrap_or_default();
            caller.everywhere = Some(caller.decide(&format!("arn:aws:iam::{account}:role/zzprobe")));
            // Only `decide` reads the policies, and only for a caller without this answer:
            // the organization holds on to every caller, so they are let go.
            caller.scp_levels = Vec::new();
            caller.identity = Vec::new();
            caller.boundary = None;
        }
        caller
    }

    /// Its own policies plainly refuse `sts:AssumeRole` on this role, without asking the
    /// engine: no identity (or boundary) Allow names the role at all. Never refuses what
    /// the engine would allow (a policy variable reads as "may name it").
    fn refuses(&self, role_arn: &str) -> bool {
        const ACTION: &str = "sts:assumerole";
        let allows = |o: &Owned| {
            o.document.statements.iter().any(|s| {
                s.effect == Effect::Allow
                    && s.matches_action(ACTION)
                    && (s.resource_written.is_some() || s.matches_resource(role_arn))
            })
        };
        !self.identity.iter().any(allows) || self.boundary.as_ref().is_some_and(|b| !allows(b))
    }

    fn decide(&self, role_arn: &str) -> crate::policy::engine::Decision {
        fn named(o: &Owned) -> Named<'_> {
            Named { source: o.source.clone(), document: &o.document }
        }
        let set = PolicySet {
            scp_levels: self
                .scp_levels
                .iter()
                .map(|(label, owned)| ScpLevel {
                    label: label.clone(),
                    policies: owned.iter().map(named).collect(),
                })
                .collect(),
            identity: self.identity.iter().map(named).collect(),
            boundary: self.boundary.as_ref().map(named),
        };
        set.decide(&Request { action: "sts:assumerole", resource: role_arn, context: &self.context })
    }
}

/// A role whose trust names AWS principals.
#[derive(Debug, Clone)]
pub struct ExportedRole {
    pub arn: String,
    pub name: String,
    pub trust: PolicyDocument,
}

impl ExportedRole {
    /// The accounts its trust could admit; None: any account (`*`, NotPrincipal).
    fn trusted_accounts(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for statement in self.trust.statements.iter().filter(|s| s.effect == Effect::Allow) {
            match (&statement.principal, &statement.not_principal) {
                (Some(Principal::Anyone), _) | (None, Some(_)) => return None,
                (Some(p), _) => {
                    for entry in p.entries().iter().filter(|e| e.kind == "AWS") {
                        let value = entry.value.trim();
                        if value == "*" {
                            return None;
                        }
                        let account = if value.len() == 12 { Some(value) } else { arn_account(value) };
                        if let Some(account) = account {
                            out.push(account.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        Some(out)
    }
}

/// What one account hands to the organization-wide pass.
#[derive(Debug, Clone, Default)]
pub struct AccountExport {
    pub account: String,
    pub roles: Vec<ExportedRole>,
    pub callers: Vec<ExportedCaller>,
    /// Principals of this account that reach admin by the account's own search.
    pub reached: HashMap<String, Escalation>,
}

/// Escalations found only by crossing accounts, by principal ARN.
pub fn cross_account(exports: &[AccountExport]) -> BTreeMap<String, Escalation> {
    let mut reached: HashMap<&str, Escalation> = HashMap::new();
    for export in exports {
        for (arn, escalation) in &export.reached {
            reached.insert(arn.as_str(), escalation.clone());
        }
    }
    let callers_by_account: HashMap<&str, Vec<&ExportedCaller>> =
        exports.iter().map(|e| (e.account.as_str(), e.callers.iter().collect())).collect();
    let roles: Vec<&ExportedRole> = exports.iter().flat_map(|e| e.roles.iter()).collect();
    let roles_by_arn: HashMap<&str, &ExportedRole> = roles.iter().map(|r| (r.arn.as_str(), *r)).collect();
    let mut found: BTreeMap<String, Escalation> = BTreeMap::new();
    // Roles reached by their own account's search had their same-account callers judged
    // there; a role reached across accounts has not.
    let mut frontier: Vec<(&ExportedRole, bool)> =
        roles.iter().filter(|r| reached.contains_key(r.arn.as_str())).map(|r| (*r, true)).collect();
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for (role, local) in frontier {
            let role_account = arn_account(&role.arn).unwrap_or_default();
            let accounts: Vec<&str> = match role.trusted_accounts() {
                Some(list) => list
                    .iter()
                    .filter_map(|a| callers_by_account.get_key_value(a.as_str()).map(|(k, _)| *k))
                    .collect(),
                None => callers_by_account.keys().copied().collect(),
            };
            let tail = reached[role.arn.as_str()].clone();
            for account in accounts {
                if local && account == role_account {
                    continue;
                }
                for caller in &callers_by_account[account] {
                    // A potential path (through a resource that may not exist) does not stop
                    // the search for a certain one.
                    if reached.get(caller.arn.as_str()).is_some_and(|e| !e.potential || tail.potential) {
                        continue;
                    }
                    // Its own policies refuse sts:AssumeRole on every role: only a trust in its
                    // own account that names it could still let it in.
                    let refused = match &caller.everywhere {
                        Some(everywhere) => everywhere.is_denied(),
                        None => caller.refuses(&role.arn),
                    };
                    if refused && account != role_account {
                        continue;
                    }
                    let trust = trust_answer(
                        &role.trust,
                        &role.arn,
                        "sts:assumerole",
                        Caller::Aws { arn: &caller.arn },
                        &caller.context,
                        &mut Vec::new(),
                    );
                    if trust.decision.is_denied() {
                        continue;
                    }
                    let identity = if trust.names_caller {
                        crate::policy::engine::Decision::Allowed
                    } else if let Some(everywhere) = &caller.everywhere {
                        everywhere.clone()
                    } else if refused {
                        crate::policy::engine::Decision::Denied
                    } else {
                        caller.decide(&role.arn)
                    };
                    let decision = trust.decision.and(identity);
                    if decision.is_denied() {
                        continue;
                    }
                    let mut conditions = decision.conditions().to_vec();
                    for c in &tail.conditions {
                        if !conditions.contains(c) {
                            conditions.push(c.clone());
                        }
                    }
                    let step = Step {
                        principal: caller.arn.clone(),
                        path_id: "sts-001",
                        category: Category::PrincipalAccess,
                        actions: vec!["sts:AssumeRole"],
                        target: role.arn.clone(),
                        effect: format!("assumes role {} in account {role_account}", role.name),
                        conditions: decision.conditions().to_vec(),
                        potential: false,
                    };
                    let mut steps = vec![step];
                    steps.extend(tail.steps.iter().cloned());
                    let escalation = Escalation {
                        steps,
                        admin_node: tail.admin_node.clone(),
                        conditions,
                        potential: tail.potential,
                    };
                    reached.insert(caller.arn.as_str(), escalation.clone());
                    found.insert(caller.arn.clone(), escalation);
                    if let Some(as_role) = roles_by_arn.get(caller.arn.as_str()) {
                        next.push((*as_role, false));
                    }
                }
            }
        }
        frontier = next;
    }
    found
}
