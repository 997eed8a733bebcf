//! The escalation graph on hand-made accounts: each kind of edge, what must be found and
//! what must not (the look-alike that differs in the one thing that matters).

use super::graph::{AccountGraph, Standing, Verdict};
use super::org::{cross_account, cross_account_planned, AccountExport, CrossAccount, ExportPlan};
use super::principal;
use crate::audit::parking::{Parked, Parking};
use crate::checks::admin_holders;
use crate::identifiers::AccountId;
use crate::snapshot::authorization::IamGraph;
use crate::snapshot::organization::Organization;
use crate::snapshot::AccountSnapshot;

const A: &str = "111122223333";
const ADMIN: &str =
    r#"{"PolicyName":"AdministratorAccess","PolicyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#;

fn user(name: &str, policy: &str, extra: &str) -> String {
    let inline = if policy.is_empty() {
        String::new()
    } else {
        format!(r#","UserPolicyList":[{{"PolicyName":"p","PolicyDocument":{{"Statement":[{policy}]}}}}]"#)
    };
    format!(r#"{{"UserName":"{name}","Path":"/","Arn":"arn:aws:iam::{A}:user/{name}"{inline}{extra}}}"#)
}

fn role(name: &str, trust: &str, extra: &str) -> String {
    format!(
        r#"{{"RoleName":"{name}","Path":"/","Arn":"arn:aws:iam::{A}:role/{name}","AssumeRolePolicyDocument":{{"Statement":[{trust}]}}{extra}}}"#
    )
}

fn admin_role(name: &str, trust: &str) -> String {
    role(name, trust, &format!(r#","AttachedManagedPolicies":[{ADMIN}]"#))
}

fn service_trust(service: &str) -> String {
    format!(r#"{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}"#)
}

fn graph(users: &[String], roles: &[String], extra: &str) -> IamGraph {
    let json = format!(
        r#"{{"UserDetailList":[{}],"RoleDetailList":[{}]{extra}}}"#,
        users.join(","),
        roles.join(",")
    );
    let mut problems = Vec::new();
    let graph = IamGraph::from_json(&json, "gaad.json", &mut problems).expect("fixture parses");
    assert!(problems.iter().all(|p| p.note_only), "{problems:?}");
    graph
}

fn verdicts_in(graph: &IamGraph, organization: &Organization) -> Vec<Verdict> {
    let account = AccountId::parse(A).unwrap();
    let none = |_: &str| None;
    let mut search = AccountGraph::new(principal::nodes(graph, &account, organization, &none));
    search.search(Vec::new());
    search.verdicts()
}

fn verdicts(users: &[String], roles: &[String]) -> Vec<Verdict> {
    verdicts_in(&graph(users, roles, ""), &Organization::default())
}

fn standing<'v>(verdicts: &'v [Verdict], name: &str) -> &'v Standing {
    &verdicts.iter().find(|v| v.name == name).unwrap_or_else(|| panic!("no {name}")).standing
}

/// The catalogue ids of the path `name` escalates by, or None.
fn path_of(verdicts: &[Verdict], name: &str) -> Option<Vec<&'static str>> {
    match standing(verdicts, name) {
        Standing::Escalates(e) => Some(e.steps.iter().map(|s| s.path_id).collect()),
        _ => None,
    }
}

const LAMBDA_PASS: &str = r#"{"Effect":"Allow","Action":["iam:PassRole","lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}"#;

#[test]
fn passing_an_admin_role_to_a_new_function_is_escalation() {
    let v = verdicts(
        &[user("dev", LAMBDA_PASS, "")],
        &[admin_role("fn-admin", &service_trust("lambda.amazonaws.com"))],
    );
    let path = path_of(&v, "dev").expect("dev escalates");
    assert!(path[0].starts_with("lambda-"), "{path:?}");
    let Standing::Escalates(e) = standing(&v, "dev") else { unreachable!() };
    assert_eq!(e.steps[0].target, format!("arn:aws:iam::{A}:role/fn-admin"));
    assert!(!e.potential);
}

#[test]
fn no_admin_target_or_a_role_lambda_cannot_assume_is_not_escalation() {
    // The only role lambda may assume is not admin.
    let weak = role(
        "fn-weak",
        &service_trust("lambda.amazonaws.com"),
        r#","RolePolicyList":[{"PolicyName":"s3","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}]"#,
    );
    let v = verdicts(&[user("dev", LAMBDA_PASS, "")], &[weak]);
    assert_eq!(standing(&v, "dev"), &Standing::NotAdmin);
    // The admin role trusts EC2, not Lambda, and dev may not run instances.
    let v = verdicts(
        &[user("dev", LAMBDA_PASS, "")],
        &[admin_role("ec2-admin", &service_trust("ec2.amazonaws.com"))],
    );
    assert_eq!(standing(&v, "dev"), &Standing::NotAdmin);
}

#[test]
fn pass_role_scoped_to_another_service_does_not_reach_lambda() {
    let scoped = r#"{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}},
                    {"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}"#;
    let v = verdicts(
        &[user("dev", scoped, "")],
        &[admin_role("fn-admin", &service_trust("lambda.amazonaws.com"))],
    );
    assert_eq!(standing(&v, "dev"), &Standing::NotAdmin);
}

#[test]
fn existing_resources_give_a_potential_path() {
    let update =
        r#"{"Effect":"Allow","Action":["lambda:UpdateFunctionCode","lambda:InvokeFunction"],"Resource":"*"}"#;
    let v = verdicts(
        &[user("dev", update, "")],
        &[admin_role("fn-admin", &service_trust("lambda.amazonaws.com"))],
    );
    let Standing::Escalates(e) = standing(&v, "dev") else { panic!("{:?}", standing(&v, "dev")) };
    assert!(e.potential, "an existing function is not in the snapshot");
}

#[test]
fn access_keys_for_an_admin_user_but_not_for_oneself() {
    let any_keys = r#"{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}"#;
    let own_keys = r#"{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}"#;
    let boss = user("boss", "", &format!(r#","AttachedManagedPolicies":[{ADMIN}]"#));
    let v = verdicts(&[user("helpdesk", any_keys, ""), user("self-service", own_keys, ""), boss], &[]);
    assert_eq!(path_of(&v, "helpdesk"), Some(vec!["iam-002"]));
    assert_eq!(standing(&v, "self-service"), &Standing::NotAdmin);
}

#[test]
fn assuming_an_admin_role_needs_trust_and_where_aws_requires_it_identity() {
    let root_trust = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}"#
    );
    let named_trust = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:user/named"}},"Action":"sts:AssumeRole"}}"#
    );
    let assume = r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#;
    let v = verdicts(
        &[user("caller", assume, ""), user("bystander", "", ""), user("named", "", "")],
        &[admin_role("by-account", &root_trust), admin_role("by-name", &named_trust)],
    );
    assert_eq!(path_of(&v, "caller"), Some(vec!["sts-001"]), "account trust + identity permission");
    assert_eq!(standing(&v, "bystander"), &Standing::NotAdmin, "account trust without identity permission");
    assert_eq!(
        path_of(&v, "named"),
        Some(vec!["sts-001"]),
        "same-account trust naming the user needs no identity permission"
    );
}

#[test]
fn rewriting_a_trust_is_escalation() {
    let rewrite = r#"{"Effect":"Allow","Action":"iam:UpdateAssumeRolePolicy","Resource":"*"}"#;
    let v =
        verdicts(&[user("ops", rewrite, "")], &[admin_role("admin", &service_trust("ec2.amazonaws.com"))]);
    assert_eq!(path_of(&v, "ops"), Some(vec!["iam-012"]));
}

#[test]
fn two_steps_attach_then_assume_through_a_chain() {
    // ops may assume "middle"; middle may attach policies to itself: ops → middle → admin.
    let trust = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:user/ops"}},"Action":"sts:AssumeRole"}}"#
    );
    let middle = role(
        "middle",
        &trust,
        r#","RolePolicyList":[{"PolicyName":"self","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"arn:aws:iam::111122223333:role/middle"}]}}]"#,
    );
    let v = verdicts(&[user("ops", "", "")], &[middle]);
    assert_eq!(path_of(&v, "middle"), Some(vec!["iam-009"]));
    assert_eq!(path_of(&v, "ops"), Some(vec!["sts-001", "iam-009"]));
}

#[test]
fn a_self_grant_under_a_narrow_boundary_is_not_admin() {
    let put_self = r#"{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}"#;
    let boundary =
        r#","PermissionsBoundary":{"PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/Narrow"}"#;
    let narrow = r#","Policies":[{"PolicyName":"Narrow","Arn":"arn:aws:iam::111122223333:policy/Narrow","DefaultVersionId":"v1","PolicyVersionList":[{"VersionId":"v1","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","Action":["s3:*","iam:PutUserPolicy"],"Resource":"*"}]}}]}]"#;
    let g = graph(&[user("bounded", put_self, boundary), user("free", put_self, "")], &[], narrow);
    let v = verdicts_in(&g, &Organization::default());
    assert!(matches!(standing(&v, "bounded"), Standing::Capped { .. }), "{:?}", standing(&v, "bounded"));
    assert_eq!(path_of(&v, "free"), Some(vec!["iam-007"]));
}

#[test]
fn quick_setup_style_conditions_decide_attach_role_policy() {
    // AttachRolePolicy only for a fixed non-admin policy, and only by another role.
    let quick_setup = r#"{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"*","Condition":{
        "ArnEquals":{"iam:PolicyARN":["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]},
        "ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/AWS-QuickSetup-*"}}}"#;
    let r = role(
        "qs",
        &service_trust("ssm.amazonaws.com"),
        &format!(
            r#","RolePolicyList":[{{"PolicyName":"qs","PolicyDocument":{{"Statement":[{quick_setup}]}}}}]"#
        ),
    );
    let v = verdicts(&[], &[r]);
    assert_eq!(standing(&v, "qs"), &Standing::NotAdmin);
}

