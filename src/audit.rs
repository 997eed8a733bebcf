//! The offline audit: a snapshot, the config and an `as_of` instant in; coverage and
//! findings out. Accounts are read and judged one at a time (in parallel), and only their
//! findings are kept, so memory follows the findings, not the organization's size.

pub(crate) mod parking;

use crate::access::join::Directory;
use crate::access::roster::{self, IamPrincipal, RosterRow};
use crate::checks::admin_holders::{self, AccountEscalation};
use crate::checks::{
    AccountContext, AdminPermissionSet, AdminPermissionSets, AFTER_ORGANIZATION_PASS, CATALOG,
};
use crate::config::Config;
use crate::findings::{self, Finding, Severity, Status};
use crate::identifiers::AccountId;
use crate::policy::escalation::graph::{Escalation, Verdict};
use crate::policy::escalation::org::{cross_account_planned, AccountExport, ExportPlan};
use crate::policy::escalation::principal::NodeKind;
use crate::snapshot::{AccountEntry, AccountSnapshot, InputProblem, PlannedStatus, Snapshot};
use chrono::{DateTime, Utc};
use parking::{LateState, Parked, Parking};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CoverageStatus {
    Audited,
    Failed,
    Skipped,
}

impl CoverageStatus {
    /// The name findings.json, the CSV and the report use.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Audited => "audited",
            CoverageStatus::Failed => "failed",
            CoverageStatus::Skipped => "skipped",
        }
    }
}

/// Size of what was audited in an account, for the coverage table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    pub users: usize,
    pub groups: usize,
    pub roles: usize,
    pub managed_policies: usize,
}

/// One row of the coverage table: was the account audited, and with what.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub account_id: String,
    pub account_name: String,
    pub status: CoverageStatus,
    pub error: Option<String>,
    /// What to do about a failed collection, and how many attempts its call made (error.json).
    pub hint: Option<String>,
    pub attempts: Option<u32>,
    /// Checks that could not run because their input file was not collected or unreadable.
    pub checks_without_input: Vec<String>,
    /// Every unreadable file or value, with its position.
    pub problems: Vec<InputProblem>,
    /// Worth knowing, lost nothing (e.g. a duplicate condition key).
    pub notes: Vec<InputProblem>,
    pub inventory: Option<Inventory>,
    /// AWS calls made for this account (live runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_calls: Option<BTreeMap<String, u64>>,
}

pub struct AuditOutcome {
    pub coverage: Vec<CoverageRow>,
    pub findings: Vec<Finding>,
    /// Snapshot-wide problems (manifest, organization files).
    pub snapshot_problems: Vec<InputProblem>,
    /// The escalation graph's size, for the bench.
    pub escalation_stats: EscalationStats,
    /// Who has access to each account, people first (`access-roster.csv`).
    pub roster: Vec<RosterRow>,
    pub identity_center: crate::access::IdentityCenterSummary,
}

/// How large the escalation search was, summed over accounts.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct EscalationStats {
    pub nodes: usize,
    pub candidates: usize,
    pub edges_evaluated: usize,
    pub edges_found: usize,
    pub cross_account_found: usize,
}

impl AuditOutcome {
    pub fn failed_accounts(&self) -> usize {
        self.coverage.iter().filter(|c| c.status == CoverageStatus::Failed).count()
    }
}

/// Where an audit's findings and access-roster rows go, one account at a time.
///
/// `prepare` runs in parallel, once per account and pass; `append` is then called with what
/// it made, in account-id order: every account's first pass, then every account's late pass
/// (the checks of [`AFTER_ORGANIZATION_PASS`] and the roster). A check belongs to one pass, so
/// each check's findings arrive in account-id order. Nothing needs to hold the whole run.
/// `append` is called on the thread that called [`audit_into`] only, while worker threads
/// prepare the accounts after the one it takes.
pub trait Sink: Sync {
    type Prepared: Send;
    /// One pass of one account: `account` is its coverage row as far as the audit knows it
    /// (complete by the late pass).
    fn prepare(
        &self,
        account: &CoverageRow,
        pass: Pass,
        findings: Vec<Finding>,
        roster: Vec<RosterRow>,
    ) -> Self::Prepared;
    fn append(&self, prepared: Self::Prepared);
    /// A folder where the audit may park each account's state between its passes, so that
    /// memory does not grow with the organization (None: held in memory).
    fn spill_dir(&self) -> Option<&Path> {
        None
    }
}

