//! The TOML configuration: one file, every key documented in
//! `config/iam-auditor.example.toml`. Unknown keys and bad values are errors that name the
//! key and its line; a run needs no config at all. Secrets never live here: the config
//! names the environment variable or file that holds them. Check ids are plain text here:
//! the check catalog judges the ones [`Config::named_checks`] lists.

use crate::findings::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub organization: OrganizationConfig,
    #[serde(default)]
    pub thresholds: Thresholds,
    #[serde(default)]
    pub checks: ChecksConfig,
    #[serde(default)]
    pub suppressions: Vec<SuppressionRule>,
    #[serde(default)]
    pub report: ReportConfig,
    #[serde(default)]
    pub archive: ArchiveConfig,
    #[serde(default)]
    pub mail: Option<MailConfig>,
}

/// `[organization]`: which accounts a live run audits and how it reaches them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationConfig {
    #[serde(default = "default_role_name")]
    pub role_name: String,
    pub external_id: Option<String>,
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    #[serde(default = "default_regions")]
    pub regions: Vec<String>,
    #[serde(default)]
    pub include_accounts: Vec<String>,
    #[serde(default)]
    pub exclude_accounts: Vec<String>,
    #[serde(default)]
    pub include_ous: Vec<String>,
    #[serde(default)]
    pub exclude_ous: Vec<String>,
    /// Attempts per AWS call (adaptive retry: throttling slows the whole client down).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Limit for one attempt of one AWS call.
    #[serde(default = "default_call_timeout")]
    pub call_timeout_seconds: u64,
    /// How long to wait for IAM to generate an account's credential report.
    #[serde(default = "default_report_timeout")]
    pub credential_report_timeout_seconds: u64,
    /// IAM Identity Center calls per second, sso-admin and identitystore together (they share
    /// one AWS rate limit of about 20 per second).
    #[serde(default = "default_identity_center_rate")]
    pub identity_center_requests_per_second: u32,
    /// The region of the Identity Center instance; default: the SDK's region.
    pub identity_center_region: Option<String>,
}

impl Default for OrganizationConfig {
    fn default() -> Self {
        OrganizationConfig {
            role_name: default_role_name(),
            external_id: None,
            concurrency: default_concurrency(),
            regions: default_regions(),
            include_accounts: Vec::new(),
            exclude_accounts: Vec::new(),
            include_ous: Vec::new(),
            exclude_ous: Vec::new(),
            max_attempts: default_max_attempts(),
            call_timeout_seconds: default_call_timeout(),
            credential_report_timeout_seconds: default_report_timeout(),
            identity_center_requests_per_second: default_identity_center_rate(),
            identity_center_region: None,
        }
    }
}

fn default_role_name() -> String {
    "IamAuditorRole".into()
}
fn default_concurrency() -> u32 {
    8
}
fn default_max_attempts() -> u32 {
    10
}
fn default_call_timeout() -> u64 {
    60
}
fn default_report_timeout() -> u64 {
    300
}
fn default_identity_center_rate() -> u32 {
    20
}
fn default_regions() -> Vec<String> {
    vec!["us-east-1".into()]
}

/// `[thresholds]`: the ages and minimums the hygiene checks judge by.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub unused_days: u32,
    pub credential_unused_days: u32,
    pub key_max_age_days: u32,
    pub root_use_days: u32,
    pub password_min_length: u32,
    pub password_reuse_prevention: u32,
    pub password_require_symbols: bool,
    pub password_require_numbers: bool,
    pub password_require_uppercase: bool,
    pub password_require_lowercase: bool,
    /// 0: password expiry not required.
    pub password_max_age_days: u32,
    /// The longest session an admin-equivalent permission set may allow, in hours.
    pub sso_admin_session_max_hours: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            unused_days: 90,
            credential_unused_days: 45,
            key_max_age_days: 90,
            root_use_days: 30,
            password_min_length: 14,
            password_reuse_prevention: 24,
            password_require_symbols: false,
            password_require_numbers: false,
            password_require_uppercase: false,
            password_require_lowercase: false,
            password_max_age_days: 0,
            sso_admin_session_max_hours: 4,
        }
    }
}

