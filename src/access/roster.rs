//! The access roster: per account, one row per person (through Identity Center) or, where
//! no person is behind it, per IAM user or role, with whether that access is
//! admin-equivalent and how. It is `access-roster.csv`, the "Access roster" section of the
//! report, and, against the previous run's roster, who gained and who lost admin.

use super::join::{AccountAccess, Grant};
use crate::policy::escalation::graph::{short, Standing, Verdict};
use crate::policy::escalation::principal::NodeKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::Arc;

/// Is the access admin-equivalent?
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminEquivalent {
    /// Holds admin, or reaches it by an escalation path, unconditionally.
    Yes,
    /// Only under conditions the snapshot cannot decide.
    Conditional,
    /// Only by a potential escalation path: a step takes over a resource (a function, an
    /// instance, a job) the IAM snapshot does not list. Not counted as admin in the access
    /// review (`sso-admin-assignment`, gained/lost admin); `admin-access` reports the path.
    Potential,
    No,
    /// The account, or the role behind the permission set, was not read.
    Unknown,
}

impl AdminEquivalent {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminEquivalent::Yes => "yes",
            AdminEquivalent::Conditional => "conditional",
            AdminEquivalent::Potential => "potential",
            AdminEquivalent::No => "no",
            AdminEquivalent::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Option<AdminEquivalent> {
        [
            AdminEquivalent::Yes,
            AdminEquivalent::Conditional,
            AdminEquivalent::Potential,
            AdminEquivalent::No,
            AdminEquivalent::Unknown,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }

    /// Yes or conditional: what an access review must sign.
    pub fn is_admin(self) -> bool {
        matches!(self, AdminEquivalent::Yes | AdminEquivalent::Conditional)
    }
}

/// Who is behind a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    /// A person of the Identity Center identity store.
    Person,
    IamUser,
    IamRole,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Person => "person",
            PrincipalKind::IamUser => "iam-user",
            PrincipalKind::IamRole => "iam-role",
        }
    }

    fn parse(text: &str) -> Option<PrincipalKind> {
        [PrincipalKind::Person, PrincipalKind::IamUser, PrincipalKind::IamRole]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// access-roster.csv's columns, in order: written by `report::csv`, read back by [`read_rows`].
pub const COLUMNS: [&str; 12] = [
    "account_id",
    "account_name",
    "principal_kind",
    "principal_id",
    "name",
    "display_name",
    "email",
    "access",
    "via_group",
    "admin_equivalent",
    "how",
    "first_seen",
];

/// A string many rows share (the account, the access, the run that first saw them): a
/// 1,000-account roster has hundreds of thousands of rows.
pub type Shared = Arc<str>;

/// One row of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub account_id: Shared,
    pub account_name: Shared,
    pub principal_kind: PrincipalKind,
    /// The identity store user id for a person, the ARN for an IAM user or role.
    pub principal_id: String,
    pub name: String,
    pub display_name: String,
    pub email: String,
    /// `permission set AdministratorAccess`, `IAM user` or `IAM role`.
    pub access: Shared,
    /// The Identity Center group of the assignment, or the IAM groups an IAM user's admin
    /// power comes through.
    pub via_group: String,
    pub admin_equivalent: AdminEquivalent,
    /// How: the policy or escalation path, the conditions, what caps it, or why unknown.
    pub how: String,
    pub first_seen: Shared,
}

/// One account's roster in numbers: what the report's admin summary and roster table count
/// (a streamed run keeps these for every account, and rows for the first accounts only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountTally {
    pub account_name: String,
    /// Rows of the account, admin or not.
    pub rows: usize,
    /// Admin rows (yes or conditional).
    pub admin: usize,
    /// Unconditional admins by kind.
    pub people: usize,
    pub users: usize,
    pub roles: usize,
    pub conditional: usize,
    pub unknown: usize,
}

