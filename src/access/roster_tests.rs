use super::*;
use crate::access::join::Person;
use crate::policy::admin::AdminPower;
use crate::policy::effective::PolicySource;
use crate::policy::escalation::graph::Holding;

const A: &str = "111111111111";
const ADMIN_ROLE: &str =
    "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef";

fn holds(arn: &str, conditions: &[&str], via_group: Option<&str>) -> Verdict {
    Verdict {
        kind: NodeKind::Role,
        arn: arn.into(),
        name: arn.rsplit('/').next().unwrap().into(),
        standing: Standing::Holds {
            holding: Holding {
                power: AdminPower::Full,
                conditions: conditions.iter().map(|c| c.to_string()).collect(),
            },
            granted_by: vec![PolicySource {
                policy: "AdministratorAccess".into(),
                policy_arn: Some("arn:aws:iam::aws:policy/AdministratorAccess".into()),
                via_group: via_group.map(str::to_string),
            }],
        },
        service_linked: false,
        sso_permission_set: None,
        unknown_policies: vec![],
    }
}

fn person(id: &str) -> Person {
    Person {
        user_id: format!("u-{id}"),
        user_name: Some(id.into()),
        display_name: Some(id.to_uppercase()),
        email: None,
    }
}

fn grant(id: &str, set: &str, group: Option<&str>, role: Option<&str>) -> Grant {
    Grant {
        person: person(id),
        permission_set: set.into(),
        permission_set_arn: format!("arn:aws:sso:::permissionSet/ssoins-1/{set}"),
        via_group: group.map(str::to_string),
        group_membership: None,
        role_arn: role.map(str::to_string),
    }
}

fn principal(kind: NodeKind, name: &str) -> IamPrincipal {
    let noun = if kind == NodeKind::User { "user" } else { "role" };
    IamPrincipal { kind, name: name.into(), arn: format!("arn:aws:iam::{A}:{noun}/{name}"), reserved: false }
}

fn rows() -> Vec<RosterRow> {
    let access = AccountAccess {
        grants: vec![
            grant("zoe", "Admin", None, Some(ADMIN_ROLE)),
            grant("bob", "Admin", Some("ops"), Some(ADMIN_ROLE)),
            grant("bob", "Read", Some("ops"), None),
        ],
        roles_known: true,
        ..Default::default()
    };
    let principals = [
        principal(NodeKind::User, "deploy"),
        principal(NodeKind::Role, "auditor"),
        IamPrincipal { reserved: true, ..principal(NodeKind::Role, "AWSReservedSSO_Admin_0123456789abcdef") },
    ];
    let mut principals = principals.to_vec();
    principals[2].arn = ADMIN_ROLE.into();
    let verdicts = [
        holds(ADMIN_ROLE, &[], None),
        holds(&format!("arn:aws:iam::{A}:user/deploy"), &["aws:SourceIp in 10.0.0.0/8"], Some("Admins")),
    ];
    account_rows(A, "prod", Some(&access), Some(&principals), &verdicts)
}

#[test]
fn people_come_first_then_iam_users_and_roles_each_with_how() {
    let rows = rows();
    let summary: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| (r.principal_kind.as_str(), r.name.as_str(), &*r.access, r.admin_equivalent.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("person", "bob", "permission set Admin", "yes"),
            ("person", "bob", "permission set Read", "unknown"),
            ("person", "zoe", "permission set Admin", "yes"),
            ("iam-user", "deploy", "IAM user", "conditional"),
            ("iam-role", "auditor", "IAM role", "no"),
        ],
        "the Identity Center role with people behind it is listed through them"
    );
    assert_eq!(rows[0].via_group, "ops");
    assert!(rows[0].how.contains("AdministratorAccess"), "{}", rows[0].how);
    assert!(rows[1].how.contains("not in the account"), "{}", rows[1].how);
    assert!(rows[3].how.contains("aws:SourceIp"), "{}", rows[3].how);
    assert_eq!(rows[3].via_group, "Admins", "an IAM user's admin through a group names it");
}

#[test]
fn a_reserved_role_with_nobody_behind_it_is_listed_alone() {
    let principals = [IamPrincipal {
        kind: NodeKind::Role,
        name: "AWSReservedSSO_Admin_0123456789abcdef".into(),
        arn: ADMIN_ROLE.into(),
        reserved: true,
    }];
    let rows = account_rows(
        A,
        "prod",
        Some(&AccountAccess::default()),
        Some(&principals),
        &[holds(ADMIN_ROLE, &[], None)],
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].admin_equivalent, AdminEquivalent::Yes);
    assert!(rows[0].how.starts_with("Identity Center role with no one assigned"), "{}", rows[0].how);
}

