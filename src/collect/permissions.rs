//! The permissions live collection needs, and nothing beyond them: `iam-auditor
//! audit-policy` prints these documents, `deploy/` builds its roles from them, and the tests
//! check that every call the collector makes is listed here.

use serde_json::{json, Value};

/// Every operation the collector calls (as counted: `service:Operation`). The policies
/// below are derived from this one list.
pub const OPERATIONS: &[&str] = &[
    "access-analyzer:ListAnalyzers",
    "access-analyzer:ListFindingsV2",
    "iam:GenerateCredentialReport",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetAccountPasswordPolicy",
    "iam:GetAccountSummary",
    "iam:GetCredentialReport",
    "identitystore:ListGroupMemberships",
    "identitystore:ListGroups",
    "identitystore:ListUsers",
    "organizations:DescribeOrganization",
    "organizations:DescribePolicy",
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListPolicies",
    "organizations:ListRoots",
    "organizations:ListTargetsForPolicy",
    "sso:DescribePermissionSet",
    "sso:GetInlinePolicyForPermissionSet",
    "sso:GetPermissionsBoundaryForPermissionSet",
    "sso:ListAccountAssignments",
    "sso:ListAccountsForProvisionedPermissionSet",
    "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
    "sso:ListInstances",
    "sso:ListManagedPoliciesInPermissionSet",
    "sso:ListPermissionSets",
    "sso:ListPermissionSetsProvisionedToAccount",
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
];

/// Made by the collector, allowed to every principal without a policy.
pub const UNRESTRICTED_ACTIONS: &[&str] = &["sts:GetCallerIdentity"];

pub const ASSUME_ROLE: &str = "sts:AssumeRole";

/// The IAM action that authorises the collector's call `operation`: the same name, except
/// where AWS named the action differently.
pub fn action_for(operation: &str) -> &str {
    match operation {
        // There is no ListFindingsV2 action; ListFindings authorises both APIs.
        "access-analyzer:ListFindingsV2" => "access-analyzer:ListFindings",
        other => other,
    }
}

/// The actions, sorted and once each, of the operations of these services.
fn actions_of(services: &[&str]) -> Vec<&'static str> {
    let actions: std::collections::BTreeSet<&'static str> = OPERATIONS
        .iter()
        .filter(|op| services.iter().any(|s| op.split(':').next() == Some(*s)))
        .map(|op| action_for(op))
        .collect();
    actions.into_iter().collect()
}

/// What the audit role in each member account must allow (read-only).
pub fn member_actions() -> Vec<&'static str> {
    actions_of(&["iam", "access-analyzer"])
}

/// What the caller needs in the management (or delegated administrator) account to list
/// the organization, its OU tree and its service control policies.
pub fn organization_actions() -> Vec<&'static str> {
    actions_of(&["organizations"])
}

/// What the caller needs to read IAM Identity Center (once, from its own account: the
/// management account or the Identity Center delegated administrator).
pub fn identity_center_actions() -> Vec<&'static str> {
    actions_of(&["sso", "identitystore"])
}

pub fn member_role_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "IamAuditorReadOnly", "Effect": "Allow", "Action": member_actions(), "Resource": "*"}]
    })
}

/// The audit role's trust: only `caller_arn`, only from inside the organization, and with
/// the ExternalId when one is configured.
pub fn member_role_trust_policy(caller_arn: &str, organization_id: &str, external_id: Option<&str>) -> Value {
    let mut condition = json!({"StringEquals": {"aws:PrincipalOrgID": organization_id}});
    if let Some(external_id) = external_id {
        condition["StringEquals"]["sts:ExternalId"] = json!(external_id);
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "IamAuditorCaller",
            "Effect": "Allow",
            "Principal": {"AWS": caller_arn},
            "Action": ASSUME_ROLE,
            "Condition": condition
        }]
    })
}

/// The caller's policy: read the organization and its Identity Center, assume the audit
/// role, and audit its own account (which it reads with its own credentials).
pub fn caller_policy(role_name: &str, partition: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadOrganization", "Effect": "Allow", "Action": organization_actions(), "Resource": "*"},
            {"Sid": "ReadIdentityCenter", "Effect": "Allow", "Action": identity_center_actions(), "Resource": "*"},
            {"Sid": "AssumeAuditRole", "Effect": "Allow", "Action": ASSUME_ROLE,
             "Resource": format!("arn:{partition}:iam::*:role/{role_name}")},
            {"Sid": "AuditOwnAccount", "Effect": "Allow", "Action": member_actions(), "Resource": "*"}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True when the collector's call `operation` (`iam:GetAccountSummary`) is one the printed
    /// policies allow.
    fn is_allowed(operation: &str) -> bool {
        let action = action_for(operation);
        member_actions().contains(&action)
            || organization_actions().contains(&action)
            || identity_center_actions().contains(&action)
            || UNRESTRICTED_ACTIONS.contains(&action)
            || action == ASSUME_ROLE
    }

    #[test]
    fn lists_are_sorted_and_read_only() {
        assert_eq!(member_actions().len(), 7);
        assert!(member_actions().contains(&"access-analyzer:ListFindings"));
        assert_eq!(identity_center_actions().len(), 13);
        assert!(!member_actions().iter().any(|a| a.starts_with("sso:")), "read once, from the caller");
        for list in [member_actions(), organization_actions(), identity_center_actions()] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?} sorted, no duplicates");
            for action in list {
                let verb = action.split(':').nth(1).unwrap_or_default();
                assert!(
                    ["List", "Get", "Describe", "GenerateCredentialReport"]
                        .iter()
                        .any(|p| verb.starts_with(p)),
                    "{action} is not a read"
                );
            }
        }
    }

    #[test]
    fn trust_names_the_caller_the_organization_and_the_external_id() {
        let trust = member_role_trust_policy("arn:aws:iam::111122223333:role/auditor", "o-abc", Some("x-1"));
        let statement = &trust["Statement"][0];
        assert_eq!(statement["Principal"]["AWS"], "arn:aws:iam::111122223333:role/auditor");
        assert_eq!(statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"], "o-abc");
        assert_eq!(statement["Condition"]["StringEquals"]["sts:ExternalId"], "x-1");
        let without = member_role_trust_policy("arn:aws:iam::111122223333:role/auditor", "o-abc", None);
        assert!(without["Statement"][0]["Condition"]["StringEquals"].get("sts:ExternalId").is_none());
    }

    #[test]
    fn what_the_collector_may_call() {
        assert!(is_allowed("iam:GetAccountAuthorizationDetails"));
        assert!(is_allowed("sts:AssumeRole"));
        assert!(is_allowed("access-analyzer:ListFindingsV2"), "authorised by access-analyzer:ListFindings");
        assert!(OPERATIONS.iter().all(|op| is_allowed(op)));
        assert!(!is_allowed("iam:ListUsers"), "one call per entity is never needed");
        assert!(!is_allowed("organizations:ListParents"));
        assert!(is_allowed("sso:ListPermissionSetsProvisionedToAccount"));
        assert!(!is_allowed("sso:CreateAccountAssignment"), "Identity Center is only read");
    }
}
