//! The SDK's answers turned into the JSON the AWS CLI prints, which is the snapshot's
//! on-disk format (DESIGN.md). Policy documents are URL-decoded here, once, and stored as
//! JSON objects; a document that is not JSON is kept as its decoded text, for the snapshot
//! reader to report with its position.

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde_json::{json, Map, Value};

pub fn date(value: Option<&DateTime>) -> Value {
    value.and_then(|d| d.fmt(Format::DateTime).ok()).map_or(Value::Null, Value::String)
}

fn text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, |v| Value::String(v.to_string()))
}

/// A policy document as IAM returns it: URL-encoded (RFC 3986) from the real API, raw JSON
/// from some emulators. Decoded and parsed; text that is not JSON stays text.
pub fn policy_document(raw: Option<&str>) -> Value {
    let Some(raw) = raw else { return Value::Null };
    let decoded = if raw.trim_start().starts_with('{') {
        std::borrow::Cow::Borrowed(raw)
    } else {
        percent_encoding::percent_decode_str(raw).decode_utf8_lossy()
    };
    serde_json::from_str(&decoded).unwrap_or_else(|_| Value::String(decoded.into_owned()))
}

/// Drops null members, as the AWS CLI does for absent fields.
fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_string(), v)).collect())
}

mod iam {
    pub use aws_sdk_iam::types::{
        AttachedPermissionsBoundary, AttachedPolicy, GroupDetail, ManagedPolicyDetail, PasswordPolicy,
        PolicyDetail, RoleDetail, Tag, UserDetail,
    };
}

fn inline_policies(list: &[iam::PolicyDetail]) -> Value {
    list.iter()
        .map(|p| {
            object(vec![
                ("PolicyName", text(p.policy_name())),
                ("PolicyDocument", policy_document(p.policy_document())),
            ])
        })
        .collect()
}

fn attached(list: &[iam::AttachedPolicy]) -> Value {
    list.iter()
        .map(|p| object(vec![("PolicyName", text(p.policy_name())), ("PolicyArn", text(p.policy_arn()))]))
        .collect()
}

fn boundary(value: Option<&iam::AttachedPermissionsBoundary>) -> Value {
    value.map_or(Value::Null, |b| {
        object(vec![
            ("PermissionsBoundaryType", text(b.permissions_boundary_type().map(|t| t.as_str()))),
            ("PermissionsBoundaryArn", text(b.permissions_boundary_arn())),
        ])
    })
}

fn tags(list: &[iam::Tag]) -> Value {
    list.iter().map(|t| json!({"Key": t.key(), "Value": t.value()})).collect()
}

pub fn user(u: &iam::UserDetail) -> Value {
    object(vec![
        ("Path", text(u.path())),
        ("UserName", text(u.user_name())),
        ("UserId", text(u.user_id())),
        ("Arn", text(u.arn())),
        ("CreateDate", date(u.create_date())),
        ("UserPolicyList", inline_policies(u.user_policy_list())),
        ("GroupList", json!(u.group_list())),
        ("AttachedManagedPolicies", attached(u.attached_managed_policies())),
        ("PermissionsBoundary", boundary(u.permissions_boundary())),
        ("Tags", tags(u.tags())),
    ])
}

pub fn group(g: &iam::GroupDetail) -> Value {
    object(vec![
        ("Path", text(g.path())),
        ("GroupName", text(g.group_name())),
        ("GroupId", text(g.group_id())),
        ("Arn", text(g.arn())),
        ("CreateDate", date(g.create_date())),
        ("GroupPolicyList", inline_policies(g.group_policy_list())),
        ("AttachedManagedPolicies", attached(g.attached_managed_policies())),
    ])
}

pub fn role(r: &iam::RoleDetail) -> Value {
    let last_used = r.role_last_used().map_or(Value::Null, |l| {
        object(vec![("LastUsedDate", date(l.last_used_date())), ("Region", text(l.region()))])
    });
    let profiles: Value = r
        .instance_profile_list()
        .iter()
        .map(|p| json!({"InstanceProfileName": p.instance_profile_name(), "Arn": p.arn()}))
        .collect();
    object(vec![
        ("Path", text(r.path())),
        ("RoleName", text(r.role_name())),
        ("RoleId", text(r.role_id())),
        ("Arn", text(r.arn())),
        ("CreateDate", date(r.create_date())),
        ("AssumeRolePolicyDocument", policy_document(r.assume_role_policy_document())),
        ("InstanceProfileList", profiles),
        ("RolePolicyList", inline_policies(r.role_policy_list())),
        ("AttachedManagedPolicies", attached(r.attached_managed_policies())),
        ("PermissionsBoundary", boundary(r.permissions_boundary())),
        ("Tags", tags(r.tags())),
        ("RoleLastUsed", last_used),
    ])
}

