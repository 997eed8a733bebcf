//! The admin-equivalence cases of shared/IAM-NOTES.md, one test each, on literal policies.

use super::admin::{
    assess, document_grants_admin, role_escalation_paths, user_escalation_paths, AdminPower, AdminVerdict,
};
use super::document::PolicyDocument;
use super::effective::{Cap, CapKind, Grant, Permissions, PolicySource};

const USER: &str = "arn:aws:iam::111122223333:user/alice";
const ROLE: &str = "arn:aws:iam::111122223333:role/app";

fn doc(statements: &str) -> PolicyDocument {
    PolicyDocument::literal(&format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
}

fn grant<'a>(name: &str, document: &'a PolicyDocument) -> Grant<'a> {
    Grant { source: PolicySource { policy: name.into(), policy_arn: None, via_group: None }, document }
}

fn user_verdict(documents: &[&PolicyDocument], caps: Vec<Cap>) -> AdminVerdict {
    let grants = documents.iter().enumerate().map(|(i, d)| grant(&format!("p{i}"), d)).collect();
    let paths = user_escalation_paths(USER, "alice", &[], &[], &[]);
    assess(&Permissions { grants, caps }, &paths, &[])
}

fn power(verdict: &AdminVerdict) -> Option<&AdminPower> {
    match verdict {
        AdminVerdict::Admin(a) => Some(&a.power),
        _ => None,
    }
}

