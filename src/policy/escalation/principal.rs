//! The graph's nodes: every user, role and group of one account, each with the policies in
//! force for it (as the engine reads them) and the request context the snapshot decides for
//! it (`aws:PrincipalArn`, `aws:PrincipalTag/*`, `aws:username`, …).

use crate::identifiers::AccountId;
use crate::policy::aws_managed;
use crate::policy::condition::RequestContext;
use crate::policy::document::PolicyDocument;
use crate::policy::effective::PolicySource;
use crate::policy::engine::{Named, PolicySet, ScpLevel};
use crate::snapshot::authorization::{AttachedPolicy, IamGraph, InlinePolicy, ManagedPolicy, Tag};
use crate::snapshot::organization::Organization;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    User,
    Role,
    Group,
}

/// One user, role or group.
#[derive(Debug)]
pub struct Node<'g> {
    pub kind: NodeKind,
    pub arn: &'g str,
    pub name: &'g str,
    pub policies: PolicySet<'g>,
    /// Shared, so that the search's requests can add their keys over it (see
    /// [`RequestContext::over`]).
    pub context: Arc<RequestContext>,
    /// Its tags (what `context` holds as `aws:PrincipalTag/…`).
    pub tags: &'g [Tag],
    /// Roles: the trust policy.
    pub trust: Option<&'g PolicyDocument>,
    /// Customer managed policies attached to it (or, for a user, to its groups).
    pub customer_policies: Vec<&'g ManagedPolicy>,
    /// Users: indexes of their groups' nodes.
    pub groups: Vec<usize>,
    pub service_linked: bool,
    /// Identity Center role: the permission set in its name.
    pub sso_permission_set: Option<&'g str>,
    /// Policies (or a boundary) whose documents the snapshot lacks.
    pub unknown_policies: Vec<String>,
    /// Users: whether they have a console password, when the credential report tells.
    pub has_login_profile: Option<bool>,
    /// Roles: whether an instance profile holds it (EC2 can run only as such a role); None
    /// when the snapshot does not say.
    pub in_instance_profile: Option<bool>,
}

/// The document in force for a managed policy ARN: the snapshot's, else a built-in one.
pub fn managed_document<'g>(graph: &'g IamGraph, arn: &str) -> Option<&'g PolicyDocument> {
    graph.managed_policies.get(arn).and_then(|p| p.document.as_ref()).or_else(|| aws_managed::builtin(arn))
}

/// The sources of managed policies attached to principals directly, by ARN: one per policy,
/// shared by the principals it is attached to.
type Sources<'g> = HashMap<&'g str, Arc<PolicySource>>;

fn identity<'g>(
    graph: &'g IamGraph,
    inline: &'g [InlinePolicy],
    attached: &'g [AttachedPolicy],
    via_group: Option<&str>,
    unknown: &mut Vec<String>,
    sources: &mut Sources<'g>,
) -> Vec<Named<'g>> {
    let mut out = Vec::new();
    for policy in inline {
        match &policy.document {
            Some(document) => out.push(Named {
                source: Arc::new(PolicySource {
                    policy: policy.name.clone(),
                    policy_arn: None,
                    via_group: via_group.map(str::to_string),
                }),
                document,
            }),
            None => unknown.push(format!("inline policy {}", policy.name)),
        }
    }
    for policy in attached {
        match managed_document(graph, &policy.arn) {
            Some(document) => {
                let source = || {
                    Arc::new(PolicySource {
                        policy: policy.name.clone(),
                        policy_arn: Some(policy.arn.clone()),
                        via_group: via_group.map(str::to_string),
                    })
                };
                let source = match via_group {
                    None => sources.entry(&policy.arn).or_insert_with(source).clone(),
                    Some(_) => source(),
                };
                out.push(Named { source, document })
            }
            None => unknown.push(policy.arn.clone()),
        }
    }
    out
}

