//! The S3 compliance archive against a real S3 API emulator (moto_server on 127.0.0.1),
//! through the real aws-sdk-s3 client: two runs over two snapshots into one Object Lock
//! bucket; the second reads the first back from S3 to say what changed.
//!
//! Needs the Python environment `scripts/test.sh` makes (.venv with moto[server]); without it
//! the test fails and says so.

mod common;

use common::emulator::Moto;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A run whose AWS calls go to `moto`, with static test credentials.
fn archived_run(moto: &Moto, snapshot: &Path, config: &Path) -> (i32, String) {
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    run_archived(snapshot, config, &env)
}

#[test]
fn runs_are_filed_in_s3_with_object_lock_and_the_previous_run_is_read_back() {
    let moto = Moto::start();
    moto.tool("s3_tool.py", &["create-locked-bucket", "evidence"]);
    let snapshot = SnapshotDir::two_accounts();
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("iam-auditor.toml");
    std::fs::write(
        &config,
        "[archive]\ns3_uri = \"s3://evidence/iam-audit\"\ns3_path_style = true\n\
         s3_object_lock_mode = \"GOVERNANCE\"\ns3_object_lock_days = 30\n",
    )
    .unwrap();

    let (code, output) = archived_run(&moto, snapshot.path(), &config);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("s3://evidence/iam-audit/"), "says where the run is: {output}");
    let objects: Vec<Value> =
        serde_json::from_slice(&moto.tool("s3_tool.py", &["inspect", "evidence", "iam-audit/"])).unwrap();
    let keys: Vec<&str> = objects.iter().map(|o| o["key"].as_str().unwrap()).collect();
    let run = keys[0].split('/').nth(1).unwrap().to_string();
    for file in [
        "SHA256SUMS",
        "coverage.csv",
        "digest.eml",
        "findings.csv.gz",
        "findings.json.gz",
        "findings.ocsf.json.gz",
        "report.html",
        "summary.json",
    ] {
        assert!(keys.contains(&format!("iam-audit/{run}/{file}").as_str()), "{file} archived: {keys:?}");
    }
    for object in &objects {
        assert_eq!(object["lock_mode"], "GOVERNANCE", "{object}");
        assert!(object["retain_until"].as_str().unwrap().starts_with("20"), "{object}");
    }
    // The checksums match the archived bytes.
    let sums = String::from_utf8(
        moto.tool("s3_tool.py", &["get", "evidence", &format!("iam-audit/{run}/SHA256SUMS")]),
    )
    .unwrap();
    for line in sums.lines() {
        let (digest, file) = line.split_once("  ").unwrap();
        let bytes = moto.tool("s3_tool.py", &["get", "evidence", &format!("iam-audit/{run}/{file}")]);
        use sha2::Digest;
        let actual: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(actual, digest, "{file}");
    }

    // Carol is gone from account A's report: the second run reads the first from S3.
    let users: Vec<ReportRow> = standard_users(ACCOUNT_A).into_iter().filter(|(u, _)| u != "carol").collect();
    snapshot.write(&credential_report_path(ACCOUNT_A), credential_report(&users));
    std::thread::sleep(Duration::from_millis(1100)); // a new run id
    let (code, output) = archived_run(&moto, snapshot.path(), &config);
    assert_eq!(code, 0, "{output}");
    assert!(!output.contains("findings-index"), "the first run's findings index was read as it is: {output}");
    let objects: Vec<Value> =
        serde_json::from_slice(&moto.tool("s3_tool.py", &["inspect", "evidence", "iam-audit/"])).unwrap();
    let mut runs: Vec<String> =
        objects.iter().map(|o| o["key"].as_str().unwrap().split('/').nth(1).unwrap().to_string()).collect();
    runs.dedup();
    assert_eq!(runs.len(), 2, "the first run is kept: {runs:?}");
    let second: Value = serde_json::from_slice(&gunzip_if_needed(
        moto.tool("s3_tool.py", &["get", "evidence", &format!("iam-audit/{}/findings.json.gz", runs[1])]),
    ))
    .unwrap();
    assert_eq!(second["run"]["previous_run"], run.as_str());
    let resolved: Vec<&str> =
        second["resolved"].as_array().unwrap().iter().map(|f| f["resource_arn"].as_str().unwrap()).collect();
    assert_eq!(resolved, vec![arn(ACCOUNT_A, "user", "carol")]);

    // The second run's trend reads the first run's summary.json back from S3.
    let first: Value = serde_json::from_slice(
        &moto.tool("s3_tool.py", &["get", "evidence", &format!("iam-audit/{run}/summary.json")]),
    )
    .unwrap();
    let html = String::from_utf8(
        moto.tool("s3_tool.py", &["get", "evidence", &format!("iam-audit/{}/report.html", runs[1])]),
    )
    .unwrap();
    for (name, summary) in [(run.as_str(), &first), (runs[1].as_str(), &second["summary"])] {
        let row = format!(
            "<tr data-run=\"{name}\" data-open=\"{}\" data-new=\"{}\" data-resolved=\"{}\"",
            summary["open"], summary["new"], summary["resolved"]
        );
        assert!(html.contains(&row), "{row} missing from the second run's trend");
    }
    assert_eq!(html.matches("<g class=\"trend-run\">").count(), 2);

    // The first run's access roster is read back from S3 too: every row of the second run
    // was there before, so each keeps the first run's as-of as its first_seen.
    let roster = gunzip_if_needed(
        moto.tool("s3_tool.py", &["get", "evidence", &format!("iam-audit/{}/access-roster.csv.gz", runs[1])]),
    );
    let mut reader = csv::Reader::from_reader(roster.as_slice());
    let column = reader.headers().unwrap().iter().position(|h| h == "first_seen").unwrap();
    let first_seen: Vec<String> = reader.records().map(|r| r.unwrap()[column].to_string()).collect();
    assert!(!first_seen.is_empty(), "the second run has roster rows");
    assert!(first_seen.iter().all(|f| *f == first["as_of"]), "{first_seen:?} vs {}", first["as_of"]);
}