/// Which of its two passes an account's findings come from (see [`Sink`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    First,
    /// The checks of [`AFTER_ORGANIZATION_PASS`] and the roster: the account's last call.
    Late,
}

/// What an audit leaves besides its findings and roster rows (which went to the sink).
pub struct AuditSummary {
    pub coverage: Vec<CoverageRow>,
    /// Snapshot-wide problems (manifest, organization files).
    pub snapshot_problems: Vec<InputProblem>,
    /// The escalation graph's size, for the bench.
    pub escalation_stats: EscalationStats,
    pub identity_center: crate::access::IdentityCenterSummary,
}

impl AuditSummary {
    pub fn failed_accounts(&self) -> usize {
        self.coverage.iter().filter(|c| c.status == CoverageStatus::Failed).count()
    }
}

/// The audit held whole in memory: every finding (policy applied, in the report's order) and
/// every roster row. For tests and small runs; `iam-auditor run` streams with [`audit_into`].
pub fn audit(snapshot: &Snapshot, config: &Config, as_of: DateTime<Utc>) -> AuditOutcome {
    struct Collect(Mutex<(Vec<Finding>, Vec<RosterRow>)>);
    impl Sink for Collect {
        type Prepared = (Vec<Finding>, Vec<RosterRow>);
        fn prepare(
            &self,
            _: &CoverageRow,
            _: Pass,
            findings: Vec<Finding>,
            roster: Vec<RosterRow>,
        ) -> Self::Prepared {
            (findings, roster)
        }
        fn append(&self, (findings, roster): Self::Prepared) {
            let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            all.0.extend(findings);
            all.1.extend(roster);
        }
    }
    let sink = Collect(Mutex::new((Vec::new(), Vec::new())));
    let summary = audit_into(snapshot, config, as_of, &sink);
    let (mut all, roster) = sink.0.into_inner().unwrap_or_else(PoisonError::into_inner);
    findings::policy::apply(config, as_of, &mut all);
    let order = report_order();
    all.sort_by(|a, b| order.compare(a, b));
    AuditOutcome {
        coverage: summary.coverage,
        findings: all,
        snapshot_problems: summary.snapshot_problems,
        escalation_stats: summary.escalation_stats,
        roster,
        identity_center: summary.identity_center,
    }
}

/// The report's order of findings: open before suppressed, worst first, then by the check's
/// place in the catalog, account, resource and fingerprint.
pub struct ReportOrder;

pub fn report_order() -> ReportOrder {
    ReportOrder
}

impl ReportOrder {
    /// The check's place: 0 for a check the catalog does not know, else 1 + its index.
    pub fn check_rank(&self, check: &str) -> usize {
        crate::checks::place_of(check).map_or(0, |i| i + 1)
    }

    /// Findings that share (suppressed, severity, check) form one group of the order; groups
    /// are numbered in the order the report lists them.
    pub fn group(&self, finding: &Finding) -> usize {
        let suppressed = usize::from(finding.status == Status::Suppressed);
        let severity = Severity::ALL.iter().position(|s| *s == finding.severity).unwrap_or(0);
        (suppressed * Severity::ALL.len() + severity) * (CATALOG.len() + 1) + self.check_rank(&finding.check)
    }

    pub const GROUPS: usize = 2 * Severity::ALL.len() * (CATALOG.len() + 1);

    pub fn compare(&self, a: &Finding, b: &Finding) -> std::cmp::Ordering {
        self.group(a).cmp(&self.group(b)).then_with(|| ReportOrder::within_group(a, b))
    }

    /// The order inside one group: account, resource, fingerprint.
    pub fn within_group(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        a.account_id
            .cmp(&b.account_id)
            .then(a.resource_arn.cmp(&b.resource_arn))
            .then(a.fingerprint.cmp(&b.fingerprint))
    }
}

/// Accounts handed over between two [`give_back_free_memory`].
const TRIM_EVERY_ACCOUNTS: usize = 128;

/// After the `n`th account (from 1) of either pass is handed over: every
/// [`TRIM_EVERY_ACCOUNTS`]th gives free memory back.
fn account_done(n: usize) {
    if n % TRIM_EVERY_ACCOUNTS == 0 {
        give_back_free_memory();
    }
}

