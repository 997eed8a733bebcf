//! findings.ocsf.json on the demo organization, through the real binary: one OCSF Detection
//! Finding a line for every finding, resolved and carried-over one of findings.json, with
//! the activity and status each change maps to, and every line valid against the official
//! OCSF 1.5.0 schema (tests/ocsf_validate.py, with the schema the PyPI package
//! ocsf-json-schema ships; scripts/test.sh installs it). Missing tools fail with the fix.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const OCSF_VERSION: &str = "1.5.0";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    common::test_python("ocsf-json-schema and jsonschema")
}

/// Runs the validator on `file`: its exit code, stdout and stderr.
fn validate(file: &Path) -> (i32, String, String) {
    let output = std::process::Command::new(python())
        .arg(repo().join("tests/ocsf_validate.py"))
        .arg(file)
        .arg(OCSF_VERSION)
        .output()
        .expect("the validator runs");
    let code = output.status.code().expect("exited");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert_ne!(code, 2, "the OCSF schema or its tools are missing:\n{stderr}");
    (code, stdout, stderr)
}

/// The demo run (compared with examples/demo-archive) written to a new folder.
fn run_demo(config: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temp dir");
    let output = Command::cargo_bin("iam-auditor")
        .expect("the binary is built")
        .current_dir(repo())
        .args(["run", "--snapshot", "examples/demo-org", "--no-mail", "--config"])
        .arg(config)
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("iam-auditor runs");
    assert_eq!(output.status.code(), Some(3), "{}", String::from_utf8_lossy(&output.stderr));
    out
}

fn events(dir: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(dir.join("findings.ocsf.json")).expect("findings.ocsf.json is written");
    assert!(text.ends_with('\n'));
    text.lines().map(|line| serde_json::from_str(line).expect("each line is one JSON object")).collect()
}

fn count(events: &[Value], pred: impl Fn(&Value) -> bool) -> usize {
    events.iter().filter(|e| pred(e)).count()
}

#[test]
fn the_demo_writes_one_valid_ocsf_event_per_finding_of_findings_json() {
    let out = run_demo(&repo().join("examples/demo-org.toml"));
    let findings: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("findings.json")).unwrap()).unwrap();
    let events = events(out.path());
    let list = |key: &str| findings[key].as_array().unwrap().clone();
    let (current, resolved, carried) = (list("findings"), list("resolved"), list("carried_over"));
    assert!(!resolved.is_empty(), "the demo's previous run has resolved findings");
    assert_eq!(events.len(), current.len() + resolved.len() + carried.len());

    let uids: BTreeSet<&str> = events.iter().map(|e| e["finding_info"]["uid"].as_str().unwrap()).collect();
    let fingerprints: BTreeSet<&str> =
        current.iter().chain(&resolved).chain(&carried).map(|f| f["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(uids, fingerprints, "finding_info.uid is the fingerprint");

    let of = |change: &str, status: &str| {
        current.iter().filter(|f| f["change"] == change && f["status"] == status).count()
    };
    let (new, persisting) = (
        of("new", "open") + of("new", "suppressed"),
        of("persisting", "open") + of("persisting", "suppressed"),
    );
    assert!(new > 0 && persisting > 0, "the demo has new and persisting findings");
    assert_eq!(count(&events, |e| e["activity_id"] == 1 && e["type_uid"] == 200401), new, "new: Create");
    assert_eq!(
        count(&events, |e| e["activity_id"] == 2 && e["type_uid"] == 200402),
        persisting + carried.len(),
        "persisting and carried over: Update"
    );
    assert_eq!(
        count(&events, |e| e["activity_id"] == 3 && e["status_id"] == 4 && e["status"] == "Resolved"),
        resolved.len(),
        "resolved: Close"
    );
    let suppressed = current.iter().filter(|f| f["status"] == "suppressed").count();
    assert!(suppressed > 0, "the demo has a live suppression");
    assert_eq!(count(&events, |e| e["status_id"] == 3 && e["status"] == "Suppressed"), suppressed);

    let org = findings["provenance"]["organization_id"].as_str().expect("the demo's organization id");
    for event in &events {
        assert_eq!(event["class_uid"], 2004);
        assert_eq!(event["metadata"]["version"], OCSF_VERSION);
        assert_eq!(event["cloud"]["provider"], "AWS");
        assert_eq!(event["cloud"]["org"]["uid"], org);
        assert!(event["resources"][0]["uid"].as_str().unwrap().starts_with("arn:"), "{event}");
        assert!(!event["remediation"]["desc"].as_str().unwrap().is_empty());
    }
    let stale =
        events.iter().find(|e| e["unmapped"]["check"] == "console-without-mfa").expect("a demo finding");
    assert_eq!(
        stale["unmapped"]["compliance"],
        serde_json::json!([
            {"standard": "CIS AWS Foundations Benchmark v3.0.0", "controls": ["1.10"]},
            {"standard": "CIS AWS Foundations Benchmark v5.0.0", "controls": ["1.9"]},
            {"standard": "AWS Security Hub CSPM", "controls": ["IAM.5"]},
        ])
    );

    let (code, stdout, stderr) = validate(&out.path().join("findings.ocsf.json"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("{} event(s) valid against OCSF {OCSF_VERSION}", events.len())),
        "{stdout}"
    );
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let out = run_demo(&repo().join("examples/demo-org.toml"));
    let good: Value = events(out.path()).remove(0);
    let bad = |change: &dyn Fn(&mut Value)| {
        let mut event = good.clone();
        change(&mut event);
        event.to_string()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "an attribute the class does not define",
            bad(&|e| e["compliance"] = serde_json::json!({})),
            "compliance",
        ),
        ("an id outside its enum", bad(&|e| e["severity_id"] = 42.into()), "severity_id"),
        (
            "a required attribute left out",
            bad(&|e| {
                e.as_object_mut().unwrap().remove("finding_info");
            }),
            "finding_info",
        ),
        ("a name that is not the id's caption", bad(&|e| e["status"] = "Open".into()), "status"),
        ("a line that is not JSON", good.to_string()[..40].to_string(), "not JSON"),
    ];
    for (what, line, named) in cases {
        let file = out.path().join("bad.ocsf.json");
        std::fs::write(&file, format!("{good}\n{line}\n")).unwrap();
        let (code, _, stderr) = validate(&file);
        assert_eq!(code, 1, "{what} passed the validator");
        assert!(stderr.contains("line 2") && stderr.contains(named), "{what}: {stderr}");
    }
}

