//! The demo organization (examples/demo-org, made by examples/make_demo_org.py) run end to
//! end through the real binary: the exit code the README documents, the five output files,
//! every check of the catalog firing at least once, the live and the expired suppression,
//! and the look-alikes that must not fire.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

const SNAPSHOT: &str = "examples/demo-org";
const DEMO_CONFIG: &str = "examples/demo-org.toml";
const EXAMPLE_CONFIG: &str = "config/iam-auditor.example.toml";
/// digest.eml: with no [mail] section the digest is written (transport "file"), not sent.
const OUTPUTS: [&str; 8] = [
    "report.html",
    "findings.json",
    "findings.csv",
    "coverage.csv",
    "access-roster.csv",
    "summary.json",
    "findings.ocsf.json",
    "digest.eml",
];

/// Exit code 3: reports written, but one account (555566667777) could not be audited.
const DEMO_EXIT: i32 = 3;

const MANAGEMENT: &str = "111122223333";
const PROD: &str = "444455556666";
const DEV: &str = "777788889999";
const NOT_AUDITED: &str = "555566667777";
const SUSPENDED: &str = "222233334444";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn iam_auditor() -> Command {
    let mut command = Command::cargo_bin("iam-auditor").expect("the iam-auditor binary is built");
    command.current_dir(repo());
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    out: tempfile::TempDir,
}

impl Run {
    fn findings(&self) -> Value {
        let text = std::fs::read_to_string(self.out.path().join("findings.json")).expect("findings.json");
        serde_json::from_str(&text).expect("findings.json is JSON")
    }
}

fn run_demo(config: &str) -> Run {
    let out = tempfile::tempdir().expect("temp dir");
    let output = iam_auditor()
        // Not about mail (tests/mail.rs is): the example config's SMTP server does not exist.
        .args(["run", "--snapshot", SNAPSHOT, "--no-mail", "--config", config, "--out"])
        .arg(out.path())
        .output()
        .expect("iam-auditor runs");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out,
    }
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings is an array")
}

/// The findings of `check` on the resource with this ARN.
fn on<'a>(report: &'a Value, check: &str, arn: &str) -> Vec<&'a Value> {
    findings(report).iter().filter(|f| f["check"] == check && f["resource_arn"] == arn).collect()
}