/// Hands the heap's free pages back to the system (glibc keeps them otherwise). An account's
/// audit allocates tens of MB for a moment, and what the run keeps between accounts (coverage
/// rows, the organization pass's plans, counts) is scattered among those pages, so glibc could
/// rarely return them: resident memory grew with accounts although the heap in use did not
/// (10,000 accounts: 218 MB at the peak; 154 MB with this after every chunk of 32 accounts,
/// for 26 s more of the system's time; 167 MB after every fourth, for 8 s; hence every 128
/// accounts handed over). The iam-auditor binary allocates
/// with mimalloc (src/main.rs), which returns free pages by itself; glibc's heap then holds
/// little and this costs next to nothing. It still serves the library's other users (tests).
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim takes no pointer and only returns free pages of glibc's own heap
        // to the system; it is safe to call from any thread at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Accounts in flight at once, audited or waiting for an earlier one to be handed over: enough
/// to keep every core busy while one account takes longer than the others, few enough that
/// only their findings are held before the sink takes them. (Chunks of 16 accounts a thread,
/// each handed over when its slowest was done, held 30-50 MB more at the peak.)
fn window() -> usize {
    rayon::current_num_threads().max(1) * 4
}

/// Runs `work` on each of `items` on the thread pool and hands the results to `take` on the
/// calling thread, in the items' order, as soon as each and those before it are done. At most
/// `window` items are in flight (their results held until their turn), so a slow item holds
/// back neither the threads (they go on with the next items) nor memory (they stop at the
/// window). A panic in `work` is raised again on the calling thread, in its item's turn.
fn in_order<T: Send, R: Send>(
    items: impl IntoIterator<Item = T>,
    window: usize,
    work: impl Fn(T) -> R + Sync,
    mut take: impl FnMut(R),
) {
    let mut items = items.into_iter();
    if rayon::current_thread_index().is_some() {
        // On a thread of the pool, waiting for the pool could hold the very thread it needs.
        items.for_each(|item| take(work(item)));
        return;
    }
    let window = window.max(1);
    let (send, answers) = std::sync::mpsc::channel::<(usize, std::thread::Result<R>)>();
    let work = &work;
    rayon::in_place_scope(|scope| {
        let mut waiting: BTreeMap<usize, std::thread::Result<R>> = BTreeMap::new();
        let (mut started, mut taken) = (0, 0);
        loop {
            while started < taken + window {
                let Some(item) = items.next() else { break };
                let (i, send) = (started, send.clone());
                scope.spawn(move |_| {
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(item)));
                    // The receiver outlives the scope, so the send cannot fail.
                    let _ = send.send((i, result));
                });
                started += 1;
            }
            if taken == started {
                break;
            }
            let (i, result) = answers.recv().expect("every item started answers");
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&taken) {
                match result {
                    Ok(result) => take(result),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
                taken += 1;
            }
        }
    });
}

