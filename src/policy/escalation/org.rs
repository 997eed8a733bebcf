//! Escalation across accounts: a role in account A that reaches admin, trusted by a
//! principal of account B, makes that principal reach admin too.
//!
//! Each account is searched on its own (`graph.rs`) while it is loaded, and hands this pass
//! an [`AccountExport`]: the roles another account could use (their trust names AWS
//! principals of another account, or the role might itself be reached from one), with their
//! trust policy and their own account's path to admin; and the principals whose identity
//! policies name `sts:AssumeRole` and that do not already certainly reach admin at home, with
//! only the statements that can bear on it and their tags (their request context is made
//! again when this pass needs it). An audit parks the exports on disk and keeps an
//! [`ExportPlan`] of each account in memory, so the pass holds tens of bytes a principal, not
//! the policies; it reads an export back only to follow a role or to try a caller that its
//! own policies do not plainly refuse. This pass follows `sts:AssumeRole` from account to
//! account until nothing new is reached. Edges other than AssumeRole never cross accounts in
//! AWS (a role is passed, and IAM is written, within its own account).

use super::assume::{trust_answer, Caller};
use super::catalogue::Category;
use super::graph::{document_key, Escalation, Step};
use super::principal::{principal_context, Node, NodeKind};
use crate::identifiers::{arn_account, whole_account, AccountId};
use crate::policy::condition::RequestContext;
use crate::policy::document::{Effect, PolicyDocument, Principal, PrincipalEntry, ResourceSpec, Statement};
use crate::policy::effective::PolicySource;
use crate::policy::engine::{Decision, Named, PolicySet, Request, ScpLevel};
use crate::snapshot::authorization::Tag;
use crate::snapshot::organization::Organization;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A policy document cut down to the statements that bear on one action; the document is
/// shared by the callers of one account that carry the same policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Owned {
    source: Arc<PolicySource>,
    document: Arc<PolicyDocument>,
}

/// The SCP levels of a caller, as kept: (label, policies) from the root down.
type KeptLevels = Arc<[(String, Vec<Owned>)]>;

/// SCP levels by their labels and the addresses of their documents.
type LevelsKey = Vec<(String, Vec<usize>)>;

/// What the exports of one account share: each policy document cut down once, and the
/// account's SCP levels (the same for every principal of the account) kept once.
#[derive(Debug, Default)]
pub struct ExportCache {
    /// By the address of the document in the account's graph ([`document_key`]).
    documents: HashMap<usize, Option<Arc<PolicyDocument>>>,
    /// The levels kept last, by their labels and document addresses.
    levels: Option<(LevelsKey, KeptLevels)>,
}

impl ExportCache {
    fn keep(&mut self, named: &Named, action: &str) -> Option<Owned> {
        let key = document_key(named.document);
        let document =
            self.documents.entry(key).or_insert_with(|| keep_statements(named, action).map(Arc::new));
        document.clone().map(|document| Owned { source: named.source.clone(), document })
    }

    fn levels(&mut self, levels: &[ScpLevel], action: &str) -> KeptLevels {
        let key: LevelsKey = levels
            .iter()
            .map(|l| (l.label.clone(), l.policies.iter().map(|n| document_key(n.document)).collect()))
            .collect();
        if let Some((known, kept)) = &self.levels {
            if *known == key {
                return kept.clone();
            }
        }
        let kept: KeptLevels = levels
            .iter()
            .map(|l| (l.label.clone(), l.policies.iter().filter_map(|n| self.keep(n, action)).collect()))
            .collect();
        self.levels = Some((key, kept.clone()));
        kept
    }
}

fn keep_statements(named: &Named, action: &str) -> Option<PolicyDocument> {
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
    Some(PolicyDocument { statements, notes: Vec::new() })
}

/// A principal that may call `sts:AssumeRole` on roles of other accounts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportedCaller {
    pub arn: String,
    pub kind: NodeKind,
    name: String,
    /// What its request context is made from (with its account and the organization).
    tags: Vec<Tag>,
    /// It reaches admin by its own account's search: `Some(potential)`.
    reached: Option<bool>,
    scp_levels: KeptLevels,
    identity: Vec<Owned>,
    boundary: Option<Owned>,
    /// Its `sts:AssumeRole` decision when the same on every role (every statement that
    /// names the action names it on `*`).
    everywhere: Option<Decision>,
}

