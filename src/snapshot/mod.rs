//! The on-disk snapshot (layout in DESIGN.md) read into typed form, one account at a time.
//!
//! A missing file means "not collected" (an `Option` that is `None`), never "empty". A file
//! that cannot be read becomes an [`InputProblem`] that names the file, the position and the
//! problem; the account's other files are still read, and other accounts are not touched.
//! This module judges nothing: that is `checks/`.

pub mod account_settings;
pub mod authorization;
pub mod credential_report;
pub mod identity_center;
pub mod organization;

use crate::identifiers::AccountId;
use account_settings::{AccessAnalyzerRegion, AccountSummary, PasswordPolicy, PasswordPolicyFile};
use authorization::IamGraph;
use chrono::{DateTime, Utc};
use credential_report::CredentialReport;
use organization::Organization;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Something wrong with one input file, located as precisely as the format allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    /// Relative to the snapshot folder, e.g. `accounts/111122223333/credential-report.csv`.
    pub file: String,
    pub position: Option<String>,
    pub problem: String,
    /// A note is worth knowing but did not stop anything from being read.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub note_only: bool,
}

impl InputProblem {
    pub fn at(file: &str, position: &str, problem: &str) -> InputProblem {
        InputProblem {
            file: file.to_string(),
            position: Some(position.to_string()),
            problem: problem.to_string(),
            note_only: false,
        }
    }

    pub fn note(file: &str, position: &str, problem: &str) -> InputProblem {
        InputProblem { note_only: true, ..InputProblem::at(file, position, problem) }
    }

    pub fn whole_file(file: &str, problem: &str) -> InputProblem {
        InputProblem {
            file: file.to_string(),
            position: None,
            problem: problem.to_string(),
            note_only: false,
        }
    }

    pub fn json(file: &str, error: &serde_json::Error) -> InputProblem {
        let problem = error.to_string();
        // serde_json appends " at line L column C"; the position carries that already.
        let problem = problem.split(" at line ").next().unwrap_or(&problem);
        let kind = if error.is_eof() { "truncated JSON: " } else { "" };
        InputProblem::at(
            file,
            &format!("line {}, column {}", error.line(), error.column()),
            &format!("{kind}{problem}"),
        )
    }
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.position {
            Some(position) => write!(f, "{}: {}: {}", self.file, position, self.problem),
            None => write!(f, "{}: {}", self.file, self.problem),
        }
    }
}

/// `error.json`: the account could not be collected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CollectionError {
    pub stage: String,
    pub code: String,
    pub message: String,
    /// What to do about it.
    #[serde(default)]
    pub hint: Option<String>,
    /// How many attempts the call made, and what the failed ones met.
    #[serde(default)]
    pub attempts: Option<u32>,
    #[serde(default)]
    pub faults: Vec<String>,
}

impl fmt::Display for CollectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}: {}", self.stage, self.code, self.message)
    }
}

/// `manifest.json`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Manifest {
    pub schema: Option<String>,
    pub tool_version: Option<String>,
    pub collected_at: Option<DateTime<Utc>>,
    /// The identity that collected (the caller's ARN); absent from hand-made snapshots.
    pub caller: Option<String>,
    pub organization_id: Option<String>,
    #[serde(default)]
    pub accounts: Vec<ManifestAccount>,
    /// What the collection wants the reader to know (e.g. "audited the caller's account only").
    #[serde(default)]
    pub notes: Vec<String>,
    /// AWS calls of the collection that made this snapshot, by operation.
    #[serde(default)]
    pub api_calls: BTreeMap<String, u64>,
    #[serde(default)]
    pub api_retries: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestAccount {
    pub account_id: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub api_calls: Option<BTreeMap<String, u64>>,
}

/// What the snapshot says an account is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedStatus {
    /// Files expected under accounts/<id>/.
    Collected,
    /// Not meant to be audited (suspended, or excluded at collection); the reason.
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct AccountEntry {
    pub id: AccountId,
    pub name: String,
    pub planned: PlannedStatus,
    /// The collection's AWS calls for this account, when the manifest has them.
    pub api_calls: Option<BTreeMap<String, u64>>,
}

