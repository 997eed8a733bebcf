//! The command line: parses arguments, wires config → snapshot → audit → reports, and
//! turns the outcome into the exit codes of DESIGN.md. No logic of its own beyond that.

use crate::audit::audit_into;
use crate::checks::CATALOG;
use crate::collect::{self, permissions, AccountStatus};
use crate::config::{Config, ConfigError, MailTransport};
use crate::deliver::archive::{free_name, CHECKSUMS};
use crate::deliver::{mail, Archive};
use crate::findings::{diff, Severity};
use crate::logging::LogFormat;
use crate::report::{self, RunInfo, RunReport, RunStats};
use crate::snapshot::Snapshot;
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Parser, Subcommand};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const EXIT_OK: i32 = 0;
pub const EXIT_FATAL: i32 = 1;
pub const EXIT_PARTIAL: i32 = 3;
pub const EXIT_FAIL_ON: i32 = 4;
pub const EXIT_MAIL: i32 = 5;

/// Audits AWS IAM across the accounts of an AWS Organization: admin power, wide trust,
/// unused and stale credentials, missing MFA. Writes report.html, findings.json,
/// findings.csv, coverage.csv and the digest mail (digest.eml), files the run in the
/// archive, then mails the digest when [mail] transport = "smtp".
///
/// Exit codes: 0 all accounts audited; 1 fatal error; 2 usage error; 3 partial (some accounts
/// not audited, or the organization's SCPs not known); 4 findings at or above `fail_on`; 5
/// reports archived but mail not delivered.
#[derive(Debug, Parser)]
#[command(name = "iam-auditor", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// `text` for people and cron mail; `json` (one object per line, fields at the top
    /// level) for CloudWatch Logs and other collectors.
    #[arg(long, global = true, value_enum, default_value = "text", env = "IAM_AUDITOR_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Log every collection stage and the AWS SDK's warnings.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit: collect from AWS (or read --snapshot), run every check, write the reports,
    /// archive them and mail the digest.
    Run(RunArgs),
    /// Collect only: read IAM across the organization and write a snapshot folder (the
    /// evidence `run --snapshot` audits offline).
    Collect(CollectArgs),
    /// Print the least-privilege IAM policies live collection needs: the audit role's
    /// permissions and trust in each member account, and the caller's own policy.
    AuditPolicy(AuditPolicyArgs),
    /// Explain one request offline, level by level (SCPs, identity policies, boundary,
    /// explicit denies), or with --why-admin how a principal reaches admin, step by step.
    Explain(crate::explain::ExplainArgs),
    /// Print the check catalog (id, severity, title, references); with an id, the check in full.
    Checks {
        /// Show one check with its remediation.
        id: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The TOML config (see config/iam-auditor.example.toml); without it, the defaults.
    #[arg(long, env = "IAM_AUDITOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// A snapshot folder (manifest.json, organization/, accounts/<id>/…) to audit offline.
    #[arg(long, env = "IAM_AUDITOR_SNAPSHOT")]
    pub snapshot: Option<PathBuf>,
    /// The instant ages are judged against (RFC 3339); default: the snapshot's collection time.
    #[arg(long, value_parser = parse_instant)]
    pub as_of: Option<DateTime<Utc>>,
    /// The folder for this run's files; default: the archive's <run id>/ folder when [archive]
    /// dir is set (compared with the newest archived run), else ./reports/<run id>/.
    #[arg(long, env = "IAM_AUDITOR_OUT")]
    pub out: Option<PathBuf>,
    /// Do not send the digest mail (digest.eml is still written and archived).
    #[arg(long)]
    pub no_mail: bool,
    /// When the run must be over; set by the Lambda handler only. An organization too large
    /// to collect in time is refused up front, and the archive must be S3.
    #[arg(skip)]
    pub deadline: Option<std::time::Instant>,
}

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// The TOML config; its [organization] section says which accounts and how to reach them.
    #[arg(long, env = "IAM_AUDITOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// The snapshot folder to create (it must not exist: evidence is never written over).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct AuditPolicyArgs {
    /// Take role_name and external_id from this config's [organization] section.
    #[arg(long, env = "IAM_AUDITOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// The principal that runs iam-auditor (the trust policy names it).
    #[arg(long, default_value = "arn:aws:iam::<AUDIT_ACCOUNT_ID>:role/<IAM_AUDITOR_JOB_ROLE>")]
    pub caller_arn: String,
    /// The organization id the trust policy requires of the caller (aws:PrincipalOrgID).
    #[arg(long, default_value = "<o-ORGANIZATION_ID>")]
    pub organization_id: String,
    /// `text` (documents with headings) or `json` (one object, for tooling).
    #[arg(long, value_enum, default_value = "text")]
    pub format: PolicyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFormat {
    Text,
    Json,
}

pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("{e}: write an RFC 3339 instant such as 2026-11-23T00:00:00Z"))
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    crate::logging::init(cli.log_format, cli.verbose);
    let outcome = match cli.command {
        Command::Run(args) => run(&args, cli.log_format),
        Command::Collect(args) => collect_only(&args, cli.log_format),
        Command::AuditPolicy(args) => audit_policy(&args),
        Command::Explain(args) => crate::explain::explain(&args),
        Command::Checks { id } => Ok(print_checks(id.as_deref())),
    };
    outcome.unwrap_or_else(|message| {
        tracing::error!(event = "fatal", "{message}");
        // Schedulers and metric filters key on one line per run, fatal runs included.
        tracing::info!(
            event = "run-finished",
            exit_code = EXIT_FATAL,
            "finished with exit code {EXIT_FATAL}"
        );
        EXIT_FATAL
    })
}

/// Holds the config's TOML text, for deployments without a file (used when no --config /
/// IAM_AUDITOR_CONFIG names one).
pub const CONFIG_TOML_ENV: &str = "IAM_AUDITOR_CONFIG_TOML";

/// The config from a file, an `s3://BUCKET/KEY` URI (scheduled jobs) or `IAM_AUDITOR_CONFIG_TOML`,
/// and the sha256 of its bytes; with `IAM_AUDITOR_SMTP_SECRET_ARN` set, the SMTP login from Secrets Manager
/// (read before collection, so a broken secret is known early, but only the mail fails).
/// Every command that takes a config (run, the Lambda handler's run, collect, audit-policy)
/// loads it here, so each refuses a config naming a check the catalog lacks before any work.
fn load_config(path: Option<&Path>) -> Result<(Config, Option<String>), String> {
    let (mut config, sha256) = match path {
        Some(path) if path.to_string_lossy().starts_with("s3://") => {
            let uri = path.to_string_lossy();
            let bytes = crate::job_inputs::read_s3_object(&uri)?;
            let text = String::from_utf8(bytes).map_err(|_| format!("config {uri}: not UTF-8 text"))?;
            parse_config(&text, &uri)?
        }
        Some(path) => {
            let (config, text) = Config::load(path).map_err(|e| e.to_string())?;
            crate::checks::validate_config(&config, &text)
                .map_err(|message| ConfigError::Invalid { path: path.to_path_buf(), message }.to_string())?;
            (config, Some(hex(&Sha256::digest(text.as_bytes()))))
        }
        // The TOML text itself in an environment variable (a Lambda or task definition).
        None => match std::env::var(CONFIG_TOML_ENV).ok().filter(|t| !t.trim().is_empty()) {
            Some(text) => parse_config(&text, &format!("in ${CONFIG_TOML_ENV}"))?,
            None => (Config::default(), None),
        },
    };
    if let Some(secret) = std::env::var(crate::job_inputs::SMTP_SECRET_ENV).ok().filter(|s| !s.is_empty()) {
        if let Some(mail) = config.mail.as_mut().filter(|m| m.transport == MailTransport::Smtp) {
            // An unreadable secret costs the mail only (exit 5), after the run is archived.
            mail.secret_login = Some(crate::job_inputs::read_smtp_secret(&secret));
        }
    }
    Ok((config, sha256))
}

/// A config that is not a local file, named `source` in errors, with its sha256.
fn parse_config(text: &str, source: &str) -> Result<(Config, Option<String>), String> {
    let config = Config::parse(text)
        .and_then(|config| crate::checks::validate_config(&config, text).map(|()| config))
        .map_err(|message| format!("config {source}: {message}"))?;
    Ok((config, Some(hex(&Sha256::digest(text.as_bytes())))))
}