impl ExportedCaller {
    /// `node` of `tags`, and how its own account's search found it (`reached`); `cache` is
    /// shared by the callers of one account.
    pub fn new(
        node: &Node,
        tags: &[Tag],
        reached: Option<&Escalation>,
        cache: &mut ExportCache,
    ) -> ExportedCaller {
        const ACTION: &str = "sts:assumerole";
        let policies = &node.policies;
        let mut caller = ExportedCaller {
            arn: node.arn.to_string(),
            kind: node.kind,
            name: node.name.to_string(),
            tags: tags.to_vec(),
            reached: reached.map(|e| e.potential),
            scp_levels: cache.levels(&policies.scp_levels, ACTION),
            identity: policies.identity.iter().filter_map(|n| cache.keep(n, ACTION)).collect(),
            boundary: policies.boundary.as_ref().and_then(|b| cache.keep(b, ACTION)),
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
            // every caller is kept (parked) for the whole organization pass, so they are let go.
            caller.scp_levels = Arc::new([]);
            caller.identity = Vec::new();
            caller.boundary = None;
        }
        caller
    }

    /// The request context the snapshot decides for it, as its account's search had it.
    fn context(&self, account: &AccountId, organization: &Organization) -> RequestContext {
        principal_context(self.kind, &self.arn, &self.name, account, &self.tags, organization)
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The account a resource pattern of an identity policy confines `sts:AssumeRole` to: its
/// account field, when nothing before it is a wildcard (`arn:aws:iam::111122223333:role/*`
/// names roles of 111122223333 only). None: it may name a role of any account.
fn pattern_account(pattern: &str) -> Option<&str> {
    let mut fields = pattern.splitn(6, ':');
    let head: Vec<&str> = fields.by_ref().take(5).collect();
    if head.len() < 5 || fields.next().is_none() || head.iter().any(|f| f.contains(['*', '?'])) {
        return None;
    }
    Some(head[4])
}

impl ExportedCaller {
    /// The accounts whose roles its identity policies could let it assume, when they confine
    /// it to some (every Allow of `sts:AssumeRole` names roles of literal accounts). None: it
    /// may assume roles anywhere, as far as its policies' text shows.
    fn target_accounts(&self) -> Option<Vec<&str>> {
        const ACTION: &str = "sts:assumerole";
        let mut out: Vec<&str> = Vec::new();
        for statement in self.identity.iter().flat_map(|o| o.document.statements.iter()) {
            if statement.effect != Effect::Allow || !statement.matches_action(ACTION) {
                continue;
            }
            if statement.resource_written.is_some() {
                return None;
            }
            match &statement.resource {
                ResourceSpec::Resource(patterns) => {
                    for pattern in patterns {
                        out.push(pattern_account(pattern)?);
                    }
                }
                ResourceSpec::NotResource(_) => return None,
                ResourceSpec::Absent => {}
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

impl ExportedRole {
    /// Its trust answers every principal of one account alike: it names no principal more
    /// narrowly than an account, and its conditions read no key that differs between the
    /// principals of one account. Then one caller's refusal is its whole account's.
    fn trust_is_per_account(&self) -> bool {
        fn account_wide(entry: &PrincipalEntry) -> bool {
            let value = entry.value.trim();
            entry.kind != "AWS" || value == "*" || whole_account(value).is_some()
        }
        fn per_account_key(key: &str) -> bool {
            match key.strip_prefix("aws:principal") {
                Some(rest) => matches!(rest, "account" | "orgid" | "orgpaths" | "isawsservice"),
                None => !matches!(key, "aws:username" | "aws:userid"),
            }
        }
        self.trust.statements.iter().all(|s| {
            s.not_principal.is_none()
                && s.principal.as_ref().is_none_or(|p| p.entries().iter().all(account_wide))
                && s.conditions
                    .iter()
                    .all(|c| per_account_key(&c.key) && !c.values.iter().any(|v| v.contains("${")))
        })
    }
}

/// What the organization pass keeps in memory of one account's export while the export
/// itself may wait on disk: which lists each caller joins, whether its own policies plainly
/// refuse a role, and which roles to follow. The callers' and roles' policies are read back
/// only for a caller that gets past these tests, and for a role being followed.
///
/// The pass holds every account's plan at once, so a plan is compact: its callers and roles
/// name the lists they hold by their place in the plan's own tables, which hold each distinct
/// list once (most callers of an account carry the same few policies). A caller takes 24
/// bytes, a role 8 (with a list of their own each, 64 and 24: 14 MB more at 10,000 accounts).
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub account: AccountId,
    callers: Vec<CallerPlan>,
    roles: Vec<RolePlan>,
    /// The resource lists its callers' Allow statements name.
    allowed: Vec<Box<[Allowed]>>,
    /// The account lists its callers target and its roles' trusts admit.
    accounts: Vec<Box<[String]>>,
}

/// A list's place in one of its plan's tables, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ListAt(u32);

impl ListAt {
    const NONE: ListAt = ListAt(u32::MAX);

    fn of(place: Option<u32>) -> ListAt {
        place.map_or(ListAt::NONE, ListAt)
    }

    fn place(self) -> Option<usize> {
        (self != ListAt::NONE).then_some(self.0 as usize)
    }
}

/// A caller as the plan holds it.
#[derive(Debug, Clone)]
struct CallerPlan {
    /// The accounts whose roles it may assume: none, any account.
    targets: ListAt,
    own: OwnAnswer,
    /// Its place among its account's exported roles, when it is one of them (else u32::MAX).
    as_role: u32,
    /// It reaches admin by its own account's search: `Some(potential)`.
    reached: Option<bool>,
}

impl CallerPlan {
    fn as_role(&self) -> Option<u32> {
        (self.as_role != u32::MAX).then_some(self.as_role)
    }
}

/// What a caller's own policies say of `sts:AssumeRole`, as far as the plan needs it.
#[derive(Debug, Clone)]
enum OwnAnswer {
    /// The same answer on every role: denied or not.
    Everywhere { denied: bool },
    /// The resources its Allow statements name (with whether they hold a policy variable),
    /// in its identity policies and, when it has one, its boundary (lists of the plan).
    Resources { identity: u32, boundary: ListAt },
}

/// A resource an Allow statement names, and whether it holds a policy variable.
type Allowed = (ResourceSpec, bool);

/// Each distinct list once, numbered in the order first seen, while a plan is made.
struct Lists<T>(HashMap<Vec<T>, u32>);

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Lists(HashMap::new())
    }
}

impl<T: Eq + std::hash::Hash> Lists<T> {
    fn one(&mut self, list: Vec<T>) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(list).or_insert(next)
    }

    /// The lists in the order of their numbers, each moved rather than copied.
    fn into_table(self) -> Vec<Box<[T]>> {
        let mut numbered: Vec<(u32, Vec<T>)> = self.0.into_iter().map(|(list, at)| (at, list)).collect();
        numbered.sort_unstable_by_key(|(at, _)| *at);
        numbered.into_iter().map(|(_, list)| list.into_boxed_slice()).collect()
    }
}

/// The lists a plan is being made with.
#[derive(Default)]
struct Shared {
    allowed: Lists<Allowed>,
    accounts: Lists<String>,
}

impl OwnAnswer {
    fn of(caller: &ExportedCaller, shared: &mut Shared) -> OwnAnswer {
        const ACTION: &str = "sts:assumerole";
        if let Some(everywhere) = &caller.everywhere {
            return OwnAnswer::Everywhere { denied: everywhere.is_denied() };
        }
        let allows = |o: &Owned| -> Vec<(ResourceSpec, bool)> {
            o.document
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Allow && s.matches_action(ACTION))
                .map(|s| (s.resource.clone(), s.resource_written.is_some()))
                .collect()
        };
        OwnAnswer::Resources {
            identity: shared.allowed.one(caller.identity.iter().flat_map(allows).collect()),
            boundary: ListAt::of(caller.boundary.as_ref().map(|b| shared.allowed.one(allows(b)))),
        }
    }
}

/// A role as the plan holds it.
#[derive(Debug, Clone)]
struct RolePlan {
    /// The accounts its trust could admit: none, any account.
    trusted: ListAt,
    /// It reaches admin by its own account's search.
    reached: bool,
    /// Its trust answers every principal of one account alike.
    per_account: bool,
}

impl ExportPlan {
    pub fn of(export: &AccountExport) -> ExportPlan {
        let roles_by_arn: HashMap<&str, u32> =
            export.roles.iter().enumerate().map(|(i, r)| (r.arn.as_str(), i as u32)).collect();
        let mut shared = Shared::default();
        let callers = export
            .callers
            .iter()
            .map(|caller| CallerPlan {
                reached: caller.reached,
                targets: match &caller.everywhere {
                    Some(_) => ListAt::NONE,
                    None => ListAt::of(
                        caller
                            .target_accounts()
                            .map(|list| shared.accounts.one(list.into_iter().map(str::to_string).collect())),
                    ),
                },
                own: OwnAnswer::of(caller, &mut shared),
                as_role: roles_by_arn.get(caller.arn.as_str()).copied().unwrap_or(u32::MAX),
            })
            .collect();
        let roles = export
            .roles
            .iter()
            .map(|role| RolePlan {
                trusted: ListAt::of(role.trusted_accounts().map(|list| shared.accounts.one(list))),
                reached: role.reached.is_some(),
                per_account: role.trust_is_per_account(),
            })
            .collect();
        ExportPlan {
            account: export.account.clone(),
            callers,
            roles,
            allowed: shared.allowed.into_table(),
            accounts: shared.accounts.into_table(),
        }
    }