/// An opened snapshot folder: the organization and the list of accounts, nothing per account yet.
#[derive(Debug)]
pub struct Snapshot {
    pub root: PathBuf,
    pub manifest: Option<Manifest>,
    /// sha256 of manifest.json's bytes (hex), when the file was read.
    pub manifest_sha256: Option<String>,
    pub organization: Organization,
    pub accounts: Vec<AccountEntry>,
    /// Problems with snapshot-wide files (manifest, organization/); they cost the run the
    /// SCP or membership facts, never an account.
    pub problems: Vec<InputProblem>,
    /// `organization/identity-center/`; None when the folder is absent (not collected).
    pub identity_center: Option<identity_center::IdentityCenter>,
}

/// Why a snapshot could not be opened at all.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot folder {0} does not exist: pass --snapshot the folder that holds manifest.json and accounts/")]
    Missing(PathBuf),
    #[error("{0} is not a snapshot: it has neither manifest.json nor an accounts/ folder (see the snapshot layout in the README)")]
    NotASnapshot(PathBuf),
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl Snapshot {
    pub fn open(root: &Path) -> Result<Snapshot, SnapshotError> {
        if !root.is_dir() {
            return Err(SnapshotError::Missing(root.to_path_buf()));
        }
        let accounts_dir = root.join("accounts");
        let manifest_path = root.join("manifest.json");
        if !manifest_path.is_file() && !accounts_dir.is_dir() {
            return Err(SnapshotError::NotASnapshot(root.to_path_buf()));
        }
        let mut problems = Vec::new();
        let manifest_text = read_optional(root, "manifest.json", &mut problems);
        let manifest_sha256 = manifest_text.as_ref().map(|text| {
            use sha2::{Digest, Sha256};
            Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>()
        });
        let manifest = manifest_text.and_then(|text| {
            serde_json::from_str::<Manifest>(&text)
                .map_err(|e| problems.push(InputProblem::json("manifest.json", &e)))
                .ok()
        });
        let mut organization = Organization::default();
        if let Some(text) = read_optional(root, "organization/accounts.json", &mut problems) {
            if let Err(p) = organization.read_accounts(&text, "organization/accounts.json") {
                problems.push(p);
            }
        }
        if let Some(text) = read_optional(root, "organization/scps.json", &mut problems) {
            if let Err(p) = organization.read_scps(&text, "organization/scps.json", &mut problems) {
                organization.scps_lost =
                    Some(format!("organization/scps.json is unreadable ({})", p.problem));
                problems.push(p);
            }
        }
        if let Some(text) = read_optional(root, organization::SCPS_ERROR, &mut problems) {
            let why = match serde_json::from_str::<CollectionError>(&text) {
                Ok(error) => error.to_string(),
                Err(e) => format!("the error could not be read ({e})"),
            };
            let lost = format!("the service control policies were not collected: {why}");
            problems.push(InputProblem::whole_file(
                organization::SCPS_ERROR,
                &format!(
                    "{lost}. Every verdict an SCP would cap is unknown: admin verdicts in the member \
                     accounts assume no SCP limits them"
                ),
            ));
            organization.scps_lost = Some(lost);
        }
        if organization.id.is_none() {
            organization.id = manifest.as_ref().and_then(|m| m.organization_id.clone());
        }

        let mut accounts: BTreeMap<AccountId, AccountEntry> = BTreeMap::new();
        let mut add = |id: AccountId, name: Option<String>, planned: Option<PlannedStatus>| {
            let entry = accounts.entry(id.clone()).or_insert_with(|| AccountEntry {
                id,
                name: String::new(),
                planned: PlannedStatus::Collected,
                api_calls: None,
            });
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                entry.name = name;
            }
            if let Some(planned) = planned {
                entry.planned = planned;
            }
        };
        for account in &organization.accounts {
            let planned = (account.status != "ACTIVE").then(|| {
                PlannedStatus::Skipped(format!("account is {} in the organization", account.status))
            });
            add(account.id.clone(), Some(account.name.clone()), planned);
        }
        for (i, account) in manifest.iter().flat_map(|m| m.accounts.iter()).enumerate() {
            let Some(id) = AccountId::parse(&account.account_id) else {
                problems.push(InputProblem::at(
                    "manifest.json",
                    &format!("accounts[{i}].account_id"),
                    &format!("`{}` is not a 12-digit account id; entry ignored", account.account_id),
                ));
                continue;
            };
            let planned = match account.status.as_deref() {
                Some("skipped") => Some(PlannedStatus::Skipped(
                    account.reason.clone().unwrap_or_else(|| "skipped at collection".into()),
                )),
                _ => None,
            };
            add(id, account.name.clone(), planned);
        }
        if accounts_dir.is_dir() {
            let entries = std::fs::read_dir(&accounts_dir)
                .map_err(|source| SnapshotError::Io { path: accounts_dir.clone(), source })?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                match AccountId::parse(&name) {
                    Some(id) if entry.path().is_dir() => add(id, None, None),
                    _ => problems.push(InputProblem::whole_file(
                        &format!("accounts/{name}"),
                        "not a 12-digit account folder; ignored",
                    )),
                }
            }
        }
        for account in manifest.iter().flat_map(|m| m.accounts.iter()) {
            let entry = AccountId::parse(&account.account_id).and_then(|id| accounts.get_mut(&id));
            if let (Some(entry), Some(calls)) = (entry, &account.api_calls) {
                entry.api_calls = Some(calls.clone());
            }
        }
        for (i, note) in manifest.iter().flat_map(|m| m.notes.iter()).enumerate() {
            problems.push(InputProblem::note("manifest.json", &format!("notes[{i}]"), note));
        }
        let identity_center = identity_center::IdentityCenter::read(root, &mut problems);
        Ok(Snapshot {
            root: root.to_path_buf(),
            manifest,
            manifest_sha256,
            organization,
            accounts: accounts.into_values().collect(),
            problems,
            identity_center,
        })
    }

    pub fn collected_at(&self) -> Option<DateTime<Utc>> {
        self.manifest.as_ref().and_then(|m| m.collected_at)
    }

    /// Reads every file of one account. Never fails: what cannot be read is a problem on the result.
    pub fn load_account(&self, entry: &AccountEntry) -> AccountSnapshot {
        let id = entry.id.as_str();
        let dir = format!("accounts/{id}");
        let mut problems = Vec::new();
        let mut snapshot = AccountSnapshot::empty(entry.id.clone(), entry.name.clone());
        snapshot.identity_center = self
            .identity_center
            .as_ref()
            .is_some_and(|ic| matches!(ic.coverage(), identity_center::Coverage::Collected { .. }));
        if !self.root.join(&dir).is_dir() {
            snapshot.missing_folder = true;
            return snapshot;
        }
        let file = |name: &str| format!("{dir}/{name}");
        if let Some(lost) = &self.organization.scps_lost {
            if self.organization.management_account.as_ref() != Some(&entry.id) {
                problems.push(InputProblem {
                    note_only: true,
                    ..InputProblem::whole_file(
                        "organization/scps.json",
                        &format!("{lost}: the admin verdicts here assume no SCP limits them"),
                    )
                });
            }
        }

        if let Some(text) = read_optional(&self.root, &file("error.json"), &mut problems) {
            match serde_json::from_str::<CollectionError>(&text) {
                Ok(error) => snapshot.collection_error = Some(error),
                Err(e) => problems.push(InputProblem::json(&file("error.json"), &e)),
            }
        }
        let name = file("account-authorization-details.json");
        if let Some(text) = read_optional(&self.root, &name, &mut problems) {
            match IamGraph::from_json(&text, &name, &mut problems) {
                Ok(graph) => snapshot.authorization = Some(graph),
                Err(p) => problems.push(p),
            }
        }
        let name = file("credential-report.csv");
        if let Some(text) = read_optional(&self.root, &name, &mut problems) {
            match CredentialReport::from_csv(&text, &name, &mut problems) {
                Ok(report) => snapshot.credential_report = Some(report),
                Err(p) => problems.push(p),
            }
        }
        let name = file("password-policy.json");
        if let Some(text) = read_optional(&self.root, &name, &mut problems) {
            match serde_json::from_str::<PasswordPolicyFile>(&text) {
                Ok(f) => snapshot.password_policy = Some(f.password_policy),
                Err(e) => problems.push(InputProblem::json(&name, &e)),
            }
        }
        let name = file("account-summary.json");
        if let Some(text) = read_optional(&self.root, &name, &mut problems) {
            match serde_json::from_str::<AccountSummary>(&text) {
                Ok(s) => snapshot.account_summary = Some(s),
                Err(e) => problems.push(InputProblem::json(&name, &e)),
            }
        }
        let analyzer_dir = self.root.join(file("access-analyzer"));
        if analyzer_dir.is_dir() {
            let mut regions = BTreeMap::new();
            let mut names: Vec<String> = std::fs::read_dir(&analyzer_dir)
                .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect())
                .unwrap_or_default();
            names.sort();
            for region_file in names {
                let Some(region) = region_file.strip_suffix(".json") else { continue };
                let name = file(&format!("access-analyzer/{region_file}"));
                if let Some(text) = read_optional(&self.root, &name, &mut problems) {
                    match serde_json::from_str::<AccessAnalyzerRegion>(&text) {
                        Ok(r) => {
                            regions.insert(region.to_string(), r);
                        }
                        Err(e) => problems.push(InputProblem::json(&name, &e)),
                    }
                }
            }
            snapshot.access_analyzer = Some(regions);
        }
        snapshot.problems = problems;
        snapshot
    }
}

