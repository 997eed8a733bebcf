//! The few AWS managed policies whose power the audit must know even when a snapshot
//! does not carry their documents (a hand-made snapshot filtered to users and roles, say).
//! A document in the snapshot always wins over these.

use super::document::PolicyDocument;
use std::sync::OnceLock;

const ADMINISTRATOR_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const POWER_USER_ACCESS: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
  {"Effect":"Allow","Action":["account:GetAccountInformation","account:GetPrimaryEmail","account:ListRegions",
   "iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization"],"Resource":"*"}]}"#;
const IAM_FULL_ACCESS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*",
  "organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit",
  "organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents",
  "organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies",
  "organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#;

/// The built-in document for an AWS managed policy ARN, if it is one the audit knows.
pub fn builtin(arn: &str) -> Option<&'static PolicyDocument> {
    static DOCS: OnceLock<Vec<(&'static str, PolicyDocument)>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        vec![
            ("AdministratorAccess", PolicyDocument::literal(ADMINISTRATOR_ACCESS)),
            ("PowerUserAccess", PolicyDocument::literal(POWER_USER_ACCESS)),
            ("IAMFullAccess", PolicyDocument::literal(IAM_FULL_ACCESS)),
        ]
    });
    let name = arn.strip_prefix("arn:")?.split_once(":iam::aws:policy/")?.1;
    docs.iter().find(|(n, _)| *n == name).map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_by_arn_in_any_partition() {
        assert!(super::builtin("arn:aws:iam::aws:policy/AdministratorAccess").is_some());
        assert!(super::builtin("arn:aws-us-gov:iam::aws:policy/PowerUserAccess").is_some());
        assert!(super::builtin("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").is_none());
        assert!(super::builtin("arn:aws:iam::111122223333:policy/AdministratorAccess").is_none());
    }
}
