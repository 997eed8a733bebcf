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
use crate::policy::document::{Effect, PolicyDocument, ResourceSpec, Statement};
use crate::policy::effective::PolicySource;
use crate::policy::engine::{
    resource_matches, Decision, LevelKind, Named, PolicySet, Request, StatementMatch,
};
use crate::policy::known_services::is_known_service;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

const ADMIN_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn admin_document() -> &'static PolicyDocument {
    static DOC: OnceLock<PolicyDocument> = OnceLock::new();
    DOC.get_or_init(|| {
        PolicyDocument::literal(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
    })
}

fn admin_named() -> Named<'static> {
    static SOURCE: OnceLock<Arc<PolicySource>> = OnceLock::new();
    let source = SOURCE.get_or_init(|| {
        Arc::new(PolicySource {
            policy: "an admin policy it writes itself".into(),
            policy_arn: Some(ADMIN_POLICY_ARN.into()),
            via_group: None,
        })
    });
    Named { source: source.clone(), document: admin_document() }
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

/// What kind of gain a path is, worked out once per path.
struct PathFlags {
    /// Writes permissions (see [`PERMISSION_WRITES`]).
    writes: bool,
    /// Makes its target admin itself (writes, joins a group, removes a cap) rather than
    /// borrowing the target's current standing.
    grants: bool,
    /// Existing-passrole: needs a resource the snapshot does not list.
    potential: bool,
}

fn path_flags() -> &'static [PathFlags] {
    static FLAGS: OnceLock<Vec<PathFlags>> = OnceLock::new();
    FLAGS.get_or_init(|| {
        paths()
            .iter()
            .map(|path| {
                let writes = writes_permissions(path);
                PathFlags {
                    writes,
                    grants: writes
                        || path.target == Target::Group
                        || matches!(
                            path.requirement,
                            Requirement::TargetHasBoundary | Requirement::DenyRemoval
                        ),
                    potential: path.category == Category::ExistingPassRole,
                }
            })
            .collect()
    })
}

/// What a node holds of "every action on every resource".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
                        out.push(PolicySource::clone(&named.source));
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

