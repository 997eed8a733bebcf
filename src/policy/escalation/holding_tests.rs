//! What "holds every action on every resource" means, on the engine: the admin-equivalence
//! cases other tools get wrong (NotAction, NotResource, denies, conditions, caps), judged the
//! way `admin-access` judges them.

use super::graph::{holds_everything, AccountGraph, Standing};
use super::principal;
use crate::identifiers::AccountId;
use crate::policy::admin::AdminPower;
use crate::policy::condition::RequestContext;
use crate::policy::document::PolicyDocument;
use crate::policy::effective::PolicySource;
use crate::policy::engine::{Named, PolicySet, ScpLevel};
use crate::snapshot::authorization::IamGraph;
use crate::snapshot::organization::Organization;

fn doc(statements: &str) -> PolicyDocument {
    PolicyDocument::literal(&format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
}

fn named<'d>(name: &str, document: &'d PolicyDocument) -> Named<'d> {
    Named {
        source: std::sync::Arc::new(PolicySource { policy: name.into(), policy_arn: None, via_group: None }),
        document,
    }
}

fn power(documents: &[&PolicyDocument]) -> Option<AdminPower> {
    let set = PolicySet { identity: documents.iter().map(|d| named("p", d)).collect(), ..Default::default() };
    holds_everything(&set, &RequestContext::new()).map(|h| h.power)
}

