//! Fixtures for the checks' tests: an account snapshot built from literal AWS-shaped
//! JSON and credential-report rows, judged at a fixed instant.

use super::{AccountContext, Check};
use crate::config::Thresholds;
use crate::findings::Finding;
use crate::identifiers::AccountId;
use crate::snapshot::account_settings::{AccessAnalyzerRegion, AccountSummary, PasswordPolicyFile};
use crate::snapshot::authorization::IamGraph;
use crate::snapshot::credential_report::CredentialReport;
use crate::snapshot::organization::Organization;
use crate::snapshot::AccountSnapshot;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

pub const ACCOUNT: &str = "111122223333";
pub const AS_OF: &str = "2024-06-01T00:00:00Z";

pub struct Fixture {
    pub account: AccountSnapshot,
    pub organization: Organization,
    pub known_accounts: BTreeSet<String>,
    pub thresholds: Thresholds,
    pub as_of: DateTime<Utc>,
    pub failure: Option<String>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            account: AccountSnapshot::empty(AccountId::parse(ACCOUNT).unwrap(), "test".into()),
            organization: Organization::default(),
            known_accounts: [ACCOUNT.to_string()].into(),
            thresholds: Thresholds::default(),
            as_of: AS_OF.parse().unwrap(),
            failure: None,
        }
    }

    /// `account-authorization-details.json` content.
    pub fn gaad(mut self, json: &str) -> Fixture {
        let mut problems = Vec::new();
        self.account.authorization = Some(IamGraph::from_json(json, "gaad.json", &mut problems).unwrap());
        assert!(problems.iter().all(|p| p.note_only), "fixture has problems: {problems:?}");
        self
    }

    /// Credential report rows (without the header).
    pub fn credentials(mut self, rows: &[CredRow]) -> Fixture {
        let mut csv = crate::snapshot::credential_report::tests::HEADER.to_string();
        for row in rows {
            csv.push('\n');
            csv.push_str(&row.to_csv());
        }
        self.account.credential_report =
            Some(CredentialReport::from_csv(&csv, "c.csv", &mut Vec::new()).unwrap());
        self
    }

    pub fn password_policy(mut self, json: &str) -> Fixture {
        let file: PasswordPolicyFile = serde_json::from_str(json).unwrap();
        self.account.password_policy = Some(file.password_policy);
        self
    }

    pub fn summary(mut self, json: &str) -> Fixture {
        self.account.account_summary = Some(serde_json::from_str::<AccountSummary>(json).unwrap());
        self
    }

    pub fn analyzer(mut self, region: &str, json: &str) -> Fixture {
        let parsed: AccessAnalyzerRegion = serde_json::from_str(json).unwrap();
        self.account.access_analyzer.get_or_insert_with(Default::default).insert(region.to_string(), parsed);
        self
    }

    pub fn org(mut self, accounts: &str, scps: Option<&str>) -> Fixture {
        self.organization.read_accounts(accounts, "accounts.json").unwrap();
        if let Some(scps) = scps {
            let mut problems = Vec::new();
            self.organization.read_scps(scps, "scps.json", &mut problems).unwrap();
        }
        for account in &self.organization.accounts {
            self.known_accounts.insert(account.id.to_string());
        }
        self
    }

    pub fn thresholds(mut self, change: impl FnOnce(&mut Thresholds)) -> Fixture {
        change(&mut self.thresholds);
        self
    }

    /// The context a check sees for this fixture.
    pub fn context(&self) -> AccountContext<'_> {
        AccountContext::new(
            &self.account,
            &self.organization,
            &self.known_accounts,
            &self.thresholds,
            self.as_of,
            self.failure.clone(),
        )
    }

    pub fn run(&self, check: &Check) -> Vec<Finding> {
        assert!(check.has_input(&self.account), "fixture lacks the input {} needs", check.id);
        (check.run)(&self.context())
    }

    /// [`Fixture::run`] with Identity Center collected.
    pub fn run_with(&self, check: &Check, directory: &crate::access::join::Directory) -> Vec<Finding> {
        assert!(check.has_input(&self.account), "fixture lacks the input {} needs", check.id);
        (check.run)(&self.context().with_directory(Some(directory)))
    }

    /// Resource ARNs of the findings, sorted.
    pub fn arns(&self, check: &Check) -> Vec<String> {
        let mut arns: Vec<String> = self.run(check).into_iter().map(|f| f.resource_arn).collect();
        arns.sort();
        arns
    }
}

