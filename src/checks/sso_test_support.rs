//! Fixtures for the Identity Center checks: one account (the test account) with some
//! `AWSReservedSSO_*` roles, and an Identity Center whose permission sets Admin and
//! Read_Only are provisioned to it and to a second account.
//!
//! People: alice, bob, carol, dave (emails `<name>@acme.example`); group `ops` (g-ops) has
//! bob (membership m-bob-ops) and carol (membership id not recorded), group `nobody`
//! (g-empty) has no members. The instance `ssoins-1` has identity store `d-1234567890`.

use super::test_support::{Fixture, ACCOUNT};
use crate::access::join::Directory;
use crate::snapshot::identity_center::{
    AccountAssignment, Email, Group, GroupMembership, IdentityCenter, Instance, MemberId, PermissionSetsFile,
    Status, User,
};

pub const OTHER_ACCOUNT: &str = "999988887777";
pub const ADMIN_ROLE: &str = "AWSReservedSSO_Admin_0123456789abcdef";
pub const READ_ROLE: &str = "AWSReservedSSO_Read_Only_fedcba9876543210";
pub const ADMIN_SET: &str = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin";
pub const READ_SET: &str = "arn:aws:sso:::permissionSet/ssoins-1/ps-read";

/// `aws sso-admin <operation>` on permission set `set` of the fixture's instance, as the
/// findings' commands begin.
pub fn sso_admin(operation: &str, set: &str) -> String {
    format!(
        "aws sso-admin {operation} --instance-arn arn:aws:sso:::instance/ssoins-1 --permission-set-arn {set}"
    )
}

/// The Identity Center with `assignments` as (permission set name, USER or GROUP, principal
/// id); a principal id ending in `@other` is assigned on [`OTHER_ACCOUNT`] instead.
pub fn identity_center(assignments: &[(&str, &str, &str)]) -> IdentityCenter {
    let sets = serde_json::json!({"PermissionSets": [
        {"PermissionSetArn": ADMIN_SET, "Name": "Admin", "SessionDuration": "PT8H",
         "AttachedManagedPolicies": [{"Name": "AdministratorAccess", "Arn": "arn:aws:iam::aws:policy/AdministratorAccess"}],
         "AccountIds": [ACCOUNT, OTHER_ACCOUNT]},
        {"PermissionSetArn": READ_SET, "Name": "Read_Only", "SessionDuration": "PT12H",
         "AccountIds": [ACCOUNT, OTHER_ACCOUNT]},
    ]});
    let sets: PermissionSetsFile = serde_json::from_value(sets).unwrap();
    let user = |name: &str| User {
        user_id: format!("u-{name}"),
        user_name: name.into(),
        display_name: Some(format!("{} Example", name.to_uppercase())),
        emails: vec![Email {
            value: format!("{name}@acme.example"),
            kind: Some("work".into()),
            primary: Some(true),
        }],
    };
    let member = |group: &str, user: &str, membership: Option<&str>| GroupMembership {
        group_id: group.into(),
        membership_id: membership.map(str::to_string),
        member_id: MemberId { user_id: Some(user.into()) },
    };
    IdentityCenter {
        status: Some(Status { collected: true, reason: None, partial: vec![] }),
        instances: vec![Instance {
            instance_arn: "arn:aws:sso:::instance/ssoins-1".into(),
            identity_store_id: "d-1234567890".into(),
            owner_account_id: None,
            name: None,
            status: None,
        }],
        permission_sets: Some(sets.permission_sets),
        inline_documents: Default::default(),
        assignments: Some(
            assignments
                .iter()
                .map(|(set, kind, id)| {
                    let (id, account) = match id.strip_suffix("@other") {
                        Some(id) => (id, OTHER_ACCOUNT),
                        None => (*id, ACCOUNT),
                    };
                    AccountAssignment {
                        account_id: account.into(),
                        permission_set_arn: if *set == "Admin" { ADMIN_SET } else { READ_SET }.into(),
                        principal_type: (*kind).into(),
                        principal_id: id.into(),
                    }
                })
                .collect(),
        ),
        users: Some(["alice", "bob", "carol", "dave"].map(user).into()),
        groups: Some(vec![
            Group { group_id: "g-ops".into(), display_name: "ops".into(), description: None },
            Group { group_id: "g-empty".into(), display_name: "nobody".into(), description: None },
        ]),
        memberships: Some(vec![
            member("g-ops", "u-bob", Some("m-bob-ops")),
            member("g-ops", "u-carol", None),
        ]),
    }
}

/// The account holds `roles` (of [`ADMIN_ROLE`]: AdministratorAccess; any other: read-only
/// S3), and Identity Center has `assignments` (see [`identity_center`]).
pub fn fixture(roles: &[&str], assignments: &[(&str, &str, &str)]) -> (Fixture, Directory<'static>) {
    let roles: Vec<serde_json::Value> = roles
        .iter()
        .map(|name| {
            let mut role = serde_json::json!({
                "RoleName": name, "Path": "/aws-reserved/sso.amazonaws.com/",
                "Arn": format!("arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/{name}"),
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_0123_DO_NOT_DELETE")},
                    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"]}]},
                "RolePolicyList": [], "AttachedManagedPolicies": []
            });
            if *name == ADMIN_ROLE {
                role["AttachedManagedPolicies"] = serde_json::json!([
                    {"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]);
            } else {
                role["RolePolicyList"] = serde_json::json!([{"PolicyName": "AwsSSOInlinePolicy", "PolicyDocument":
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]);
            }
            role
        })
        .collect();
    let mut fixture = Fixture::new().gaad(&serde_json::json!({"RoleDetailList": roles}).to_string());
    fixture.account.identity_center = true;
    let ic: &'static IdentityCenter = Box::leak(Box::new(identity_center(assignments)));
    (fixture, Directory::new(ic).expect("collected"))
}