/// Audits every account, handing findings and roster rows to `sink` as accounts finish (see
/// [`Sink`]); returns coverage and what else the report needs.
pub fn audit_into<S: Sink>(
    snapshot: &Snapshot,
    config: &Config,
    as_of: DateTime<Utc>,
    sink: &S,
) -> AuditSummary {
    let mut known_accounts: BTreeSet<String> = snapshot.accounts.iter().map(|a| a.id.to_string()).collect();
    known_accounts.extend(snapshot.organization.accounts.iter().map(|a| a.id.to_string()));
    let directory = snapshot.identity_center.as_ref().and_then(Directory::new);
    let mut entries: Vec<&AccountEntry> = snapshot.accounts.iter().collect();
    entries.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));

    // The first pass, a window of accounts at a time: their findings go to the sink; what the
    // late pass and the organization pass need is parked (the latter keeps a plan in memory).
    let mut parking: Parking<LateState> =
        Parking::beside(sink.spill_dir(), "late-state.spill", "escalation state");
    let mut export_parking: Parking<AccountExport> =
        Parking::beside(sink.spill_dir(), "exports.spill", "organization-pass export");
    let mut per_account: Vec<AccountResult> = Vec::with_capacity(entries.len());
    let (late_encoder, export_encoder) = (parking.encoder(), export_parking.encoder());
    let first_pass = |entry: &AccountEntry| {
        let (mut result, late, export) =
            audit_account(snapshot, entry, config, as_of, &known_accounts, directory.as_ref());
        let findings = std::mem::take(&mut result.findings);
        let prepared = sink.prepare(&result.row, Pass::First, findings, Vec::new());
        let export = export.map(|e| (ExportPlan::of(&e), export_encoder.encode(e)));
        (result, late_encoder.encode(late), export, prepared)
    };
    in_order(entries.iter().copied(), window(), first_pass, |(result, late, export, prepared)| {
        sink.append(prepared);
        let mut result = result.settled();
        result.parked = Some(parking.park(late));
        result.planned = export.map(|(plan, encoded)| (plan.settled(), export_parking.park(encoded)));
        per_account.push(result);
        account_done(per_account.len());
    });
    let parking_error = parking.close().err();
    let export_error = export_parking.close().err();

    // The organization-wide pass: principals that reach admin through another account. It
    // holds each account's plan and reads exports back as it needs them; each account keeps
    // only what the pass found for it.
    let mut owners = Vec::new();
    let mut plans = Vec::new();
    let mut tickets = Vec::new();
    for (i, result) in per_account.iter_mut().enumerate() {
        if let Some((plan, ticket)) = result.planned.take() {
            owners.push(i);
            plans.push(plan);
            tickets.push(ticket);
        }
    }
    let load = |account: usize| match &export_error {
        Some(error) => Err(error.clone()),
        None => export_parking.read(&tickets[account]),
    };
    let cross = cross_account_planned(&plans, &load, &snapshot.organization);
    drop((plans, tickets, export_parking));
    give_back_free_memory();
    let mut stats = EscalationStats { cross_account_found: cross.total(), ..Default::default() };
    for (k, found) in cross.found.into_iter().enumerate() {
        let result = &mut per_account[owners[k]];
        let reserved: BTreeSet<&str> = result.reserved_roles.iter().map(|(_, role)| role.as_str()).collect();
        let of_reserved =
            found.iter().filter(|(_, arn, _)| reserved.contains(arn.as_str())).cloned().collect();
        admin_holders::merge_cross_account(&mut result.reserved_verdicts, of_reserved);
        result.cross = found;
    }
    for (k, error) in cross.unreadable {
        // Its principals and roles could not be followed across accounts: its own admin
        // verdicts stand, but the account is not fully audited.
        fail(
            &mut per_account[owners[k]].row,
            format!(
                "its principals and roles were left out of the organization-wide escalation pass: {error}"
            ),
        );
    }
    let admin_sets = admin_permission_sets(&per_account, directory.as_ref(), &snapshot.organization);
    let after: Vec<_> = CATALOG
        .iter()
        .filter(|c| AFTER_ORGANIZATION_PASS.contains(&c.id) && !config.is_disabled(c.id))
        .collect();
    let late = |result: &mut AccountResult| -> (Vec<Finding>, Vec<RosterRow>) {
        if result.row.status == CoverageStatus::Skipped {
            return (Vec::new(), Vec::new());
        }
        let parked = result.parked.take().expect("an audited account's state is parked");
        let taken = match &parking_error {
            Some(error) => Err(error.clone()),
            None => parking.take(parked),
        };
        let LateState { mut verdicts, access, principals } = match taken {
            Ok(state) => state,
            Err(error) => {
                // Its admin checks and roster cannot be judged: the account is not fully audited.
                fail(
                    &mut result.row,
                    format!(
                        "its admin verdicts and access roster were lost between the audit's passes: {error}"
                    ),
                );
                return (Vec::new(), Vec::new());
            }
        };
        admin_holders::merge_cross_account(&mut verdicts, std::mem::take(&mut result.cross));
        let roster = roster::account_rows(
            result.account_id.as_str(),
            &result.row.account_name,
            access.as_ref(),
            principals.as_deref(),
            &verdicts,
        );
        let mut account = AccountSnapshot::empty(result.account_id.clone(), result.row.account_name.clone());
        account.identity_center = directory.is_some();
        let context = AccountContext::new(
            &account,
            &snapshot.organization,
            &known_accounts,
            &config.thresholds,
            as_of,
            result.failure.clone(),
        )
        .with_directory(directory.as_ref())
        .with_access(access)
        .with_admin_permission_sets(&admin_sets)
        .with_admin_verdicts(verdicts);
        let findings = after
            .iter()
            .filter(|check| !result.row.checks_without_input.iter().any(|c| c == check.id))
            .flat_map(|check| (check.run)(&context))
            .collect();
        (findings, roster)
    };
    let late_pass = |result: &mut AccountResult| {
        let (findings, rows) = late(result);
        sink.prepare(&result.row, Pass::Late, findings, rows)
    };
    let mut handed_over = 0;
    in_order(per_account.iter_mut(), window(), late_pass, |prepared| {
        sink.append(prepared);
        handed_over += 1;
        account_done(handed_over);
    });

    let identity_center = crate::access::IdentityCenterSummary::of(snapshot.identity_center.as_ref());
    let mut coverage = Vec::with_capacity(per_account.len());
    for result in per_account {
        stats.nodes += result.stats.nodes;
        stats.candidates += result.stats.candidates;
        stats.edges_evaluated += result.stats.edges_evaluated;
        stats.edges_found += result.stats.edges_found;
        coverage.push(result.row);
    }
    AuditSummary {
        coverage,
        snapshot_problems: snapshot.problems.clone(),
        escalation_stats: stats,
        identity_center,
    }
}