impl AccountTally {
    pub fn add(&mut self, row: &RosterRow) {
        if self.rows == 0 {
            self.account_name = row.account_name.to_string();
        }
        self.rows += 1;
        if row.admin_equivalent.is_admin() {
            self.admin += 1;
        }
        match row.admin_equivalent {
            AdminEquivalent::Yes => match row.principal_kind {
                PrincipalKind::Person => self.people += 1,
                PrincipalKind::IamUser => self.users += 1,
                PrincipalKind::IamRole => self.roles += 1,
            },
            AdminEquivalent::Conditional => self.conditional += 1,
            AdminEquivalent::Unknown => self.unknown += 1,
            // Potential paths are admin-access findings, not admins (see AdminEquivalent).
            AdminEquivalent::Potential | AdminEquivalent::No => {}
        }
    }

    /// Every account's tally, from its rows.
    pub fn of_rows<'r>(rows: impl IntoIterator<Item = &'r RosterRow>) -> BTreeMap<String, AccountTally> {
        let mut tallies: BTreeMap<String, AccountTally> = BTreeMap::new();
        for row in rows {
            tallies.entry(row.account_id.to_string()).or_default().add(row);
        }
        tallies
    }
}

/// An IAM user or role of an account, as the roster lists it (service-linked roles, which
/// no one can use or change, are left out).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IamPrincipal {
    pub kind: NodeKind,
    pub name: String,
    pub arn: String,
    /// An Identity Center role: listed through its people, or alone when no one is assigned.
    pub reserved: bool,
}

/// Admin-equivalent or not, and how, from a principal's escalation verdict (None: not admin).
pub fn judge(standing: Option<&Standing>) -> (AdminEquivalent, String) {
    match standing {
        None | Some(Standing::NotAdmin) => (AdminEquivalent::No, String::new()),
        Some(Standing::Holds { holding, granted_by }) => {
            let through: Vec<String> = granted_by.iter().map(|s| s.describe()).collect();
            let mut how = format!("{} through {}", holding.power.describe(), or_its_policies(&through));
            if holding.conditions.is_empty() {
                (AdminEquivalent::Yes, how)
            } else {
                how.push_str(&format!("; only if {}", holding.conditions.join("; ")));
                (AdminEquivalent::Conditional, how)
            }
        }
        Some(Standing::Escalates(escalation)) => {
            let mut how = format!(
                "escalates: {}; {} holds admin",
                escalation.describe(),
                short(&escalation.admin_node)
            );
            if escalation.potential {
                how.push_str("; potential (a step needs a resource the snapshot does not list)");
            }
            if !escalation.conditions.is_empty() {
                how.push_str(&format!("; only if {}", escalation.conditions.join("; ")));
            }
            if escalation.potential {
                (AdminEquivalent::Potential, how)
            } else if !escalation.conditions.is_empty() {
                (AdminEquivalent::Conditional, how)
            } else {
                (AdminEquivalent::Yes, how)
            }
        }
        Some(Standing::Capped { power, capped_by, .. }) => (
            AdminEquivalent::No,
            format!("would have {}, capped by {}", power.describe(), capped_by.join(" and ")),
        ),
    }
}

fn or_its_policies(through: &[String]) -> String {
    if through.is_empty() {
        "its policies".into()
    } else {
        through.join("; ")
    }
}

