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
    /// Account id → root, then OUs from the top (empty until [`read_tree`], or when the tree
    /// could not be read).
    pub paths: HashMap<String, Vec<String>>,
    /// Why the OU tree could not be read (then neither can the SCPs be placed).
    pub tree_error: Option<StageError>,
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

/// `caller_account`: who is asking (a member account that may not list the organization is
/// audited alone).
pub async fn discover(client: &Client, caller_account: &str) -> Result<OrganizationView, Unavailable> {
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

    // The OU tree and the SCPs are read apart ([`read_tree`], [`scps`]): the accounts wait
    // for them only when OUs select the accounts.
    let pages = async {
        client.list_accounts().into_paginator().send().try_collect().await.map_err(|e| {
            let error = StageError::from_sdk("organizations:ListAccounts", e);
            // A member account may describe its organization but not list it: it is audited
            // alone. The management account denied the list is misconfigured: stop.
            let member = management_account.as_deref().is_some_and(|m| m != caller_account);
            if member && is_no_access(&error) {
                Unavailable::NotAnOrganizationCaller(error)
            } else {
                Unavailable::Failed(error)
            }
        })
    }
    .await;
    let accounts: Vec<Value> =
        pages?.iter().flat_map(|page| page.accounts().iter().map(shapes::org_account)).collect();
    Ok(OrganizationView {
        id,
        management_account,
        root_id: None,
        accounts,
        paths: HashMap::new(),
        tree_error: None,
    })
}

/// Places every account in the OU tree. The tree and the SCPs are facts that sharpen the
/// audit; without them every account is still audited, but the verdicts an SCP would cap are
/// unknown (the run is partial).
pub async fn read_tree(client: &Client, view: &mut OrganizationView) {
    match walk_tree(client).await {
        Ok((root, paths)) => {
            view.root_id = Some(root);
            view.paths = paths;
        }
        Err(error) => view.tree_error = Some(error),
    }
}

/// `organization/scps.json`: every SCP with its targets, and each account's place in the tree
/// (read here too, at once with the policies, unless `tree_read`).
pub async fn scps(
    client: &Client,
    view: &mut OrganizationView,
    tree_read: bool,
) -> Result<Value, StageError> {
    let tree = async {
        if !tree_read {
            read_tree(client, view).await;
        }
    };
    let ((), policies) = tokio::join!(tree, service_control_policies(client));
    if let Some(error) = &view.tree_error {
        return Err(error.clone());
    }
    let policies = policies?;
    let paths: BTreeMap<&String, &Vec<String>> = view.paths.iter().collect();
    Ok(
        json!({"OrganizationId": view.id, "RootId": view.root_id, "Policies": policies, "AccountPaths": paths}),
    )
}

/// Root id and each account's path (root first), breadth first from the root.
async fn walk_tree(client: &Client) -> Result<(String, HashMap<String, Vec<String>>), StageError> {
    let roots =
        client.list_roots().send().await.map_err(|e| StageError::from_sdk("organizations:ListRoots", e))?;
    let root = roots.roots().first().and_then(|r| r.id()).map(str::to_string).ok_or_else(|| {
        StageError::unexpected("organizations:ListRoots", "the organization has no root".into())
    })?;
    let mut paths = HashMap::new();
    // Breadth first; the parents of one level are listed at once.
    let mut level = vec![vec![root.clone()]];
    while !level.is_empty() {
        let children =
            futures::future::try_join_all(level.iter().map(|path| children_of(client, path))).await?;
        let mut next = Vec::new();
        for (path, (accounts, units)) in level.iter().zip(children) {
            for account in accounts {
                paths.insert(account, path.clone());
            }
            next.extend(units.into_iter().map(|unit| {
                let mut child = path.clone();
                child.push(unit);
                child
            }));
        }
        level = next;
    }
    Ok((root, paths))
}

/// The accounts and the OUs directly under the last element of `path`.
async fn children_of(client: &Client, path: &[String]) -> Result<(Vec<String>, Vec<String>), StageError> {
    let parent = path.last().map(String::as_str).unwrap_or_default();
    let accounts = client.list_accounts_for_parent().parent_id(parent).into_paginator().send().try_collect();
    let units =
        client.list_organizational_units_for_parent().parent_id(parent).into_paginator().send().try_collect();
    let (accounts, units) = tokio::join!(accounts, units);
    let accounts = accounts.map_err(|e| StageError::from_sdk("organizations:ListAccountsForParent", e))?;
    let units =
        units.map_err(|e| StageError::from_sdk("organizations:ListOrganizationalUnitsForParent", e))?;
    Ok((
        accounts.iter().flat_map(|p| p.accounts()).filter_map(|a| a.id().map(str::to_string)).collect(),
        units
            .iter()
            .flat_map(|p| p.organizational_units())
            .filter_map(|u| u.id().map(str::to_string))
            .collect(),
    ))
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
    // Each policy's content and targets, all policies at once (order kept).
    futures::future::try_join_all(summaries.iter().map(|id| policy_with_targets(client, id))).await
}

async fn policy_with_targets(client: &Client, id: &str) -> Result<Value, StageError> {
    let described = client.describe_policy().policy_id(id).send();
    let targets = client.list_targets_for_policy().policy_id(id).into_paginator().send().try_collect();
    let (described, targets) = tokio::join!(described, targets);
    let described = described.map_err(|e| StageError::from_sdk("organizations:DescribePolicy", e))?;
    let targets: Vec<Value> = targets
        .map_err(|e| StageError::from_sdk("organizations:ListTargetsForPolicy", e))?
        .iter()
        .flat_map(|page| page.targets())
        .map(|t| json!({"TargetId": t.target_id(), "Name": t.name(), "Type": t.r#type().map(TargetType::as_str)}))
        .collect();
    let policy = described.policy();
    let summary = policy.and_then(|p| p.policy_summary());
    Ok(json!({
        "Id": id,
        "Name": summary.and_then(|s| s.name()),
        "Description": summary.and_then(|s| s.description()),
        "AwsManaged": summary.map(|s| s.aws_managed()),
        "Content": shapes::policy_document(policy.and_then(|p| p.content())),
        "Targets": targets,
    }))
}
