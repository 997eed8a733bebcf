//! The run's outputs: `findings.json`, `findings.csv`, `coverage.csv`, `access-roster.csv`, `report.html`,
//! `findings.ocsf.json` (`ocsf.rs`), `summary.json` (`trend.rs`) and the mail digest (`digest.rs`; the
//! message around it is `deliver::mail`).
//! Renderers consume the [`RunReport`] and nothing else; they never look at a snapshot.

pub mod accepted_risks;
pub mod cis;
pub mod csv;
pub mod digest;
pub mod html;
pub mod json;
pub mod ocsf;
pub mod pages;
pub mod provenance;
pub mod stream;
pub mod trend;

use crate::access::roster::{AccountTally, AdminChange, AdminChangeKind, RosterRow};
use crate::access::IdentityCenterSummary;
use crate::audit::{CoverageRow, CoverageStatus};
use crate::config::{Config, Thresholds};
use crate::findings::{Change, Finding, Severity, Status};
use crate::snapshot::InputProblem;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const FINDINGS_SCHEMA: &str = "iam-auditor/findings/v1";

/// The access roster's file name in a run folder.
pub const ROSTER: &str = "access-roster.csv";

/// How the run was made: what an auditor needs to reproduce or weigh it.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub id: String,
    pub as_of: String,
    pub started_at: String,
    pub finished_at: String,
    pub tool_version: String,
    /// `live` or `snapshot`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// sha256 of the config file's bytes; None when the run used no config file.
    pub config_sha256: Option<String>,
    pub thresholds: Thresholds,
    pub disabled_checks: Vec<String>,
    /// `[checks.severity]`: check id → the severity that replaced its default.
    pub severity_overrides: BTreeMap<String, Severity>,
    pub fail_on: Option<Severity>,
    /// The run this one was compared with (for new/resolved); None when there was none.
    pub previous_run: Option<String>,
    pub stats: RunStats,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RunStats {
    /// AWS calls by operation (`iam:GetAccountAuthorizationDetails` …); empty for snapshot runs.
    pub api_calls: BTreeMap<String, u64>,
    /// Attempts beyond the first (throttling, timeouts), by operation; empty for snapshot runs.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub api_retries: BTreeMap<String, u64>,
    pub accounts_audited: usize,
    pub accounts_failed: usize,
    pub accounts_skipped: usize,
    /// The escalation search's size: nodes, candidate (principal, path) pairs, edges asked
    /// and found, and principals reached only across accounts.
    pub escalation_graph: crate::audit::EscalationStats,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Open findings by severity (every severity present, zero included).
    pub by_severity: BTreeMap<Severity, usize>,
    /// Open findings by check id.
    pub by_check: BTreeMap<String, usize>,
    pub open: usize,
    pub suppressed: usize,
    pub new: usize,
    pub resolved: usize,
    /// Previous findings not re-checked this run (see `carried_over`).
    pub carried_over: usize,
    /// Principals (people first) who gained / lost admin on an account since the previous run.
    pub admin_gained: usize,
    pub admin_lost: usize,
}

/// Everything a renderer may show.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub schema: &'static str,
    pub run: RunInfo,
    /// Where the evidence comes from and how to verify it (the report's "Evidence" block).
    pub provenance: provenance::Provenance,
    pub coverage: Vec<CoverageRow>,
    pub summary: Summary,
    /// Every `[[suppressions]]` rule of the config, with the findings it covered this run.
    pub suppression_rules: Vec<accepted_risks::RuleSummary>,
    pub findings: Vec<Finding>,
    pub resolved: Vec<Finding>,
    /// Findings of the previous run that this run could not re-check (their account was not
    /// audited, or their check had no input there): neither open now nor fixed.
    pub carried_over: Vec<Finding>,
    /// Problems with snapshot-wide files (manifest, organization/): they cost facts such as
    /// SCPs or account names, never an account.
    pub snapshot_problems: Vec<InputProblem>,
    pub identity_center: IdentityCenterSummary,
    /// Who gained and who lost admin on which account since the previous run.
    pub admin_changes: Vec<AdminChange>,
    /// Who has access to each account (`access-roster.csv`; not in findings.json). A
    /// streamed run holds only the admin rows the report lists (of its first accounts).
    #[serde(skip)]
    pub roster: Vec<RosterRow>,
    /// Every count the renderers show, over all findings (`findings` may be a sample).
    #[serde(skip)]
    pub counts: Counts,
    /// Every account's roster in numbers (rows, admins by kind).
    #[serde(skip)]
    pub roster_tally: BTreeMap<String, AccountTally>,
    /// A streamed run's findings, resolved findings and roster, in spill files; then
    /// `findings` and `resolved` hold only the first of each group of the report's order.
    #[serde(skip)]
    pub streamed: Option<Arc<Streamed>>,
    /// Every account has its page, `accounts/<id>.html`, beside report.html.
    #[serde(skip)]
    pub account_pages: bool,
    /// How long the findings resolved in this run had been open (summary.json).
    #[serde(skip)]
    pub time_to_fix: trend::TimeToFix,
    /// The archive's newest runs before this one, for the trend.
    #[serde(skip)]
    pub trend: trend::History,
}

