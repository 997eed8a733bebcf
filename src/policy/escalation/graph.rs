//! Who reaches admin, and by which steps, in one account; and across accounts through
//! trust (see [`OrgEscalation`]).
//!
//! Nodes are the account's users, roles and groups. An edge X → T means "X can become or
//! control T"; every edge is one catalogue path whose actions the engine allows X, so
//! SCPs, boundaries, conditions and denies all apply. A node *holds* admin when the engine
//! allows it every action on every resource (or every action but a few, IAM included). A
//! node is admin-*capable* when its caps (SCPs, boundary) would let an admin policy work:
//! writing an admin policy onto a node that is not capable gains nothing, which is how a
//! self-grant under a narrow boundary is told apart from real escalation.
//!
//! The search runs backwards from the admin holders, one layer at a time, so every node's
//! path is a shortest one, and edges that lead nowhere near admin are never evaluated.
//! Candidates are filtered first by the actions their identity policies name at all.

use super::assume::{trust_answer, Caller};
use super::catalogue::{CataloguePath, Category, On, Requirement, Target, EXTRA_PATHS, PATHS};
use super::principal::{Node, NodeKind};
use crate::identifiers::arn_account;
use crate::policy::admin::{AdminPower, ANY_RESOURCE, UNKNOWN_SERVICE_ACTION};
use crate::policy::condition::{substitute, RequestContext};
use crate::policy::document::{Effect, PolicyDocument, ResourceSpec};
use crate::policy::effective::PolicySource;
use crate::policy::engine::{Decision, LevelKind, Named, PolicySet, Request, StatementMatch};
use crate::policy::known_services::is_known_service;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::OnceLock;

const ADMIN_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn admin_document() -> &'static PolicyDocument {
    static DOC: OnceLock<PolicyDocument> = OnceLock::new();
    DOC.get_or_init(|| {
        PolicyDocument::literal(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
    })
}

fn admin_named() -> Named<'static> {
    Named {
        source: PolicySource {
            policy: "an admin policy it writes itself".into(),
            policy_arn: Some(ADMIN_POLICY_ARN.into()),
            via_group: None,
        },
        document: admin_document(),
    }
}

/// Actions that write permissions: a path holding one of these makes its target admin
/// (when the target is capable) rather than borrowing the target's current power.
const PERMISSION_WRITES: &[&str] = &[
    "iam:putuserpolicy",
    "iam:attachuserpolicy",
    "iam:putrolepolicy",
    "iam:attachrolepolicy",
    "iam:putgrouppolicy",
    "iam:attachgrouppolicy",
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:addusertogroup",
    "iam:deleteuserpermissionsboundary",
    "iam:deleterolepermissionsboundary",
    "iam:putuserpermissionsboundary",
    "iam:putrolepermissionsboundary",
];

fn writes_permissions(path: &CataloguePath) -> bool {
    path.needs.iter().any(|n| PERMISSION_WRITES.iter().any(|w| n.action.eq_ignore_ascii_case(w)))
}

/// What a node holds of "every action on every resource".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holding {
    pub power: AdminPower,
    /// Conditions it rests on; empty when unconditional.
    pub conditions: Vec<String>,
}

/// Does `set` allow every action on every resource (or all but a few, IAM included)?
/// Decided with probes, never with policy names: an action of a service that does not
/// exist (only `*`, `*:*` or a NotAction can grant it) and one action per pattern any
/// policy in play names.
pub fn holds_everything(set: &PolicySet, context: &RequestContext) -> Option<Holding> {
    let ask = |action: &str| set.decide(&Request { action, resource: ANY_RESOURCE, context });
    let mut decision = ask(UNKNOWN_SERVICE_ACTION);
    if decision.is_denied() {
        return None;
    }
    let mut excluded = BTreeSet::new();
    let layers = set
        .scp_levels
        .iter()
        .flat_map(|l| l.policies.iter())
        .chain(set.identity.iter())
        .chain(set.boundary.iter());
    let mut probed = BTreeSet::new();
    for statement in layers.flat_map(|n| n.document.statements.iter()) {
        for pattern in statement.action_patterns() {
            if pattern.is_everything() || pattern.service().is_some_and(|s| !is_known_service(s)) {
                continue;
            }
            let probe = pattern.probe();
            if !probed.insert(probe.clone()) {
                continue;
            }
            match ask(&probe) {
                Decision::Denied => {
                    excluded.insert(pattern.written.clone());
                }
                d => decision = decision.and(d),
            }
        }
    }
    let power = if excluded.is_empty() {
        AdminPower::Full
    } else {
        let iam_write =
            ["iam:putrolepolicy", "iam:attachrolepolicy", "iam:putuserpolicy", "iam:attachuserpolicy"];
        if !iam_write.iter().any(|a| !ask(a).is_denied()) {
            return None;
        }
        AdminPower::AllExcept { excluded: excluded.into_iter().collect() }
    };
    Some(Holding { power, conditions: decision.conditions().to_vec() })
}