/// `[checks]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksConfig {
    #[serde(default)]
    pub disable: Vec<Spanned<String>>,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    pub fail_on: Option<Severity>,
}

/// `[[suppressions]]`: an accepted risk, with its reason and an expiry date.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionRule {
    pub check: Spanned<String>,
    /// ARN pattern; `*` and `?` are wildcards.
    pub resource: String,
    pub reason: String,
    /// `YYYY-MM-DD` (end of that day, UTC) or an RFC 3339 instant.
    pub expires: Spanned<String>,
    /// Optional account id the rule is limited to.
    pub account: Option<String>,
    /// Optional: who answers for the accepted risk (a person or team).
    pub owner: Option<String>,
    /// Optional: the ticket or risk-register entry that records the acceptance.
    pub ticket: Option<String>,
    #[serde(skip)]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `[report]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    pub title: String,
    /// Rows per check section in the HTML report; the CSV and JSON always hold every finding.
    pub html_max_rows_per_check: usize,
    /// One page per account, `accounts/<id>.html`, with every finding of the account.
    pub account_pages: bool,
    /// Data older than this many days before the run's reference instant is flagged stale
    /// (report banner, digest, log).
    pub max_data_age_days: u32,
    /// The output formats: `html`, `json` and `csv` are always written (the next run's
    /// comparison reads findings.json; the digest and the archive need the rest) and must be
    /// listed; `ocsf` (findings.ocsf.json) is written when listed, as it is by default.
    pub formats: Vec<OutputFormat>,
    /// Runs report.html's trend shows, this one included: the archive's newest runs before it
    /// are read (their summary.json). 0 or 1: no earlier run is read.
    pub trend_runs: usize,
}

/// One of `[report] formats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// report.html (and the account pages).
    Html,
    /// findings.json.
    Json,
    /// findings.csv, coverage.csv, access-roster.csv.
    Csv,
    /// findings.ocsf.json: OCSF Detection Findings, one JSON object a line.
    Ocsf,
}

impl OutputFormat {
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Html => "html",
            OutputFormat::Json => "json",
            OutputFormat::Csv => "csv",
            OutputFormat::Ocsf => "ocsf",
        }
    }
}

impl ReportConfig {
    pub fn writes(&self, format: OutputFormat) -> bool {
        self.formats.contains(&format)
    }
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            title: "IAM audit".into(),
            html_max_rows_per_check: 100,
            account_pages: true,
            max_data_age_days: 2,
            formats: vec![OutputFormat::Html, OutputFormat::Json, OutputFormat::Csv, OutputFormat::Ocsf],
            trend_runs: crate::report::trend::DEFAULT_RUNS,
        }
    }
}

/// `[archive]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveConfig {
    pub dir: Option<PathBuf>,
    pub s3_uri: Option<String>,
    pub keep_runs: Option<u32>,
    #[serde(default)]
    pub include_snapshot: bool,
    /// Path-style S3 addressing (`https://host/bucket/key`), for emulators and some endpoints.
    #[serde(default)]
    pub s3_path_style: bool,
    pub s3_object_lock_mode: Option<ObjectLockMode>,
    pub s3_object_lock_days: Option<u32>,
    pub s3_kms_key_id: Option<String>,
    /// How the large archived files (findings.json, findings.csv, access-roster.csv) are
    /// stored: `gzip` (default; `name.gz`) or `none`.
    #[serde(default)]
    pub compress: ArchiveCompression,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveCompression {
    #[default]
    Gzip,
    None,
}