#[test]
fn conditions_the_snapshot_cannot_decide_are_named() {
    let mfa_self = r#"{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"arn:aws:iam::111122223333:user/${aws:username}","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}"#;
    let v = verdicts(&[user("mfa-admin", mfa_self, "")], &[]);
    let Standing::Escalates(e) = standing(&v, "mfa-admin") else { panic!() };
    assert!(e.conditions.iter().any(|c| c.contains("MultiFactorAuthPresent")), "{:?}", e.conditions);
}

#[test]
fn an_old_admin_version_that_can_be_made_default() {
    let set_default = r#"{"Effect":"Allow","Action":"iam:SetDefaultPolicyVersion","Resource":"*"}"#;
    let attached = r#","AttachedManagedPolicies":[{"PolicyName":"Tools","PolicyArn":"arn:aws:iam::111122223333:policy/Tools"}]"#;
    let policies = |old: &str| {
        format!(
            r#","Policies":[{{"PolicyName":"Tools","Arn":"arn:aws:iam::111122223333:policy/Tools","DefaultVersionId":"v2","PolicyVersionList":[
            {{"VersionId":"v2","IsDefaultVersion":true,"Document":{{"Statement":[{set_default}]}}}},
            {{"VersionId":"v1","IsDefaultVersion":false,"Document":{{"Statement":[{old}]}}}}]}}]"#
        )
    };
    let star = r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#;
    let g = graph(&[user("dev", "", attached)], &[], &policies(star));
    assert_eq!(path_of(&verdicts_in(&g, &Organization::default()), "dev"), Some(vec!["iam-auditor-001"]));
    let s3 = r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#;
    let g = graph(&[user("dev", "", attached)], &[], &policies(s3));
    assert_eq!(standing(&verdicts_in(&g, &Organization::default()), "dev"), &Standing::NotAdmin);
}