    /// The same plan in allocations made by the calling thread. The audit keeps every
    /// account's plan until the organization pass, and a plan made on a worker thread sits
    /// among that thread's pages of the account's transient work, holding them resident (at
    /// 10,000 accounts, tens of MB); copied on the thread that keeps them, plans share pages
    /// with each other. Each list of its tables is copied once, so lists stay shared.
    pub fn settled(&self) -> ExportPlan {
        self.clone()
    }

    /// The accounts `caller` may assume roles of: None, any account.
    fn targets(&self, caller: &CallerPlan) -> Option<&[String]> {
        caller.targets.place().map(|at| &*self.accounts[at])
    }

    /// The accounts `role`'s trust could admit: None, any account.
    fn trusted(&self, role: &RolePlan) -> Option<&[String]> {
        role.trusted.place().map(|at| &*self.accounts[at])
    }

    /// `caller`'s own policies plainly refuse `sts:AssumeRole` on `role_arn`, without asking
    /// the engine: the same answer everywhere is a denial, or no identity (or boundary) Allow
    /// names the role at all. Never refuses what the engine would allow (a policy variable
    /// reads as "may name it").
    fn refuses(&self, caller: &CallerPlan, role_arn: &str) -> bool {
        match caller.own {
            OwnAnswer::Everywhere { denied } => denied,
            OwnAnswer::Resources { identity, boundary } => {
                let names = |list: &[(ResourceSpec, bool)]| {
                    list.iter().any(|(spec, written)| *written || spec.matches(role_arn))
                };
                !names(&self.allowed[identity as usize])
                    || boundary.place().is_some_and(|b| !names(&self.allowed[b]))
            }
        }
    }

