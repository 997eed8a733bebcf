//! The digest mail end to end: the real binary audits the demo organization and mails through
//! a real SMTP server on 127.0.0.1 (aiosmtpd, tests/smtp_server.py) — one with STARTTLS and
//! AUTH using a CA and certificate made here with openssl (and one with implicit TLS), one
//! plain for `allow_insecure`.
//! The assertions read the messages the server received with a MIME parser: headers, the
//! parts, the attachments (byte for byte the archived files), escaping of hostile IAM names.
//! Also: plaintext AUTH refused, an untrusted certificate, an unreachable server (retried,
//! exit 5, the run archived anyway), the attachment size cap, and the password never printed.
//!
//! Needs python with aiosmtpd (scripts/test.sh makes .venv and exports
//! IAM_AUDITOR_TEST_PYTHON) and openssl; without them the tests fail and say so.

mod common;

use assert_cmd::Command;
use common::read_run_file;
use common::smtp::{make_certificates, SmtpServer};
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use std::path::{Path, PathBuf};

const SNAPSHOT: &str = "examples/demo-org";
const PROD: &str = "444455556666";
const USER: &str = "audit-mailer";
const PASSWORD: &str = "s3cret-Pa55word-never-printed";
/// The demo: one account not audited.
const DEMO_EXIT: i32 = 3;
const EXIT_MAIL: i32 = 5;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    scratch: tempfile::TempDir,
}

impl Run {
    fn describe(&self) -> String {
        format!("exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    /// The one complete run in the archive.
    fn archived(&self) -> PathBuf {
        let runs: Vec<PathBuf> = std::fs::read_dir(self.scratch.path().join("archive"))
            .expect("the archive exists")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("SHA256SUMS").is_file())
            .collect();
        assert_eq!(runs.len(), 1, "one archived run; {}", self.describe());
        runs[0].clone()
    }

    fn assert_secret_not_printed(&self) {
        assert!(
            !self.stdout.contains(PASSWORD) && !self.stderr.contains(PASSWORD),
            "the password was printed: {}",
            self.describe()
        );
    }
}

/// Runs the demo with `[archive] dir` in a scratch folder and `mail` as the [mail] section.
fn run_demo(mail: &str, args: &[&str]) -> Run {
    run_demo_with_env(mail, args, &[])
}

fn run_demo_with_env(mail: &str, args: &[&str], env: &[(&str, &Path)]) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("iam-auditor.toml");
    let archive = scratch.path().join("archive");
    std::fs::write(
        &config,
        format!(
            "[report]\ntitle = \"IAM audit\"\n\n[archive]\ndir = {:?}\n\n[mail]\n{mail}",
            archive.display().to_string()
        ),
    )
    .unwrap();
    let mut command = Command::cargo_bin("iam-auditor").unwrap();
    // The trusted roots are the system's and ca_file, unless a test says otherwise.
    command.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command
        .current_dir(repo())
        .env_remove("IAM_AUDITOR_CONFIG")
        .env_remove("IAM_AUDITOR_OUT")
        .env("TEST_SMTP_USER", USER)
        .env("TEST_SMTP_PASSWORD", PASSWORD)
        .args(["run", "--snapshot", SNAPSHOT, "--config"])
        .arg(&config)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        scratch,
    }
}

fn parse(bytes: &[u8]) -> Message<'_> {
    MessageParser::default().parse(bytes).expect("a MIME message")
}

fn content_type(part: &mail_parser::MessagePart<'_>) -> String {
    let ct = part.content_type().expect("a Content-Type");
    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default())
}

/// The types of the root part's children (and their children) as "a/b[c/d, e/f]".
fn structure(message: &Message<'_>, id: u32) -> String {
    let part = message.part(id).unwrap();
    match &part.body {
        PartType::Multipart(children) => {
            let inner: Vec<String> = children.iter().map(|&c| structure(message, c)).collect();
            format!("{}[{}]", content_type(part), inner.join(", "))
        }
        _ => content_type(part),
    }
}

fn attachment<'m>(message: &'m Message<'m>, name: &str) -> Option<&'m mail_parser::MessagePart<'m>> {
    message.attachments().find(|a| a.attachment_name() == Some(name))
}

fn findings_json(run_dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&read_run_file(run_dir, "findings.json")).unwrap()
}

fn smtp_section(port: u16, tls: &str, extra: &str) -> String {
    format!(
        "transport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\nfrom = \"IAM audit <iam-audit@example.com>\"\nto = [\"auditors@example.com\", \"second-auditor@example.com\"]\nretry_delay_seconds = 0\n{extra}"
    )
}

