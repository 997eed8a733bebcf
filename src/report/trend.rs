//! The trend over the archived runs (DESIGN.md "Archive layout" and "Report").
//!
//! Every run writes `summary.json` (schema `iam-auditor/summary/v1`): its counts in a few hundred
//! bytes, whatever the organization's size, taken from the counts the stream already keeps. When
//! a run is made, the summaries of the archive's newest complete runs are read ([`History`]) and
//! report.html draws them, with this run's, as inline SVG ([`view`]).
//!
//! A run filed before summary.json existed is read from the head of its findings.json: `run`,
//! `provenance` and `summary` come before the findings there, so reading stops once they are
//! read and never goes through the findings. Its time to fix is not known. A run whose summary
//! cannot be read is left out, named with why; it never fails the run.

use super::html::SeverityCount;
use super::{RunReport, WriteFailure};
use crate::findings::{Finding, Severity};
use chrono::{DateTime, Utc};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;

/// The file's name in a run folder.
pub const FILE: &str = "summary.json";
pub const SCHEMA: &str = "iam-auditor/summary/v1";
/// Bytes of a summary.json read at most: this tool's are well under 1 KiB.
const SUMMARY_MAX_BYTES: u64 = 64 << 10;
/// `[report] trend_runs` by default: half a year of weekly runs.
pub const DEFAULT_RUNS: usize = 26;

/// One run's summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema: String,
    pub run_id: String,
    pub as_of: String,
    /// When the snapshot was collected (manifest.json's `collected_at`), when it says.
    #[serde(default)]
    pub evidence_collected_at: Option<String>,
    /// The run this one was compared with.
    #[serde(default)]
    pub previous_run: Option<String>,
    pub open: usize,
    /// Open findings by severity, every severity present.
    pub open_by_severity: BTreeMap<Severity, usize>,
    pub suppressed: usize,
    pub new: usize,
    pub resolved: usize,
    pub carried_over: usize,
    pub accounts: Accounts,
    /// How long the findings resolved in this run had been open; None when not known (a run
    /// read from a findings.json filed before summary.json existed).
    #[serde(default)]
    pub time_to_fix: Option<TimeToFix>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    pub audited: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Whole days from a resolved finding's `first_seen` to the `as_of` of the run that no longer
/// found it. The figures are None when no finding was resolved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeToFix {
    /// Resolved findings measured (those whose first_seen is an instant: all of this tool's).
    pub measured: usize,
    pub median_days: Option<f64>,
    pub mean_days: Option<f64>,
    pub longest_days: Option<i64>,
}

/// The resolved findings' days open, counted per day: it grows with the oldest finding's age,
/// never with how many were resolved.
#[derive(Debug, Clone, Default)]
pub struct FixTimes {
    days: BTreeMap<i64, usize>,
}

impl FixTimes {
    /// Counts a finding resolved in the run judged at `fixed_at`.
    pub fn add(&mut self, finding: &Finding, fixed_at: DateTime<Utc>) {
        if let Ok(first_seen) = DateTime::parse_from_rfc3339(&finding.first_seen) {
            let days = (fixed_at - first_seen.with_timezone(&Utc)).num_days().max(0);
            *self.days.entry(days).or_default() += 1;
        }
    }

    pub fn of<'a>(resolved: impl IntoIterator<Item = &'a Finding>, fixed_at: DateTime<Utc>) -> FixTimes {
        let mut times = FixTimes::default();
        for finding in resolved {
            times.add(finding, fixed_at);
        }
        times
    }

    pub fn summary(&self) -> TimeToFix {
        let measured: usize = self.days.values().sum();
        if measured == 0 {
            return TimeToFix::default();
        }
        // The k-th smallest number of days (from 0).
        let nth = |k: usize| {
            let mut counted = 0;
            for (days, n) in &self.days {
                counted += n;
                if counted > k {
                    return *days;
                }
            }
            0
        };
        let median = match measured % 2 {
            1 => nth(measured / 2) as f64,
            _ => (nth(measured / 2 - 1) + nth(measured / 2)) as f64 / 2.0,
        };
        let total: i64 = self.days.iter().map(|(days, n)| days * *n as i64).sum();
        TimeToFix {
            measured,
            median_days: Some(median),
            mean_days: Some(tenths(total as f64 / measured as f64)),
            longest_days: self.days.keys().next_back().copied(),
        }
    }
}

