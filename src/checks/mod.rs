//! The check catalog: one file per check, each declaring its id, title, default severity,
//! references and remediation once, then a function from one account's snapshot to findings.
//!
//! Checks never call AWS and never read the clock: the instant they judge ages against is
//! `AccountContext::as_of`. Adding a check means adding a file and a line to [`CATALOG`].

mod access_analyzer_disabled;
mod access_analyzer_finding;
mod account_not_audited;
mod admin_access;
pub mod admin_holders;
pub mod compliance;
mod console_without_mfa;
mod direct_user_policy;
mod external_trust;
pub mod fix;
mod full_admin_policy;
mod multiple_active_keys;
mod oidc_trust_unscoped;
mod password_policy_weak;
mod root_access_keys;
mod root_mfa_disabled;
mod root_recent_use;
mod sso_admin_assignment;
mod sso_admin_long_session;
mod sso_assignment_to_nobody;
mod sso_assignment_without_role;
mod sso_role_without_assignment;
mod stale_access_key;
mod unused_credentials;
mod unused_role;
mod unused_user;
mod wide_trust;

#[cfg(test)]
pub(crate) mod sso_test_support;
#[cfg(test)]
pub(crate) mod test_support;

use crate::access::join::{AccountAccess, Directory};
use crate::config::{Config, Thresholds};
use crate::findings::{fingerprint, Change, Finding, ResourceType, Severity, Status};
use crate::policy::escalation::graph::Verdict;
use crate::snapshot::organization::Organization;
use crate::snapshot::AccountSnapshot;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};

/// Report sections, in the order an auditor reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    AdminPower,
    Trust,
    RootUser,
    Credentials,
    UnusedAccess,
    AccountSettings,
    Coverage,
}

impl Family {
    pub fn title(self) -> &'static str {
        match self {
            Family::AdminPower => "Admin power",
            Family::Trust => "Role trust",
            Family::RootUser => "Root user",
            Family::Credentials => "Credentials and MFA",
            Family::UnusedAccess => "Unused access",
            Family::AccountSettings => "Account settings and Access Analyzer",
            Family::Coverage => "Coverage",
        }
    }
}

/// The snapshot files a check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    AuthorizationDetails,
    CredentialReport,
    PasswordPolicy,
    AccessAnalyzer,
    /// The credential report's root row, or the account summary.
    RootFacts,
    /// Nothing: the check judges the collection itself.
    CollectionStatus,
    /// `organization/identity-center/`, collected (it is read once for the organization).
    IdentityCenter,
}

impl Input {
    pub fn present(self, account: &AccountSnapshot) -> bool {
        match self {
            Input::AuthorizationDetails => account.authorization.is_some(),
            Input::CredentialReport => account.credential_report.is_some(),
            Input::PasswordPolicy => account.password_policy.is_some(),
            Input::AccessAnalyzer => account.access_analyzer.is_some(),
            Input::RootFacts => {
                account.credential_report.as_ref().is_some_and(|r| r.root().is_some())
                    || account.account_summary.is_some()
            }
            Input::CollectionStatus => true,
            Input::IdentityCenter => account.identity_center,
        }
    }
}

pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// Guides that are not a benchmark item or a Security Hub control (those are in
    /// [`compliance`], which findings' `references` list first).
    pub references: &'static [&'static str],
    /// What to do and what to decide, naming the AWS CLI commands that do it; each finding
    /// carries its own command with its real names ([`FindingBuilder::command`]).
    pub remediation: &'static str,
    pub family: Family,
    pub needs: &'static [Input],
    pub run: fn(&AccountContext) -> Vec<Finding>,
}

impl Check {
    /// Every reference findings of the check carry: its benchmark items and Security Hub
    /// controls ([`compliance`]), then its own.
    pub fn all_references(&self) -> impl Iterator<Item = &'static str> + '_ {
        compliance::of(self.id).iter().map(|c| c.label).chain(self.references.iter().copied())
    }

    pub fn has_input(&self, account: &AccountSnapshot) -> bool {
        self.needs.iter().all(|input| input.present(account))
    }
}