fn organization(scp: &str) -> Organization {
    let mut org = Organization::default();
    org.read_accounts(
        &format!(
            r#"{{"Accounts":[{{"Id":"999999999999","Arn":"arn:aws:organizations::999999999999:account/o-abc/999999999999","Name":"m"}},
               {{"Id":"{A}","Arn":"arn:aws:organizations::999999999999:account/o-abc/{A}","Name":"member"}}]}}"#
        ),
        "accounts.json",
    )
    .unwrap();
    org.read_scps(
        &format!(
            r#"{{"OrganizationId":"o-abc","RootId":"r-1","Policies":[{{"Id":"p-1","Name":"Guard","Content":{{"Statement":[{scp}]}},"Targets":[{{"TargetId":"r-1"}}]}}]}}"#
        ),
        "scps.json",
        &mut Vec::new(),
    )
    .unwrap();
    org
}

#[test]
fn an_scp_denying_iam_except_to_break_glass_is_applied() {
    let guard = r#"{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/break-glass"}}}"#;
    let attach_any = r#","RolePolicyList":[{"PolicyName":"p","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"*"}]}}]"#;
    let trust = service_trust("ec2.amazonaws.com");
    let g = graph(&[], &[role("break-glass", &trust, attach_any), role("ci", &trust, attach_any)], "");
    let v = verdicts_in(&g, &organization(guard));
    assert_eq!(path_of(&v, "break-glass"), Some(vec!["iam-009"]));
    let Standing::Capped { capped_by, .. } = standing(&v, "ci") else { panic!("{:?}", standing(&v, "ci")) };
    assert_eq!(capped_by, &vec!["SCP Guard".to_string()], "the SCP denies ci any IAM write");
}