/// Everything collected for one account. `None` means the file was not collected or could not be read.
#[derive(Debug, Clone)]
pub struct AccountSnapshot {
    pub account_id: AccountId,
    pub account_name: String,
    pub authorization: Option<IamGraph>,
    pub credential_report: Option<CredentialReport>,
    /// Some(None): collected, and the account has no password policy.
    pub password_policy: Option<Option<PasswordPolicy>>,
    pub account_summary: Option<AccountSummary>,
    /// Region → analyzers and findings; None when access-analyzer/ was not collected.
    pub access_analyzer: Option<BTreeMap<String, AccessAnalyzerRegion>>,
    pub collection_error: Option<CollectionError>,
    pub missing_folder: bool,
    pub problems: Vec<InputProblem>,
    /// Identity Center was collected for the organization (its files are read once, by
    /// [`Snapshot::open`]; the Identity Center checks need them).
    pub identity_center: bool,
}

impl AccountSnapshot {
    pub fn empty(account_id: AccountId, account_name: String) -> AccountSnapshot {
        AccountSnapshot {
            account_id,
            account_name,
            authorization: None,
            credential_report: None,
            password_policy: None,
            account_summary: None,
            access_analyzer: None,
            collection_error: None,
            missing_folder: false,
            problems: Vec::new(),
            identity_center: false,
        }
    }