/// `collect --out DIR`: the snapshot and a summary of what it holds.
fn collect_only(args: &CollectArgs, log_format: LogFormat) -> Result<i32, String> {
    let (config, _) = load_config(args.config.as_deref())?;
    let collection = collect::collect(
        &config,
        &args.out,
        &collect::session_name(Utc::now()),
        log_format == LogFormat::Text,
        None,
    )
    .map_err(|e| e.to_string())?;
    let failed = collection.count(AccountStatus::Failed);
    let totals = collection.total_calls();
    println!("Snapshot in {}", args.out.display());
    println!(
        "{} accounts collected, {failed} failed, {} skipped; {} AWS calls ({} retries) in {:.1} s",
        collection.count(AccountStatus::Collected),
        collection.count(AccountStatus::Skipped),
        totals.total_calls(),
        totals.total_retries(),
        collection.seconds
    );
    if collection.scps_missing {
        println!("The organization's service control policies were not collected: the snapshot is partial");
    }
    Ok(if collection.is_partial() { EXIT_PARTIAL } else { EXIT_OK })
}

fn audit_policy(args: &AuditPolicyArgs) -> Result<i32, String> {
    let (config, _) = load_config(args.config.as_deref())?;
    let org = &config.organization;
    let partition = crate::identifiers::arn_partition(&args.caller_arn);
    let partition = if partition.starts_with("aws") { partition } else { "aws" };
    let member = permissions::member_role_policy();
    let trust = permissions::member_role_trust_policy(
        &args.caller_arn,
        &args.organization_id,
        org.external_id.as_deref(),
    );
    let caller = permissions::caller_policy(&org.role_name, partition);
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    match args.format {
        PolicyFormat::Json => println!(
            "{}",
            pretty(&serde_json::json!({
                "member_role_name": org.role_name,
                // Each call the collector makes, and the IAM action that authorises it.
                "calls": permissions::OPERATIONS
                    .iter()
                    .map(|op| (op.to_string(), serde_json::json!(permissions::action_for(op))))
                    .collect::<serde_json::Map<String, serde_json::Value>>(),
                "member_role_policy": member,
                "member_role_trust_policy": trust,
                "caller_policy": caller,
            }))
        ),
        PolicyFormat::Text => {
            println!(
                "# 1. The audit role `{}` in every member account: its permissions (read-only)",
                org.role_name
            );
            println!("{}\n", pretty(&member));
            println!(
                "# 2. Its trust policy (only the auditing principal, only from inside the organization)"
            );
            println!("{}\n", pretty(&trust));
            println!("# 3. The caller's policy, in the management or delegated-administrator account");
            println!("#    (it reads the organization, assumes the audit roles, and audits its own account)");
            println!("{}", pretty(&caller));
            println!("\n# deploy/cloudformation/audit-role.yaml creates role 1+2 in every account through a StackSet.");
        }
    }
    Ok(EXIT_OK)
}

fn print_checks(id: Option<&str>) -> i32 {
    if let Some(id) = id {
        let Some(check) = crate::checks::by_id(id) else {
            eprintln!("iam-auditor: error: no check `{id}`; `iam-auditor checks` lists them");
            return EXIT_FATAL;
        };
        println!("{}\n  title:       {}\n  severity:    {}", check.id, check.title, check.severity);
        println!("  section:     {}\n  references:  {}", check.family.title(), check.references.join(", "));
        println!("  remediation: {}", check.remediation);
        return EXIT_OK;
    }
    println!("{:<26} {:<9} {:<58} REFERENCES", "ID", "SEVERITY", "TITLE");
    for check in CATALOG {
        let references =
            if check.references.is_empty() { "-".to_string() } else { check.references.join(", ") };
        println!("{:<26} {:<9} {:<58} {references}", check.id, check.severity.as_str(), check.title);
    }
    EXIT_OK
}

/// What an exit code means (DESIGN.md), for logs and the Lambda response.
pub fn exit_meaning(code: i32) -> &'static str {
    match code {
        EXIT_OK => "the run completed and every account was audited",
        EXIT_FATAL => "fatal error: nothing usable was produced",
        2 => "usage error",
        EXIT_PARTIAL => {
            "partial: reports were produced, but some accounts were not audited or the SCPs were not known"
        }
        EXIT_FAIL_ON => "findings at or above the configured fail_on severity",
        EXIT_MAIL => "reports were produced and archived, but the mail could not be delivered",
        _ => "unknown exit code",
    }
}