/// Marks an account not fully audited, for `message` (after any earlier error).
fn fail(row: &mut CoverageRow, message: String) {
    row.status = CoverageStatus::Failed;
    row.error = Some(match row.error.take() {
        Some(earlier) => format!("{earlier}; {message}"),
        None => message,
    });
}

/// Permission sets whose role is admin-equivalent in some account (a certain verdict
/// preferred, then the lowest account id), and where organization-wide Identity Center
/// findings are filed.
fn admin_permission_sets(
    results: &[AccountResult],
    directory: Option<&Directory>,
    organization: &crate::snapshot::organization::Organization,
) -> AdminPermissionSets {
    let Some(directory) = directory else { return AdminPermissionSets::default() };
    let audited: BTreeSet<&str> = results
        .iter()
        .filter(|r| r.row.status != CoverageStatus::Skipped)
        .map(|r| r.account_id.as_str())
        .collect();
    let management = organization.management_account.as_ref().map(|a| a.to_string());
    let home_account = [directory.owner_account.clone(), management]
        .into_iter()
        .flatten()
        .find(|a| audited.contains(a.as_str()))
        .or_else(|| audited.first().map(|a| a.to_string()))
        .unwrap_or_default();
    let mut sets: HashMap<String, AdminPermissionSet> = HashMap::new();
    for result in results {
        for (set_arn, role_arn) in &result.reserved_roles {
            let standing = result.reserved_verdicts.iter().find(|v| v.arn == *role_arn).map(|v| &v.standing);
            let (admin, how) = roster::judge(standing);
            if !admin.is_admin() {
                continue;
            }
            let better = sets.get(set_arn).is_none_or(|seen| admin < seen.admin);
            if better {
                let found = AdminPermissionSet {
                    account_id: result.account_id.to_string(),
                    role_arn: role_arn.clone(),
                    admin,
                    how,
                };
                sets.insert(set_arn.clone(), found);
            }
        }
    }
    AdminPermissionSets { home_account, sets }
}

/// One account's first pass: its coverage row, the findings of every check but those
/// judged after the organization pass, and what the organization pass and its late pass need.
struct AccountResult {
    account_id: AccountId,
    row: CoverageRow,
    findings: Vec<Finding>,
    failure: Option<String>,
    /// What the organization pass holds of the account's export, and where the export waits
    /// (None when the account's escalation was not analysed).
    planned: Option<(ExportPlan, Parked<AccountExport>)>,
    /// What the organization pass found for its principals (kind, ARN, path).
    cross: Vec<(NodeKind, String, Escalation)>,
    /// Its Identity Center roles (permission set ARN, role ARN) and their verdicts, for the
    /// organization-wide view of which permission sets are admin.
    reserved_roles: Vec<(String, String)>,
    reserved_verdicts: Vec<Verdict>,
    stats: crate::policy::escalation::graph::SearchStats,
    /// The rest of what its late pass needs, parked (None for a skipped account).
    parked: Option<Parked<LateState>>,
}

