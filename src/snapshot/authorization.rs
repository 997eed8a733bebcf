//! `account-authorization-details.json`: the whole IAM graph of one account, in the shape
//! `aws iam get-account-authorization-details` prints (PascalCase), read into typed form.
//!
//! Policy documents are parsed here, once; a document that cannot be read is recorded as an
//! input problem naming its place in the file, and the rest of the graph is still usable.
//! Only the default version of a managed policy is kept: the others are not in force.

use super::InputProblem;
use crate::policy::document::PolicyDocument;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct InlinePolicy {
    pub name: String,
    /// None when the document could not be read (an input problem says why).
    pub document: Option<PolicyDocument>,
}

#[derive(Debug, Clone)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub created: Option<DateTime<Utc>>,
    pub inline_policies: Vec<InlinePolicy>,
    pub attached_policies: Vec<AttachedPolicy>,
    pub groups: Vec<String>,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub arn: String,
    pub inline_policies: Vec<InlinePolicy>,
    pub attached_policies: Vec<AttachedPolicy>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub created: Option<DateTime<Utc>>,
    pub trust_policy: Option<PolicyDocument>,
    pub inline_policies: Vec<InlinePolicy>,
    pub attached_policies: Vec<AttachedPolicy>,
    pub permissions_boundary: Option<String>,
    /// None: never used (or not tracked yet); the snapshot cannot tell these apart.
    pub last_used: Option<DateTime<Utc>>,
    pub last_used_region: Option<String>,
    pub tags: Vec<Tag>,
    /// The instance profiles holding the role (what EC2 can run as); None when the
    /// snapshot does not say (a hand-made file without `InstanceProfileList`).
    pub instance_profiles: Option<Vec<String>>,
}

impl Role {
    /// Service-linked roles: made and managed by an AWS service, not editable, not subject to SCPs.
    pub fn is_service_linked(&self) -> bool {
        self.path.starts_with("/aws-service-role/")
    }

    /// IAM Identity Center roles; the permission set is in the name.
    pub fn sso_permission_set(&self) -> Option<&str> {
        sso_permission_set(&self.path, &self.name)
    }
}

/// Where IAM Identity Center puts the roles it provisions (a region may follow).
pub const SSO_ROLE_PATH: &str = "/aws-reserved/sso.amazonaws.com/";

/// The permission set name of a role Identity Center provisioned: the role is named
/// `AWSReservedSSO_<permission set name>_<16 lowercase hex digits>` under [`SSO_ROLE_PATH`].
/// The name may itself hold underscores, so the suffix is taken from the right; anything
/// else (another path, another suffix) is not an Identity Center role.
pub fn sso_permission_set<'a>(path: &str, name: &'a str) -> Option<&'a str> {
    if !path.starts_with(SSO_ROLE_PATH) {
        return None;
    }
    let (set, suffix) = name.strip_prefix("AWSReservedSSO_")?.rsplit_once('_')?;
    let hex = suffix.len() == 16 && suffix.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex && !set.is_empty()).then_some(set)
}

/// [`sso_permission_set`] of a role ARN (`arn:aws:iam::1:role/<path>/<name>`).
pub fn sso_permission_set_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":role/")?.1;
    let (path, name) = rest.rsplit_once('/')?;
    sso_permission_set(&format!("/{path}/"), name)
}

#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    /// The default version's document; None when it was missing or unreadable.
    pub document: Option<PolicyDocument>,
    pub default_version: Option<String>,
    pub attachment_count: Option<u64>,
    /// The versions not in force, as written (version id, document JSON): what
    /// `iam:SetDefaultPolicyVersion` can bring back. Parsed only when the graph asks.
    pub other_versions: Vec<(String, Box<RawValue>)>,
}

impl ManagedPolicy {
    pub fn is_aws_managed(&self) -> bool {
        self.arn.contains(":iam::aws:policy/")
    }
}

/// The IAM graph of one account.
#[derive(Debug, Clone, Default)]
pub struct IamGraph {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    /// Managed policies by ARN (some sources omit PolicyName).
    pub managed_policies: HashMap<String, ManagedPolicy>,
}