/// The identity policies that grant the unknown-service probe: the "how" of a holding.
pub fn granting_policies(set: &PolicySet, context: &RequestContext) -> Vec<PolicySource> {
    let request = Request { action: UNKNOWN_SERVICE_ACTION, resource: ANY_RESOURCE, context };
    let evaluation = set.evaluate(&request, true);
    let mut out: Vec<PolicySource> = Vec::new();
    for level in evaluation.levels.iter().filter(|l| l.kind == LevelKind::Identity) {
        for statement in &level.statements {
            if statement.effect == "Allow"
                && matches!(statement.result, StatementMatch::Applies | StatementMatch::AppliesIf(_))
            {
                if let Some(named) = set.identity.iter().find(|n| n.source.describe() == statement.policy) {
                    if !out.contains(&named.source) {
                        out.push(named.source.clone());
                    }
                }
            }
        }
    }
    out
}

/// One step of an escalation path: `principal` uses `actions` (catalogue path `path_id`)
/// and so becomes, or makes admin, `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub principal: String,
    pub path_id: &'static str,
    pub category: Category,
    pub actions: Vec<&'static str>,
    pub target: String,
    /// What the step does, in words.
    pub effect: String,
    /// Conditions the step rests on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The step needs an existing resource the IAM snapshot does not list.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub potential: bool,
}

/// How a node reaches admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub steps: Vec<Step>,
    /// The node that holds admin at the end (may be the principal itself, after a self-grant).
    pub admin_node: String,
    pub conditions: Vec<String>,
    /// Some step needs a resource the snapshot does not list.
    pub potential: bool,
}

impl Escalation {
    /// `alice --iam:PassRole+lambda:CreateFunction--> role/admin-fn (holds admin)`, step by step.
    pub fn describe(&self) -> String {
        self.steps
            .iter()
            .map(|s| {
                format!(
                    "{} uses {} ({}) → {}",
                    short(&s.principal),
                    s.actions.join(" + "),
                    s.path_id,
                    s.effect
                )
            })
            .collect::<Vec<_>>()
            .join("; then ")
    }
}

/// `user/alice` of an ARN (with the account when it is another).
pub fn short(arn: &str) -> String {
    let account = arn_account(arn).unwrap_or("");
    let rest = arn.rsplit_once(':').map_or(arn, |(_, r)| r);
    format!("{rest} ({account})")
}

/// A principal's standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Standing {
    NotAdmin,
    /// Holds admin through its own policies.
    Holds {
        holding: Holding,
        granted_by: Vec<PolicySource>,
    },
    /// Reaches admin through an escalation path.
    Escalates(Escalation),
    /// Its identity policies grant admin, but caps stop it.
    Capped {
        power: AdminPower,
        granted_by: Vec<PolicySource>,
        capped_by: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub kind: NodeKind,
    pub arn: String,
    pub name: String,
    pub standing: Standing,
    pub service_linked: bool,
    pub sso_permission_set: Option<String>,
    pub unknown_policies: Vec<String>,
}

/// Figures for the bench: how large the search was.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SearchStats {
    pub nodes: usize,
    pub candidates: usize,
    pub edges_evaluated: usize,
    pub edges_found: usize,
}