    /// Where each list the plan's callers and roles name is, callers' then roles', for tests
    /// of [`Self::settled`].
    #[cfg(test)]
    pub(crate) fn list_addresses(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for caller in &self.callers {
            out.extend(self.targets(caller).map(|l| l.as_ptr() as usize));
            if let OwnAnswer::Resources { identity, boundary } = caller.own {
                out.push(self.allowed[identity as usize].as_ptr() as usize);
                out.extend(boundary.place().map(|b| self.allowed[b].as_ptr() as usize));
            }
        }
        out.extend(self.roles.iter().filter_map(|r| self.trusted(r).map(|l| l.as_ptr() as usize)));
        out
    }
}

/// What the organization-wide pass found.
#[derive(Debug, Default)]
pub struct CrossAccount {
    /// By account (in the order of the plans): each principal that reaches admin only
    /// through another account (or more surely so), with its path, in its account's order.
    pub found: Vec<Vec<(NodeKind, String, Escalation)>>,
    /// Accounts whose export could not be read back, with why: their principals and roles
    /// were left out of the pass.
    pub unreadable: Vec<(usize, String)>,
}

impl CrossAccount {
    pub fn total(&self) -> usize {
        self.found.iter().map(Vec::len).sum()
    }
}

/// Reads one account's export back (an index into the plans).
pub type LoadExport<'a> = dyn Fn(usize) -> Result<Arc<AccountExport>, String> + 'a;

/// What trying one caller on one role came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tried {
    /// Skipped, or refused by its own policies or the pair's combined answer.
    Passed,
    /// The role's trust refused it.
    TrustRefused,
    /// It reaches admin through the role.
    Reached,
}

