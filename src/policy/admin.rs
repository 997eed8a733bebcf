//! Admin-equivalence: does a principal hold every action on every resource, or the power
//! to grant itself that? And if so, through which policies, and is it capped?
//!
//! "Every action" is decided with probes, not with policy names: one action of a service
//! that does not exist (only `*`, `*:*` or a NotAction form can grant it), plus one action
//! matching each pattern any policy in play names. If every probe is allowed on every
//! resource, the principal is a full admin. If the unknown-service probe is allowed but some
//! named actions are not (a NotAction list, a Deny), it holds everything *except* those, and
//! is admin in effect only if IAM is among what it holds. Otherwise it is admin only when it
//! can rewrite its own permissions (e.g. `iam:PutUserPolicy` on itself).

use super::effective::{CapKind, Decision, Permissions, PolicySource};
use super::known_services::is_known_service;
use serde::Serialize;
use std::collections::BTreeSet;

/// An action of a service that does not exist: only "everything" grants it.
pub const UNKNOWN_SERVICE_ACTION: &str = "zzfutureservice:zzprobeaction";
/// An ARN that only "every resource" patterns (`*`, `arn:*`, NotResource …) match.
pub const ANY_RESOURCE: &str = "arn:aws:zzprobe:zz-probe-1:000000000000:zzprobe/zzprobe";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AdminPower {
    /// Every action on every resource.
    Full,
    /// Every action on every resource except these, with IAM among what it holds.
    AllExcept { excluded: Vec<String> },
    /// Not everything, but IAM actions that let it rewrite its own permissions.
    CanGrantItself { methods: Vec<String> },
}