struct NodeFacts {
    holding: Option<Holding>,
    /// Conditions under which an admin policy written onto it would work; None: it would not.
    capable: Option<Vec<String>>,
    /// Bit i: its identity policies name catalogue action i at all.
    actions: Vec<bool>,
    /// A context with the keys an escalation request adds (iam:PolicyARN of the admin policy).
    write_context: RequestContext,
    /// The same for IAM's own actions, which AWS serves from us-east-1 (aws:RequestedRegion).
    iam_context: RequestContext,
    /// Some condition of its identity policies reads `iam:PermissionsBoundary` (the written
    /// principal's boundary, set per target only then).
    asks_boundary: bool,
}

/// Every path the graph tries: the catalogue's, then ours.
pub fn paths() -> &'static [&'static CataloguePath] {
    static ALL: OnceLock<Vec<&'static CataloguePath>> = OnceLock::new();
    // A principal's own policies first: the cheapest edges, and one step whenever they hold.
    ALL.get_or_init(|| {
        let mut all: Vec<&'static CataloguePath> = PATHS.iter().chain(EXTRA_PATHS).collect();
        all.sort_by_key(|p| !matches!(p.target, Target::SelfUser | Target::SelfRole | Target::SelfPrincipal));
        all
    })
}

const COGNITO: &str = "cognito-identity.amazonaws.com";

/// The distinct actions of the catalogue, lower case, and each path's indexes into them.
struct ActionIndex {
    actions: Vec<String>,
    per_path: Vec<Vec<usize>>,
}

fn action_index() -> &'static ActionIndex {
    static INDEX: OnceLock<ActionIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut actions: Vec<String> = Vec::new();
        let per_path = paths()
            .iter()
            .map(|p| {
                p.needs
                    .iter()
                    .map(|n| {
                        let lower = n.action.to_ascii_lowercase();
                        match actions.iter().position(|a| *a == lower) {
                            Some(i) => i,
                            None => {
                                actions.push(lower);
                                actions.len() - 1
                            }
                        }
                    })
                    .collect()
            })
            .collect();
        ActionIndex { actions, per_path }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Certain,
    Potential,
}

/// The escalation analysis of one account.
pub struct AccountGraph<'g> {
    pub nodes: Vec<Node<'g>>,
    facts: Vec<NodeFacts>,
    reached: Vec<Option<Escalation>>,
    pub stats: SearchStats,
}

/// Concrete resources an action is asked on when any resource will do (the attacker names
/// the new function, stack or instance): one per resource pattern of the statements that
/// allow it, wildcards filled in, so that `arn:aws:lambda:*:111122223333:function:*` counts.
fn existential_resources(set: &PolicySet, action: &str, context: &RequestContext) -> Vec<String> {
    let mut out = Vec::new();
    for statement in set.identity.iter().flat_map(|n| n.document.statements.iter()) {
        if statement.effect != Effect::Allow || !statement.matches_action(action) {
            continue;
        }
        let patterns: Vec<String> = match (&statement.resource, statement.resource_with_variables()) {
            (_, Some((written, false))) => written.iter().filter_map(|p| substitute(p, context)).collect(),
            (ResourceSpec::Resource(patterns), None) => patterns.clone(),
            _ => vec![ANY_RESOURCE.to_string()],
        };
        for pattern in patterns {
            let probe = if pattern == "*" {
                ANY_RESOURCE.to_string()
            } else {
                pattern.replace('*', "zzprobe").replace('?', "z")
            };
            if !out.contains(&probe) {
                out.push(probe);
            }
        }
    }
    out
}