/// S3 Object Lock retention mode for archived objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ObjectLockMode {
    #[serde(rename = "GOVERNANCE")]
    Governance,
    #[serde(rename = "COMPLIANCE")]
    Compliance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    Smtp,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    Starttls,
    Tls,
    None,
}

/// `[mail]`: the digest. Without the section the digest is still written to the run's
/// folder as `digest.eml` (transport "file"), so a run always shows what it would send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    #[serde(default = "default_transport")]
    pub transport: MailTransport,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<MailTls>,
    #[serde(default)]
    pub allow_insecure: bool,
    /// PEM file of extra trusted root certificates (a corporate CA), besides the system's.
    pub ca_file: Option<PathBuf>,
    pub username_env: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub from: Option<Spanned<String>>,
    #[serde(default)]
    pub to: Vec<Spanned<String>>,
    /// Subject template; placeholders are [`SUBJECT_PLACEHOLDERS`].
    pub subject: Option<Spanned<String>>,
    /// An attachment larger than this is left out, with a note naming the archived copy.
    #[serde(default = "default_max_attachment_bytes")]
    pub max_attachment_bytes: u64,
    /// Attempts after the first for a transient failure (4xx reply, connection lost).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The wait before the first retry; it doubles for each further one.
    #[serde(default = "default_retry_delay_seconds")]
    pub retry_delay_seconds: u64,
    /// Account id → the addresses that get that account's own digest.
    #[serde(default)]
    pub account_owners: BTreeMap<String, Vec<Spanned<String>>>,
    /// The SMTP login read from Secrets Manager at run time (never from the file), or why it
    /// could not be read (a mail failure, after the run is archived).
    #[serde(skip)]
    pub secret_login: Option<Result<(String, String), String>>,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            transport: MailTransport::File,
            host: None,
            port: None,
            tls: None,
            allow_insecure: false,
            ca_file: None,
            username_env: None,
            password_env: None,
            password_file: None,
            from: None,
            to: Vec::new(),
            subject: None,
            max_attachment_bytes: default_max_attachment_bytes(),
            retries: default_retries(),
            retry_delay_seconds: default_retry_delay_seconds(),
            account_owners: BTreeMap::new(),
            secret_login: None,
        }
    }
}

fn default_transport() -> MailTransport {
    MailTransport::File
}
fn default_max_attachment_bytes() -> u64 {
    10 * 1024 * 1024
}
fn default_retries() -> u32 {
    3
}
fn default_retry_delay_seconds() -> u64 {
    5
}

/// What `[mail] subject` may contain between braces.
pub const SUBJECT_PLACEHOLDERS: [&str; 11] = [
    "new_critical",
    "new_high",
    "new",
    "open",
    "resolved",
    "date",
    "accounts_failed",
    "admin_gained",
    "admin_lost",
    "carried_over",
    "evidence_date",
];

/// How the subject names the evidence date; appended to a template that does not place
/// `{evidence_date}` itself.
pub const EVIDENCE_DATE_SUFFIX: &str = " · evidence of {evidence_date}";

pub const DEFAULT_SUBJECT: &str =
    "[IAM audit] {new_critical} new critical · {open} open · {resolved} fixed — {date} · evidence of {evidence_date}";

impl MailConfig {
    pub fn from_address(&self) -> &str {
        self.from.as_ref().map_or("IAM audit <iam-auditor@localhost>", |f| f.get_ref().as_str())
    }

    /// The auditors; a file-transport digest without `to` is addressed to a placeholder.
    pub fn recipients(&self) -> Vec<&str> {
        if self.to.is_empty() {
            vec!["auditors@localhost"]
        } else {
            self.to.iter().map(|t| t.get_ref().as_str()).collect()
        }
    }

    pub fn subject_template(&self) -> &str {
        self.subject.as_ref().map_or(DEFAULT_SUBJECT, |s| s.get_ref().as_str())
    }

    pub fn tls_mode(&self) -> MailTls {
        self.tls.unwrap_or(MailTls::Starttls)
    }