#[test]
fn roles_reach_admin_across_accounts_where_trust_allows() {
    const B: &str = "444455556666";
    let deployer_arn = format!("arn:aws:iam::{A}:role/deployer");
    let assume_any = r#","RolePolicyList":[{"PolicyName":"p","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}}]"#;
    let a = graph(
        &[],
        &[
            role("deployer", &service_trust("codebuild.amazonaws.com"), assume_any),
            role("other", &service_trust("codebuild.amazonaws.com"), assume_any),
        ],
        "",
    );
    let b_json = format!(
        r#"{{"RoleDetailList":[{{"RoleName":"prod-admin","Path":"/","Arn":"arn:aws:iam::{B}:role/prod-admin",
            "AssumeRolePolicyDocument":{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{deployer_arn}"}},"Action":"sts:AssumeRole"}}]}},
            "AttachedManagedPolicies":[{ADMIN}]}}]}}"#
    );
    let b = IamGraph::from_json(&b_json, "b.json", &mut Vec::new()).unwrap();
    let snapshot = |id: &str, graph: IamGraph| {
        let mut s = AccountSnapshot::empty(AccountId::parse(id).unwrap(), id.into());
        s.authorization = Some(graph);
        s
    };
    let org = Organization::default();
    let exports: Vec<AccountExport> =
        [snapshot(A, a), snapshot(B, b)].iter().map(|s| admin_holders::analyse(s, &org).export).collect();
    let found = by_arn(cross_account(exports, &org));
    let deployer = found.get(&deployer_arn).expect("deployer reaches prod-admin");
    assert_eq!(deployer.steps[0].path_id, "sts-001");
    assert_eq!(deployer.admin_node, format!("arn:aws:iam::{B}:role/prod-admin"));
    assert!(!found.contains_key(&format!("arn:aws:iam::{A}:role/other")), "the trust names only deployer");
}