/// The `run` command, and the Lambda handler's run (which sets `args.deadline`).
pub fn run(args: &RunArgs, log_format: LogFormat) -> Result<i32, String> {
    let started_at = Utc::now();
    let (config, config_sha256) = load_config(args.config.as_deref())?;
    // Only Lambda sets a deadline, and nothing on its disk outlives the invocation.
    if args.deadline.is_some() && config.archive.s3_uri.is_none() {
        return Err("in AWS Lambda the archive must be S3 ([archive] s3_uri = \"s3://BUCKET/PREFIX\"): the \
                    function's disk does not outlive the invocation"
            .into());
    }
    let live = match &args.snapshot {
        Some(_) => None,
        None => Some(LiveSnapshot::collect(&config, started_at, log_format, args.deadline)?),
    };
    let snapshot_dir = match (&args.snapshot, &live) {
        (Some(dir), _) => dir.as_path(),
        (None, Some(live)) => live.dir.as_path(),
        (None, None) => unreachable!("a run has a snapshot or collects one"),
    };
    let snapshot = Snapshot::open(snapshot_dir).map_err(|e| e.to_string())?;
    let as_of = match (args.as_of, snapshot.collected_at()) {
        (Some(as_of), _) => as_of,
        (None, Some(collected)) => collected,
        (None, None) => {
            tracing::warn!(
                event = "no-collection-time",
                "the snapshot has no manifest.json collected_at and no --as-of was given; \
                 ages are judged against the current time"
            );
            started_at
        }
    };
    let run_id = started_at.format("%Y%m%dT%H%M%SZ").to_string();
    let archive = Archive::from_config(&config.archive)?;
    let mut provenance = report::provenance::Sources {
        organization_id: snapshot.organization.id.as_deref(),
        collected_by: snapshot.manifest.as_ref().and_then(|m| m.caller.as_deref()),
        collected_at: snapshot.collected_at(),
        manifest_sha256: snapshot.manifest_sha256.as_deref(),
        as_of,
        as_of_given: args.as_of.is_some(),
        started_at,
        max_data_age_days: config.report.max_data_age_days,
        filed_at: None,
    };
    if let Some(line) = report::provenance::Provenance::new(&provenance).stale_log_line() {
        tracing::warn!(event = "stale-evidence", "{line}");
    }
    let previous = previous_run(archive.as_ref());
    let pending = match (&args.out, &archive) {
        (None, Some(archive)) => Some(archive.begin(&run_id)?),
        _ => None,
    };
    let out_dir = match (&args.out, &pending) {
        (Some(dir), _) => dir.clone(),
        (None, Some(pending)) => pending.dir().to_path_buf(),
        (None, None) => unused_folder(&Path::new("reports").join(&run_id)),
    };

    // The audit streams its findings and roster into the output folder as accounts finish.
    let whole: std::collections::BTreeSet<String> =
        config.mail.as_ref().map(|m| m.account_owners.keys().cloned().collect()).unwrap_or_default();
    let sample =
        (config.report.html_max_rows_per_check.max(report::stream::SAMPLE_MIN), report::stream::SAMPLE_MIN);
    let (previous_name, previous_file, previous_index) = match previous {
        Some((name, run, index)) => (Some(name), Some(run), Some(index)),
        None => (None, None, None),
    };
    let spill_dir = out_dir.join(".spill");
    // Filed runs store their large files gzip-compressed unless configured otherwise: the
    // stream then writes them so, compressing as the audit goes.
    let compress = pending.is_some() && config.archive.compress == crate::config::ArchiveCompression::Gzip;
    let mut stream = report::stream::FindingStream::new(
        &spill_dir,
        &config,
        &run_id,
        as_of,
        previous_index,
        report::stream::RosterBaseline {
            previous: previous_file.as_ref().and_then(|p| p.roster.as_ref()),
            identity_center: crate::access::IdentityCenterSummary::of(snapshot.identity_center.as_ref())
                .collected(),
        },
        sample,
        whole,
        compress,
    )
    .map_err(|e| {
        format!("cannot write in {}: {e} (choose a writable folder with --out)", spill_dir.display())
    })?;
    if config.report.writes(crate::config::OutputFormat::Ocsf) {
        let context = report::ocsf::Context::new(
            &run_id,
            as_of,
            snapshot.organization.id.as_deref(),
            env!("CARGO_PKG_VERSION"),
        );
        stream = stream.with_ocsf(context).map_err(|e| {
            format!("cannot write in {}: {e} (choose a writable folder with --out)", spill_dir.display())
        })?;
    }
    // A filed run keeps its findings index, which the next run compares with.
    if pending.is_some() {
        let path = out_dir.join(crate::findings::diff::INDEX);
        stream = stream.with_index(&path).map_err(|e| {
            format!("cannot write in {}: {e} (check that the [archive] dir is writable)", spill_dir.display())
        })?;
    }
    if config.report.account_pages {
        let pages = report::pages::AccountPages::new(
            &out_dir,
            &spill_dir.join("pages"),
            &config.report.title,
            &run_id,
            as_of,
            &config.disabled_checks(),
        )
        .map_err(|e| {
            format!("cannot write in {}: {e} (choose a writable folder with --out)", out_dir.display())
        })?;
        stream = stream.with_pages(pages);
    }
    let outcome = audit_into(&snapshot, &config, as_of, &stream);
    for problem in &outcome.snapshot_problems {
        tracing::warn!(event = "snapshot-problem", "{problem}");
    }
    let failed = outcome.failed_accounts();
    // Without the SCPs every verdict an SCP would cap is unknown: as partial as a failed account.
    let partial = failed > 0 || snapshot.organization.scps_lost.is_some();
    let mut output =
        stream.finish(&outcome.coverage, previous_file.as_ref().map(|p| p.findings_file.as_path()))?;
    if let Some(error) = output.resolved_error.take() {
        tracing::warn!(
            event = "no-previous-run",
            "cannot read the resolved findings back from the previous run: {error}; they are not listed"
        );
    }
    drop(previous_file);
    let previous_run = previous_name;

    let disabled = config.disabled_checks();
    let info = RunInfo {
        id: run_id.clone(),
        as_of: as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
        started_at: started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        finished_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        source: if live.is_some() { "live" } else { "snapshot" }.into(),
        snapshot: args.snapshot.as_ref().map(|dir| dir.display().to_string()),
        config_sha256,
        thresholds: config.thresholds.clone(),
        disabled_checks: disabled,
        severity_overrides: config.checks.severity.clone(),
        fail_on: config.checks.fail_on,
        previous_run,
        stats: RunStats {
            api_calls: snapshot.manifest.as_ref().map(|m| m.api_calls.clone()).unwrap_or_default(),
            api_retries: snapshot.manifest.as_ref().map(|m| m.api_retries.clone()).unwrap_or_default(),
            escalation_graph: outcome.escalation_stats,
            ..RunStats::default()
        },
    };
    provenance.filed_at = match (&pending, &archive) {
        (Some(pending), Some(archive)) => Some(archive.location_of(pending, &run_id).display().to_string()),
        _ => None,
    };
    let trend = trend_history(archive.as_ref(), config.report.trend_runs);
    let report = RunReport::streamed(info, outcome.coverage, output, outcome.snapshot_problems)
        .with_identity_center(outcome.identity_center)
        .with_trend(trend)
        .with_suppression_rules(&config.suppressions, as_of)
        .with_provenance(report::provenance::Provenance::new(&provenance));
    let mut written = report::write_all(&report, &config, &out_dir).map_err(|e| e.to_string())?;
    // The spill files are read: they go before the run is filed.
    let report = report.without_spill();
    // The digest is composed from the files just written and filed with them (SHA256SUMS
    // covers it); it is sent only after the run is archived.
    let mail_config = config.mail.clone().unwrap_or_default();
    let archived_at = match (&pending, &archive) {
        (Some(pending), Some(archive)) => archive.location_of(pending, &run_id),
        _ => out_dir.clone(),
    };
    let mut mail_failure = None;
    let outgoing =
        match mail::compose(&report, &config.report.title, &mail_config, &out_dir, &archived_at, compress)
            .and_then(|outgoing| mail::write_eml(&outgoing, &out_dir).map(|paths| (outgoing, paths)))
        {
            Ok((outgoing, paths)) => {
                written.extend(paths);
                outgoing
            }
            Err(error) => {
                mail_failure = Some(error.to_string());
                Vec::new()
            }
        };
    let names: Vec<String> =
        written.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().to_string()).collect();
    let location = match (pending, &archive) {
        (Some(pending), Some(archive)) => {
            if config.archive.include_snapshot {
                pending.add_folder(snapshot_dir, "snapshot").map_err(|e| e.to_string())?;
            }
            let location = archive.file(pending, &run_id, compress)?;
            if let Some(keep) = config.archive.keep_runs {
                for removed in archive.apply_retention(keep)? {
                    tracing::info!(
                        event = "retention",
                        "archive retention (keep_runs = {keep}) removed run {removed}"
                    );
                }
            }
            location
        }
        _ => out_dir.display().to_string(),
    };

    // The line an auditor must not miss, in the job's log too.
    for change in
        report.admin_changes.iter().filter(|c| c.change == crate::access::roster::AdminChangeKind::Gained)
    {
        tracing::warn!(event = "admin-gained", account = %change.account_id, "{}", change.sentence());
    }
    for row in report.coverage.iter().filter(|c| c.error.is_some()) {
        let error = row.error.as_deref().unwrap_or_default();
        tracing::warn!(
            event = "account-not-audited",
            account = %row.account_id,
            status = row.status.as_str(),
            "account {} ({}) {}: {error}",
            row.account_id,
            row.account_name,
            row.status.as_str()
        );
    }
    if mail_config.transport == MailTransport::Smtp && mail_failure.is_none() {
        if args.no_mail {
            tracing::info!(
                event = "mail-skipped",
                "--no-mail: the digest was not sent (it is in the run's folder as {})",
                mail::DIGEST_FILE
            );
        } else if let Err(error) = mail::send(&outgoing, &mail_config) {
            mail_failure = Some(error.to_string());
        }
    }
    let separator = if location.ends_with('/') { "" } else { "/" };
    println!("Reports in {location}:");
    for name in &names {
        println!("  {location}{separator}{name}");
    }
    if report.account_pages {
        let pages =
            report.coverage.iter().filter(|c| report::pages::file_name(&c.account_id).is_some()).count();
        println!(
            "  {location}{separator}{}/ ({pages} account page{}, linked from report.html)",
            report::pages::DIR,
            if pages == 1 { "" } else { "s" }
        );
    }
    if archive.is_some() && args.out.is_none() {
        println!("  {location}{separator}{CHECKSUMS} (archived; `sha256sum -c {CHECKSUMS}` in that folder verifies the run)");
    }
    println!("{}", report.one_line_summary());

    if let Some(failure) = &mail_failure {
        tracing::error!(event = "mail-failed", "the reports are in {location}, but {failure}");
    }
    let code = exit_code(partial, config.checks.fail_on, report.worst_open(), mail_failure.is_some());
    // The line schedulers and CloudWatch metric filters key on.
    tracing::info!(
        event = "run-finished",
        run_id = %run_id,
        exit_code = code,
        accounts_audited = report.run.stats.accounts_audited,
        accounts_failed = report.run.stats.accounts_failed,
        findings_open = report.summary.open,
        findings_new = report.summary.new,
        api_calls = report.run.stats.api_calls.values().sum::<u64>(),
        "run {run_id} finished with exit code {code}"
    );
    Ok(code)
}