/// One account's rows: people first (by name), then IAM users and roles (by name).
/// `verdicts` holds every principal of the account that is not plainly "not admin";
/// `principals` None means the account's IAM was not read.
pub fn account_rows(
    account_id: &str,
    account_name: &str,
    access: Option<&AccountAccess>,
    principals: Option<&[IamPrincipal]>,
    verdicts: &[Verdict],
) -> Vec<RosterRow> {
    let by_arn: HashMap<&str, &Verdict> = verdicts.iter().map(|v| (v.arn.as_str(), v)).collect();
    let (account_id, account_name): (Shared, Shared) = (account_id.into(), account_name.into());
    let unseen: Shared = "".into();
    let row = |kind: PrincipalKind, id: &str, name: &str, access: Shared| RosterRow {
        account_id: account_id.clone(),
        account_name: account_name.clone(),
        principal_kind: kind,
        principal_id: id.to_string(),
        name: name.to_string(),
        display_name: String::new(),
        email: String::new(),
        access,
        via_group: String::new(),
        admin_equivalent: AdminEquivalent::No,
        how: String::new(),
        first_seen: unseen.clone(),
    };
    let mut set_access: HashMap<&str, Shared> = HashMap::new();
    let mut people: Vec<RosterRow> = access
        .map(|a| a.grants.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|grant| {
            let access = set_access
                .entry(&grant.permission_set)
                .or_insert_with(|| format!("permission set {}", grant.permission_set).into())
                .clone();
            let mut r = row(PrincipalKind::Person, &grant.person.user_id, grant.person.name(), access);
            r.display_name = grant.person.display_name.clone().unwrap_or_default();
            r.email = grant.person.email.clone().unwrap_or_default();
            r.via_group = grant.via_group.clone().unwrap_or_default();
            (r.admin_equivalent, r.how) = judge_grant(grant, principals.is_some(), &by_arn);
            r
        })
        .collect();
    people.sort_by(|a, b| (&a.name, &a.access, &a.via_group).cmp(&(&b.name, &b.access, &b.via_group)));
    people.dedup();

    let identity_center_read = access.is_some();
    let (iam_user, iam_role): (Shared, Shared) = ("IAM user".into(), "IAM role".into());
    let used_roles: HashSet<&str> =
        access.map(|a| a.grants.iter().filter_map(|g| g.role_arn.as_deref()).collect()).unwrap_or_default();
    let mut iam: Vec<RosterRow> = principals
        .unwrap_or_default()
        .iter()
        .filter(|p| !(p.reserved && used_roles.contains(p.arn.as_str())))
        .map(|p| {
            let (kind, access) = match p.kind {
                NodeKind::User => (PrincipalKind::IamUser, &iam_user),
                _ => (PrincipalKind::IamRole, &iam_role),
            };
            let mut r = row(kind, &p.arn, &p.name, access.clone());
            let standing = by_arn.get(p.arn.as_str()).map(|v| &v.standing);
            (r.admin_equivalent, r.how) = judge(standing);
            if p.reserved {
                let whose = if identity_center_read {
                    "Identity Center role with no one assigned on this account"
                } else {
                    "Identity Center role; Identity Center was not collected, so its people are not known"
                };
                r.how = if r.how.is_empty() { whose.to_string() } else { format!("{whose}; {}", r.how) };
            }
            if let Some(Standing::Holds { granted_by, .. }) = standing {
                let mut groups: Vec<&str> =
                    granted_by.iter().filter_map(|s| s.via_group.as_deref()).collect();
                groups.dedup();
                if !groups.is_empty() && granted_by.iter().all(|s| s.via_group.is_some()) {
                    r.via_group = groups.join("; ");
                }
            }
            r
        })
        .collect();
    iam.sort_by(|a, b| (a.principal_kind, &a.name).cmp(&(b.principal_kind, &b.name)));
    people.extend(iam);
    people
}

fn judge_grant(
    grant: &Grant,
    roles_read: bool,
    by_arn: &HashMap<&str, &Verdict>,
) -> (AdminEquivalent, String) {
    match &grant.role_arn {
        Some(role) => {
            let (admin, how) = judge(by_arn.get(role.as_str()).map(|v| &v.standing));
            let role_name = role.rsplit('/').next().unwrap_or(role);
            let how =
                if how.is_empty() { format!("role {role_name}") } else { format!("role {role_name}: {how}") };
            (admin, how)
        }
        None if roles_read => (
            AdminEquivalent::Unknown,
            format!(
                "the permission set's role (AWSReservedSSO_{}_…) is not in the account",
                grant.permission_set
            ),
        ),
        None => (AdminEquivalent::Unknown, "the account's IAM was not read in this run".into()),
    }
}