#[test]
fn starttls_with_auth_delivers_the_digest_and_each_accounts_own() {
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let cert = certs.path().join("server.pem");
    let key = certs.path().join("server.key");
    let server = SmtpServer::start(&[
        "--starttls",
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
        "--auth",
        &format!("{USER}:{PASSWORD}"),
    ]);
    let mail = smtp_section(
        server.port,
        "starttls",
        &format!(
            "ca_file = {:?}\nusername_env = \"TEST_SMTP_USER\"\npassword_env = \"TEST_SMTP_PASSWORD\"\n\n[mail.account_owners]\n\"{PROD}\" = [\"prod-owners@example.com\"]\n",
            certs.path().join("ca.pem").display().to_string()
        ),
    );
    let run = run_demo(&mail, &[]);
    assert_eq!(run.code, DEMO_EXIT, "{}", run.describe());
    run.assert_secret_not_printed();
    let dir = run.archived();
    let messages = server.messages();
    assert_eq!(messages.len(), 2, "the auditors' digest and prod's own; {}", run.describe());
    assert_eq!(server.envelope(1)["authenticated"], true, "the server saw the login");
    assert_eq!(
        server.envelope(1)["rcpt_tos"],
        serde_json::json!(["auditors@example.com", "second-auditor@example.com"])
    );

    // The auditors' digest.
    let digest = parse(&messages[0]);
    assert_eq!(
        digest.from().and_then(|f| f.first()).and_then(|a| a.address()),
        Some("iam-audit@example.com")
    );
    assert_eq!(digest.from().and_then(|f| f.first()).and_then(|a| a.name()), Some("IAM audit"));
    let to: Vec<&str> = digest.to().unwrap().iter().filter_map(|a| a.address()).collect();
    assert_eq!(to, ["auditors@example.com", "second-auditor@example.com"]);
    assert!(digest.date().is_some(), "a Date header");
    assert_eq!(digest.header_raw("MIME-Version").map(str::trim), Some("1.0"));
    assert!(digest.message_id().is_some(), "a Message-ID");

    let report = findings_json(&dir);
    let findings = report["findings"].as_array().unwrap();
    let new_critical = findings
        .iter()
        .filter(|f| f["change"] == "new" && f["status"] == "open" && f["severity"] == "critical")
        .count();
    let open = report["summary"]["by_severity"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum::<u64>();
    let date = &report["run"]["started_at"].as_str().unwrap()[..10];
    assert!(new_critical > 0 && open > 0);
    assert_eq!(
        digest.subject(),
        Some(
            format!(
                "[IAM audit] {new_critical} new critical · {open} open · 0 fixed — {date} · evidence of {}",
                report["provenance"]["evidence_date"].as_str().unwrap()
            )
            .as_str()
        )
    );

    assert_eq!(
        structure(&digest, 0),
        "multipart/mixed[multipart/alternative[text/plain, text/html], text/html, text/csv]"
    );
    let report_html = attachment(&digest, "report.html").expect("report.html attached");
    assert_eq!(
        report_html.contents(),
        std::fs::read(dir.join("report.html")).unwrap(),
        "report.html as archived"
    );
    let csv = attachment(&digest, "findings.csv").expect("findings.csv attached");
    assert_eq!(csv.contents(), read_run_file(&dir, "findings.csv"), "findings.csv as archived");

    let html = digest.body_html(0).expect("an HTML part");
    assert!(html.contains("R&amp;D &lt;data-platform&gt;"), "the hostile account name is escaped");
    assert!(!html.contains("<data-platform>"), "the hostile account name is not markup");
    assert!(html.contains("=cmd@evil"), "the hostile user name is shown as text");
    assert!(
        !html.to_lowercase().contains("<script") && !html.contains("src=\"http"),
        "no script, no remote image"
    );
    let text = digest.body_text(0).expect("a text part");
    assert!(text.contains("R&D <data-platform>"), "plain text is not HTML-escaped");
    assert!(text.contains("NEW SINCE THE LAST RUN"));
    // What is new leads, worst first.
    let first_row = text.lines().find(|l| l.starts_with("- [")).unwrap();
    assert!(first_row.starts_with("- [critical]"), "{first_row}");

    // The archived digest.eml is the message sent, covered by SHA256SUMS.
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    assert!(sums.contains("  digest.eml\n") && sums.contains(&format!("  digest-{PROD}.eml\n")), "{sums}");
    let archived = std::fs::read(dir.join("digest.eml")).unwrap();
    assert_eq!(parse(&archived).subject(), digest.subject());

    // Prod's own digest: its findings only, no org-wide report.
    assert_eq!(server.envelope(2)["rcpt_tos"], serde_json::json!(["prod-owners@example.com"]));
    let own = parse(&messages[1]);
    assert!(attachment(&own, "report.html").is_none(), "no org-wide report for an account's owners");
    assert!(attachment(&own, "findings.csv").is_none());
    let own_csv = attachment(&own, &format!("findings-{PROD}.csv")).expect("the account's rows");
    let mut reader = csv::Reader::from_reader(own_csv.contents());
    let account_at =
        reader.headers().unwrap().iter().position(|h| h == "account_id").expect("account_id column");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let prod_findings = findings.iter().filter(|f| f["account_id"] == PROD).count();
    assert_eq!(rows.len(), prod_findings);
    assert!(rows.iter().all(|r| &r[account_at] == PROD), "only {PROD}'s rows");
    let own_html = own.body_html(0).unwrap();
    assert!(!own_html.contains("data-platform"), "another account's name is not in an account's digest");
}

#[test]
fn a_plain_local_relay_works_with_allow_insecure() {
    let server = SmtpServer::start(&[]);
    let run = run_demo(&smtp_section(server.port, "none", "allow_insecure = true\n"), &[]);
    assert_eq!(run.code, DEMO_EXIT, "{}", run.describe());
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    let digest = parse(&messages[0]);
    assert!(digest.subject().unwrap().starts_with("[IAM audit] "));
    assert_eq!(
        attachment(&digest, "findings.csv").unwrap().contents(),
        read_run_file(&run.archived(), "findings.csv")
    );
}

#[test]
fn plaintext_auth_is_refused_and_the_run_is_still_archived() {
    let server = SmtpServer::start(&["--auth", &format!("{USER}:{PASSWORD}")]);
    let secrets = tempfile::tempdir().unwrap();
    let password_file = secrets.path().join("smtp-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let mail = smtp_section(
        server.port,
        "none",
        &format!(
            "allow_insecure = true\nusername_env = \"TEST_SMTP_USER\"\npassword_file = {:?}\n",
            password_file.display().to_string()
        ),
    );
    let run = run_demo(&mail, &[]);
    assert_eq!(run.code, EXIT_MAIL, "{}", run.describe());
    run.assert_secret_not_printed();
    assert!(server.messages().is_empty());
    assert!(run.stderr.contains(&format!("127.0.0.1:{}", server.port)), "names the server: {}", run.stderr);
    assert!(run.stderr.contains("not retried"), "a refused login is permanent: {}", run.stderr);
    assert!(run.stderr.contains("starttls"), "says what to do: {}", run.stderr);
    let dir = run.archived();
    assert!(dir.join("digest.eml").is_file() && dir.join("findings.csv.gz").is_file());
}

#[test]
fn plain_smtp_without_allow_insecure_is_a_config_error() {
    let run = run_demo(&smtp_section(25, "none", ""), &[]);
    assert_eq!(run.code, 1, "{}", run.describe());
    assert!(run.stderr.contains("allow_insecure"), "{}", run.stderr);
}

#[test]
fn an_untrusted_certificate_is_a_permanent_failure() {
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let cert = certs.path().join("server.pem");
    let key = certs.path().join("server.key");
    let server = SmtpServer::start(&["--starttls", cert.to_str().unwrap(), key.to_str().unwrap()]);
    let run = run_demo(&smtp_section(server.port, "starttls", ""), &[]);
    assert_eq!(run.code, EXIT_MAIL, "{}", run.describe());
    assert!(server.messages().is_empty());
    assert!(run.stderr.contains("ca_file") && run.stderr.contains("not retried"), "{}", run.stderr);
    run.archived();
}

#[test]
fn implicit_tls_with_a_login_from_a_file() {
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let cert = certs.path().join("server.pem");
    let key = certs.path().join("server.key");
    let server = SmtpServer::start(&[
        "--tls",
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
        "--auth",
        &format!("{USER}:{PASSWORD}"),
    ]);
    let password_file = certs.path().join("smtp-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let mail = smtp_section(
        server.port,
        "tls",
        &format!(
            "ca_file = {:?}\nusername_env = \"TEST_SMTP_USER\"\npassword_file = {:?}\n",
            certs.path().join("ca.pem").display().to_string(),
            password_file.display().to_string()
        ),
    );
    let run = run_demo(&mail, &[]);
    assert_eq!(run.code, DEMO_EXIT, "{}", run.describe());
    run.assert_secret_not_printed();
    assert_eq!(server.messages().len(), 1);
    assert_eq!(server.envelope(1)["authenticated"], true);
}

#[test]
fn ssl_cert_file_is_honoured_for_the_trusted_roots() {
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path());
    let cert = certs.path().join("server.pem");
    let key = certs.path().join("server.key");
    let server = SmtpServer::start(&["--starttls", cert.to_str().unwrap(), key.to_str().unwrap()]);
    let ca = certs.path().join("ca.pem");
    let run = run_demo_with_env(&smtp_section(server.port, "starttls", ""), &[], &[("SSL_CERT_FILE", &ca)]);
    assert_eq!(run.code, DEMO_EXIT, "{}", run.describe());
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn a_server_without_starttls_is_refused_before_any_login() {
    // Without allow_insecure, a server that cannot upgrade to TLS gets neither the login nor
    // the message: there is no fallback to plain text.
    let server = SmtpServer::start(&["--auth", &format!("{USER}:{PASSWORD}")]);
    let login = "username_env = \"TEST_SMTP_USER\"\npassword_env = \"TEST_SMTP_PASSWORD\"\n";
    let run = run_demo(&smtp_section(server.port, "starttls", login), &[]);
    assert_eq!(run.code, EXIT_MAIL, "{}", run.describe());
    run.assert_secret_not_printed();
    assert!(server.messages().is_empty(), "nothing is sent in plain text");
    assert!(run.stderr.contains("not retried") && run.stderr.contains("STARTTLS"), "{}", run.stderr);
}

#[test]
fn an_unreachable_server_is_retried_then_exit_5() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = run_demo(
        &smtp_section(
            port,
            "starttls",
            "retries = 2\nusername_env = \"TEST_SMTP_USER\"\npassword_env = \"TEST_SMTP_PASSWORD\"\n",
        ),
        &[],
    );
    assert_eq!(run.code, EXIT_MAIL, "{}", run.describe());
    run.assert_secret_not_printed();
    assert!(run.stderr.contains("attempt 1 of 3") && run.stderr.contains("attempt 2 of 3"), "{}", run.stderr);
    assert!(run.stderr.contains("after 3 attempt(s)"), "{}", run.stderr);
    run.archived();
}

