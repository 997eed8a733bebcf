//! `iam-auditor run`, live, against tests/aws_standin.py: the stand-in that answers like AWS
//! for the scale benchmark (bench/live_scale.sh). This checks that the stand-in speaks each
//! API the way the real aws-sdk-rust clients accept (STS AssumeRole into every member,
//! Organizations' pages of 20, IAM's awsQuery XML, Access Analyzer, Identity Center), that a
//! credential report takes two polls, and that its throttling, in each service's wire
//! format, is retried by the SDK and never loses an account. Nothing here is timed.

mod common;

use common::emulator::{repo, Standin};
use serde_json::Value;

const ACCOUNTS: usize = 20;

#[test]
fn a_twenty_account_organization_is_audited_whole_through_throttling() {
    let scratch = tempfile::tempdir().expect("temporary folder");
    // The demo organization's accounts are the templates; 10 % of calls throttled (at most 2
    // in a row per call), 20 ms a call.
    let standin = Standin::start(
        &repo().join("examples/demo-org"),
        scratch.path(),
        &["--accounts", &ACCOUNTS.to_string(), "--latency-ms", "20", "--throttle-percent", "10"],
    );
    let config = scratch.path().join("config.toml");
    std::fs::write(
        &config,
        "[organization]\nrole_name = \"OrganizationAccountAccessRole\"\nregions = [\"us-east-1\"]\nconcurrency = 8\n",
    )
    .unwrap();
    let out = scratch.path().join("run");
    let none = scratch.path().join("no-such-aws-file");
    let mut command = common::iam_auditor();
    for name in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE"] {
        command.env_remove(name);
    }
    let output = command
        .env("AWS_ENDPOINT_URL", &standin.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["run", "--no-mail", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stats = standin.stats();
    assert_eq!(output.status.code(), Some(0), "every account audited: exit 0\n{stderr}\nstand-in: {stats}");

    let findings: Value =
        serde_json::from_slice(&std::fs::read(out.join("findings.json")).expect("findings.json")).unwrap();
    let coverage = findings["coverage"].as_array().expect("coverage rows");
    assert_eq!(coverage.len(), ACCOUNTS, "{stderr}");
    for row in coverage {
        assert_eq!(row["status"], "audited", "{row}");
        let calls = &row["api_calls"];
        assert_eq!(calls["iam:GenerateCredentialReport"], 2, "STARTED, then COMPLETE: {row}");
        assert_eq!(calls["iam:GetCredentialReport"], 1, "{row}");
        assert_eq!(calls["iam:GetAccountAuthorizationDetails"], 1, "one page of 1,000: {row}");
        assert_eq!(calls["access-analyzer:ListAnalyzers"], 1, "one region: {row}");
    }
    let stats_run = &findings["run"]["stats"];
    assert_eq!(stats_run["accounts_audited"], ACCOUNTS);
    assert_eq!(stats_run["api_calls"]["sts:AssumeRole"], ACCOUNTS - 1, "every member, not the caller's own");
    assert!(
        stats_run["api_calls"]["organizations:ListAccounts"].as_u64() >= Some(1),
        "{}",
        stats_run["api_calls"]
    );

    // The stand-in's side: every member assumed into, the throttles it sent all retried.
    assert_eq!(stats["accounts_in_organization"], ACCOUNTS);
    assert_eq!(stats["accounts_assumed"], ACCOUNTS - 1, "{stats}");
    let throttled = stats["throttled_total"].as_u64().unwrap();
    assert!(throttled > 0, "10 % of about 200 calls throttled: {stats}");
    let retries: u64 =
        stats_run["api_retries"].as_object().map(|r| r.values().filter_map(Value::as_u64).sum()).unwrap_or(0);
    assert_eq!(
        retries, throttled,
        "every throttle retried once: {}\nstand-in: {stats}",
        stats_run["api_retries"]
    );
    let answered: u64 = stats["calls_total"].as_u64().unwrap();
    let counted: u64 = stats_run["api_calls"].as_object().unwrap().values().filter_map(Value::as_u64).sum();
    assert_eq!(answered, counted + retries, "the run counted every call the stand-in answered: {stats}");
}