#[test]
fn service_linked_and_identity_center_roles_cannot_be_written() {
    let write_any = r#"{"Effect":"Allow","Action":["iam:AttachRolePolicy","iam:UpdateAssumeRolePolicy","iam:PutRolePolicy"],"Resource":"*"}"#;
    let slr = format!(
        r#"{{"RoleName":"AWSServiceRoleForSupport","Path":"/aws-service-role/support.amazonaws.com/","Arn":"arn:aws:iam::{A}:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport","AssumeRolePolicyDocument":{{"Statement":[{}]}}}}"#,
        service_trust("support.amazonaws.com")
    );
    let sso = format!(
        r#"{{"RoleName":"AWSReservedSSO_Admin_0123456789abcdef","Path":"/aws-reserved/sso.amazonaws.com/","Arn":"arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef","AssumeRolePolicyDocument":{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{A}:saml-provider/AWSSSO_x_DO_NOT_DELETE"}},"Action":"sts:AssumeRoleWithSAML"}}]}},"AttachedManagedPolicies":[{ADMIN}]}}"#
    );
    // The writer is capped by a boundary allowing only these writes, so it cannot use them on itself.
    let boundary =
        r#","PermissionsBoundary":{"PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/Writes"}"#;
    let policies = format!(
        r#","Policies":[{{"PolicyName":"Writes","Arn":"arn:aws:iam::{A}:policy/Writes","DefaultVersionId":"v1","PolicyVersionList":[{{"VersionId":"v1","IsDefaultVersion":true,"Document":{{"Statement":[{write_any}]}}}}]}}]"#
    );
    let g = graph(&[user("writer", write_any, boundary)], &[slr, sso], &policies);
    let v = verdicts_in(&g, &Organization::default());
    assert_eq!(standing(&v, "writer"), &Standing::NotAdmin, "{v:?}");
}