/// A snapshot collected for this run, in a temporary folder removed afterwards (with
/// `[archive] include_snapshot` it is copied into the archived run first).
struct LiveSnapshot {
    dir: PathBuf,
    parent: PathBuf,
}

impl LiveSnapshot {
    fn collect(
        config: &Config,
        started_at: DateTime<Utc>,
        log_format: LogFormat,
        deadline: Option<std::time::Instant>,
    ) -> Result<LiveSnapshot, String> {
        let parent = std::env::temp_dir().join(format!(
            "iam-auditor-{}-{}",
            started_at.format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        ));
        std::fs::create_dir_all(&parent).map_err(|e| {
            format!(
                "cannot create a working folder {}: {e}; set TMPDIR to a writable folder",
                parent.display()
            )
        })?;
        let live = LiveSnapshot { dir: parent.join("snapshot"), parent };
        let collection = collect::collect(
            config,
            &live.dir,
            &collect::session_name(started_at),
            log_format == LogFormat::Text,
            deadline,
        )
        .map_err(|e| e.to_string())?;
        let totals = collection.total_calls();
        tracing::info!(
            event = "collected",
            accounts = collection.accounts.len(),
            api_calls = totals.total_calls(),
            api_retries = totals.total_retries(),
            seconds = (collection.seconds * 10.0).round() / 10.0,
            "collected {} account{} with {} AWS calls ({} retries) in {:.1} s",
            collection.accounts.len(),
            if collection.accounts.len() == 1 { "" } else { "s" },
            totals.total_calls(),
            totals.total_retries(),
            collection.seconds
        );
        Ok(live)
    }
}

