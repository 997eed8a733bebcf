//! `password-policy.json`, `account-summary.json` and `access-analyzer/<region>.json`:
//! the small per-account files, in the shapes the AWS CLI prints.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// `aws iam get-account-password-policy`; `{"PasswordPolicy": null}` when the account has none.
#[derive(Debug, Clone, Deserialize)]
pub struct PasswordPolicyFile {
    #[serde(rename = "PasswordPolicy")]
    pub password_policy: Option<PasswordPolicy>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    pub minimum_password_length: Option<u32>,
    #[serde(default)]
    pub require_symbols: bool,
    #[serde(default)]
    pub require_numbers: bool,
    #[serde(default)]
    pub require_uppercase_characters: bool,
    #[serde(default)]
    pub require_lowercase_characters: bool,
    #[serde(default)]
    pub allow_users_to_change_password: bool,
    #[serde(default)]
    pub expire_passwords: bool,
    pub max_password_age: Option<u32>,
    pub password_reuse_prevention: Option<u32>,
    pub hard_expiry: Option<bool>,
}

/// `aws iam get-account-summary`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountSummary {
    #[serde(rename = "SummaryMap", default)]
    pub summary_map: BTreeMap<String, i64>,
}

impl AccountSummary {
    /// `AccountMFAEnabled`: 1 when the root user has an MFA device.
    pub fn root_mfa_enabled(&self) -> Option<bool> {
        self.summary_map.get("AccountMFAEnabled").map(|v| *v == 1)
    }

    /// `AccountPasswordPresent`: 0 when the root user has no password (e.g. removed under
    /// centralized root access).
    pub fn root_password_present(&self) -> Option<bool> {
        self.summary_map.get("AccountPasswordPresent").map(|v| *v == 1)
    }

    /// `AccountAccessKeysPresent`: 1 when the root user has an access key.
    pub fn root_access_keys_present(&self) -> Option<bool> {
        self.summary_map.get("AccountAccessKeysPresent").map(|v| *v == 1)
    }
}

/// `access-analyzer/<region>.json`: ListAnalyzers' analyzers and ListFindingsV2's findings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccessAnalyzerRegion {
    #[serde(default)]
    pub analyzers: Vec<Analyzer>,
    #[serde(default)]
    pub findings: Vec<AnalyzerFinding>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analyzer {
    pub arn: String,
    pub name: String,
    /// ACCOUNT | ORGANIZATION | ACCOUNT_UNUSED_ACCESS | ORGANIZATION_UNUSED_ACCESS | …
    #[serde(rename = "type")]
    pub analyzer_type: String,
    /// ACTIVE | CREATING | DISABLED | FAILED
    pub status: String,
    pub status_reason: Option<serde_json::Value>,
}

impl Analyzer {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// A FindingSummaryV2 (ListFindingsV2), with the optional fields ListFindings (v1) adds.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzerFinding {
    pub id: String,
    pub resource: Option<String>,
    pub resource_type: Option<String>,
    pub resource_owner_account: Option<String>,
    /// ACTIVE | ARCHIVED | RESOLVED
    pub status: String,
    /// ExternalAccess | UnusedIAMRole | UnusedIAMUserAccessKey | UnusedIAMUserPassword | UnusedPermission | InternalAccess
    pub finding_type: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub analyzed_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub is_public: Option<bool>,
    pub principal: Option<BTreeMap<String, String>>,
    pub action: Option<Vec<String>>,
    pub condition: Option<BTreeMap<String, String>>,
    /// The analyzer that reported it (the collector adds it; the AWS shapes leave it out).
    pub analyzer_arn: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_password_policy_is_null() {
        let file: PasswordPolicyFile = serde_json::from_str(r#"{"PasswordPolicy": null}"#).unwrap();
        assert!(file.password_policy.is_none());
        let file: PasswordPolicyFile = serde_json::from_str(
            r#"{"PasswordPolicy":{"MinimumPasswordLength":8,"RequireSymbols":true,"PasswordReusePrevention":5,"ExpirePasswords":false}}"#,
        )
        .unwrap();
        let policy = file.password_policy.unwrap();
        assert_eq!(policy.minimum_password_length, Some(8));
        assert!(policy.require_symbols && !policy.require_numbers);
    }

    #[test]
    fn account_summary_root_facts() {
        let summary: AccountSummary = serde_json::from_str(
            r#"{"SummaryMap":{"AccountMFAEnabled":0,"AccountAccessKeysPresent":1,"Users":3}}"#,
        )
        .unwrap();
        assert_eq!(summary.root_mfa_enabled(), Some(false));
        assert_eq!(summary.root_access_keys_present(), Some(true));
    }
}
