//! Live collection against a real AWS API emulator: moto_server on 127.0.0.1 holding an
//! Organization (made with CreateAccount, IAM seeded in each account through its
//! OrganizationAccountAccessRole by tests/moto_org.py), reached through the real
//! aws-sdk-rust clients. tests/aws_fault_proxy.py sits in between: it makes failures real
//! (AccessDenied on AssumeRole, throttling, 500s, in each service's wire format), pages
//! GetAccountAuthorizationDetails as AWS does (moto answers in one page), and answers Access
//! Analyzer (which moto lacks) from recorded responses in the service's wire format.

mod common;

use common::emulator::{repo, FaultProxy, Moto};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// An organization in moto, the proxy in front of it, and a scratch folder.
struct LiveOrg {
    proxy: FaultProxy,
    seed: Value,
    scratch: TempDir,
    _moto: Moto,
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn describe(&self) -> String {
        format!("exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl LiveOrg {
    /// `members` accounts besides the management account; GAAD paged by `gaad_page_size`.
    fn start(members: usize, gaad_page_size: usize) -> LiveOrg {
        LiveOrg::start_seeded(members, gaad_page_size, &[], 0)
    }

    /// [`LiveOrg::start`] with every answer `latency_ms` late, as AWS's are.
    fn start_with_latency(members: usize, latency_ms: u32) -> LiveOrg {
        LiveOrg::start_seeded(members, 0, &[], latency_ms)
    }

    /// [`LiveOrg::start`] with IAM Identity Center seeded too (moto_org.py --identity-center).
    fn start_with_identity_center(members: usize) -> LiveOrg {
        LiveOrg::start_seeded(members, 0, &["--identity-center"], 0)
    }

    fn start_seeded(members: usize, gaad_page_size: usize, seed_args: &[&str], latency_ms: u32) -> LiveOrg {
        let moto = Moto::start();
        let scratch = tempfile::tempdir().expect("temporary folder");
        let seed_file = scratch.path().join("seed.json");
        let output = Command::new(common::emulator::venv_bin("python"))
            .arg(repo().join("tests/moto_org.py"))
            .args(["--endpoint", &moto.endpoint, "--members", &members.to_string(), "--out"])
            .arg(&seed_file)
            .args(seed_args)
            .output()
            .expect("python runs");
        assert!(output.status.success(), "moto_org.py: {}", String::from_utf8_lossy(&output.stderr));
        let seed: Value = serde_json::from_slice(&std::fs::read(&seed_file).unwrap()).unwrap();
        // Recorded Access Analyzer answers; the first member has no analyzer at all.
        let recorded = scratch.path().join("recorded");
        copy_dir(&repo().join("tests/recorded/access-analyzer"), &recorded);
        let first_member = seed["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| !a["role_arn"].is_null())
            .map(|a| a["id"].as_str().unwrap().to_string())
            .unwrap();
        std::fs::create_dir_all(recorded.join(&first_member)).unwrap();
        std::fs::write(recorded.join(&first_member).join("list-analyzers.json"), r#"{"analyzers": []}"#)
            .unwrap();
        let proxy = FaultProxy::start(&moto, scratch.path(), gaad_page_size, &recorded, latency_ms);
        LiveOrg { proxy, seed, scratch, _moto: moto }
    }

    fn accounts(&self) -> Vec<&Value> {
        self.seed["accounts"].as_array().unwrap().iter().collect()
    }

    fn management(&self) -> String {
        self.seed["management_account"].as_str().unwrap().to_string()
    }

    fn members(&self) -> Vec<String> {
        self.accounts()
            .into_iter()
            .filter(|a| !a["role_arn"].is_null())
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    }

    fn config(&self, name: &str, extra: &str) -> PathBuf {
        let path = self.scratch.path().join(name);
        let text = format!(
            "[organization]\nrole_name = \"OrganizationAccountAccessRole\"\nregions = [\"us-east-1\"]\n\
             concurrency = 4\nmax_attempts = 3\n{extra}\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The binary, with its AWS calls going through the proxy on static test credentials,
    /// and nothing from the machine's own AWS set-up.
    fn iam_auditor(&self, args: &[&str]) -> Outcome {
        self.iam_auditor_with(args, &[])
    }

    /// [`LiveOrg::iam_auditor`] with more environment (e.g. another principal's credentials).
    fn iam_auditor_with(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let mut command = common::iam_auditor();
        for name in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE"] {
            command.env_remove(name);
        }
        let none = self.scratch.path().join("no-such-aws-file");
        command
            .env("AWS_ENDPOINT_URL", &self.proxy.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", &none)
            .env("AWS_SHARED_CREDENTIALS_FILE", &none)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().copied())
            .args(args);
        let output = command.output().expect("the binary runs");
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `run --config <config> --out <scratch>/<name>` (live); the run's findings.json.
    fn run(&self, name: &str, config: &Path) -> (Outcome, Value) {
        self.run_on(name, config, &[])
    }

    /// The same run on a collected snapshot instead of live.
    fn run_snapshot(&self, name: &str, config: &Path, snapshot: &Path) -> (Outcome, Value) {
        self.run_on(name, config, &["--snapshot", snapshot.to_str().unwrap()])
    }

    /// `collect --config <config> --out <scratch>/<name>`; the snapshot folder.
    fn collect(&self, name: &str, config: &Path) -> (Outcome, PathBuf) {
        let snapshot = self.scratch.path().join(name);
        let outcome = self.iam_auditor(&[
            "collect",
            "--config",
            config.to_str().unwrap(),
            "--out",
            snapshot.to_str().unwrap(),
        ]);
        (outcome, snapshot)
    }

    fn run_on(&self, name: &str, config: &Path, source: &[&str]) -> (Outcome, Value) {
        let out = self.scratch.path().join(name);
        let mut args = vec!["run", "--no-mail", "--config", config.to_str().unwrap()];
        args.extend(["--out", out.to_str().unwrap(), "--as-of", "2030-01-01T00:00:00Z"]);
        args.extend(source);
        let outcome = self.iam_auditor(&args);
        let findings = std::fs::read(out.join("findings.json"))
            .map(|bytes| serde_json::from_slice(&bytes).expect("findings.json is JSON"))
            .unwrap_or(Value::Null);
        (outcome, findings)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn coverage<'a>(findings: &'a Value, account: &str) -> &'a Value {
    findings["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["account_id"] == account)
        .unwrap_or_else(|| panic!("no coverage row for {account}"))
}

/// (check, resource_arn, severity) of every finding of `account`.
fn findings_of(findings: &Value, account: &str) -> BTreeSet<(String, String, String)> {
    findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account_id"] == account)
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["resource_arn"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn calls(row: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(row["api_calls"].clone()).unwrap_or_default()
}

/// Calls made once for the organization, from the caller's account.
fn is_organization_level(operation: &str) -> bool {
    ["organizations:", "sso:", "identitystore:"].iter().any(|p| operation.starts_with(p))
        || operation == "sts:GetCallerIdentity"
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The files of `organization/identity-center/` that exist, by name.
/// Identity Center not collected: only status.json, saying `"Collected": false` with a reason
/// that names each of `parts`.
fn assert_identity_center_not_collected(snapshot: &Path, parts: &[&str]) {
    assert_eq!(identity_center_files(snapshot), BTreeSet::from(["status.json".to_string()]));
    let status = read_json(&snapshot.join("organization/identity-center/status.json"));
    assert_eq!(status["Collected"], false, "{status}");
    let reason = status["Reason"].as_str().unwrap();
    for part in parts {
        assert!(reason.contains(part), "the reason lacks {part:?}: {reason}");
    }
}

fn identity_center_files(snapshot: &Path) -> BTreeSet<String> {
    std::fs::read_dir(snapshot.join("organization/identity-center"))
        .expect("organization/identity-center/ is written")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Identity Center's calls in `counts` (manifest `api_calls` or `api_retries`).
fn identity_center_calls(counts: &Value) -> BTreeMap<String, u64> {
    let all: BTreeMap<String, u64> = serde_json::from_value(counts.clone()).unwrap_or_default();
    all.into_iter().filter(|(op, _)| op.starts_with("sso:") || op.starts_with("identitystore:")).collect()
}

/// Every account's IAM files are there and none failed.
fn assert_iam_complete(org: &LiveOrg, snapshot: &Path) {
    for account in org.accounts() {
        let dir = snapshot.join("accounts").join(account["id"].as_str().unwrap());
        for file in ["account-authorization-details.json", "credential-report.csv", "password-policy.json"] {
            assert!(dir.join(file).is_file(), "{} missing", dir.join(file).display());
        }
        assert!(
            !dir.join("error.json").exists(),
            "{}: {:?}",
            dir.display(),
            std::fs::read_to_string(dir.join("error.json"))
        );
    }
}

/// Requests the proxy saw for `account` (retries included), by `service:operation`.
fn seen_by_proxy(proxy: &FaultProxy, account: &str) -> BTreeMap<String, u64> {
    let mut seen = BTreeMap::new();
    for request in proxy.requests().iter().filter(|r| r["account"] == account) {
        let key =
            format!("{}:{}", request["service"].as_str().unwrap(), request["operation"].as_str().unwrap());
        *seen.entry(key).or_default() += 1;
    }
    seen
}

#[test]
fn a_live_run_audits_every_account_and_finds_what_was_planted() {
    let org = LiveOrg::start(3, 0);
    let config = org.config("live.toml", "");
    let (outcome, findings) = org.run("run", &config);
    assert_eq!(outcome.code, 0, "{}", outcome.describe());
    assert_eq!(findings["run"]["source"], "live");
    assert_eq!(findings["coverage"].as_array().unwrap().len(), 4, "the management account and 3 members");

    let no_analyzer = &org.members()[0];
    for account in org.accounts() {
        let id = account["id"].as_str().unwrap();
        let row = coverage(&findings, id);
        assert_eq!(row["status"], "audited", "{id}: {row}");
        assert_eq!(row["checks_without_input"], json!([]), "{id}: every input was collected");
        let found = findings_of(&findings, id);
        let checks_on = |check: &str, arn: &str| -> Vec<String> {
            found.iter().filter(|(c, r, _)| c == check && r == arn).map(|(_, _, s)| s.clone()).collect()
        };
        for (check, arns) in account["planted"].as_object().unwrap() {
            for arn in arns.as_array().unwrap() {
                let arn = arn.as_str().unwrap();
                assert!(
                    !checks_on(check, arn).is_empty(),
                    "{id}: planted {check} on {arn} not found; found {found:#?}"
                );
            }
        }
        for (check, arns) in account["must_not_flag"].as_object().unwrap() {
            for arn in arns.as_array().unwrap() {
                let arn = arn.as_str().unwrap();
                let severities = checks_on(check, arn);
                assert!(
                    severities.iter().all(|s| s == "info"),
                    "{id}: {check} must not flag {arn} (at most info), found {severities:?}"
                );
            }
        }
        // Access Analyzer, from the recorded answers: 3 ACTIVE findings over two pages of the
        // external-access analyzer; the first member has no analyzer.
        let analyzer_findings = found.iter().filter(|(c, _, _)| c == "access-analyzer-finding").count();
        let disabled = found.iter().filter(|(c, _, _)| c == "access-analyzer-disabled").count();
        if id == no_analyzer {
            assert_eq!((analyzer_findings, disabled), (0, 1), "{id}: no analyzer in us-east-1");
        } else {
            assert_eq!((analyzer_findings, disabled), (3, 0), "{id}: the recorded findings, every page");
        }

        // The calls: counted by the SDK interceptor, and the same as the proxy saw.
        let counted = calls(row);
        // The proxy puts the organization-level calls (Identity Center's too) on the caller's
        // (management) account.
        let mut seen = seen_by_proxy(&org.proxy, id);
        seen.retain(|op, _| !is_organization_level(op));
        assert_eq!(counted, seen, "{id}: interceptor and proxy disagree");
        let member = !account["role_arn"].is_null();
        // moto answers STARTED to the first GenerateCredentialReport and COMPLETE to the next.
        let generated = counted.get("iam:GenerateCredentialReport").copied().unwrap_or(0);
        assert!((1..=2).contains(&generated), "{id}: {generated} GenerateCredentialReport calls");
        let mut expected = BTreeMap::from([
            ("iam:GenerateCredentialReport".to_string(), generated),
            ("iam:GetAccountAuthorizationDetails".to_string(), 1),
            ("iam:GetAccountPasswordPolicy".to_string(), 1),
            ("iam:GetAccountSummary".to_string(), 1),
            ("iam:GetCredentialReport".to_string(), 1),
            ("access-analyzer:ListAnalyzers".to_string(), 1),
        ]);
        if member {
            expected.insert("sts:AssumeRole".into(), 1);
        }
        if id != no_analyzer {
            // Page 1 and 2 of the external-access analyzer, and the unused-access analyzer's one page.
            expected.insert("access-analyzer:ListFindingsV2".into(), 3);
        }
        assert_eq!(counted, expected, "{id}: the calls of one account");
        let core: u64 = counted
            .iter()
            .filter(|(op, _)| *op != "sts:AssumeRole" && !op.starts_with("access-analyzer:"))
            .map(|(_, n)| n)
            .sum();
        assert!(core <= 10, "{id}: {core} calls beyond AssumeRole and Access Analyzer");
    }

    // Every call the collector made is one `audit-policy` grants, and nothing else.
    let printed = org.iam_auditor(&["audit-policy", "--format", "json"]);
    assert_eq!(printed.code, 0, "{}", printed.describe());
    let policies: Value = serde_json::from_str(&printed.stdout).unwrap();
    let granted: BTreeSet<String> = ["member_role_policy", "caller_policy"]
        .iter()
        .flat_map(|p| policies[p]["Statement"].as_array().unwrap().clone())
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(list) => list.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        })
        .collect();
    for operation in findings["run"]["stats"]["api_calls"].as_object().unwrap().keys() {
        let action = policies["calls"][operation]
            .as_str()
            .unwrap_or_else(|| panic!("{operation} not listed in calls"));
        assert!(
            granted.contains(action) || operation == "sts:GetCallerIdentity",
            "{operation} is called but audit-policy does not grant {action}"
        );
    }
    assert!(outcome.stderr.contains("collected 4 accounts"), "{}", outcome.stderr);
}

#[test]
fn collect_then_run_on_the_snapshot_gives_the_same_findings() {
    let org = LiveOrg::start(2, 5);
    let config = org.config("live.toml", "");
    let (collected, snapshot) = org.collect("evidence", &config);
    assert_eq!(collected.code, 0, "{}", collected.describe());
    assert!(collected.stdout.contains("3 accounts collected, 0 failed, 0 skipped"), "{}", collected.stdout);
    for account in org.accounts() {
        let dir = snapshot.join("accounts").join(account["id"].as_str().unwrap());
        for file in [
            "account-authorization-details.json",
            "credential-report.csv",
            "password-policy.json",
            "account-summary.json",
            "access-analyzer/us-east-1.json",
        ] {
            assert!(dir.join(file).is_file(), "{} missing", dir.join(file).display());
        }
        assert!(!dir.join("error.json").exists());
    }
    // Paged GAAD (5 entities a page) was followed to the end: every planted user is there.
    let member = &org.members()[1];
    let details: Value = serde_json::from_slice(
        &std::fs::read(snapshot.join("accounts").join(member).join("account-authorization-details.json"))
            .unwrap(),
    )
    .unwrap();
    let users: BTreeSet<&str> = details["UserDetailList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["UserName"].as_str().unwrap())
        .collect();
    for name in ["admin-alice", "bob-in-admin-group", "carol-readonly", "dave-poweruser"] {
        assert!(users.contains(name), "{name} missing from the paged GAAD: {users:?}");
    }
    let pages = seen_by_proxy(&org.proxy, member)["iam:GetAccountAuthorizationDetails"];
    assert!(pages >= 3, "5 entities a page must take several pages, took {pages}");

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(snapshot.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["organization_id"], org.seed["organization_id"]);

    let (offline_run, offline) = org.run_snapshot("offline", &config, &snapshot);
    assert_eq!(offline_run.code, 0, "{}", offline_run.describe());
    let (live, live_findings) = org.run("live", &config);
    assert_eq!(live.code, 0, "{}", live.describe());
    assert!(!fingerprints(&offline).is_empty());
    assert_eq!(fingerprints(&offline), fingerprints(&live_findings), "collect + run --snapshot == live run");
    // The snapshot run reports the calls of the collection that made it.
    assert_eq!(offline["run"]["stats"]["api_calls"], json!(manifest["api_calls"]));
    // The identity that collected is recorded at collection and carried into the evidence.
    let caller = manifest["caller"].as_str().expect("manifest.json names the caller");
    assert!(caller.starts_with("arn:aws:") && caller.contains(&org.management()), "{caller}");
    for run in [&offline, &live_findings] {
        assert_eq!(run["provenance"]["collected_by"], caller);
        assert_eq!(run["provenance"]["organization_id"], org.seed["organization_id"]);
        assert_eq!(
            run["provenance"]["snapshot_collected_at"].as_str().map(str::len),
            Some(20),
            "{}",
            run["provenance"]
        );
    }
    let record =
        manifest["accounts"].as_array().unwrap().iter().find(|a| a["account_id"] == member.as_str()).unwrap();
    assert_eq!(coverage(&offline, member)["api_calls"], record["api_calls"]);
}

#[test]
fn a_denied_a_throttled_out_and_a_throttled_page_account_each_end_as_they_should() {
    let org = LiveOrg::start(3, 4);
    let members = org.members();
    let (denied, throttled_out, throttled_once) = (&members[0], &members[1], &members[2]);
    org.proxy.set_rules(&json!([
        {"service": "sts", "operation": "AssumeRole", "account": denied, "respond": "AccessDenied"},
        {"service": "iam", "operation": "GetAccountAuthorizationDetails", "account": throttled_out, "respond": "Throttling"},
        {"service": "iam", "operation": "GetAccountAuthorizationDetails", "account": throttled_once,
         "respond": "Throttling", "match_marker": true, "times": 1},
    ]));
    let config = org.config("faults.toml", "");
    let (collected, snapshot) = org.collect("evidence", &config);
    assert_eq!(collected.code, 3, "{}", collected.describe());
    let (outcome, findings) = org.run_snapshot("run", &config, &snapshot);
    assert_eq!(outcome.code, 3, "partial: {}", outcome.describe());

    // Denied: error.json names the stage, AWS's code and what to do; nothing else collected.
    let error: Value = serde_json::from_slice(
        &std::fs::read(snapshot.join("accounts").join(denied).join("error.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(error["stage"], "sts:AssumeRole");
    assert_eq!(error["code"], "AccessDenied");
    assert!(error["message"].as_str().unwrap().contains("OrganizationAccountAccessRole"), "{error}");
    assert!(error["hint"].as_str().unwrap().contains("audit-role.yaml"), "{error}");
    let row = coverage(&findings, denied);
    assert_eq!(row["status"], "failed");
    assert!(row["error"].as_str().unwrap().contains("AccessDenied"), "{row}");
    assert!(findings_of(&findings, denied).iter().any(|(c, _, s)| c == "account-not-audited" && s == "high"));

    // Throttled on every attempt: that account fails, with the throttling named, and its
    // other parts are still kept.
    let row = coverage(&findings, throttled_out);
    assert_eq!(row["status"], "failed");
    assert!(row["error"].as_str().unwrap().contains("Throttling"), "{row}");
    assert!(row["checks_without_input"].as_array().unwrap().iter().any(|c| c == "admin-access"));
    assert!(snapshot.join("accounts").join(throttled_out).join("credential-report.csv").is_file());
    assert_eq!(calls(row)["iam:GetAccountAuthorizationDetails"], 1, "one call, retried");
    let retried = seen_by_proxy(&org.proxy, throttled_out)["iam:GetAccountAuthorizationDetails"];
    assert_eq!(retried, 3, "max_attempts = 3 attempts reached the server");

    // One throttled page in the middle of the pagination: retried, nothing lost.
    let row = coverage(&findings, throttled_once);
    assert_eq!(row["status"], "audited", "{row}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(snapshot.join("manifest.json")).unwrap()).unwrap();
    let record = manifest["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == throttled_once.as_str())
        .unwrap();
    assert_eq!(record["api_retries"]["iam:GetAccountAuthorizationDetails"], 1, "{record}");
    let injected = org
        .proxy
        .requests()
        .iter()
        .filter(|r| {
            r["account"] == throttled_once.as_str() && !r["injected"].is_null() && r["marker"] == true
        })
        .count();
    assert_eq!(injected, 1, "the second page was throttled once");
    let planted =
        org.accounts().into_iter().find(|a| a["id"] == throttled_once.as_str()).unwrap()["planted"].clone();
    let found = findings_of(&findings, throttled_once);
    for (check, arns) in planted.as_object().unwrap() {
        for arn in arns.as_array().unwrap() {
            assert!(
                found.iter().any(|(c, r, _)| c == check && r == arn),
                "{check} on {arn} lost to the throttled page"
            );
        }
    }

    // The management account was not touched by any of it.
    assert_eq!(coverage(&findings, &org.management())["status"], "audited");
}

#[test]
fn without_organizations_access_the_callers_own_account_is_audited_and_said_so() {
    let org = LiveOrg::start(1, 0);
    org.proxy.set_rules(&json!([{"service": "organizations", "respond": "AccessDenied"}]));
    let config = org.config("standalone.toml", "");
    let (outcome, findings) = org.run("run", &config);
    assert_eq!(outcome.code, 0, "{}", outcome.describe());
    let rows = findings["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["account_id"], org.management());
    assert!(outcome.stderr.contains("audited the caller's own account"), "{}", outcome.stderr);
    let problems = findings["snapshot_problems"].to_string();
    assert!(problems.contains("no Organizations access"), "{problems}");
}

#[test]
fn a_member_account_denied_the_account_list_audits_itself_but_the_management_account_stops() {
    let org = LiveOrg::start(1, 0);
    let member = org.members()[0].clone();
    // The member's own credentials, from AssumeRole through the proxy (which so learns whose they are).
    let script = format!(
        "import boto3, json\n\
         sts = boto3.client('sts', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         c = sts.assume_role(RoleArn='arn:aws:iam::{member}:role/OrganizationAccountAccessRole', RoleSessionName='member-caller')['Credentials']\n\
         print(json.dumps([c['AccessKeyId'], c['SecretAccessKey'], c['SessionToken']]))",
        org.proxy.endpoint
    );
    let output = Command::new(common::emulator::venv_bin("python")).args(["-c", &script]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let [key, secret, token]: [String; 3] = serde_json::from_slice(&output.stdout).unwrap();
    org.proxy.set_rules(
        &json!([{"service": "organizations", "operation": "ListAccounts", "respond": "AccessDenied"}]),
    );
    let config = org.config("member.toml", "");
    let out = org.scratch.path().join("member-run");
    let as_member = org.iam_auditor_with(
        &["run", "--no-mail", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()],
        &[("AWS_ACCESS_KEY_ID", &key), ("AWS_SECRET_ACCESS_KEY", &secret), ("AWS_SESSION_TOKEN", &token)],
    );
    assert_eq!(as_member.code, 0, "{}", as_member.describe());
    let findings: Value = serde_json::from_slice(&std::fs::read(out.join("findings.json")).unwrap()).unwrap();
    let rows = findings["coverage"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["account_id"], member.as_str());
    assert!(findings["snapshot_problems"].to_string().contains("no Organizations access"));

    // The same denial for the management account is a broken set-up, not a small organization.
    let (as_management, findings) = org.run("management-run", &config);
    assert_eq!(as_management.code, 1, "{}", as_management.describe());
    assert!(as_management.stderr.contains("organizations:ListAccounts"), "{}", as_management.stderr);
    assert!(findings.is_null());
}

#[test]
fn an_unreadable_account_list_stops_the_run_before_it_misleads() {
    let org = LiveOrg::start(1, 0);
    org.proxy.set_rules(
        &json!([{"service": "organizations", "operation": "ListAccounts", "respond": "InternalError"}]),
    );
    let config = org.config("fatal.toml", "max_attempts = 1");
    let config_text = std::fs::read_to_string(&config).unwrap().replace("max_attempts = 3\n", "");
    std::fs::write(&config, config_text).unwrap();
    let (outcome, findings) = org.run("run", &config);
    assert_eq!(outcome.code, 1, "{}", outcome.describe());
    assert!(outcome.stderr.contains("organizations:ListAccounts"), "{}", outcome.stderr);
    assert!(findings.is_null(), "no report that silently leaves accounts out");
    let (collected, snapshot) = org.collect("evidence", &config);
    assert_eq!(collected.code, 1, "{}", collected.describe());
    assert!(!snapshot.exists(), "no snapshot");
    let leftovers: Vec<_> = std::fs::read_dir(org.scratch.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "an unfinished snapshot was left behind: {leftovers:?}");
}

#[test]
fn excluded_accounts_and_ous_are_listed_as_skipped() {
    let org = LiveOrg::start(3, 0);
    let members = org.members();
    let excluded = &members[0];
    let account = |id: &str| org.accounts().into_iter().find(|a| a["id"] == id).unwrap().clone();
    // Exclude the OU of the second member (its last path element), unless it sits at the root.
    let path = account(&members[1])["ou_path"].as_array().unwrap().clone();
    let ou = path.last().unwrap().as_str().unwrap().to_string();
    assert!(ou.starts_with("ou-"), "moto_org.py puts members in OUs: {path:?}");
    let config =
        org.config("scope.toml", &format!("exclude_accounts = [\"{excluded}\"]\nexclude_ous = [\"{ou}\"]"));
    let (outcome, findings) = org.run("run", &config);
    assert_eq!(outcome.code, 0, "{}", outcome.describe());
    let row = coverage(&findings, excluded);
    assert_eq!(row["status"], "skipped");
    assert!(row["error"].as_str().unwrap().contains("exclude_accounts"), "{row}");
    let row = coverage(&findings, &members[1]);
    assert_eq!(row["status"], "skipped");
    assert!(row["error"].as_str().unwrap().contains(&ou), "{row}");
    assert!(seen_by_proxy(&org.proxy, excluded).is_empty(), "a skipped account is never called");
    assert_eq!(coverage(&findings, &org.management())["status"], "audited");
}

#[test]
fn identity_center_is_collected_with_every_assignment_moto_cannot_place() {
    let org = LiveOrg::start_with_identity_center(2);
    let seeded = &org.seed["identity_center"];
    let config = org.config("ic.toml", "");
    let (collected, snapshot) = org.collect("evidence", &config);
    assert_eq!(collected.code, 0, "Identity Center never fails a run: {}", collected.describe());
    assert_iam_complete(&org, &snapshot);
    let dir = snapshot.join("organization/identity-center");
    let files: BTreeSet<String> = [
        "status.json",
        "instances.json",
        "permission-sets.json",
        "account-assignments.json",
        "users.json",
        "groups.json",
        "group-memberships.json",
    ]
    .iter()
    .map(|f| f.to_string())
    .collect();
    assert_eq!(identity_center_files(&snapshot), files);

    // moto does not implement GetPermissionsBoundaryForPermissionSet (HTTP 500): each set is
    // kept, and the boundary that could not be read is named.
    let status = read_json(&dir.join("status.json"));
    assert_eq!(status["Collected"], true, "{status}");
    assert!(status.get("Reason").is_none(), "{status}");
    let partial: BTreeSet<String> = status["Partial"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().split(':').next().unwrap().to_string())
        .collect();
    let names = ["Admin", "DataScience", "ReadOnly"];
    assert_eq!(
        partial,
        names.iter().map(|n| format!("PermissionsBoundary not read for {n}")).collect::<BTreeSet<_>>(),
        "{status}"
    );

    let instances = read_json(&dir.join("instances.json"));
    assert_eq!(instances["Instances"].as_array().unwrap().len(), 1, "{instances}");
    assert_eq!(instances["Instances"][0]["InstanceArn"], seeded["instance_arn"]);
    assert_eq!(instances["Instances"][0]["IdentityStoreId"], seeded["identity_store_id"]);

    // Exactly the seeded permission sets, each with its policies.
    let sets = read_json(&dir.join("permission-sets.json"));
    let sets = sets["PermissionSets"].as_array().unwrap();
    let mut by_arn = BTreeMap::new();
    assert_eq!(sets.len(), 3, "{sets:#?}");
    for set in sets {
        let name = set["Name"].as_str().unwrap();
        let want = &seeded["permission_sets"][name];
        assert_eq!(set["PermissionSetArn"], want["arn"], "{name}");
        assert_eq!(set["SessionDuration"], "PT1H", "{name}");
        assert_eq!(set["Description"], format!("{name} access"), "{name}");
        let managed: Vec<&Value> =
            set["AttachedManagedPolicies"].as_array().unwrap().iter().map(|p| &p["Arn"]).collect();
        assert_eq!(managed, want["managed"].as_array().unwrap().iter().collect::<Vec<_>>(), "{name}");
        assert_eq!(set["CustomerManagedPolicyReferences"], want["customer_managed"], "{name}");
        // The inline policy is decoded from the API's JSON string into an object.
        assert_eq!(set.get("InlinePolicy").unwrap_or(&Value::Null), &want["inline"], "{name}");
        assert!(set.get("PermissionsBoundary").is_none(), "{name}: moto stores none");
        // AccountIds is what ListAccountsForProvisionedPermissionSet answered (moto: the caller only).
        assert_eq!(set["AccountIds"], seeded["provisioned"][name]["accounts_listed"], "{name}");
        by_arn.insert(set["PermissionSetArn"].as_str().unwrap().to_string(), name.to_string());
    }

    // Every assignment, in the member accounts moto's provisioning view does not name.
    let principal = |kind: &str, name: &str| -> String {
        let table = if kind == "USER" { "users" } else { "groups" };
        seeded[table][name]["id"].as_str().unwrap().to_string()
    };
    let want: BTreeSet<(String, String, String, String)> = seeded["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let kind = a["principal_type"].as_str().unwrap();
            (
                a["account"].as_str().unwrap().to_string(),
                a["permission_set"].as_str().unwrap().to_string(),
                kind.to_string(),
                principal(kind, a["principal"].as_str().unwrap()),
            )
        })
        .collect();
    let written = read_json(&dir.join("account-assignments.json"));
    let written = written["AccountAssignments"].as_array().unwrap();
    let got: BTreeSet<(String, String, String, String)> = written
        .iter()
        .map(|a| {
            (
                a["AccountId"].as_str().unwrap().to_string(),
                by_arn[a["PermissionSetArn"].as_str().unwrap()].clone(),
                a["PrincipalType"].as_str().unwrap().to_string(),
                a["PrincipalId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(written.len(), 3, "each assignment once: {written:#?}");
    let members = org.members();
    assert!(want.iter().any(|a| a.0 == members[0]) && want.iter().any(|a| a.0 == members[1]));

    // The identity store: users with their emails, groups, and who is in which.
    let users = read_json(&dir.join("users.json"));
    let got: BTreeMap<String, (String, String, String)> = users["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let primary = u["Emails"].as_array().unwrap().iter().find(|e| e["Primary"] == true).unwrap();
            (
                u["UserName"].as_str().unwrap().to_string(),
                (
                    u["UserId"].as_str().unwrap().to_string(),
                    u["DisplayName"].as_str().unwrap().to_string(),
                    primary["Value"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let want: BTreeMap<String, (String, String, String)> = seeded["users"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, u)| {
            let field = |k: &str| u[k].as_str().unwrap().to_string();
            (name.clone(), (field("id"), field("display_name"), field("email")))
        })
        .collect();
    assert_eq!(got, want);
    let groups = read_json(&dir.join("groups.json"));
    let got: BTreeMap<String, String> = groups["Groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["DisplayName"].as_str().unwrap().to_string(), g["GroupId"].as_str().unwrap().to_string()))
        .collect();
    let want: BTreeMap<String, String> = seeded["groups"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, g)| (name.clone(), g["id"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(got, want);
    let memberships = read_json(&dir.join("group-memberships.json"));
    let got: BTreeSet<(String, String)> = memberships["GroupMemberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["GroupId"].as_str().unwrap().to_string(),
                m["MemberId"]["UserId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = seeded["groups"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|g| {
            g["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (g["id"].as_str().unwrap().to_string(), principal("USER", m.as_str().unwrap())))
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 3);

    // The calls: 1 + 1 + 6 per set + one per ACTIVE account + one per (account, set) pair
    // (moto lists every set as provisioned to every account) + 1 + 1 + one per group.
    let manifest = read_json(&snapshot.join("manifest.json"));
    let (sets_n, accounts_n, groups_n) = (3, org.accounts().len() as u64, 2);
    let per_set = [
        "sso:DescribePermissionSet",
        "sso:GetInlinePolicyForPermissionSet",
        "sso:GetPermissionsBoundaryForPermissionSet",
        "sso:ListAccountsForProvisionedPermissionSet",
        "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
        "sso:ListManagedPoliciesInPermissionSet",
    ];
    let mut expected: BTreeMap<String, u64> = per_set.iter().map(|op| (op.to_string(), sets_n)).collect();
    expected.extend([
        ("sso:ListInstances".to_string(), 1),
        ("sso:ListPermissionSets".to_string(), 1),
        ("sso:ListPermissionSetsProvisionedToAccount".to_string(), accounts_n),
        ("sso:ListAccountAssignments".to_string(), accounts_n * sets_n),
        ("identitystore:ListUsers".to_string(), 1),
        ("identitystore:ListGroups".to_string(), 1),
        ("identitystore:ListGroupMemberships".to_string(), groups_n),
    ]);
    let counted = identity_center_calls(&manifest["api_calls"]);
    assert_eq!(counted, expected);
    assert_eq!(
        counted.values().sum::<u64>(),
        2 + 6 * sets_n + accounts_n + accounts_n * sets_n + 2 + groups_n
    );
    assert_eq!(manifest["organization_api_calls"]["sso:ListAccountAssignments"], accounts_n * sets_n);
    // moto's 500s were retried (max_attempts = 3), and the proxy saw every attempt.
    let retries = identity_center_calls(&manifest["api_retries"]);
    assert_eq!(
        retries,
        BTreeMap::from([("sso:GetPermissionsBoundaryForPermissionSet".to_string(), 2 * sets_n)])
    );
    let mut seen = seen_by_proxy(&org.proxy, &org.management());
    seen.retain(|op, _| op.starts_with("sso:") || op.starts_with("identitystore:"));
    let mut attempts = counted.clone();
    for (op, n) in &retries {
        *attempts.get_mut(op).unwrap() += n;
    }
    assert_eq!(seen, attempts, "interceptor and proxy disagree");

    // What collect wrote reads back through the snapshot's own reader, without a problem.
    let mut problems = Vec::new();
    let read = iam_auditor::snapshot::identity_center::IdentityCenter::read(&snapshot, &mut problems)
        .expect("organization/identity-center/ is read");
    assert!(problems.is_empty(), "{problems:?}");
    let data_science = seeded["permission_sets"]["DataScience"]["arn"].as_str().unwrap();
    assert_eq!(
        read.inline_documents.keys().collect::<Vec<_>>(),
        [data_science],
        "the one inline policy, parsed"
    );
    match read.coverage() {
        iam_auditor::snapshot::identity_center::Coverage::Collected { partial } => {
            assert_eq!(partial.len(), 3, "the three unread boundaries: {partial:?}")
        }
        other => panic!("{other:?}"),
    }

    // The reserved roles AWS makes for assigned sets are ordinary IAM roles of the members.
    for role in seeded["reserved_roles"].as_array().unwrap() {
        let account = role["account"].as_str().unwrap();
        let details =
            read_json(&snapshot.join("accounts").join(account).join("account-authorization-details.json"));
        let found = details["RoleDetailList"].as_array().unwrap().iter().find(|r| r["Arn"] == role["arn"]);
        let found = found.unwrap_or_else(|| panic!("{} not collected in {account}", role["arn"]));
        assert_eq!(found["Path"], "/aws-reserved/sso.amazonaws.com/");
        assert!(found["RoleName"].as_str().unwrap().starts_with("AWSReservedSSO_"));
    }

    assert_people_named_on_exactly_their_accounts(&org, &config, &snapshot);
}

/// The audit of what was collected joins each account's reserved roles to the assignments
/// made on that account: alice is Admin on A only, though Admin's role exists in B too
/// (for ops); bob and carol are Admin on B through ops and read-only on A.
fn assert_people_named_on_exactly_their_accounts(org: &LiveOrg, config: &Path, snapshot: &Path) {
    let members = org.members();
    let (a, b) = (members[0].as_str(), members[1].as_str());
    let (outcome, findings) = org.run_snapshot("people", config, snapshot);
    assert_eq!(outcome.code, 0, "{}", outcome.describe());
    assert_eq!(
        findings["identity_center"]["status"], "partial",
        "boundaries unread: {}",
        findings["identity_center"]
    );
    let of = |check: &str| -> BTreeSet<(String, String)> {
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == check)
            .map(|f| {
                (
                    f["account_id"].as_str().unwrap().to_string(),
                    f["resource_name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        list.iter().map(|(x, y)| (x.to_string(), y.to_string())).collect()
    };
    assert_eq!(of("sso-admin-assignment"), pairs(&[(a, "alice"), (b, "bob"), (b, "carol")]));
    let role_of = |account: &str, set: &str| -> String {
        let roles = org.seed["identity_center"]["reserved_roles"].as_array().unwrap();
        let role = roles.iter().find(|r| r["account"] == account && r["permission_set"] == set).unwrap();
        role["role_name"].as_str().unwrap().to_string()
    };
    assert_eq!(of("sso-role-without-assignment"), pairs(&[(b, &role_of(b, "DataScience"))]));
    assert!(of("sso-assignment-without-role").is_empty() && of("sso-assignment-to-nobody").is_empty());

    // admin-access on each Admin role names the people who can use it there.
    let people_on = |account: &str| -> Vec<(String, Value)> {
        let role = role_of(account, "Admin");
        let finding = findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "admin-access" && f["resource_name"] == role.as_str())
            .unwrap_or_else(|| panic!("no admin-access finding for {role}"));
        finding["evidence"]["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["user_name"].as_str().unwrap().to_string(), p["via_group"].clone()))
            .collect()
    };
    assert_eq!(people_on(a), [("alice".to_string(), Value::Null)]);
    assert_eq!(people_on(b), [("bob".to_string(), json!("ops")), ("carol".to_string(), json!("ops"))]);

    // The roster: people first, each on exactly the accounts they are assigned.
    let roster = org.scratch.path().join("people/access-roster.csv");
    let mut reader = csv::Reader::from_path(&roster).expect("access-roster.csv is written");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let people: BTreeSet<(String, String, String, String, String, String)> = rows
        .iter()
        .filter(|r| &r[2] == "person")
        .map(|r| (r[0].into(), r[4].into(), r[5].into(), r[7].into(), r[8].into(), r[9].into()))
        .collect();
    let row = |acct: &str, name: &str, display: &str, set: &str, via: &str, admin: &str| {
        (acct.into(), name.into(), display.into(), format!("permission set {set}"), via.into(), admin.into())
    };
    let want = BTreeSet::from([
        row(a, "alice", "Alice Liddell", "Admin", "", "yes"),
        row(a, "bob", "Bob Builder", "ReadOnly", "ops", "no"),
        row(a, "carol", "Carol Danvers", "ReadOnly", "ops", "no"),
        row(b, "bob", "Bob Builder", "Admin", "ops", "yes"),
        row(b, "carol", "Carol Danvers", "Admin", "ops", "yes"),
    ]);
    assert_eq!(people, want);
    // Within each account, people come first.
    for pair in rows.windows(2) {
        let same_account = pair[0][0] == pair[1][0];
        assert!(
            !(same_account && &pair[0][2] != "person" && &pair[1][2] == "person"),
            "people come first: {pair:?}"
        );
    }
}

#[test]
fn a_caller_denied_identity_center_still_audits_iam_and_says_why() {
    let org = LiveOrg::start(1, 0);
    org.proxy.set_rules(&json!([
        {"service": "sso", "respond": "AccessDenied"},
        {"service": "identitystore", "respond": "AccessDenied"},
    ]));
    let config = org.config("denied.toml", "");
    let (collected, snapshot) = org.collect("evidence", &config);
    assert_eq!(collected.code, 0, "{}", collected.describe());
    assert_iam_complete(&org, &snapshot);
    assert_identity_center_not_collected(
        &snapshot,
        &["sso:ListInstances", "AccessDeniedException", "management account", "delegated", "audit-policy"],
    );
    let manifest = read_json(&snapshot.join("manifest.json"));
    assert!(
        manifest["notes"].to_string().contains("IAM Identity Center not collected"),
        "{}",
        manifest["notes"]
    );
    assert_eq!(
        identity_center_calls(&manifest["api_calls"]),
        BTreeMap::from([("sso:ListInstances".to_string(), 1)]),
        "nothing more is asked once ListInstances is denied"
    );
    assert!(collected.stderr.contains("IAM Identity Center not collected"), "{}", collected.stderr);

    // The audit says so too, and the Identity Center checks count as without input.
    let (outcome, findings) = org.run_snapshot("denied-run", &config, &snapshot);
    assert_eq!(outcome.code, 0, "{}", outcome.describe());
    assert_eq!(findings["identity_center"]["status"], "not-collected");
    assert!(
        findings["identity_center"]["reason"].as_str().unwrap().contains("AccessDenied"),
        "{}",
        findings["identity_center"]
    );
    for row in findings["coverage"].as_array().unwrap() {
        let without: Vec<&str> =
            row["checks_without_input"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert!(
            without.contains(&"sso-admin-assignment") && without.contains(&"sso-assignment-to-nobody"),
            "{row}"
        );
    }
    let html = std::fs::read_to_string(org.scratch.path().join("denied-run/report.html")).unwrap();
    assert!(html.contains("Identity Center not collected."), "the report's banner says so");
}

#[test]
fn identity_center_throttled_ends_the_collection_with_what_is_missing_named() {
    let org = LiveOrg::start_with_identity_center(2);
    let config = org.config("throttled.toml", "");

    // Every Identity Center call throttled, every attempt: nothing of it, IAM whole.
    org.proxy.set_rules(&json!([
        {"service": "sso", "respond": "Throttling"},
        {"service": "identitystore", "respond": "Throttling"},
    ]));
    let (collected, snapshot) = org.collect("all-throttled", &config);
    assert_eq!(collected.code, 0, "{}", collected.describe());
    assert_iam_complete(&org, &snapshot);
    assert_identity_center_not_collected(
        &snapshot,
        &["sso:ListInstances", "ThrottlingException", "3 attempts", "identity_center_requests_per_second"],
    );
    let manifest = read_json(&snapshot.join("manifest.json"));
    assert_eq!(manifest["api_retries"]["sso:ListInstances"], 2, "max_attempts = 3");

    // Only the identity store throttled: the permission sets and assignments are kept, and
    // status.json names the files that are not there.
    org.proxy.set_rules(&json!([{"service": "identitystore", "respond": "Throttling"}]));
    let (collected, snapshot) = org.collect("store-throttled", &config);
    assert_eq!(collected.code, 0, "{}", collected.describe());
    assert_iam_complete(&org, &snapshot);
    let files = identity_center_files(&snapshot);
    for file in ["status.json", "instances.json", "permission-sets.json", "account-assignments.json"] {
        assert!(files.contains(file), "{file} missing: {files:?}");
    }
    for file in ["users.json", "groups.json", "group-memberships.json"] {
        assert!(!files.contains(file), "{file} written from a throttled store: {files:?}");
    }
    let dir = snapshot.join("organization/identity-center");
    let status = read_json(&dir.join("status.json"));
    assert_eq!(status["Collected"], true, "{status}");
    let partial: Vec<&str> =
        status["Partial"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    for (file, call) in
        [("users.json", "identitystore:ListUsers"), ("groups.json", "identitystore:ListGroups")]
    {
        assert!(
            partial
                .iter()
                .any(|p| p.starts_with(file) && p.contains(call) && p.contains("ThrottlingException")),
            "status.json does not name {file} ({call}): {partial:#?}"
        );
    }
    let assignments = read_json(&dir.join("account-assignments.json"));
    assert_eq!(assignments["AccountAssignments"].as_array().unwrap().len(), 3, "{assignments}");
    let manifest = read_json(&snapshot.join("manifest.json"));
    assert!(
        manifest["notes"].to_string().contains("IAM Identity Center collected in part"),
        "{}",
        manifest["notes"]
    );
}

/// Every kind of transient fault AWS gives, in each service's wire format or on the wire.
const TRANSIENT_FAULTS: [&str; 5] =
    ["Throttling", "InternalError", "ServiceUnavailable", "CloseConnection", "Slow"];

/// `config` with `max_attempts = n` instead of the default 3.
fn with_max_attempts(config: &Path, n: u32) {
    let text = std::fs::read_to_string(config)
        .unwrap()
        .replace("max_attempts = 3\n", &format!("max_attempts = {n}\n"));
    std::fs::write(config, text).unwrap();
}

/// The findings of a run, by fingerprint and severity.
fn fingerprints(findings: &Value) -> BTreeSet<(String, String)> {
    findings["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {findings}"))
        .iter()
        .map(|x| {
            (x["fingerprint"].as_str().unwrap().to_string(), x["severity"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn a_thirty_percent_fault_mix_costs_little_time_and_no_findings() {
    // 200 ms an answer, as AWS takes for IAM, STS and Organizations calls (0.1 to 0.5 s):
    // against moto's instant answers any retry at all would be many times the run.
    let org = LiveOrg::start_with_latency(6, 200);
    // Slow answers take 2 s, beyond the 1 s attempt timeout; at most 3 faults in a row on a
    // call, so 5 attempts always get through.
    let config = org.config("mix.toml", "call_timeout_seconds = 1");
    with_max_attempts(&config, 5);
    let timed_collect = |name: &str| {
        let started = std::time::Instant::now();
        let (outcome, snapshot) = org.collect(name, &config);
        (outcome, snapshot, started.elapsed().as_secs_f64())
    };
    // moto loads each service's backend on first use: a warm-up run is not measured.
    let (warm, _, _) = timed_collect("warm-up");
    assert_eq!(warm.code, 0, "{}", warm.describe());
    let (calm, calm_snapshot, calm_seconds) = timed_collect("calm");
    assert_eq!(calm.code, 0, "{}", calm.describe());

    org.proxy.set_rules(&json!([{
        "respond": TRANSIENT_FAULTS, "chance": 0.3, "max_in_a_row": 3, "seed": 17, "slow_seconds": 2
    }]));
    let before = org.proxy.requests().len();
    let (stormy, stormy_snapshot, stormy_seconds) = timed_collect("stormy");
    let requests = org.proxy.requests().split_off(before);
    org.proxy.set_rules(&json!([]));
    eprintln!(
        "fault-free collect {calm_seconds:.1} s, 30% fault mix {stormy_seconds:.1} s ({:.2}x), {} requests",
        stormy_seconds / calm_seconds,
        requests.len()
    );
    assert_eq!(stormy.code, 0, "every call got through within 5 attempts: {}", stormy.describe());
    // The mix was what it says: about 30% of the requests, every kind of fault, on the
    // services with many calls (STS has 7 here: none faulted is a 1-in-12 chance).
    let injected: Vec<&Value> = requests.iter().filter(|r| !r["injected"].is_null()).collect();
    let share = injected.len() as f64 / requests.len() as f64;
    assert!((0.15..0.45).contains(&share), "{} of {} requests faulted", injected.len(), requests.len());
    for kind in TRANSIENT_FAULTS {
        assert!(injected.iter().any(|r| r["injected"] == kind), "no {kind} was injected");
    }
    for service in ["iam", "organizations", "access-analyzer"] {
        assert!(injected.iter().any(|r| r["service"] == service), "no fault on {service}");
    }
    let manifest = read_json(&stormy_snapshot.join("manifest.json"));
    assert!(
        manifest["api_retries"].as_object().is_some_and(|r| !r.is_empty()),
        "{}",
        manifest["api_retries"]
    );

    // Nothing lost: every account audited, the same findings as without faults.
    let (calm_run, calm_findings) = org.run_snapshot("calm-run", &config, &calm_snapshot);
    assert_eq!(calm_run.code, 0, "{}", calm_run.describe());
    let (stormy_run, stormy_findings) = org.run_snapshot("stormy-run", &config, &stormy_snapshot);
    assert_eq!(stormy_run.code, 0, "{}", stormy_run.describe());
    for row in stormy_findings["coverage"].as_array().unwrap() {
        assert_eq!(row["status"], "audited", "{row}");
    }
    assert_eq!(fingerprints(&stormy_findings), fingerprints(&calm_findings));

    // Faults in one account hold back that account only. The target is within 3x (measured
    // 1.7-2.7x); the test fails at 5x, which a shared retry partition (9.9x here) always
    // passes and backoff jitter on a busy machine never reaches. The figure is printed.
    // On failure: when each account's last request was answered, from the first one on.
    eprintln!(
        "30% fault mix: {stormy_seconds:.1} s against {calm_seconds:.1} s without ({:.1}x)",
        stormy_seconds / calm_seconds
    );
    let start = requests.iter().filter_map(|r| r["time"].as_f64()).fold(f64::MAX, f64::min);
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    for request in &requests {
        let at = last.entry(request["account"].as_str().unwrap_or_default().to_string()).or_default();
        *at = at.max(request["time"].as_f64().unwrap_or_default() - start);
    }
    assert!(
        stormy_seconds <= 5.0 * calm_seconds,
        "30% faults took {stormy_seconds:.1} s against {calm_seconds:.1} s without ({:.1}x); each \
         account's last answer after (s): {last:.1?}",
        stormy_seconds / calm_seconds
    );
}

/// Words that belong to the SDK's types, not to a message for people.
const SDK_INTERNALS: [&str; 7] = [
    "DispatchFailure",
    "ConnectorError",
    "TimeoutError",
    "MaybeTimeoutError",
    "hyper",
    "IncompleteMessage",
    "{ ",
];

fn assert_plain_words(text: &str) {
    for internal in SDK_INTERNALS {
        assert!(!text.contains(internal), "{internal:?} shows in: {text}");
    }
    assert!(!text.contains(".."), "a double full stop in: {text}");
}

#[test]
fn passing_faults_are_named_as_such_with_the_attempts_they_took() {
    let org = LiveOrg::start(3, 0);
    let members = org.members();
    let (unavailable, slow, closed) = (&members[0], &members[1], &members[2]);
    org.proxy.set_rules(&json!([
        {"service": "sts", "operation": "AssumeRole", "account": unavailable, "respond": "ServiceUnavailable"},
        {"service": "iam", "operation": "GetAccountAuthorizationDetails", "account": slow, "respond": "Slow",
         "slow_seconds": 3},
        {"service": "iam", "operation": "GetAccountSummary", "account": closed, "respond": "CloseConnection"},
    ]));
    let config = org.config("passing.toml", "call_timeout_seconds = 1");
    let (collected, snapshot) = org.collect("evidence", &config);
    assert_eq!(collected.code, 3, "{}", collected.describe());
    assert_plain_words(&collected.stderr);
    let error_of = |account: &str| read_json(&snapshot.join("accounts").join(account).join("error.json"));

    // A 503 on AssumeRole is AWS being unavailable, not a missing audit role.
    let error = error_of(unavailable);
    assert_eq!(error["code"], "ServiceUnavailable", "{error}");
    assert_eq!(error["attempts"], 3, "max_attempts = 3: {error}");
    assert_eq!(error["faults"], json!(["ServiceUnavailable", "ServiceUnavailable", "ServiceUnavailable"]));
    let hint = error["hint"].as_str().unwrap();
    assert!(!hint.contains("audit-role.yaml") && !hint.contains("does not trust"), "{hint}");
    assert!(hint.contains("AWS was unavailable") && hint.contains("3 attempts"), "{hint}");
    assert!(hint.contains("ServiceUnavailable") && hint.contains("not a permission problem"), "{hint}");

    // No answer within the attempt timeout, three times.
    let error = error_of(slow);
    assert_eq!(error["stage"], "iam:GetAccountAuthorizationDetails", "{error}");
    assert_eq!(error["code"], "Timeout", "{error}");
    assert_eq!(error["message"], "timed out after 3 attempts of 1 s each", "{error}");
    assert!(error["hint"].as_str().unwrap().contains("call_timeout_seconds"), "{error}");

    // The connection closed under the call, three times.
    let error = error_of(closed);
    assert_eq!(error["code"], "ConnectionClosed", "{error}");
    assert_eq!(error["message"], "connection closed by AWS", "{error}");
    assert_eq!(error["attempts"], 3, "{error}");
    for account in [unavailable, slow, closed] {
        assert_plain_words(&error_of(account).to_string());
    }

    // The audit carries the hint and the attempts into findings.json, coverage.csv and the report.
    let (outcome, findings) = org.run_snapshot("run", &config, &snapshot);
    assert_eq!(outcome.code, 3, "{}", outcome.describe());
    let row = coverage(&findings, unavailable);
    assert_eq!(row["status"], "failed", "{row}");
    assert_eq!(row["attempts"], 3, "{row}");
    assert!(row["hint"].as_str().unwrap().contains("AWS was unavailable"), "{row}");
    let mut csv = csv::Reader::from_path(org.scratch.path().join("run/coverage.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    let column =
        |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} column"));
    let (hint_at, attempts_at) = (column("hint"), column("attempts"));
    let line = csv.records().map(|r| r.unwrap()).find(|r| &r[0] == unavailable.as_str()).unwrap();
    assert!(line[hint_at].contains("AWS was unavailable"), "{line:?}");
    assert_eq!(&line[attempts_at], "3", "{line:?}");
    let html = std::fs::read_to_string(org.scratch.path().join("run/report.html")).unwrap();
    assert!(
        html.contains("What to do (3 attempts made): AWS was unavailable"),
        "no hint in the coverage table"
    );
}

#[test]
fn an_sts_outage_is_not_called_missing_credentials() {
    let org = LiveOrg::start(1, 0);
    org.proxy.set_rules(
        &json!([{"service": "sts", "operation": "GetCallerIdentity", "respond": "ServiceUnavailable"}]),
    );
    let config = org.config("outage.toml", "");
    let (outcome, findings) = org.run("run", &config);
    assert_eq!(outcome.code, 1, "fatal: nothing was collected (DESIGN.md): {}", outcome.describe());
    assert!(findings.is_null());
    let error = outcome
        .stderr
        .lines()
        .find(|l| l.contains("error:"))
        .unwrap_or_else(|| panic!("{}", outcome.describe()));
    assert!(error.contains("AWS was unavailable"), "{error}");
    assert!(error.contains("3 attempts") && error.contains("ServiceUnavailable"), "{error}");
    assert!(!error.contains("credential"), "an outage is not a credentials problem: {error}");
    assert_eq!(error.matches("sts:GetCallerIdentity").count(), 1, "the stage once: {error}");
    assert_plain_words(error);

    // And no credentials at all says so, in a line, without the SDK's dump.
    let mut command = common::iam_auditor();
    for name in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        command.env_remove(name);
    }
    let none = org.scratch.path().join("no-such-aws-file");
    let output = command
        .env("AWS_ENDPOINT_URL", &org.proxy.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["run", "--no-mail", "--config", config.to_str().unwrap()])
        .arg("--out")
        .arg(org.scratch.path().join("no-credentials"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let error = stderr.lines().find(|l| l.contains("error:")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(error.contains("no AWS credentials found (tried: environment, profile, SSO"), "{error}");
    assert!(error.contains("configure the standard AWS credential chain"), "{error}");
    assert!(error.len() < 400, "{} characters: {error}", error.len());
    assert_plain_words(error);
}

#[test]
fn lost_scps_make_the_run_partial_and_say_which_verdicts_rest_on_them() {
    let org = LiveOrg::start(2, 0);
    org.proxy.set_rules(
        &json!([{"service": "organizations", "operation": "ListPolicies", "respond": "ServiceUnavailable"}]),
    );
    let config = org.config("scps.toml", "");
    let (collected, snapshot) = org.collect("evidence", &config);
    assert_eq!(collected.code, 3, "partial: {}", collected.describe());
    assert!(collected.stdout.contains("service control policies were not collected"), "{}", collected.stdout);
    assert!(!snapshot.join("organization/scps.json").exists());
    let error = read_json(&snapshot.join("organization/scps-error.json"));
    assert_eq!(error["stage"], "organizations:ListPolicies", "{error}");
    assert_eq!(error["attempts"], 3, "{error}");
    assert!(error["hint"].as_str().unwrap().contains("AWS was unavailable"), "{error}");

    for (name, source) in [("offline", Some(&snapshot)), ("live", None)] {
        let (outcome, findings) = match source {
            Some(snapshot) => org.run_snapshot(name, &config, snapshot),
            None => org.run(name, &config),
        };
        assert_eq!(outcome.code, 3, "{name}: partial without the SCPs: {}", outcome.describe());
        // Every account was audited; what is missing is the SCPs, said once for the run...
        for row in findings["coverage"].as_array().unwrap() {
            assert_eq!(row["status"], "audited", "{name}: {row}");
        }
        let problems = findings["snapshot_problems"].to_string();
        assert!(problems.contains("service control policies were not collected"), "{name}: {problems}");
        assert!(problems.contains("organizations:ListPolicies"), "{name}: {problems}");
        assert!(
            problems.contains("admin verdicts in the member accounts assume no SCP limits them"),
            "{name}: {problems}"
        );
        // ...and on each member account whose admin verdicts rest on them (not the management account).
        for member in org.members() {
            let notes = coverage(&findings, &member)["notes"].to_string();
            assert!(notes.contains("assume no SCP limits them"), "{name}: {member}: {notes}");
        }
        let notes = coverage(&findings, &org.management())["notes"].to_string();
        assert!(!notes.contains("SCP"), "{name}: SCPs never limit the management account: {notes}");
        let html = std::fs::read_to_string(org.scratch.path().join(name).join("report.html")).unwrap();
        assert!(html.contains("service control policies were not collected"), "{name}: the report says so");
    }
}