impl Drop for LiveSnapshot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.parent);
    }
}

/// The archive's newest complete run, indexed for the comparison. Without a readable
/// previous run every finding counts as new.
fn previous_run(
    archive: Option<&Archive>,
) -> Option<(String, crate::findings::diff::PreviousRun, crate::findings::diff::PreviousIndex)> {
    let loaded = archive.map(Archive::previous_run).transpose().and_then(|found| {
        let Some(Some((name, run))) = found else { return Ok(None) };
        // The run's findings index when it kept one (a line a finding); else its findings.json.
        if let Some(path) = &run.index_file {
            let read = crate::deliver::archive::open_maybe_gzip(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|file| diff::PreviousIndex::read_index(file, path));
            match read {
                Ok(index) => return Ok(Some((name, run, index))),
                Err(message) => tracing::warn!(
                    event = "findings-index-unreadable",
                    "{message}; comparing with the previous run's findings.json instead"
                ),
            }
        }
        let file = crate::deliver::archive::open_maybe_gzip(&run.findings_file)
            .map_err(|e| format!("cannot read {}: {e}", run.findings_file.display()))?;
        let index = diff::PreviousIndex::read(file, &run.findings_file)?;
        Ok(Some((name, run, index)))
    });
    match loaded {
        Ok(found) => found,
        Err(message) => {
            tracing::warn!(
                event = "no-previous-run",
                "cannot compare with the previous run: {message}; every finding counts as new"
            );
            None
        }
    }
}