#[test]
fn a_condition_on_the_written_principal_boundary_is_decided() {
    // As AmazonSecurityLakeAdministrator: PutRolePolicy only where the role written to carries
    // a given boundary. This role has none, so it may not write its own policies.
    let guarded = r#"{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"*","Condition":{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::aws:policy/SomeBoundary"}}}"#;
    let r = role(
        "lake",
        &service_trust("ec2.amazonaws.com"),
        &format!(r#","RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{{"Statement":[{guarded}]}}}}]"#),
    );
    assert_eq!(standing(&verdicts(&[], &[r]), "lake"), &Standing::NotAdmin);
}

/// Each account's export, for accounts given as (account id, users, roles), written with
/// account `A` in their ARNs.
fn exports(accounts: &[(&str, Vec<String>, Vec<String>)]) -> Vec<AccountExport> {
    let org = Organization::default();
    accounts
        .iter()
        .map(|(id, users, roles)| {
            let moved = |list: &[String]| list.iter().map(|s| s.replace(A, id)).collect::<Vec<_>>();
            let mut s = AccountSnapshot::empty(AccountId::parse(id).unwrap(), (*id).into());
            s.authorization = Some(graph(&moved(users), &moved(roles), ""));
            admin_holders::analyse(&s, &org).export
        })
        .collect()
}

/// The organization-wide pass over `accounts` (see [`exports`]). The pass runs twice, on the
/// exports held in memory and on the exports parked on disk and read back as an audit reads
/// them, and must find the same.
fn across(
    accounts: &[(&str, Vec<String>, Vec<String>)],
) -> std::collections::BTreeMap<String, super::graph::Escalation> {
    let org = Organization::default();
    let exports = exports(accounts);
    let held = by_arn(cross_account(exports.clone(), &org));
    let dir = tempfile::tempdir().unwrap();
    let mut parking: Parking<AccountExport> = Parking::in_dir(dir.path(), "exports.spill", "export");
    // As an audit holds them: copied on the thread that keeps them.
    let plans: Vec<ExportPlan> = exports.iter().map(|e| ExportPlan::of(e).settled()).collect();
    let tickets: Vec<_> = exports
        .into_iter()
        .map(|e| {
            let encoded = parking.encoder().encode(e);
            parking.park(encoded)
        })
        .collect();
    assert!(tickets.iter().all(|t| matches!(t, Parked::Written { .. })), "parked in the file");
    parking.close().unwrap();
    let load = |account: usize| parking.read(&tickets[account]);
    let parked = cross_account_planned(&plans, &load, &org);
    assert!(parked.unreadable.is_empty());
    let parked = by_arn(parked);
    assert_eq!(format!("{parked:?}"), format!("{held:?}"), "parked exports give the same answer");
    held
}

/// What the organization-wide pass found, by principal ARN.
fn by_arn(cross: CrossAccount) -> std::collections::BTreeMap<String, super::graph::Escalation> {
    cross.found.into_iter().flatten().map(|(_, arn, e)| (arn, e)).collect()
}

fn assume_on(resource: &str) -> String {
    format!(r#"{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{resource}"}}"#)
}

#[test]
fn a_settled_plan_is_the_same_plan_in_fresh_lists_still_shared_where_they_were() {
    const B: &str = "444455556666";
    let on_b = assume_on(&format!("arn:aws:iam::{B}:role/*"));
    let to_b = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":"sts:AssumeRole"}}"#
    );
    let exports = exports(&[(
        A,
        vec![user("u1", &on_b, ""), user("u2", &on_b, ""), user("u3", &assume_on("*"), "")],
        vec![role("r1", &to_b, ""), role("r2", &to_b, "")],
    )]);
    let plan = ExportPlan::of(&exports[0]);
    let settled = plan.settled();
    assert_eq!(format!("{settled:?}"), format!("{plan:?}"));
    let (before, after) = (plan.list_addresses(), settled.list_addresses());
    assert!(before.len() >= 6, "u1's and u2's targets and resources, r1's and r2's trust: {before:?}");
    assert_eq!(before.len(), after.len());
    assert!(after.iter().all(|a| !before.contains(a)), "every list copied: {before:?} {after:?}");
    for i in 0..before.len() {
        for j in 0..before.len() {
            assert_eq!(before[i] == before[j], after[i] == after[j], "lists {i} and {j}: shared alike");
        }
    }
    let shared = (0..before.len()).any(|i| (0..i).any(|j| before[i] == before[j]));
    assert!(shared, "some list is shared, so the test means something: {before:?}");
}

#[test]
fn an_export_that_cannot_be_read_back_is_named_and_the_other_accounts_still_count() {
    const B: &str = "444455556666";
    const C: &str = "777788889999";
    const D: &str = "222233334444";
    let anyone = r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}"#;
    let exports = exports(&[
        (B, vec![], vec![admin_role("open-admin", anyone)]),
        (C, vec![user("c1", &assume_on("*"), "")], vec![]),
        (D, vec![user("d1", &assume_on("*"), "")], vec![]),
    ]);
    let plans: Vec<ExportPlan> = exports.iter().map(ExportPlan::of).collect();
    let load = |account: usize| match account {
        2 => Err("cannot read exports.spill: disk gone".to_string()),
        _ => Ok(std::sync::Arc::new(exports[account].clone())),
    };
    let cross = cross_account_planned(&plans, &load, &Organization::default());
    assert_eq!(cross.unreadable, vec![(2, "cannot read exports.spill: disk gone".to_string())]);
    assert_eq!(cross.found[1].len(), 1, "c1 reaches open-admin: {:?}", cross.found);
    assert_eq!(cross.found[1][0].1, format!("arn:aws:iam::{C}:user/c1"));
    assert!(cross.found[2].is_empty(), "d1 was not read back, so not judged: {:?}", cross.found);
}