/// Open, new and suppressed findings counted by severity, check and account.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub open: usize,
    pub suppressed: usize,
    /// New and open.
    pub new: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub new_by_severity: BTreeMap<Severity, usize>,
    pub by_check: BTreeMap<String, usize>,
    pub new_by_check: BTreeMap<String, usize>,
    pub suppressed_by_check: BTreeMap<String, usize>,
    pub by_account: BTreeMap<String, AccountCounts>,
    /// Findings per suppression rule (its number, from 1): suppressed by it, or open again
    /// because it lapsed.
    pub by_rule: BTreeMap<usize, usize>,
}

/// One account's findings: open ones per severity (in [`Severity::ALL`] order), suppressed.
#[derive(Debug, Clone, Default)]
pub struct AccountCounts {
    pub name: String,
    pub open: [usize; 5],
    pub suppressed: usize,
    /// Open findings per check in the account.
    pub checks: CheckTallies,
    /// The CIS section-1 items its open and its suppressed findings concern.
    pub cis: cis::Tally,
}

/// Open findings per check in one account. The run keeps one per account until the report is
/// written, so a check of the catalog takes 8 bytes (its place, count and worst severity)
/// rather than a map entry keyed by its name (a map per account was about 1.5 KB, 15 MB at
/// 10,000 accounts).
#[derive(Debug, Clone, Default)]
pub struct CheckTallies {
    /// Checks of the catalog: (place in it, open, worst), by place.
    catalog: Vec<(u16, u32, Severity)>,
    /// Checks the catalog does not know (findings read from another build's files).
    others: BTreeMap<crate::findings::CheckText, CheckTally>,
}

impl CheckTallies {
    pub fn add(&mut self, check: &crate::findings::CheckText, severity: Severity) {
        match crate::checks::place_of(check).map(|place| place as u16) {
            Some(place) => match self.catalog.binary_search_by_key(&place, |(p, _, _)| *p) {
                Ok(i) => {
                    let (_, open, worst) = &mut self.catalog[i];
                    *open += 1;
                    *worst = (*worst).max(severity);
                }
                Err(i) => self.catalog.insert(i, (place, 1, severity)),
            },
            None => {
                let tally =
                    self.others.entry(check.clone()).or_insert(CheckTally { open: 0, worst: severity });
                tally.open += 1;
                tally.worst = tally.worst.max(severity);
            }
        }
    }

    /// Each check with open findings, and its tally: the catalog's checks in its order, then
    /// the others by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, CheckTally)> + '_ {
        let catalog = self.catalog.iter().map(|&(place, open, worst)| {
            (crate::checks::CATALOG[usize::from(place)].id, CheckTally { open: open as usize, worst })
        });
        catalog.chain(self.others.iter().map(|(check, tally)| (check.as_ref(), *tally)))
    }
}

/// One check's open findings in one account: how many, and the worst severity among them.
#[derive(Debug, Clone, Copy)]
pub struct CheckTally {
    pub open: usize,
    pub worst: Severity,
}