pub fn managed_policy(p: &iam::ManagedPolicyDetail) -> Value {
    let versions: Value = p
        .policy_version_list()
        .iter()
        .map(|v| {
            object(vec![
                ("Document", policy_document(v.document())),
                ("VersionId", text(v.version_id())),
                ("IsDefaultVersion", json!(v.is_default_version())),
                ("CreateDate", date(v.create_date())),
            ])
        })
        .collect();
    object(vec![
        ("PolicyName", text(p.policy_name())),
        ("PolicyId", text(p.policy_id())),
        ("Arn", text(p.arn())),
        ("Path", text(p.path())),
        ("DefaultVersionId", text(p.default_version_id())),
        ("AttachmentCount", json!(p.attachment_count())),
        ("PermissionsBoundaryUsageCount", json!(p.permissions_boundary_usage_count())),
        ("IsAttachable", json!(p.is_attachable())),
        ("Description", text(p.description())),
        ("CreateDate", date(p.create_date())),
        ("UpdateDate", date(p.update_date())),
        ("PolicyVersionList", versions),
    ])
}

/// `{"PasswordPolicy": …}`; `null` inside when the account has none.
pub fn password_policy(p: Option<&iam::PasswordPolicy>) -> Value {
    let policy = p.map_or(Value::Null, |p| {
        object(vec![
            ("MinimumPasswordLength", json!(p.minimum_password_length())),
            ("RequireSymbols", json!(p.require_symbols())),
            ("RequireNumbers", json!(p.require_numbers())),
            ("RequireUppercaseCharacters", json!(p.require_uppercase_characters())),
            ("RequireLowercaseCharacters", json!(p.require_lowercase_characters())),
            ("AllowUsersToChangePassword", json!(p.allow_users_to_change_password())),
            ("ExpirePasswords", json!(p.expire_passwords())),
            ("MaxPasswordAge", json!(p.max_password_age())),
            ("PasswordReusePrevention", json!(p.password_reuse_prevention())),
            ("HardExpiry", json!(p.hard_expiry())),
        ])
    });
    json!({ "PasswordPolicy": policy })
}

pub fn account_summary(
    map: Option<&std::collections::HashMap<aws_sdk_iam::types::SummaryKeyType, i32>>,
) -> Value {
    let summary: Map<String, Value> =
        map.into_iter().flatten().map(|(k, v)| (k.as_str().to_string(), json!(v))).collect();
    json!({ "SummaryMap": summary })
}

pub fn org_account(a: &aws_sdk_organizations::types::Account) -> Value {
    object(vec![
        ("Id", text(a.id())),
        ("Arn", text(a.arn())),
        ("Email", text(a.email())),
        ("Name", text(a.name())),
        #[allow(deprecated)]
        ("Status", text(a.status().map(|s| s.as_str()))),
        ("State", text(a.state().map(|s| s.as_str()))),
        ("JoinedMethod", text(a.joined_method().map(|m| m.as_str()))),
        ("JoinedTimestamp", date(a.joined_timestamp())),
    ])
}

pub fn analyzer(a: &aws_sdk_accessanalyzer::types::AnalyzerSummary) -> Value {
    object(vec![
        ("arn", json!(a.arn())),
        ("name", json!(a.name())),
        ("type", json!(a.r#type().as_str())),
        ("status", json!(a.status().as_str())),
        ("statusReason", a.status_reason().map_or(Value::Null, |r| json!({"code": r.code().as_str()}))),
        ("createdAt", date(Some(a.created_at()))),
        ("lastResourceAnalyzed", text(a.last_resource_analyzed())),
        ("lastResourceAnalyzedAt", date(a.last_resource_analyzed_at())),
    ])
}

pub fn analyzer_finding(f: &aws_sdk_accessanalyzer::types::FindingSummaryV2) -> Value {
    object(vec![
        ("id", json!(f.id())),
        ("resource", text(f.resource())),
        ("resourceType", json!(f.resource_type().as_str())),
        ("resourceOwnerAccount", json!(f.resource_owner_account())),
        ("status", json!(f.status().as_str())),
        ("findingType", text(f.finding_type().map(|t| t.as_str()))),
        ("createdAt", date(Some(f.created_at()))),
        ("updatedAt", date(Some(f.updated_at()))),
        ("analyzedAt", date(Some(f.analyzed_at()))),
        ("error", text(f.error())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_decoded_once() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(policy_document(Some(encoded)), json!({"Version": "2012-10-17", "Statement": []}));
        // Raw JSON (some emulators) is taken as it is, even with a literal % inside.
        assert_eq!(policy_document(Some(r#"{"Sid":"100%25"}"#)), json!({"Sid": "100%25"}));
        // A + is a plus in RFC 3986, not a space.
        assert_eq!(policy_document(Some("%7B%22a%22%3A%22x+y%22%7D")), json!({"a": "x+y"}));
        assert_eq!(policy_document(Some("not%20json")), json!("not json"));
        assert_eq!(policy_document(None), Value::Null);
    }

    #[test]
    fn dates_print_as_the_cli_reads_them() {
        let d = DateTime::from_secs(1_700_000_000);
        assert_eq!(date(Some(&d)), json!("2023-11-14T22:13:20Z"));
    }
}
