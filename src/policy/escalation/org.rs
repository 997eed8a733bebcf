//! Escalation across accounts: a role in account A that reaches admin, trusted by a
//! principal of account B, makes that principal reach admin too.
//!
//! Each account is searched on its own (`graph.rs`) while it is loaded; what crosses
//! accounts is kept small, since the organization holds every account's export at once:
//! the roles another account could use (their trust names AWS principals of another
//! account, or the role might itself be reached from one), with their trust policy and
//! their own account's path to admin; and the principals whose identity policies name
//! `sts:AssumeRole`, with only the statements that can bear on it and their tags (their
//! request context is made again when this pass needs it). This pass then follows
//! `sts:AssumeRole` from account to account until nothing new is reached. Edges other than
//! AssumeRole never cross accounts in AWS (a role is passed, and IAM is written, within its
//! own account).

use super::assume::{trust_answer, Caller};
use super::catalogue::Category;
use super::graph::{Escalation, Step};
use super::principal::{principal_context, Node, NodeKind};
use crate::identifiers::{arn_account, AccountId};
use crate::policy::condition::RequestContext;
use crate::policy::document::{Effect, PolicyDocument, Principal, Statement};
use crate::policy::effective::PolicySource;
use crate::policy::engine::{Decision, Named, PolicySet, Request, ScpLevel};
use crate::snapshot::authorization::Tag;
use crate::snapshot::organization::Organization;
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
    name: String,
    /// What its request context is made from (with its account and the organization).
    tags: Vec<Tag>,
    /// It reaches admin by its own account's search: `Some(potential)`.
    reached: Option<bool>,
    scp_levels: Vec<(String, Vec<Owned>)>,
    identity: Vec<Owned>,
    boundary: Option<Owned>,
    /// Its `sts:AssumeRole` decision when the same on every role (every statement that
    /// names the action names it on `*`).
    everywhere: Option<Decision>,
}

impl ExportedCaller {
    /// `node` of `tags`, and how its own account's search found it (`reached`).
    pub fn new(node: &Node, tags: &[Tag], reached: Option<&Escalation>) -> ExportedCaller {
        const ACTION: &str = "sts:assumerole";
        let policies = &node.policies;
        let mut caller = ExportedCaller {
            arn: node.arn.to_string(),
            kind: node.kind,
            name: node.name.to_string(),
            tags: tags.to_vec(),
            reached: reached.map(|e| e.potential),
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
            let account = arn_account(node.arn).unwrap_or_default();
            caller.everywhere =
                Some(caller.decide(&format!("arn:aws:iam::{account}:role/zzprobe"), &node.context));
            // Only `decide` reads the policies, and only for a caller without this answer:
            // the organization holds on to every caller, so they are let go.
            caller.scp_levels = Vec::new();
            caller.identity = Vec::new();
            caller.boundary = None;
        }
        caller
    }

    /// The request context the snapshot decides for it, as its account's search had it.
    fn context(&self, account: &AccountId, organization: &Organization) -> RequestContext {
        principal_context(self.kind, &self.arn, &self.name, account, &self.tags, organization)
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

    fn decide(&self, role_arn: &str, context: &RequestContext) -> Decision {
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
        set.decide(&Request { action: "sts:assumerole", resource: role_arn, context })
    }
}

/// A role whose trust names AWS principals.
#[derive(Debug, Clone)]
pub struct ExportedRole {
    pub arn: String,
    pub name: String,
    pub trust: PolicyDocument,
    /// How it reaches admin by its own account's search.
    pub reached: Option<Escalation>,
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

