use super::*;
use crate::snapshot::identity_center::{Email, GroupMembership, MemberId, PermissionSetsFile, Status};
use crate::snapshot::InputProblem;

const A: &str = "111111111111";
const B: &str = "222222222222";
const ADMIN: &str = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin";
const READ: &str = "arn:aws:sso:::permissionSet/ssoins-1/ps-read";

fn set(arn: &str, name: &str, accounts: &[&str]) -> PermissionSet {
    let text = serde_json::json!({"PermissionSetArn": arn, "Name": name, "AccountIds": accounts}).to_string();
    serde_json::from_str::<PermissionSetsFile>(&format!("{{\"PermissionSets\":[{text}]}}"))
        .unwrap()
        .permission_sets
        .remove(0)
}

fn assignment(account: &str, set: &str, kind: &str, id: &str) -> AccountAssignment {
    AccountAssignment {
        account_id: account.into(),
        permission_set_arn: set.into(),
        principal_type: kind.into(),
        principal_id: id.into(),
    }
}

fn user(id: &str, name: &str) -> User {
    User {
        user_id: id.into(),
        user_name: name.into(),
        display_name: Some(format!("{name} display")),
        emails: vec![Email { value: format!("{name}@acme.example"), kind: None, primary: Some(true) }],
    }
}

fn member(group: &str, user: &str) -> GroupMembership {
    GroupMembership {
        group_id: group.into(),
        membership_id: None,
        member_id: MemberId { user_id: Some(user.into()) },
    }
}

/// alice is assigned Admin on A directly; group ops (bob, carol) Admin on B; ReadOnly for
/// ops on A; Admin is provisioned to both accounts.
fn identity_center() -> IdentityCenter {
    IdentityCenter {
        status: Some(Status { collected: true, reason: None, partial: vec![] }),
        instances: vec![],
        permission_sets: Some(vec![set(ADMIN, "Admin", &[A, B]), set(READ, "Read_Only", &[A])]),
        inline_documents: Default::default(),
        assignments: Some(vec![
            assignment(A, ADMIN, "USER", "u-alice"),
            assignment(B, ADMIN, "GROUP", "g-ops"),
            assignment(A, READ, "GROUP", "g-ops"),
        ]),
        users: Some(vec![user("u-alice", "alice"), user("u-bob", "bob"), user("u-carol", "carol")]),
        groups: Some(vec![
            Group { group_id: "g-ops".into(), display_name: "ops".into(), description: None },
            Group { group_id: "g-empty".into(), display_name: "nobody".into(), description: None },
        ]),
        memberships: Some(vec![member("g-ops", "u-bob"), member("g-ops", "u-carol")]),
    }
}

fn graph(account: &str, roles: &[&str]) -> IamGraph {
    let roles: Vec<serde_json::Value> = roles
        .iter()
        .map(|name| {
            serde_json::json!({
                "RoleName": name, "Path": "/aws-reserved/sso.amazonaws.com/",
                "Arn": format!("arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{name}"),
                "AssumeRolePolicyDocument": {"Version":"2012-10-17","Statement":[]},
            })
        })
        .collect();
    let text = serde_json::json!({"RoleDetailList": roles}).to_string();
    let mut problems: Vec<InputProblem> = Vec::new();
    IamGraph::from_json(&text, "a.json", &mut problems).unwrap()
}

const ADMIN_ROLE: &str = "AWSReservedSSO_Admin_0123456789abcdef";
const READ_ROLE: &str = "AWSReservedSSO_Read_Only_fedcba9876543210";

fn people(access: &AccountAccess, set: &str) -> Vec<(String, Option<String>)> {
    access
        .grants
        .iter()
        .filter(|g| g.permission_set == set)
        .map(|g| (g.person.name().to_string(), g.via_group.clone()))
        .collect()
}

#[test]
fn an_assignment_grants_only_its_own_account() {
    let ic = identity_center();
    let directory = Directory::new(&ic).unwrap();
    let a = directory.account(A, Some(&graph(A, &[ADMIN_ROLE, READ_ROLE])));
    let b = directory.account(B, Some(&graph(B, &[ADMIN_ROLE])));
    assert_eq!(people(&a, "Admin"), [("alice".to_string(), None)]);
    assert_eq!(
        people(&b, "Admin"),
        [("bob".to_string(), Some("ops".to_string())), ("carol".to_string(), Some("ops".to_string()))]
    );
    // The same permission set is provisioned to B, yet alice must not be there.
    assert!(!b.grants.iter().any(|g| g.person.name() == "alice"));
    assert_eq!(people(&a, "Read_Only").len(), 2, "a set name with an underscore links exactly");
    let admin_role = format!("arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/{ADMIN_ROLE}");
    assert_eq!(a.grants_of_role(&admin_role).count(), 1);
    assert!(a.drift.is_empty() && b.drift.is_empty(), "{:?} {:?}", a.drift, b.drift);
}