    pub fn port_number(&self) -> u16 {
        self.port.unwrap_or(match self.tls_mode() {
            MailTls::Starttls => 587,
            MailTls::Tls => 465,
            MailTls::None => 25,
        })
    }
}

/// The placeholders in a subject template that are not [`SUBJECT_PLACEHOLDERS`].
fn unknown_placeholders(template: &str) -> Vec<&str> {
    let mut unknown = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        let name = &rest[open + 1..open + close];
        if !SUBJECT_PLACEHOLDERS.contains(&name) {
            unknown.push(name);
        }
        rest = &rest[open + close + 1..];
    }
    unknown
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source} (pass --config a readable TOML file, or leave it out to run with defaults)")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// The config in the file `path`, and its text (for the check ids' lines and the digest).
    pub fn load(path: &Path) -> Result<(Config, String), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Unreadable { path: path.to_path_buf(), source })?;
        let config = Config::parse(&text)
            .map_err(|message| ConfigError::Invalid { path: path.to_path_buf(), message })?;
        Ok((config, text))
    }

    /// Parses and validates everything but the check ids: the config holds those as plain
    /// text, and the check catalog judges them from [`Config::named_checks`].
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut config: Config = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let line = |span: std::ops::Range<usize>| line_at(text, span.start);
        for (i, rule) in config.suppressions.iter_mut().enumerate() {
            if rule.reason.trim().is_empty() {
                return Err(format!(
                    "line {}: suppressions[{i}].reason is empty: say why the risk is accepted",
                    line(rule.check.span())
                ));
            }
            rule.expires_at = Some(parse_expiry(rule.expires.get_ref()).ok_or_else(|| {
                format!(
                    "line {}: suppressions[{i}].expires = {:?} is not a date: write YYYY-MM-DD or an RFC 3339 instant",
                    line(rule.expires.span()),
                    rule.expires.get_ref()
                )
            })?);
        }
        validate_organization(&config.organization)?;
        for always in [OutputFormat::Html, OutputFormat::Json, OutputFormat::Csv] {
            if !config.report.writes(always) {
                let listed: Vec<&str> = config.report.formats.iter().map(|f| f.name()).collect();
                return Err(format!(
                    "report.formats = {listed:?} leaves out \"{}\": html, json and csv are always written (the \
                     next run's comparison reads findings.json; the digest and the archive need the rest), so \
                     list them: formats = [\"html\", \"json\", \"csv\", \"ocsf\"], with or without \"ocsf\"",
                    always.name()
                ));
            }
        }
        if let Some(mail) = &config.mail {
            validate_mail(mail, text)?;
        }
        let archive = &config.archive;
        if archive.dir.is_some() && archive.s3_uri.is_some() {
            return Err("archive: set either archive.dir or archive.s3_uri, not both".into());
        }
        if let Some(uri) = &archive.s3_uri {
            if uri.strip_prefix("s3://").is_none_or(|rest| rest.split('/').next().unwrap_or("").is_empty()) {
                return Err(format!(
                    "archive.s3_uri = {uri:?} is not an S3 location: write s3://BUCKET or s3://BUCKET/PREFIX"
                ));
            }
            if archive.keep_runs.is_some() {
                return Err("archive.keep_runs applies to a local archive; for S3 use a lifecycle rule on the bucket \
                            (with Object Lock, objects cannot be removed before their retention ends anyway)"
                    .into());
            }
        } else if archive.s3_path_style
            || archive.s3_object_lock_mode.is_some()
            || archive.s3_object_lock_days.is_some()
            || archive.s3_kms_key_id.is_some()
        {
            return Err("archive.s3_* keys need archive.s3_uri".into());
        }
        if archive.s3_object_lock_mode.is_some() != archive.s3_object_lock_days.is_some() {
            return Err("archive.s3_object_lock_mode and archive.s3_object_lock_days go together: set both or neither".into());
        }
        if archive.s3_object_lock_days == Some(0) {
            return Err("archive.s3_object_lock_days must be at least 1".into());
        }
        Ok(config)
    }

    pub fn is_disabled(&self, check: &str) -> bool {
        self.checks.disable.iter().any(|d| d.get_ref() == check)
    }

    /// The ids of the disabled checks, sorted.
    pub fn disabled_checks(&self) -> Vec<String> {
        let mut disabled: Vec<String> = self.checks.disable.iter().map(|d| d.get_ref().clone()).collect();
        disabled.sort();
        disabled
    }

    /// Every check id the config names (`[checks] disable`, `[checks.severity]` keys,
    /// `[[suppressions]] check`), in that order, with its key and its line in `text`, the
    /// TOML the config was parsed from.
    pub fn named_checks(&self, text: &str) -> Vec<NamedCheck<'_>> {
        let disabled = self.checks.disable.iter().map(|id| NamedCheck {
            key: "checks.disable".into(),
            id: id.get_ref(),
            line: line_at(text, id.span().start),
        });
        let overridden = self.checks.severity.keys().map(|id| NamedCheck {
            key: "checks.severity".into(),
            id,
            line: text
                .find(&format!("\"{id}\""))
                .or_else(|| text.find(id.as_str()))
                .map_or(0, |at| line_at(text, at)),
        });
        let suppressed = self.suppressions.iter().enumerate().map(|(i, rule)| NamedCheck {
            key: format!("suppressions[{i}].check"),
            id: rule.check.get_ref(),
            line: line_at(text, rule.check.span().start),
        });
        disabled.chain(overridden).chain(suppressed).collect()
    }
}