fn bump(map: &mut BTreeMap<String, usize>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

impl Counts {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Counts {
        let mut counts = Counts::default();
        for finding in findings {
            counts.add(finding);
        }
        counts
    }

    pub fn add(&mut self, finding: &Finding) {
        let account = match self.by_account.get_mut(finding.account_id.as_str()) {
            Some(account) => account,
            None => self.by_account.entry(finding.account_id.to_string()).or_insert_with(|| AccountCounts {
                name: finding.account_name.clone(),
                ..Default::default()
            }),
        };
        account.cis.add(finding);
        match finding.status {
            Status::Open => {
                self.open += 1;
                *self.by_severity.entry(finding.severity).or_default() += 1;
                bump(&mut self.by_check, &finding.check);
                if let Some(column) = Severity::ALL.iter().position(|s| *s == finding.severity) {
                    account.open[column] += 1;
                }
                account.checks.add(&finding.check, finding.severity);
                if finding.change == Change::New {
                    self.new += 1;
                    *self.new_by_severity.entry(finding.severity).or_default() += 1;
                    bump(&mut self.new_by_check, &finding.check);
                }
            }
            Status::Suppressed => {
                self.suppressed += 1;
                account.suppressed += 1;
                bump(&mut self.suppressed_by_check, &finding.check);
            }
        }
        let rule = match finding.status {
            Status::Suppressed => finding.suppression.as_ref().and_then(|s| s.rule),
            Status::Open => finding.lapsed_rule,
        };
        if let Some(rule) = rule {
            *self.by_rule.entry(rule).or_default() += 1;
        }
    }

    /// Accounts with open findings of each check.
    pub fn accounts_by_check(&self) -> BTreeMap<&str, usize> {
        let mut out: BTreeMap<&str, usize> = BTreeMap::new();
        for account in self.by_account.values() {
            for (check, _) in account.checks.iter() {
                *out.entry(check).or_default() += 1;
            }
        }
        out
    }

    pub fn worst_open(&self) -> Option<Severity> {
        self.by_severity.iter().filter(|(_, n)| **n > 0).map(|(s, _)| *s).max()
    }
}

/// A streamed run's spill files (in a hidden folder of the output folder, removed with this).
#[derive(Debug)]
pub struct Streamed {
    pub dir: PathBuf,
    pub json: stream::SpillFile,
    pub csv: stream::SpillFile,
    pub resolved_json: stream::SpillFile,
    pub carried_json: stream::SpillFile,
    pub roster: stream::SpillFile,
    /// findings.ocsf.json's events of this run's findings, when the run writes it.
    pub ocsf: Option<stream::SpillFile>,
    /// Its events of the previous run's resolved, then carried-over, findings.
    pub ocsf_gone: Option<stream::SpillFile>,
}

impl Drop for Streamed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RunReport {
    pub fn new(
        run: RunInfo,
        coverage: Vec<CoverageRow>,
        findings: Vec<Finding>,
        resolved: Vec<Finding>,
        snapshot_problems: Vec<InputProblem>,
    ) -> RunReport {
        let counts = Counts::of(&findings);
        let resolved_total = resolved.len();
        let fixed_at = run.as_of.parse().unwrap_or(chrono::DateTime::UNIX_EPOCH);
        let time_to_fix = trend::FixTimes::of(&resolved, fixed_at).summary();
        let mut report = RunReport::assemble(
            run,
            coverage,
            counts,
            findings,
            resolved,
            resolved_total,
            snapshot_problems,
            None,
        );
        report.time_to_fix = time_to_fix;
        report
    }

    /// A report of a streamed run: `findings` and `resolved` are the samples the stream kept.
    pub fn streamed(
        run: RunInfo,
        coverage: Vec<CoverageRow>,
        output: stream::StreamOutput,
        snapshot_problems: Vec<InputProblem>,
    ) -> RunReport {
        let stream::StreamOutput {
            counts,
            findings,
            resolved,
            resolved_total,
            carried_over,
            carried_over_total,
            roster,
            roster_tally,
            admin_changes,
            streamed,
            account_pages,
            fix_times,
            ..
        } = output;
        let mut report = RunReport::assemble(
            run,
            coverage,
            counts,
            findings,
            resolved,
            resolved_total,
            snapshot_problems,
            Some(Arc::new(streamed)),
        );
        report.roster = roster;
        report.roster_tally = roster_tally;
        report.set_admin_changes(admin_changes);
        report.account_pages = account_pages;
        report.carried_over = carried_over;
        report.summary.carried_over = carried_over_total;
        report.time_to_fix = fix_times.summary();
        report
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        run: RunInfo,
        coverage: Vec<CoverageRow>,
        counts: Counts,
        findings: Vec<Finding>,
        resolved: Vec<Finding>,
        resolved_total: usize,
        snapshot_problems: Vec<InputProblem>,
        streamed: Option<Arc<Streamed>>,
    ) -> RunReport {
        let mut summary = Summary {
            by_severity: Severity::ALL.iter().map(|s| (*s, 0)).collect(),
            by_check: counts.by_check.clone(),
            open: counts.open,
            suppressed: counts.suppressed,
            new: counts.new,
            resolved: resolved_total,
            ..Summary::default()
        };
        summary.by_severity.extend(counts.by_severity.iter().map(|(s, n)| (*s, *n)));
        let mut run = run;
        let count = |s: CoverageStatus| coverage.iter().filter(|c| c.status == s).count();
        run.stats.accounts_audited = count(CoverageStatus::Audited);
        run.stats.accounts_failed = count(CoverageStatus::Failed);
        run.stats.accounts_skipped = count(CoverageStatus::Skipped);
        let as_of = run.as_of.parse().unwrap_or(chrono::DateTime::UNIX_EPOCH);
        RunReport {
            schema: FINDINGS_SCHEMA,
            run,
            provenance: provenance::Provenance::judged_at(as_of),
            coverage,
            summary,
            suppression_rules: Vec::new(),
            findings,
            resolved,
            carried_over: Vec::new(),
            snapshot_problems,
            identity_center: IdentityCenterSummary::of(None),
            admin_changes: Vec::new(),
            roster: Vec::new(),
            roster_tally: BTreeMap::new(),
            counts,
            streamed,
            account_pages: false,
            time_to_fix: trend::TimeToFix::default(),
            trend: trend::History::default(),
        }
    }

    /// Adds the previous run's findings this run could not re-check (a run held whole).
    pub fn with_carried_over(mut self, carried_over: Vec<Finding>) -> RunReport {
        self.summary.carried_over = carried_over.len();
        self.carried_over = carried_over;
        self
    }

    /// Who gained and who lost admin since the previous run (and their counts).
    fn set_admin_changes(&mut self, admin_changes: Vec<AdminChange>) {
        self.summary.admin_gained =
            admin_changes.iter().filter(|c| c.change == AdminChangeKind::Gained).count();
        self.summary.admin_lost = admin_changes.iter().filter(|c| c.change == AdminChangeKind::Lost).count();
        self.admin_changes = admin_changes;
    }

    /// What Identity Center coverage was (a streamed report has its roster already).
    pub fn with_identity_center(mut self, identity_center: IdentityCenterSummary) -> RunReport {
        self.identity_center = identity_center;
        self
    }

    /// Adds the access roster, what Identity Center coverage was, and who gained or lost admin.
    pub fn with_access(
        mut self,
        roster: Vec<RosterRow>,
        admin_changes: Vec<AdminChange>,
        identity_center: IdentityCenterSummary,
    ) -> RunReport {
        self.roster_tally = AccountTally::of_rows(&roster);
        self.roster = roster;
        self.set_admin_changes(admin_changes);
        self.with_identity_center(identity_center)
    }

    /// Adds the archive's earlier runs, for the trend.
    pub fn with_trend(mut self, history: trend::History) -> RunReport {
        self.trend = history;
        self
    }

    /// Adds where the evidence comes from (the report's "Evidence" block).
    pub fn with_provenance(mut self, provenance: provenance::Provenance) -> RunReport {
        self.provenance = provenance;
        self
    }

    /// Adds every suppression rule of the config, judged at `as_of` (the instant the rules
    /// were applied at), with the findings each covered as the counts have them.
    pub fn with_suppression_rules(
        mut self,
        rules: &[crate::config::SuppressionRule],
        as_of: chrono::DateTime<chrono::Utc>,
    ) -> RunReport {
        self.suppression_rules = accepted_risks::summarise(rules, &self.counts.by_rule, as_of);
        self
    }

    /// The report once its files are written: a streamed run's spill files are removed.
    pub fn without_spill(mut self) -> RunReport {
        self.streamed = None;
        self
    }

    /// The highest severity among open findings.
    pub fn worst_open(&self) -> Option<Severity> {
        self.counts.worst_open()
    }

    /// One line for a terminal or a log: accounts, findings by severity, new/resolved.
    pub fn one_line_summary(&self) -> String {
        let s = &self.run.stats;
        let severities: Vec<String> = Severity::ALL
            .iter()
            .map(|sev| format!("{} {sev}", self.summary.by_severity.get(sev).copied().unwrap_or(0)))
            .collect();
        let mut line = format!(
            "{} account(s) audited, {} failed, {} skipped; {} open finding(s): {}; {} suppressed; {} new, {} resolved",
            s.accounts_audited,
            s.accounts_failed,
            s.accounts_skipped,
            self.summary.open,
            severities.join(", "),
            self.summary.suppressed,
            self.summary.new,
            self.summary.resolved
        );
        if self.summary.carried_over > 0 {
            line.push_str(&format!("; {} carried over, not re-checked", self.summary.carried_over));
        }
        if self.run.previous_run.is_some() {
            line.push_str(&format!(
                "; admin: {} gained, {} lost",
                self.summary.admin_gained, self.summary.admin_lost
            ));
        }
        line
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source} (choose a writable folder with --out)")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot render {what}: {message}")]
    Render { what: &'static str, message: String },
}

