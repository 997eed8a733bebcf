//! The digest mail: composing the MIME messages from a run (the auditors' digest of the whole
//! organization, and optionally each account's own digest for its owners), writing them into
//! the run's folder as `.eml` files before the archive is committed, and sending them over
//! SMTP afterwards.
//!
//! SMTP is STARTTLS or implicit TLS (rustls, system roots plus `ca_file`); plain SMTP only
//! with `allow_insecure`. The login comes from environment variables or a file the config
//! names, never from the config, and is never printed. Transient failures (4xx replies,
//! connection and network errors) are retried with a doubling delay; permanent ones are not.
//! Not here: the digest's words and layout (`report::digest`).

use crate::config::{MailConfig, MailTls};
use crate::report::digest::{self, AttachmentNote, DigestNotes};
use crate::report::{self, ReportError, RunReport};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The auditors' digest, as filed in the run's folder.
pub const DIGEST_FILE: &str = "digest.eml";

/// One composed message and who it is for.
pub struct Outgoing {
    /// `auditors`, or `owners of account 111122223333`: for messages on the terminal.
    pub audience: String,
    /// The `.eml` file name in the run's folder.
    pub file_name: String,
    pub message: Message,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot compose the digest: {0}")]
    Compose(String),
    #[error("cannot render the digest: {0}")]
    Render(#[from] ReportError),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("no SMTP login: {0}")]
    Login(String),
    #[error("{0}")]
    Send(String),
}

/// Composes the auditors' digest (first) and each configured account's digest.
/// `run_dir` holds the run's files (the attachments are read from there, so they are the
/// archived bytes); `archived_at` is where the run is filed once committed.
pub fn compose(
    report: &RunReport,
    title: &str,
    mail: &MailConfig,
    run_dir: &Path,
    archived_at: &Path,
    compressed: bool,
) -> Result<Vec<Outgoing>, MailError> {
    let mut outgoing = Vec::new();
    let mut attachments = Vec::new();
    for (name, content_type) in
        [("report.html", "text/html; charset=utf-8"), ("findings.csv", "text/csv; charset=utf-8")]
    {
        let path = crate::deliver::archive::run_file(run_dir, name).unwrap_or_else(|| run_dir.join(name));
        let io = |source| MailError::Write { path: path.clone(), source };
        let cap = mail.max_attachment_bytes;
        // An attachment over the cap is left out unread: on a large organization findings.csv
        // runs to hundreds of MB. A run filed compressed wrote it gzip-compressed: it is read
        // up to the cap, and one byte more says it is over (its whole size is not known).
        let (size, bytes) = if path.extension().is_some_and(|e| e == "gz") {
            let mut bytes = Vec::new();
            let file = crate::deliver::archive::open_maybe_gzip(&path).map_err(io)?;
            std::io::Read::read_to_end(&mut std::io::Read::take(file, cap.saturating_add(1)), &mut bytes)
                .map_err(io)?;
            match bytes.len() as u64 > cap {
                true => (None, Vec::new()),
                false => (Some(bytes.len() as u64), bytes),
            }
        } else {
            let size = std::fs::metadata(&path).map_err(io)?.len();
            let bytes = if size <= cap { std::fs::read(&path).map_err(io)? } else { Vec::new() };
            (Some(size), bytes)
        };
        attachments.push(FileAttachment { name: name.to_string(), content_type, size, bytes });
    }
    let notes =
        DigestNotes { scope: None, archived_at: archived_at.display().to_string(), attachments: Vec::new() };
    let auditors = mail.recipients();
    outgoing.push(Outgoing {
        audience: "auditors".into(),
        file_name: DIGEST_FILE.into(),
        message: message(report, title, mail, &auditors, notes, attachments, (archived_at, compressed))?,
    });

    for (account, owners) in &mail.account_owners {
        let own = account_report(report, account);
        let scope = match own.coverage.first() {
            Some(row) => format!("Account {} ({account}) only: the digest for its owners", row.account_name),
            None => format!("Account {account} only: the digest for its owners (not part of this run)"),
        };
        let mut csv = Vec::new();
        report::csv::write_findings(&own, &mut csv).map_err(|e| MailError::Compose(format!("{e:?}")))?;
        let name = format!("findings-{account}.csv");
        let notes = DigestNotes {
            scope: Some(scope),
            archived_at: archived_at.display().to_string(),
            attachments: Vec::new(),
        };
        let attachment = FileAttachment {
            name,
            content_type: "text/csv; charset=utf-8",
            size: Some(csv.len() as u64),
            bytes: csv,
        };
        let owners: Vec<&str> = owners.iter().map(|o| o.get_ref().as_str()).collect();
        outgoing.push(Outgoing {
            audience: format!("owners of account {account}"),
            file_name: format!("digest-{account}.eml"),
            message: message(&own, title, mail, &owners, notes, vec![attachment], (archived_at, compressed))?,
        });
    }
    Ok(outgoing)
}

/// The run restricted to one account: its coverage row, findings and fixed findings.
fn account_report(report: &RunReport, account: &str) -> RunReport {
    let mine = |f: &&crate::findings::Finding| f.account_id.as_str() == account;
    RunReport::new(
        report.run.clone(),
        report.coverage.iter().filter(|c| c.account_id == account).cloned().collect(),
        report.findings.iter().filter(mine).cloned().collect(),
        report.resolved.iter().filter(mine).cloned().collect(),
        Vec::new(),
    )
    .with_carried_over(report.carried_over.iter().filter(mine).cloned().collect())
}

struct FileAttachment {
    name: String,
    content_type: &'static str,
    /// None: over the cap, by how much not known (a compressed file read up to the cap).
    size: Option<u64>,
    /// Empty when `size` is over the cap (the file was not read).
    bytes: Vec<u8>,
}

fn message(
    report: &RunReport,
    title: &str,
    mail: &MailConfig,
    to: &[&str],
    mut notes: DigestNotes,
    attachments: Vec<FileAttachment>,
    (archived_at, compressed): (&Path, bool),
) -> Result<Message, MailError> {
    let (kept, left_out): (Vec<_>, Vec<_>) =
        attachments.into_iter().partition(|a| a.size.is_some_and(|size| size <= mail.max_attachment_bytes));
    for a in &kept {
        notes.attachments.push(AttachmentNote { name: a.name.clone(), attached: true, note: None });
    }
    for a in &left_out {
        let size = match a.size {
            Some(size) => format!("{size} bytes"),
            None => "the file".into(),
        };
        let note = format!(
            "{size} is over mail.max_attachment_bytes ({}); the archived copy is {}",
            mail.max_attachment_bytes,
            archived_at.join(crate::deliver::archive::archived_name(&a.name, compressed)).display()
        );
        notes.attachments.push(AttachmentNote { name: a.name.clone(), attached: false, note: Some(note) });
    }
    let digest = digest::render(report, title, &notes, mail.subject_template())?;

    let mailbox = |text: &str| {
        text.parse::<Mailbox>()
            .map_err(|e| MailError::Compose(format!("{text:?} is not a mail address: {e}")))
    };
    let mut builder = Message::builder()
        .from(mailbox(mail.from_address())?)
        .subject(digest.subject)
        .date_now()
        .message_id(None);
    for address in to {
        builder = builder.to(mailbox(address)?);
    }
    let mut body = MultiPart::mixed().multipart(MultiPart::alternative_plain_html(digest.text, digest.html));
    for a in kept {
        let content_type =
            ContentType::parse(a.content_type).map_err(|e| MailError::Compose(e.to_string()))?;
        // Base64 keeps the bytes as they are filed (no line-ending rewriting on the way).
        let bytes = Body::new_with_encoding(a.bytes, ContentTransferEncoding::Base64)
            .map_err(|_| MailError::Compose(format!("cannot encode {}", a.name)))?;
        body = body.singlepart(Attachment::new(a.name).body(bytes, content_type));
    }
    builder.multipart(body).map_err(|e| MailError::Compose(e.to_string()))
}

/// Writes each message into `dir` as its `.eml` file; returns the paths.
pub fn write_eml(outgoing: &[Outgoing], dir: &Path) -> Result<Vec<PathBuf>, MailError> {
    let mut written = Vec::new();
    for out in outgoing {
        // Whole or not at all, like the reports: a partial name, then renamed into place.
        let path = dir.join(&out.file_name);
        let partial = dir.join(format!(".{}.partial", out.file_name));
        let io = |source| MailError::Write { path: path.clone(), source };
        std::fs::write(&partial, out.message.formatted()).map_err(io)?;
        std::fs::rename(&partial, &path).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}

/// Sends every message over SMTP. Stops at the first message that cannot be delivered.
pub fn send(outgoing: &[Outgoing], mail: &MailConfig) -> Result<(), MailError> {
    let transport = smtp_transport(mail)?;
    for out in outgoing {
        send_one(&transport, out, mail)?;
        eprintln!("iam-auditor: mailed the digest to the {} ({})", out.audience, server(mail));
    }
    Ok(())
}

fn server(mail: &MailConfig) -> String {
    let tls = match mail.tls_mode() {
        MailTls::Starttls => "STARTTLS",
        MailTls::Tls => "TLS",
        MailTls::None => "no TLS",
    };
    format!("{}:{} with {tls}", mail.host.as_deref().unwrap_or("?"), mail.port_number())
}

/// What to do about a failed send, by how it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// A 4xx reply, or the connection failed or broke: worth another try.
    Transient,
    /// A 5xx reply, a TLS failure, a refused login mechanism: another try fails the same way.
    Permanent,
}

fn classify(error: &lettre::transport::smtp::Error) -> Failure {
    if error.is_permanent() || is_tls(error) || error.is_client() || error.is_response() {
        Failure::Permanent
    } else {
        Failure::Transient
    }
}

/// A TLS failure: lettre's own, or rustls's (a bad certificate) inside a network error.
fn is_tls(error: &lettre::transport::smtp::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        let io_inner = cause.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
        if cause.is::<rustls::Error>() || io_inner.is_some_and(|inner| inner.is::<rustls::Error>()) {
            return true;
        }
        source = cause.source();
    }
    error.is_tls()
}