impl AdminPower {
    /// A noun phrase, read as "X has {describe}".
    pub fn describe(&self) -> String {
        match self {
            AdminPower::Full => "every action on every resource".into(),
            AdminPower::AllExcept { excluded } => format!(
                "every action on every resource except {} (IAM included, so it can grant itself the rest)",
                excluded.join(", ")
            ),
            AdminPower::CanGrantItself { methods } => {
                format!("the power to grant itself every action ({})", methods.join("; "))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminAssessment {
    pub power: AdminPower,
    /// The identity policies that grant it.
    pub granted_by: Vec<PolicySource>,
    /// Every granting statement has a Condition (the power holds under some circumstances).
    pub conditional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminVerdict {
    NotAdmin,
    Admin(AdminAssessment),
    /// Would be admin by its identity policies, but a boundary or SCP caps it.
    Capped {
        would_be: AdminAssessment,
        capped_by: Vec<String>,
    },
}

/// One way a principal could rewrite its own permissions: an action on a resource.
#[derive(Debug, Clone)]
pub struct EscalationPath {
    pub action: &'static str,
    pub resource: String,
    pub description: String,
}

/// The escalation paths for a user.
pub fn user_escalation_paths(
    user_arn: &str,
    user_name: &str,
    customer_policies: &[(&str, &str)],
    member_groups: &[(&str, &str)],
    admin_groups: &[(&str, &str)],
) -> Vec<EscalationPath> {
    let mut paths = vec![
        path("iam:putuserpolicy", user_arn, format!("iam:PutUserPolicy on itself ({user_name})")),
        path("iam:attachuserpolicy", user_arn, format!("iam:AttachUserPolicy on itself ({user_name})")),
    ];
    for (arn, name) in member_groups {
        paths.push(path("iam:putgrouppolicy", arn, format!("iam:PutGroupPolicy on its group {name}")));
        paths.push(path("iam:attachgrouppolicy", arn, format!("iam:AttachGroupPolicy on its group {name}")));
    }
    for (arn, name) in admin_groups {
        paths.push(path("iam:addusertogroup", arn, format!("iam:AddUserToGroup into admin group {name}")));
    }
    paths.extend(policy_version_paths(customer_policies));
    paths
}

/// The escalation paths for a role.
pub fn role_escalation_paths(
    role_arn: &str,
    role_name: &str,
    customer_policies: &[(&str, &str)],
) -> Vec<EscalationPath> {
    let mut paths = vec![
        path("iam:putrolepolicy", role_arn, format!("iam:PutRolePolicy on itself ({role_name})")),
        path("iam:attachrolepolicy", role_arn, format!("iam:AttachRolePolicy on itself ({role_name})")),
    ];
    paths.extend(policy_version_paths(customer_policies));
    paths
}

/// Actions that remove or replace a principal's own permissions boundary.
pub fn boundary_removal_paths(arn: &str, is_user: bool) -> Vec<EscalationPath> {
    let (delete, put) = if is_user {
        ("iam:deleteuserpermissionsboundary", "iam:putuserpermissionsboundary")
    } else {
        ("iam:deleterolepermissionsboundary", "iam:putrolepermissionsboundary")
    };
    vec![
        path(delete, arn, format!("{delete} on itself removes the boundary")),
        path(put, arn, format!("{put} on itself replaces the boundary")),
    ]
}

fn policy_version_paths<'a>(
    customer_policies: &'a [(&str, &str)],
) -> impl Iterator<Item = EscalationPath> + 'a {
    customer_policies.iter().map(|(arn, name)| {
        path("iam:createpolicyversion", arn, format!("iam:CreatePolicyVersion on its own policy {name}"))
    })
}

fn path(action: &'static str, resource: &str, description: String) -> EscalationPath {
    EscalationPath { action, resource: resource.to_string(), description }
}

/// Decides admin-equivalence for one principal.
pub fn assess(
    permissions: &Permissions,
    escalation: &[EscalationPath],
    boundary_removal: &[EscalationPath],
) -> AdminVerdict {
    let Some(would_be) = classify(permissions, escalation, false) else {
        return AdminVerdict::NotAdmin;
    };
    if permissions.caps.is_empty() {
        return AdminVerdict::Admin(would_be);
    }
    if let Some(effective) = classify(permissions, escalation, true) {
        return AdminVerdict::Admin(effective);
    }
    // Capped; unless it may take its own boundary off, after which the boundary caps nothing.
    let has_boundary = permissions.caps.iter().any(|c| c.kind == CapKind::PermissionsBoundary);
    let removal: Vec<String> = boundary_removal
        .iter()
        .filter(|p| has_boundary && permissions.allows(p.action, &p.resource, true))
        .map(|p| p.description.clone())
        .collect();
    if !removal.is_empty() {
        let mut uncapped = permissions.clone();
        uncapped.caps.retain(|c| c.kind != CapKind::PermissionsBoundary);
        if let Some(mut effective) = classify(&uncapped, escalation, true) {
            effective.power = AdminPower::CanGrantItself { methods: removal };
            return AdminVerdict::Admin(effective);
        }
    }
    AdminVerdict::Capped { capped_by: capping_layers(permissions, escalation), would_be }
}

/// Is this one document, alone and uncapped, admin-equivalent on every resource?
/// (For the policy-level check: `Action: *`, or a NotAction that leaves IAM in.)
pub fn document_grants_admin(permissions: &Permissions) -> Option<AdminPower> {
    let iam_escalation = [
        "iam:attachuserpolicy",
        "iam:putuserpolicy",
        "iam:attachrolepolicy",
        "iam:putrolepolicy",
        "iam:createpolicyversion",
    ];
    let paths: Vec<EscalationPath> =
        iam_escalation.iter().map(|a| path(a, ANY_RESOURCE, format!("{a} on every resource"))).collect();
    match classify(permissions, &paths, false)?.power {
        AdminPower::CanGrantItself { .. } => None,
        power => Some(power),
    }
}

fn classify(
    permissions: &Permissions,
    escalation: &[EscalationPath],
    with_caps: bool,
) -> Option<AdminAssessment> {
    let unknown = permissions.decide(UNKNOWN_SERVICE_ACTION, ANY_RESOURCE, with_caps);
    let mut excluded = BTreeSet::new();
    if let Decision::Allowed { .. } = unknown {
        for statement in permissions.all_statements() {
            for pattern in statement.action_patterns() {
                if pattern.is_everything() || pattern.service().is_some_and(|s| !is_known_service(s)) {
                    continue;
                }
                if !permissions.allows(&pattern.probe(), ANY_RESOURCE, with_caps) {
                    excluded.insert(pattern.written.clone());
                }
            }
        }
    }
    let escalations: Vec<(&EscalationPath, Decision)> = escalation
        .iter()
        .map(|p| (p, permissions.decide(p.action, &p.resource, with_caps)))
        .filter(|(_, d)| matches!(d, Decision::Allowed { .. }))
        .collect();
    let (power, decisions): (AdminPower, Vec<&Decision>) = match &unknown {
        Decision::Allowed { .. } if excluded.is_empty() => (AdminPower::Full, vec![&unknown]),
        Decision::Allowed { .. } if !escalations.is_empty() => {
            (AdminPower::AllExcept { excluded: excluded.into_iter().collect() }, vec![&unknown])
        }
        _ if !escalations.is_empty() => (
            AdminPower::CanGrantItself {
                methods: escalations.iter().map(|(p, _)| p.description.clone()).collect(),
            },
            escalations.iter().map(|(_, d)| d).collect(),
        ),
        _ => return None,
    };
    let mut granted_by: Vec<PolicySource> = Vec::new();
    let mut conditional = true;
    for decision in decisions {
        if let Decision::Allowed { by, conditional: c } = decision {
            conditional &= *c;
            for source in by {
                if !granted_by.contains(source) {
                    granted_by.push((*source).clone());
                }
            }
        }
    }
    Some(AdminAssessment { power, granted_by, conditional })
}

/// Which caps stop the principal from being admin, for the report: each cap without which
/// it would be admin. An SCP that denies a handful of actions refuses some probes but caps
/// nothing, and is not named. When no single cap is decisive (two caps each enough on their
/// own), those that refuse the unknown-service probe or an escalation path are named.
fn capping_layers(permissions: &Permissions, escalation: &[EscalationPath]) -> Vec<String> {
    let decisive: Vec<String> = (0..permissions.caps.len())
        .filter(|&i| {
            let mut without = permissions.clone();
            without.caps.remove(i);
            classify(&without, escalation, true).is_some()
        })
        .map(|i| permissions.caps[i].label.clone())
        .collect();
    if !decisive.is_empty() {
        return decisive;
    }
    let probes = std::iter::once((UNKNOWN_SERVICE_ACTION, ANY_RESOURCE))
        .chain(escalation.iter().map(|p| (p.action, p.resource.as_str())));
    let refusing: Vec<&str> = probes
        .filter_map(|(action, resource)| match permissions.decide(action, resource, true) {
            Decision::Capped(label) => Some(label),
            _ => None,
        })
        .collect();
    // In the order the caps apply: organization first, then the principal's boundary.
    permissions.caps.iter().map(|c| c.label.clone()).filter(|l| refusing.contains(&l.as_str())).collect()
}