/// A check id named in the config: where (`key`, `line`; 0 when the line is not known) and
/// which (`id`), whether or not such a check exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCheck<'a> {
    pub key: String,
    pub id: &'a str,
    pub line: usize,
}

/// The 1-based line of byte `offset` in `text` (an offset at the start of a line is on that
/// line, not the one before).
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn validate_organization(org: &OrganizationConfig) -> Result<(), String> {
    if org.concurrency == 0 {
        return Err("organization.concurrency must be at least 1".into());
    }
    if org.max_attempts == 0 || org.call_timeout_seconds == 0 || org.credential_report_timeout_seconds == 0 {
        return Err("organization.max_attempts, call_timeout_seconds and credential_report_timeout_seconds \
                    must be at least 1"
            .into());
    }
    if org.identity_center_requests_per_second == 0 {
        return Err(
            "organization.identity_center_requests_per_second must be at least 1 (AWS allows about 20 \
                    Identity Center calls a second)"
                .into(),
        );
    }
    if let Some(region) = &org.identity_center_region {
        let well_formed = !region.is_empty()
            && region.split('-').count() >= 3
            && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_formed {
            return Err(format!(
                "organization.identity_center_region = {region:?} is not an AWS region name (like \"eu-west-1\")"
            ));
        }
    }
    for (key, list) in
        [("include_accounts", &org.include_accounts), ("exclude_accounts", &org.exclude_accounts)]
    {
        if let Some(bad) = list.iter().find(|id| crate::identifiers::AccountId::parse(id).is_none()) {
            return Err(format!(
                "organization.{key}: {bad:?} is not a 12-digit account id (quote it: \"012345678901\")"
            ));
        }
    }
    for (key, list) in [("include_ous", &org.include_ous), ("exclude_ous", &org.exclude_ous)] {
        if let Some(bad) = list.iter().find(|id| !(id.starts_with("ou-") || id.starts_with("r-"))) {
            return Err(format!(
                "organization.{key}: {bad:?} is not an organizational unit id (ou-…) or a root id (r-…)"
            ));
        }
    }
    if org.role_name.is_empty() || org.role_name.contains(':') {
        return Err(format!(
            "organization.role_name = {:?}: write the role's name (with its path if it has one), not an ARN",
            org.role_name
        ));
    }
    Ok(())
}