fn tenths(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

impl RunSummary {
    /// The run's summary, from the counts the report holds (never from its findings).
    pub fn of(report: &RunReport) -> RunSummary {
        let summary = &report.summary;
        let stats = &report.run.stats;
        RunSummary {
            schema: SCHEMA.to_string(),
            run_id: report.run.id.clone(),
            as_of: report.run.as_of.clone(),
            evidence_collected_at: report.provenance.snapshot_collected_at.clone(),
            previous_run: report.run.previous_run.clone(),
            open: summary.open,
            open_by_severity: summary.by_severity.clone(),
            suppressed: summary.suppressed,
            new: summary.new,
            resolved: summary.resolved,
            carried_over: summary.carried_over,
            accounts: Accounts {
                audited: stats.accounts_audited,
                failed: stats.accounts_failed,
                skipped: stats.accounts_skipped,
            },
            time_to_fix: Some(report.time_to_fix),
        }
    }

    fn open_of(&self, severity: Severity) -> usize {
        self.open_by_severity.get(&severity).copied().unwrap_or(0)
    }
}

/// Writes the run's summary.json.
pub fn write(report: &RunReport, out: &mut impl std::io::Write) -> Result<(), WriteFailure> {
    serde_json::to_writer_pretty(&mut *out, &RunSummary::of(report))
        .map_err(|e| WriteFailure::Encode(e.to_string()))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Reads a summary.json of this tool.
pub fn read_summary(reader: impl Read) -> Result<RunSummary, String> {
    let summary: RunSummary =
        serde_json::from_reader(reader.take(SUMMARY_MAX_BYTES)).map_err(|e| e.to_string())?;
    if summary.schema != SCHEMA {
        return Err(format!("its schema is {:?}, not {SCHEMA}", summary.schema));
    }
    Ok(summary)
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct RunHead {
    id: String,
    as_of: String,
    previous_run: Option<String>,
    stats: StatsHead,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct StatsHead {
    accounts_audited: usize,
    accounts_failed: usize,
    accounts_skipped: usize,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ProvenanceHead {
    snapshot_collected_at: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct SummaryHead {
    by_severity: BTreeMap<Severity, usize>,
    /// Added to findings.json later than the rest: the sum of `by_severity` when absent.
    open: Option<usize>,
    suppressed: usize,
    new: usize,
    resolved: usize,
    carried_over: usize,
}

/// What is read of a findings.json's head.
#[derive(Default)]
struct Head {
    schema: Option<String>,
    run: Option<RunHead>,
    provenance: ProvenanceHead,
    summary: Option<SummaryHead>,
}

/// The error that ends reading a findings.json once its head is read.
const HEAD_READ: &str = "the head is read";

impl<'de> Visitor<'de> for &mut Head {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a findings.json object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "schema" => self.schema = Some(map.next_value()?),
                "run" => self.run = Some(map.next_value()?),
                "provenance" => self.provenance = map.next_value()?,
                "summary" => self.summary = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if self.run.is_some() && self.summary.is_some() {
                // What follows is the findings: stop here rather than read through them.
                return Err(serde::de::Error::custom(HEAD_READ));
            }
        }
        Ok(())
    }
}

/// The summary of a run filed before summary.json existed, from the head of its findings.json
/// (reading stops before the findings). Its time to fix is not known.
pub fn from_findings_json(reader: impl Read) -> Result<RunSummary, String> {
    let mut head = Head::default();
    let mut deserializer =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(64 << 10, reader));
    let read = serde::Deserializer::deserialize_map(&mut deserializer, &mut head);
    if let Some(schema) = head.schema.as_deref().filter(|s| !s.starts_with("iam-auditor/findings/")) {
        return Err(format!("its schema is {schema:?}, not a findings.json of this tool"));
    }
    let (Some(run), Some(summary)) = (head.run, head.summary) else {
        return Err(match read {
            Err(e) => e.to_string(),
            Ok(()) => "it has no run or no summary".to_string(),
        });
    };
    let mut open_by_severity: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
    open_by_severity.extend(summary.by_severity);
    Ok(RunSummary {
        schema: SCHEMA.to_string(),
        run_id: run.id,
        as_of: run.as_of,
        evidence_collected_at: head.provenance.snapshot_collected_at,
        previous_run: run.previous_run,
        open: summary.open.unwrap_or_else(|| open_by_severity.values().sum()),
        open_by_severity,
        suppressed: summary.suppressed,
        new: summary.new,
        resolved: summary.resolved,
        carried_over: summary.carried_over,
        accounts: Accounts {
            audited: run.stats.accounts_audited,
            failed: run.stats.accounts_failed,
            skipped: run.stats.accounts_skipped,
        },
        time_to_fix: None,
    })
}

/// A file of an archived run, as [`read_run`]'s `open` finds it: what to call it in a message,
/// and its bytes; None when the run has no such file.
pub type Found<R> = Option<(String, R)>;

/// One archived run's summary: its summary.json, or the head of its findings.json when it was
/// filed before summary.json existed. `open` opens a file of the run (`name` or `name.gz`,
/// decompressed) and says what it opened, or None when the run has no such file.
pub fn read_run<R: Read>(
    mut open: impl FnMut(&str) -> Result<Found<R>, String>,
) -> Result<RunSummary, String> {
    if let Some((name, reader)) = open(FILE)? {
        return read_summary(reader).map_err(|e| format!("{name} cannot be read: {e}"));
    }
    if let Some((name, reader)) = open("findings.json")? {
        return from_findings_json(reader)
            .map_err(|e| format!("{name} (a run filed before {FILE}) cannot be read: {e}"));
    }
    Err(format!("the run has neither {FILE} nor findings.json"))
}

/// The archive's newest runs before this one, oldest first, and those left out.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub runs: Vec<RunSummary>,
    pub left_out: Vec<LeftOut>,
    /// An archive was read (without one, a run has no earlier run).
    pub archive: bool,
}

/// An archived run the trend leaves out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftOut {
    pub run: String,
    pub why: String,
}

impl History {
    /// Reads each of `runs` (archive folder names, oldest first) with `read`. A run is named
    /// by its folder, which is what `previous_run` names.
    pub fn gather(runs: &[String], mut read: impl FnMut(&str) -> Result<RunSummary, String>) -> History {
        let mut history = History { archive: true, ..History::default() };
        for run in runs {
            match read(run) {
                Ok(mut summary) => {
                    summary.run_id = run.clone();
                    history.runs.push(summary);
                }
                Err(why) => history.left_out.push(LeftOut { run: run.clone(), why }),
            }
        }
        history
    }

    /// The change in open findings since the previous run, when the history holds it.
    pub fn open_change(&self, report: &RunReport) -> Option<i64> {
        let last = self.runs.last()?;
        (report.run.previous_run.as_deref() == Some(last.run_id.as_str()))
            .then(|| report.summary.open as i64 - last.open as i64)
    }
}

/// `+3`, `−5` (a minus sign) or `±0`.
pub fn signed(change: i64) -> String {
    match change {
        0 => "±0".to_string(),
        n if n > 0 => format!("+{n}"),
        n => format!("−{}", n.unsigned_abs()),
    }
}

/// Days as the page says them: `7`, `3.5`.
fn days(value: f64) -> String {
    format!("{}", tenths(value))
}

/// The trend as report.html shows it.
#[derive(Debug, Serialize)]
pub(super) struct TrendView {
    /// Runs shown, this one included.
    runs: usize,
    /// None with fewer than two runs.
    chart: Option<Chart>,
    /// The runs, newest first.
    rows: Vec<Row>,
    left_out: Vec<LeftOut>,
    archive: bool,
    /// "the 3 findings resolved in this run had been open …", when any were.
    this_run: Option<String>,
    /// Over every run shown that records its time to fix, when more than this one does.
    over_runs: Option<String>,
}

#[derive(Debug, Serialize)]
struct Row {
    run_id: String,
    date: String,
    current: bool,
    open: usize,
    /// Open findings in [`Severity::ALL`] order.
    severities: Vec<SeverityCount>,
    new: usize,
    resolved: usize,
    carried_over: usize,
    /// The median days to fix, "none resolved", or "not recorded".
    fix: String,
}

#[derive(Debug, Serialize)]
struct Chart {
    width: u32,
    height: u32,
    left: f64,
    right: f64,
    open_caption_y: f64,
    flow_caption_y: f64,
    zero_y: f64,
    date_y: f64,
    legend_y: f64,
    legend_text_y: f64,
    ticks: Vec<Tick>,
    columns: Vec<Column>,
    legend: Vec<LegendItem>,
}

/// A gridline and its label.
#[derive(Debug, Serialize)]
struct Tick {
    y: f64,
    label: String,
}

/// One run: its stacked open findings, its new (up) and resolved (down) bars.
#[derive(Debug, Serialize)]
struct Column {
    x: f64,
    width: f64,
    center: f64,
    title: String,
    segments: Vec<Segment>,
    new: Segment,
    resolved: Segment,
    /// Its date and total, on every few columns (always the last).
    label: Option<String>,
    total: Option<usize>,
    total_y: f64,
}

#[derive(Debug, Serialize)]
struct Segment {
    class: &'static str,
    y: f64,
    height: f64,
}

#[derive(Debug, Serialize)]
struct LegendItem {
    x: f64,
    text_x: f64,
    class: &'static str,
    label: &'static str,
}

/// The chart's frame, in viewBox units: it scales down to a 420 px screen.
const WIDTH: u32 = 600;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 592.0;
const OPEN_TOP: f64 = 34.0;
const OPEN_BOTTOM: f64 = 174.0;
const FLOW_TOP: f64 = 210.0;
const FLOW_BOTTOM: f64 = 290.0;
const DATE_Y: f64 = 306.0;
const LEGEND_Y: f64 = 318.0;
const HEIGHT: u32 = 334;
/// Columns labelled with their date, at most.
const LABELS_MAX: usize = 6;

/// The trend of `history` and this run (`current`, drawn last).
pub(super) fn view(history: &History, current: RunSummary) -> TrendView {
    let mut runs: Vec<&RunSummary> = history.runs.iter().collect();
    runs.push(&current);
    let this_run = current.time_to_fix.filter(|t| t.measured > 0).map(|t| {
        format!(
            "the {} finding{} resolved in this run had been open a median of {} days (mean {}, longest {}) since first seen",
            t.measured,
            if t.measured == 1 { "" } else { "s" },
            days(t.median_days.unwrap_or(0.0)),
            days(t.mean_days.unwrap_or(0.0)),
            t.longest_days.unwrap_or(0)
        )
    });
    let recorded: Vec<TimeToFix> = runs.iter().filter_map(|r| r.time_to_fix).collect();
    let measured: usize = recorded.iter().map(|t| t.measured).sum();
    let over_runs = (recorded.len() > 1 && measured > 0).then(|| {
        let total: f64 = recorded.iter().map(|t| t.mean_days.unwrap_or(0.0) * t.measured as f64).sum();
        format!(
            "over the {} runs shown that record it, {measured} finding{} resolved, open a mean of {} days",
            recorded.len(),
            if measured == 1 { " was" } else { "s were" },
            days(total / measured as f64)
        )
    });
    let chart = (runs.len() > 1).then(|| chart(&runs));
    let last = runs.len() - 1;
    let rows = match chart {
        Some(_) => runs.iter().enumerate().rev().map(|(i, run)| row(run, i == last)).collect(),
        None => Vec::new(),
    };
    TrendView {
        runs: runs.len(),
        chart,
        rows,
        left_out: history.left_out.clone(),
        archive: history.archive,
        this_run,
        over_runs,
    }
}

fn row(run: &RunSummary, current: bool) -> Row {
    let fix = match run.time_to_fix {
        None => "not recorded".to_string(),
        Some(TimeToFix { median_days: Some(median), .. }) => days(median),
        Some(_) => "none resolved".to_string(),
    };
    Row {
        run_id: run.run_id.clone(),
        date: date(&run.as_of).to_string(),
        current,
        open: run.open,
        severities: Severity::ALL
            .iter()
            .map(|s| SeverityCount { severity: s.as_str(), count: run.open_of(*s) })
            .collect(),
        new: run.new,
        resolved: run.resolved,
        carried_over: run.carried_over,
        fix,
    }
}

/// The date part of an RFC 3339 instant.
fn date(instant: &str) -> &str {
    instant.get(..10).unwrap_or(instant)
}

/// The axis' top: the first of 1, 1.5, 2, 3, 4, 5, 6, 8 × a power of ten at or above `n`.
fn axis_max(n: usize) -> usize {
    let mut unit = 1;
    loop {
        for step in [10, 15, 20, 30, 40, 50, 60, 80] {
            let candidate = step * unit / 10;
            if candidate >= n.max(1) {
                return candidate;
            }
        }
        unit *= 10;
    }
}

/// `value` of `max` as a height in `span`, to a tenth.
fn scaled(value: usize, max: usize, span: f64) -> f64 {
    tenths(value as f64 * span / max.max(1) as f64)
}

fn chart(runs: &[&RunSummary]) -> Chart {
    let open_max = axis_max(runs.iter().map(|r| r.open).max().unwrap_or(0));
    let flow_max = axis_max(runs.iter().map(|r| r.new.max(r.resolved)).max().unwrap_or(0));
    let zero_y = (FLOW_TOP + FLOW_BOTTOM) / 2.0;
    let half = zero_y - FLOW_TOP;
    let mut ticks = vec![
        Tick { y: OPEN_BOTTOM, label: "0".into() },
        Tick { y: OPEN_TOP, label: open_max.to_string() },
        Tick { y: FLOW_TOP, label: flow_max.to_string() },
        Tick { y: zero_y, label: "0".into() },
        Tick { y: FLOW_BOTTOM, label: flow_max.to_string() },
    ];
    if open_max % 2 == 0 {
        let y = OPEN_BOTTOM - scaled(open_max / 2, open_max, OPEN_BOTTOM - OPEN_TOP);
        ticks.push(Tick { y, label: (open_max / 2).to_string() });
    }
    let slot = (RIGHT - LEFT) / runs.len() as f64;
    let width = tenths((slot * 0.6).min(36.0));
    let label_every = runs.len().div_ceil(LABELS_MAX);
    let last = runs.len() - 1;
    let columns = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let center = tenths(LEFT + slot * (i as f64 + 0.5));
            // Worst at the bottom: the stack's base is the critical findings.
            let mut below = 0;
            let segments = Severity::ALL
                .iter()
                .filter(|s| run.open_of(**s) > 0)
                .map(|s| {
                    let bottom = OPEN_BOTTOM - scaled(below, open_max, OPEN_BOTTOM - OPEN_TOP);
                    below += run.open_of(*s);
                    let top = OPEN_BOTTOM - scaled(below, open_max, OPEN_BOTTOM - OPEN_TOP);
                    Segment { class: bar_class(*s), y: tenths(top), height: tenths(bottom - top) }
                })
                .collect();
            let new_height = scaled(run.new, flow_max, half);
            let labelled = (last - i) % label_every == 0;
            Column {
                x: tenths(center - width / 2.0),
                width,
                center,
                title: column_title(run),
                segments,
                new: Segment { class: "trend-new", y: tenths(zero_y - new_height), height: new_height },
                resolved: Segment {
                    class: "trend-resolved",
                    y: zero_y,
                    height: scaled(run.resolved, flow_max, half),
                },
                label: labelled.then(|| date(&run.as_of).to_string()),
                total: labelled.then_some(run.open),
                total_y: tenths(OPEN_BOTTOM - scaled(run.open, open_max, OPEN_BOTTOM - OPEN_TOP) - 4.0),
            }
        })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        right: RIGHT,
        open_caption_y: OPEN_TOP - 20.0,
        flow_caption_y: FLOW_TOP - 14.0,
        zero_y,
        date_y: DATE_Y,
        legend_y: LEGEND_Y,
        legend_text_y: LEGEND_Y + 9.0,
        ticks,
        columns,
        legend: legend(),
    }
}

fn bar_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "bar-critical",
        Severity::High => "bar-high",
        Severity::Medium => "bar-medium",
        Severity::Low => "bar-low",
        Severity::Info => "bar-info",
    }
}

fn column_title(run: &RunSummary) -> String {
    let severities: Vec<String> =
        Severity::ALL.iter().map(|s| format!("{} {}", run.open_of(*s), s.as_str())).collect();
    format!(
        "run {} (as of {}): {} open ({}); {} new, {} resolved",
        run.run_id,
        date(&run.as_of),
        run.open,
        severities.join(", "),
        run.new,
        run.resolved
    )
}

fn legend() -> Vec<LegendItem> {
    let items = Severity::ALL
        .iter()
        .map(|s| (bar_class(*s), s.as_str()))
        .chain([("trend-new", "new"), ("trend-resolved", "resolved")]);
    items
        .enumerate()
        .map(|(i, (class, label))| {
            let x = LEFT + i as f64 * 78.0;
            LegendItem { x, text_x: x + 14.0, class, label }
        })
        .collect()
}

#[cfg(test)]
#[path = "trend_tests.rs"]
mod tests;