impl<'g> AccountGraph<'g> {
    pub fn new(nodes: Vec<Node<'g>>) -> AccountGraph<'g> {
        let index = action_index();
        let facts = nodes
            .iter()
            .map(|node| {
                let holding = if node.kind == NodeKind::Group {
                    None
                } else {
                    holds_everything(&node.policies, &node.context)
                };
                let capable = if node.kind == NodeKind::Group {
                    None
                } else {
                    holds_everything(&node.policies.with_identity(vec![admin_named()]), &node.context)
                        .map(|h| h.conditions)
                };
                let actions = index.actions.iter().map(|a| node.policies.may_allow_action(a)).collect();
                let mut write_context = node.context.clone();
                write_context.set("iam:PolicyARN", vec![ADMIN_POLICY_ARN.to_string()]);
                let mut iam_context = write_context.clone();
                iam_context.set("aws:RequestedRegion", vec!["us-east-1".to_string()]);
                let asks_boundary = node
                    .policies
                    .identity
                    .iter()
                    .flat_map(|n| n.document.statements.iter())
                    .any(|s| s.conditions.iter().any(|c| c.key == "iam:permissionsboundary"));
                NodeFacts { holding, capable, actions, write_context, iam_context, asks_boundary }
            })
            .collect();
        let reached = vec![None; nodes.len()];
        let stats = SearchStats { nodes: nodes.len(), ..Default::default() };
        AccountGraph { nodes, facts, reached, stats }
    }

    fn ask(&self, x: usize, action: &str, resource: &str, context: &RequestContext) -> Decision {
        self.nodes[x].policies.decide(&Request { action, resource, context })
    }

    /// Is X allowed `need` toward T? The decision, or Denied.
    fn need_allowed(
        &self,
        x: usize,
        t: usize,
        path: &CataloguePath,
        need: &super::catalogue::Need,
        trust_names_x: bool,
    ) -> Decision {
        let action = need.action.to_ascii_lowercase();
        let node = &self.nodes[x];
        let context = if action.starts_with("iam:") {
            &self.facts[x].iam_context
        } else {
            &self.facts[x].write_context
        };
        match need.on {
            On::Target => {
                if action == "sts:assumerole" && trust_names_x {
                    // Same-account trust naming X: no identity permission needed, SCPs still apply.
                    let scps_only = PolicySet {
                        scp_levels: node.policies.scp_levels.clone(),
                        identity: vec![admin_named()],
                        boundary: None,
                    };
                    return scps_only.decide(&Request {
                        action: &action,
                        resource: self.nodes[t].arn,
                        context,
                    });
                }
                if self.facts[x].asks_boundary
                    && action.starts_with("iam:")
                    && self.nodes[t].kind != NodeKind::Group
                {
                    // iam:PermissionsBoundary is the boundary of the principal written to.
                    let mut on_target = context.clone();
                    match &self.nodes[t].policies.boundary {
                        Some(b) => on_target.set(
                            "iam:PermissionsBoundary",
                            vec![b.source.policy_arn.clone().unwrap_or_default()],
                        ),
                        None => on_target.set_absent("iam:PermissionsBoundary"),
                    }
                    return self.ask(x, &action, self.nodes[t].arn, &on_target);
                }
                self.ask(x, &action, self.nodes[t].arn, context)
            }
            On::TargetPolicy => {
                let mut best = Decision::Denied;
                for policy in &self.nodes[t].customer_policies {
                    if path.requirement == Requirement::AdminNonDefaultVersion && !has_admin_version(policy) {
                        continue;
                    }
                    match self.ask(x, &action, &policy.arn, context) {
                        Decision::Allowed => return Decision::Allowed,
                        Decision::AllowedIf(c) if best.is_denied() => best = Decision::AllowedIf(c),
                        _ => {}
                    }
                }
                best
            }
            On::PassTarget | On::PassTargetTo(_) => {
                let service = match (need.on, path.target) {
                    (On::PassTargetTo(service), _) | (_, Target::ServiceRole(service)) => service,
                    _ => return Decision::Denied,
                };
                let mut pass = context.clone();
                pass.set("iam:PassedToService", vec![service.to_string()]);
                self.ask(x, &action, self.nodes[t].arn, &pass)
            }
            On::Any => {
                let mut best = Decision::Denied;
                for resource in existential_resources(&node.policies, &action, context) {
                    match self.ask(x, &action, &resource, context) {
                        Decision::Allowed => return Decision::Allowed,
                        Decision::AllowedIf(c) if best.is_denied() => best = Decision::AllowedIf(c),
                        _ => {}
                    }
                }
                best
            }
        }
    }

    /// Every need of `path` for X toward T, and the trust where the target must be assumed.
    pub(crate) fn edge(&mut self, x: usize, t: usize, path: &CataloguePath) -> Decision {
        self.stats.edges_evaluated += 1;
        let target = &self.nodes[t];
        // A cheap filter first: an Allow of X's names the action on T's ARN at all (conditions
        // and policy variables read as "may match"); the engine decides the rest.
        let named = |action: &str| {
            let action = action.to_ascii_lowercase();
            self.nodes[x].policies.identity.iter().flat_map(|n| n.document.statements.iter()).any(|s| {
                s.effect == Effect::Allow && s.matches_action(&action) && s.matches_resource(target.arn)
            })
        };
        let on_target = |n: &&super::catalogue::Need| {
            matches!(n.on, On::Target | On::PassTarget | On::PassTargetTo(_)) && n.action != "sts:AssumeRole"
        };
        if !path.needs.iter().filter(on_target).all(|n| named(n.action)) {
            return Decision::Denied;
        }
        let mut decision = Decision::Allowed;
        let mut trust_names_x = false;
        match path.target {
            Target::AssumableRole | Target::Role
                if path.target == Target::AssumableRole || path.requirement == Requirement::TrustAllowsX =>
            {
                let Some(trust) = target.trust else { return Decision::Denied };
                let answer = trust_answer(
                    trust,
                    target.arn,
                    "sts:assumerole",
                    Caller::Aws { arn: self.nodes[x].arn },
                    &self.nodes[x].context,
                    &mut Vec::new(),
                );
                trust_names_x = answer.names_caller;
                decision = answer.decision;
            }
            // After rewriting the trust, it names X.
            Target::Role => trust_names_x = true,
            Target::ServiceRole(service) => {
                let Some(trust) = target.trust else { return Decision::Denied };
                let mut service_context = RequestContext::new();
                service_context.set(
                    "aws:SourceAccount",
                    vec![arn_account(self.nodes[x].arn).unwrap_or_default().to_string()],
                );
                // Cognito identity pools hand out web-identity tokens: the trust names the
                // service as a Federated principal, with AssumeRoleWithWebIdentity.
                let (caller, action) = if service == COGNITO {
                    (Caller::Federated(service), "sts:assumerolewithwebidentity")
                } else {
                    service_context.set("aws:PrincipalIsAWSService", vec!["true".into()]);
                    (Caller::Service(service), "sts:assumerole")
                };
                decision = trust_answer(trust, target.arn, action, caller, &service_context, &mut Vec::new())
                    .decision;
            }
            _ => {}
        }
        if decision.is_denied() {
            return decision;
        }
        match path.requirement {
            Requirement::TargetHasBoundary if target.policies.boundary.is_none() => return Decision::Denied,
            Requirement::NoLoginProfile if target.has_login_profile == Some(true) => return Decision::Denied,
            Requirement::HasLoginProfile if target.has_login_profile == Some(false) => {
                return Decision::Denied
            }
            Requirement::InstanceProfile if target.in_instance_profile == Some(false) => {
                return Decision::Denied
            }
            _ => {}
        }
        for need in path.needs {
            decision = decision.and(self.need_allowed(x, t, path, need, trust_names_x));
            if decision.is_denied() {
                return decision;
            }
        }
        self.stats.edges_found += 1;
        decision
    }

    /// A cheap filter: X's identity policies name every action of the path at all.
    /// `sts:AssumeRole` is exempt: a same-account trust naming X needs no identity permission.
    fn is_candidate(&self, x: usize, path_index: usize) -> bool {
        let node = &self.nodes[x];
        let index = action_index();
        node.kind != NodeKind::Group
            && !node.service_linked
            && index.per_path[path_index]
                .iter()
                .all(|&a| self.facts[x].actions[a] || index.actions[a] == "sts:assumerole")
    }

    fn targets_of(&self, x: usize, path: &CataloguePath) -> Vec<usize> {
        let kind_of = |kind: NodeKind| (0..self.nodes.len()).filter(move |&t| self.nodes[t].kind == kind);
        let targets: Vec<usize> = match path.target {
            Target::SelfUser if self.nodes[x].kind == NodeKind::User => vec![x],
            Target::SelfRole if self.nodes[x].kind == NodeKind::Role => vec![x],
            Target::SelfUser | Target::SelfRole => vec![],
            Target::SelfPrincipal => vec![x],
            Target::User => kind_of(NodeKind::User).filter(|&t| t != x).collect(),
            Target::Group if self.nodes[x].kind == NodeKind::User => kind_of(NodeKind::Group).collect(),
            Target::Group => vec![],
            Target::AssumableRole | Target::Role | Target::ServiceRole(_) => {
                kind_of(NodeKind::Role).filter(|&t| t != x).collect()
            }
        };
        // Service-linked roles and Identity Center's reserved roles cannot be changed in IAM
        // (IAM answers UnmodifiableEntity): no path that writes them or their trust applies.
        // They are still assumed where their trust allows.
        let writes_target = !matches!(path.target, Target::AssumableRole | Target::ServiceRole(_));
        if writes_target {
            targets
                .into_iter()
                .filter(|&t| !self.nodes[t].service_linked && self.nodes[t].sso_permission_set.is_none())
                .collect()
        } else {
            targets
        }
    }

    /// What T's standing becomes for X once the path's writes are done, if it is admin then.
    pub(crate) fn gained(&self, x: usize, t: usize, path: &CataloguePath) -> Option<(Vec<String>, String)> {
        let target = &self.nodes[t];
        if path.target == Target::Group {
            if path.needs.iter().any(|n| n.action.eq_ignore_ascii_case("iam:AddUserToGroup")) {
                // X joins T: X's caps over the group's policies.
                let joined = self.nodes[x].policies.with_identity(target.policies.identity.clone());
                return holds_everything(&joined, &self.nodes[x].context)
                    .map(|h| (h.conditions, format!("joins group {}, which holds admin", target.name)));
            }
            // A policy written on a group X is in: X gains it.
            if !self.nodes[x].groups.contains(&t) {
                return None;
            }
            return self.facts[x]
                .capable
                .clone()
                .map(|c| (c, format!("writes an admin policy on its group {}", target.name)));
        }
        if path.requirement == Requirement::DenyRemoval {
            let inline = path.needs.iter().any(|n| n.action.starts_with("iam:Delete"));
            let kept: Vec<Named> = target
                .policies
                .identity
                .iter()
                .filter(|n| {
                    let removable = n.source.via_group.is_none() && n.source.policy_arn.is_none() == inline;
                    !(removable && n.document.statements.iter().any(|s| s.effect == Effect::Deny))
                })
                .cloned()
                .collect();
            if kept.len() == target.policies.identity.len() {
                return None;
            }
            return holds_everything(&target.policies.with_identity(kept), &target.context).map(|h| {
                (
                    h.conditions,
                    format!("removes its own Deny policy from {}, which then holds admin", target.name),
                )
            });
        }
        if path.requirement == Requirement::TargetHasBoundary {
            let unbounded = PolicySet { boundary: None, ..target.policies.clone() };
            return holds_everything(&unbounded, &target.context).map(|h| {
                (
                    h.conditions,
                    format!("removes the permissions boundary of {}, which then holds admin", target.name),
                )
            });
        }
        if writes_permissions(path) {
            let what = if t == x { "itself".to_string() } else { target.name.to_string() };
            return self.facts[t].capable.clone().map(|c| (c, format!("gives {what} an admin policy")));
        }
        let escalation = self.reached[t].as_ref()?;
        let how = match path.category {
            Category::NewPassRole | Category::ExistingPassRole => format!("runs code as {}", target.name),
            _ if target.kind == NodeKind::User => format!("acts as user {}", target.name),
            _ => format!("assumes role {}", target.name),
        };
        Some((escalation.conditions.clone(), how))
    }

    /// Runs the search. `seeds`: nodes known from elsewhere (another account) to reach admin.
    pub fn search(&mut self, seeds: Vec<(usize, Escalation)>) {
        for (i, facts) in self.facts.iter().enumerate() {
            if let Some(holding) = &facts.holding {
                self.reached[i] = Some(Escalation {
                    steps: Vec::new(),
                    admin_node: self.nodes[i].arn.to_string(),
                    conditions: holding.conditions.clone(),
                    potential: false,
                });
            }
        }
        for (i, escalation) in seeds {
            if self.reached[i].is_none() {
                self.reached[i] = Some(escalation);
            }
        }
        // Non-potential paths first, so a potential path never hides a certain one. The first
        // round of each phase asks every edge; later rounds only edges into the nodes the
        // round before reached (the others were asked already and cannot have changed).
        for phase in [Phase::Certain, Phase::Potential] {
            let mut frontier: Option<Vec<bool>> = None;
            loop {
                let mut found: Vec<(usize, Escalation)> = Vec::new();
                for x in 0..self.nodes.len() {
                    if self.reached[x].is_some() {
                        continue;
                    }
                    if let Some(escalation) = self.best_edge(x, phase, frontier.as_deref()) {
                        found.push((x, escalation));
                    }
                }
                if found.is_empty() {
                    break;
                }
                let mut next = vec![false; self.nodes.len()];
                for (x, escalation) in found {
                    next[x] = true;
                    self.reached[x] = Some(escalation);
                }
                frontier = Some(next);
            }
        }
    }

    /// X's shortest way to admin through one edge into a node already known, if any.
    fn best_edge(&mut self, x: usize, phase: Phase, frontier: Option<&[bool]>) -> Option<Escalation> {
        let mut best: Option<Escalation> = None;
        for (p, path) in paths().iter().copied().enumerate() {
            let potential = path.category == Category::ExistingPassRole;
            let grants = writes_permissions(path)
                || path.target == Target::Group
                || matches!(path.requirement, Requirement::TargetHasBoundary | Requirement::DenyRemoval);
            let asked = match (phase, frontier) {
                (Phase::Certain, None) => !potential,
                (Phase::Potential, None) => potential,
                // Later rounds: only edges that borrow a target's standing can change.
                (Phase::Certain, Some(_)) => !potential && !grants,
                (Phase::Potential, Some(_)) => !grants,
            };
            if !asked || !self.is_candidate(x, p) {
                continue;
            }
            self.stats.candidates += 1;
            for t in self.targets_of(x, path) {
                if let Some(frontier) = frontier {
                    if !frontier[t] {
                        continue;
                    }
                }
                let Some((conditions, effect)) = self.gained(x, t, path) else { continue };
                let decision = self.edge(x, t, path);
                if decision.is_denied() {
                    continue;
                }
                let tail = if writes_permissions(path)
                    || path.target == Target::Group
                    || matches!(path.requirement, Requirement::TargetHasBoundary | Requirement::DenyRemoval)
                {
                    Escalation {
                        steps: Vec::new(),
                        admin_node: self.nodes[t].arn.to_string(),
                        conditions: Vec::new(),
                        potential: false,
                    }
                } else {
                    self.reached[t].clone().unwrap_or_else(|| Escalation {
                        steps: vec![],
                        admin_node: self.nodes[t].arn.into(),
                        conditions: vec![],
                        potential: false,
                    })
                };
                let mut step_conditions = decision.conditions().to_vec();
                for c in conditions {
                    if !step_conditions.contains(&c) {
                        step_conditions.push(c);
                    }
                }
                let step = Step {
                    principal: self.nodes[x].arn.to_string(),
                    path_id: path.id,
                    category: path.category,
                    actions: path.needs.iter().map(|n| n.action).collect(),
                    target: self.nodes[t].arn.to_string(),
                    effect,
                    conditions: step_conditions.clone(),
                    potential,
                };
                let mut all_conditions = step_conditions;
                for c in &tail.conditions {
                    if !all_conditions.contains(c) {
                        all_conditions.push(c.clone());
                    }
                }
                let mut steps = vec![step];
                steps.extend(tail.steps.iter().cloned());
                let candidate = Escalation {
                    potential: potential || tail.potential,
                    admin_node: tail.admin_node.clone(),
                    conditions: all_conditions,
                    steps,
                };
                let better = match &best {
                    None => true,
                    Some(b) => {
                        (candidate.steps.len(), candidate.conditions.len())
                            < (b.steps.len(), b.conditions.len())
                    }
                };
                if better {
                    // One unconditional step is as short as a path gets: stop looking.
                    let done = candidate.steps.len() == 1 && candidate.conditions.is_empty();
                    best = Some(candidate);
                    if done {
                        return best;
                    }
                }
            }
        }
        best
    }

    pub fn escalation(&self, node: usize) -> Option<&Escalation> {
        self.reached[node].as_ref()
    }

    /// Every user's and role's standing, for the checks.
    pub fn verdicts(&self) -> Vec<Verdict> {
        let mut out = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if node.kind == NodeKind::Group {
                continue;
            }
            let standing = if let Some(holding) = &self.facts[i].holding {
                Standing::Holds {
                    holding: holding.clone(),
                    granted_by: granting_policies(&node.policies, &node.context),
                }
            } else if let Some(escalation) = &self.reached[i] {
                Standing::Escalates(escalation.clone())
            } else {
                self.capped(i).unwrap_or(Standing::NotAdmin)
            };
            out.push(Verdict {
                kind: node.kind,
                arn: node.arn.to_string(),
                name: node.name.to_string(),
                standing,
                service_linked: node.service_linked,
                sso_permission_set: node.sso_permission_set.map(str::to_string),
                unknown_policies: node.unknown_policies.clone(),
            });
        }
        out
    }