/// The previous run's roster, as this run compares with it one account at a time: each
/// account's rows (for `first_seen` and who lost or gained admin), and what that run could
/// see (people at all; the IAM principals of which accounts).
///
/// A roster read from an archive is copied, plain, to a local file and indexed by account,
/// so that only the account in hand is ever read: a roster has a row per principal of the
/// organization, millions at 10,000 accounts.
#[derive(Debug)]
pub struct PreviousRoster {
    rows: PreviousRows,
    has_people: bool,
    iam_accounts: HashSet<Shared>,
}

#[derive(Debug)]
enum PreviousRows {
    /// Held whole, by account (tests, and rosters given as rows).
    Held(HashMap<Shared, Vec<RosterRow>>),
    /// A plain copy of the file, its header line, and each account's byte ranges in it.
    File {
        copy: std::path::PathBuf,
        file: std::fs::File,
        header: Vec<u8>,
        ranges: HashMap<Shared, Vec<(u64, u64)>>,
    },
}

/// Identifies a row across runs: account, principal, access and group, hashed.
fn key(row: &RosterRow) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (&*row.account_id, &row.principal_id, &*row.access, &row.via_group).hash(&mut hasher);
    hasher.finish()
}

impl PreviousRoster {
    /// Reads an access-roster.csv this tool wrote, whole.
    pub fn read(reader: impl std::io::Read) -> Result<PreviousRoster, String> {
        let mut rows = Vec::new();
        each_row(reader, |row| rows.push(row))?;
        Ok(PreviousRoster::of(rows))
    }

    pub fn of(rows: impl IntoIterator<Item = RosterRow>) -> PreviousRoster {
        let (mut has_people, mut iam_accounts) = (false, HashSet::new());
        let mut by_account: HashMap<Shared, Vec<RosterRow>> = HashMap::new();
        for row in rows {
            see(&row, &mut has_people, &mut iam_accounts);
            by_account.entry(row.account_id.clone()).or_default().push(row);
        }
        PreviousRoster { rows: PreviousRows::Held(by_account), has_people, iam_accounts }
    }

    /// Copies an access-roster.csv this tool wrote to `copy` (removed when the roster is
    /// dropped) and indexes it by account, reading each row once.
    pub fn index(reader: impl std::io::Read, copy: std::path::PathBuf) -> Result<PreviousRoster, String> {
        let io = |e: std::io::Error| format!("cannot write its copy {}: {e}", copy.display());
        let mut out = std::io::BufWriter::new(std::fs::File::create(&copy).map_err(io)?);
        let copied = std::io::copy(&mut std::io::BufReader::new(reader), &mut out)
            .and_then(|_| out.flush())
            .map_err(|e| format!("cannot copy it to {}: {e}", copy.display()));
        drop(out);
        let indexed = copied.and_then(|()| PreviousRoster::index_copy(&copy));
        if indexed.is_err() {
            let _ = std::fs::remove_file(&copy);
        }
        indexed
    }