/// Every check, in report order.
pub const CATALOG: &[&Check] = &[
    &admin_access::CHECK,
    &sso_admin_assignment::CHECK,
    &full_admin_policy::CHECK,
    &sso_admin_long_session::CHECK,
    &wide_trust::CHECK,
    &external_trust::CHECK,
    &oidc_trust_unscoped::CHECK,
    &root_mfa_disabled::CHECK,
    &root_access_keys::CHECK,
    &root_recent_use::CHECK,
    &console_without_mfa::CHECK,
    &stale_access_key::CHECK,
    &multiple_active_keys::CHECK,
    &direct_user_policy::CHECK,
    &unused_user::CHECK,
    &unused_role::CHECK,
    &unused_credentials::CHECK,
    &password_policy_weak::CHECK,
    &access_analyzer_disabled::CHECK,
    &access_analyzer_finding::CHECK,
    &sso_role_without_assignment::CHECK,
    &sso_assignment_without_role::CHECK,
    &sso_assignment_to_nobody::CHECK,
    &account_not_audited::CHECK,
];

/// Checks judged after every account is read: they need the organization-wide
/// escalation pass (a principal of one account may reach admin through another).
/// The Identity Center admin checks need the admin verdicts of the roles people use.
pub const AFTER_ORGANIZATION_PASS: &[&str] =
    &["admin-access", "sso-admin-assignment", "sso-admin-long-session"];

pub fn by_id(id: &str) -> Option<&'static Check> {
    CATALOG.iter().copied().find(|c| c.id == id)
}

/// A check's place in [`CATALOG`] (the report's order of checks), from a table made once.
pub fn place_of(id: &str) -> Option<usize> {
    static PLACES: std::sync::OnceLock<HashMap<&'static str, usize>> = std::sync::OnceLock::new();
    PLACES.get_or_init(|| CATALOG.iter().enumerate().map(|(i, c)| (c.id, i)).collect()).get(id).copied()
}

/// The check ids a config names (disabled, severity overrides, suppressions) must be in the
/// catalog; `text` is the TOML `config` was parsed from. The error names the first unknown
/// id with its key and line, for the caller to prefix with the config's source.
pub fn validate_config(config: &Config, text: &str) -> Result<(), String> {
    match config.named_checks(text).into_iter().find(|named| by_id(named.id).is_none()) {
        Some(named) => Err(format!(
            "line {}: `{}` names unknown check `{}`; `iam-auditor checks` lists the check ids",
            named.line, named.key, named.id
        )),
        None => Ok(()),
    }
}

/// Everything a check may look at for one account.
pub struct AccountContext<'a> {
    pub account: &'a AccountSnapshot,
    pub organization: &'a Organization,
    /// Accounts of the organization and of the snapshot: anything else is external.
    pub known_accounts: &'a BTreeSet<String>,
    pub thresholds: &'a Thresholds,
    pub as_of: DateTime<Utc>,
    /// Why the account could not be (fully) audited, if so.
    pub failure: Option<String>,
    /// Identity Center, indexed; None when it was not collected.
    pub directory: Option<&'a Directory<'a>>,
    admin_verdicts: OnceCell<Vec<Verdict>>,
    access: OnceCell<AccountAccess>,
    admin_permission_sets: Option<&'a AdminPermissionSets>,
    /// The role the audit assumes in each account (`[organization] role_name`).
    audit_role: Option<&'a str>,
}

/// Permission sets whose role is admin-equivalent in some account, found by the
/// organization-wide pass.
#[derive(Debug, Clone, Default)]
pub struct AdminPermissionSets {
    /// Where organization-wide Identity Center findings are filed: the account that runs
    /// Identity Center, else the management account, else the lowest audited account id.
    pub home_account: String,
    /// Permission set ARN → one account where its role is admin-equivalent, and how.
    pub sets: HashMap<String, AdminPermissionSet>,
}

#[derive(Debug, Clone)]
pub struct AdminPermissionSet {
    pub account_id: String,
    pub role_arn: String,
    pub admin: crate::access::roster::AdminEquivalent,
    pub how: String,
}