    /// Admin by its identity policies alone, but not with its caps: which caps stop it.
    fn capped(&self, i: usize) -> Option<Standing> {
        let node = &self.nodes[i];
        if node.policies.scp_levels.is_empty() && node.policies.boundary.is_none() {
            return None;
        }
        let uncapped =
            PolicySet { scp_levels: Vec::new(), identity: node.policies.identity.clone(), boundary: None };
        let power = self.admin_under(i, &uncapped)?;
        let mut capped_by = Vec::new();
        for level in &node.policies.scp_levels {
            let one = PolicySet { scp_levels: vec![level.clone()], ..uncapped.clone() };
            if self.admin_under(i, &one).is_none() {
                capped_by.push(level.label.clone());
            }
        }
        if let Some(boundary) = &node.policies.boundary {
            let one = PolicySet { boundary: Some(boundary.clone()), ..uncapped.clone() };
            if self.admin_under(i, &one).is_none() {
                capped_by.push(format!("permissions boundary {}", boundary.source.policy));
            }
        }
        if capped_by.is_empty() {
            capped_by = node.policies.scp_levels.iter().map(|l| l.label.clone()).collect();
            capped_by.extend(
                node.policies.boundary.iter().map(|b| format!("permissions boundary {}", b.source.policy)),
            );
        }
        Some(Standing::Capped { power, granted_by: granting_policies(&uncapped, &node.context), capped_by })
    }