impl AccountResult {
    /// What the audit keeps of an account's first pass until its late pass, what it holds on
    /// the heap copied on the calling thread (see [`ExportPlan::settled`]); the rest is moved
    /// (its findings were handed over already, and nothing is parked or found for it yet).
    fn settled(self) -> AccountResult {
        AccountResult {
            account_id: self.account_id.clone(),
            row: self.row.clone(),
            findings: self.findings,
            failure: self.failure.clone(),
            planned: self.planned.map(|(plan, parked)| (plan.settled(), parked)),
            cross: self.cross,
            reserved_roles: self.reserved_roles.clone(),
            reserved_verdicts: self.reserved_verdicts.clone(),
            stats: self.stats,
            parked: self.parked,
        }
    }
}

/// One account's first pass, with what its late pass needs and its export to the
/// organization pass (None when its escalation was not analysed), both to be parked.
fn audit_account(
    snapshot: &Snapshot,
    entry: &AccountEntry,
    config: &Config,
    as_of: DateTime<Utc>,
    known_accounts: &BTreeSet<String>,
    directory: Option<&Directory>,
) -> (AccountResult, LateState, Option<AccountExport>) {
    let mut row = CoverageRow {
        account_id: entry.id.to_string(),
        account_name: entry.name.clone(),
        status: CoverageStatus::Audited,
        error: None,
        hint: None,
        attempts: None,
        checks_without_input: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
        inventory: None,
        api_calls: entry.api_calls.clone(),
    };
    if let PlannedStatus::Skipped(reason) = &entry.planned {
        row.status = CoverageStatus::Skipped;
        row.error = Some(reason.clone());
        let result = AccountResult {
            account_id: entry.id.clone(),
            row,
            findings: Vec::new(),
            failure: None,
            planned: None,
            cross: Vec::new(),
            reserved_roles: Vec::new(),
            reserved_verdicts: Vec::new(),
            stats: Default::default(),
            parked: None,
        };
        return (result, LateState::default(), None);
    }
    let account = snapshot.load_account(entry);
    row.hint = account.collection_error.as_ref().and_then(|e| e.hint.clone());
    row.attempts = account.collection_error.as_ref().and_then(|e| e.attempts);
    let dir = format!("accounts/{}/", entry.id);
    let has_any_file = account.authorization.is_some()
        || account.credential_report.is_some()
        || account.password_policy.is_some()
        || account.account_summary.is_some()
        || account.access_analyzer.is_some();
    let errors: Vec<&InputProblem> = account.errors().collect();
    let failure = if account.missing_folder {
        Some(format!("no files were collected for this account: {dir} is missing from the snapshot"))
    } else if let Some(error) = &account.collection_error {
        Some(format!("collection failed: {error}"))
    } else if !errors.is_empty() {
        let mut listed: Vec<String> = errors.iter().take(5).map(|p| p.to_string()).collect();
        if errors.len() > 5 {
            listed.push(format!("and {} more", errors.len() - 5));
        }
        Some(format!(
            "partly audited: some input could not be read, and what it holds was not judged \
             (everything else in the account was): {}",
            listed.join("; ")
        ))
    } else if !has_any_file {
        Some(format!("{dir} holds none of the snapshot files (account-authorization-details.json, credential-report.csv, …)"))
    } else {
        None
    };
    let context = AccountContext::new(
        &account,
        &snapshot.organization,
        known_accounts,
        &config.thresholds,
        as_of,
        failure.clone(),
    )
    .with_directory(directory)
    .with_audit_role(&config.organization.role_name);
    let mut findings = Vec::new();
    let mut escalation = None;
    for check in CATALOG.iter().filter(|c| !config.is_disabled(c.id)) {
        if !check.has_input(&account) {
            row.checks_without_input.push(check.id.to_string());
        } else if AFTER_ORGANIZATION_PASS.contains(&check.id) {
            if escalation.is_none() {
                escalation = Some(admin_holders::analyse(&account, &snapshot.organization));
            }
        } else {
            findings.extend((check.run)(&context));
        }
    }
    let stats = escalation.as_ref().map(|e| e.stats).unwrap_or_default();
    let context_failure = failure.clone();
    if failure.is_some() {
        row.status = CoverageStatus::Failed;
        row.error = failure;
    }
    row.inventory = account.authorization.as_ref().map(|g| Inventory {
        users: g.users.len(),
        groups: g.groups.len(),
        roles: g.roles.len(),
        managed_policies: g.managed_policies.len(),
    });
    let (notes, problems): (Vec<InputProblem>, Vec<InputProblem>) =
        account.problems.iter().cloned().partition(|p| p.note_only);
    row.problems = problems;
    row.notes = notes;
    let access = context.access().cloned();
    let principals = account.authorization.as_ref().map(iam_principals);
    let (verdicts, export) = match escalation {
        Some(AccountEscalation { verdicts, export, stats: _ }) => (verdicts, Some(export)),
        None => (Vec::new(), None),
    };
    let reserved_roles: Vec<(String, String)> = access
        .iter()
        .flat_map(|a| &a.roles)
        .filter_map(|role| role.permission_set_arn.clone().map(|set| (set, role.arn.clone())))
        .collect();
    let reserved_verdicts =
        verdicts.iter().filter(|v| reserved_roles.iter().any(|(_, arn)| *arn == v.arn)).cloned().collect();
    let result = AccountResult {
        account_id: entry.id.clone(),
        row,
        findings,
        failure: context_failure,
        planned: None,
        cross: Vec::new(),
        reserved_roles,
        reserved_verdicts,
        stats,
        parked: None,
    };
    (result, LateState { verdicts, access, principals }, export)
}