/// Read back as written (the audit parks verdicts on disk between its passes): the path id
/// and actions are the catalogue's own strings.
impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Step, D::Error> {
        #[derive(Deserialize)]
        struct Written {
            principal: String,
            path_id: String,
            category: Category,
            actions: Vec<String>,
            target: String,
            effect: String,
            #[serde(default)]
            conditions: Vec<String>,
            #[serde(default)]
            potential: bool,
        }
        let written = Written::deserialize(deserializer)?;
        let path = paths()
            .iter()
            .find(|p| p.id == written.path_id)
            .ok_or_else(|| serde::de::Error::custom(format!("no catalogue path `{}`", written.path_id)))?;
        let actions = written
            .actions
            .iter()
            .map(|action| {
                path.needs.iter().map(|n| n.action).find(|a| a == action).ok_or_else(|| {
                    serde::de::Error::custom(format!("path {} needs no action `{action}`", path.id))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Step {
            principal: written.principal,
            path_id: path.id,
            category: written.category,
            actions,
            target: written.target,
            effect: written.effect,
            conditions: written.conditions,
            potential: written.potential,
        })
    }
}

/// How a node reaches admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
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

impl SearchStats {
    fn add(&mut self, other: &SearchStats) {
        self.candidates += other.candidates;
        self.edges_evaluated += other.edges_evaluated;
        self.edges_found += other.edges_found;
    }
}

/// A principal's context with the keys an escalation request adds, each over the one before.
struct Contexts {
    /// iam:PolicyARN: the admin policy it would attach.
    write: Arc<RequestContext>,
    /// The same for IAM's own actions, which AWS serves from us-east-1 (aws:RequestedRegion).
    iam: RequestContext,
}

impl Contexts {
    fn of(node: &Node) -> Contexts {
        let mut write = RequestContext::over(node.context.clone());
        write.set("iam:PolicyARN", vec![ADMIN_POLICY_ARN.to_string()]);
        let write = Arc::new(write);
        let mut iam = RequestContext::over(write.clone());
        iam.set("aws:RequestedRegion", vec!["us-east-1".to_string()]);
        Contexts { write, iam }
    }

    fn for_action(&self, action: &str) -> &RequestContext {
        if action.starts_with("iam:") {
            &self.iam
        } else {
            &self.write
        }
    }
}

struct NodeFacts {
    holding: Option<Holding>,
    /// Conditions under which an admin policy written onto it would work; None: it would not.
    capable: Option<Vec<String>>,
    /// Bit i: its identity policies name catalogue action i at all.
    actions: ActionBits,
    /// The contexts its escalation requests are asked in (see [`Contexts`]), made the first
    /// time it is asked anything: most principals never are.
    contexts: OnceLock<Contexts>,
    /// Some condition of its identity policies reads `iam:PermissionsBoundary` (the written
    /// principal's boundary, set per target only then).
    asks_boundary: bool,
    /// Bit i: every statement of every layer that names catalogue action i names it on `*`
    /// (no other pattern, no NotResource, no variable), so the engine's answer for it is the
    /// same on every resource and is asked once per path rather than once per target.
    same_everywhere: ActionBits,
}

/// Who a role's trust could let in at all, by the principals it names: the cheap side of
/// `trust_answer`, which still decides every edge it lets through.
#[derive(Default)]
struct TrustIndex {
    /// Roles whose trust names this principal ARN.
    by_arn: HashMap<String, Vec<usize>>,
    /// Roles whose trust names this account (its id or its root).
    by_account: HashMap<String, Vec<usize>>,
    /// Roles whose trust names everyone (`*`, or a NotPrincipal).
    open: Vec<usize>,
    /// Roles whose trust names this service or federated provider (lower case), the open
    /// ones included.
    by_service: HashMap<String, Vec<usize>>,
    /// `by_account` with the open ones, per account.
    account_or_open: HashMap<String, Vec<usize>>,
}

impl TrustIndex {
    fn new(nodes: &[Node]) -> TrustIndex {
        use crate::policy::document::Principal;
        let mut index = TrustIndex::default();
        let mut services: Vec<(String, usize)> = Vec::new();
        for (t, node) in nodes.iter().enumerate() {
            let Some(trust) = node.trust else { continue };
            let mut open = false;
            for statement in trust.statements.iter().filter(|s| s.effect == Effect::Allow) {
                match (&statement.principal, &statement.not_principal) {
                    (Some(Principal::Anyone), _) | (None, Some(_)) => open = true,
                    (Some(principal), None) => {
                        for entry in principal.entries() {
                            let value = entry.value.trim();
                            match entry.kind.as_str() {
                                "AWS" if value == "*" => open = true,
                                "AWS" => match crate::identifiers::whole_account(value) {
                                    Some(account) => {
                                        index.by_account.entry(account.to_string()).or_default().push(t)
                                    }
                                    None => index.by_arn.entry(value.to_string()).or_default().push(t),
                                },
                                "Service" | "Federated" => services.push((value.to_ascii_lowercase(), t)),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            if open {
                index.open.push(t);
            }
        }
        for (service, t) in services {
            index.by_service.entry(service).or_default().push(t);
        }
        let open = index.open.clone();
        for roles in index.by_service.values_mut() {
            roles.extend(&open);
        }
        for roles in index
            .by_arn
            .values_mut()
            .chain(index.by_account.values_mut())
            .chain(index.by_service.values_mut())
        {
            roles.sort_unstable();
            roles.dedup();
        }
        index.account_or_open = index
            .by_account
            .iter()
            .map(|(account, roles)| {
                let mut merged: Vec<usize> = roles.iter().chain(&index.open).copied().collect();
                merged.sort_unstable();
                merged.dedup();
                (account.clone(), merged)
            })
            .collect();
        index
    }

    /// The roles whose trust could let `node` in, in node order; with `named_only`, only
    /// those that name its ARN (X may not call `sts:AssumeRole` by its own policies, so
    /// only a same-account trust naming X lets it in).
    fn trusting(&self, node: &Node, named_only: bool) -> Cow<'_, [usize]> {
        let named = self.by_arn.get(node.arn).map_or(&[][..], Vec::as_slice);
        if named_only {
            return Cow::Borrowed(named);
        }
        let account = arn_account(node.arn).unwrap_or_default();
        let others = self.account_or_open.get(account).map_or(self.open.as_slice(), Vec::as_slice);
        if named.is_empty() {
            return Cow::Borrowed(others);
        }
        let mut out: Vec<usize> = named.iter().chain(others).copied().collect();
        out.sort_unstable();
        out.dedup();
        Cow::Owned(out)
    }

    fn service(&self, service: &str) -> &[usize] {
        let lower = crate::policy::pattern::lower_case(service);
        self.by_service.get(lower.as_ref()).map_or(&self.open, Vec::as_slice)
    }
}

/// The answers of the roles' trust to the services that run code (a `ServiceRole` path),
/// for callers of the account whose principals the graph holds: by service, one slot per
/// role [`TrustIndex::service`] lists for it, filled when first asked.
struct ServiceTrust {
    account: String,
    slots: HashMap<&'static str, Box<[OnceLock<Decision>]>>,
}

impl ServiceTrust {
    fn new(nodes: &[Node], trust: &TrustIndex) -> ServiceTrust {
        let account = nodes.first().and_then(|n| arn_account(n.arn)).unwrap_or_default().to_string();
        let mut slots = HashMap::new();
        for path in paths() {
            if let Target::ServiceRole(service) = path.target {
                slots
                    .entry(service)
                    .or_insert_with(|| (0..trust.service(service).len()).map(|_| OnceLock::new()).collect());
            }
        }
        ServiceTrust { account, slots }
    }
}

/// Per need of a path, X's decision when it is the same toward every target.
type Fixed = NeedAnswers;

/// One answer (or none yet) per need of a path.
type NeedAnswers = smallvec::SmallVec<[Option<Decision>; 4]>;

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
    /// The index of `sts:assumerole`, if a path needs it.
    assume: Option<usize>,
    /// Each action's index, by its (lower-case) name.
    by_name: HashMap<String, usize>,
    /// Per path, the actions X's identity policies must name for X to be a candidate: all
    /// of its actions but `sts:AssumeRole` (see [`AccountGraph::is_candidate`]).
    candidate_needs: Vec<ActionBits>,
}

/// One bit per action of the [`ActionIndex`] (bit i: action i).
type ActionBits = u128;

fn has(bits: ActionBits, a: usize) -> bool {
    bits & (1 << a) != 0
}

impl ActionIndex {
    fn is_assume(&self, a: usize) -> bool {
        self.assume == Some(a)
    }

    /// Every action of the index.
    fn all(&self) -> ActionBits {
        ActionBits::MAX >> (ActionBits::BITS as usize - self.actions.len())
    }

    /// The actions `pattern` matches: a literal one is looked up, a wildcard matched against each.
    fn matching(&self, pattern: &crate::policy::pattern::ActionPattern) -> ActionBits {
        match pattern.literal() {
            Some(action) => self.by_name.get(action).map_or(0, |&i| 1 << i),
            None => self
                .actions
                .iter()
                .enumerate()
                .filter(|(_, action)| pattern.matches(action))
                .fold(0, |bits, (i, _)| bits | 1 << i),
        }
    }
}

fn action_index() -> &'static ActionIndex {
    static INDEX: OnceLock<ActionIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut actions: Vec<String> = Vec::new();
        let per_path: Vec<Vec<usize>> = paths()
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
        assert!(
            (1..=ActionBits::BITS as usize).contains(&actions.len()),
            "the catalogue needs {} distinct actions; ActionBits holds {}",
            actions.len(),
            ActionBits::BITS
        );
        let assume = actions.iter().position(|a| a == "sts:assumerole");
        let by_name = actions.iter().enumerate().map(|(i, a)| (a.clone(), i)).collect();
        let candidate_needs = per_path
            .iter()
            .map(|needs| needs.iter().filter(|&&a| Some(a) != assume).fold(0, |bits, &a| bits | 1 << a))
            .collect();
        ActionIndex { actions, per_path, assume, by_name, candidate_needs }
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
    /// Set once per node, between the search's rounds.
    reached: Vec<OnceLock<Escalation>>,
    pub stats: SearchStats,
    users: Vec<usize>,
    roles: Vec<usize>,
    groups: Vec<usize>,
    by_arn: HashMap<&'g str, usize>,
    /// What every node's ARN starts with (`arn:aws:iam::111122223333:`, or less).
    arn_prefix: String,
    /// Which nodes each statement of the account's documents names as a resource (see
    /// [`NamedNodes`]).
    named_nodes: NamedNodes,
    trust: TrustIndex,
    service_trust: ServiceTrust,
    /// Customer managed policies with a non-default version that holds admin.
    admin_versions: HashSet<&'g str>,
    /// Tests: ask every edge toward every target, without the indexes and the per-path
    /// answers, to show the indexed search finds the same.
    #[cfg(test)]
    pub(crate) exhaustive: bool,
}

/// The nodes a round of the search reached: what the next round's edges may lead to.
struct Frontier {
    /// By node.
    reached: Vec<bool>,
    /// The same nodes, in node order.
    nodes: Vec<usize>,
}

/// Which of an account's nodes each statement of its policies names as a resource, by the
/// statement's address, worked out the first time a principal's search asks (most
/// statements never are) and shared by every principal the statement's policy is attached
/// to. Statements whose resources hold policy variables are not kept: what they name
/// depends on the principal asking.
struct NamedNodes {
    by_statement: FxHashMap<usize, Bits>,
}

impl NamedNodes {
    fn new<'d>(documents: impl Iterator<Item = &'d PolicyDocument>) -> NamedNodes {
        let by_statement = documents
            .flat_map(|d| d.statements.iter())
            .filter(|s| s.resource_written.is_none())
            .map(|s| (statement_key(s), OnceLock::new()))
            .collect();
        NamedNodes { by_statement }
    }

    /// The nodes `statement` names, worked out when first asked. None: not kept here.
    fn of(&self, statement: &Statement) -> Option<&Bits> {
        self.by_statement.get(&statement_key(statement))
    }

    /// Does `statement` name node `t` as a resource? `kept`: its entry ([`Self::of`]).
    fn names(kept: &Bits, statement: &Statement, t: usize, graph: &AccountGraph) -> bool {
        let bits = kept.get_or_init(|| named_bits(statement, graph));
        bits[t / 64] & (1 << (t % 64)) != 0
    }
}

/// The nodes of `graph` that `statement`'s resources name, one bit each. A literal ARN is
/// looked up; a pattern whose text before its first wildcard no node's ARN can start with
/// (another service's, another account's) names none; only the rest are matched node by node.
pub(super) fn named_bits(statement: &Statement, graph: &AccountGraph) -> Box<[u64]> {
    let nodes = &graph.nodes;
    let mut bits = vec![0u64; nodes.len().div_ceil(64)];
    let (patterns, negated) = match &statement.resource {
        ResourceSpec::Resource(patterns) => (patterns, false),
        ResourceSpec::NotResource(patterns) => (patterns, true),
        ResourceSpec::Absent => return bits.into_boxed_slice(),
    };
    let mut set = |i: usize| bits[i / 64] |= 1 << (i % 64);
    for pattern in patterns {
        let literal = pattern.split(['*', '?']).next().unwrap_or_default();
        if literal.len() == pattern.len() {
            if let Some(&i) = graph.by_arn.get(pattern.as_str()) {
                set(i);
            }
        } else if literal.starts_with(graph.arn_prefix.as_str()) || graph.arn_prefix.starts_with(literal) {
            for (i, node) in nodes.iter().enumerate() {
                if crate::policy::pattern::wildcard_match(pattern, node.arn) {
                    set(i);
                }
            }
        }
    }
    if negated {
        for word in bits.iter_mut() {
            *word = !*word;
        }
        if nodes.len() % 64 != 0 {
            if let Some(last) = bits.last_mut() {
                *last &= (1u64 << (nodes.len() % 64)) - 1;
            }
        }
    }
    bits.into_boxed_slice()
}

/// The nodes a statement names, one bit per node of the account (bit i: node i), worked
/// out when first asked.
type Bits = OnceLock<Box<[u64]>>;

/// The longest start every one of `arns` shares.
fn common_prefix<'s>(mut arns: impl Iterator<Item = &'s str>) -> &'s str {
    let Some(first) = arns.next() else { return "" };
    arns.fold(first, |prefix, arn| {
        let shared = prefix.bytes().zip(arn.bytes()).take_while(|(a, b)| a == b).count();
        // A byte boundary is a char boundary here only if it is one in `prefix`.
        let mut end = shared;
        while !prefix.is_char_boundary(end) {
            end -= 1;
        }
        &prefix[..end]
    })
}

fn statement_key(statement: &Statement) -> usize {
    std::ptr::from_ref(statement) as usize
}

/// Is `action` on `resource` plainly refused, without asking the engine: no Allow of the
/// identity policies (or of the boundary) names it at all, or an unconditional Deny of any
/// layer does. Conditions and policy variables read as "may match" for an Allow and as
/// "may not" for a Deny, so this never refuses what the engine would allow.
fn refused(set: &PolicySet, action: &str, resource: &str) -> bool {
    let names = |s: &crate::policy::document::Statement| {
        s.matches_action(action) && (s.resource_written.is_some() || s.matches_resource(resource))
    };
    let allows =
        |named: &Named| named.document.statements.iter().any(|s| s.effect == Effect::Allow && names(s));
    if !set.identity.iter().any(allows) || set.boundary.as_ref().is_some_and(|b| !allows(b)) {
        return true;
    }
    set.scp_levels
        .iter()
        .flat_map(|l| l.policies.iter())
        .chain(&set.identity)
        .chain(&set.boundary)
        .flat_map(|n| n.document.statements.iter())
        .any(|s| {
            s.effect == Effect::Deny
                && s.conditions.is_empty()
                && s.resource_written.is_none()
                && s.matches_action(action)
                && s.matches_resource(resource)
        })
}

/// One policy document against the catalogue's actions.
struct DocumentActions {
    /// Bit i: an Allow statement names action i at all.
    allows: ActionBits,
    /// Bit i: a statement names action i on something other than `*` (a pattern, a
    /// NotResource, a policy variable).
    narrow: ActionBits,
}

impl DocumentActions {
    fn new(document: &PolicyDocument) -> DocumentActions {
        use crate::policy::document::ActionSpec;
        let index = action_index();
        let (mut allows, mut narrow) = (0, 0);
        for statement in &document.statements {
            let named = match &statement.action {
                ActionSpec::Action(patterns) => patterns.iter().fold(0, |bits, p| bits | index.matching(p)),
                ActionSpec::NotAction(patterns) => {
                    !patterns.iter().fold(0, |bits, p| bits | index.matching(p)) & index.all()
                }
            };
            if statement.effect == Effect::Allow {
                allows |= named;
            }
            if !statement.names_every_resource() {
                narrow |= named;
            }
        }
        DocumentActions { allows, narrow }
    }

    /// For a principal's policies: which actions its identity policies allow at all, and
    /// which every layer names on `*` only.
    fn of_set(set: &PolicySet, summaries: &HashMap<usize, DocumentActions>) -> (ActionBits, ActionBits) {
        let (mut allows, mut narrow) = (0, 0);
        let layers = set.scp_levels.iter().flat_map(|l| l.policies.iter()).chain(&set.boundary);
        for (named, identity) in layers.map(|n| (n, false)).chain(set.identity.iter().map(|n| (n, true))) {
            let summary = &summaries[&document_key(named.document)];
            narrow |= summary.narrow;
            if identity {
                allows |= summary.allows;
            }
        }
        (allows, !narrow & action_index().all())
    }
}

/// A document's identity: its address (documents are shared, never copied, in one graph).
pub(crate) fn document_key(document: &PolicyDocument) -> usize {
    document as *const PolicyDocument as usize
}

/// The caps of `set` (its SCP levels and boundary) as a key: the documents, and how each
/// of their condition blocks comes out for this principal (what the answer depends on,
/// since the principal is asked with its own context only). None when a cap reads the
/// principal some other way (a policy variable).
fn caps_key(set: &PolicySet, context: &RequestContext) -> Option<CapsKey> {
    layers_key(set, context, false)
}

/// [`caps_key`] with the identity policies too: two principals with the same key get the
/// same answers from the engine to any request on `*` made in their own contexts (what
/// [`holds_everything`] asks).
fn set_key(set: &PolicySet, context: &RequestContext) -> Option<CapsKey> {
    layers_key(set, context, true)
}

fn layers_key(set: &PolicySet, context: &RequestContext, with_identity: bool) -> Option<CapsKey> {
    use crate::policy::condition::{evaluate_explained, Truth};
    let identity: &[Named] = if with_identity { &set.identity } else { &[] };
    let mut documents = Vec::new();
    for level in set.scp_levels.iter() {
        documents.extend(level.policies.iter().map(|n| document_key(n.document)));
        documents.push(0);
    }
    documents.push(0);
    documents.extend(identity.iter().map(|n| document_key(n.document)));
    documents.push(0);
    documents.extend(set.boundary.iter().map(|n| document_key(n.document)));
    let mut outcomes: Vec<String> = Vec::new();
    let statements = set
        .scp_levels
        .iter()
        .flat_map(|l| l.policies.iter())
        .chain(identity)
        .chain(&set.boundary)
        .flat_map(|n| n.document.statements.iter());
    for statement in statements {
        if statement.resource_written.is_some() {
            return None;
        }
        if statement.conditions.is_empty() {
            continue;
        }
        if statement.conditions.iter().any(|c| c.values.iter().any(|v| v.contains("${"))) {
            return None;
        }
        let verdict = evaluate_explained(&statement.conditions, context, false);
        outcomes.push(match verdict.truth {
            Truth::Holds => "holds".to_string(),
            Truth::Fails(_) => "fails".to_string(),
            Truth::Depends(on) => format!("depends on {}", on.join("\u{1}")),
        });
    }
    Some((documents, outcomes))
}

type CapsKey = (Vec<usize>, Vec<String>);

/// `answer` for every node but the groups (None for them), asked once per `key`: nodes with
/// the same key share the answer of the first; a node without one is asked on its own.
fn per_key<T: Clone + Send + Sync>(
    nodes: &[Node],
    key: impl Fn(&PolicySet, &RequestContext) -> Option<CapsKey> + Sync,
    answer: impl Fn(&Node) -> T + Sync,
) -> Vec<Option<T>> {
    let keys: Vec<Option<CapsKey>> = nodes
        .par_iter()
        .map(|node| (node.kind != NodeKind::Group).then(|| key(&node.policies, &node.context)).flatten())
        .collect();
    let mut first: HashMap<&CapsKey, usize> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        if let Some(key) = key {
            first.entry(key).or_insert(i);
        }
    }
    let shared: HashMap<&CapsKey, T> =
        first.into_par_iter().map(|(key, i)| (key, answer(&nodes[i]))).collect();
    nodes
        .par_iter()
        .zip(&keys)
        .map(|(node, key)| match key {
            _ if node.kind == NodeKind::Group => None,
            Some(key) => Some(shared[key].clone()),
            None => Some(answer(node)),
        })
        .collect()
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
        let patterns: Vec<Cow<str>> = match (&statement.resource, statement.resource_with_variables()) {
            (_, Some((written, false))) => {
                written.iter().filter_map(|p| substitute(p, context)).map(Cow::Owned).collect()
            }
            (ResourceSpec::Resource(patterns), None) => {
                patterns.iter().map(|p| Cow::Borrowed(p.as_str())).collect()
            }
            _ => vec![Cow::Borrowed(ANY_RESOURCE)],
        };
        for pattern in patterns {
            let probe = if pattern == "*" {
                ANY_RESOURCE.to_string()
            } else if pattern.contains(['*', '?']) {
                pattern.replace('*', "zzprobe").replace('?', "z")
            } else {
                pattern.into_owned()
            };
            if !out.contains(&probe) {
                out.push(probe);
            }
        }
    }
    out
}