    /// Node `i` under `set` instead of its own policies: holds admin, or may grant it to
    /// itself (a self-escalation path whose actions `set` allows, and under which an admin
    /// policy would work).
    fn admin_under(&self, i: usize, set: &PolicySet) -> Option<AdminPower> {
        let node = &self.nodes[i];
        if let Some(holding) = holds_everything(set, &node.context) {
            return Some(holding.power);
        }
        holds_everything(&set.with_identity(vec![admin_named()]), &node.context)?;
        let context = &self.facts[i].iam_context;
        let methods: Vec<String> = paths()
            .iter()
            .filter(|p| {
                let own = match p.target {
                    Target::SelfUser => node.kind == NodeKind::User,
                    Target::SelfRole => node.kind == NodeKind::Role,
                    Target::SelfPrincipal => true,
                    _ => false,
                };
                own && p.requirement == Requirement::None && writes_permissions(p)
            })
            .filter(|p| {
                p.needs.iter().all(|need| {
                    let action = need.action.to_ascii_lowercase();
                    let ask = |resource: &str| {
                        !set.decide(&Request { action: &action, resource, context }).is_denied()
                    };
                    match need.on {
                        On::Target => ask(node.arn),
                        On::TargetPolicy => node.customer_policies.iter().any(|policy| ask(&policy.arn)),
                        _ => false,
                    }
                })
            })
            .map(|p| {
                format!("{} ({})", p.needs.iter().map(|n| n.action).collect::<Vec<_>>().join(" + "), p.id)
            })
            .collect();
        (!methods.is_empty()).then_some(AdminPower::CanGrantItself { methods })
    }
}

fn has_admin_version(policy: &crate::snapshot::authorization::ManagedPolicy) -> bool {
    policy.other_versions.iter().any(|(_, raw)| {
        PolicyDocument::from_raw(raw).ok().is_some_and(|document| {
            let set = PolicySet {
                identity: vec![Named {
                    source: PolicySource { policy: policy.name.clone(), policy_arn: None, via_group: None },
                    document: &document,
                }],
                ..Default::default()
            };
            holds_everything(&set, &RequestContext::new()).is_some()
        })
    })
}