#[test]
fn star_and_star_colon_star_are_full_admin() {
    for action in [r#""*""#, r#""*:*""#, r#"["*"]"#] {
        let d = doc(&format!(r#"{{"Effect":"Allow","Action":{action},"Resource":"*"}}"#));
        assert_eq!(power(&user_verdict(&[&d], vec![])), Some(&AdminPower::Full), "{action}");
    }
}

#[test]
fn iam_star_plus_sts_star_is_not_everything_but_can_grant_itself() {
    let d = doc(r#"{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}"#);
    assert!(matches!(power(&user_verdict(&[&d], vec![])), Some(AdminPower::CanGrantItself { .. })));
    let s3 = doc(r#"{"Effect":"Allow","Action":["s3:*","sts:*","ec2:*"],"Resource":"*"}"#);
    assert_eq!(user_verdict(&[&s3], vec![]), AdminVerdict::NotAdmin);
}

#[test]
fn actions_match_case_insensitively() {
    let d = doc(r#"{"Effect":"Allow","Action":"IAM:PUTUSERPOLICY","Resource":"*"}"#);
    assert!(matches!(power(&user_verdict(&[&d], vec![])), Some(AdminPower::CanGrantItself { .. })));
}

#[test]
fn notaction_grants_everything_not_listed() {
    let d = doc(r#"{"Effect":"Allow","NotAction":["aws-portal:*","budgets:*"],"Resource":"*"}"#);
    match power(&user_verdict(&[&d], vec![])) {
        Some(AdminPower::AllExcept { excluded }) => assert_eq!(excluded, &["aws-portal:*", "budgets:*"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn power_user_access_is_powerful_but_not_admin() {
    let d = doc(r#"{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
           {"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization"],"Resource":"*"}"#);
    assert_eq!(user_verdict(&[&d], vec![]), AdminVerdict::NotAdmin);
    assert_eq!(
        document_grants_admin(&Permissions { grants: vec![grant("PowerUserAccess", &d)], caps: vec![] }),
        None
    );
}

#[test]
fn notaction_of_a_service_that_does_not_exist_is_full_admin() {
    let d = doc(r#"{"Effect":"Allow","NotAction":"notarealservice:*","Resource":"*"}"#);
    assert_eq!(power(&user_verdict(&[&d], vec![])), Some(&AdminPower::Full));
}

#[test]
fn notresource_counts_as_nearly_every_resource() {
    let d = doc(r#"{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::audit-logs/*"}"#);
    assert_eq!(power(&user_verdict(&[&d], vec![])), Some(&AdminPower::Full));
    let scoped =
        doc(r#"{"Effect":"Allow","Action":"*","Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"]}"#);
    assert_eq!(user_verdict(&[&scoped], vec![]), AdminVerdict::NotAdmin);
}

#[test]
fn explicit_deny_on_everything_cancels_admin_and_a_partial_deny_narrows_it() {
    let all = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let deny_all = doc(r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#);
    assert_eq!(user_verdict(&[&all, &deny_all], vec![]), AdminVerdict::NotAdmin);
    let deny_iam = doc(r#"{"Effect":"Deny","Action":"iam:*","Resource":"*"}"#);
    assert_eq!(
        user_verdict(&[&all, &deny_iam], vec![]),
        AdminVerdict::NotAdmin,
        "no IAM: cannot grant itself the rest"
    );
    let deny_leave = doc(r#"{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}"#);
    match power(&user_verdict(&[&all, &deny_leave], vec![])) {
        Some(AdminPower::AllExcept { excluded }) => {
            assert_eq!(excluded, &["organizations:LeaveOrganization"])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_conditional_deny_does_not_cancel_admin() {
    let all = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let mfa = doc(
        r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}"#,
    );
    assert_eq!(power(&user_verdict(&[&all, &mfa], vec![])), Some(&AdminPower::Full));
}

#[test]
fn a_conditional_allow_is_admin_and_says_so() {
    let ip = doc(
        r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}"#,
    );
    match user_verdict(&[&ip], vec![]) {
        AdminVerdict::Admin(a) => assert!(a.conditional),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_boundary_that_does_not_allow_everything_caps_and_is_named() {
    let all = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let boundary = doc(r#"{"Effect":"Allow","Action":["s3:*","ec2:*"],"Resource":"*"}"#);
    let cap = Cap {
        kind: CapKind::PermissionsBoundary,
        label: "permissions boundary Dev".into(),
        documents: vec![("arn:aws:iam::111122223333:policy/Dev".into(), &boundary)],
    };
    match user_verdict(&[&all], vec![cap]) {
        AdminVerdict::Capped { capped_by, would_be } => {
            assert_eq!(capped_by, vec!["permissions boundary Dev"]);
            assert_eq!(would_be.power, AdminPower::Full);
        }
        other => panic!("{other:?}"),
    }
    let open_boundary = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let cap = Cap {
        kind: CapKind::PermissionsBoundary,
        label: "b".into(),
        documents: vec![("b".into(), &open_boundary)],
    };
    assert_eq!(
        power(&user_verdict(&[&all], vec![cap])),
        Some(&AdminPower::Full),
        "a boundary allowing * caps nothing"
    );
}

#[test]
fn an_scp_that_denies_iam_caps_admin() {
    let all = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let scp = doc(
        r#"{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["iam:*","organizations:*"],"Resource":"*"}"#,
    );
    let cap = Cap { kind: CapKind::Scp, label: "SCP NoIAM".into(), documents: vec![("p-1".into(), &scp)] };
    assert!(matches!(user_verdict(&[&all], vec![cap]), AdminVerdict::Capped { .. }));
}

#[test]
fn only_the_policies_own_resource_counts_for_self_escalation() {
    let other = doc(
        r#"{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::111122223333:user/bob"}"#,
    );
    assert_eq!(user_verdict(&[&other], vec![]), AdminVerdict::NotAdmin);
    let own = doc(
        r#"{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}"#,
    );
    assert!(matches!(power(&user_verdict(&[&own], vec![])), Some(AdminPower::CanGrantItself { .. })));
}

#[test]
fn a_role_rewriting_its_own_policies_is_admin_a_role_with_user_actions_is_not() {
    let put = doc(r#"{"Effect":"Allow","Action":["iam:PutRolePolicy"],"Resource":"*"}"#);
    let attach_user = doc(r#"{"Effect":"Allow","Action":["iam:AttachUserPolicy"],"Resource":"*"}"#);
    let paths = role_escalation_paths(ROLE, "app", &[]);
    let verdict =
        |d: &PolicyDocument| assess(&Permissions { grants: vec![grant("p", d)], caps: vec![] }, &paths, &[]);
    assert!(matches!(power(&verdict(&put)), Some(AdminPower::CanGrantItself { .. })));
    assert_eq!(verdict(&attach_user), AdminVerdict::NotAdmin);
}

#[test]
fn create_policy_version_on_an_attached_policy_and_add_user_to_admin_group() {
    let cpv = doc(
        r#"{"Effect":"Allow","Action":"iam:CreatePolicyVersion","Resource":"arn:aws:iam::111122223333:policy/team-*"}"#,
    );
    let attached = [("arn:aws:iam::111122223333:policy/team-deploy", "team-deploy")];
    let paths = user_escalation_paths(USER, "alice", &attached, &[], &[]);
    let verdict = assess(&Permissions { grants: vec![grant("p", &cpv)], caps: vec![] }, &paths, &[]);
    match power(&verdict) {
        Some(AdminPower::CanGrantItself { methods }) => {
            assert!(methods[0].contains("team-deploy"), "{methods:?}")
        }
        other => panic!("{other:?}"),
    }
    // The same permission is harmless when no attached policy matches it.
    let paths = user_escalation_paths(
        USER,
        "alice",
        &[("arn:aws:iam::111122223333:policy/other", "other")],
        &[],
        &[],
    );
    assert_eq!(
        assess(&Permissions { grants: vec![grant("p", &cpv)], caps: vec![] }, &paths, &[]),
        AdminVerdict::NotAdmin
    );

    let add = doc(
        r#"{"Effect":"Allow","Action":"iam:AddUserToGroup","Resource":"arn:aws:iam::111122223333:group/Admins"}"#,
    );
    let admin_groups = [("arn:aws:iam::111122223333:group/Admins", "Admins")];
    let paths = user_escalation_paths(USER, "alice", &[], &[], &admin_groups);
    let verdict = assess(&Permissions { grants: vec![grant("p", &add)], caps: vec![] }, &paths, &[]);
    assert!(matches!(power(&verdict), Some(AdminPower::CanGrantItself { .. })));
}

#[test]
fn only_the_cap_that_takes_admin_away_is_named() {
    let all = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let leave = doc(
        r#"{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}"#,
    );
    let boundary = doc(r#"{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}"#);
    let caps = vec![
        Cap { kind: CapKind::Scp, label: "SCP DenyLeave".into(), documents: vec![("p-1".into(), &leave)] },
        Cap {
            kind: CapKind::PermissionsBoundary,
            label: "permissions boundary S3".into(),
            documents: vec![("b".into(), &boundary)],
        },
    ];
    match user_verdict(&[&all], caps) {
        AdminVerdict::Capped { capped_by, .. } => assert_eq!(capped_by, vec!["permissions boundary S3"]),
        other => panic!("{other:?}"),
    }
    // Two caps that each take IAM away: neither alone is decisive, both are named.
    let no_iam = doc(
        r#"{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}"#,
    );
    let caps = vec![
        Cap { kind: CapKind::Scp, label: "SCP NoIAM".into(), documents: vec![("p-2".into(), &no_iam)] },
        Cap {
            kind: CapKind::PermissionsBoundary,
            label: "permissions boundary S3".into(),
            documents: vec![("b".into(), &boundary)],
        },
    ];
    match user_verdict(&[&all], caps) {
        AdminVerdict::Capped { capped_by, .. } => {
            assert_eq!(capped_by, vec!["SCP NoIAM", "permissions boundary S3"])
        }
        other => panic!("{other:?}"),
    }
}
