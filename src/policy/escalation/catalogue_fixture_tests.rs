//! One account per catalogue path, generated from the catalogue itself: the attacker holds
//! exactly the path's permissions on `*`, and the target the path needs exists. The path
//! must be found (as an edge of the graph, and the attacker reported); the same attacker
//! with no admin target must not be reported at high or critical.

use super::catalogue::{CataloguePath, Category, On, Requirement, Target};
use super::graph::{paths, AccountGraph, Standing};
use super::principal;
use crate::identifiers::AccountId;
use crate::snapshot::authorization::IamGraph;
use crate::snapshot::organization::Organization;

const A: &str = "111122223333";
const ADMIN: &str =
    r#"{"PolicyName":"AdministratorAccess","PolicyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#;
const STAR: &str = r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#;
const WEAK: &str = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;

fn statement_list(actions: &[&str]) -> String {
    let quoted: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    format!(r#"{{"Effect":"Allow","Action":[{}],"Resource":"*"}}"#, quoted.join(","))
}

fn managed(name: &str, default: &str, old: Option<&str>) -> String {
    let old = old
        .map(|d| {
            format!(r#",{{"VersionId":"v1","IsDefaultVersion":false,"Document":{{"Statement":[{d}]}}}}"#)
        })
        .unwrap_or_default();
    format!(
        r#"{{"PolicyName":"{name}","Arn":"arn:aws:iam::{A}:policy/{name}","DefaultVersionId":"v2","PolicyVersionList":[{{"VersionId":"v2","IsDefaultVersion":true,"Document":{{"Statement":[{default}]}}}}{old}]}}"#
    )
}

fn attach(names: &[&str]) -> String {
    let list: Vec<String> = names
        .iter()
        .map(|n| {
            if *n == "AdministratorAccess" {
                ADMIN.to_string()
            } else {
                format!(r#"{{"PolicyName":"{n}","PolicyArn":"arn:aws:iam::{A}:policy/{n}"}}"#)
            }
        })
        .collect();
    format!(r#","AttachedManagedPolicies":[{}]"#, list.join(","))
}

/// The account for one path. `admin_target`: whether what the path leads to holds (or may
/// be given) admin.
fn account(path: &CataloguePath, admin_target: bool) -> String {
    let actions: Vec<&str> = path.needs.iter().map(|n| n.action).collect();
    let own = statement_list(&actions);
    let attacker_is_role = path.target == Target::SelfRole;
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut groups = Vec::new();
    let mut policies = Vec::new();
    let mut attacker_extra = String::new();
    let mut attacker_statements = vec![own.clone()];
    let mut second_inline: Option<String> = None;
    let target_power = if admin_target { STAR } else { WEAK };
    let trust_attacker = |kind: &str| {
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:{kind}/attacker"}},"Action":"sts:AssumeRole"}}"#
        )
    };
    let attacker_kind = if attacker_is_role { "role" } else { "user" };
    let self_target = matches!(path.target, Target::SelfUser | Target::SelfRole | Target::SelfPrincipal);
    match path.requirement {
        Requirement::TargetHasBoundary => {
            // Admin identity capped by a boundary that allows only the path's actions: the
            // removal leaves it admin. Without an admin target: no admin identity at all.
            if admin_target {
                attacker_statements.push(STAR.to_string());
            }
            policies.push(managed("Narrow", &own, None));
            attacker_extra.push_str(&format!(
                r#","PermissionsBoundary":{{"PermissionsBoundaryArn":"arn:aws:iam::{A}:policy/Narrow"}}"#
            ));
        }
        Requirement::DenyRemoval => {
            let deny = format!(r#"{{"Effect":"Deny","NotAction":{:?},"Resource":"*"}}"#, actions);
            let identity = if admin_target { STAR } else { WEAK };
            if path.needs.iter().any(|n| n.action.starts_with("iam:Detach")) {
                policies.push(managed("Quarantine", &deny, None));
                attacker_extra.push_str(&attach(&["Quarantine"]));
                attacker_statements.push(identity.to_string());
            } else {
                // Its own inline policy, beside the one that grants.
                attacker_statements.push(identity.to_string());
                second_inline = Some(deny);
            }
        }
        _ if self_target => {
            if path.needs.iter().any(|n| n.on == On::TargetPolicy) {
                let old = (path.requirement == Requirement::AdminNonDefaultVersion).then_some(target_power);
                policies.push(managed("Tools", WEAK, old));
                if admin_target || path.requirement == Requirement::AdminNonDefaultVersion {
                    attacker_extra.push_str(&attach(&["Tools"]));
                }
            }
            if !admin_target && path.requirement != Requirement::AdminNonDefaultVersion {
                // Not admin-capable: a boundary that allows only the path's own actions.
                policies.push(managed("Narrow", &own, None));
                attacker_extra.push_str(&format!(
                    r#","PermissionsBoundary":{{"PermissionsBoundaryArn":"arn:aws:iam::{A}:policy/Narrow"}}"#
                ));
            }
        }
        _ => {}
    }
    // A path that writes policies "on *" also lets the attacker write them on itself: the
    // look-alike caps the attacker too, so that only the path's own target is in question.
    let writes = path.needs.iter().any(|n| {
        n.on == On::TargetPolicy || n.action.contains("Policy") && !n.action.contains("AssumeRolePolicy")
    });
    if !admin_target && !self_target && writes && !attacker_extra.contains("PermissionsBoundary") {
        if !policies.iter().any(|p| p.contains(r#""PolicyName":"Narrow""#)) {
            policies.push(managed("Narrow", &own, None));
        }
        attacker_extra.push_str(&format!(
            r#","PermissionsBoundary":{{"PermissionsBoundaryArn":"arn:aws:iam::{A}:policy/Narrow"}}"#
        ));
    }
    match path.target {
        Target::User => {
            let extra = if admin_target { attach(&["AdministratorAccess"]) } else { String::new() };
            // A write path (attach + create key) makes any user admin; the look-alike's
            // victim is capped by a boundary instead.
            let capped = if !admin_target {
                policies.push(managed("VictimCap", WEAK, None));
                format!(
                    r#","PermissionsBoundary":{{"PermissionsBoundaryArn":"arn:aws:iam::{A}:policy/VictimCap"}}"#
                )
            } else {
                String::new()
            };
            users.push(format!(
                r#"{{"UserName":"victim","Path":"/","Arn":"arn:aws:iam::{A}:user/victim"{extra}{capped}}}"#
            ));
        }
        Target::Group => {
            let is_join = path.needs.iter().any(|n| n.action == "iam:AddUserToGroup");
            if is_join {
                let power = if admin_target { attach(&["AdministratorAccess"]) } else { String::new() };
                groups.push(format!(
                    r#"{{"GroupName":"admins","Arn":"arn:aws:iam::{A}:group/admins"{power}}}"#
                ));
            } else {
                groups.push(format!(r#"{{"GroupName":"team","Arn":"arn:aws:iam::{A}:group/team"}}"#));
                attacker_extra.push_str(r#","GroupList":["team"]"#);
                if !admin_target && !attacker_extra.contains("PermissionsBoundary") {
                    policies.push(managed("Narrow", &own, None));
                    attacker_extra.push_str(&format!(r#","PermissionsBoundary":{{"PermissionsBoundaryArn":"arn:aws:iam::{A}:policy/Narrow"}}"#));
                }
            }
        }
        Target::Role | Target::AssumableRole => {
            let trust = if path.target == Target::AssumableRole
                || path.requirement == Requirement::TrustAllowsX
            {
                trust_attacker(attacker_kind)
            } else {
                r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#
                    .to_string()
            };
            let writes = path.needs.iter().any(|n| {
                n.on == On::TargetPolicy
                    || n.action.contains("Policy") && !n.action.contains("AssumeRolePolicy")
            });
            let mut extra = String::new();
            if path.needs.iter().any(|n| n.on == On::TargetPolicy) {
                policies.push(managed("Tools", WEAK, None));
                extra.push_str(&attach(&["Tools"]));
            }
            let power = if writes {
                // The path makes the role admin: the look-alike's role cannot be (boundary).
                if !admin_target {
                    policies.push(managed("VictimCap", WEAK, None));
                    extra.push_str(&format!(r#","PermissionsBoundary":{{"PermissionsBoundaryArn":"arn:aws:iam::{A}:policy/VictimCap"}}"#));
                }
                String::new()
            } else {
                format!(
                    r#","RolePolicyList":[{{"PolicyName":"power","PolicyDocument":{{"Statement":[{target_power}]}}}}]"#
                )
            };
            roles.push(format!(
                r#"{{"RoleName":"victim-role","Path":"/","Arn":"arn:aws:iam::{A}:role/victim-role","AssumeRolePolicyDocument":{{"Statement":[{trust}]}}{power}{extra}}}"#
            ));
        }
        Target::ServiceRole(service) => {
            let trust = if service == "cognito-identity.amazonaws.com" {
                format!(
                    r#"{{"Effect":"Allow","Principal":{{"Federated":"{service}"}},"Action":"sts:AssumeRoleWithWebIdentity"}}"#
                )
            } else {
                format!(
                    r#"{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}"#
                )
            };
            let profile = if path.requirement == Requirement::InstanceProfile {
                r#","InstanceProfileList":[{"InstanceProfileName":"victim-profile"}]"#
            } else {
                ""
            };
            roles.push(format!(
                r#"{{"RoleName":"victim-role","Path":"/","Arn":"arn:aws:iam::{A}:role/victim-role","AssumeRolePolicyDocument":{{"Statement":[{trust}]}},"RolePolicyList":[{{"PolicyName":"power","PolicyDocument":{{"Statement":[{target_power}]}}}}]{profile}}}"#
            ));
        }
        Target::SelfUser | Target::SelfRole | Target::SelfPrincipal => {}
    }
    let mut attacker_policy = format!(
        r#"{{"PolicyName":"attacker","PolicyDocument":{{"Statement":[{}]}}}}"#,
        attacker_statements.join(",")
    );
    if let Some(deny) = second_inline {
        attacker_policy.push_str(&format!(
            r#",{{"PolicyName":"quarantine","PolicyDocument":{{"Statement":[{deny}]}}}}"#
        ));
    }
    if attacker_is_role {
        roles.push(format!(
            r#"{{"RoleName":"attacker","Path":"/","Arn":"arn:aws:iam::{A}:role/attacker","AssumeRolePolicyDocument":{{"Statement":[{{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}},"RolePolicyList":[{attacker_policy}]{attacker_extra}}}"#
        ));
    } else {
        users.push(format!(
            r#"{{"UserName":"attacker","Path":"/","Arn":"arn:aws:iam::{A}:user/attacker","UserPolicyList":[{attacker_policy}]{attacker_extra}}}"#
        ));
    }
    format!(
        r#"{{"UserDetailList":[{}],"GroupDetailList":[{}],"RoleDetailList":[{}],"Policies":[{}]}}"#,
        users.join(","),
        groups.join(","),
        roles.join(","),
        policies.join(",")
    )
}

struct Outcome {
    edge_found: bool,
    standing: Standing,
}

fn judge(path: &CataloguePath, admin_target: bool) -> Outcome {
    let json = account(path, admin_target);
    let mut problems = Vec::new();
    let graph = IamGraph::from_json(&json, "gaad.json", &mut problems)
        .unwrap_or_else(|e| panic!("{}: {e}\n{json}", path.id));
    assert!(problems.iter().all(|p| p.note_only), "{}: {problems:?}", path.id);
    let organization = Organization::default();
    let none = |_: &str| None;
    let nodes = principal::nodes(&graph, &AccountId::parse(A).unwrap(), &organization, &none);
    let mut search = AccountGraph::new(nodes);
    search.search(Vec::new());
    let x = search.nodes.iter().position(|n| n.name == "attacker").unwrap();
    let targets: Vec<usize> = match path.target {
        Target::SelfUser | Target::SelfRole | Target::SelfPrincipal => vec![x],
        _ => (0..search.nodes.len()).filter(|&t| t != x).collect(),
    };
    let edge_found =
        targets.iter().any(|&t| search.gained(x, t, path).is_some() && !search.edge(x, t, path).is_denied());
    let standing = search.verdicts().into_iter().find(|v| v.name == "attacker").unwrap().standing;
    Outcome { edge_found, standing }
}

#[test]
fn every_catalogue_path_is_found_with_an_admin_target_and_not_without() {
    let mut missed = Vec::new();
    let mut false_alarms = Vec::new();
    for path in paths() {
        let with = judge(path, true);
        // Reported: an escalation, potential exactly for the existing-passrole paths.
        let reported = match &with.standing {
            Standing::Escalates(e) => e.potential == (path.category == Category::ExistingPassRole),
            _ => false,
        };
        if !with.edge_found || !reported {
            missed.push(format!("{} (edge {}, standing {:?})", path.id, with.edge_found, with.standing));
        }
        let without = judge(path, false);
        // Not reported high or critical: no standing at all, or only a potential (medium) path.
        let high = match &without.standing {
            Standing::Holds { .. } => true,
            Standing::Escalates(e) => !e.potential,
            _ => false,
        };
        if high {
            false_alarms.push(format!("{}: {:?}", path.id, without.standing));
        }
    }
    assert!(missed.is_empty(), "paths not found with an admin target:\n{}", missed.join("\n"));
    assert!(false_alarms.is_empty(), "reported without an admin target:\n{}", false_alarms.join("\n"));
}

/// The account of a path with an admin target, a twin of that target after it, and the
/// attacker denied the path's actions on the first one only (by ARN): X's answer toward a
/// target then depends on which of its statements name the target, so the answers shared
/// between targets (see `TargetAnswers` in graph.rs) are put to the test. None for paths
/// whose target is X itself or a group.
fn with_denied_twin(path: &CataloguePath) -> Option<String> {
    use serde_json::{json, Value};
    let mut account: Value = serde_json::from_str(&account(path, true)).unwrap();
    let mut denied = Vec::new();
    for (list, key, name) in
        [("UserDetailList", "UserName", "victim"), ("RoleDetailList", "RoleName", "victim-role")]
    {
        let entries = account[list].as_array_mut().unwrap();
        let Some(victim) = entries.iter().find(|e| e[key] == name).cloned() else { continue };
        let arn = victim["Arn"].as_str().unwrap().to_string();
        let mut twin = victim;
        twin[key] = format!("{name}-twin").into();
        twin["Arn"] = format!("{arn}-twin").into();
        entries.push(twin);
        denied.push(arn);
    }
    if denied.is_empty() {
        return None;
    }
    let actions: Vec<&str> = path.needs.iter().map(|n| n.action).collect();
    let deny = json!({"PolicyName": "not-the-first", "PolicyDocument": {"Statement": [
        {"Effect": "Deny", "Action": actions, "Resource": denied}]}});
    for (list, key, policies) in
        [("UserDetailList", "UserName", "UserPolicyList"), ("RoleDetailList", "RoleName", "RolePolicyList")]
    {
        for entry in account[list].as_array_mut().unwrap().iter_mut().filter(|e| e[key] == "attacker") {
            entry[policies].as_array_mut().unwrap().push(deny.clone());
        }
    }
    Some(account.to_string())
}

/// The indexed search (trust index, named targets, answers fixed per path or shared between
/// targets, pruning against the best path known) finds exactly what asking every edge toward
/// every target finds.
#[test]
fn the_indexed_search_finds_what_asking_every_edge_finds() {
    let organization = Organization::default();
    let none = |_: &str| None;
    for path in paths() {
        let accounts = [
            ("admin target", Some(account(path, true))),
            ("no admin target", Some(account(path, false))),
            ("denied twin", with_denied_twin(path)),
        ];
        for (variant, json) in accounts {
            let Some(json) = json else { continue };
            let graph = IamGraph::from_json(&json, "gaad.json", &mut Vec::new()).unwrap();
            let standings = |exhaustive: bool| {
                let nodes = principal::nodes(&graph, &AccountId::parse(A).unwrap(), &organization, &none);
                let mut search = AccountGraph::new(nodes);
                search.exhaustive = exhaustive;
                search.search(Vec::new());
                let stats = search.stats;
                let verdicts: Vec<String> =
                    search.verdicts().iter().map(|v| format!("{} {:?}", v.arn, v.standing)).collect();
                (verdicts, stats.edges_evaluated)
            };
            let (indexed, indexed_edges) = standings(false);
            let (every, every_edges) = standings(true);
            assert_eq!(indexed, every, "{} ({variant})", path.id);
            assert!(indexed_edges <= every_edges, "{}: {indexed_edges} > {every_edges}", path.id);
        }
    }
}
