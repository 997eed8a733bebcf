//! Fixtures for the integration tests: small snapshots written file by file into temporary
//! folders (the layout of DESIGN.md), and a runner that drives the real `iam-auditor` binary
//! and reads back what it wrote. Not a model of AWS: just enough IAM for each check to fire once.
//!
//! Every fixture account holds the same principals, so a test can say exactly which findings
//! a fully audited account has ([`expected_findings`]) and check that damage elsewhere took
//! nothing away from it.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

pub mod emulator;
pub mod smtp;

use assert_cmd::Command;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The instant every run judges ages against.
pub const AS_OF: &str = "2024-06-01T00:00:00Z";
/// The management account.
pub const ACCOUNT_A: &str = "111111111111";
/// A member account.
pub const ACCOUNT_B: &str = "222222222222";
/// Trusted by `vendor-role`; in no organization.
pub const OUTSIDE_ACCOUNT: &str = "999999999999";
pub const ORG_ID: &str = "o-abcdefghij";

pub const CREDENTIAL_REPORT_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,\
password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,\
access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,\
access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,\
access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// Every check id of DESIGN.md's catalog.
pub const CHECK_IDS: [&str; 24] = [
    "admin-access",
    "full-admin-policy",
    "wide-trust",
    "external-trust",
    "oidc-trust-unscoped",
    "unused-user",
    "unused-role",
    "unused-credentials",
    "stale-access-key",
    "multiple-active-keys",
    "console-without-mfa",
    "root-mfa-disabled",
    "root-access-keys",
    "root-recent-use",
    "password-policy-weak",
    "direct-user-policy",
    "access-analyzer-disabled",
    "access-analyzer-finding",
    "account-not-audited",
    "sso-admin-assignment",
    "sso-admin-long-session",
    "sso-role-without-assignment",
    "sso-assignment-without-role",
    "sso-assignment-to-nobody",
];

/// The checks that need `organization/identity-center/`, in catalog order: a snapshot
/// without it lists them under every account's `checks_without_input`.
pub const IDENTITY_CENTER_CHECKS: [&str; 5] = [
    "sso-admin-assignment",
    "sso-admin-long-session",
    "sso-role-without-assignment",
    "sso-assignment-without-role",
    "sso-assignment-to-nobody",
];

/// A snapshot folder being built; removed when dropped.
pub struct SnapshotDir {
    dir: TempDir,
}

impl SnapshotDir {
    pub fn empty() -> SnapshotDir {
        SnapshotDir { dir: tempfile::tempdir().expect("temporary folder") }
    }

    /// Management account A and member account B, both complete, both ACTIVE.
    pub fn two_accounts() -> SnapshotDir {
        SnapshotDir::with_accounts(&[
            (ACCOUNT_A, "management", "ACTIVE"),
            (ACCOUNT_B, "prod-payments", "ACTIVE"),
        ])
    }