fn catalog_ids() -> BTreeSet<String> {
    let output = iam_auditor().arg("checks").output().expect("iam-auditor checks runs");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .skip(1) // the header
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_demo_exits_3_and_writes_every_output() {
    let run = run_demo(DEMO_CONFIG);
    assert_eq!(run.code, DEMO_EXIT, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    for name in OUTPUTS {
        assert!(run.out.path().join(name).is_file(), "{name} was not written");
    }
    assert!(
        run.stdout.contains("3 account(s) audited, 1 failed, 1 skipped;"),
        "one-line summary missing: {}",
        run.stdout
    );
    let report = run.findings();
    assert_eq!(report["schema"], "iam-auditor/findings/v1");
    assert_eq!(
        report["run"]["as_of"], "2026-11-20T06:00:00Z",
        "as_of defaults to the snapshot's collected_at"
    );
}

#[test]
fn every_check_of_the_catalog_fires_in_the_demo() {
    let catalog = catalog_ids();
    assert!(catalog.contains("admin-access"), "catalog read from `iam-auditor checks`: {catalog:?}");
    let report = run_demo(DEMO_CONFIG).findings();
    let fired: BTreeSet<String> =
        findings(&report).iter().filter_map(|f| f["check"].as_str().map(str::to_string)).collect();
    let silent: Vec<&String> = catalog.difference(&fired).collect();
    assert!(silent.is_empty(), "checks with no finding in the demo: {silent:?}");
}

#[test]
fn coverage_shows_the_suspended_account_skipped_and_the_denied_one_failed() {
    let report = run_demo(DEMO_CONFIG).findings();
    let coverage = report["coverage"].as_array().expect("coverage is an array");
    let status = |account: &str| {
        coverage
            .iter()
            .find(|c| c["account_id"] == account)
            .map(|c| c["status"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("{account} missing from coverage"))
    };
    assert_eq!(status(SUSPENDED), "skipped");
    assert_eq!(status(NOT_AUDITED), "failed");
    for audited in [MANAGEMENT, PROD, DEV] {
        assert_eq!(status(audited), "audited", "{audited}");
    }
    let gap = on(&report, "account-not-audited", &format!("arn:aws:iam::{NOT_AUDITED}:root"));
    assert_eq!(gap.len(), 1);
    assert!(gap[0]["detail"].as_str().unwrap().contains("AccessDenied"), "{}", gap[0]["detail"]);
}

#[test]
fn the_live_suppression_applies_and_the_expired_one_does_not() {
    let report = run_demo(DEMO_CONFIG).findings();

    let break_glass =
        on(&report, "admin-access", &format!("arn:aws:iam::{MANAGEMENT}:user/break-glass-admin"));
    assert_eq!(break_glass.len(), 1);
    assert_eq!(break_glass[0]["status"], "suppressed");
    assert_eq!(break_glass[0]["suppression"]["expires"], "2027-03-31");

    let vendor = on(&report, "external-trust", &format!("arn:aws:iam::{PROD}:role/legacy-backup-vendor"));
    assert_eq!(vendor.len(), 1);
    assert_eq!(vendor[0]["status"], "open");
    assert!(vendor[0]["suppression"].is_null());
    assert_eq!(vendor[0]["evidence"]["expired_suppression"]["expired"], "2026-09-30");
    assert_eq!(vendor[0]["evidence"]["external_id_missing"], true);
    assert_eq!(vendor[0]["evidence"]["expired_suppression"]["rule"], 2);
    assert_eq!(break_glass[0]["suppression"]["rule"], 1);
    assert_eq!(break_glass[0]["suppression"]["owner"], "security-team");
    assert_eq!(break_glass[0]["suppression"]["ticket"], "SEC-142");
}

/// The demo's snapshot was collected on 2026-11-20 and is judged as of then (no --as-of): its
/// evidence block names the organization, the collector and the manifest's hash, and, the
/// run being later than two days after, the report, digest and log say the data is stale. The
/// lapsed rule leads the report and the digest.
#[test]
fn the_demo_shows_its_evidence_and_its_lapsed_suppression() {
    use sha2::{Digest, Sha256};
    let run = run_demo(DEMO_CONFIG);
    let report = run.findings();
    let provenance = &report["provenance"];
    assert_eq!(provenance["organization_id"], "o-7k2mq9x4ve");
    assert_eq!(
        provenance["collected_by"],
        "arn:aws:sts::111122223333:assumed-role/iam-auditor-task/7d1c0a2e9b4f4c3a8e5d6f7a8b9c0d1e"
    );
    assert_eq!(provenance["snapshot_collected_at"], "2026-11-20T06:00:00Z");
    let manifest = std::fs::read(repo().join(SNAPSHOT).join("manifest.json")).unwrap();
    let sha: String = Sha256::digest(&manifest).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(provenance["manifest_sha256"], sha.as_str());
    assert!(provenance["checksums"]["location"].is_null(), "--out: not filed");
    let age = &provenance["data_age"];
    assert_eq!(age["reference"], "run-start", "as_of defaulted to the collection time");
    assert_eq!(age["reference_at"], report["run"]["started_at"]);
    assert!(age["days"].as_i64().unwrap() > 2 && age["stale"] == true, "{age}");
    assert!(run.stderr.contains(
        "iam-auditor: warning: stale evidence: the snapshot was collected at 2026-11-20T06:00:00Z"
    ));

    let rules: Vec<(u64, &str, u64)> = report["suppression_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["rule"].as_u64().unwrap(), r["status"].as_str().unwrap(), r["findings"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(rules, vec![(1, "active", 1), (2, "lapsed", 1)]);

    let html = std::fs::read_to_string(run.out.path().join("report.html")).unwrap();
    let changes = html.find("id=\"changes\"").unwrap();
    for banner in ["id=\"stale-data-alert\"", "id=\"accepted-risks-alert\"", "<section id=\"evidence\""] {
        assert!(html.find(banner).is_some_and(|at| at < changes), "{banner} leads the report");
    }
    assert!(html.contains(&sha) && html.contains("o-7k2mq9x4ve"));
    let eml = std::fs::read(run.out.path().join("digest.eml")).unwrap();
    let message = mail_parser::MessageParser::default().parse(&eml).expect("a MIME message");
    let subject = message.subject().unwrap_or_default();
    assert!(
        subject.ends_with("· evidence of 2026-11-20"),
        "the subject carries the evidence date: {subject}"
    );
    let text = message.body_text(0).unwrap_or_default();
    assert!(text.contains("STALE EVIDENCE: The evidence is"), "{text}");
    assert!(text.contains("- Rule 2 · external-trust on arn:aws:iam::444455556666:role/legacy-backup-vendor in 444455556666 (owner backup-platform, ticket SEC-97)"), "{text}");
}

#[test]
fn look_alikes_do_not_fire() {
    let report = run_demo(DEMO_CONFIG).findings();

    // GitHub OIDC pinned to one repository and branch.
    let scoped = format!("arn:aws:iam::{PROD}:role/github-actions-deploy-prod");
    assert!(on(&report, "oidc-trust-unscoped", &scoped).is_empty());
    assert_eq!(
        on(&report, "oidc-trust-unscoped", &format!("arn:aws:iam::{PROD}:role/github-actions-terraform"))
            .len(),
        1
    );

    // PowerUserAccess is powerful, not admin.
    assert!(on(&report, "admin-access", &format!("arn:aws:iam::{DEV}:user/dev.kim")).is_empty());

    // Only the non-default version v1 of s3-logs-writer grants * on *.
    assert!(on(&report, "full-admin-policy", &format!("arn:aws:iam::{MANAGEMENT}:policy/s3-logs-writer"))
        .is_empty());
    // The customer policy named like a read-only one does grant * on *.
    assert_eq!(
        on(&report, "full-admin-policy", &format!("arn:aws:iam::{PROD}:policy/ReadOnlyAccess-legacy")).len(),
        1
    );

    // An org-internal deployer role and a Principal "*" limited by aws:PrincipalOrgID.
    for role in ["cicd-deployer", "org-readonly-access"] {
        let arn = format!("arn:aws:iam::{PROD}:role/{role}");
        assert!(on(&report, "external-trust", &arn).is_empty(), "{role}");
        assert!(on(&report, "wide-trust", &arn).is_empty(), "{role}");
    }

    // Service-linked roles are never unused-role, even never used.
    let unused_roles = findings(&report).iter().filter(|f| f["check"] == "unused-role");
    for finding in unused_roles {
        let arn = finding["resource_arn"].as_str().unwrap();
        assert!(!arn.contains("/aws-service-role/"), "{arn}");
    }

    // A user created 6 days ago that never signed in is not unused yet.
    assert!(on(&report, "unused-user", &format!("arn:aws:iam::{PROD}:user/new.hire")).is_empty());
}

#[test]
fn an_admin_capped_by_its_permissions_boundary_is_info() {
    let report = run_demo(DEMO_CONFIG).findings();
    let capped = on(&report, "admin-access", &format!("arn:aws:iam::{DEV}:role/sandbox-admin"));
    assert_eq!(capped.len(), 1);
    assert_eq!(capped[0]["severity"], "info");
    let capped_by = capped[0]["evidence"]["capped_by"].to_string();
    assert!(capped_by.contains("SandboxPermissionsBoundary"), "{capped_by}");
}

/// The catalogue path ids of an escalation finding, first step first.
fn path_ids(finding: &Value) -> Vec<String> {
    finding["evidence"]["path"].as_array().map_or_else(Vec::new, |steps| {
        steps.iter().map(|s| s["path_id"].as_str().unwrap_or_default().to_string()).collect()
    })
}

#[test]
fn escalation_paths_are_reported_step_by_step_and_their_look_alikes_are_not() {
    let report = run_demo(DEMO_CONFIG).findings();
    let escalation = |account: &str, kind: &str, name: &str| -> Value {
        let found = on(&report, "admin-access", &format!("arn:aws:iam::{account}:{kind}/{name}"));
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert_eq!(found[0]["evidence"]["standing"], "escalates", "{name}: {}", found[0]);
        found[0].clone()
    };
    let release_bot = escalation(PROD, "user", "release-bot");
    assert_eq!(path_ids(&release_bot), vec!["lambda-001"]);
    assert_eq!(release_bot["severity"], "high");
    assert!(release_bot["detail"].as_str().unwrap().contains("ops-automation"), "{release_bot}");
    assert_eq!(path_ids(&escalation(PROD, "user", "helpdesk")), vec!["iam-002"]);
    assert_eq!(path_ids(&escalation(DEV, "user", "ml-notebook")), vec!["iam-auditor-001"]);
    let orchestrator = escalation(MANAGEMENT, "role", "release-orchestrator");
    assert_eq!(path_ids(&orchestrator), vec!["sts-001"]);
    let admin_node = orchestrator["evidence"]["admin_node"].as_str().unwrap();
    assert!(admin_node.ends_with(":role/OrganizationAccountAccessRole"), "{admin_node}");
    assert!(!admin_node.contains(MANAGEMENT), "the path crosses into a member account: {admin_node}");
    // ProdOperator (PowerUserAccess) may update any function's code: potential, medium.
    let operator = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["check"] == "admin-access" && f["resource_name"].as_str().unwrap().contains("ProdOperator")
        })
        .expect("ProdOperator's potential path");
    assert_eq!(operator["severity"], "medium");
    assert_eq!(operator["evidence"]["potential"], true);

    // A self-grant under a boundary that allows no IAM writes: capped, info, not high.
    let intern = on(&report, "admin-access", &format!("arn:aws:iam::{DEV}:user/intern.boundary"));
    assert_eq!(intern.len(), 1);
    assert_eq!(intern[0]["severity"], "info");
    assert_eq!(intern[0]["evidence"]["standing"], "capped");
    for (account, kind, name) in [
        (PROD, "user", "key-self-service"),
        (PROD, "user", "app-deployer"),
        (DEV, "role", "quicksetup-ssm-helper"),
        (DEV, "role", "sandbox-trust-editor"),
        (PROD, "user", "jenkins-deploy"),
    ] {
        let arn = format!("arn:aws:iam::{account}:{kind}/{name}");
        assert!(on(&report, "admin-access", &arn).is_empty(), "look-alike {name} was reported");
    }
}

#[test]
fn untrusted_names_are_neutralised_in_findings_csv() {
    let run = run_demo(DEMO_CONFIG);
    let csv = std::fs::read_to_string(run.out.path().join("findings.csv")).expect("findings.csv");
    assert!(csv.contains(",'=cmd@evil,"), "the =cmd@evil resource_name cell is not neutralised");
    assert!(!csv.contains(",=cmd@evil,"));
}

/// Every finding of the demo that has a command carries its real names, no slot to fill in;
/// findings.csv carries the command and the console link in its last two columns, where a
/// name starting with `=` stays inside its quotes and no cell is a formula.
#[test]
fn every_command_of_the_demo_names_real_things() {
    let run = run_demo(DEMO_CONFIG);
    let report = run.findings();
    let mut with_command = 0;
    for finding in findings(&report) {
        let Some(command) = finding["remediation_command"].as_str() else { continue };
        with_command += 1;
        assert_eq!(iam_auditor::checks::fix::placeholder(command), None, "{}: {command}", finding["check"]);
        assert!(command.lines().all(|l| l.starts_with("aws ") || l.starts_with("# ")), "{command}");
    }
    assert!(with_command * 10 > findings(&report).len() * 9, "{with_command} findings with a command");
    let root_keys = &on(&report, "root-access-keys", &format!("arn:aws:iam::{DEV}:root"))[0];
    assert!(root_keys["remediation_command"].is_null(), "the audit's identity cannot fix root's keys");
    assert_eq!(root_keys["console_url"], "https://console.aws.amazon.com/iam/home#/security_credentials");

    let bytes = std::fs::read(run.out.path().join("findings.csv")).expect("findings.csv");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[header.len() - 2..], ["remediation_command", "console_url"]);
    let evil = reader
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[3] == "console-without-mfa" && &r[11] == "'=cmd@evil")
        .expect("the =cmd@evil console-without-mfa row");
    assert_eq!(&evil[21], "aws iam delete-login-profile --user-name '=cmd@evil'");
    assert_eq!(
        &evil[22],
        "https://console.aws.amazon.com/iam/home#/users/details/%3Dcmd%40evil?section=security_credentials"
    );
}