/// Writes every output file into `dir` (created if needed). Each file is streamed to a
/// hidden partial name and renamed into place, so it appears whole or not at all.
///
/// The findings files and the roster are written at once, each on a thread of its own, beside
/// the page: a streamed run copies them out of its spill files, which is the kernel's work
/// and the disk's, and one file after the other left a core idle (13 GB at 10,000 accounts).
pub fn write_all(report: &RunReport, config: &Config, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write { path: dir.to_path_buf(), source })?;
    let with_ocsf = config.report.writes(crate::config::OutputFormat::Ocsf);
    if with_ocsf && report.streamed.as_ref().is_some_and(|s| s.ocsf.is_none()) {
        return Err(ReportError::Render {
            what: ocsf::FILE,
            message: "the run was streamed without its OCSF events (FindingStream::with_ocsf)".into(),
        });
    }
    // A run streamed compressed (filed with `[archive] compress = "gzip"`) writes its large
    // files as `name.gz`, their spilled members copied as they are.
    let gzip = report.streamed.as_ref().is_some_and(|s| s.json.is_gzip());
    std::thread::scope(|scope| {
        let json = scope.spawn(|| write_file(dir, "findings.json", gzip, |out| json::write(report, out)));
        let csv =
            scope.spawn(|| write_file(dir, "findings.csv", gzip, |out| csv::write_findings(report, out)));
        let roster = scope.spawn(|| write_file(dir, ROSTER, gzip, |out| csv::write_roster(report, out)));
        let ocsf = with_ocsf
            .then(|| scope.spawn(|| write_file(dir, ocsf::FILE, gzip, |out| ocsf::write(report, out))));
        let html = html::render_parts(report, &config.report).and_then(|html| {
            write_file(dir, "report.html", false, |out| html.write_to(out).map_err(Into::into))
        });
        let coverage = write_file(dir, "coverage.csv", false, |out| csv::write_coverage(report, out));
        let trend = write_file(dir, trend::FILE, false, |out| trend::write(report, out));
        let join = |thread: std::thread::ScopedJoinHandle<'_, Result<PathBuf, ReportError>>| {
            thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        };
        let (json, csv, roster, ocsf) = (join(json), join(csv), join(roster), ocsf.map(join));
        let mut written = vec![html?, json?, csv?, coverage?, roster?, trend?];
        if let Some(ocsf) = ocsf {
            written.push(ocsf?);
        }
        Ok(written)
    })
}