#[test]
fn an_unreachable_bucket_is_fatal_and_keeps_the_run_on_disk() {
    let moto = Moto::start();
    let snapshot = SnapshotDir::two_accounts();
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("iam-auditor.toml");
    std::fs::write(&config, "[archive]\ns3_uri = \"s3://no-such-bucket/x\"\ns3_path_style = true\n").unwrap();
    let (code, output) = archived_run(&moto, snapshot.path(), &config);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("no-such-bucket") && output.contains("NoSuchBucket"), "{output}");
}

#[test]
fn sse_kms_is_requested_for_every_object() {
    let moto = Moto::start();
    moto.tool("s3_tool.py", &["create-locked-bucket", "evidence-kms"]);
    let snapshot = SnapshotDir::two_accounts();
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("iam-auditor.toml");
    std::fs::write(
        &config,
        "[archive]\ns3_uri = \"s3://evidence-kms\"\ns3_path_style = true\ns3_kms_key_id = \"alias/iam-audit\"\n",
    )
    .unwrap();
    let (code, output) = archived_run(&moto, snapshot.path(), &config);
    assert_eq!(code, 0, "{output}");
    let objects: Vec<Value> =
        serde_json::from_slice(&moto.tool("s3_tool.py", &["inspect", "evidence-kms", ""])).unwrap();
    assert_eq!(
        objects.len(),
        12,
        "the eight run files, the findings index, the two account pages and SHA256SUMS: {objects:?}"
    );
    assert!(
        objects.iter().any(|o| o["key"].as_str().unwrap().ends_with("/findings-index.tsv.gz")),
        "{objects:?}"
    );
    assert!(
        objects.iter().any(|o| o["key"].as_str().unwrap().ends_with("/accounts/222222222222.html")),
        "{objects:?}"
    );
    for object in &objects {
        assert_eq!(object["sse"], "aws:kms", "{object}");
        assert!(object["lock_mode"].is_null(), "no Object Lock unless configured: {object}");
    }
}
