//! The Lambda mode for real: the binary is started as Lambda starts `bootstrap` (no
//! arguments, `AWS_LAMBDA_RUNTIME_API` set) against cargo-lambda's Lambda Runtime API
//! emulator (`cargo lambda watch --only-lambda-apis`), invoked with `cargo lambda invoke`, and
//! collects an Organization in moto_server, with the config read from moto's S3, the SMTP
//! login from moto's Secrets Manager, the run archived in moto's S3 and the digest mailed to
//! a real SMTP server (aiosmtpd, STARTTLS and AUTH).
//!
//! Needs scripts/test.sh's .venv (moto[server], aiosmtpd, cargo-lambda) and openssl.

mod common;

use common::emulator::{repo, venv_bin, Moto, Started};
use common::gunzip_if_needed;
use common::smtp::{make_certificates, SmtpServer};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SMTP_USER: &str = "lambda-mailer";
const SMTP_PASSWORD: &str = "from-secrets-manager-never-printed";
const CONFIG_KEY: &str = "config/iam-auditor.toml";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// cargo-lambda's Runtime API emulator on a free port (`cargo lambda invoke` waits up to 900 s).
fn runtime_api() -> (Started, u16) {
    let port = free_port();
    let child = Command::new(venv_bin("cargo-lambda"))
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
        .args(["--timeout", "900"])
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo-lambda starts (scripts/test.sh installs it into .venv)");
    let started = Started::new(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "cargo lambda watch did not listen on 127.0.0.1:{port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    (started, port)
}

fn invoke(port: u16, event: &str) -> (bool, String) {
    let output = Command::new(venv_bin("cargo-lambda"))
        .args(["lambda", "invoke", "-A", "127.0.0.1", "-P", &port.to_string(), "--data-ascii", event, "_"])
        .current_dir(repo())
        .output()
        .expect("cargo lambda invoke runs");
    (
        output.status.success(),
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
    )
}

fn write_config(moto: &Moto, dir: &Path, archive: &str, smtp_port: u16) {
    let config = format!(
        "[organization]\nrole_name = \"OrganizationAccountAccessRole\"\nregions = []\n\n{archive}\n\n\
         [mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"starttls\"\n\
         ca_file = {:?}\nfrom = \"IAM audit <iam-audit@example.com>\"\nto = [\"auditors@example.com\"]\nretries = 0\n",
        dir.join("ca.pem")
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    moto.tool("s3_tool.py", &["put", "audit-archive", CONFIG_KEY, path.to_str().unwrap()]);
}

/// The binary started as Lambda starts `bootstrap`: no arguments, the runtime's environment.
fn start_function(moto: &Moto, dir: &Path, port: u16, log: &Path, smtp_secret: Option<&str>) -> Started {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("iam-auditor"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TMPDIR", dir)
        .env("IAM_AUDITOR_CONFIG", format!("s3://audit-archive/{CONFIG_KEY}"))
        .env("IAM_AUDITOR_S3_PATH_STYLE", "true")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    if let Some(secret) = smtp_secret {
        command.env("IAM_AUDITOR_SMTP_SECRET_ARN", secret);
    }
    Started::new(command.spawn().expect("the binary starts as a Lambda function"))
}

/// moto with an Organization seeded by tests/moto_org.py `seed_args`, and the archive bucket.
fn seeded_moto(dir: &Path, seed_args: &[&str]) -> Moto {
    let moto = Moto::start();
    let seeded = Command::new(venv_bin("python"))
        .arg(repo().join("tests/moto_org.py"))
        .args(["--endpoint", &moto.endpoint])
        .args(seed_args)
        .arg("--out")
        .arg(dir.join("seed.json"))
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    moto.tool("s3_tool.py", &["create-locked-bucket", "audit-archive"]);
    moto
}

#[test]
fn the_lambda_handler_collects_archives_in_s3_and_mails_with_the_secret() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let moto = seeded_moto(dir, &["--members", "1"]);
    let secret = String::from_utf8(moto.tool(
        "s3_tool.py",
        &[
            "create-secret",
            "iam-auditor/smtp",
            &format!(r#"{{"username": "{SMTP_USER}", "password": "{SMTP_PASSWORD}"}}"#),
        ],
    ))
    .unwrap();
    make_certificates(dir);
    let smtp = SmtpServer::start(&[
        "--starttls",
        dir.join("server.pem").to_str().unwrap(),
        dir.join("server.key").to_str().unwrap(),
        "--auth",
        &format!("{SMTP_USER}:{SMTP_PASSWORD}"),
    ]);
    let s3_archive = "[archive]\ns3_uri = \"s3://audit-archive/iam\"\ns3_path_style = true";
    write_config(&moto, dir, s3_archive, smtp.port);

    let (_emulator, port) = runtime_api();
    let function_log = dir.join("function.stderr");
    let _function = start_function(&moto, dir, port, &function_log, Some(secret.trim()));

    // 1. A scheduled invocation: collect both accounts, archive in S3, mail with the secret.
    let (ok, response) = invoke(port, r#"{"as_of": "2030-01-01T00:00:00Z"}"#);
    let log = std::fs::read_to_string(&function_log).unwrap_or_default();
    assert!(ok, "{response}\n--- function log\n{log}");
    assert!(response.contains(r#""exit_code":0"#), "{response}");
    let objects: Vec<Value> =
        serde_json::from_slice(&moto.tool("s3_tool.py", &["inspect", "audit-archive", "iam/"])).unwrap();
    let sums: Vec<&str> =
        objects.iter().map(|o| o["key"].as_str().unwrap()).filter(|k| k.ends_with("/SHA256SUMS")).collect();
    assert_eq!(sums.len(), 1, "one archived run: {objects:?}");
    let run = sums[0].trim_end_matches("/SHA256SUMS").to_string();
    let findings: Value = serde_json::from_slice(&gunzip_if_needed(
        moto.tool("s3_tool.py", &["get", "audit-archive", &format!("{run}/findings.json.gz")]),
    ))
    .unwrap();
    assert_eq!(findings["run"]["source"], "live");
    assert_eq!(findings["run"]["stats"]["accounts_audited"], 2, "{}", findings["coverage"]);
    assert_eq!(smtp.messages().len(), 1, "the digest was mailed");
    assert_eq!(smtp.envelope(1)["authenticated"], true, "with the login from Secrets Manager");
    // JSON logs for CloudWatch, ending with the line the metric filter matches.
    let last = log.lines().rev().find(|l| l.contains("run-finished")).expect("a run-finished log line");
    let last: Value = serde_json::from_str(last).expect("JSON log line");
    assert_eq!((last["event"].as_str(), last["exit_code"].as_i64()), (Some("run-finished"), Some(0)));
    assert!(!log.contains(SMTP_PASSWORD), "the secret never reaches the log");

    // 2. A dry run: archived and compared with the first run, not mailed.
    let (ok, response) = invoke(port, r#"{"as_of": "2030-01-01T00:00:00Z", "dry_run": true}"#);
    assert!(ok, "{response}");
    assert_eq!(smtp.messages().len(), 1, "dry_run sends nothing");
    let objects: Vec<Value> =
        serde_json::from_slice(&moto.tool("s3_tool.py", &["inspect", "audit-archive", "iam/"])).unwrap();
    let runs = objects.iter().filter(|o| o["key"].as_str().unwrap().ends_with("/SHA256SUMS")).count();
    assert_eq!(runs, 2);

    // 3. A config whose archive is a local folder is refused: nothing outlives a Lambda.
    write_config(&moto, dir, "[archive]\ndir = \"/tmp/iam-auditor-archive\"", smtp.port);
    let (ok, response) = invoke(port, "{}");
    assert!(!ok, "a function error, so the Errors alarm fires: {response}");
    assert!(response.contains("archive must be S3"), "{response}");
}

#[test]
fn an_organization_too_large_for_the_time_left_is_refused_with_advice() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    // 55 accounts, one at a time: about 55 x 10 s + 55 x 0.15 s + 60 s = 618 s, more than the
    // 600 s cargo-lambda's emulator gives every invocation (it sends the timeout itself as the
    // deadline).
    let moto = seeded_moto(dir, &["--members", "54", "--no-problems"]);
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[organization]\nrole_name = \"OrganizationAccountAccessRole\"\nregions = []\nconcurrency = 1\n\n\
         [archive]\ns3_uri = \"s3://audit-archive/iam\"\ns3_path_style = true\n",
    )
    .unwrap();
    moto.tool("s3_tool.py", &["put", "audit-archive", CONFIG_KEY, config.to_str().unwrap()]);
    let (_emulator, port) = runtime_api();
    let log = dir.join("function.stderr");
    let _function = start_function(&moto, dir, port, &log, None);
    let (ok, response) = invoke(port, "{}");
    assert!(!ok, "{response}");
    assert!(response.contains("refused") && response.contains("ECS"), "{response}");
    let objects: Vec<Value> =
        serde_json::from_slice(&moto.tool("s3_tool.py", &["inspect", "audit-archive", "iam/"])).unwrap();
    assert!(objects.is_empty(), "nothing archived: {objects:?}");
}