fn validate_mail(mail: &MailConfig, text: &str) -> Result<(), String> {
    let line = |span: std::ops::Range<usize>| text[..span.start.min(text.len())].lines().count().max(1);
    let line_of = |needle: &str| text.find(needle).map_or(0, |p| line(p..p));
    if mail.tls == Some(MailTls::None) && !mail.allow_insecure {
        return Err(format!(
            "line {}: mail.tls = \"none\" sends mail (and any password) in plain text: set mail.allow_insecure = true to accept that (a local relay only)",
            line_of("tls")
        ));
    }
    if mail.transport == MailTransport::Smtp
        && (mail.host.is_none() || mail.to.is_empty() || mail.from.is_none())
    {
        return Err("mail.transport = \"smtp\" needs mail.host, mail.from and mail.to".into());
    }
    let address = |value: &Spanned<String>, key: &str| -> Result<(), String> {
        value.get_ref().parse::<lettre::message::Mailbox>().map(drop).map_err(|e| {
            format!(
                "line {}: {key} = {:?} is not a mail address ({e}): write user@example.com or \"Name <user@example.com>\"",
                line(value.span()),
                value.get_ref()
            )
        })
    };
    if let Some(from) = &mail.from {
        address(from, "mail.from")?;
    }
    for to in &mail.to {
        address(to, "mail.to")?;
    }
    if let Some(subject) = &mail.subject {
        if let Some(name) = unknown_placeholders(subject.get_ref()).first() {
            return Err(format!(
                "line {}: mail.subject has an unknown placeholder {{{name}}}; the placeholders are {}",
                line(subject.span()),
                SUBJECT_PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(" ")
            ));
        }
    }
    for (account, owners) in &mail.account_owners {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "line {}: mail.account_owners key {account:?} is not a 12-digit AWS account id",
                line_of(account)
            ));
        }
        if owners.is_empty() {
            return Err(format!(
                "line {}: mail.account_owners.\"{account}\" lists no address",
                line_of(account)
            ));
        }
        for owner in owners {
            address(owner, &format!("mail.account_owners.\"{account}\""))?;
        }
    }
    if mail.password_env.is_some() && mail.password_file.is_some() {
        return Err(format!(
            "line {}: set either mail.password_env or mail.password_file, not both",
            line_of("password_file")
        ));
    }
    if (mail.password_env.is_some() || mail.password_file.is_some()) != mail.username_env.is_some() {
        return Err(
            "mail: a login needs both mail.username_env and one of mail.password_env / mail.password_file"
                .into(),
        );
    }
    Ok(())
}