    /// Another account could use it: its trust admits another account's principals, or it
    /// may call `sts:AssumeRole` itself (`caller`) and reaches admin at home only potentially
    /// or not at all, so that a path found through another account would matter to its own
    /// callers.
    pub fn crosses_accounts(&self, caller: bool) -> bool {
        let account = arn_account(&self.arn).unwrap_or_default();
        let admits_others = self.trusted_accounts().is_none_or(|list| list.iter().any(|a| a != account));
        admits_others || (caller && self.reached.as_ref().is_none_or(|e| e.potential))
    }
}

/// What one account hands to the organization-wide pass.
#[derive(Debug, Clone)]
pub struct AccountExport {
    pub account: AccountId,
    /// The roles another account could use ([`ExportedRole::crosses_accounts`]).
    pub roles: Vec<ExportedRole>,
    pub callers: Vec<ExportedCaller>,
}

impl AccountExport {
    pub fn new(account: AccountId) -> AccountExport {
        AccountExport { account, roles: Vec::new(), callers: Vec::new() }
    }
}

/// Escalations found only by crossing accounts, by principal ARN.
pub fn cross_account(exports: &[AccountExport], organization: &Organization) -> BTreeMap<String, Escalation> {
    // How each role reaches admin, and whether each caller does (`potential`): by its own
    // account's search first, then by this pass.
    let mut tails: HashMap<&str, Escalation> = exports
        .iter()
        .flat_map(|e| &e.roles)
        .filter_map(|r| r.reached.clone().map(|e| (r.arn.as_str(), e)))
        .collect();
    let mut reached: HashMap<&str, bool> = exports
        .iter()
        .flat_map(|e| &e.callers)
        .filter_map(|c| c.reached.map(|potential| (c.arn.as_str(), potential)))
        .collect();
    let mut contexts: HashMap<&str, RequestContext> = HashMap::new();
    let account_ids: HashMap<&str, &AccountId> =
        exports.iter().map(|e| (e.account.as_str(), &e.account)).collect();
    let callers_by_account: HashMap<&str, &[ExportedCaller]> =
        exports.iter().map(|e| (e.account.as_str(), e.callers.as_slice())).collect();
    let roles: Vec<&ExportedRole> = exports.iter().flat_map(|e| e.roles.iter()).collect();
    let roles_by_arn: HashMap<&str, &ExportedRole> = roles.iter().map(|r| (r.arn.as_str(), *r)).collect();
    let mut found: BTreeMap<String, Escalation> = BTreeMap::new();
    // Roles reached by their own account's search had their same-account callers judged
    // there; a role reached across accounts has not.
    let mut frontier: Vec<(&ExportedRole, bool)> =
        roles.iter().filter(|r| r.reached.is_some()).map(|r| (*r, true)).collect();
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
            let tail = tails[role.arn.as_str()].clone();
            for account in accounts {
                if local && account == role_account {
                    continue;
                }
                for caller in callers_by_account[account] {
                    // A potential path (through a resource that may not exist) does not stop
                    // the search for a certain one.
                    if reached.get(caller.arn.as_str()).is_some_and(|potential| !potential || tail.potential)
                    {
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
                    let context = contexts
                        .entry(caller.arn.as_str())
                        .or_insert_with(|| caller.context(account_ids[account], organization));
                    let trust = trust_answer(
                        &role.trust,
                        &role.arn,
                        "sts:assumerole",
                        Caller::Aws { arn: &caller.arn },
                        context,
                        &mut Vec::new(),
                    );
                    if trust.decision.is_denied() {
                        continue;
                    }
                    let identity = if trust.names_caller {
                        Decision::Allowed
                    } else if let Some(everywhere) = &caller.everywhere {
                        everywhere.clone()
                    } else if refused {
                        Decision::Denied
                    } else {
                        caller.decide(&role.arn, context)
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
                    reached.insert(caller.arn.as_str(), escalation.potential);
                    if let Some(as_role) = roles_by_arn.get(caller.arn.as_str()) {
                        tails.insert(as_role.arn.as_str(), escalation.clone());
                        next.push((*as_role, false));
                    }
                    found.insert(caller.arn.clone(), escalation);
                }
            }
        }
        frontier = next;
    }
    found
}