/// What a renderer's writer can fail with: the disk, or the encoder.
#[derive(Debug)]
pub enum WriteFailure {
    Io(std::io::Error),
    Encode(String),
}

impl From<std::io::Error> for WriteFailure {
    fn from(e: std::io::Error) -> Self {
        WriteFailure::Io(e)
    }
}

/// An output file: as written, or a gzip file (`name.gz`).
pub enum OutFile {
    Plain(std::io::BufWriter<std::fs::File>),
    Gzip(stream::GzipFile<std::io::BufWriter<std::fs::File>>),
}

impl OutFile {
    /// Everything written is on its way to the file.
    fn finish(self) -> std::io::Result<()> {
        match self {
            OutFile::Plain(mut out) => out.flush(),
            OutFile::Gzip(out) => out.finish().map(drop),
        }
    }
}

impl Write for OutFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            OutFile::Plain(out) => out.write(bytes),
            OutFile::Gzip(out) => out.write(bytes),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            OutFile::Plain(out) => out.write_all(bytes),
            OutFile::Gzip(out) => out.write_all(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            OutFile::Plain(out) => out.flush(),
            OutFile::Gzip(out) => out.flush(),
        }
    }
}

impl stream::SpillTarget for OutFile {
    fn append_members(&mut self, members: &[u8]) -> std::io::Result<bool> {
        match self {
            OutFile::Plain(_) => Ok(false),
            OutFile::Gzip(out) => out.append_members(members),
        }
    }
}