fn customer<'g>(
    graph: &'g IamGraph,
    attached: &'g [AttachedPolicy],
) -> impl Iterator<Item = &'g ManagedPolicy> {
    attached.iter().filter_map(|a| graph.managed_policies.get(&a.arn)).filter(|p| !p.is_aws_managed())
}

/// The SCP levels above an account, as engine layers.
pub fn scp_levels<'o>(organization: &'o Organization, account: &AccountId) -> Vec<ScpLevel<'o>> {
    organization
        .scp_levels(account)
        .iter()
        .map(|level| ScpLevel {
            label: format!("SCP {}", level.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(" + ")),
            policies: level
                .iter()
                .filter_map(|p| {
                    p.document.as_ref().map(|document| Named {
                        source: Arc::new(PolicySource {
                            policy: p.name.clone(),
                            policy_arn: Some(p.id.clone()),
                            via_group: None,
                        }),
                        document,
                    })
                })
                .collect(),
        })
        .collect()
}

/// The context keys the snapshot decides for requests made by this principal.
pub fn principal_context(
    kind: NodeKind,
    arn: &str,
    name: &str,
    account: &AccountId,
    tags: &[Tag],
    organization: &Organization,
) -> RequestContext {
    principal_over(Arc::new(account_context(account, organization)), kind, arn, name, tags)
}

/// The keys every principal of the account shares: its account, its organization, and
/// that the principal tags are all known.
fn account_context(account: &AccountId, organization: &Organization) -> RequestContext {
    let mut context = RequestContext::new();
    context.set("aws:PrincipalAccount", vec![account.to_string()]);
    context.set("aws:PrincipalIsAWSService", vec!["false".into()]);
    context.declare_complete("aws:PrincipalTag/");
    match (&organization.id, organization.is_member(account.as_str())) {
        (Some(org), true) => {
            context.set("aws:PrincipalOrgID", vec![org.clone()]);
            if let Some(path) = organization.account_paths.get(account.as_str()) {
                let mut text = org.clone();
                for part in path {
                    text.push('/');
                    text.push_str(part);
                }
                text.push('/');
                context.set("aws:PrincipalOrgPaths", vec![text]);
            }
        }
        // A standalone account, or one whose organization the snapshot does not name.
        (None, _) if organization.accounts.is_empty() => {
            context.set_absent("aws:PrincipalOrgID");
            context.set_absent("aws:PrincipalOrgPaths");
        }
        _ => {}
    }
    context
}

/// A principal's own keys over its account's ([`account_context`]).
fn principal_over(
    account: Arc<RequestContext>,
    kind: NodeKind,
    arn: &str,
    name: &str,
    tags: &[Tag],
) -> RequestContext {
    let mut context = RequestContext::over(account);
    context.set("aws:PrincipalArn", vec![arn.to_string()]);
    match kind {
        NodeKind::User => {
            context.set("aws:PrincipalType", vec!["User".into()]);
            context.set("aws:username", vec![name.to_string()]);
        }
        _ => {
            context.set("aws:PrincipalType", vec!["AssumedRole".into()]);
            context.set_absent("aws:username");
        }
    }
    for tag in tags {
        context.set(&format!("aws:PrincipalTag/{}", tag.key), vec![tag.value.clone()]);
    }
    context
}