/// Exports read back and kept at once, at most.
const LOADED: usize = 64;

/// The state of the organization-wide pass.
struct Pass<'a> {
    organization: &'a Organization,
    plans: &'a [ExportPlan],
    load: &'a LoadExport<'a>,
    /// Exports read back lately, by account.
    loaded: HashMap<usize, Arc<AccountExport>>,
    unreadable: BTreeMap<usize, String>,
    /// Every caller: its account and its place there.
    callers: Vec<(u32, u32)>,
    /// Whether each caller reaches admin so far: `Some(potential)`.
    reached: Vec<Option<bool>>,
    /// Request contexts made so far, let go once their caller is certainly reached.
    contexts: HashMap<u32, RequestContext>,
    found: BTreeMap<u32, (NodeKind, String, Escalation)>,
    /// Roles reached across accounts in this round (account, place), with how they reach admin.
    next: Vec<(usize, u32, Escalation)>,
    counts: PassCounts,
}

/// How much work the pass did, for `--verbose`.
#[derive(Debug, Default)]
struct PassCounts {
    rounds: usize,
    roles: usize,
    /// (role, list of one account's callers) visits.
    lists: usize,
    /// Callers judged on a role (their trust asked).
    tries: usize,
    /// Exports read back.
    loads: usize,
}

impl<'a> Pass<'a> {
    /// Account `account`'s export, read back when it is not at hand; None when unreadable.
    fn export(&mut self, account: usize) -> Option<Arc<AccountExport>> {
        if let Some(export) = self.loaded.get(&account) {
            return Some(export.clone());
        }
        if self.unreadable.contains_key(&account) {
            return None;
        }
        self.counts.loads += 1;
        match (self.load)(account) {
            Ok(export) => {
                if self.loaded.len() >= LOADED {
                    self.loaded.clear();
                }
                self.loaded.insert(account, export.clone());
                Some(export)
            }
            Err(error) => {
                self.unreadable.insert(account, error);
                None
            }
        }
    }

    /// Caller `index` is done: certainly reached, so nothing this pass finds could change it.
    fn settled(&self, index: u32) -> bool {
        self.reached[index as usize] == Some(false)
    }

    /// Tries caller `index` on `role` (of account `role_account`, reaching admin by `tail`).
    fn try_caller(
        &mut self,
        index: u32,
        role: &ExportedRole,
        role_account: usize,
        tail: &Escalation,
    ) -> Tried {
        let (account, place) = self.callers[index as usize];
        let (account, place) = (account as usize, place as usize);
        // A potential path (through a resource that may not exist) does not stop the search
        // for a certain one.
        if self.reached[index as usize].is_some_and(|potential| !potential || tail.potential) {
            return Tried::Passed;
        }
        let same_account = account == role_account;
        let (plan, caller_plan) = (&self.plans[account], &self.plans[account].callers[place]);
        // Its own policies refuse sts:AssumeRole on the role: only a trust in its own account
        // that names it could still let it in.
        let refused = plan.refuses(caller_plan, &role.arn);
        if refused && !same_account {
            return Tried::Passed;
        }
        let as_role = caller_plan.as_role();
        let Some(export) = self.export(account) else { return Tried::Passed };
        let caller = &export.callers[place];
        self.counts.tries += 1;
        let organization = self.organization;
        let context = self
            .contexts
            .entry(index)
            .or_insert_with(|| caller.context(&self.plans[account].account, organization));
        let trust = trust_answer(
            &role.trust,
            &role.arn,
            "sts:assumerole",
            Caller::Aws { arn: &caller.arn },
            context,
            &mut Vec::new(),
        );
        if trust.decision.is_denied() {
            return Tried::TrustRefused;
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
            return Tried::Passed;
        }
        let mut conditions = decision.conditions().to_vec();
        for c in &tail.conditions {
            if !conditions.contains(c) {
                conditions.push(c.clone());
            }
        }
        let role_account_id = &self.plans[role_account].account;
        let step = Step {
            principal: caller.arn.clone(),
            path_id: "sts-001",
            category: Category::PrincipalAccess,
            actions: vec!["sts:AssumeRole"],
            target: role.arn.clone(),
            effect: format!("assumes role {} in account {role_account_id}", role.name),
            conditions: decision.conditions().to_vec(),
            potential: false,
        };
        let mut steps = vec![step];
        steps.extend(tail.steps.iter().cloned());
        let escalation =
            Escalation { steps, admin_node: tail.admin_node.clone(), conditions, potential: tail.potential };
        self.reached[index as usize] = Some(escalation.potential);
        if !escalation.potential {
            self.contexts.remove(&index);
        }
        if let Some(as_role) = as_role {
            self.next.push((account, as_role, escalation.clone()));
        }
        self.found.insert(index, (caller.kind, caller.arn.clone(), escalation));
        Tried::Reached
    }