    /// Problems that lost data (not notes).
    pub fn errors(&self) -> impl Iterator<Item = &InputProblem> {
        self.problems.iter().filter(|p| !p.note_only)
    }
}

/// Reads `relative` under `root`; None if it does not exist (not collected), a problem if unreadable.
fn read_optional(root: &Path, relative: &str, problems: &mut Vec<InputProblem>) -> Option<String> {
    let path = root.join(relative);
    match std::fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                problems.push(InputProblem::whole_file(
                    relative,
                    &format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
                ));
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            problems.push(InputProblem::whole_file(relative, &format!("cannot read: {e}")));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_hashed_as_read_and_an_older_one_without_a_caller_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let old = br#"{"schema": "iam-auditor/snapshot/v1", "collected_at": "2024-06-01T00:00:00Z", "organization_id": "o-abc"}"#;
        std::fs::write(dir.path().join("manifest.json"), old).unwrap();
        let snapshot = Snapshot::open(dir.path()).unwrap();
        let manifest = snapshot.manifest.as_ref().expect("read");
        assert_eq!(manifest.caller, None, "not recorded, not an error");
        assert_eq!(snapshot.organization.id.as_deref(), Some("o-abc"));
        use sha2::{Digest, Sha256};
        let expected: String = Sha256::digest(old).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(snapshot.manifest_sha256.as_deref(), Some(expected.as_str()));

        let with_caller = br#"{"collected_at": "2024-06-01T00:00:00Z", "caller": "arn:aws:sts::111122223333:assumed-role/a/b"}"#;
        std::fs::write(dir.path().join("manifest.json"), with_caller).unwrap();
        let snapshot = Snapshot::open(dir.path()).unwrap();
        assert_eq!(
            snapshot.manifest.and_then(|m| m.caller).as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/a/b")
        );
        assert_ne!(
            snapshot.manifest_sha256.as_deref(),
            Some(expected.as_str()),
            "another file, another hash"
        );

        let without = tempfile::tempdir().unwrap();
        std::fs::create_dir(without.path().join("accounts")).unwrap();
        assert_eq!(Snapshot::open(without.path()).unwrap().manifest_sha256, None);
    }
}