/// The account pages' CIS section-1 matrix: a failing item links to its check's findings on
/// the page, the account that could not be audited is "not collected" rather than clean, and
/// the report's roll-up counts and names the failing accounts.
#[test]
fn the_account_pages_show_the_cis_matrix() {
    let run = run_demo(DEMO_CONFIG);
    let page = |account: &str| {
        std::fs::read_to_string(run.out.path().join(format!("accounts/{account}.html"))).unwrap()
    };
    let row = |html: &str, anchor: &str| -> String {
        let start = html.find(&format!("<tr id=\"{anchor}\">")).unwrap_or_else(|| panic!("no row {anchor}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_string()
    };
    let prod = page(PROD);
    // v5.0.0 1.9 (v3.0.0 1.10): console users without MFA in acme-prod, linked to the section.
    let mfa = row(&prod, "cis-1-9");
    assert!(mfa.contains("<td class=\"mono\" data-l=\"v3.0.0\">1.10</td>"), "{mfa}");
    assert!(
        mfa.contains("cis-fail\">fail</span>") && mfa.contains("href=\"#check-console-without-mfa\""),
        "{mfa}"
    );
    assert!(prod.contains("id=\"check-console-without-mfa\""), "the link's target is on the page");
    let contact = row(&prod, "cis-1-1");
    assert!(contact.contains("cis-manual\">manual</span>"), "{contact}");
    let not_audited = page(NOT_AUDITED);
    let keys = row(&not_audited, "cis-1-13");
    assert!(
        keys.contains("cis-not-collected\">not collected</span>") && keys.contains("not fully audited"),
        "{keys}"
    );

    let html = std::fs::read_to_string(run.out.path().join("report.html")).unwrap();
    let rollup = &html[html.find("<section id=\"cis\">").unwrap()..];
    let rollup = &rollup[..rollup.find("</section>").unwrap()];
    assert!(rollup.contains(&format!("href=\"accounts/{PROD}.html#cis-1-9\"")), "{rollup}");
}

#[test]
fn the_example_config_loads() {
    let run = run_demo(EXAMPLE_CONFIG);
    assert!(
        run.code != 1 && run.code != 2,
        "{EXAMPLE_CONFIG} was rejected (exit {}): {}",
        run.code,
        run.stderr
    );
    assert!(run.out.path().join("findings.json").is_file());
}

/// The demo block of README's "Two commands": the command, the lines it prints, its exit code.
struct ReadmeDemo {
    command: String,
    lines: Vec<String>,
    exit_code: i32,
}

/// Reads the first `console` block under "## Two commands": `$ COMMAND`, the lines it
/// prints (stderr and stdout, in order), then `$ echo $?` and the exit code.
fn readme_demo() -> ReadmeDemo {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let section =
        readme.split("\n## Two commands\n").nth(1).expect("README has a \"## Two commands\" section");
    let block = section
        .split("```console\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("a ```console block in \"Two commands\"");
    let mut lines = block.lines();
    let command = lines.next().and_then(|l| l.strip_prefix("$ ")).expect("the block starts with `$ COMMAND`");
    let mut printed = Vec::new();
    let mut exit_code = None;
    while let Some(line) = lines.next() {
        if line == "$ echo $?" {
            exit_code = lines.next().map(|code| code.trim().parse().expect("an exit code after `$ echo $?`"));
            break;
        }
        printed.push(line.to_string());
    }
    ReadmeDemo {
        command: command.to_string(),
        lines: printed,
        exit_code: exit_code.expect("the block ends with `$ echo $?` and the exit code"),
    }
}

/// The line with its run id (the run's start, `20261202T002639Z`: it differs every run) as `<run id>`.
fn without_run_id(line: &str) -> String {
    let is_run_id = |word: &str| {
        let b = word.as_bytes();
        b.len() == 16
            && b[8] == b'T'
            && b[15] == b'Z'
            && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
    };
    line.split(' ').map(|w| if is_run_id(w) { "<run id>" } else { w }).collect::<Vec<_>>().join(" ")
}

/// README's first command, run as it is written (only `--out` is redirected into a temporary
/// folder, and that folder's path written back as README's in what it prints): what the block
/// shows must be exactly what the binary prints, so a change of the output fails here until
/// README is updated.
#[test]
fn the_readme_demo_block_is_what_the_demo_prints() {
    let demo = readme_demo();
    // A debug build: the same one `scripts/test.sh` makes, so the demo costs no second build.
    let args = demo
        .command
        .strip_prefix("cargo run -- ")
        .unwrap_or_else(|| panic!("README's demo is not `cargo run -- …`: {}", demo.command));
    let mut args: Vec<String> = args.split_whitespace().map(str::to_string).collect();
    let out_flag = args.iter().position(|a| a == "--out").expect("the demo command names --out");
    let readme_out = args[out_flag + 1].clone();
    let out = tempfile::tempdir().expect("temp dir");
    let temp_out = out.path().join("demo").to_str().expect("a UTF-8 temp path").to_string();
    args[out_flag + 1] = temp_out.clone();

    // stdout and stderr into one file, so their lines keep the order a terminal shows.
    let log_path = out.path().join("console.log");
    let log = std::fs::File::create(&log_path).expect("console log");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_iam-auditor"));
    command.current_dir(repo()).args(&args).stdin(std::process::Stdio::null());
    command.stdout(log.try_clone().expect("console log")).stderr(log);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|n| n.starts_with("IAM_AUDITOR_") || n.starts_with("RUST_LOG")) {
            command.env_remove(name);
        }
    }
    let status = command.status().expect("iam-auditor runs");
    let printed = std::fs::read_to_string(&log_path).expect("console log").replace(&temp_out, &readme_out);
    let printed: Vec<String> = printed.lines().map(without_run_id).collect();
    let readme: Vec<String> = demo.lines.iter().map(|l| without_run_id(l)).collect();
    assert_eq!(
        printed, readme,
        "README.md's demo block (\"Two commands\") no longer matches what `{}` prints; update README.md \
         with the lines on the left",
        demo.command
    );
    assert_eq!(status.code(), Some(demo.exit_code), "README.md's demo exit code");
}

/// (account, resource name) of every open finding of `check`.
fn pairs_of(report: &Value, check: &str) -> BTreeSet<(String, String)> {
    findings(report)
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| {
            (f["account_id"].as_str().unwrap().to_string(), f["resource_name"].as_str().unwrap().to_string())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

const PEOPLE: &str = "@acme.example";

/// make_demo_org.py's Identity Center: each person named on exactly the accounts they
/// are assigned an admin permission set on (carol is admin on management only, diego on prod
/// only, though AdministratorAccess is provisioned to both), and the planted drift.
#[test]
fn identity_center_people_are_named_on_exactly_their_accounts() {
    let report = run_demo(DEMO_CONFIG).findings();
    assert_eq!(report["identity_center"]["status"], "collected");
    let person = |name: &str| format!("{name}{PEOPLE}");
    let admins = pairs_of(&report, "sso-admin-assignment");
    let want: BTreeSet<(String, String)> = [
        (MANAGEMENT, "alice.nguyen"),
        (MANAGEMENT, "raj.mehta"),
        (MANAGEMENT, "carol.jensen"),
        (PROD, "alice.nguyen"),
        (PROD, "raj.mehta"),
        (PROD, "diego.ramos"),
    ]
    .iter()
    .map(|(a, p)| (a.to_string(), person(p)))
    .collect();
    assert_eq!(admins, want);
    let alice = findings(&report)
        .iter()
        .find(|f| {
            f["check"] == "sso-admin-assignment"
                && f["account_id"] == PROD
                && f["resource_name"] == person("alice.nguyen")
        })
        .unwrap();
    assert_eq!(alice["evidence"]["paths"][0]["via_group"], "Admins");
    assert_eq!(alice["evidence"]["display_name"], "Alice Nguyen");

    assert_eq!(
        pairs_of(&report, "sso-role-without-assignment"),
        pairs(&[(DEV, "AWSReservedSSO_PowerUserAccess_8b7a6c5d4e3f2a19")])
    );
    assert_eq!(pairs_of(&report, "sso-assignment-without-role"), pairs(&[(DEV, "ReadOnlyAccess")]));
    assert_eq!(
        pairs_of(&report, "sso-assignment-to-nobody"),
        pairs(&[(MANAGEMENT, "Billing"), (PROD, "ReadOnlyAccess"), (DEV, "DeveloperAccess")])
    );
    // PT8H AdministratorAccess only: PowerUserAccess (PT12H) is not admin, DeveloperAccess's PT4H is the limit.
    assert_eq!(pairs_of(&report, "sso-admin-long-session"), pairs(&[(MANAGEMENT, "AdministratorAccess")]));

    // admin-access on prod's AdministratorAccess role names its people.
    let role = findings(&report)
        .iter()
        .find(|f| {
            f["check"] == "admin-access"
                && f["account_id"] == PROD
                && f["resource_name"].as_str().unwrap().starts_with("AWSReservedSSO_AdministratorAccess_")
        })
        .unwrap();
    let people: BTreeSet<&str> = role["evidence"]["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_name"].as_str().unwrap())
        .collect();
    let want: BTreeSet<String> =
        ["alice.nguyen", "raj.mehta", "diego.ramos"].iter().map(|p| person(p)).collect();
    assert_eq!(people, want.iter().map(String::as_str).collect());
}

/// The roster: people first in each account, every access path, formula-safe, covered by the
/// run's files; and against last week's archived run, who gained and who lost admin.
#[test]
fn the_roster_and_who_gained_or_lost_admin_since_last_week() {
    let run = run_demo(DEMO_CONFIG);
    let report = run.findings();
    let mut reader = csv::Reader::from_path(run.out.path().join("access-roster.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let person_rows = |account: &str, name: &str| -> Vec<(String, String, String)> {
        rows.iter()
            .filter(|r| &r[0] == account && r[4] == format!("{name}{PEOPLE}"))
            .map(|r| (r[7].to_string(), r[8].to_string(), r[9].to_string()))
            .collect()
    };
    assert_eq!(
        person_rows(PROD, "carol.jensen"),
        [("permission set ReadOnlyAccess".to_string(), "Auditors".to_string(), "no".to_string())],
        "carol is admin on management only"
    );
    assert!(person_rows(DEV, "alice.nguyen").is_empty(), "alice has nothing on dev-sandbox");
    // farid's ProdOperator (PowerUserAccess) reaches admin only by a potential path: not an admin row.
    assert_eq!(
        person_rows(PROD, "farid.haddad"),
        [("permission set ProdOperator".to_string(), String::new(), "potential".to_string())]
    );
    assert!(rows.iter().any(|r| &r[4] == "'=cmd@evil"), "names are formula-neutralised");
    for pair in rows.windows(2) {
        assert!(
            !(pair[0][0] == pair[1][0] && &pair[0][2] != "person" && &pair[1][2] == "person"),
            "people first"
        );
    }

    assert!(report["run"]["previous_run"].is_string(), "compared with the archived run");
    let changes: BTreeSet<(String, String, String)> = report["admin_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_string(),
                c["account_id"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("gained", PROD, "diego.ramos@acme.example"),
        ("gained", DEV, "=cmd@evil"),
        ("lost", MANAGEMENT, "emma.schulz@acme.example"),
        ("lost", PROD, "emma.schulz@acme.example"),
    ]
    .iter()
    .map(|(c, a, n)| (c.to_string(), a.to_string(), n.to_string()))
    .collect();
    assert_eq!(changes, want);
    assert_eq!(report["summary"]["admin_gained"], 2);
    assert!(
        run.stderr
            .contains("diego.ramos@acme.example (Diego Ramos) gained admin on 444455556666 (acme-prod)"),
        "{}",
        run.stderr
    );
    let html = std::fs::read_to_string(run.out.path().join("report.html")).unwrap();
    assert!(html.contains("Admin access changed since the previous run."), "the banner");
    let eml = std::fs::read_to_string(run.out.path().join("digest.eml")).unwrap();
    let subject = eml.lines().find(|l| l.starts_with("Subject:")).unwrap();
    assert!(subject.contains("2 gained admin"), "{subject}");
    assert!(eml.contains("ADMIN ACCESS CHANGED SINCE THE LAST RUN"), "the digest's plain text leads with it");
}

/// The demo's archived run was filed before summary.json existed: the trend reads its counts
/// from the head of its findings.json.gz, and its time to fix is not recorded.
#[test]
fn the_trend_reads_last_weeks_run_from_its_findings_json() {
    let archive = repo().join("examples/demo-archive");
    let archived = std::fs::read_dir(&archive).unwrap().flatten().map(|e| e.path()).next().unwrap();
    assert!(!archived.join("summary.json").exists(), "the demo's archived run predates summary.json");
    let last_week: Value = serde_json::from_slice(&read_run_file(&archived, "findings.json")).unwrap();
    let run = run_demo(DEMO_CONFIG);
    assert!(!run.stderr.contains("the trend leaves out"), "{}", run.stderr);
    let this_week = run.findings();
    let html = std::fs::read_to_string(run.out.path().join("report.html")).unwrap();
    let section = &html[html.find("<section id=\"trend\">").expect("a Trend section")..];
    let section = &section[..section.find("</section>").unwrap()];
    let name = archived.file_name().unwrap().to_string_lossy();
    for (run, report, fix) in [
        (name.as_ref(), &last_week, "not recorded"),
        (this_week["run"]["id"].as_str().unwrap(), &this_week, ""),
    ] {
        let summary = &report["summary"];
        let row = format!(
            "<tr data-run=\"{run}\" data-open=\"{}\" data-new=\"{}\" data-resolved=\"{}\" data-fix=\"{fix}",
            summary["open"], summary["new"], summary["resolved"]
        );
        assert!(section.contains(&row), "{row} missing from the trend: {section}");
    }
}

/// examples/demo-archive holds last week's run as this build judges last week's organization
/// (`make_demo_org.py --previous`): when a check or the generator changes, this fails until
/// examples/make_demo_archive.sh is run again.
#[test]
fn the_archived_run_is_what_this_build_makes_of_last_weeks_demo() {
    let python = std::env::var("IAM_AUDITOR_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let scratch = tempfile::tempdir().unwrap();
    let snapshot = scratch.path().join("previous");
    let made = std::process::Command::new(&python)
        .arg(repo().join("examples/make_demo_org.py"))
        .arg("--previous")
        .arg("--out")
        .arg(&snapshot)
        .output()
        .unwrap_or_else(|e| panic!("{python} cannot run ({e}): install python3, or run scripts/test.sh"));
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let out = scratch.path().join("out");
    let output = iam_auditor()
        .args(["run", "--no-mail", "--config", DEMO_CONFIG, "--snapshot"])
        .arg(&snapshot)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let archive = repo().join("examples/demo-archive");
    let runs: Vec<PathBuf> = std::fs::read_dir(&archive).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(runs.len(), 1, "one archived run: {runs:?}");
    let judged = |dir: &std::path::Path| -> BTreeSet<String> {
        let report: Value = serde_json::from_slice(&read_run_file(dir, "findings.json")).unwrap();
        findings(&report)
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {} {}",
                    f["check"], f["account_id"], f["resource_arn"], f["severity"], f["detail"]
                )
            })
            .collect()
    };
    let stale = "examples/demo-archive is stale: run examples/make_demo_archive.sh and commit it";
    assert_eq!(judged(&runs[0]), judged(&out), "{stale}");
    let roster = |dir: &std::path::Path| -> Vec<Vec<String>> {
        let bytes = read_run_file(dir, "access-roster.csv");
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        // first_seen (the last column) depends on the archive the run was compared with.
        reader.records().map(|r| r.unwrap().iter().take(11).map(str::to_string).collect()).collect()
    };
    assert_eq!(roster(&runs[0]), roster(&out), "{stale}");
}

/// A file of an archived run: `name`, or `name.gz` (the archive's default) decompressed.
fn read_run_file(dir: &std::path::Path, name: &str) -> Vec<u8> {
    let plain = dir.join(name);
    if plain.is_file() {
        return std::fs::read(plain).unwrap();
    }
    let file = std::fs::File::open(dir.join(format!("{name}.gz"))).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(file), &mut out).unwrap();
    out
}
