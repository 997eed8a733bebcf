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

/// An IAM user or role of an account, as the roster lists it (service-linked roles, which
/// no one can use or change, are left out).
#[derive(Debug, Clone)]
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

/// What the next run needs of a roster: when each row was first seen (by a hash of the row's
/// identity, so that a large roster costs a few bytes a row), its admin rows whole, and what
/// it could see (people at all; the IAM principals of which accounts).
#[derive(Debug, Clone, Default)]
pub struct PreviousRoster {
    first_seen: HashMap<u64, Shared>,
    admin: Vec<RosterRow>,
    has_people: bool,
    iam_accounts: HashSet<Shared>,
}

/// Identifies a row across runs: account, principal, access and group, hashed.
fn key(row: &RosterRow) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (&*row.account_id, &row.principal_id, &*row.access, &row.via_group).hash(&mut hasher);
    hasher.finish()
}

impl PreviousRoster {
    /// Reads an access-roster.csv this tool wrote, a row at a time.
    pub fn read(reader: impl std::io::Read) -> Result<PreviousRoster, String> {
        let mut previous = PreviousRoster::default();
        let mut seen_at: HashMap<Shared, Shared> = HashMap::new();
        each_row(reader, |row| previous.add(row, &mut seen_at))?;
        Ok(previous)
    }

    fn add(&mut self, row: RosterRow, seen_at: &mut HashMap<Shared, Shared>) {
        let first_seen =
            seen_at.entry(row.first_seen.clone()).or_insert_with(|| row.first_seen.clone()).clone();
        self.first_seen.insert(key(&row), first_seen);
        match row.principal_kind {
            PrincipalKind::Person => self.has_people = true,
            _ => {
                self.iam_accounts.insert(row.account_id.clone());
            }
        }
        if row.admin_equivalent.is_admin() {
            self.admin.push(row);
        }
    }

    pub fn of(rows: impl IntoIterator<Item = RosterRow>) -> PreviousRoster {
        let mut previous = PreviousRoster::default();
        let mut seen_at: HashMap<Shared, Shared> = HashMap::new();
        for row in rows {
            previous.add(row, &mut seen_at);
        }
        previous
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
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| format!("it has no `{name}` column"))
    };
    let [account, account_name, kind, id, name, display, email, access, via, admin, how, first_seen] =
        COLUMNS.map(column);
    let [account, account_name, kind, id, name, display, email, access, via, admin, how, first_seen] = [
        account?,
        account_name?,
        kind?,
        id?,
        name?,
        display?,
        email?,
        access?,
        via?,
        admin?,
        how?,
        first_seen?,
    ];
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {}: {e}", i + 2))?;
        let cell = |c: usize| un_neutralise(record.get(c).unwrap_or_default());
        let (Some(principal_kind), Some(admin_equivalent)) =
            (PrincipalKind::parse(&cell(kind)), AdminEquivalent::parse(&cell(admin)))
        else {
            return Err(format!("row {}: unknown principal_kind or admin_equivalent", i + 2));
        };
        each(RosterRow {
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
        });
    }
    Ok(())
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

/// Carries `first_seen` over from the previous roster (else `as_of`), and returns who
/// gained and who lost admin on which account. Without a previous roster nothing is
/// reported as gained: every row is simply first seen now.
/// The row's `first_seen` from the previous roster, else `as_of`.
pub fn carry_first_seen(row: &mut RosterRow, previous: Option<&PreviousRoster>, as_of: &Shared) {
    row.first_seen =
        previous.and_then(|p| p.first_seen.get(&key(row)).cloned()).unwrap_or_else(|| as_of.clone());
}

/// Whether `compare` needs the row: admin rows, and rows it could not judge (whose loss of
/// admin is then not claimed). A streamed run keeps only these.
pub fn needed_for_compare(row: &RosterRow) -> bool {
    row.admin_equivalent.is_admin() || row.admin_equivalent == AdminEquivalent::Unknown
}

pub fn compare(
    rows: &mut [RosterRow],
    previous: Option<&PreviousRoster>,
    as_of: &str,
    judged: &Judged,
) -> Vec<AdminChange> {
    let as_of: Shared = as_of.into();
    for row in rows.iter_mut() {
        carry_first_seen(row, previous, &as_of);
    }
    let Some(previous) = previous else { return Vec::new() };
    // Admin access by (account, principal), now and before.
    let admin_of = |rows: &'_ [RosterRow]| -> BTreeMap<(String, String), Vec<usize>> {
        let mut out: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.admin_equivalent.is_admin()) {
            out.entry((r.account_id.to_string(), r.principal_id.clone())).or_default().push(i);
        }
        out
    };
    let now = admin_of(rows);
    let then = admin_of(&previous.admin);
    // What the previous run could see, so that a first look is not "gained": people when
    // it read Identity Center, IAM principals of the accounts it read.
    let previous_people = previous.has_people;
    let previous_iam = &previous.iam_accounts;
    let seen_before = |r: &RosterRow| match r.principal_kind {
        PrincipalKind::Person => previous_people,
        _ => previous_iam.contains(&r.account_id),
    };
    // And what this run could see: access it could not judge now is not lost.
    let unknown_now: HashSet<(&str, &str)> = rows
        .iter()
        .filter(|r| r.admin_equivalent == AdminEquivalent::Unknown)
        .map(|r| (&*r.account_id, r.principal_id.as_str()))
        .collect();
    let judged_now = |r: &RosterRow| {
        let read = judged.iam_accounts.contains(&*r.account_id)
            && (r.principal_kind != PrincipalKind::Person || judged.identity_center);
        read && !unknown_now.contains(&(&*r.account_id, r.principal_id.as_str()))
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
        let first = &previous.admin[at[0]];
        if !now.contains_key(holder) && judged_now(first) {
            changes.push(change(AdminChangeKind::Lost, &previous.admin, at));
        }
    }
    changes.sort_by(|a, b| {
        (a.change, &a.account_id, a.principal_kind, &a.name).cmp(&(
            b.change,
            &b.account_id,
            b.principal_kind,
            &b.name,
        ))
    });
    changes
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