    fn index_copy(copy: &std::path::Path) -> Result<PreviousRoster, String> {
        let io = |e: std::io::Error| format!("cannot read its copy {}: {e}", copy.display());
        let length = std::fs::metadata(copy).map_err(io)?.len();
        let mut reader = csv::ReaderBuilder::new().from_reader(std::fs::File::open(copy).map_err(io)?);
        let columns = Columns::of(&reader.headers().map_err(|e| e.to_string())?.clone())?;
        let mut record = csv::StringRecord::new();
        // Each record's account and where it starts; a record ends where the next begins.
        let mut starts: Vec<(Shared, u64)> = Vec::new();
        let (mut has_people, mut iam_accounts) = (false, HashSet::new());
        let mut line = 1;
        while reader.read_record(&mut record).map_err(|e| format!("row {}: {e}", line + 1))? {
            line += 1;
            let at = record.position().map_or(0, |p| p.byte());
            let row = columns.row(&record, line)?;
            see(&row, &mut has_people, &mut iam_accounts);
            match starts.last() {
                Some((account, _)) if *account == row.account_id => starts.push((account.clone(), at)),
                _ => starts.push((row.account_id, at)),
            }
        }
        let header_end = starts.first().map_or(length, |(_, at)| *at);
        let mut ranges: HashMap<Shared, Vec<(u64, u64)>> = HashMap::new();
        for (i, (account, at)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(length, |(_, next)| *next);
            let account_ranges = ranges.entry(account.clone()).or_default();
            match account_ranges.last_mut() {
                Some(last) if last.1 == *at => last.1 = end,
                _ => account_ranges.push((*at, end)),
            }
        }
        let file = std::fs::File::open(copy).map_err(io)?;
        let mut header = vec![0; header_end as usize];
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut header, 0).map_err(io)?;
        Ok(PreviousRoster {
            rows: PreviousRows::File { copy: copy.to_path_buf(), file, header, ranges },
            has_people,
            iam_accounts,
        })
    }

    /// The previous run's rows of one account, in the file's order.
    pub fn rows_of(&self, account: &str) -> Result<Vec<RosterRow>, String> {
        match &self.rows {
            PreviousRows::Held(by_account) => Ok(by_account.get(account).cloned().unwrap_or_default()),
            PreviousRows::File { copy, file, header, ranges } => {
                let Some(ranges) = ranges.get(account) else { return Ok(Vec::new()) };
                let mut bytes = header.clone();
                for &(start, end) in ranges {
                    let from = bytes.len();
                    bytes.resize(from + (end - start) as usize, 0);
                    std::os::unix::fs::FileExt::read_exact_at(file, &mut bytes[from..], start)
                        .map_err(|e| format!("cannot read {}: {e}", copy.display()))?;
                }
                read_rows(&bytes).map_err(|e| format!("{}: {e}", copy.display()))
            }
        }
    }
}

impl Drop for PreviousRoster {
    fn drop(&mut self) {
        if let PreviousRows::File { copy, .. } = &self.rows {
            let _ = std::fs::remove_file(copy);
        }
    }
}

/// Notes what a previous run could see from one of its rows.
fn see(row: &RosterRow, has_people: &mut bool, iam_accounts: &mut HashSet<Shared>) {
    match row.principal_kind {
        PrincipalKind::Person => *has_people = true,
        _ => {
            if !iam_accounts.contains(&row.account_id) {
                iam_accounts.insert(row.account_id.clone());
            }
        }
    }
}

/// The rows of an access-roster.csv this tool wrote (cells were neutralised against
/// formulas: a leading `'` before `=`, `+`, `-`, `@` is taken off again).
pub fn read_rows(bytes: &[u8]) -> Result<Vec<RosterRow>, String> {
    let mut rows = Vec::new();
    each_row(bytes, |row| rows.push(row))?;
    Ok(rows)
}

fn each_row(reader: impl std::io::Read, mut each: impl FnMut(RosterRow)) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(reader);
    let columns = Columns::of(&reader.headers().map_err(|e| e.to_string())?.clone())?;
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {}: {e}", i + 2))?;
        each(columns.row(&record, i + 2)?);
    }
    Ok(())
}

/// Where each of [`COLUMNS`] is in a roster file.
struct Columns([usize; 12]);

impl Columns {
    fn of(headers: &csv::StringRecord) -> Result<Columns, String> {
        let column = |name: &str| {
            headers.iter().position(|h| h == name).ok_or_else(|| format!("it has no `{name}` column"))
        };
        let found: Vec<usize> = COLUMNS.iter().map(|name| column(name)).collect::<Result<_, _>>()?;
        Ok(Columns(found.try_into().expect("one position per column")))
    }