fn csv_of(rows: &[RosterRow]) -> Vec<u8> {
    let report = crate::report::RunReport::new(
        crate::report::html::tests::run_info(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    )
    .with_access(rows.to_vec(), Vec::new(), Default::default());
    let mut out = Vec::new();
    crate::report::csv::write_roster(&report, &mut out).unwrap();
    out
}

#[test]
fn the_csv_reads_back_with_formula_cells_restored() {
    let mut rows = rows();
    rows[0].display_name = "=HYPERLINK(\"http://x\")".into();
    let text = csv_of(&rows);
    assert!(String::from_utf8_lossy(&text).contains("'=HYPERLINK"), "neutralised in the file");
    assert_eq!(read_rows(&text).unwrap(), rows);
    let previous = PreviousRoster::read(&text[..]).unwrap();
    assert_eq!(previous.rows_of(A).unwrap(), rows);
    assert!(previous.has_people && previous.iam_accounts.contains(A));
    assert!(PreviousRoster::read(&b"account_id,name\n1,x\n"[..])
        .unwrap_err()
        .contains("no `account_name` column"));
}

fn judged(accounts: &[&str], identity_center: bool) -> (HashSet<String>, bool) {
    (accounts.iter().map(|a| a.to_string()).collect(), identity_center)
}

#[test]
fn gained_and_lost_admin_against_the_previous_roster() {
    let before = rows();
    let mut now = rows();
    // zoe loses Admin; carol gains it through ops; deploy's conditional admin stays.
    now.retain(|r| r.name != "zoe");
    let mut carol = now[0].clone();
    carol.principal_id = "u-carol".into();
    carol.name = "carol".into();
    now.push(carol);
    let previous = PreviousRoster::of(
        before.iter().map(|r| RosterRow { first_seen: "2026-01-01T00:00:00Z".into(), ..r.clone() }),
    );
    let (accounts, ic) = judged(&[A], true);
    let changes = compare(
        &mut now,
        Some(&previous),
        "2026-02-01T00:00:00Z",
        &Judged { iam_accounts: &accounts, identity_center: ic },
    )
    .unwrap();
    let lines: Vec<String> = changes.iter().map(AdminChange::sentence).collect();
    assert_eq!(
        lines,
        [
            "carol (BOB) gained admin on 111111111111 (prod) through permission set Admin via group ops",
            "zoe (ZOE) lost admin on 111111111111 (prod) through permission set Admin",
        ]
    );
    assert_eq!(&*now[0].first_seen, "2026-01-01T00:00:00Z", "bob's row is carried over");
    assert_eq!(&*now.last().unwrap().first_seen, "2026-02-01T00:00:00Z", "carol's is new");
}

#[test]
fn nothing_is_lost_where_this_run_could_not_look_and_nothing_gained_on_a_first_look() {
    let before = rows();
    let previous = PreviousRoster::of(before.clone());
    // The account was not read this run: its people are unknown, not gone.
    let mut now: Vec<RosterRow> = Vec::new();
    let (accounts, _) = judged(&[], true);
    assert!(compare(
        &mut now,
        Some(&previous),
        "t",
        &Judged { iam_accounts: &accounts, identity_center: true }
    )
    .unwrap()
    .is_empty());
    // Identity Center not collected this run: people are not lost.
    let mut now: Vec<RosterRow> =
        before.iter().filter(|r| r.principal_kind != PrincipalKind::Person).cloned().collect();
    let (accounts, _) = judged(&[A], false);
    assert!(compare(
        &mut now,
        Some(&previous),
        "t",
        &Judged { iam_accounts: &accounts, identity_center: false }
    )
    .unwrap()
    .is_empty());
    // The previous run had no Identity Center: today's people did not "gain" admin.
    let previous =
        PreviousRoster::of(before.iter().filter(|r| r.principal_kind != PrincipalKind::Person).cloned());
    let mut now = before.clone();
    let (accounts, _) = judged(&[A], true);
    assert!(compare(
        &mut now,
        Some(&previous),
        "t",
        &Judged { iam_accounts: &accounts, identity_center: true }
    )
    .unwrap()
    .is_empty());
    // No previous roster at all: every row is first seen now, no changes.
    let mut now = before;
    assert!(compare(&mut now, None, "t0", &Judged { iam_accounts: &accounts, identity_center: true })
        .unwrap()
        .is_empty());
    assert!(now.iter().all(|r| &*r.first_seen == "t0"));
}

#[test]
fn a_roster_copied_from_the_archive_is_read_one_account_at_a_time() {
    const B: &str = "222222222222";
    let a = rows();
    let b: Vec<RosterRow> = rows()
        .into_iter()
        .map(|r| RosterRow { account_id: B.into(), account_name: "dev".into(), ..r })
        .collect();
    // An account's rows need not be together: A, then B, then A again.
    let mut file = a[..2].to_vec();
    file.extend(b.iter().cloned());
    file.extend(a[2..].iter().cloned());
    file[0].how = "=cmd|' /C calc'!A0, with \"quotes\"\nand a new line".into();
    let text = csv_of(&file);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("previous.csv");
    let previous = PreviousRoster::index(&text[..], copy.clone()).unwrap();
    let mut expected_a = file[..2].to_vec();
    expected_a.extend(file[2 + b.len()..].iter().cloned());
    assert_eq!(previous.rows_of(A).unwrap(), expected_a, "both stretches of A, formula cell restored");
    assert_eq!(previous.rows_of(B).unwrap(), b);
    assert!(previous.rows_of("333333333333").unwrap().is_empty());
    assert!(previous.has_people && previous.iam_accounts.contains(B));
    // Compared with it account by account, as whole.
    let whole = PreviousRoster::read(&text[..]).unwrap();
    let accounts: HashSet<String> = [A, B].iter().map(|a| a.to_string()).collect();
    let judged = Judged { iam_accounts: &accounts, identity_center: true };
    let mut now: Vec<RosterRow> = file.iter().filter(|r| r.name != "zoe").cloned().collect();
    let mut again = now.clone();
    let changes = compare(&mut now, Some(&previous), "t1", &judged).unwrap();
    assert_eq!(changes, compare(&mut again, Some(&whole), "t1", &judged).unwrap());
    assert_eq!(changes.len(), 2, "zoe lost admin on both accounts: {changes:?}");
    assert_eq!(now, again, "the same first_seen carried over");
    drop(previous);
    assert!(!copy.exists(), "the copy goes with the roster");
    // A file that is not a roster is refused, and its copy removed.
    let bad = dir.path().join("bad.csv");
    assert!(PreviousRoster::index(&b"account_id,name\n1,x\n"[..], bad.clone())
        .unwrap_err()
        .contains("no `account_name` column"));
    assert!(!bad.exists());
}