impl<'a> AccountContext<'a> {
    pub fn new(
        account: &'a AccountSnapshot,
        organization: &'a Organization,
        known_accounts: &'a BTreeSet<String>,
        thresholds: &'a Thresholds,
        as_of: DateTime<Utc>,
        failure: Option<String>,
    ) -> AccountContext<'a> {
        AccountContext {
            account,
            organization,
            known_accounts,
            thresholds,
            as_of,
            failure,
            directory: None,
            admin_verdicts: OnceCell::new(),
            access: OnceCell::new(),
            admin_permission_sets: None,
            audit_role: None,
        }
    }

    /// The role the audit assumes in each account, for the advice on an account it could not enter.
    pub fn with_audit_role(mut self, role_name: &'a str) -> Self {
        self.audit_role = Some(role_name);
        self
    }

    pub fn audit_role(&self) -> Option<&str> {
        self.audit_role
    }

    /// Identity Center, when it was collected.
    pub fn with_directory(mut self, directory: Option<&'a Directory<'a>>) -> Self {
        self.directory = directory;
        self
    }

    /// The account's side of the Identity Center join, made by the first pass (the late
    /// pass no longer has the account's roles).
    pub fn with_access(self, access: Option<AccountAccess>) -> Self {
        if let Some(access) = access {
            let _ = self.access.set(access);
        }
        self
    }

    pub fn with_admin_permission_sets(mut self, sets: &'a AdminPermissionSets) -> Self {
        self.admin_permission_sets = Some(sets);
        self
    }

    /// The people behind this account's Identity Center roles, and the drift; None when
    /// Identity Center was not collected.
    pub fn access(&self) -> Option<&AccountAccess> {
        if let Some(access) = self.access.get() {
            return Some(access);
        }
        let directory = self.directory?;
        let account = self.account.account_id.as_str();
        Some(self.access.get_or_init(|| directory.account(account, self.account.authorization.as_ref())))
    }

    /// Permission sets found admin-equivalent across the organization (late pass only).
    pub fn admin_permission_sets(&self) -> Option<&AdminPermissionSets> {
        self.admin_permission_sets
    }

    /// The verdicts of the organization-wide escalation pass, which this account's
    /// `admin-access` then reports (see `audit.rs`).
    pub fn with_admin_verdicts(self, verdicts: Vec<Verdict>) -> Self {
        let _ = self.admin_verdicts.set(verdicts);
        self
    }

    /// Every user and role that holds, reaches, or is capped from admin. Given by the
    /// organization-wide pass; otherwise (one account alone) searched here, once.
    pub fn admin_verdicts(&self) -> &[Verdict] {
        self.admin_verdicts.get_or_init(|| admin_holders::analyse(self.account, self.organization).verdicts)
    }

    pub fn days_since(&self, instant: DateTime<Utc>) -> i64 {
        (self.as_of - instant).num_days()
    }

    pub fn finding(
        &self,
        check: &'static Check,
        resource_type: ResourceType,
        resource_arn: &str,
        resource_name: &str,
    ) -> FindingBuilder<'_> {
        FindingBuilder {
            context: self,
            check,
            resource_type,
            resource_arn: resource_arn.to_string(),
            resource_name: resource_name.to_string(),
            key: String::new(),
            title: String::new(),
            detail: String::new(),
            evidence: serde_json::Map::new(),
            severity: None,
            remediation: None,
            command: None,
            console: None,
        }
    }

    /// A finding about the account itself (`arn:aws:iam::<id>:root`).
    pub fn account_finding(&self, check: &'static Check) -> FindingBuilder<'_> {
        let arn = self.account.account_id.root_arn();
        let name = if self.account.account_name.is_empty() {
            self.account.account_id.to_string()
        } else {
            self.account.account_name.clone()
        };
        self.finding(check, ResourceType::Account, &arn, &name)
    }
}

pub struct FindingBuilder<'a> {
    context: &'a AccountContext<'a>,
    check: &'static Check,
    resource_type: ResourceType,
    resource_arn: String,
    resource_name: String,
    key: String,
    title: String,
    detail: String,
    evidence: serde_json::Map<String, serde_json::Value>,
    severity: Option<Severity>,
    remediation: Option<String>,
    command: Option<String>,
    /// The console page, when it is not the resource's own ([`default_console_url`]).
    console: Option<Option<String>>,
}