impl IamGraph {
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Reads the file's JSON. Problems inside single policies are pushed to `problems`
    /// with `file` as their file; a file that is not the expected shape at all is an Err.
    pub fn from_json(
        json: &str,
        file: &str,
        problems: &mut Vec<InputProblem>,
    ) -> Result<IamGraph, InputProblem> {
        let raw: RawDetails = serde_json::from_str(json).map_err(|e| InputProblem::json(file, &e))?;
        let mut doc = |raw: &RawValue, place: String| match PolicyDocument::from_raw(raw) {
            Ok(d) => {
                for note in &d.notes {
                    problems.push(InputProblem::note(file, &place, note));
                }
                Some(d)
            }
            Err(e) => {
                problems.push(InputProblem::at(file, &place, &e.0));
                None
            }
        };
        let mut graph = IamGraph::default();
        let mut missing_default = Vec::new();
        for (i, u) in raw.users.into_iter().enumerate() {
            let inline_policies =
                inline(u.user_policy_list, &mut doc, &format!("UserDetailList[{i}]"), "UserPolicyList");
            graph.users.push(User {
                name: u.user_name,
                arn: u.arn,
                path: u.path.unwrap_or_else(|| "/".into()),
                created: u.create_date,
                inline_policies,
                attached_policies: attached(u.attached_managed_policies),
                groups: u.group_list,
                permissions_boundary: u.permissions_boundary.and_then(|b| b.permissions_boundary_arn),
                tags: tags(u.tags),
            });
        }
        for (i, g) in raw.groups.into_iter().enumerate() {
            let inline_policies =
                inline(g.group_policy_list, &mut doc, &format!("GroupDetailList[{i}]"), "GroupPolicyList");
            graph.groups.push(Group {
                name: g.group_name,
                arn: g.arn,
                inline_policies,
                attached_policies: attached(g.attached_managed_policies),
            });
        }
        for (i, r) in raw.roles.into_iter().enumerate() {
            let place = format!("RoleDetailList[{i}]");
            let trust_policy = r
                .assume_role_policy_document
                .as_deref()
                .and_then(|d| doc(d, format!("{place}.AssumeRolePolicyDocument")));
            let inline_policies = inline(r.role_policy_list, &mut doc, &place, "RolePolicyList");
            let last_used = r.role_last_used.unwrap_or_default();
            graph.roles.push(Role {
                name: r.role_name,
                arn: r.arn,
                path: r.path.unwrap_or_else(|| "/".into()),
                created: r.create_date,
                trust_policy,
                inline_policies,
                attached_policies: attached(r.attached_managed_policies),
                permissions_boundary: r.permissions_boundary.and_then(|b| b.permissions_boundary_arn),
                last_used: last_used.last_used_date,
                last_used_region: last_used.region,
                tags: tags(r.tags),
                instance_profiles: r.instance_profile_list.map(|list| {
                    list.into_iter().map(|p| p.instance_profile_name.unwrap_or_default()).collect()
                }),
            });
        }
        for (i, mut p) in raw.policies.into_iter().enumerate() {
            let default = p.policy_version_list.iter().position(|v| v.is_default_version);
            let other_versions = p
                .policy_version_list
                .iter_mut()
                .enumerate()
                .filter(|(v, _)| Some(*v) != default)
                .filter_map(|(v, version)| {
                    let id = version.version_id.clone().unwrap_or_else(|| format!("#{v}"));
                    version.document.take().map(|d| (id, d))
                })
                .collect();
            let document = match default {
                Some(v) => match p.policy_version_list[v].document.as_deref() {
                    Some(d) => doc(d, format!("Policies[{i}].PolicyVersionList[{v}].Document")),
                    None => None,
                },
                None => {
                    missing_default.push(InputProblem::at(
                        file,
                        &format!("Policies[{i}]"),
                        &format!("managed policy {} has no default version in PolicyVersionList", p.arn),
                    ));
                    None
                }
            };
            let name =
                p.policy_name.unwrap_or_else(|| p.arn.rsplit('/').next().unwrap_or(&p.arn).to_string());
            let default_version = p
                .default_version_id
                .or_else(|| default.and_then(|v| p.policy_version_list[v].version_id.clone()));
            graph.managed_policies.insert(
                p.arn.clone(),
                ManagedPolicy {
                    arn: p.arn,
                    name,
                    document,
                    default_version,
                    attachment_count: p.attachment_count,
                    other_versions,
                },
            );
        }
        problems.extend(missing_default);
        Ok(graph)
    }
}

fn inline(
    list: Vec<RawInline>,
    doc: &mut impl FnMut(&RawValue, String) -> Option<PolicyDocument>,
    place: &str,
    field: &str,
) -> Vec<InlinePolicy> {
    list.into_iter()
        .enumerate()
        .map(|(j, p)| InlinePolicy {
            document: doc(&p.policy_document, format!("{place}.{field}[{j}].PolicyDocument")),
            name: p.policy_name,
        })
        .collect()
}

fn attached(list: Vec<RawAttached>) -> Vec<AttachedPolicy> {
    list.into_iter()
        .map(|a| AttachedPolicy {
            name: a
                .policy_name
                .unwrap_or_else(|| a.policy_arn.rsplit('/').next().unwrap_or_default().to_string()),
            arn: a.policy_arn,
        })
        .collect()
}