/// Writes `name` (`name.gz`, gzip-compressed, when `gzip`) in `dir`.
fn write_file(
    dir: &Path,
    name: &'static str,
    gzip: bool,
    render: impl FnOnce(&mut OutFile) -> Result<(), WriteFailure>,
) -> Result<PathBuf, ReportError> {
    let stored = if gzip { format!("{name}.gz") } else { name.to_string() };
    let path = dir.join(&stored);
    let partial = dir.join(format!(".{stored}.partial"));
    let io = |source: std::io::Error| ReportError::Write { path: path.clone(), source };
    let file = std::fs::File::create(&partial).map_err(io)?;
    let buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut out =
        if gzip { OutFile::Gzip(stream::GzipFile::new(buffered)) } else { OutFile::Plain(buffered) };
    let rendered = render(&mut out).and_then(|()| out.finish().map_err(WriteFailure::Io));
    if let Err(failure) = rendered {
        let _ = std::fs::remove_file(&partial);
        return Err(match failure {
            WriteFailure::Io(source) => io(source),
            WriteFailure::Encode(message) => ReportError::Render { what: name, message },
        });
    }
    std::fs::rename(&partial, &path).map_err(io)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::{CheckTallies, Counts};
    use crate::findings::{CheckText, Severity, Status};
    use crate::report::html::tests::finding;

    /// An account's tallies by check: counts and the worst severity of catalog checks and of a
    /// check the catalog does not know, suppressed findings left out, nothing for a check with
    /// no open finding.
    #[test]
    fn an_accounts_open_findings_are_tallied_by_check_with_their_worst_severity() {
        let mut tallies = CheckTallies::default();
        let catalog: CheckText = "stale-access-key".into();
        let admin: CheckText = "admin-access".into();
        let unknown: CheckText = "retired-check".to_string().into();
        for (check, severity) in [
            (&catalog, Severity::Low),
            (&admin, Severity::High),
            (&unknown, Severity::Medium),
            (&catalog, Severity::Medium),
            (&unknown, Severity::Info),
            (&catalog, Severity::Low),
        ] {
            tallies.add(check, severity);
        }
        let seen: Vec<(&str, usize, Severity)> = tallies.iter().map(|(c, t)| (c, t.open, t.worst)).collect();
        // The catalog's order (admin-access is listed before stale-access-key), then the others.
        assert_eq!(
            seen,
            [
                ("admin-access", 1, Severity::High),
                ("stale-access-key", 3, Severity::Medium),
                ("retired-check", 2, Severity::Medium),
            ]
        );

        let mut suppressed = finding("console-without-mfa", Severity::High, "a");
        suppressed.status = Status::Suppressed;
        let counts = Counts::of(&[finding("stale-access-key", Severity::Low, "b"), suppressed]);
        let account = &counts.by_account["111122223333"];
        let checks: Vec<&str> = account.checks.iter().map(|(c, _)| c).collect();
        assert_eq!(checks, ["stale-access-key"]);
        assert_eq!(counts.accounts_by_check().into_iter().collect::<Vec<_>>(), [("stale-access-key", 1)]);
    }
}