    /// `accounts` (id, name, organization status) in organization/accounts.json; every ACTIVE
    /// one is also in the manifest and gets a complete accounts/<id>/ folder.
    pub fn with_accounts(accounts: &[(&str, &str, &str)]) -> SnapshotDir {
        let snapshot = SnapshotDir::empty();
        snapshot.write_json("organization/accounts.json", &organization_accounts(accounts));
        snapshot.write_json(
            "organization/scps.json",
            &json!({"OrganizationId": ORG_ID, "RootId": "r-ab12", "Policies": []}),
        );
        let listed: Vec<Value> = accounts
            .iter()
            .filter(|(_, _, status)| *status == "ACTIVE")
            .map(|(id, name, _)| json!({"account_id": id, "name": name, "status": "audited"}))
            .collect();
        snapshot.write_json(
            "manifest.json",
            &json!({"schema": "iam-auditor/snapshot/v1", "tool_version": "tests", "collected_at": AS_OF,
                    "organization_id": ORG_ID, "accounts": listed}),
        );
        for (id, _, status) in accounts {
            if *status == "ACTIVE" {
                snapshot.write_account(id);
            }
        }
        snapshot
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes every file of a fully collected account.
    pub fn write_account(&self, account: &str) {
        self.write_json(&gaad_path(account), &authorization_details(account));
        self.write(&credential_report_path(account), credential_report(&standard_users(account)));
        self.write_json(
            &format!("accounts/{account}/password-policy.json"),
            &json!({"PasswordPolicy": null}),
        );
        self.write_json(
            &format!("accounts/{account}/account-summary.json"),
            &json!({"SummaryMap": {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0, "Users": 3, "Roles": 3}}),
        );
        self.write_json(
            &format!("accounts/{account}/access-analyzer/us-east-1.json"),
            &json!({"analyzers": [], "findings": []}),
        );
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("a file inside the snapshot")).expect("create folder");
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    pub fn write_json(&self, relative: &str, value: &Value) {
        self.write(relative, serde_json::to_vec_pretty(value).expect("serialisable"));
    }

    pub fn read(&self, relative: &str) -> Vec<u8> {
        let path = self.path().join(relative);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn read_json(&self, relative: &str) -> Value {
        serde_json::from_slice(&self.read(relative)).expect("fixture file is JSON")
    }

    pub fn remove(&self, relative: &str) {
        let path = self.path().join(relative);
        if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) }
            .unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    /// Every file under the snapshot, relative, sorted.
    pub fn files(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("readable folder").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, root, found);
                } else {
                    found.push(path.strip_prefix(root).expect("inside").to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let mut found = Vec::new();
        walk(self.path(), self.path(), &mut found);
        found.sort();
        found
    }
}

pub fn gaad_path(account: &str) -> String {
    format!("accounts/{account}/account-authorization-details.json")
}

pub fn credential_report_path(account: &str) -> String {
    format!("accounts/{account}/credential-report.csv")
}

pub fn arn(account: &str, kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}/{name}")
}

pub fn root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// `aws organizations list-accounts`; the first account is the management account.
pub fn organization_accounts(accounts: &[(&str, &str, &str)]) -> Value {
    let management = accounts.first().map_or(ACCOUNT_A, |a| a.0);
    let listed: Vec<Value> = accounts
        .iter()
        .map(|(id, name, status)| {
            json!({"Id": id, "Arn": format!("arn:aws:organizations::{management}:account/{ORG_ID}/{id}"),
                   "Email": format!("aws+{id}@example.com"), "Name": name, "Status": status,
                   "JoinedMethod": "CREATED", "JoinedTimestamp": "2019-01-01T00:00:00.000000+00:00"})
        })
        .collect();
    json!({ "Accounts": listed })
}

fn allow_all() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

fn trust(principal: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
}

pub fn user(account: &str, name: &str) -> Value {
    json!({"Path": "/", "UserName": name, "UserId": format!("AIDA{}", name.len()), "Arn": arn(account, "user", name),
           "CreateDate": "2020-01-01T00:00:00+00:00", "UserPolicyList": [], "GroupList": [],
           "AttachedManagedPolicies": []})
}

fn role(account: &str, name: &str, trust_policy: Value, last_used: &str) -> Value {
    json!({"Path": "/", "RoleName": name, "RoleId": format!("AROA{}", name.len()), "Arn": arn(account, "role", name),
           "CreateDate": "2020-01-01T00:00:00+00:00", "AssumeRolePolicyDocument": trust_policy,
           "InstanceProfileList": [], "RolePolicyList": [], "AttachedManagedPolicies": [],
           "RoleLastUsed": {"LastUsedDate": last_used, "Region": "us-east-1"}})
}