fn tags(list: Vec<RawTag>) -> Vec<Tag> {
    list.into_iter().map(|t| Tag { key: t.key, value: t.value.unwrap_or_default() }).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawDetails {
    #[serde(default, rename = "UserDetailList")]
    users: Vec<RawUser>,
    #[serde(default, rename = "GroupDetailList")]
    groups: Vec<RawGroup>,
    #[serde(default, rename = "RoleDetailList")]
    roles: Vec<RawRole>,
    #[serde(default)]
    policies: Vec<RawManaged>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawUser {
    path: Option<String>,
    user_name: String,
    arn: String,
    create_date: Option<DateTime<Utc>>,
    #[serde(default)]
    user_policy_list: Vec<RawInline>,
    #[serde(default)]
    group_list: Vec<String>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
    permissions_boundary: Option<RawBoundary>,
    #[serde(default)]
    tags: Vec<RawTag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawGroup {
    group_name: String,
    arn: String,
    #[serde(default)]
    group_policy_list: Vec<RawInline>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRole {
    path: Option<String>,
    role_name: String,
    arn: String,
    create_date: Option<DateTime<Utc>>,
    assume_role_policy_document: Option<Box<RawValue>>,
    #[serde(default)]
    role_policy_list: Vec<RawInline>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
    permissions_boundary: Option<RawBoundary>,
    role_last_used: Option<RawLastUsed>,
    #[serde(default)]
    tags: Vec<RawTag>,
    instance_profile_list: Option<Vec<RawInstanceProfile>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawInstanceProfile {
    instance_profile_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawLastUsed {
    last_used_date: Option<DateTime<Utc>>,
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawInline {
    policy_name: String,
    policy_document: Box<RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAttached {
    policy_name: Option<String>,
    policy_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawBoundary {
    permissions_boundary_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTag {
    key: String,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawManaged {
    policy_name: Option<String>,
    arn: String,
    default_version_id: Option<String>,
    attachment_count: Option<u64>,
    #[serde(default)]
    policy_version_list: Vec<RawVersion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawVersion {
    document: Option<Box<RawValue>>,
    version_id: Option<String>,
    #[serde(default)]
    is_default_version: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> (IamGraph, Vec<InputProblem>) {
        let mut problems = Vec::new();
        let graph = IamGraph::from_json(json, "a.json", &mut problems).unwrap();
        (graph, problems)
    }

    #[test]
    fn only_the_default_version_is_kept() {
        let (graph, problems) = read(
            r#"{"Policies":[{"Arn":"arn:aws:iam::111122223333:policy/p","PolicyVersionList":[
                {"VersionId":"v2","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}},
                {"VersionId":"v1","IsDefaultVersion":false,"Document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}]}]}"#,
        );
        assert!(problems.is_empty());
        let policy = &graph.managed_policies["arn:aws:iam::111122223333:policy/p"];
        assert_eq!(policy.name, "p", "name falls back to the ARN's last part");
        assert_eq!(policy.default_version.as_deref(), Some("v2"));
        assert!(!policy.document.as_ref().unwrap().statements[0].matches_action("iam:createuser"));
    }

    #[test]
    fn a_bad_document_is_a_problem_with_its_place_not_a_failure() {
        let (graph, problems) = read(
            r#"{"UserDetailList":[{"UserName":"u","Arn":"arn:aws:iam::111122223333:user/u",
                "UserPolicyList":[{"PolicyName":"p","PolicyDocument":"not%20json"}]}]}"#,
        );
        assert_eq!(graph.users.len(), 1);
        assert!(graph.users[0].inline_policies[0].document.is_none());
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].position.as_deref(),
            Some("UserDetailList[0].UserPolicyList[0].PolicyDocument")
        );
    }

    #[test]
    fn a_file_of_the_wrong_shape_is_an_error_with_line_and_column() {
        let mut problems = Vec::new();
        let err = IamGraph::from_json("{\"UserDetailList\": [ {\"UserName\": 3} ]}", "a.json", &mut problems)
            .unwrap_err();
        assert_eq!(err.file, "a.json");
        assert!(err.position.as_deref().unwrap().starts_with("line 1"), "{err:?}");
    }

    #[test]
    fn role_kinds() {
        let (graph, _) = read(
            r#"{"RoleDetailList":[
              {"Path":"/aws-service-role/support.amazonaws.com/","RoleName":"AWSServiceRoleForSupport","Arn":"arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport","RoleLastUsed":{}},
              {"Path":"/aws-reserved/sso.amazonaws.com/eu-west-1/","RoleName":"AWSReservedSSO_AdministratorAccess_0123456789abcdef","Arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
               "RoleLastUsed":{"LastUsedDate":"2024-05-01T10:00:00Z","Region":"eu-west-1"}}]}"#,
        );
        assert!(graph.roles[0].is_service_linked());
        assert!(graph.roles[0].last_used.is_none());
        assert_eq!(graph.roles[1].sso_permission_set(), Some("AdministratorAccess"));
        assert!(graph.roles[1].last_used.is_some());
    }
}