impl FindingBuilder<'_> {
    /// Tells apart several findings of one check on one resource (e.g. `access_key_2`).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Adds a sentence to the detail.
    pub fn append_detail(mut self, more: &str) -> Self {
        if !self.detail.is_empty() && !more.is_empty() {
            self.detail.push(' ');
        }
        self.detail.push_str(more);
        self
    }

    pub fn evidence(mut self, name: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.evidence.insert(name.to_string(), value);
        self
    }

    /// A severity for this finding alone (e.g. `info` for a capped admin); config overrides
    /// of the check's severity do not replace it.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    /// What to do about this finding, when its cause calls for other advice than the check's.
    pub fn remediation(mut self, remediation: impl Into<String>) -> Self {
        self.remediation = Some(remediation.into());
        self
    }

    /// The finding's own command, with its real names (see [`fix`]).
    pub fn command(mut self, command: impl Into<String>) -> Self {
        self.command = Some(command.into());
        self
    }

    /// [`FindingBuilder::command`], when there is one.
    pub fn command_if(mut self, command: Option<String>) -> Self {
        self.command = command;
        self
    }

    /// A console page other than the resource's own (or none).
    pub fn console(mut self, url: Option<String>) -> Self {
        self.console = Some(url);
        self
    }

    pub fn build(self) -> Finding {
        let account = &self.context.account;
        let console_url = match self.console {
            Some(chosen) => chosen,
            None => default_console_url(self.resource_type, &self.resource_arn),
        };
        Finding {
            fingerprint: fingerprint(
                self.check.id,
                account.account_id.as_str(),
                &self.resource_arn,
                &self.key,
            ),
            check: self.check.id.into(),
            severity: self.severity.unwrap_or(self.check.severity),
            default_severity: self.severity.is_none(),
            lapsed_rule: None,
            account_id: account.account_id.clone(),
            account_name: account.account_name.clone(),
            resource_type: self.resource_type,
            resource_arn: self.resource_arn,
            resource_name: self.resource_name,
            title: self.title,
            detail: self.detail,
            evidence: crate::findings::Evidence::from_map(self.evidence),
            remediation: match self.remediation {
                Some(own) => own.into(),
                None => self.check.remediation.into(),
            },
            console_url,
            remediation_command: self.command,
            references: self.check.all_references().map(Into::into).collect(),
            status: Status::Open,
            suppression: None,
            first_seen: self.context.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            change: Change::New,
        }
    }
}

/// The IAM console page of the resource a finding is about: the user, role, group or managed
/// policy (an inline policy's finding names its holder), or the permission set.
fn default_console_url(resource_type: ResourceType, arn: &str) -> Option<String> {
    match resource_type {
        ResourceType::User | ResourceType::Role | ResourceType::Group | ResourceType::Policy => {
            fix::iam_arn_page(arn)
        }
        ResourceType::PermissionSet => fix::permission_set_page(arn),
        ResourceType::Account | ResourceType::AnalyzerFinding | ResourceType::Person => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_are_unique_kebab_case_and_complete() {
        let mut ids: Vec<&str> = CATALOG.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), 24);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 24, "duplicate check id");
        for check in CATALOG {
            assert!(check.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{}", check.id);
            assert!(check.remediation.contains("aws "), "{}: remediation names no AWS CLI command", check.id);
            // The names are each finding's own command's: the advice leaves no slot to fill in.
            assert_eq!(fix::placeholder(check.remediation), None, "{}: {}", check.id, check.remediation);
            for slot in ["USER", "ROLE", "KEY", "INSTANCE", "REGION", "ACCOUNT_ID", "<"] {
                assert!(!check.remediation.contains(slot), "{}: remediation holds {slot}", check.id);
            }
            assert!(!check.title.is_empty());
        }
    }

    fn validate(text: &str) -> Result<(), String> {
        validate_config(&Config::parse(text).expect("a valid config"), text)
    }

    #[test]
    fn unknown_check_ids_in_a_config_are_errors_with_the_key_and_line() {
        let err = validate("[checks]\ndisable = [\"admin-access\",\n  \"no-such-check\"]\n").unwrap_err();
        assert_eq!(
            err,
            "line 3: `checks.disable` names unknown check `no-such-check`; `iam-auditor checks` lists the check ids"
        );
        let err = validate("\n[[suppressions]]\ncheck = \"nope\"\nresource = \"*\"\nreason = \"x\"\nexpires = \"2030-01-01\"\n")
            .unwrap_err();
        assert!(
            err.contains("line 3") && err.contains("`suppressions[0].check`") && err.contains("nope"),
            "{err}"
        );
        let err = validate("[checks.severity]\n\"unused-rol\" = \"high\"\n").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("`checks.severity`") && err.contains("unused-rol"),
            "{err}"
        );
    }

    #[test]
    fn a_config_naming_only_catalog_checks_is_valid() {
        let text = "[checks]\ndisable = [\"admin-access\"]\n[checks.severity]\n\"unused-role\" = \"low\"\n\n\
                    [[suppressions]]\ncheck = \"wide-trust\"\nresource = \"*\"\nreason = \"x\"\nexpires = \"2030-01-01\"\n";
        assert_eq!(validate(text), Ok(()));
        assert_eq!(validate(""), Ok(()));
    }
}
