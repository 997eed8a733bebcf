//! Who holds admin power in one account, and why: the bridge from the IAM graph in a
//! snapshot to the policy engine's admin verdict, computed once per account and read by
//! `admin-access`. Not a check itself.
//!
//! A user's policies are its own inline and attached policies plus those of every group it
//! is in; a role's are its own. Its permissions boundary caps them, and so do the SCPs above
//! its account, except in the management account and for service-linked roles.

use super::AccountContext;
use crate::findings::ResourceType;
use crate::policy::admin::{self, AdminVerdict, EscalationPath};
use crate::policy::aws_managed;
use crate::policy::document::PolicyDocument;
use crate::policy::effective::{Cap, CapKind, Grant, Permissions, PolicySource};
use crate::snapshot::authorization::{AttachedPolicy, IamGraph, InlinePolicy};

#[derive(Debug, Clone)]
pub struct Holder {
    pub resource_type: ResourceType,
    pub arn: String,
    pub name: String,
    pub verdict: AdminVerdict,
    pub service_linked: bool,
    pub sso_permission_set: Option<String>,
    /// Managed policies (or a boundary) the principal has whose documents the snapshot lacks.
    pub unknown_policies: Vec<String>,
}

/// The document in force for a managed policy ARN: the snapshot's, else a built-in one.
fn managed_document<'g>(graph: &'g IamGraph, arn: &str) -> Option<&'g PolicyDocument> {
    graph.managed_policies.get(arn).and_then(|p| p.document.as_ref()).or_else(|| aws_managed::builtin(arn))
}

fn grants<'g>(
    graph: &'g IamGraph,
    inline: &'g [InlinePolicy],
    attached: &'g [AttachedPolicy],
    via_group: Option<&str>,
    unknown: &mut Vec<String>,
) -> Vec<Grant<'g>> {
    let mut out = Vec::new();
    for policy in inline {
        match &policy.document {
            Some(document) => out.push(Grant {
                source: PolicySource {
                    policy: policy.name.clone(),
                    policy_arn: None,
                    via_group: via_group.map(str::to_string),
                },
                document,
            }),
            None => unknown.push(format!("inline policy {}", policy.name)),
        }
    }
    for policy in attached {
        match managed_document(graph, &policy.arn) {
            Some(document) => out.push(Grant {
                source: PolicySource {
                    policy: policy.name.clone(),
                    policy_arn: Some(policy.arn.clone()),
                    via_group: via_group.map(str::to_string),
                },
                document,
            }),
            None => unknown.push(policy.arn.clone()),
        }
    }
    out
}

fn is_customer_managed(arn: &str) -> bool {
    !arn.contains(":iam::aws:policy/")
}

pub fn assess_account(context: &AccountContext) -> Vec<Holder> {
    let Some(graph) = &context.account.authorization else { return Vec::new() };
    let scp_levels = context.organization.scp_levels(&context.account.account_id);
    let scp_caps: Vec<Cap> = scp_levels
        .iter()
        .map(|level| Cap {
            kind: CapKind::Scp,
            label: format!("SCP {}", level.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(" + ")),
            documents: level.iter().filter_map(|p| p.document.as_ref().map(|d| (p.id.clone(), d))).collect(),
        })
        .collect();
    let boundary_cap = |arn: &Option<String>, unknown: &mut Vec<String>| -> Option<Cap> {
        let arn = arn.as_ref()?;
        let Some(document) = managed_document(graph, arn) else {
            unknown
                .push(format!("permissions boundary {arn} (not in the snapshot; assumed not to restrict)"));
            return None;
        };
        let name = arn.rsplit('/').next().unwrap_or(arn);
        Some(Cap {
            kind: CapKind::PermissionsBoundary,
            label: format!("permissions boundary {name}"),
            documents: vec![(arn.clone(), document)],
        })
    };

    // Groups first: their grants are shared by members, and admin groups are an escalation target.
    let mut group_grants = std::collections::HashMap::new();
    let mut admin_groups: Vec<(&str, &str)> = Vec::new();
    for group in &graph.groups {
        let mut unknown = Vec::new();
        let grants =
            grants(graph, &group.inline_policies, &group.attached_policies, Some(&group.name), &mut unknown);
        let alone = Permissions { grants: grants.clone(), caps: Vec::new() };
        if matches!(admin::assess(&alone, &[], &[]), AdminVerdict::Admin(_)) {
            admin_groups.push((&group.arn, &group.name));
        }
        group_grants.insert(group.name.as_str(), (grants, unknown));
    }

    let mut holders = Vec::new();
    for user in &graph.users {
        let mut unknown = Vec::new();
        let mut all = grants(graph, &user.inline_policies, &user.attached_policies, None, &mut unknown);
        let mut customer: Vec<(&str, &str)> = user
            .attached_policies
            .iter()
            .filter(|p| is_customer_managed(&p.arn))
            .map(|p| (p.arn.as_str(), p.name.as_str()))
            .collect();
        let mut member_groups = Vec::new();
        for name in &user.groups {
            let Some(group) = graph.group(name) else {
                unknown.push(format!("group {name} (not in the snapshot)"));
                continue;
            };
            member_groups.push((group.arn.as_str(), group.name.as_str()));
            if let Some((grants, group_unknown)) = group_grants.get(name.as_str()) {
                all.extend(grants.iter().cloned());
                unknown.extend(group_unknown.iter().cloned());
            }
            customer.extend(
                group
                    .attached_policies
                    .iter()
                    .filter(|p| is_customer_managed(&p.arn))
                    .map(|p| (p.arn.as_str(), p.name.as_str())),
            );
        }
        let mut caps = scp_caps.clone();
        caps.extend(boundary_cap(&user.permissions_boundary, &mut unknown));
        let escalation =
            admin::user_escalation_paths(&user.arn, &user.name, &customer, &member_groups, &admin_groups);
        let removal = admin::boundary_removal_paths(&user.arn, true);
        holders.push(Holder {
            resource_type: ResourceType::User,
            arn: user.arn.clone(),
            name: user.name.clone(),
            verdict: admin::assess(&Permissions { grants: all, caps }, &escalation, &removal),
            service_linked: false,
            sso_permission_set: None,
            unknown_policies: unknown,
        });
    }
    for role in &graph.roles {
        let mut unknown = Vec::new();
        let all = grants(graph, &role.inline_policies, &role.attached_policies, None, &mut unknown);
        let customer: Vec<(&str, &str)> = role
            .attached_policies
            .iter()
            .filter(|p| is_customer_managed(&p.arn))
            .map(|p| (p.arn.as_str(), p.name.as_str()))
            .collect();
        // Service-linked roles are not subject to SCPs.
        let mut caps = if role.is_service_linked() { Vec::new() } else { scp_caps.clone() };
        caps.extend(boundary_cap(&role.permissions_boundary, &mut unknown));
        let escalation: Vec<EscalationPath> = admin::role_escalation_paths(&role.arn, &role.name, &customer);
        let removal = admin::boundary_removal_paths(&role.arn, false);
        holders.push(Holder {
            resource_type: ResourceType::Role,
            arn: role.arn.clone(),
            name: role.name.clone(),
            verdict: admin::assess(&Permissions { grants: all, caps }, &escalation, &removal),
            service_linked: role.is_service_linked(),
            sso_permission_set: role.sso_permission_set().map(str::to_string),
            unknown_policies: unknown,
        });
    }
    holders
}