    /// The row of `record`, line `line` of the file.
    fn row(&self, record: &csv::StringRecord, line: usize) -> Result<RosterRow, String> {
        let [account, account_name, kind, id, name, display, email, access, via, admin, how, first_seen] =
            self.0;
        let cell = |c: usize| un_neutralise(record.get(c).unwrap_or_default());
        let (Some(principal_kind), Some(admin_equivalent)) =
            (PrincipalKind::parse(&cell(kind)), AdminEquivalent::parse(&cell(admin)))
        else {
            return Err(format!("row {line}: unknown principal_kind or admin_equivalent"));
        };
        Ok(RosterRow {
            account_id: cell(account).into(),
            account_name: cell(account_name).into(),
            principal_kind,
            principal_id: cell(id),
            name: cell(name),
            display_name: cell(display),
            email: cell(email),
            access: cell(access).into(),
            via_group: cell(via),
            admin_equivalent,
            how: cell(how),
            first_seen: cell(first_seen).into(),
        })
    }
}

fn un_neutralise(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => cell.to_string(),
    }
}

/// Gained or lost admin on one account since the previous run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminChangeKind {
    Gained,
    Lost,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminChange {
    pub change: AdminChangeKind,
    pub account_id: String,
    pub account_name: String,
    pub principal_kind: PrincipalKind,
    pub principal_id: String,
    pub name: String,
    pub display_name: String,
    pub email: String,
    /// The access that makes it admin now (gained) or made it admin before (lost).
    pub access: Vec<String>,
    /// How, for the first of them (the policies or the escalation path).
    pub how: String,
    /// One of them holds only under conditions.
    #[serde(skip)]
    pub conditional: bool,
}

impl AdminChange {
    /// `alice@acme.example (Alice Nguyen) gained admin on 444455556666 (acme-prod) through permission set …`.
    pub fn sentence(&self) -> String {
        let who = match (self.principal_kind, self.display_name.is_empty()) {
            (PrincipalKind::Person, false) => format!("{} ({})", self.name, self.display_name),
            (PrincipalKind::Person, true) => self.name.clone(),
            (PrincipalKind::IamUser, _) => format!("IAM user {}", self.name),
            (PrincipalKind::IamRole, _) => format!("IAM role {}", self.name),
        };
        let account = if self.account_name.is_empty() {
            self.account_id.clone()
        } else {
            format!("{} ({})", self.account_id, self.account_name)
        };
        let verb = match self.change {
            AdminChangeKind::Gained => "gained admin on",
            AdminChangeKind::Lost => "lost admin on",
        };
        match self.principal_kind {
            PrincipalKind::Person => format!("{who} {verb} {account} through {}", self.access.join("; ")),
            // An IAM principal's access is itself: say how instead.
            _ => {
                let conditional = if self.conditional { " (conditional)" } else { "" };
                format!("{who} {verb} {account}{conditional}: {}", self.how)
            }
        }
    }
}

/// Which accounts this run judged, for each kind of principal: a principal of an account
/// (or an Identity Center) not read this run has not lost anything we know of.
pub struct Judged<'a> {
    pub iam_accounts: &'a HashSet<String>,
    pub identity_center: bool,
}

/// What this run could judge in one account.
#[derive(Debug, Clone, Copy)]
pub struct AccountJudged {
    /// Its IAM was read (the account was audited).
    pub iam: bool,
    /// Identity Center was collected.
    pub identity_center: bool,
}

/// Carries `first_seen` over from the previous roster (else `as_of`), and returns who
/// gained and who lost admin on which account. Without a previous roster nothing is
/// reported as gained: every row is simply first seen now.
pub fn compare(
    rows: &mut [RosterRow],
    previous: Option<&PreviousRoster>,
    as_of: &str,
    judged: &Judged,
) -> Result<Vec<AdminChange>, String> {
    let as_of: Shared = as_of.into();
    rows.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    let mut accounts: Vec<Shared> = rows.iter().map(|r| r.account_id.clone()).collect();
    accounts.extend(judged.iam_accounts.iter().map(|a| Shared::from(a.as_str())));
    accounts.sort();
    accounts.dedup();
    let mut changes = Vec::new();
    for account in accounts {
        let start = rows.partition_point(|r| r.account_id < account);
        let end = rows.partition_point(|r| r.account_id <= account);
        let account_judged = AccountJudged {
            iam: judged.iam_accounts.contains(&*account),
            identity_center: judged.identity_center,
        };
        changes.extend(compare_account(&account, &mut rows[start..end], previous, &as_of, account_judged)?);
    }
    sort_changes(&mut changes);
    Ok(changes)
}