/// `YYYY-MM-DD` means the end of that day, UTC.
fn parse_expiry(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(instant) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&chrono::Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(23, 59, 59)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text)
    }

    fn named(text: &str) -> Vec<(String, String, usize)> {
        let config = parse(text).unwrap();
        config.named_checks(text).into_iter().map(|n| (n.key, n.id.to_string(), n.line)).collect()
    }

    #[test]
    fn empty_config_has_the_documented_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config.thresholds.unused_days, 90);
        assert_eq!(config.thresholds.credential_unused_days, 45);
        assert_eq!(config.thresholds.key_max_age_days, 90);
        assert_eq!(config.thresholds.root_use_days, 30);
        assert_eq!(config.thresholds.password_min_length, 14);
        assert_eq!(config.thresholds.password_reuse_prevention, 24);
        assert_eq!(config.organization.role_name, "IamAuditorRole");
        assert!(config.checks.fail_on.is_none());
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let err = parse("[thresholds]\nunused_days = 30\nunsed_days = 10\n").unwrap_err();
        assert!(err.contains("line 3") && err.contains("unsed_days"), "{err}");
        let err = parse("[checks]\nfail_on = \"severe\"\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("severe"), "{err}");
    }

    #[test]
    fn every_named_check_id_comes_with_its_key_and_line() {
        let text = "[checks]\ndisable = [\"admin-access\",\n  \"no-such-check\"]\n\n[checks.severity]\n\"unused-rol\" = \"high\"\n\n\
                    [[suppressions]]\ncheck = \"nope\"\nresource = \"*\"\nreason = \"x\"\nexpires = \"2030-01-01\"\n";
        let at = |key: &str, id: &str, line: usize| (key.to_string(), id.to_string(), line);
        assert_eq!(
            named(text),
            [
                at("checks.disable", "admin-access", 2),
                at("checks.disable", "no-such-check", 3),
                at("checks.severity", "unused-rol", 6),
                at("suppressions[0].check", "nope", 9),
            ]
        );
        assert!(named("").is_empty());
    }

    #[test]
    fn suppressions_need_a_reason_and_a_real_date() {
        let rule = |expires: &str, reason: &str| {
            format!("[[suppressions]]\ncheck = \"admin-access\"\nresource = \"arn:aws:iam::*:role/break-glass\"\nreason = \"{reason}\"\nexpires = \"{expires}\"\n")
        };
        let config = parse(&rule("2030-01-31", "break-glass role, reviewed quarterly")).unwrap();
        assert_eq!(config.suppressions[0].expires_at.unwrap().to_rfc3339(), "2030-01-31T23:59:59+00:00");
        assert!(parse(&rule("next year", "x")).unwrap_err().contains("line 5"));
        assert!(parse(&rule("2030-01-31", " ")).unwrap_err().contains("reason"));
    }

    #[test]
    fn s3_archive_keys_are_checked_together() {
        assert!(parse("[archive]\ns3_uri = \"s3://evidence/iam\"\ns3_object_lock_mode = \"COMPLIANCE\"\ns3_object_lock_days = 400\n").is_ok());
        assert!(parse("[archive]\ns3_uri = \"evidence/iam\"\n").unwrap_err().contains("s3://BUCKET"));
        assert!(parse("[archive]\ns3_uri = \"s3://evidence\"\ns3_object_lock_mode = \"GOVERNANCE\"\n")
            .unwrap_err()
            .contains("go together"));
        assert!(parse("[archive]\ns3_uri = \"s3://evidence\"\nkeep_runs = 3\n")
            .unwrap_err()
            .contains("lifecycle"));
        assert!(parse("[archive]\ndir = \"a\"\ns3_kms_key_id = \"k\"\n")
            .unwrap_err()
            .contains("need archive.s3_uri"));
        let err = parse(
            "[archive]\ns3_uri = \"s3://e\"\ns3_object_lock_mode = \"FOREVER\"\ns3_object_lock_days = 1\n",
        )
        .unwrap_err();
        assert!(err.contains("line 3") && err.contains("FOREVER"), "{err}");
    }

    #[test]
    fn identity_center_settings_are_checked() {
        let config = parse("").unwrap();
        assert_eq!(config.organization.identity_center_requests_per_second, 20);
        assert_eq!(config.organization.identity_center_region, None);
        let config =
            parse("[organization]\nidentity_center_requests_per_second = 5\nidentity_center_region = \"eu-west-1\"\n")
                .unwrap();
        assert_eq!(config.organization.identity_center_requests_per_second, 5);
        assert_eq!(config.organization.identity_center_region.as_deref(), Some("eu-west-1"));
        let err = parse("[organization]\nidentity_center_requests_per_second = 0\n").unwrap_err();
        assert!(err.contains("identity_center_requests_per_second must be at least 1"), "{err}");
        let err = parse("[organization]\nidentity_center_region = \"Ireland\"\n").unwrap_err();
        assert!(err.contains("\"Ireland\" is not an AWS region"), "{err}");
    }

    #[test]
    fn plain_smtp_needs_allow_insecure() {
        let base = "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nfrom = \"a@b\"\nto = [\"c@d\"]\ntls = \"none\"\n";
        assert!(parse(base).unwrap_err().contains("allow_insecure"));
        assert!(parse(&format!("{base}allow_insecure = true\n")).is_ok());
    }

    #[test]
    fn mail_defaults_are_a_file_digest_with_the_documented_subject() {
        let config = parse("[mail]\n").unwrap();
        let mail = config.mail.unwrap();
        assert_eq!(mail.transport, MailTransport::File);
        assert_eq!(mail.subject_template(), DEFAULT_SUBJECT);
        assert_eq!(mail.max_attachment_bytes, 10 * 1024 * 1024);
        assert_eq!((mail.tls_mode(), mail.port_number()), (MailTls::Starttls, 587));
    }

    #[test]
    fn bad_mail_keys_name_their_line() {
        let err = parse("[mail]\nfrom = \"not an address\"\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("mail.from"), "{err}");
        let err = parse("[mail]\nto = [\"a@b.example\",\n \"nope\"]\n").unwrap_err();
        assert!(err.contains("line 3") && err.contains("nope"), "{err}");
        let err = parse("[mail]\n\nsubject = \"{new} {neww}\"\n").unwrap_err();
        assert!(err.contains("line 3") && err.contains("{neww}"), "{err}");
        let err = parse("[mail.account_owners]\n\"1234\" = [\"a@b.example\"]\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("12-digit"), "{err}");
        let err = parse("[mail.account_owners]\n\"111122223333\" = [\"x\"]\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("111122223333"), "{err}");
        let err = parse("[mail]\npassword_env = \"P\"\n").unwrap_err();
        assert!(err.contains("username_env"), "{err}");
    }

    #[test]
    fn formats_default_to_every_one_and_ocsf_can_be_left_out() {
        let config = parse("").unwrap();
        assert!(config.report.writes(OutputFormat::Ocsf), "OCSF is on by default");
        let config = parse("[report]\nformats = [\"html\", \"json\", \"csv\"]\n").unwrap();
        assert!(!config.report.writes(OutputFormat::Ocsf));
        assert!(config.report.writes(OutputFormat::Json));
        let err = parse("[report]\nformats = [\"ocsf\"]\n").unwrap_err();
        assert!(err.contains("leaves out \"html\"") && err.contains("always written"), "{err}");
        let err = parse("[report]\nformats = [\"html\", \"json\", \"csv\", \"sarif\"]\n").unwrap_err();
        assert!(err.contains("sarif") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn evidence_and_accepted_risk_keys_parse_with_their_defaults() {
        let config = parse("[mail]\nsubject = \"{evidence_date}: {new} new\"\n").unwrap();
        assert_eq!(config.report.max_data_age_days, 2, "the default");
        assert!(config.mail.unwrap().subject_template().contains("{evidence_date}"));
        let config = parse(
            "[report]\nmax_data_age_days = 7\n[[suppressions]]\ncheck = \"admin-access\"\nresource = \"*\"\n\
             reason = \"r\"\nexpires = \"2030-01-01\"\nowner = \"secops\"\nticket = \"SEC-1\"\n\
             [[suppressions]]\ncheck = \"admin-access\"\nresource = \"*\"\nreason = \"r\"\nexpires = \"2030-01-01\"\n",
        )
        .unwrap();
        assert_eq!(config.report.max_data_age_days, 7);
        let rules = &config.suppressions;
        assert_eq!((rules[0].owner.as_deref(), rules[0].ticket.as_deref()), (Some("secops"), Some("SEC-1")));
        assert_eq!((rules[1].owner.as_deref(), rules[1].ticket.as_deref()), (None, None), "both optional");
        let err = parse("[report]\nmax_data_age_days = -1\n").unwrap_err();
        assert!(err.contains("max_data_age_days"), "{err}");
    }
}