/// The users and roles the roster lists (service-linked roles, which no one uses or
/// changes, left out).
fn iam_principals(graph: &crate::snapshot::authorization::IamGraph) -> Vec<IamPrincipal> {
    let users = graph.users.iter().map(|u| IamPrincipal {
        kind: NodeKind::User,
        name: u.name.clone(),
        arn: u.arn.clone(),
        reserved: false,
    });
    let roles = graph.roles.iter().filter(|r| !r.is_service_linked()).map(|r| IamPrincipal {
        kind: NodeKind::Role,
        name: r.name.clone(),
        arn: r.arn.clone(),
        reserved: r.sso_permission_set().is_some(),
    });
    users.chain(roles).collect()
}

#[cfg(test)]
mod tests {
    use super::{in_order, CoverageStatus};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Items done out of order (the first is slow) are taken in order, and no item starts more
    /// than the window ahead of the oldest not taken.
    #[test]
    fn in_order_takes_results_in_order_and_stays_within_its_window() {
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut taken = Vec::new();
        let work = |i: usize| {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            // Every tenth item is slow: without the window, the others would all start meanwhile.
            std::thread::sleep(Duration::from_millis(if i % 10 == 0 { 30 } else { 1 }));
            i * 2
        };
        // The test's thread is not one of the pool's.
        in_order(0..60, 5, work, |r| {
            in_flight.fetch_sub(1, Ordering::SeqCst);
            taken.push(r);
        });
        assert_eq!(taken, (0..60).map(|i| i * 2).collect::<Vec<_>>());
        let most = most.load(Ordering::SeqCst);
        assert!(most <= 5, "{most} items were in flight with a window of 5");
    }

    /// A panic in one item's work reaches the caller in that item's turn: the items before it
    /// were taken, none after it.
    #[test]
    fn in_order_raises_a_panic_in_its_items_turn() {
        let mut taken = Vec::new();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            in_order(
                0..40,
                4,
                |i: usize| {
                    if i == 7 {
                        panic!("item seven");
                    }
                    i
                },
                |r| taken.push(r),
            )
        }));
        let panic = outcome.expect_err("the panic reaches the caller");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"item seven"));
        assert_eq!(taken, (0..7).collect::<Vec<_>>());
    }

    /// Called on a thread of the pool (a pool of one thread, which waiting for the pool would
    /// hold), it works through the items itself, in order.
    #[test]
    fn in_order_on_a_thread_of_the_pool_works_through_the_items_itself() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let mut taken = Vec::new();
        pool.install(|| in_order(0..20, 4, |i: usize| i + 1, |r| taken.push(r)));
        assert_eq!(taken, (1..=20).collect::<Vec<_>>());
    }

    #[test]
    fn status_names_match_findings_json() {
        for status in [CoverageStatus::Audited, CoverageStatus::Failed, CoverageStatus::Skipped] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