/// The archive's newest runs before this one, for the trend (`[report] trend_runs` counts this
/// one too). An archived run whose summary cannot be read is left out with a warning; an archive
/// that cannot be listed leaves the trend with this run only.
fn trend_history(archive: Option<&Archive>, runs: usize) -> report::trend::History {
    let Some(archive) = archive else { return report::trend::History::default() };
    let earlier = runs.saturating_sub(1);
    let history = match earlier {
        0 => Ok(report::trend::History::default()),
        _ => archive.history(earlier),
    };
    match history {
        Ok(history) => {
            for left_out in &history.left_out {
                tracing::warn!(
                    event = "trend-run-left-out",
                    run = %left_out.run,
                    "the trend leaves out archived run {}: {}",
                    left_out.run,
                    left_out.why
                );
            }
            report::trend::History { archive: true, ..history }
        }
        Err(message) => {
            tracing::warn!(event = "no-trend", "the trend shows this run only: {message}");
            report::trend::History { archive: true, ..Default::default() }
        }
    }
}

/// DESIGN.md's exit codes: where several apply, the highest wins.
fn exit_code(
    partial: bool,
    fail_on: Option<Severity>,
    worst_open: Option<Severity>,
    mail_failed: bool,
) -> i32 {
    let gate = matches!((fail_on, worst_open), (Some(fail_on), Some(worst)) if worst >= fail_on);
    if gate {
        println!(
            "Open findings at or above fail_on = {} (worst: {}): exit {EXIT_FAIL_ON}",
            fail_on.map(Severity::as_str).unwrap_or_default(),
            worst_open.map(Severity::as_str).unwrap_or_default()
        );
    }
    [(mail_failed, EXIT_MAIL), (gate, EXIT_FAIL_ON), (partial, EXIT_PARTIAL)]
        .into_iter()
        .find_map(|(applies, code)| applies.then_some(code))
        .unwrap_or(EXIT_OK)
}

/// `dir`, or `dir-2`, `dir-3` … if it exists: a run never writes over an earlier one.
fn unused_folder(dir: &Path) -> PathBuf {
    PathBuf::from(free_name(&dir.display().to_string(), |name| Path::new(name).exists()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_exit_code_wins() {
        assert_eq!(exit_code(false, None, Some(Severity::Critical), false), EXIT_OK, "no fail_on, no gate");
        assert_eq!(exit_code(true, None, None, false), EXIT_PARTIAL);
        assert_eq!(exit_code(true, Some(Severity::High), Some(Severity::High), false), EXIT_FAIL_ON);
        assert_eq!(exit_code(false, Some(Severity::High), Some(Severity::Medium), false), EXIT_OK);
        assert_eq!(exit_code(true, Some(Severity::High), Some(Severity::Critical), true), EXIT_MAIL);
    }
}