/// X's engine answers for one per-target need of a path (an action on the target, or
/// passing it), shared by the targets that get the same answer.
///
/// The engine's decision depends on the resource only through which statements naming the
/// action also name the resource (X's context is the same toward every target). Targets
/// naming the same statements (every role under a Deny on `role/prod-*`, every user outside
/// an Allow on `user/${aws:username}`) share one answer, asked of the engine once.
struct TargetAnswers<'a> {
    set: &'a PolicySet<'a>,
    action: &'a str,
    context: Cow<'a, RequestContext>,
    /// Every statement of every layer that names the action: the ones a resource can change;
    /// with the nodes each names, where the account keeps them ([`NamedNodes`]).
    naming: Vec<(&'a Statement, Option<&'a Bits>)>,
    /// By the set of `naming` that also names the target (bit i: statement i).
    answers: FxHashMap<u128, Decision>,
}

impl<'a> TargetAnswers<'a> {
    fn new(
        set: &'a PolicySet<'a>,
        action: &'a str,
        context: Cow<'a, RequestContext>,
        named: &'a NamedNodes,
    ) -> TargetAnswers<'a> {
        let naming = set
            .scp_levels
            .iter()
            .flat_map(|l| l.policies.iter())
            .chain(&set.identity)
            .chain(&set.boundary)
            .flat_map(|n| n.document.statements.iter())
            .filter(|s| s.matches_action(action))
            .map(|s| (s, named.of(s)))
            .collect();
        TargetAnswers { set, action, context, naming, answers: FxHashMap::default() }
    }

    /// The engine's answer on node `t` of `nodes`.
    fn decide(&mut self, t: usize, graph: &AccountGraph) -> Decision {
        let request = Request { action: self.action, resource: graph.nodes[t].arn, context: &self.context };
        // More statements than a key holds: asked every time.
        if self.naming.len() > 128 {
            return self.set.decide(&request);
        }
        let key = self
            .naming
            .iter()
            .enumerate()
            .filter(|(_, (s, kept))| match kept {
                Some(kept) => NamedNodes::names(kept, s, t, graph),
                None => resource_matches(s, &request),
            })
            .fold(0u128, |key, (i, _)| key | 1 << i);
        self.answers.entry(key).or_insert_with(|| self.set.decide(&request)).clone()
    }
}