/// A name no IAM name can be, but a hand-made snapshot can hold: a quote, `$(…)`, backticks and
/// spaces. (No comma or double quote: the credential-report fixture writes names unquoted.)
pub const HOSTILE: &str = "o'brien $(id) `id`";

/// `HOSTILE` as a command carries it: one single-quoted shell word.
pub const HOSTILE_QUOTED: &str = r"'o'\''brien $(id) `id`'";

/// The finding's command: present, with no placeholder, and holding every one of `words`
/// (names as the command writes them). Returns it for further checks.
pub fn command_of<'f>(finding: &'f Finding, words: &[&str]) -> &'f str {
    let command = finding.remediation_command.as_deref().unwrap_or_else(|| panic!("no command: {finding:?}"));
    assert_eq!(super::fix::placeholder(command), None, "{command}");
    for word in words {
        assert!(command.contains(word), "{word} is not in:\n{command}");
    }
    command
}

pub fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

pub fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// One credential-report row; `None` cells become `N/A`.
#[derive(Clone)]
pub struct CredRow {
    pub user: String,
    pub created: String,
    pub password_enabled: String,
    pub password_last_used: String,
    pub mfa: bool,
    /// (active, last_rotated, last_used)
    pub keys: [(bool, String, String); 2],
}

impl CredRow {
    /// A user created long ago with no credentials at all.
    pub fn user(name: &str) -> CredRow {
        CredRow {
            user: name.into(),
            created: "2020-01-01T00:00:00+00:00".into(),
            password_enabled: "false".into(),
            password_last_used: "N/A".into(),
            mfa: false,
            keys: [(false, "N/A".into(), "N/A".into()), (false, "N/A".into(), "N/A".into())],
        }
    }

    pub fn root() -> CredRow {
        CredRow { password_enabled: "not_supported".into(), mfa: true, ..CredRow::user("<root_account>") }
    }

    pub fn created(mut self, date: &str) -> CredRow {
        self.created = date.into();
        self
    }

    /// Console password, last used at `last_used` (a date or `no_information`).
    pub fn password(mut self, last_used: &str) -> CredRow {
        self.password_enabled = "true".into();
        self.password_last_used = last_used.into();
        self
    }

    pub fn mfa(mut self) -> CredRow {
        self.mfa = true;
        self
    }

    /// Access key `number` (1 or 2), active or not, rotated and last used (`N/A` if never).
    pub fn key(mut self, number: usize, active: bool, rotated: &str, used: &str) -> CredRow {
        self.keys[number - 1] = (active, rotated.into(), used.into());
        self
    }

    pub fn to_csv(&self) -> String {
        let arn = if self.user == "<root_account>" {
            format!("arn:aws:iam::{ACCOUNT}:root")
        } else {
            user_arn(&self.user)
        };
        let changed = if self.password_enabled == "true" { self.created.as_str() } else { "N/A" };
        let key = |k: &(bool, String, String)| {
            let used = &k.2;
            let (region, service) = if used == "N/A" { ("N/A", "N/A") } else { ("us-east-1", "s3") };
            format!("{},{},{},{},{}", k.0, k.1, used, region, service)
        };
        format!(
            "{},{arn},{},{},{},{changed},N/A,{},{},{},false,N/A,false,N/A",
            self.user,
            self.created,
            self.password_enabled,
            self.password_last_used,
            self.mfa,
            key(&self.keys[0]),
            key(&self.keys[1])
        )
    }
}