    /// Tries every caller of `list` still open on `role`, and keeps only those still open.
    /// With `per_account` (the trust answers the account's callers alike), the first refusal
    /// by the trust ends the list, which holds one account's callers.
    fn try_list(
        &mut self,
        list: &mut Vec<u32>,
        role: &ExportedRole,
        role_account: usize,
        tail: &Escalation,
        admits: &dyn Fn(usize) -> bool,
        per_account: bool,
    ) {
        let mut refused_accounts = false;
        self.counts.lists += 1;
        list.retain(|&index| {
            if self.settled(index) {
                return false;
            }
            if refused_accounts || !admits(self.callers[index as usize].0 as usize) {
                return true;
            }
            match self.try_caller(index, role, role_account, tail) {
                Tried::TrustRefused if per_account => refused_accounts = true,
                Tried::Reached => return !self.settled(index),
                _ => {}
            }
            true
        });
    }
}

/// [`cross_account_planned`] over exports held in memory (`explain`, tests).
pub fn cross_account(exports: Vec<AccountExport>, organization: &Organization) -> CrossAccount {
    let plans: Vec<ExportPlan> = exports.iter().map(ExportPlan::of).collect();
    let held: Vec<Arc<AccountExport>> = exports.into_iter().map(Arc::new).collect();
    let load = |account: usize| Ok(held[account].clone());
    cross_account_planned(&plans, &load, organization)
}