/// One user with these inline statements (one policy each), its standing in the graph.
fn user_standing(policies: &[&str], extra: &str) -> Standing {
    let inline: Vec<String> = policies
        .iter()
        .enumerate()
        .map(|(i, p)| format!(r#"{{"PolicyName":"p{i}","PolicyDocument":{{"Statement":[{p}]}}}}"#))
        .collect();
    let json = format!(
        r#"{{"UserDetailList":[{{"UserName":"u","Path":"/","Arn":"arn:aws:iam::111122223333:user/u","UserPolicyList":[{}]{extra}}}]}}"#,
        inline.join(",")
    );
    let graph = IamGraph::from_json(&json, "gaad.json", &mut Vec::new()).unwrap();
    let organization = Organization::default();
    let none = |_: &str| None;
    let mut search = AccountGraph::new(principal::nodes(
        &graph,
        &AccountId::parse("111122223333").unwrap(),
        &organization,
        &none,
    ));
    search.search(Vec::new());
    search.verdicts().remove(0).standing
}

#[test]
fn star_and_star_colon_star_are_full_admin_service_stars_are_not() {
    for action in ["*", "*:*"] {
        let d = doc(&format!(r#"{{"Effect":"Allow","Action":"{action}","Resource":"*"}}"#));
        assert_eq!(power(&[&d]), Some(AdminPower::Full), "{action}");
    }
    let d = doc(r#"{"Effect":"Allow","Action":["iam:*","sts:*"],"Resource":"*"}"#);
    assert_eq!(power(&[&d]), None, "iam:* and sts:* are not everything");
    // ... but iam:* writes its own policies: an escalation, not a holding.
    let standing = user_standing(&[r#"{"Effect":"Allow","Action":["IAM:*"],"Resource":"*"}"#], "");
    assert!(matches!(standing, Standing::Escalates(_)), "{standing:?}");
}

#[test]
fn notaction_grants_everything_not_listed() {
    let d = doc(r#"{"Effect":"Allow","NotAction":["aws-portal:*","budgets:*"],"Resource":"*"}"#);
    match power(&[&d]) {
        Some(AdminPower::AllExcept { excluded }) => assert_eq!(excluded, vec!["aws-portal:*", "budgets:*"]),
        other => panic!("{other:?}"),
    }
    // PowerUserAccess: everything but IAM, Organizations, Account: not admin.
    let power_user =
        doc(r#"{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}"#);
    assert_eq!(power(&[&power_user]), None);
    // A NotAction that excludes only a service that does not exist excludes nothing.
    let sneaky = doc(r#"{"Effect":"Allow","NotAction":"notarealservice:*","Resource":"*"}"#);
    assert_eq!(power(&[&sneaky]), Some(AdminPower::Full));
}

#[test]
fn notresource_counts_as_nearly_every_resource() {
    let d = doc(r#"{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::secret/*"}"#);
    assert_eq!(power(&[&d]), Some(AdminPower::Full));
    let scoped = doc(r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::logs/*"}"#);
    assert_eq!(power(&[&scoped]), None);
}

#[test]
fn an_explicit_deny_cancels_or_narrows_and_a_conditional_one_is_named() {
    let all = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let deny_all = doc(r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#);
    assert_eq!(power(&[&all, &deny_all]), None);
    let deny_leave = doc(r#"{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}"#);
    match power(&[&all, &deny_leave]) {
        Some(AdminPower::AllExcept { excluded }) => {
            assert_eq!(excluded, vec!["organizations:LeaveOrganization"])
        }
        other => panic!("{other:?}"),
    }
    let mfa = doc(
        r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}"#,
    );
    let set = PolicySet { identity: vec![named("all", &all), named("mfa", &mfa)], ..Default::default() };
    let holding = holds_everything(&set, &RequestContext::new()).expect("admin when the Deny does not apply");
    assert_eq!(holding.power, AdminPower::Full);
    assert!(
        holding.conditions.iter().any(|c| c.contains("MultiFactorAuthPresent")),
        "{:?}",
        holding.conditions
    );
}

#[test]
fn a_boundary_or_an_scp_caps_and_only_the_cap_that_takes_admin_away_is_named() {
    let all = doc(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let s3_boundary = doc(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
    let no_iam = doc(r#"{"Effect":"Deny","Action":"iam:*","Resource":"*"}"#);
    let leave = doc(r#"{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}"#);
    fn caps<'d>(levels: Vec<(&str, &'d PolicyDocument)>) -> std::sync::Arc<[ScpLevel<'d>]> {
        levels
            .into_iter()
            .map(|(label, d)| ScpLevel { label: label.into(), policies: vec![named(label, d)] })
            .collect()
    }
    let capped = PolicySet {
        scp_levels: caps(vec![("SCP Leave", &leave), ("SCP NoIAM", &no_iam)]),
        identity: vec![named("all", &all)],
        boundary: Some(named("S3", &s3_boundary)),
    };
    assert!(holds_everything(&capped, &RequestContext::new()).is_none());
    // An SCP that denies one action leaves "all but that", IAM included: still admin.
    let leave_only = PolicySet { scp_levels: caps(vec![("SCP Leave", &leave)]), ..capped.clone() };
    assert!(holds_everything(&PolicySet { boundary: None, ..leave_only }, &RequestContext::new()).is_some());
}

#[test]
fn only_a_grant_on_its_own_arn_is_self_escalation() {
    let other = r#"{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::111122223333:user/someone-else"}"#;
    assert_eq!(user_standing(&[other], ""), Standing::NotAdmin);
    let own =
        r#"{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::111122223333:user/u"}"#;
    assert!(matches!(user_standing(&[own], ""), Standing::Escalates(_)));
    // Role actions do nothing for a user.
    let role_actions =
        r#"{"Effect":"Allow","Action":["iam:PutRolePolicy","iam:AttachRolePolicy"],"Resource":"*"}"#;
    assert_eq!(user_standing(&[role_actions], ""), Standing::NotAdmin);
}

#[test]
fn a_conditional_allow_is_admin_and_says_what_it_rests_on() {
    let ip = r#"{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#;
    match user_standing(&[ip], "") {
        Standing::Holds { holding, .. } => {
            assert!(holding.conditions.iter().any(|c| c.contains("aws:SourceIp")), "{:?}", holding.conditions)
        }
        other => panic!("{other:?}"),
    }
}