fn advice(error: &lettre::transport::smtp::Error) -> &'static str {
    if is_tls(error) {
        "check mail.tls and mail.port, and that the server's certificate chains to a trusted root (add a corporate CA with mail.ca_file)"
    } else if error.is_client() {
        "the server does not offer what the config requires: STARTTLS (check mail.tls and mail.port; 465 is implicit TLS, tls = \"tls\"), or a password login on this connection (servers refuse AUTH without TLS: use tls = \"starttls\" or \"tls\", or drop the login for a local relay)"
    } else if error.is_permanent() {
        "the server refused it: check mail.from, mail.to and the SMTP login (mail.username_env and mail.password_env / password_file)"
    } else {
        "the server could not be reached or was busy: check mail.host and mail.port and the network"
    }
}

fn send_one(transport: &SmtpTransport, out: &Outgoing, mail: &MailConfig) -> Result<(), MailError> {
    let attempts = mail.retries + 1;
    let mut delay = Duration::from_secs(mail.retry_delay_seconds);
    for attempt in 1..=attempts {
        let error = match transport.send(&out.message) {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        let failure = classify(&error);
        if failure == Failure::Transient && attempt < attempts {
            eprintln!(
                "iam-auditor: mail to the {} through {}: attempt {attempt} of {attempts} failed ({error}); retrying in {}s",
                out.audience,
                server(mail),
                delay.as_secs()
            );
            std::thread::sleep(delay);
            delay *= 2;
            continue;
        }
        let how = match failure {
            Failure::Permanent => "a permanent failure, not retried".to_string(),
            Failure::Transient => format!("after {attempts} attempt(s)"),
        };
        return Err(MailError::Send(format!(
            "could not mail the digest to the {} through {} ({how}): {error}; {}. The message is in the run's folder as {}: send that file once the problem is fixed",
            out.audience,
            server(mail),
            advice(&error),
            out.file_name
        )));
    }
    unreachable!("the loop returns on its last attempt")
}

fn smtp_transport(mail: &MailConfig) -> Result<SmtpTransport, MailError> {
    let host = mail.host.clone().ok_or_else(|| MailError::Send("mail.host is not set".into()))?;
    let tls = match mail.tls_mode() {
        MailTls::None => Tls::None,
        mode => {
            let mut params = TlsParameters::builder(host.clone());
            if let Some(ca_file) = &mail.ca_file {
                let pem = std::fs::read(ca_file)
                    .map_err(|source| MailError::Write { path: ca_file.clone(), source })?;
                let roots = Certificate::from_pem(&pem).map_err(|e| {
                    MailError::Send(format!(
                        "mail.ca_file {}: {e} (it must hold PEM certificates)",
                        ca_file.display()
                    ))
                })?;
                params = params.add_root_certificate(roots);
            }
            let params = params.build_rustls().map_err(|e| MailError::Send(format!("TLS setup: {e}")))?;
            if mode == MailTls::Tls {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };
    let mut builder = SmtpTransport::builder_dangerous(host)
        .port(mail.port_number())
        .tls(tls)
        .timeout(Some(Duration::from_secs(60)));
    if let Some(credentials) = credentials(mail)? {
        builder = builder.credentials(credentials);
    }
    Ok(builder.build())
}

/// The login: from Secrets Manager (`IAM_AUDITOR_SMTP_SECRET_ARN`) when set, else the user
/// name from `username_env` and the password from `password_env` or `password_file`. The values never appear in a message.
fn credentials(mail: &MailConfig) -> Result<Option<Credentials>, MailError> {
    match &mail.secret_login {
        Some(Ok((username, password))) => {
            return Ok(Some(Credentials::new(username.clone(), password.clone())))
        }
        Some(Err(problem)) => return Err(MailError::Login(problem.clone())),
        None => {}
    }
    let Some(username_env) = &mail.username_env else { return Ok(None) };
    let env = |name: &str, key: &str| {
        std::env::var(name).map_err(|_| {
            MailError::Login(format!(
                "the environment variable {name} (named by mail.{key}) is not set or not UTF-8"
            ))
        })
    };
    let username = env(username_env, "username_env")?;
    let password = match (&mail.password_env, &mail.password_file) {
        (Some(name), _) => env(name, "password_env")?,
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| MailError::Login(format!("cannot read mail.password_file {}: {e}", path.display())))?
            .trim_end_matches(['\r', '\n'])
            .to_string(),
        (None, None) => {
            return Err(MailError::Login(
                "mail.username_env is set but neither password_env nor password_file".into(),
            ))
        }
    };
    Ok(Some(Credentials::new(username, password)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn mail_config(extra: &str) -> MailConfig {
        Config::parse(&format!("[mail]\n{extra}")).unwrap().mail.unwrap()
    }

    #[test]
    fn the_secrets_manager_login_wins_and_its_failure_is_a_login_failure() {
        let mut mail = mail_config(
            "username_env = \"IAM_AUDITOR_UNIT_UNSET\"\npassword_env = \"IAM_AUDITOR_UNIT_UNSET\"\n",
        );
        mail.secret_login = Some(Ok(("from-secret".into(), "pw".into())));
        assert!(credentials(&mail).unwrap().is_some(), "the env names are not consulted");
        mail.secret_login = Some(Err("cannot read the SMTP secret arn:x".into()));
        match credentials(&mail) {
            Err(MailError::Login(problem)) => assert!(problem.contains("arn:x")),
            other => panic!("{other:?}"),
        }
    }

    /// A run folder holding report.html and findings.csv as `write_all` leaves them.
    fn run_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report.html"), "<html>report</html>\n").unwrap();
        std::fs::write(dir.path().join("findings.csv"), "fingerprint,check\nfp,admin-access\n").unwrap();
        dir
    }

    fn formatted(out: &Outgoing) -> String {
        String::from_utf8(out.message.formatted()).unwrap()
    }

    fn report() -> RunReport {
        crate::report::html::tests::hostile_report()
    }

    #[test]
    fn without_a_mail_section_the_digest_is_addressed_to_placeholders() {
        let dir = run_dir();
        let outgoing =
            compose(&report(), "IAM audit", &MailConfig::default(), dir.path(), dir.path(), false).unwrap();
        assert_eq!(outgoing.len(), 1);
        assert_eq!(outgoing[0].file_name, DIGEST_FILE);
        let text = formatted(&outgoing[0]);
        assert!(text.contains("From: \"IAM audit\" <iam-auditor@localhost>"), "{text}");
        assert!(text.contains("To: auditors@localhost"), "{text}");
        assert!(text.contains("MIME-Version: 1.0") && text.contains("multipart/alternative"));
        assert!(text.contains("filename=\"report.html\"") && text.contains("filename=\"findings.csv\""));
        let written = write_eml(&outgoing, dir.path()).unwrap();
        assert_eq!(written, vec![dir.path().join(DIGEST_FILE)]);
    }

    #[test]
    fn attachments_over_the_cap_are_left_out() {
        let dir = run_dir();
        let mail = mail_config("max_attachment_bytes = 25\n");
        let outgoing =
            compose(&report(), "IAM audit", &mail, dir.path(), Path::new("/archive/run"), true).unwrap();
        let text = formatted(&outgoing[0]);
        assert!(text.contains("filename=\"report.html\""), "20 bytes is under the cap");
        assert!(!text.contains("filename=\"findings.csv\""), "35 bytes is over it");
        assert!(text.contains("findings.csv.gz"), "the note names the archived copy as stored: {text}");
    }

    #[test]
    fn a_csv_written_compressed_is_attached_plain_up_to_the_cap() {
        // A run filed compressed wrote findings.csv.gz (several members, as the stream writes it).
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report.html"), "<html>report</html>\n").unwrap();
        let mut members = crate::report::stream::gzip_member(b"fingerprint,check\n").unwrap();
        members.extend(crate::report::stream::gzip_member(b"fp,admin-access\n").unwrap());
        std::fs::write(dir.path().join("findings.csv.gz"), members).unwrap();
        for (cap, attached) in [(34, true), (33, false)] {
            let mail = mail_config(&format!("max_attachment_bytes = {cap}\n"));
            let outgoing =
                compose(&report(), "IAM audit", &mail, dir.path(), Path::new("/archive/run"), true).unwrap();
            let text = formatted(&outgoing[0]);
            assert_eq!(text.contains("filename=\"findings.csv\""), attached, "cap {cap}: {text}");
            if attached {
                let bytes = outgoing[0].message.formatted();
                let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
                let csv = parsed
                    .attachments()
                    .find(|a| mail_parser::MimeHeaders::attachment_name(*a) == Some("findings.csv"))
                    .unwrap();
                assert_eq!(csv.contents(), b"fingerprint,check\nfp,admin-access\n", "the CSV itself");
            } else {
                let bytes = outgoing[0].message.formatted();
                let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
                let body = parsed.body_text(0).unwrap().to_string();
                assert!(
                    body.contains("the file is over mail.max_attachment_bytes (33); the archived copy is /archive/run/findings.csv.gz"),
                    "{body}"
                );
            }
        }
    }

    #[test]
    fn an_accounts_owners_get_its_findings_only() {
        let dir = run_dir();
        let mail = mail_config(
            "to = [\"auditors@example.com\"]\n[mail.account_owners]\n\"444455556666\" = [\"sandbox-owners@example.com\"]\n\"111122223333\" = [\"prod-owners@example.com\", \"second@example.com\"]\n",
        );
        let outgoing = compose(&report(), "IAM audit", &mail, dir.path(), dir.path(), false).unwrap();
        let names: Vec<&str> = outgoing.iter().map(|o| o.file_name.as_str()).collect();
        assert_eq!(names, [DIGEST_FILE, "digest-111122223333.eml", "digest-444455556666.eml"]);
        let prod = formatted(&outgoing[1]);
        assert!(prod.contains("To: prod-owners@example.com, second@example.com"), "{prod}");
        assert!(prod.contains("filename=\"findings-111122223333.csv\""));
        assert!(!prod.contains("filename=\"report.html\""), "not the organization-wide report");
        let envelope = outgoing[2].message.envelope();
        assert_eq!(
            envelope.to().iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ["sandbox-owners@example.com"]
        );
        let own = account_report(&report(), "444455556666");
        assert!(own.findings.is_empty() && own.coverage.len() == 1, "the sandbox has no findings of its own");
        assert!(account_report(&report(), "111122223333")
            .findings
            .iter()
            .all(|f| f.account_id.as_str() == "111122223333"));
    }

    #[test]
    fn the_login_comes_from_the_environment_or_a_file_and_is_never_in_an_error() {
        let secret = "pw-that-must-not-leak";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, format!("{secret}\n")).unwrap();
        // Names unique to this test: the process environment is shared by the tests.
        std::env::set_var("IAM_AUDITOR_UNIT_SMTP_USER", "mailer");
        let mail = mail_config(&format!(
            "username_env = \"IAM_AUDITOR_UNIT_SMTP_USER\"\npassword_file = {:?}\n",
            file.display().to_string()
        ));
        assert!(credentials(&mail).unwrap().is_some());
        let mail = mail_config(
            "username_env = \"IAM_AUDITOR_UNIT_SMTP_USER\"\npassword_env = \"IAM_AUDITOR_UNIT_UNSET\"\n",
        );
        let error = credentials(&mail).err().unwrap().to_string();
        assert!(error.contains("IAM_AUDITOR_UNIT_UNSET") && error.contains("password_env"), "{error}");
        assert!(!error.contains(secret));
        assert!(credentials(&MailConfig::default()).unwrap().is_none(), "no login configured, none used");
    }
}