/// Escalations found only by crossing accounts, over every account's plan, reading exports
/// back through `load` as the pass needs them.
///
/// The pass follows reached roles outwards. Each caller is tried on a role only while it is
/// not certainly reached, and is kept in the lists it can be found through: callers that may
/// assume roles of any account, by their own account; callers whose policies name only the
/// roles of some accounts, by those accounts. A role trusted by every account is so tried
/// only on callers still open, and, when its trust answers each account's callers alike, on
/// one caller per account it refuses. A caller's export is read back only when its own
/// policies do not plainly refuse the role.
pub fn cross_account_planned(
    plans: &[ExportPlan],
    load: &LoadExport<'_>,
    organization: &Organization,
) -> CrossAccount {
    let account_index: HashMap<&str, usize> =
        plans.iter().enumerate().map(|(i, p)| (p.account.as_str(), i)).collect();
    let mut callers: Vec<(u32, u32)> = Vec::new();
    let mut home: Vec<std::ops::Range<u32>> = Vec::with_capacity(plans.len());
    for (account, plan) in plans.iter().enumerate() {
        let start = callers.len() as u32;
        callers.extend((0..plan.callers.len() as u32).map(|place| (account as u32, place)));
        home.push(start..callers.len() as u32);
    }
    // Callers that may assume roles of any account (allowed alike on every role, or naming
    // roles of any account), by their own account; callers whose policies name only the
    // roles of some accounts, by those accounts.
    let mut anywhere: Vec<Vec<u32>> = vec![Vec::new(); plans.len()];
    let mut targeted: HashMap<&str, Vec<u32>> = HashMap::new();
    for (index, &(account, place)) in callers.iter().enumerate() {
        let (plan, caller) = (&plans[account as usize], &plans[account as usize].callers[place as usize]);
        if matches!(caller.own, OwnAnswer::Everywhere { denied: true }) {
            continue;
        }
        match plan.targets(caller) {
            Some(list) => {
                list.iter().for_each(|a| targeted.entry(a.as_str()).or_default().push(index as u32))
            }
            None => anywhere[account as usize].push(index as u32),
        }
    }
    let mut open_accounts: Vec<usize> = (0..plans.len()).filter(|a| !anywhere[*a].is_empty()).collect();
    let mut pass = Pass {
        organization,
        plans,
        load,
        loaded: HashMap::new(),
        unreadable: BTreeMap::new(),
        reached: callers.iter().map(|&(a, p)| plans[a as usize].callers[p as usize].reached).collect(),
        contexts: HashMap::new(),
        found: BTreeMap::new(),
        next: Vec::new(),
        counts: PassCounts::default(),
        callers,
    };
    // Roles reached by their own account's search had their same-account callers judged
    // there (`local`); a role reached across accounts has not. A tail of None is the role's
    // own path, read back with it.
    let mut frontier: Vec<(usize, u32, Option<Escalation>, bool)> = plans
        .iter()
        .enumerate()
        .flat_map(|(a, plan)| {
            plan.roles
                .iter()
                .enumerate()
                .filter(|(_, r)| r.reached)
                .map(move |(i, _)| (a, i as u32, None, true))
        })
        .collect();
    while !frontier.is_empty() {
        pass.counts.rounds += 1;
        pass.counts.roles += frontier.len();
        for (role_account, place, tail, local) in frontier {
            let Some(export) = pass.export(role_account) else { continue };
            let role = &export.roles[place as usize];
            let Some(tail) = tail.or_else(|| role.reached.clone()) else { continue };
            let role_plan = &plans[role_account].roles[place as usize];
            let trusted: Option<Vec<usize>> = plans[role_account]
                .trusted(role_plan)
                .map(|list| list.iter().filter_map(|a| account_index.get(a.as_str()).copied()).collect());
            let admits = |account: usize| trusted.as_ref().is_none_or(|list| list.contains(&account));
            let others = |account: usize| account != role_account && admits(account);
            // Its own account's callers, when it was reached across accounts.
            if !local && admits(role_account) {
                for index in home[role_account].clone() {
                    pass.try_caller(index, role, role_account, &tail);
                }
            }
            // Callers of other accounts that may assume roles of any account.
            let lists: Vec<usize> = match &trusted {
                Some(list) => list.clone(),
                None => {
                    open_accounts.retain(|a| !anywhere[*a].is_empty());
                    open_accounts.clone()
                }
            };
            for account in lists.into_iter().filter(|a| others(*a)) {
                let mut list = std::mem::take(&mut anywhere[account]);
                pass.try_list(&mut list, role, role_account, &tail, &others, role_plan.per_account);
                anywhere[account] = list;
            }
            // Callers of other accounts whose policies name roles of this one.
            if let Some(list) = targeted.get_mut(plans[role_account].account.as_str()) {
                pass.try_list(list, role, role_account, &tail, &others, false);
            }
        }
        frontier = std::mem::take(&mut pass.next)
            .into_iter()
            .map(|(account, place, tail)| (account, place, Some(tail), false))
            .collect();
    }
    tracing::debug!(
        "organization pass: {} rounds, {} roles followed, {} caller lists visited, {} callers tried, {} exports read back, {} found",
        pass.counts.rounds,
        pass.counts.roles,
        pass.counts.lists,
        pass.counts.tries,
        pass.counts.loads,
        pass.found.len()
    );
    let mut found: Vec<Vec<(NodeKind, String, Escalation)>> = vec![Vec::new(); plans.len()];
    for (index, entry) in pass.found {
        found[pass.callers[index as usize].0 as usize].push(entry);
    }
    CrossAccount { found, unreadable: pass.unreadable.into_iter().collect() }
}

#[cfg(test)]
mod tests {
    use super::pattern_account;

    #[test]
    fn a_pattern_confines_roles_to_its_account_only_when_nothing_before_it_is_a_wildcard() {
        assert_eq!(pattern_account("arn:aws:iam::111122223333:role/admin"), Some("111122223333"));
        assert_eq!(pattern_account("arn:aws:iam::111122223333:role/*"), Some("111122223333"));
        assert_eq!(pattern_account("arn:aws:iam::*:role/admin"), None);
        assert_eq!(pattern_account("arn:aws:iam::1111222233?3:role/admin"), None);
        assert_eq!(pattern_account("arn:*:iam::111122223333:role/admin"), None);
        assert_eq!(pattern_account("*"), None);
        assert_eq!(pattern_account("arn:aws:iam::111122223333"), None);
    }
}