#[test]
fn a_role_open_to_one_account_by_condition_admits_only_that_account() {
    const B: &str = "444455556666";
    const C: &str = "777788889999";
    let open_to_c = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"aws:PrincipalAccount":"{C}"}}}}}}"#
    );
    let found = across(&[
        (
            A,
            vec![
                user("a1", &assume_on("*"), ""),
                user("a2", &assume_on("*"), ""),
                user("a3", &assume_on("arn:aws:iam::*:role/open-admin"), ""),
            ],
            vec![],
        ),
        (B, vec![], vec![admin_role("open-admin", &open_to_c)]),
        (
            C,
            vec![
                user("c1", &assume_on("*"), ""),
                user("c2", &assume_on(&format!("arn:aws:iam::{B}:role/open-admin")), ""),
                user("c3", &assume_on("arn:aws:iam::999999999999:role/*"), ""),
                user("c4", &assume_on(&format!("arn:aws:iam::{B}:role/other")), ""),
            ],
            vec![],
        ),
    ]);
    let arn = |account: &str, name: &str| format!("arn:aws:iam::{account}:user/{name}");
    for name in ["c1", "c2"] {
        let e = found.get(&arn(C, name)).unwrap_or_else(|| panic!("{name} assumes open-admin: {found:?}"));
        assert_eq!(e.admin_node, format!("arn:aws:iam::{B}:role/open-admin"));
    }
    for (account, name) in [(A, "a1"), (A, "a2"), (A, "a3"), (C, "c3"), (C, "c4")] {
        assert!(!found.contains_key(&arn(account, name)), "{name} cannot assume open-admin: {found:?}");
    }
}

#[test]
fn a_trust_that_reads_the_caller_arn_is_asked_of_every_caller() {
    // The trust refuses `first` but admits `second` of the same account: one refusal says
    // nothing of the account's other callers.
    const B: &str = "444455556666";
    const C: &str = "777788889999";
    let only_second = format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole","Condition":{{"ArnLike":{{"aws:PrincipalArn":"arn:aws:iam::{C}:user/second"}}}}}}"#
    );
    let found = across(&[
        (B, vec![], vec![admin_role("open-admin", &only_second)]),
        (C, vec![user("first", &assume_on("*"), ""), user("second", &assume_on("*"), "")], vec![]),
    ]);
    assert!(found.contains_key(&format!("arn:aws:iam::{C}:user/second")), "{found:?}");
    assert!(!found.contains_key(&format!("arn:aws:iam::{C}:user/first")), "{found:?}");
}

#[test]
fn a_path_across_accounts_continues_through_a_reached_role() {
    // C's user assumes B's relay role, which A's admin role trusts; the relay reaches admin
    // only through A, so C's user does too, in two steps.
    const B: &str = "444455556666";
    const C: &str = "777788889999";
    let trusting = |arn: &str| {
        format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"sts:AssumeRole"}}"#)
    };
    let relay_policy = format!(
        r#","RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{{"Statement":[{}]}}}}]"#,
        assume_on("*")
    );
    let found = across(&[
        (A, vec![], vec![admin_role("admin", &trusting(&format!("arn:aws:iam::{B}:role/relay")))]),
        (B, vec![], vec![role("relay", &trusting(&format!("arn:aws:iam::{C}:root")), &relay_policy)]),
        (C, vec![user("dev", &assume_on("*"), "")], vec![]),
    ]);
    let dev = found.get(&format!("arn:aws:iam::{C}:user/dev")).unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(dev.steps.len(), 2, "{dev:?}");
    assert_eq!(dev.admin_node, format!("arn:aws:iam::{A}:role/admin"));
}