#[test]
fn drift_is_named_with_its_reason() {
    let mut ic = identity_center();
    ic.assignments.as_mut().unwrap().extend([
        assignment(B, READ, "USER", "u-gone"),
        assignment(B, READ, "GROUP", "g-empty"),
        assignment(B, READ, "GROUP", "g-deleted"),
    ]);
    let directory = Directory::new(&ic).unwrap();
    // A has an Admin role but also a role of a deleted permission set; B lacks the Read role.
    let a = directory
        .account(A, Some(&graph(A, &[ADMIN_ROLE, READ_ROLE, "AWSReservedSSO_Old_00000000000000aa"])));
    assert!(
        matches!(&a.drift[..], [Drift::RoleWithoutPermissionSet { permission_set, .. }] if permission_set == "Old")
    );
    let b = directory.account(B, Some(&graph(B, &[ADMIN_ROLE])));
    let kinds: Vec<&Drift> = b.drift.iter().collect();
    assert!(kinds
        .iter()
        .any(|d| matches!(d, Drift::AssignmentWithoutRole { permission_set, principals, .. }
        if permission_set == "Read_Only" && principals.len() == 3)));
    assert!(kinds.iter().any(|d| matches!(d, Drift::DeletedUser { user_id, .. } if user_id == "u-gone")));
    assert!(kinds.iter().any(|d| matches!(d, Drift::EmptyGroup { group, .. } if group == "nobody")));
    assert!(kinds
        .iter()
        .any(|d| matches!(d, Drift::DeletedGroup { group_id, .. } if group_id == "g-deleted")));
    assert_eq!(kinds.len(), 4);

    // A role provisioned with nobody assigned on its account.
    let mut ic = identity_center();
    ic.assignments.as_mut().unwrap().retain(|a| a.account_id != B);
    let directory = Directory::new(&ic).unwrap();
    let b = directory.account(B, Some(&graph(B, &[ADMIN_ROLE])));
    assert!(
        matches!(&b.drift[..], [Drift::RoleWithoutAssignment { permission_set, .. }] if permission_set == "Admin")
    );
    assert!(b.grants.is_empty());
}

#[test]
fn without_the_roles_no_role_drift_is_claimed_and_people_still_show() {
    let ic = identity_center();
    let directory = Directory::new(&ic).unwrap();
    let a = directory.account(A, None);
    assert!(a.drift.is_empty());
    assert!(a.grants.iter().all(|g| g.role_arn.is_none()));
    assert_eq!(a.grants.len(), 3);
}

#[test]
fn roles_that_are_not_identity_center_roles_are_not_linked() {
    let ic = identity_center();
    let directory = Directory::new(&ic).unwrap();
    // Wrong suffix length, upper-case hex, and a look-alike outside the reserved path.
    let mut g = graph(A, &["AWSReservedSSO_Admin_0123", "AWSReservedSSO_Admin_0123456789ABCDEF"]);
    let mut lookalike = graph(A, &[ADMIN_ROLE]);
    lookalike.roles[0].path = "/".into();
    g.roles.extend(lookalike.roles);
    let a = directory.account(A, Some(&g));
    assert!(a.roles.is_empty());
    // Alice's Admin assignment has no role in A now: that is drift.
    assert!(a.drift.iter().any(
        |d| matches!(d, Drift::AssignmentWithoutRole { permission_set, .. } if permission_set == "Admin")
    ));
}

#[test]
fn two_permission_sets_of_one_name_link_by_the_account_they_are_provisioned_to() {
    let mut ic = identity_center();
    let other = "arn:aws:sso:::permissionSet/ssoins-2/ps-admin";
    ic.permission_sets.as_mut().unwrap().push(set(other, "Admin", &[B]));
    ic.permission_sets.as_mut().unwrap()[0].account_ids = vec![A.into()];
    let directory = Directory::new(&ic).unwrap();
    let a = directory.account(A, Some(&graph(A, &[ADMIN_ROLE])));
    assert_eq!(a.roles[0].permission_set_arn.as_deref(), Some(ADMIN));
    // Both provisioned to the same account: the role is linked to neither, and says why.
    ic.permission_sets.as_mut().unwrap()[2].account_ids = vec![A.into()];
    let directory = Directory::new(&ic).unwrap();
    let a = directory.account(A, Some(&graph(A, &[ADMIN_ROLE])));
    assert_eq!(a.roles[0].permission_set_arn, None);
    assert!(
        matches!(&a.drift[0], Drift::RoleWithoutPermissionSet { reason, .. } if reason.contains("cannot be told apart"))
    );
}

#[test]
fn not_collected_identity_center_gives_no_directory() {
    let ic = IdentityCenter {
        status: Some(Status { collected: false, reason: Some("AccessDenied".into()), partial: vec![] }),
        ..Default::default()
    };
    assert!(Directory::new(&ic).is_none());
}

#[test]
fn a_person_reads_as_name_display_name_and_email() {
    let person = Person::of(&user("u-1", "ana"));
    assert_eq!(person.label(), "ana (ana display, ana@acme.example)");
    assert_eq!(person.arn(), "arn:aws:identitystore:::user/u-1");
    assert_eq!(Person::unnamed("u-9").label(), "u-9");
}