/// [`compare`] for one account's rows (all of `rows` are of `account`).
pub fn compare_account(
    account: &str,
    rows: &mut [RosterRow],
    previous: Option<&PreviousRoster>,
    as_of: &Shared,
    judged: AccountJudged,
) -> Result<Vec<AdminChange>, String> {
    let before = match previous {
        Some(previous) => previous.rows_of(account)?,
        None => Vec::new(),
    };
    let first_seen: HashMap<u64, &Shared> = before.iter().map(|r| (key(r), &r.first_seen)).collect();
    for row in rows.iter_mut() {
        row.first_seen = first_seen.get(&key(row)).map_or_else(|| as_of.clone(), |s| (*s).clone());
    }
    let Some(previous) = previous else { return Ok(Vec::new()) };
    // Admin access by principal, now and before.
    let admin_of = |rows: &'_ [RosterRow]| -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.admin_equivalent.is_admin()) {
            out.entry(r.principal_id.clone()).or_default().push(i);
        }
        out
    };
    let now = admin_of(rows);
    let then = admin_of(&before);
    // What the previous run could see, so that a first look is not "gained": people when
    // it read Identity Center, IAM principals of the accounts it read.
    let seen_before = |r: &RosterRow| match r.principal_kind {
        PrincipalKind::Person => previous.has_people,
        _ => previous.iam_accounts.contains(account),
    };
    // And what this run could see: access it could not judge now is not lost.
    let unknown_now: HashSet<&str> = rows
        .iter()
        .filter(|r| r.admin_equivalent == AdminEquivalent::Unknown)
        .map(|r| r.principal_id.as_str())
        .collect();
    let judged_now = |r: &RosterRow| {
        let read = judged.iam && (r.principal_kind != PrincipalKind::Person || judged.identity_center);
        read && !unknown_now.contains(r.principal_id.as_str())
    };
    let change = |kind: AdminChangeKind, rows: &[RosterRow], at: &[usize]| {
        let first = &rows[at[0]];
        AdminChange {
            change: kind,
            account_id: first.account_id.to_string(),
            account_name: first.account_name.to_string(),
            principal_kind: first.principal_kind,
            principal_id: first.principal_id.clone(),
            name: first.name.clone(),
            display_name: first.display_name.clone(),
            email: first.email.clone(),
            access: at.iter().map(|&i| describe_access(&rows[i])).collect(),
            how: first.how.clone(),
            conditional: at.iter().any(|&i| rows[i].admin_equivalent == AdminEquivalent::Conditional),
        }
    };
    let mut changes = Vec::new();
    for (holder, at) in &now {
        if !then.contains_key(holder) && seen_before(&rows[at[0]]) {
            changes.push(change(AdminChangeKind::Gained, rows, at));
        }
    }
    for (holder, at) in &then {
        if !now.contains_key(holder) && judged_now(&before[at[0]]) {
            changes.push(change(AdminChangeKind::Lost, &before, at));
        }
    }
    Ok(changes)
}

/// The order the report lists admin changes in: gained first, then by account, kind, name.
pub fn sort_changes(changes: &mut [AdminChange]) {
    changes.sort_by(|a, b| {
        (a.change, &a.account_id, a.principal_kind, &a.name).cmp(&(
            b.change,
            &b.account_id,
            b.principal_kind,
            &b.name,
        ))
    });
}

fn describe_access(row: &RosterRow) -> String {
    let mut text = row.access.to_string();
    if !row.via_group.is_empty() {
        text.push_str(&format!(" via group {}", row.via_group));
    }
    if row.admin_equivalent == AdminEquivalent::Conditional {
        text.push_str(" (conditional)");
    }
    text
}

#[cfg(test)]
#[path = "roster_tests.rs"]
mod tests;