/// How a need is asked toward the principal itself when its answer is the same for every
/// target (see `prepare`): on X's ARN, on a resource X names, passing X's ARN to a service,
/// or on a probe policy ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum OwnAsk {
    Target,
    Any,
    Pass(Option<&'static str>),
    Policy,
}

/// One principal's answers while it is searched, shared by the paths and targets that ask
/// the same: the fixed ones by (action, how asked), the per-target ones (see
/// [`TargetAnswers`]) by (action, service passed to).
#[derive(Default)]
struct AnswerCache<'a> {
    own: FxHashMap<(usize, OwnAsk), Decision>,
    by_need: FxHashMap<(usize, Option<&'static str>), TargetAnswers<'a>>,
}

impl<'g> AccountGraph<'g> {
    pub fn new(nodes: Vec<Node<'g>>) -> AccountGraph<'g> {
        // Per policy document (shared by every principal it is attached to), which catalogue
        // actions it allows at all and which it names on more than `*`: worked out once.
        let mut documents: HashMap<usize, &PolicyDocument> = HashMap::new();
        for node in &nodes {
            let set = &node.policies;
            for named in set
                .scp_levels
                .iter()
                .flat_map(|l| l.policies.iter())
                .chain(&set.identity)
                .chain(&set.boundary)
            {
                documents.insert(document_key(named.document), named.document);
            }
        }
        let named_nodes = NamedNodes::new(documents.values().copied());
        let summaries: HashMap<usize, DocumentActions> =
            documents.into_par_iter().map(|(key, document)| (key, DocumentActions::new(document))).collect();
        // Whether an admin policy would work depends on the caps alone: the same for every
        // principal under the same SCPs and boundary, unless a cap reads the principal.
        let capable = per_key(&nodes, caps_key, |node| {
            holds_everything(&node.policies.with_identity(vec![admin_named()]), &node.context)
                .map(|h| h.conditions)
        });
        // What a principal holds depends on its whole set the same way (principals often
        // carry the same policies).
        let holding = per_key(&nodes, set_key, |node| holds_everything(&node.policies, &node.context));
        let facts = nodes
            .par_iter()
            .zip(holding)
            .zip(capable)
            .map(|((node, holding), capable)| {
                let (actions, same_everywhere) = DocumentActions::of_set(&node.policies, &summaries);
                let asks_boundary = node
                    .policies
                    .identity
                    .iter()
                    .flat_map(|n| n.document.statements.iter())
                    .any(|s| s.conditions.iter().any(|c| c.key == "iam:permissionsboundary"));
                NodeFacts {
                    holding: holding.flatten(),
                    capable: capable.flatten(),
                    actions,
                    contexts: OnceLock::new(),
                    asks_boundary,
                    same_everywhere,
                }
            })
            .collect();
        let reached = (0..nodes.len()).map(|_| OnceLock::new()).collect();
        let stats = SearchStats { nodes: nodes.len(), ..Default::default() };
        let of_kind =
            |kind: NodeKind| (0..nodes.len()).filter(|&i| nodes[i].kind == kind).collect::<Vec<_>>();
        let (users, roles, groups) =
            (of_kind(NodeKind::User), of_kind(NodeKind::Role), of_kind(NodeKind::Group));
        let by_arn = nodes.iter().enumerate().map(|(i, n)| (n.arn, i)).collect();
        let arn_prefix = common_prefix(nodes.iter().map(|n| n.arn)).to_string();
        let trust = TrustIndex::new(&nodes);
        let service_trust = ServiceTrust::new(&nodes, &trust);
        let mut judged = HashSet::new();
        let mut admin_versions = HashSet::new();
        for policy in nodes.iter().flat_map(|n| n.customer_policies.iter()) {
            if judged.insert(policy.arn.as_str()) && has_admin_version(policy) {
                admin_versions.insert(policy.arn.as_str());
            }
        }
        AccountGraph {
            nodes,
            facts,
            reached,
            stats,
            users,
            roles,
            groups,
            by_arn,
            arn_prefix,
            named_nodes,
            trust,
            service_trust,
            admin_versions,
            #[cfg(test)]
            exhaustive: false,
        }
    }

    /// Tests only: every edge asked, no index or pruning (see `exhaustive`).
    fn is_exhaustive(&self) -> bool {
        #[cfg(test)]
        return self.exhaustive;
        #[cfg(not(test))]
        false
    }

    fn contexts(&self, x: usize) -> &Contexts {
        self.facts[x].contexts.get_or_init(|| Contexts::of(&self.nodes[x]))
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
        action: &str,
        trust_names_x: bool,
    ) -> Decision {
        let node = &self.nodes[x];
        let context = self.contexts(x).for_action(action);
        match need.on {
            On::Target => {
                if action == "sts:assumerole" && trust_names_x {
                    // Same-account trust naming X: no identity permission needed, SCPs still apply.
                    let scps_only = PolicySet {
                        scp_levels: node.policies.scp_levels.clone(),
                        identity: vec![admin_named()],
                        boundary: None,
                    };
                    return scps_only.decide(&Request { action, resource: self.nodes[t].arn, context });
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
                    return self.ask(x, action, self.nodes[t].arn, &on_target);
                }
                self.ask(x, action, self.nodes[t].arn, context)
            }
            On::TargetPolicy => {
                let mut best = Decision::Denied;
                for policy in &self.nodes[t].customer_policies {
                    if path.requirement == Requirement::AdminNonDefaultVersion
                        && !self.admin_versions.contains(policy.arn.as_str())
                    {
                        continue;
                    }
                    match self.ask(x, action, &policy.arn, context) {
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
                self.ask(x, action, self.nodes[t].arn, &pass)
            }
            On::Any => {
                let mut best = Decision::Denied;
                for resource in existential_resources(&node.policies, action, context) {
                    match self.ask(x, action, &resource, context) {
                        Decision::Allowed => return Decision::Allowed,
                        Decision::AllowedIf(c) if best.is_denied() => best = Decision::AllowedIf(c),
                        _ => {}
                    }
                }
                best
            }
        }
    }

    /// [`Self::need_allowed`] for a need whose answer `prepare` could not fix, asked through
    /// `cache` when targets can share it (see [`TargetAnswers`]): an action on the target,
    /// or passing it, in a context that does not depend on the target. None: not shared.
    /// `n`: the need's index in path `p`.
    fn shared_answer<'a>(
        &'a self,
        cache: &mut AnswerCache<'a>,
        (x, t): (usize, usize),
        p: usize,
        n: usize,
        trust_names_x: bool,
    ) -> Option<Decision> {
        let path = paths()[p];
        let need = &path.needs[n];
        let a = action_index().per_path[p][n];
        let action = action_index().actions[a].as_str();
        let passed_to = match (need.on, path.target) {
            // Asked under X's caps alone (see `need_allowed`).
            (On::Target, _) if action == "sts:assumerole" && trust_names_x => return None,
            // The context names the target's boundary.
            (On::Target, _)
                if self.facts[x].asks_boundary
                    && action.starts_with("iam:")
                    && self.nodes[t].kind != NodeKind::Group =>
            {
                return None
            }
            (On::Target, _) => None,
            (On::PassTargetTo(service), _) | (On::PassTarget, Target::ServiceRole(service)) => Some(service),
            _ => return None,
        };
        let answers = cache.by_need.entry((a, passed_to)).or_insert_with(|| {
            let base = self.contexts(x).for_action(action);
            let context = match passed_to {
                None => Cow::Borrowed(base),
                Some(service) => {
                    let mut pass = base.clone();
                    pass.set("iam:PassedToService", vec![service.to_string()]);
                    Cow::Owned(pass)
                }
            };
            TargetAnswers::new(&self.nodes[x].policies, action, context, &self.named_nodes)
        });
        Some(answers.decide(t, self))
    }

    /// Every need of `path` for X toward T, and the trust where the target must be assumed.
    #[cfg(test)]
    pub(crate) fn edge(&mut self, x: usize, t: usize, path: &CataloguePath) -> Decision {
        let p = paths().iter().position(|q| std::ptr::eq(*q, path)).expect("a path of paths()");
        let mut stats = SearchStats::default();
        let decision = {
            let mut cache = AnswerCache::default();
            match self.prepare(x, p, &mut cache) {
                Some(fixed) => self.edge_with(x, t, p, &fixed, &mut cache, &mut stats),
                None => Decision::Denied,
            }
        };
        self.stats.add(&stats);
        decision
    }

    /// X's answer for each need of path `p` that is the same toward every target; None
    /// when one of them is denied, so that no target can be reached by the path.
    fn prepare<'a>(&'a self, x: usize, p: usize, cache: &mut AnswerCache<'a>) -> Option<Fixed> {
        let path = paths()[p];
        let index = action_index();
        let facts = &self.facts[x];
        let node = &self.nodes[x];
        let mut fixed = NeedAnswers::with_capacity(path.needs.len());
        for (need, &a) in path.needs.iter().zip(&index.per_path[p]) {
            let action = index.actions[a].as_str();
            // Asked toward X itself: the same for every path that asks it so.
            let mut own = |how: OwnAsk| {
                let ask = || match how {
                    OwnAsk::Policy => {
                        let account = arn_account(node.arn).unwrap_or_default();
                        let probe = format!("arn:aws:iam::{account}:policy/zzprobe");
                        self.ask(x, action, &probe, self.contexts(x).for_action(action))
                    }
                    _ => self.need_allowed(x, x, path, need, action, false),
                };
                cache.own.entry((a, how)).or_insert_with(ask).clone()
            };
            let passed_to = match (need.on, path.target) {
                (On::PassTargetTo(service), _) | (_, Target::ServiceRole(service)) => Some(service),
                _ => None,
            };
            let decision = match need.on {
                // The resource is the attacker's to name: the same for every target.
                On::Any => Some(own(OwnAsk::Any)),
                _ if !has(facts.same_everywhere, a) => None,
                // A same-account trust naming X needs no identity permission: a denial
                // here leaves the roles whose trust names X.
                On::Target if action == "sts:assumerole" => {
                    fixed.push(Some(own(OwnAsk::Target)));
                    continue;
                }
                On::Target if facts.asks_boundary && action.starts_with("iam:") => None,
                // Every resource gets the same answer: X's own ARN stands for the target.
                On::Target => Some(own(OwnAsk::Target)),
                On::PassTarget | On::PassTargetTo(_) => Some(own(OwnAsk::Pass(passed_to))),
                On::TargetPolicy => Some(own(OwnAsk::Policy)),
            };
            if decision.as_ref().is_some_and(Decision::is_denied) {
                return None;
            }
            fixed.push(decision);
        }
        Some(fixed)
    }

    /// [`Self::edge`], with the answers `prepare` fixed for path `p`.
    fn edge_with<'a>(
        &'a self,
        x: usize,
        t: usize,
        p: usize,
        fixed: &Fixed,
        cache: &mut AnswerCache<'a>,
        stats: &mut SearchStats,
    ) -> Decision {
        stats.edges_evaluated += 1;
        let path = paths()[p];
        let index = action_index();
        let target = &self.nodes[t];
        // The per-target answers first, shared with other targets where they can be (most
        // edges end here), else a cheap filter (see `refused`); the engine decides the rest.
        let mut shared: NeedAnswers = smallvec::smallvec![None; path.needs.len()];
        for (n, (((need, &a), known), shared)) in
            path.needs.iter().zip(&index.per_path[p]).zip(fixed).zip(&mut shared).enumerate()
        {
            let action = index.actions[a].as_str();
            let on_target = matches!(need.on, On::Target | On::PassTarget | On::PassTargetTo(_));
            if !on_target || known.is_some() || action == "sts:assumerole" {
                continue;
            }
            if !self.is_exhaustive() {
                *shared = self.shared_answer(cache, (x, t), p, n, false);
            }
            let denied = match shared {
                Some(answer) => answer.is_denied(),
                None => refused(&self.nodes[x].policies, action, target.arn),
            };
            if denied {
                return Decision::Denied;
            }
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
            Target::ServiceRole(service) => decision = self.service_trust(x, t, service),
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
        for (n, (((need, &a), known), shared)) in
            path.needs.iter().zip(&index.per_path[p]).zip(fixed).zip(shared).enumerate()
        {
            let assume = need.on == On::Target && index.is_assume(a);
            let answer = match known {
                Some(_) if assume && trust_names_x => {
                    self.need_allowed(x, t, path, need, &index.actions[a], trust_names_x)
                }
                Some(answer) if need.on == On::TargetPolicy => {
                    let has_policy = self.nodes[t].customer_policies.iter().any(|policy| {
                        path.requirement != Requirement::AdminNonDefaultVersion
                            || self.admin_versions.contains(policy.arn.as_str())
                    });
                    if has_policy {
                        answer.clone()
                    } else {
                        Decision::Denied
                    }
                }
                Some(answer) => answer.clone(),
                None => match shared {
                    Some(answer) => answer,
                    None if self.is_exhaustive() => {
                        self.need_allowed(x, t, path, need, &index.actions[a], trust_names_x)
                    }
                    None => self.shared_answer(cache, (x, t), p, n, trust_names_x).unwrap_or_else(|| {
                        self.need_allowed(x, t, path, need, &index.actions[a], trust_names_x)
                    }),
                },
            };
            decision = decision.and(answer);
            if decision.is_denied() {
                return decision;
            }
        }
        stats.edges_found += 1;
        decision
    }

    /// Does T's trust let `service` assume it on X's behalf (`aws:SourceAccount` is X's
    /// account)? The same for every principal of the account: worked out once per service
    /// and role (see [`ServiceTrust`]).
    fn service_trust(&self, x: usize, t: usize, service: &'static str) -> Decision {
        let account = arn_account(self.nodes[x].arn).unwrap_or_default();
        let slot = (account == self.service_trust.account)
            .then(|| self.service_trust.slots.get(service))
            .flatten()
            .and_then(|slots| {
                let roles = self.trust.service(service);
                roles.binary_search(&t).ok().map(|i| &slots[i])
            });
        let answer = || {
            let target = &self.nodes[t];
            let Some(trust) = target.trust else { return Decision::Denied };
            let mut service_context = RequestContext::new();
            service_context.set("aws:SourceAccount", vec![account.to_string()]);
            // Cognito identity pools hand out web-identity tokens: the trust names the
            // service as a Federated principal, with AssumeRoleWithWebIdentity.
            let (caller, action) = if service == COGNITO {
                (Caller::Federated(service), "sts:assumerolewithwebidentity")
            } else {
                service_context.set("aws:PrincipalIsAWSService", vec!["true".into()]);
                (Caller::Service(service), "sts:assumerole")
            };
            trust_answer(trust, target.arn, action, caller, &service_context, &mut Vec::new()).decision
        };
        match slot {
            Some(slot) => slot.get_or_init(answer).clone(),
            None => answer(),
        }
    }

    /// A cheap filter: X's identity policies name every action of the path at all.
    /// `sts:AssumeRole` is exempt: a same-account trust naming X needs no identity permission.
    fn is_candidate(&self, x: usize, path_index: usize) -> bool {
        let node = &self.nodes[x];
        let index = action_index();
        node.kind != NodeKind::Group
            && !node.service_linked
            && index.candidate_needs[path_index] & !self.facts[x].actions == 0
    }

    /// The nodes path `p` may lead X to, in node order. `named_only`: only roles whose trust
    /// names X can let it in (X's own policies refuse `sts:AssumeRole`; see [`TrustIndex`]).
    fn targets_of(&self, x: usize, p: usize, named_only: bool) -> Cow<'_, [usize]> {
        let path = paths()[p];
        let exhaustive = self.is_exhaustive();
        let kind = self.nodes[x].kind;
        let targets: Cow<[usize]> = match path.target {
            Target::SelfUser if kind == NodeKind::User => Cow::Owned(vec![x]),
            Target::SelfRole if kind == NodeKind::Role => Cow::Owned(vec![x]),
            Target::SelfUser | Target::SelfRole => Cow::Owned(vec![]),
            Target::SelfPrincipal => Cow::Owned(vec![x]),
            Target::User => Cow::Borrowed(&self.users),
            Target::Group if kind == NodeKind::User => Cow::Borrowed(&self.groups),
            Target::Group => Cow::Owned(vec![]),
            Target::AssumableRole | Target::Role if exhaustive => Cow::Borrowed(&self.roles),
            // The trust must let X in: before the path, or after X rewrote it.
            Target::AssumableRole => self.trust.trusting(&self.nodes[x], named_only),
            Target::Role if path.requirement == Requirement::TrustAllowsX => {
                self.trust.trusting(&self.nodes[x], named_only)
            }
            Target::Role => Cow::Borrowed(&self.roles),
            Target::ServiceRole(_) if exhaustive => Cow::Borrowed(&self.roles),
            Target::ServiceRole(service) => Cow::Borrowed(self.trust.service(service)),
        };
        // An on-target action X may do only on named ARNs (`user/${aws:username}`, a list
        // of roles): only those targets.
        let named = if exhaustive { None } else { self.named_targets(x, p) };
        match named {
            Some(named) => {
                Cow::Owned(targets.iter().copied().filter(|t| named.binary_search(t).is_ok()).collect())
            }
            None => targets,
        }
    }