#[test]
fn formats_without_ocsf_write_no_ocsf_file() {
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("demo.toml");
    let demo = std::fs::read_to_string(repo().join("examples/demo-org.toml")).unwrap();
    let without = demo.replacen("[report]\n", "[report]\nformats = [\"html\", \"json\", \"csv\"]\n", 1);
    assert_ne!(demo, without, "the demo config has a [report] section");
    std::fs::write(&config, without).unwrap();
    let out = run_demo(&config);
    assert!(!out.path().join("findings.ocsf.json").exists());
    assert!(out.path().join("findings.json").is_file() && out.path().join("report.html").is_file());
}

#[test]
fn findings_of_an_account_not_audited_are_carried_over_as_valid_updates() {
    // The demo's previous run, plus one finding of the account the demo cannot audit
    // (555566667777): this run cannot re-check it, so it is carried over, not resolved.
    let archive = tempfile::tempdir().unwrap();
    let demo_archive = repo().join("examples/demo-archive");
    let run = std::fs::read_dir(&demo_archive).unwrap().map(|e| e.unwrap().path()).max().expect("a demo run");
    let copy = archive.path().join(run.file_name().unwrap());
    std::fs::create_dir_all(&copy).unwrap();
    let gz = std::fs::File::open(run.join("findings.json.gz")).expect("the demo run's findings");
    let mut previous: Value = serde_json::from_reader(flate2::read::GzDecoder::new(gz)).unwrap();
    let mut ghost = previous["findings"][0].clone();
    let account = ghost["account_id"].as_str().unwrap().to_string();
    ghost["account_id"] = "555566667777".into();
    ghost["account_name"] = "R&D <data-platform>".into();
    ghost["resource_arn"] = ghost["resource_arn"].as_str().unwrap().replace(&account, "555566667777").into();
    ghost["fingerprint"] = "0".repeat(64).into();
    previous["findings"].as_array_mut().unwrap().push(ghost);
    std::fs::write(copy.join("findings.json"), serde_json::to_vec_pretty(&previous).unwrap()).unwrap();
    for name in ["access-roster.csv.gz", "coverage.csv", "SHA256SUMS"] {
        std::fs::copy(run.join(name), copy.join(name)).unwrap();
    }
    let demo = std::fs::read_to_string(repo().join("examples/demo-org.toml")).unwrap();
    let moved = demo.replace("dir = \"examples/demo-archive\"", &format!("dir = {:?}", archive.path()));
    assert_ne!(demo, moved, "the demo config names its archive");
    let config = archive.path().join("demo.toml");
    std::fs::write(&config, moved).unwrap();

    let out = run_demo(&config);
    let events = events(out.path());
    let carried: Vec<&Value> = events.iter().filter(|e| e["unmapped"]["change"] == "carried-over").collect();
    assert_eq!(carried.len(), 1, "the ghost alone");
    let ghost = carried[0];
    assert_eq!(ghost["finding_info"]["uid"], "0".repeat(64));
    assert_eq!((ghost["activity_id"].as_u64(), ghost["type_uid"].as_u64()), (Some(2), Some(200402)));
    assert!(ghost["status_detail"].as_str().unwrap().contains("not re-checked"), "{ghost}");
    assert_eq!(ghost["cloud"]["account"]["uid"], "555566667777");
    assert!(ghost["finding_info"].get("last_seen_time").is_none(), "not seen by this run");
    assert_eq!(events.last().unwrap(), ghost, "carried-over events come last");
    let (code, _, stderr) = validate(&out.path().join("findings.ocsf.json"));
    assert_eq!(code, 0, "{stderr}");
}
