//! `organization/identity-center/`: IAM Identity Center's permission sets, account
//! assignments and the people and groups of its identity store, in the AWS CLI's shapes
//! (layout in DESIGN.md). Collected once per organization, from the management account or
//! the Identity Center delegated-admin account.
//!
//! The types here are both what `collect` writes and what `run --snapshot` reads: one
//! contract. Unknown fields are ignored, so files made with the AWS CLI (which carry more)
//! read as well.

use super::InputProblem;
use crate::policy::document::PolicyDocument;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The folder, relative to the snapshot root.
pub const DIR: &str = "organization/identity-center";

/// `status.json`: whether Identity Center was collected, and why not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Status {
    pub collected: bool,
    /// Why it was not (or only partly) collected: the error and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Parts that failed while the rest was collected, e.g. `ListGroupMemberships: throttled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial: Vec<String>,
}

/// `instances.json`: `aws sso-admin list-instances`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstancesFile {
    #[serde(default)]
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_arn: String,
    pub identity_store_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// `permission-sets.json`: one entry per permission set, `aws sso-admin
/// describe-permission-set`'s `PermissionSet` with the answers of the per-set calls beside
/// it, each under the field name its CLI output uses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionSetsFile {
    #[serde(default)]
    pub permission_sets: Vec<PermissionSet>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionSet {
    pub permission_set_arn: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// ISO 8601 duration, e.g. `PT4H`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_state: Option<String>,
    /// `list-managed-policies-in-permission-set`.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedManagedPolicy>,
    /// `list-customer-managed-policy-references-in-permission-set`.
    #[serde(default)]
    pub customer_managed_policy_references: Vec<CustomerManagedPolicyReference>,
    /// `get-inline-policy-for-permission-set`, decoded to a JSON object; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_policy: Option<serde_json::Value>,
    /// `get-permissions-boundary-for-permission-set`; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<PermissionsBoundary>,
    /// `list-accounts-for-provisioned-permission-set`.
    #[serde(default)]
    pub account_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedManagedPolicy {
    #[serde(default)]
    pub name: String,
    pub arn: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomerManagedPolicyReference {
    pub name: String,
    /// `/` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionsBoundary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_managed_policy_reference: Option<CustomerManagedPolicyReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_policy_arn: Option<String>,
}

/// `account-assignments.json`: `aws sso-admin list-account-assignments`, for every
/// (account, permission set) pair the permission set is provisioned to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountAssignmentsFile {
    #[serde(default)]
    pub account_assignments: Vec<AccountAssignment>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountAssignment {
    pub account_id: String,
    pub permission_set_arn: String,
    /// `USER` or `GROUP`.
    pub principal_type: String,
    pub principal_id: String,
}

/// `users.json`: `aws identitystore list-users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsersFile {
    #[serde(default)]
    pub users: Vec<User>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct User {
    pub user_id: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Email>,
}

impl User {
    /// The primary email, else the first.
    pub fn email(&self) -> Option<&str> {
        self.emails.iter().find(|e| e.primary == Some(true)).or(self.emails.first()).map(|e| e.value.as_str())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Email {
    #[serde(default)]
    pub value: String,
    #[serde(default, rename = "Type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// `groups.json`: `aws identitystore list-groups`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupsFile {
    #[serde(default)]
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Group {
    pub group_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `group-memberships.json`: `aws identitystore list-group-memberships`, for every group.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupMembershipsFile {
    #[serde(default)]
    pub group_memberships: Vec<GroupMembership>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupMembership {
    pub group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership_id: Option<String>,
    pub member_id: MemberId,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MemberId {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// The file names, in the order they are written.
pub const STATUS: &str = "status.json";
pub const INSTANCES: &str = "instances.json";
pub const PERMISSION_SETS: &str = "permission-sets.json";
pub const ACCOUNT_ASSIGNMENTS: &str = "account-assignments.json";
pub const USERS: &str = "users.json";
pub const GROUPS: &str = "groups.json";
pub const GROUP_MEMBERSHIPS: &str = "group-memberships.json";

/// Everything read from the folder. `None` for a file means it was not collected.
#[derive(Debug, Clone, Default)]
pub struct IdentityCenter {
    pub status: Option<Status>,
    pub instances: Vec<Instance>,
    pub permission_sets: Option<Vec<PermissionSet>>,
    /// Inline policies of the permission sets, parsed, by permission set ARN.
    pub inline_documents: std::collections::HashMap<String, PolicyDocument>,
    pub assignments: Option<Vec<AccountAssignment>>,
    pub users: Option<Vec<User>>,
    pub groups: Option<Vec<Group>>,
    pub memberships: Option<Vec<GroupMembership>>,
}

/// What the snapshot says of Identity Center, for coverage and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// Permission sets, assignments and the identity store were all read.
    Collected { partial: Vec<String> },
    /// Not collected, and why.
    NotCollected(String),
}

impl IdentityCenter {
    /// Reads `organization/identity-center/` under `root`; None when the folder is absent.
    pub fn read(root: &Path, problems: &mut Vec<InputProblem>) -> Option<IdentityCenter> {
        if !root.join(DIR).is_dir() {
            return None;
        }
        let mut out = IdentityCenter { status: read_file(root, STATUS, problems), ..Default::default() };
        out.instances =
            read_file::<InstancesFile>(root, INSTANCES, problems).map(|f| f.instances).unwrap_or_default();
        out.permission_sets =
            read_file::<PermissionSetsFile>(root, PERMISSION_SETS, problems).map(|f| f.permission_sets);
        out.assignments = read_file::<AccountAssignmentsFile>(root, ACCOUNT_ASSIGNMENTS, problems)
            .map(|f| f.account_assignments);
        out.users = read_file::<UsersFile>(root, USERS, problems).map(|f| f.users);
        out.groups = read_file::<GroupsFile>(root, GROUPS, problems).map(|f| f.groups);
        out.memberships =
            read_file::<GroupMembershipsFile>(root, GROUP_MEMBERSHIPS, problems).map(|f| f.group_memberships);
        let file = format!("{DIR}/{PERMISSION_SETS}");
        for (i, set) in out.permission_sets.iter().flatten().enumerate() {
            let Some(inline) = &set.inline_policy else { continue };
            // The CLI prints the inline policy as a JSON string; collect writes it decoded.
            let text = match inline {
                serde_json::Value::String(s) if s.trim().is_empty() => continue,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match PolicyDocument::from_json_text(&text) {
                Ok(document) => {
                    out.inline_documents.insert(set.permission_set_arn.clone(), document);
                }
                Err(e) => problems.push(InputProblem::at(
                    &file,
                    &format!("PermissionSets[{i}] ({}).InlinePolicy", set.name),
                    &format!("not a policy document: {e}; the permission set is judged without it"),
                )),
            }
        }
        Some(out)
    }

    pub fn coverage(&self) -> Coverage {
        if let Some(status) = &self.status {
            if !status.collected {
                return Coverage::NotCollected(
                    status.reason.clone().unwrap_or_else(|| "the collection recorded no reason".into()),
                );
            }
        }
        let mut missing = Vec::new();
        for (name, present) in [
            (PERMISSION_SETS, self.permission_sets.is_some()),
            (ACCOUNT_ASSIGNMENTS, self.assignments.is_some()),
            (USERS, self.users.is_some()),
            (GROUPS, self.groups.is_some()),
            (GROUP_MEMBERSHIPS, self.memberships.is_some()),
        ] {
            if !present {
                missing.push(name);
            }
        }
        if self.permission_sets.is_none() || self.assignments.is_none() {
            return Coverage::NotCollected(format!("{DIR}/ lacks {}", missing.join(", ")));
        }
        let mut partial = self.status.as_ref().map(|s| s.partial.clone()).unwrap_or_default();
        partial.extend(missing.iter().map(|m| format!("{m} not collected: people are named by id only")));
        Coverage::Collected { partial }
    }
}

fn read_file<T: serde::de::DeserializeOwned>(
    root: &Path,
    name: &str,
    problems: &mut Vec<InputProblem>,
) -> Option<T> {
    let relative = format!("{DIR}/{name}");
    let text = super::read_optional(root, &relative, problems)?;
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(InputProblem::json(&relative, &e));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_shapes_read_and_unknown_fields_are_ignored() {
        let users: UsersFile = serde_json::from_str(
            r#"{"Users":[{"UserName":"ana","UserId":"u-1","DisplayName":"Ana Ruiz","IdentityStoreId":"d-1",
                "Name":{"GivenName":"Ana"},"Emails":[{"Value":"a@x.example","Type":"work","Primary":true}]}]}"#,
        )
        .unwrap();
        assert_eq!(users.users[0].email(), Some("a@x.example"));
        let sets: PermissionSetsFile = serde_json::from_str(
            r#"{"PermissionSets":[{"Name":"Admin","PermissionSetArn":"arn:aws:sso:::permissionSet/ssoins-1/ps-1",
                "SessionDuration":"PT8H","AttachedManagedPolicies":[{"Name":"AdministratorAccess","Arn":"arn:aws:iam::aws:policy/AdministratorAccess"}],
                "AccountIds":["111122223333"]}]}"#,
        )
        .unwrap();
        assert_eq!(sets.permission_sets[0].account_ids, ["111122223333"]);
        assert!(sets.permission_sets[0].inline_policy.is_none());
    }

    #[test]
    fn a_status_that_says_not_collected_is_the_coverage() {
        let ic = IdentityCenter {
            status: Some(Status { collected: false, reason: Some("AccessDenied".into()), partial: vec![] }),
            ..Default::default()
        };
        assert_eq!(ic.coverage(), Coverage::NotCollected("AccessDenied".into()));
        let empty = IdentityCenter::default();
        assert!(matches!(empty.coverage(), Coverage::NotCollected(r) if r.contains("permission-sets.json")));
    }
}
