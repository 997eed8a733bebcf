//! Who is in the organization: the accounts (`ListAccounts`), where each sits in the OU tree
//! (a walk from the root with `ListOrganizationalUnitsForParent` and
//! `ListAccountsForParent`: calls grow with the number of OUs, not of accounts), and the
//! service control policies with their targets (`ListPolicies`, `ListTargetsForPolicy`,
//! `DescribePolicy` once per policy). Nothing here judges.

use super::shapes;
use super::StageError;
use aws_sdk_organizations::types::{PolicyType, TargetType};
use aws_sdk_organizations::Client;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// What the organization looks like to the caller.
pub struct OrganizationView {
    pub id: String,
    pub management_account: Option<String>,
    pub root_id: Option<String>,
    /// `aws organizations list-accounts` shape.
    pub accounts: Vec<Value>,
    /// Account id → root, then OUs from the top (empty when the tree could not be read).
    pub paths: HashMap<String, Vec<String>>,
    /// `organization/scps.json`, or why it could not be read.
    pub scps: Result<Value, StageError>,
}

/// Why the organization could not be listed: either it does not exist for this caller (a
/// standalone or member account: audit the caller only), or a real failure.
pub enum Unavailable {
    NotAnOrganizationCaller(StageError),
    Failed(StageError),
}

fn is_no_access(error: &StageError) -> bool {
    matches!(
        error.code.as_str(),
        "AWSOrganizationsNotInUseException" | "AccessDeniedException" | "AccessDenied"
    )
}

pub async fn discover(client: &Client) -> Result<OrganizationView, Unavailable> {
    let organization = client.describe_organization().send().await.map_err(|e| {
        let error = StageError::from_sdk("organizations:DescribeOrganization", e);
        if is_no_access(&error) {
            Unavailable::NotAnOrganizationCaller(error)
        } else {
            Unavailable::Failed(error)
        }
    })?;
    let organization = organization.organization();
    let id = organization.and_then(|o| o.id()).unwrap_or_default().to_string();
    let management_account = organization.and_then(|o| o.master_account_id()).map(str::to_string);

    let accounts: Vec<Value> = client
        .list_accounts()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| Unavailable::Failed(StageError::from_sdk("organizations:ListAccounts", e)))?
        .iter()
        .flat_map(|page| page.accounts().iter().map(shapes::org_account))
        .collect();

    // The tree and the SCPs are facts that sharpen the audit; without them every account is
    // still audited (SCPs are then not applied, which can only add findings).
    let tree = walk_tree(client).await;
    let (root_id, paths, tree_error) = match tree {
        Ok((root, paths)) => (Some(root), paths, None),
        Err(e) => (None, HashMap::new(), Some(e)),
    };
    let scps = match tree_error {
        Some(error) => Err(error),
        None => service_control_policies(client).await.map(|policies| {
            let paths: BTreeMap<&String, &Vec<String>> = paths.iter().collect();
            json!({"OrganizationId": id, "RootId": root_id, "Policies": policies, "AccountPaths": paths})
        }),
    };
    Ok(OrganizationView { id, management_account, root_id, accounts, paths, scps })
}

/// Root id and each account's path (root first), breadth first from the root.
async fn walk_tree(client: &Client) -> Result<(String, HashMap<String, Vec<String>>), StageError> {
    let roots =
        client.list_roots().send().await.map_err(|e| StageError::from_sdk("organizations:ListRoots", e))?;
    let root = roots.roots().first().and_then(|r| r.id()).map(str::to_string).ok_or_else(|| StageError {
        stage: "organizations:ListRoots".into(),
        code: "UnexpectedResponse".into(),
        message: "the organization has no root".into(),
        hint: None,
    })?;
    let mut paths = HashMap::new();
    let mut queue = vec![vec![root.clone()]];
    while let Some(path) = queue.pop() {
        let parent = path.last().cloned().unwrap_or_default();
        let pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| StageError::from_sdk("organizations:ListAccountsForParent", e))?;
        for id in pages.iter().flat_map(|p| p.accounts()).filter_map(|a| a.id()) {
            paths.insert(id.to_string(), path.clone());
        }
        let pages = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| StageError::from_sdk("organizations:ListOrganizationalUnitsForParent", e))?;
        for id in pages.iter().flat_map(|p| p.organizational_units()).filter_map(|u| u.id()) {
            let mut child = path.clone();
            child.push(id.to_string());
            queue.push(child);
        }
    }
    Ok((root, paths))
}

async fn service_control_policies(client: &Client) -> Result<Vec<Value>, StageError> {
    let summaries: Vec<String> = client
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| StageError::from_sdk("organizations:ListPolicies", e))?
        .iter()
        .flat_map(|page| page.policies().iter().filter_map(|p| p.id().map(str::to_string)))
        .collect();
    let mut policies = Vec::with_capacity(summaries.len());
    for id in summaries {
        let described = client
            .describe_policy()
            .policy_id(&id)
            .send()
            .await
            .map_err(|e| StageError::from_sdk("organizations:DescribePolicy", e))?;
        let policy = described.policy();
        let summary = policy.and_then(|p| p.policy_summary());
        let content = shapes::policy_document(policy.and_then(|p| p.content()));
        let targets: Vec<Value> = client
            .list_targets_for_policy()
            .policy_id(&id)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| StageError::from_sdk("organizations:ListTargetsForPolicy", e))?
            .iter()
            .flat_map(|page| page.targets())
            .map(|t| json!({"TargetId": t.target_id(), "Name": t.name(), "Type": t.r#type().map(TargetType::as_str)}))
            .collect();
        policies.push(json!({
            "Id": id,
            "Name": summary.and_then(|s| s.name()),
            "Description": summary.and_then(|s| s.description()),
            "AwsManaged": summary.map(|s| s.aws_managed()),
            "Content": content,
            "Targets": targets,
        }));
    }
    Ok(policies)
}