#[test]
fn principals_sharing_a_policy_are_judged_each_in_its_own_context() {
    // One managed policy, attached to four users, grants everything only to principals
    // tagged team=admins; one of them may also write a policy onto its own user (a policy
    // variable). The graph works out what a set of policies holds once per set and per
    // outcome of its conditions: none of that may leak from one user to another.
    let shared = r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"admins"}}}"#;
    let own_user = r#"{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}"#;
    let policies = format!(
        r#","Policies":[{{"PolicyName":"Shared","Arn":"arn:aws:iam::{A}:policy/Shared","DefaultVersionId":"v1","PolicyVersionList":[{{"VersionId":"v1","IsDefaultVersion":true,"Document":{{"Statement":[{shared}]}}}}]}}]"#
    );
    let attached = |team: &str| {
        let tags = if team.is_empty() {
            String::new()
        } else {
            format!(r#","Tags":[{{"Key":"team","Value":"{team}"}}]"#)
        };
        format!(
            r#","AttachedManagedPolicies":[{{"PolicyName":"Shared","PolicyArn":"arn:aws:iam::{A}:policy/Shared"}}]{tags}"#
        )
    };
    let users = [
        user("admin-a", "", &attached("admins")),
        user("admin-b", "", &attached("admins")),
        user("tools", own_user, &attached("tools")),
        user("untagged", "", &attached("")),
    ];
    let verdicts = verdicts_in(&graph(&users, &[], &policies), &Organization::default());
    for name in ["admin-a", "admin-b"] {
        assert!(matches!(standing(&verdicts, name), Standing::Holds { .. }), "{name}: {verdicts:?}");
    }
    match standing(&verdicts, "tools") {
        Standing::Escalates(path) => {
            assert_eq!(path.steps.len(), 1, "{path:?}");
            assert_eq!(path.steps[0].target, format!("arn:aws:iam::{A}:user/tools"), "{path:?}");
        }
        other => panic!("tools writes an admin policy onto itself: {other:?}"),
    }
    assert!(matches!(standing(&verdicts, "untagged"), Standing::NotAdmin), "{verdicts:?}");
}

#[test]
fn the_nodes_a_statement_names_are_the_nodes_its_resources_match() {
    use crate::policy::document::PolicyDocument;
    let users: Vec<String> = ["alice", "admin1", "admin2"].iter().map(|n| user(n, "", "")).collect();
    let roles = vec![role("deploy", &service_trust("lambda.amazonaws.com"), "")];
    let fixture = graph(&users, &roles, "");
    let account = AccountId::parse(A).unwrap();
    let none = |_: &str| None;
    let organization = Organization::default();
    let search = AccountGraph::new(principal::nodes(&fixture, &account, &organization, &none));
    let statement = |resource: &str| {
        let json =
            format!(r#"{{"Statement":[{{"Effect":"Allow","Action":"iam:CreateAccessKey",{resource}}}]}}"#);
        PolicyDocument::literal(&json)
    };
    // (resource block, how many of the account's nodes it names)
    let cases = [
        (format!(r#""Resource":"arn:aws:iam::{A}:user/admin1""#), 1),
        (format!(r#""Resource":["arn:aws:iam::{A}:user/admin1","arn:aws:iam::{A}:role/deploy"]"#), 2),
        (r#""Resource":"arn:aws:s3:::bucket/*""#.to_string(), 0),
        (r#""Resource":"arn:aws:iam::999999999999:user/*""#.to_string(), 0),
        (format!(r#""Resource":"arn:aws:iam::{A}:user/admin?""#), 2),
        (r#""Resource":"arn:aws:iam::*:user/a*""#.to_string(), 3),
        (format!(r#""NotResource":"arn:aws:iam::{A}:user/admin*""#), 2),
        (r#""NotResource":"arn:aws:s3:::*""#.to_string(), 4),
        (r#""Resource":"*""#.to_string(), 4),
    ];
    for (resource, named) in cases {
        let document = statement(&resource);
        let statement = &document.statements[0];
        let bits = super::graph::named_bits(statement, &search);
        let bit = |i: usize| bits[i / 64] & (1 << (i % 64)) != 0;
        for (i, node) in search.nodes.iter().enumerate() {
            assert_eq!(bit(i), statement.matches_resource(node.arn), "{resource} on {}", node.arn);
        }
        let count: u32 = bits.iter().map(|w| w.count_ones()).sum();
        assert_eq!(count as usize, named, "{resource}: only the account's nodes, no bit past them");
    }
}