/// The IAM graph every fixture account has:
/// - users: `alice` (AdministratorAccess attached), `bob` (inline `AllowAll` */*), `carol`
///   (only the `readers` group, which reads logs);
/// - roles: `open-role` (trusts `{"AWS": "*"}` unconditioned), `old-role` (EC2, last used
///   2023-01-01), `vendor-role` (trusts [`OUTSIDE_ACCOUNT`] without an external id).
pub fn authorization_details(account: &str) -> Value {
    let mut alice = user(account, "alice");
    alice["GroupList"] = json!(["readers"]);
    alice["AttachedManagedPolicies"] = json!([{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]);
    let mut bob = user(account, "bob");
    bob["UserPolicyList"] = json!([{"PolicyName": "AllowAll", "PolicyDocument": allow_all()}]);
    let mut carol = user(account, "carol");
    carol["GroupList"] = json!(["readers"]);
    let readers = json!({"Path": "/", "GroupName": "readers", "GroupId": "AGPAREADERS", "Arn": arn(account, "group", "readers"),
        "CreateDate": "2020-01-01T00:00:00+00:00", "AttachedManagedPolicies": [],
        "GroupPolicyList": [{"PolicyName": "read-logs", "PolicyDocument": {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"], "Resource": "*"}]}}]});
    let recently = "2024-05-30T00:00:00+00:00";
    json!({
        "UserDetailList": [alice, bob, carol],
        "GroupDetailList": [readers],
        "RoleDetailList": [
            role(account, "open-role", trust(json!({"AWS": "*"})), recently),
            role(account, "old-role", trust(json!({"Service": "ec2.amazonaws.com"})), "2023-01-01T00:00:00+00:00"),
            role(account, "vendor-role", trust(json!({"AWS": root_arn(OUTSIDE_ACCOUNT)})), recently),
        ],
        "Policies": [{"PolicyName": "AdministratorAccess", "PolicyId": "ANPAIWMBCKSKIEE64ZLYK",
            "Arn": "arn:aws:iam::aws:policy/AdministratorAccess", "Path": "/", "DefaultVersionId": "v1",
            "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
            "CreateDate": "2015-02-06T18:39:46+00:00", "UpdateDate": "2015-02-06T18:39:46+00:00",
            "PolicyVersionList": [{"Document": allow_all(), "VersionId": "v1", "IsDefaultVersion": true,
                                   "CreateDate": "2015-02-06T18:39:46+00:00"}]}]
    })
}

/// One credential-report row: (user name, cells after `arn`) for [`credential_report`].
pub type ReportRow = (String, String);

/// The report rows of the fixture users: root without MFA; `alice` signs in without MFA;
/// `bob`'s only key was last rotated 2023-01-01; `carol` has no credential and is old.
pub fn standard_users(account: &str) -> Vec<ReportRow> {
    let none = "false,N/A,N/A,N/A,N/A";
    let certs = "false,N/A,false,N/A";
    vec![
        (
            "<root_account>".into(),
            format!("2019-01-01T00:00:00+00:00,not_supported,2024-01-01T00:00:00+00:00,not_supported,not_supported,false,{none},{none},{certs}"),
        ),
        (
            "alice".into(),
            format!("2020-01-01T00:00:00+00:00,true,2024-05-30T00:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,false,{none},{none},{certs}"),
        ),
        (
            "bob".into(),
            format!("2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-01-01T00:00:00+00:00,2024-05-30T00:00:00+00:00,us-east-1,s3,{none},{certs}"),
        ),
        ("carol".into(), format!("2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,{none},{none},{certs}")),
    ]
    .into_iter()
    .map(|(user, rest): (String, String)| {
        let arn = if user == "<root_account>" { root_arn(account) } else { arn(account, "user", &user) };
        (user, format!("{arn},{rest}"))
    })
    .collect()
}

/// `credential-report.csv` with the header AWS writes; a user name needing quotes gets them.
pub fn credential_report(rows: &[ReportRow]) -> String {
    let mut text = format!("{CREDENTIAL_REPORT_HEADER}\n");
    for (user, rest) in rows {
        let user = if user.contains([',', '"']) {
            format!("\"{}\"", user.replace('"', "\"\""))
        } else {
            user.clone()
        };
        text.push_str(&format!("{user},{rest}\n"));
    }
    text
}

/// (check, resource ARN) of every finding a fully audited fixture account has.
pub fn expected_findings(account: &str) -> BTreeSet<(String, String)> {
    let user = |name: &str| arn(account, "user", name);
    let role = |name: &str| arn(account, "role", name);
    let root = root_arn(account);
    [
        ("admin-access", user("alice")),
        ("admin-access", user("bob")),
        ("full-admin-policy", user("bob")),
        ("direct-user-policy", user("alice")),
        ("direct-user-policy", user("bob")),
        ("wide-trust", role("open-role")),
        ("external-trust", role("vendor-role")),
        ("unused-role", role("old-role")),
        ("root-mfa-disabled", root.clone()),
        ("console-without-mfa", user("alice")),
        ("stale-access-key", user("bob")),
        ("unused-user", user("carol")),
        ("password-policy-weak", root.clone()),
        ("access-analyzer-disabled", root),
    ]
    .into_iter()
    .map(|(check, arn)| (check.to_string(), arn))
    .collect()
}

/// The findings of [`expected_findings`] that need only the credential report (and, for the
/// other account-level ones, the small files): what survives a lost authorization-details file.
pub fn expected_without_authorization_details(account: &str) -> BTreeSet<(String, String)> {
    let needs_graph = [
        "admin-access",
        "full-admin-policy",
        "direct-user-policy",
        "wide-trust",
        "external-trust",
        "unused-role",
    ];
    expected_findings(account)
        .into_iter()
        .filter(|(check, _)| !needs_graph.contains(&check.as_str()))
        .collect()
}

/// The binary, with no configuration leaking in from the environment.
pub fn iam_auditor() -> Command {
    let mut command = Command::cargo_bin("iam-auditor").expect("the iam-auditor binary is built");
    for name in [
        "IAM_AUDITOR_CONFIG",
        "IAM_AUDITOR_CONFIG_TOML",
        "IAM_AUDITOR_SNAPSHOT",
        "IAM_AUDITOR_OUT",
        "IAM_AUDITOR_LOG_FORMAT",
        "IAM_AUDITOR_SMTP_SECRET_ARN",
        "AWS_LAMBDA_RUNTIME_API",
    ] {
        command.env_remove(name);
    }
    command
}

/// What one run of the binary did and wrote.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Holds `out/` (the run's files); `out/` exists only if the run wrote it.
    scratch: TempDir,
}

/// `iam-auditor run --snapshot <snapshot> --as-of AS_OF --out <scratch>/out --no-mail <extra>`.
pub fn run(snapshot: &Path, extra: &[&str]) -> Run {
    let scratch = tempfile::tempdir().expect("temporary folder");
    let out = scratch.path().join("out");
    let output = iam_auditor()
        .arg("run")
        .arg("--snapshot")
        .arg(snapshot)
        .args(["--as-of", AS_OF, "--no-mail", "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        scratch,
    }
}

/// Runs the binary on `snapshot` with `config` and no `--out` (so an [archive] in the config
/// files the run), with `env` set and no AWS profile of the machine's; returns the exit code
/// and stdout + stderr.
pub fn run_archived(snapshot: &Path, config: &Path, env: &[(&str, &str)]) -> (i32, String) {
    run_archived_as_of(snapshot, config, env, AS_OF)
}

/// [`run_archived`] judged as of `as_of` instead of [`AS_OF`].
pub fn run_archived_as_of(
    snapshot: &Path,
    config: &Path,
    env: &[(&str, &str)],
    as_of: &str,
) -> (i32, String) {
    let mut command = iam_auditor();
    command.env_remove("AWS_PROFILE");
    command
        .arg("run")
        .arg("--snapshot")
        .arg(snapshot)
        .args(["--as-of", as_of, "--no-mail", "--config"])
        .arg(config);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
    )
}

/// [`run`] with a config file holding `config`.
pub fn run_with_config(snapshot: &Path, config: &str) -> Run {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("iam-auditor.toml");
    std::fs::write(&path, config).expect("write config");
    run(snapshot, &["--config", path.to_str().expect("UTF-8 temp path")])
}

impl Run {
    pub fn out(&self) -> PathBuf {
        self.scratch.path().join("out")
    }

    /// For assertion messages.
    pub fn describe(&self) -> String {
        format!("exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    pub fn assert_code(&self, expected: i32) {
        assert_eq!(self.code, expected, "expected exit {expected}; {}", self.describe());
    }

    pub fn findings_json(&self) -> Value {
        let path = self.out().join("findings.json");
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; {}", path.display(), self.describe()));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("findings.json is not JSON: {e}"))
    }

    pub fn findings(&self) -> Vec<Value> {
        self.findings_json()["findings"].as_array().expect("findings is an array").clone()
    }

    /// The findings of one account and check.
    pub fn findings_of(&self, account: &str, check: &str) -> Vec<Value> {
        self.findings().into_iter().filter(|f| f["account_id"] == account && f["check"] == check).collect()
    }

    /// (check, resource ARN) of every finding of `account`.
    pub fn finding_pairs(&self, account: &str) -> BTreeSet<(String, String)> {
        self.findings()
            .iter()
            .filter(|f| f["account_id"] == account)
            .map(|f| (text(&f["check"]), text(&f["resource_arn"])))
            .collect()
    }

    /// The account's entry of findings.json `coverage`.
    pub fn coverage(&self, account: &str) -> Value {
        let json = self.findings_json();
        json["coverage"]
            .as_array()
            .expect("coverage is an array")
            .iter()
            .find(|c| c["account_id"] == account)
            .unwrap_or_else(|| panic!("no coverage entry for {account} in {:#}", json["coverage"]))
            .clone()
    }

    /// coverage.csv as header → cell maps, parsed with a real CSV reader.
    pub fn coverage_csv(&self) -> Vec<BTreeMap<String, String>> {
        read_csv(&self.out().join("coverage.csv"))
    }

    /// The account's row of coverage.csv.
    pub fn coverage_csv_row(&self, account: &str) -> BTreeMap<String, String> {
        self.coverage_csv()
            .into_iter()
            .find(|row| row["account_id"] == account)
            .unwrap_or_else(|| panic!("no coverage.csv row for {account}"))
    }

    /// The account was audited in full: coverage says so, nothing is missing, and it has
    /// exactly the findings of [`expected_findings`].
    pub fn assert_complete(&self, account: &str) {
        let coverage = self.coverage(account);
        assert_eq!(coverage["status"], "audited", "{account}: {coverage:#}");
        assert_eq!(coverage["error"], Value::Null, "{account}: {coverage:#}");
        // The fixture has no Identity Center: only its checks lack input.
        assert_eq!(
            coverage["checks_without_input"],
            json!(IDENTITY_CENTER_CHECKS),
            "{account}: {coverage:#}"
        );
        assert_eq!(coverage["problems"], json!([]), "{account}: {coverage:#}");
        for (field, count) in [("users", 3), ("groups", 1), ("roles", 3), ("managed_policies", 1)] {
            assert_eq!(coverage["inventory"][field], count, "{account} inventory: {coverage:#}");
        }
        let row = self.coverage_csv_row(account);
        assert_eq!(row["status"], "audited", "{row:?}");
        assert_eq!(row["error"], "", "{row:?}");
        assert_eq!(self.finding_pairs(account), expected_findings(account), "findings of {account}");
    }
}

pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().expect("a header row").clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            header.iter().map(str::to_string).zip(record.iter().map(str::to_string)).collect()
        })
        .collect()
}

/// A JSON string's text ("" for anything else).
pub fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// Bytes as an archive stores them, decompressed when gzip (`[archive] compress`, on by
/// default, stores findings.json, findings.csv and access-roster.csv as `name.gz`).
pub fn gunzip_if_needed(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes.as_slice()), &mut out)
            .expect("a gzip file");
        out
    } else {
        bytes
    }
}

/// A file of an archived run folder: `name`, or `name.gz` decompressed.
pub fn read_run_file(dir: &Path, name: &str) -> Vec<u8> {
    let plain = dir.join(name);
    let path = if plain.is_file() { plain } else { dir.join(format!("{name}.gz")) };
    gunzip_if_needed(std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// The Python that runs the tests' tools: `IAM_AUDITOR_TEST_PYTHON`, else the repository's
/// `.venv` (scripts/test.sh makes it and installs `installs` into it).
pub fn test_python(installs: &str) -> PathBuf {
    let python = std::env::var_os("IAM_AUDITOR_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        python.is_file(),
        "{} is missing: run scripts/test.sh (it makes .venv and installs {installs} into it), or set \
         IAM_AUDITOR_TEST_PYTHON",
        python.display()
    );
    python
}