/// Every user, role and group of one account, as graph nodes.
pub fn nodes<'g>(
    graph: &'g IamGraph,
    account: &AccountId,
    organization: &'g Organization,
    login_profiles: &dyn Fn(&str) -> Option<bool>,
) -> Vec<Node<'g>> {
    let scps: Arc<[ScpLevel]> = scp_levels(organization, account).into();
    let shared = Arc::new(account_context(account, organization));
    let mut sources = Sources::new();
    let boundary = |arn: &'g Option<String>, unknown: &mut Vec<String>| -> Option<Named<'g>> {
        let arn = arn.as_ref()?;
        let Some(document) = managed_document(graph, arn) else {
            unknown
                .push(format!("permissions boundary {arn} (not in the snapshot; assumed not to restrict)"));
            return None;
        };
        let name = arn.rsplit('/').next().unwrap_or(arn);
        Some(Named {
            source: Arc::new(PolicySource {
                policy: name.to_string(),
                policy_arn: Some(arn.clone()),
                via_group: None,
            }),
            document,
        })
    };
    let mut nodes = Vec::with_capacity(graph.groups.len() + graph.users.len() + graph.roles.len());
    for group in &graph.groups {
        let mut unknown = Vec::new();
        let identity = identity(
            graph,
            &group.inline_policies,
            &group.attached_policies,
            Some(&group.name),
            &mut unknown,
            &mut sources,
        );
        nodes.push(Node {
            kind: NodeKind::Group,
            arn: &group.arn,
            name: &group.name,
            policies: PolicySet { scp_levels: scps.clone(), identity, boundary: None },
            context: Arc::new(principal_over(shared.clone(), NodeKind::Group, &group.arn, &group.name, &[])),
            tags: &[],
            trust: None,
            customer_policies: customer(graph, &group.attached_policies).collect(),
            groups: Vec::new(),
            service_linked: false,
            sso_permission_set: None,
            unknown_policies: unknown,
            has_login_profile: None,
            in_instance_profile: None,
        });
    }
    for user in &graph.users {
        let mut unknown = Vec::new();
        let mut all =
            identity(graph, &user.inline_policies, &user.attached_policies, None, &mut unknown, &mut sources);
        let mut customer_policies: Vec<&ManagedPolicy> = customer(graph, &user.attached_policies).collect();
        let mut groups = Vec::new();
        for name in &user.groups {
            let Some(index) = graph.groups.iter().position(|g| &g.name == name) else {
                unknown.push(format!("group {name} (not in the snapshot)"));
                continue;
            };
            groups.push(index);
            all.extend(nodes[index].policies.identity.iter().cloned());
            unknown.extend(nodes[index].unknown_policies.iter().cloned());
            customer_policies.extend(nodes[index].customer_policies.iter().copied());
        }
        let boundary = boundary(&user.permissions_boundary, &mut unknown);
        nodes.push(Node {
            kind: NodeKind::User,
            arn: &user.arn,
            name: &user.name,
            policies: PolicySet { scp_levels: scps.clone(), identity: all, boundary },
            context: Arc::new(principal_over(
                shared.clone(),
                NodeKind::User,
                &user.arn,
                &user.name,
                &user.tags,
            )),
            tags: &user.tags,
            trust: None,
            customer_policies,
            groups,
            service_linked: false,
            sso_permission_set: None,
            unknown_policies: unknown,
            has_login_profile: login_profiles(&user.name),
            in_instance_profile: None,
        });
    }
    for role in &graph.roles {
        let mut unknown = Vec::new();
        let identity =
            identity(graph, &role.inline_policies, &role.attached_policies, None, &mut unknown, &mut sources);
        let boundary = boundary(&role.permissions_boundary, &mut unknown);
        // Service-linked roles are not subject to SCPs.
        let scp_levels = if role.is_service_linked() { Arc::default() } else { scps.clone() };
        nodes.push(Node {
            kind: NodeKind::Role,
            arn: &role.arn,
            name: &role.name,
            policies: PolicySet { scp_levels, identity, boundary },
            context: Arc::new(principal_over(
                shared.clone(),
                NodeKind::Role,
                &role.arn,
                &role.name,
                &role.tags,
            )),
            tags: &role.tags,
            trust: role.trust_policy.as_ref(),
            customer_policies: customer(graph, &role.attached_policies).collect(),
            groups: Vec::new(),
            service_linked: role.is_service_linked(),
            sso_permission_set: role.sso_permission_set(),
            unknown_policies: unknown,
            has_login_profile: None,
            in_instance_profile: role.instance_profiles.as_ref().map(|p| !p.is_empty()),
        });
    }
    nodes
}