#[test]
fn a_4xx_reply_is_retried_and_the_digest_then_delivered() {
    let server = SmtpServer::start(&["--refuse", "2", "451 4.3.0 Try again later"]);
    let run = run_demo(&smtp_section(server.port, "none", "allow_insecure = true\nretries = 2\n"), &[]);
    assert_eq!(run.code, DEMO_EXIT, "delivered on the third attempt; {}", run.describe());
    assert!(
        run.stderr.contains("attempt 1 of 3 failed") && run.stderr.contains("attempt 2 of 3 failed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Try again later"), "the server's reply is shown: {}", run.stderr);
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn a_5xx_reply_is_permanent_and_not_retried() {
    let server = SmtpServer::start(&["--refuse", "1", "550 5.7.1 Relaying denied"]);
    let run = run_demo(&smtp_section(server.port, "none", "allow_insecure = true\nretries = 2\n"), &[]);
    assert_eq!(run.code, EXIT_MAIL, "{}", run.describe());
    assert!(!run.stderr.contains("retrying"), "{}", run.stderr);
    assert!(run.stderr.contains("Relaying denied") && run.stderr.contains("not retried"), "{}", run.stderr);
    assert!(run.stderr.contains("mail.to"), "says what to check: {}", run.stderr);
    assert!(server.messages().is_empty(), "the one refusal was the only attempt");
    assert!(run.archived().join("digest.eml").is_file());
}

#[test]
fn no_mail_writes_the_digest_but_sends_nothing() {
    let server = SmtpServer::start(&[]);
    let run = run_demo(&smtp_section(server.port, "none", "allow_insecure = true\n"), &["--no-mail"]);
    assert_eq!(run.code, DEMO_EXIT, "{}", run.describe());
    assert!(server.messages().is_empty());
    assert!(run.archived().join("digest.eml").is_file());
}

#[test]
fn attachments_over_the_cap_are_left_out_with_a_note() {
    let run = run_demo("transport = \"file\"\nmax_attachment_bytes = 1000\n", &[]);
    assert_eq!(run.code, DEMO_EXIT, "{}", run.describe());
    let dir = run.archived();
    let bytes = std::fs::read(dir.join("digest.eml")).unwrap();
    let digest = parse(&bytes);
    assert_eq!(digest.attachments().count(), 0);
    assert_eq!(structure(&digest, 0), "multipart/mixed[multipart/alternative[text/plain, text/html]]");
    let text = digest.body_text(0).unwrap();
    for name in ["report.html", "findings.csv"] {
        let archived = dir.join(name).display().to_string();
        assert!(
            text.contains(&format!("Not attached: {name}")) && text.contains(&archived),
            "{name}: {text}"
        );
        // tera's HTML escaping writes `/` as `&#x2F;`.
        assert!(
            digest.body_html(0).unwrap().contains(&archived.replace('/', "&#x2F;")),
            "{name} in the HTML part"
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_second_digest_shows_what_is_new_and_what_was_fixed() {
    let server = SmtpServer::start(&[]);
    let scratch = tempfile::tempdir().unwrap();
    let snapshot = scratch.path().join("snapshot");
    copy_tree(&repo().join(SNAPSHOT), &snapshot);
    let config = scratch.path().join("iam-auditor.toml");
    std::fs::write(
        &config,
        format!(
            "[archive]\ndir = {:?}\n\n[mail]\n{}",
            scratch.path().join("archive").display().to_string(),
            smtp_section(server.port, "none", "allow_insecure = true\n")
        ),
    )
    .unwrap();
    let run = |label: &str| {
        let output = Command::cargo_bin("iam-auditor")
            .unwrap()
            .env_remove("IAM_AUDITOR_CONFIG")
            .env_remove("IAM_AUDITOR_OUT")
            .args(["run", "--snapshot"])
            .arg(&snapshot)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(DEMO_EXIT),
            "{label}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(1100)); // the next run gets its own id
    };
    run("first run");

    // Between the runs: the wide-open role is deleted (fixed), and ines.silva's MFA device is
    // removed (new: console without MFA).
    let account = snapshot.join("accounts").join(PROD);
    let gaad_path = account.join("account-authorization-details.json");
    let mut gaad: serde_json::Value = serde_json::from_slice(&std::fs::read(&gaad_path).unwrap()).unwrap();
    gaad["RoleDetailList"].as_array_mut().unwrap().retain(|r| r["RoleName"] != "partner-data-share");
    std::fs::write(&gaad_path, serde_json::to_vec(&gaad).unwrap()).unwrap();
    let report_path = account.join("credential-report.csv");
    let report = std::fs::read_to_string(&report_path).unwrap();
    let changed: Vec<String> = report
        .lines()
        .map(|line| {
            let mut cells: Vec<&str> = line.split(',').collect();
            if cells[0] == "ines.silva" {
                assert_eq!(cells[7], "true", "the fixture user has MFA to lose");
                cells[7] = "false";
            }
            cells.join(",")
        })
        .collect();
    std::fs::write(&report_path, changed.join("\n") + "\n").unwrap();
    run("second run");

    let messages = server.messages();
    assert_eq!(messages.len(), 2, "one digest per run");
    let second = parse(&messages[1]);
    let subject = second.subject().unwrap();
    assert!(subject.contains("· 1 fixed"), "{subject}");
    let text = second.body_text(0).unwrap();
    let html = second.body_html(0).unwrap();
    for body in [&text, &html] {
        assert!(body.contains("ines.silva"), "the new finding is in the digest");
        assert!(body.contains("partner-data-share"), "the fixed finding is in the digest");
    }
    // The plain part lists each under its heading: new findings, then fixed ones.
    let new_section =
        &text[text.find("NEW SINCE THE LAST RUN").unwrap()..text.find("FIXED SINCE THE LAST RUN").unwrap()];
    let fixed_section =
        &text[text.find("FIXED SINCE THE LAST RUN").unwrap()..text.find("OPEN FINDINGS").unwrap()];
    assert!(
        new_section.contains("ines.silva") && new_section.contains("console-without-mfa"),
        "{new_section}"
    );
    assert!(!new_section.contains("partner-data-share"), "{new_section}");
    assert!(
        fixed_section.contains("partner-data-share") && fixed_section.contains("wide-trust"),
        "{fixed_section}"
    );
    assert!(text.contains("compared with run "), "names the run it compares with");
}
