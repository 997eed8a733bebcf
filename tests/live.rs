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
        let moto = Moto::start();
        let scratch = tempfile::tempdir().expect("temporary folder");
        let seed_file = scratch.path().join("seed.json");
        let output = Command::new(common::emulator::venv_bin("python"))
            .arg(repo().join("tests/moto_org.py"))
            .args(["--endpoint", &moto.endpoint, "--members", &members.to_string(), "--out"])
            .arg(&seed_file)
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
        let proxy = FaultProxy::start(&moto, scratch.path(), gaad_page_size, &recorded);
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
        // The proxy puts the organization-level calls on the caller's (management) account.
        let mut seen = seen_by_proxy(&org.proxy, id);
        seen.retain(|op, _| !op.starts_with("organizations:") && op != "sts:GetCallerIdentity");
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
    let fingerprints = |f: &Value| -> BTreeSet<(String, String)> {
        f["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (x["fingerprint"].as_str().unwrap().to_string(), x["severity"].as_str().unwrap().to_string())
            })
            .collect()
    };
    assert!(!fingerprints(&offline).is_empty());
    assert_eq!(fingerprints(&offline), fingerprints(&live_findings), "collect + run --snapshot == live run");
    // The snapshot run reports the calls of the collection that made it.
    assert_eq!(offline["run"]["stats"]["api_calls"], json!(manifest["api_calls"]));
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