    /// May path `p` lead X to T at all? Service-linked roles and Identity Center's reserved
    /// roles cannot be changed in IAM (IAM answers UnmodifiableEntity): no path that writes
    /// them or their trust applies. They are still assumed where their trust allows. Only
    /// the self paths lead X to itself. (Kept out of [`Self::targets_of`], which then need
    /// not copy its lists.)
    fn keeps(&self, x: usize, p: usize, t: usize) -> bool {
        let target = paths()[p].target;
        let self_path = matches!(target, Target::SelfUser | Target::SelfRole | Target::SelfPrincipal);
        let writes_target = !matches!(target, Target::AssumableRole | Target::ServiceRole(_));
        (self_path || t != x)
            && (!writes_target
                || (!self.nodes[t].service_linked && self.nodes[t].sso_permission_set.is_none()))
    }

    /// When every Allow of X's for the first per-target action of path `p` names literal
    /// ARNs (after X's own variables are filled in), the nodes they name, sorted; None when
    /// some pattern is a wildcard, a NotResource or unknown.
    fn named_targets(&self, x: usize, p: usize) -> Option<Vec<usize>> {
        let path = paths()[p];
        let index = action_index();
        let (_, &a) = path.needs.iter().zip(&index.per_path[p]).find(|(need, &a)| {
            matches!(need.on, On::Target | On::PassTarget | On::PassTargetTo(_)) && !index.is_assume(a)
        })?;
        let action = index.actions[a].as_str();
        let context = &self.nodes[x].context;
        let mut out = Vec::new();
        for statement in self.nodes[x].policies.identity.iter().flat_map(|n| n.document.statements.iter()) {
            if statement.effect != Effect::Allow || !statement.matches_action(action) {
                continue;
            }
            let patterns: Vec<Cow<str>> = match (&statement.resource, statement.resource_with_variables()) {
                (_, Some((written, false))) => written
                    .iter()
                    .map(|w| substitute(w, context).map(Cow::Owned))
                    .collect::<Option<Vec<_>>>()?,
                (ResourceSpec::Resource(patterns), None) => {
                    patterns.iter().map(|p| Cow::Borrowed(p.as_str())).collect()
                }
                _ => return None,
            };
            for pattern in patterns {
                if pattern.contains(['*', '?']) {
                    return None;
                }
                if let Some(&t) = self.by_arn.get(pattern.as_ref()) {
                    out.push(t);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }

    /// The cheap half of [`Self::gained`]: could T's standing after the path be admin at all?
    fn may_gain(&self, x: usize, t: usize, p: usize) -> bool {
        let path = paths()[p];
        if path.target == Target::Group {
            return path.needs.iter().any(|n| n.action.eq_ignore_ascii_case("iam:AddUserToGroup"))
                || (self.nodes[x].groups.contains(&t) && self.facts[x].capable.is_some());
        }
        match path.requirement {
            Requirement::DenyRemoval => true,
            Requirement::TargetHasBoundary => self.nodes[t].policies.boundary.is_some(),
            _ if path_flags()[p].writes => self.facts[t].capable.is_some(),
            _ => self.reached[t].get().is_some(),
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
        let escalation = self.reached[t].get()?;
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
                let _ = self.reached[i].set(Escalation {
                    steps: Vec::new(),
                    admin_node: self.nodes[i].arn.to_string(),
                    conditions: holding.conditions.clone(),
                    potential: false,
                });
            }
        }
        for (i, escalation) in seeds {
            // A node that holds admin itself keeps that.
            let _ = self.reached[i].set(escalation);
        }
        let this = &*self;
        // Each node's answers, kept from round to round: they do not depend on what the
        // rounds find. Each round asks a node on one thread only.
        let caches: Vec<Mutex<AnswerCache>> = (0..this.nodes.len()).map(|_| Mutex::default()).collect();
        let mut stats = SearchStats::default();
        // Non-potential paths first, so a potential path never hides a certain one. The first
        // round of each phase asks every edge; later rounds only edges into the nodes the
        // round before reached (the others were asked already and cannot have changed).
        for phase in [Phase::Certain, Phase::Potential] {
            let mut frontier: Option<Frontier> = None;
            loop {
                // Every unreached node's best edge into what is known: independent of each
                // other, so asked in parallel.
                let (found, round) = (0..this.nodes.len())
                    .into_par_iter()
                    .filter(|&x| this.reached[x].get().is_none())
                    .map(|x| {
                        let mut stats = SearchStats::default();
                        let mut cache = caches[x].lock().unwrap_or_else(PoisonError::into_inner);
                        let best = this.best_edge(x, phase, frontier.as_ref(), &mut cache, &mut stats);
                        (best.map(|e| vec![(x, e)]).unwrap_or_default(), stats)
                    })
                    .reduce(
                        || (Vec::new(), SearchStats::default()),
                        |(mut a, mut sa), (b, sb)| {
                            a.extend(b);
                            sa.add(&sb);
                            (a, sa)
                        },
                    );
                stats.add(&round);
                if found.is_empty() {
                    break;
                }
                let mut next = Frontier { reached: vec![false; this.nodes.len()], nodes: Vec::new() };
                for (x, escalation) in found {
                    next.reached[x] = true;
                    next.nodes.push(x);
                    let _ = this.reached[x].set(escalation);
                }
                next.nodes.sort_unstable();
                frontier = Some(next);
            }
        }
        drop(caches);
        self.stats.add(&stats);
    }

    /// X's shortest way to admin through one edge into a node already known, if any.
    fn best_edge<'a>(
        &'a self,
        x: usize,
        phase: Phase,
        frontier: Option<&Frontier>,
        cache: &mut AnswerCache<'a>,
        stats: &mut SearchStats,
    ) -> Option<Escalation> {
        let mut best: Option<Escalation> = None;
        for (p, path) in paths().iter().copied().enumerate() {
            let flags = &path_flags()[p];
            let asked = match (phase, frontier) {
                (Phase::Certain, None) => !flags.potential,
                (Phase::Potential, None) => flags.potential,
                // Later rounds: only edges that borrow a target's standing can change.
                (Phase::Certain, Some(_)) => !flags.potential && !flags.grants,
                (Phase::Potential, Some(_)) => !flags.grants,
            };
            if !asked || !self.is_candidate(x, p) {
                continue;
            }
            stats.candidates += 1;
            let fixed = if self.is_exhaustive() {
                Some(smallvec::smallvec![None; path.needs.len()])
            } else {
                self.prepare(x, p, cache)
            };
            let Some(fixed) = fixed else { continue };
            // The conditions every edge of this path rests on at least: when a one-step
            // path on as few is known, this path cannot do better.
            let floor = fixed.iter().flatten().fold(Decision::Allowed, |d, f| d.and(f.clone()));
            let beaten = |best: &Option<Escalation>| {
                best.as_ref()
                    .is_some_and(|b| b.steps.len() == 1 && b.conditions.len() <= floor.conditions().len())
            };
            if !self.is_exhaustive() && beaten(&best) {
                continue;
            }
            let index = action_index();
            let assume_denied =
                path.needs.iter().zip(&index.per_path[p]).zip(&fixed).any(|((need, &a), known)| {
                    need.on == On::Target && index.is_assume(a) && known == &Some(Decision::Denied)
                });
            let targets = self.targets_of(x, p, assume_denied);
            debug_assert!(targets.windows(2).all(|w| w[0] < w[1]), "targets in node order");
            // A later round: only the nodes the round before reached, looked up among the
            // targets when they are fewer.
            let targets = match frontier {
                Some(f) if f.nodes.len() < targets.len() => {
                    Cow::Owned(f.nodes.iter().copied().filter(|t| targets.binary_search(t).is_ok()).collect())
                }
                _ => targets,
            };
            for &t in targets.iter() {
                if frontier.is_some_and(|frontier| !frontier.reached[t])
                    || !self.keeps(x, p, t)
                    || !self.may_gain(x, t, p)
                {
                    continue;
                }
                // What an edge to T would cost at least, in steps and conditions: skip T
                // when that cannot beat the best known.
                if let Some(b) = best.as_ref().filter(|_| !self.is_exhaustive()) {
                    let (steps, conditions) = if flags.grants {
                        let capable =
                            if flags.writes { self.facts[t].capable.as_ref().map_or(0, Vec::len) } else { 0 };
                        (1, capable)
                    } else {
                        self.reached[t].get().map_or((1, 0), |r| (1 + r.steps.len(), r.conditions.len()))
                    };
                    if (steps, conditions.max(floor.conditions().len()))
                        >= (b.steps.len(), b.conditions.len())
                    {
                        continue;
                    }
                }
                let decision = self.edge_with(x, t, p, &fixed, cache, stats);
                if decision.is_denied() {
                    continue;
                }
                let Some((conditions, effect)) = self.gained(x, t, path) else { continue };
                // What the rest of the way holds: T's own way to admin, or none when T
                // gains admin by this step itself (or holds it).
                let tail = if flags.grants { None } else { self.reached[t].get() };
                let mut step_conditions = decision.conditions().to_vec();
                for c in conditions {
                    if !step_conditions.contains(&c) {
                        step_conditions.push(c);
                    }
                }
                let mut all_conditions = step_conditions.clone();
                for c in tail.iter().flat_map(|tail| &tail.conditions) {
                    if !all_conditions.contains(c) {
                        all_conditions.push(c.clone());
                    }
                }
                let steps = 1 + tail.map_or(0, |tail| tail.steps.len());
                let better = match &best {
                    None => true,
                    Some(b) => (steps, all_conditions.len()) < (b.steps.len(), b.conditions.len()),
                };
                if !better {
                    continue;
                }
                // Written out only now, when it is the best so far.
                let step = Step {
                    principal: self.nodes[x].arn.to_string(),
                    path_id: path.id,
                    category: path.category,
                    actions: path.needs.iter().map(|n| n.action).collect(),
                    target: self.nodes[t].arn.to_string(),
                    effect,
                    conditions: step_conditions,
                    potential: flags.potential,
                };
                let mut path_steps = Vec::with_capacity(steps);
                path_steps.push(step);
                path_steps.extend(tail.iter().flat_map(|tail| tail.steps.iter().cloned()));
                let candidate = Escalation {
                    potential: flags.potential || tail.is_some_and(|tail| tail.potential),
                    admin_node: tail
                        .map_or_else(|| self.nodes[t].arn.to_string(), |tail| tail.admin_node.clone()),
                    conditions: all_conditions,
                    steps: path_steps,
                };
                // One unconditional step is as short as a path gets: stop looking.
                let done = candidate.steps.len() == 1 && candidate.conditions.is_empty();
                best = Some(candidate);
                if done {
                    return best;
                }
                if !self.is_exhaustive() && beaten(&best) {
                    break;
                }
            }
        }
        best
    }

    pub fn escalation(&self, node: usize) -> Option<&Escalation> {
        self.reached[node].get()
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
            } else if let Some(escalation) = self.reached[i].get() {
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
        let uncapped = PolicySet {
            scp_levels: Arc::default(),
            identity: node.policies.identity.clone(),
            boundary: None,
        };
        let power = self.admin_under(i, &uncapped)?;
        let mut capped_by = Vec::new();
        for level in node.policies.scp_levels.iter() {
            let one = PolicySet { scp_levels: Arc::from([level.clone()]), ..uncapped.clone() };
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
        let context = &self.contexts(i).iam;
        let index = action_index();
        let methods: Vec<String> = paths()
            .iter()
            .zip(&index.per_path)
            .filter(|(p, actions)| {
                let own = match p.target {
                    Target::SelfUser => node.kind == NodeKind::User,
                    Target::SelfRole => node.kind == NodeKind::Role,
                    Target::SelfPrincipal => true,
                    _ => false,
                };
                // `set` has the node's own identity policies: what they name at all is known.
                own && p.requirement == Requirement::None
                    && writes_permissions(p)
                    && actions.iter().all(|&a| has(self.facts[i].actions, a))
            })
            .filter(|(p, actions)| {
                p.needs.iter().zip(actions.iter()).all(|(need, &a)| {
                    let action = index.actions[a].as_str();
                    let ask =
                        |resource: &str| !set.decide(&Request { action, resource, context }).is_denied();
                    match need.on {
                        On::Target => ask(node.arn),
                        On::TargetPolicy => node.customer_policies.iter().any(|policy| ask(&policy.arn)),
                        _ => false,
                    }
                })
            })
            .map(|(p, _)| {
                format!("{} ({})", p.needs.iter().map(|n| n.action).collect::<Vec<_>>().join(" + "), p.id)
            })
            .collect();
        if methods.is_empty() {
            return None;
        }
        // An admin policy it writes must work under `set`'s caps.
        holds_everything(&set.with_identity(vec![admin_named()]), &node.context)?;
        Some(AdminPower::CanGrantItself { methods })
    }
}

fn has_admin_version(policy: &crate::snapshot::authorization::ManagedPolicy) -> bool {
    policy.other_versions.iter().any(|(_, raw)| {
        PolicyDocument::from_raw(raw).ok().is_some_and(|document| {
            let set = PolicySet {
                identity: vec![Named {
                    source: Arc::new(PolicySource {
                        policy: policy.name.clone(),
                        policy_arn: None,
                        via_group: None,
                    }),
                    document: &document,
                }],
                ..Default::default()
            };
            holds_everything(&set, &RequestContext::new()).is_some()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a document names is what its statements match, action by action: the lookup of
    /// literal actions and the bit sets give the same as asking every statement every action.
    #[test]
    fn a_documents_actions_are_what_its_statements_match_one_by_one() {
        let document = PolicyDocument::literal(
            r#"{"Statement":[
                {"Effect":"Allow","Action":["IAM:PassRole","lambda:createfunction"],"Resource":"*"},
                {"Effect":"Allow","Action":"iam:Put*","Resource":"arn:aws:iam::111122223333:role/*"},
                {"Effect":"Allow","NotAction":["iam:*","sts:*"],"Resource":"*"},
                {"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/x"},
                {"Effect":"Allow","Action":"foo:Bar","NotResource":"arn:aws:s3:::b"},
                {"Effect":"Allow","Action":"ec2:RunInstance?","Resource":"*"}
            ]}"#,
        );
        let index = action_index();
        let summary = DocumentActions::new(&document);
        let mut allowed = 0;
        for (i, action) in index.actions.iter().enumerate() {
            let naming = || document.statements.iter().filter(|s| s.matches_action(action));
            let allows = naming().any(|s| s.effect == Effect::Allow);
            let narrow = naming().any(|s| !s.names_every_resource());
            assert_eq!(has(summary.allows, i), allows, "allows {action}");
            assert_eq!(has(summary.narrow, i), narrow, "narrow {action}");
            allowed += usize::from(allows);
        }
        // Not vacuous: most actions come through the NotAction, some only by name or pattern.
        assert!(allowed > 10 && allowed < index.actions.len(), "{allowed}");
        assert!(has(summary.narrow, index.by_name["iam:putrolepolicy"]));
        assert!(has(summary.narrow, index.by_name["sts:assumerole"]));
        assert!(!has(summary.allows, index.by_name["sts:assumerole"]));
        assert!(has(summary.allows, index.by_name["iam:passrole"]));
        assert_eq!(summary.allows & !index.all(), 0, "no bit past the index");
        assert_eq!(summary.narrow & !index.all(), 0, "no bit past the index");
    }
}
