//! `report.html`: the page an auditor reads and files as evidence. One self-contained file
//! (inline CSS, no script, no remote font or image) that prints as it shows.
//!
//! Everything the page shows is worked out here, from the [`RunReport`] alone: aggregates,
//! chart geometry, row caps, evidence flattened to text. `templates/report.html` only lays it
//! out. IAM names, ARNs, tags, policy text and evidence are untrusted, so the template is
//! registered under a `.html` name (tera autoescapes it) and nothing in it is marked `safe`.
//! Not here: CSV and JSON (`csv.rs`, `json.rs`), which always hold every finding whole.

use super::accepted_risks::{RuleStatus, RuleSummary, EXPIRING_WITHIN_DAYS};
use super::{ReportError, RunReport};
use crate::access::roster::{AccountTally, AdminChangeKind, RosterRow};
use crate::audit::{CoverageRow, CoverageStatus, Inventory};
use crate::checks::{Check, Family, CATALOG};
use crate::config::ReportConfig;
use crate::findings::{Change, Finding, ResourceType, Severity, Status};
use crate::snapshot::InputProblem;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::OnceLock;
use tera::{Context, Tera};

/// The name ends in `.html` so that tera autoescapes every variable.
const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../templates/report.html");
/// The pieces both pages share: the style sheet and the script (a finding's row: [`write_row`]).
const STYLE: &str = include_str!("../../templates/style.css");
pub(super) const SCRIPT: &str = include_str!("../../templates/script.js");
pub(super) const ACCOUNT_TEMPLATE_NAME: &str = "account.html";
const ACCOUNT_TEMPLATE: &str = include_str!("../../templates/account.html");
/// Blocks the page includes: the evidence block (with the stale-data and accepted-risk
/// banners), its style, and the table of suppression rules.
const PARTS: [(&str, &str); 3] = [
    ("report-evidence.html", include_str!("../../templates/report-evidence.html")),
    ("report-evidence.css", include_str!("../../templates/report-evidence.css")),
    ("report-suppression-rules.html", include_str!("../../templates/report-suppression-rules.html")),
];

/// New findings listed at the top of the page; the sections below hold every one.
pub const NEW_FINDINGS_SHOWN: usize = 50;
/// When a check's table cannot hold all its findings: rows per account at most.
const PER_ACCOUNT_ROWS: usize = 5;
/// Accounts named under a check whose table does not hold all its findings.
const CHIPS_MAX: usize = 60;
/// The roster's detail: admin rows listed in all, and per account (every account's page
/// lists all of its own).
pub(super) const ROSTER_ROWS_MAX: usize = 300;
pub(super) const ROSTER_ROWS_PER_ACCOUNT: usize = 50;

/// An evidence value longer than this is shortened on the page; findings.json holds it whole.
const EVIDENCE_VALUE_MAX_CHARS: usize = 1500;
/// Input problems and notes listed per account; a snapshot with thousands stays readable.
const PROBLEMS_PER_ACCOUNT_MAX: usize = 50;

/// The page as one string (tests, and whoever wants it whole); [`render_parts`] is what
/// report.html is written from.
pub fn render(report: &RunReport, config: &ReportConfig) -> Result<String, ReportError> {
    let mut out = Vec::new();
    render_parts(report, config)?.write_to(&mut out).expect("writing to memory cannot fail");
    Ok(String::from_utf8(out).expect("the page is UTF-8"))
}

/// Renders the page through the template but for its per-account tables, whose rows
/// [`Rendered::write_to`] writes at the template's markers: one row per account is too much for
/// tera's context, which holds a map per row and cell (about 100 MB at 10,000 accounts).
pub fn render_parts<'a>(
    report: &'a RunReport,
    config: &'a ReportConfig,
) -> Result<Rendered<'a>, ReportError> {
    let tera = engine()?;
    let mut page = Page::build(report, config);
    let context = Context::from_serialize(&page).map_err(|e| render_error(&e))?;
    let html = tera.render(TEMPLATE_NAME, &context).map_err(|e| render_error(&e))?;
    drop(context);
    let tables = Tables {
        by_account: std::mem::take(&mut page.by_account),
        coverage: std::mem::take(&mut page.coverage),
        admin_summary: std::mem::take(&mut page.admin_summary),
        account_pages: page.account_pages,
    };
    // A table without rows is left out of the page, marker and all.
    let mut rest = html.as_str();
    let mut pieces = Vec::with_capacity(TABLES.len());
    for (marker, table) in TABLES {
        match rest.split_once(marker) {
            Some((before, after)) => {
                pieces.push((before.len(), marker, table));
                rest = after;
            }
            None if tables.rows(table) == 0 => {}
            None => {
                return Err(ReportError::Render {
                    what: "report.html",
                    message: format!("the template has no {marker} marker for its rows"),
                })
            }
        }
    }
    Ok(Rendered { html, pieces, tables })
}

/// The per-account tables' markers, in the order the template has them, and which table each
/// stands for. A marker starts with `<`, which tera escapes in every value, so only the
/// template can put one on the page.
const TABLES: [(&str, Table); 3] = [
    ("<!--@rows:accounts-->", Table::Accounts),
    ("<!--@rows:coverage-->", Table::Coverage),
    ("<!--@rows:admin-summary-->", Table::AdminSummary),
];

#[derive(Clone, Copy)]
enum Table {
    Accounts,
    Coverage,
    AdminSummary,
}

struct Tables<'a> {
    by_account: Vec<AccountCounts<'a>>,
    coverage: Vec<CoverageView<'a>>,
    admin_summary: Vec<AdminSummary<'a>>,
    account_pages: bool,
}

impl Tables<'_> {
    fn rows(&self, table: Table) -> usize {
        match table {
            Table::Accounts => self.by_account.len(),
            Table::Coverage => self.coverage.len(),
            Table::AdminSummary => self.admin_summary.len(),
        }
    }
}

/// The page rendered but for its per-account tables' rows (see [`render_parts`]).
pub struct Rendered<'a> {
    html: String,
    /// Each marker on the page, in turn: the length of the template's text before it (after
    /// the marker before), the marker, and its table.
    pieces: Vec<(usize, &'static str, Table)>,
    tables: Tables<'a>,
}

impl Rendered<'_> {
    /// Writes the page: the template's text with each table's rows where its marker was.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut rest = self.html.as_str();
        let mut row = String::new();
        for &(len, marker, table) in &self.pieces {
            out.write_all(&rest.as_bytes()[..len])?;
            rest = &rest[len + marker.len()..];
            let t = &self.tables;
            let mut write = |fill: &mut dyn FnMut(&mut String)| {
                row.clear();
                fill(&mut row);
                out.write_all(row.as_bytes())
            };
            match table {
                Table::Accounts => {
                    for a in &t.by_account {
                        write(&mut |row| account_row(row, a, t.account_pages))?;
                    }
                }
                Table::Coverage => {
                    for c in &t.coverage {
                        write(&mut |row| coverage_row(row, c, t.account_pages))?;
                    }
                }
                Table::AdminSummary => {
                    for a in &t.admin_summary {
                        write(&mut |row| admin_summary_row(row, a, t.account_pages))?;
                    }
                }
            }
        }
        out.write_all(rest.as_bytes())
    }
}

/// `s` unless `n` is 1, as tera's `pluralize`.
fn plural(n: impl Into<u64>) -> &'static str {
    if n.into() == 1 {
        ""
    } else {
        "s"
    }
}

/// An account's id and name cells; the id links to the account's page (at `anchor` on it) when
/// the run writes the pages.
fn push_account_cells(out: &mut String, id: &str, name: &str, page: Option<&str>) {
    out.push_str("<td class=\"mono acct\">");
    match page {
        Some(anchor) => {
            out.push_str("<a href=\"accounts/");
            push_escaped(out, id);
            out.push_str(".html");
            out.push_str(anchor);
            out.push_str("\">");
            push_escaped(out, id);
            out.push_str("</a>");
        }
        None => push_escaped(out, id),
    }
    out.push_str("</td><td>");
    push_escaped(out, name);
    out.push_str("</td>");
}

/// An account's status chip: "audited, N checks without input" when an audited account
/// missed input for some, else the status itself (its class with dashes for spaces).
fn push_status(out: &mut String, status: &str, without_input: usize) {
    use std::fmt::Write as _;
    if status == "audited" && without_input > 0 {
        let _ = write!(
            out,
            "<span class=\"status st-partial\">audited, {without_input} check{} without input</span>",
            plural(without_input as u64)
        );
    } else {
        out.push_str("<span class=\"status st-");
        push_escaped(out, &status.replace(' ', "-"));
        out.push_str("\">");
        push_escaped(out, status);
        out.push_str("</span>");
    }
}

/// A row of "Open findings by account", as the template wrote it.
fn account_row(out: &mut String, a: &AccountCounts, account_pages: bool) {
    use std::fmt::Write as _;
    out.push_str(if a.status == "failed" { "\n<tr class=\"failed\">" } else { "\n<tr>" });
    push_account_cells(out, a.id, a.name, account_pages.then_some(""));
    out.push_str("<td>");
    push_status(out, a.status, a.without_input);
    out.push_str("</td>");
    for c in &a.counts {
        let zero = if c.count == 0 { " zero" } else { "" };
        let _ = write!(out, "<td class=\"num{zero}\" data-l=\"{}\">{}</td>", c.severity, c.count);
    }
    let zero = if a.suppressed == 0 { " zero" } else { "" };
    let _ = write!(
        out,
        "<td class=\"num\" data-l=\"open\"><b>{}</b></td><td class=\"num{zero}\" data-l=\"suppressed\">{}</td></tr>",
        a.open, a.suppressed
    );
}

/// Input problems (or notes) of a coverage row: each, or "none"; then how many more.
fn push_problems(out: &mut String, problems: &[InputProblem], more: usize, field: &str) {
    use std::fmt::Write as _;
    if problems.is_empty() {
        out.push_str("<span class=\"muted\">none</span>");
    }
    for p in problems {
        out.push_str("<div class=\"problem\"><span class=\"mono\">");
        push_escaped(out, &p.file);
        out.push_str("</span>");
        if let Some(position) = p.position.as_deref().filter(|p| !p.is_empty()) {
            out.push_str(" at ");
            push_escaped(out, position);
        }
        out.push_str(": ");
        push_escaped(out, &p.problem);
        out.push_str("</div>");
    }
    if more > 0 {
        let _ =
            write!(out, "<div class=\"sub\"><b>{more} more in findings.json (coverage[].{field})</b></div>");
    }
}

/// A row of "Account coverage", as the template wrote it.
fn coverage_row(out: &mut String, c: &CoverageView, account_pages: bool) {
    use std::fmt::Write as _;
    let _ = write!(out, "\n<tr class=\"{}\"><td>", c.status);
    if account_pages {
        out.push_str("<a class=\"mono acct\" href=\"accounts/");
        push_escaped(out, c.account_id);
        out.push_str(".html\">");
        push_escaped(out, c.account_id);
        out.push_str("</a>");
    } else {
        out.push_str("<span class=\"mono acct\">");
        push_escaped(out, c.account_id);
        out.push_str("</span>");
    }
    out.push_str("<br><span class=\"sub\">");
    push_escaped(out, c.account_name);
    out.push_str("</span></td><td>");
    push_status(out, c.status, c.checks_without_input.len());
    out.push_str("</td>\n<td>");
    match c.error.filter(|e| !e.is_empty()) {
        Some(error) => {
            out.push_str("<span class=\"err\">");
            push_escaped(out, error);
            out.push_str("</span>");
            if let Some(hint) = c.hint.filter(|h| !h.is_empty()) {
                out.push_str("<div class=\"sub\">What to do");
                if let Some(n) = c.attempts.filter(|n| *n > 0) {
                    let _ = write!(out, " ({n} attempt{} made)", plural(n));
                }
                out.push_str(": ");
                push_escaped(out, hint);
                out.push_str("</div>");
            }
        }
        None => out.push_str("<span class=\"muted\">none</span>"),
    }
    out.push_str("</td>\n<td>");
    if c.checks_without_input.is_empty() {
        out.push_str("<span class=\"muted\">none</span>");
    }
    for id in c.checks_without_input {
        out.push_str("<span class=\"chip mono\">");
        push_escaped(out, id);
        out.push_str("</span>");
    }
    out.push_str("</td>\n<td>");
    push_problems(out, c.problems, c.problems_more, "problems");
    out.push_str("</td>\n<td>");
    push_problems(out, c.notes, c.notes_more, "notes");
    out.push_str("</td>\n<td>");
    match c.inventory {
        Some(i) => {
            let _ = write!(
                out,
                "{} user{}<br>{} group{}<br>{} role{}<br>{} managed polic{}",
                i.users,
                plural(i.users as u64),
                i.groups,
                plural(i.groups as u64),
                i.roles,
                plural(i.roles as u64),
                i.managed_policies,
                if i.managed_policies == 1 { "y" } else { "ies" }
            );
        }
        None => out.push_str("<span class=\"muted\">not read</span>"),
    }
    out.push_str("</td>\n<td class=\"num\" data-l=\"API calls\">");
    match c.api_calls.filter(|n| *n > 0) {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("<span class=\"muted\">none</span>"),
    }
    out.push_str("</td></tr>");
}

/// A row of "Admins per account", as the template wrote it.
fn admin_summary_row(out: &mut String, a: &AdminSummary, account_pages: bool) {
    use std::fmt::Write as _;
    out.push_str("\n<tr>");
    push_account_cells(out, a.id, a.name, account_pages.then_some("#admins"));
    for (n, label) in [
        (a.people, "people"),
        (a.users, "IAM users"),
        (a.roles, "IAM roles"),
        (a.conditional, "conditional"),
        (a.unknown, "not known"),
    ] {
        let zero = if n == 0 { " zero" } else { "" };
        let _ = write!(out, "<td class=\"num{zero}\" data-l=\"{label}\">{n}</td>");
    }
    out.push_str("</tr>");
}

/// The script's hash as the Content-Security-Policy names it: the only script the page may run.
pub(super) fn script_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use sha2::Digest;
        format!("sha256-{}", base64(&sha2::Sha256::digest(SCRIPT.as_bytes())))
    })
}

/// Standard base64 with padding (RFC 4648), for the script's hash.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The templates are parsed once per process; a broken template is an error of every render.
pub(super) fn engine() -> Result<&'static Tera, ReportError> {
    static ENGINE: OnceLock<Result<Tera, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut tera = Tera::default();
            tera.add_raw_templates(PARTS.into_iter().chain([
                ("style.css", STYLE),
                ("script.js", SCRIPT),
                (ACCOUNT_TEMPLATE_NAME, ACCOUNT_TEMPLATE),
                (TEMPLATE_NAME, TEMPLATE),
            ]))
            .map_err(|e| error_chain(&e))?;
            Ok(tera)
        })
        .as_ref()
        .map_err(|message| ReportError::Render { what: "report.html", message: message.clone() })
}

fn render_error(error: &tera::Error) -> ReportError {
    ReportError::Render { what: "report.html", message: error_chain(error) }
}

/// Tera puts the useful part (which variable, which line) in the error's sources.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The template's whole context. Rows borrow from the report; only evidence text that is
/// not already a string and the chart geometry are made here.
#[derive(Serialize)]
struct Page<'a> {
    title: &'a str,
    run: RunView<'a>,
    overview: Overview<'a>,
    severities: Vec<SeverityCount>,
    severity_chart: BarChart<'a>,
    by_check: Vec<CheckCount<'a>>,
    check_chart: BarChart<'a>,
    severity_names: Vec<&'static str>,
    /// Written by [`Rendered::write_to`] at the template's marker, as are `coverage` and
    /// `admin_summary`: the template sees only how many rows each has.
    #[serde(skip)]
    by_account: Vec<AccountCounts<'a>>,
    by_account_count: usize,
    families: Vec<FamilySection<'a>>,
    #[serde(skip)]
    coverage: Vec<CoverageView<'a>>,
    coverage_count: usize,
    suppressed: Capped<SuppressedRow<'a>>,
    /// New open findings since the previous run, worst first: what the report leads with.
    new_findings: Capped<FindingRef<'a>>,
    resolved: Capped<FindingRef<'a>>,
    /// Previous findings this run could not re-check, with why.
    carried_over: Capped<CarriedRow<'a>>,
    /// The archive's newest runs and this one: open by severity, new and resolved, time to fix.
    trend: super::trend::TrendView,
    method: Method<'a>,
    catalog: Vec<CatalogRow>,
    /// What the references' labels mean (the Method section's legend).
    compliance_legend: &'static [(&'static str, &'static str)],
    /// Per CIS section-1 item, how many accounts pass, fail, … (each account's page has its own).
    cis: Vec<super::cis::Rollup<'a>>,
    identity_center: &'a crate::access::IdentityCenterSummary,
    identity_center_sentence: String,
    /// Who gained, then who lost, admin on which account since the previous run.
    admin_changes: Vec<AdminChangeView>,
    /// Per account, who can act as admin and how, people first.
    roster: Vec<RosterAccount<'a>>,
    roster_admins: usize,
    /// Accounts (the worst first) × check families, coloured by the worst open severity.
    heat_map: HeatMap<'a>,
    /// Who can act as admin, counted per account (every account with an admin).
    #[serde(skip)]
    admin_summary: Vec<AdminSummary<'a>>,
    admin_summary_count: usize,
    /// Accounts whose admin rows the report does not list (on their pages, and in the CSV).
    roster_accounts_more: usize,
    /// Every account has its page in `accounts/`.
    account_pages: bool,
    /// The finding rows show their account (false on an account's own page).
    show_account: bool,
    script_hash: &'static str,
    /// Where the data comes from and how to verify it.
    evidence: &'a super::provenance::Provenance,
    /// Why the data is stale, when it is.
    stale_warning: Option<String>,
    accepted_risks: AcceptedRisks<'a>,
}

struct AdminSummary<'a> {
    id: &'a str,
    name: &'a str,
    people: usize,
    users: usize,
    roles: usize,
    conditional: usize,
    unknown: usize,
}

#[derive(Serialize)]
struct HeatMap<'a> {
    width: u32,
    height: u32,
    columns: Vec<HeatColumn>,
    rows: Vec<HeatRow<'a>>,
    /// Accounts with open findings left out of the picture.
    more: usize,
}

#[derive(Serialize)]
struct HeatColumn {
    text_x: u32,
    label: &'static str,
}

#[derive(Serialize)]
struct HeatRow<'a> {
    id: &'a str,
    label: String,
    y: u32,
    text_y: u32,
    cells: Vec<HeatCell>,
}

#[derive(Serialize)]
struct HeatCell {
    x: u32,
    text_x: u32,
    /// `critical` … `info`, `none` (nothing open) or `gap` (not audited for some check).
    class: &'static str,
    value: String,
    title: String,
}

/// An account named under a check: how many open findings of the check it has.
#[derive(Serialize)]
struct AccountChip<'a> {
    id: &'a str,
    name: &'a str,
    count: usize,
}

#[derive(Serialize)]
struct AdminChangeView {
    change: &'static str,
    sentence: String,
}

#[derive(Serialize)]
struct RosterAccount<'a> {
    id: &'a str,
    name: &'a str,
    anchor: String,
    rows: Vec<RosterView<'a>>,
    /// Admin rows past the cap, in access-roster.csv.
    more: usize,
    /// Rows of this account without admin power (in access-roster.csv).
    not_admin: usize,
}

/// A roster row as the pages show it (the report's roster, an account page's admins).
#[derive(Serialize)]
pub(super) struct RosterView<'a> {
    pub(super) kind: &'static str,
    name: &'a str,
    display_name: &'a str,
    email: &'a str,
    access: &'a str,
    via_group: &'a str,
    admin: &'static str,
    how: &'a str,
    first_seen: &'a str,
}

#[derive(Serialize)]
struct RunView<'a> {
    id: &'a str,
    as_of: &'a str,
    started_at: &'a str,
    finished_at: &'a str,
    source: &'a str,
    tool_version: &'a str,
    schema: &'a str,
}

#[derive(Serialize)]
struct Overview<'a> {
    open: usize,
    suppressed: usize,
    new: usize,
    resolved: usize,
    carried_over: usize,
    accounts: usize,
    accounts_audited: usize,
    accounts_failed: usize,
    accounts_skipped: usize,
    failed_accounts: Vec<AccountRef<'a>>,
    /// Audited accounts where some checks had no input, and how many checks.
    partly_audited: Vec<PartlyAudited<'a>>,
    fail_on: Option<&'static str>,
    at_or_above_fail_on: usize,
}

#[derive(Serialize)]
struct PartlyAudited<'a> {
    id: &'a str,
    name: &'a str,
    checks: usize,
}

#[derive(Serialize)]
struct AccountRef<'a> {
    id: &'a str,
    name: &'a str,
}

/// Open findings of one severity (the tiles, the trend's table).
#[derive(Debug, Serialize)]
pub(super) struct SeverityCount {
    pub(super) severity: &'static str,
    pub(super) count: usize,
}

/// A horizontal bar chart drawn as inline SVG; every coordinate is computed here.
#[derive(Serialize)]
struct BarChart<'a> {
    width: u32,
    height: u32,
    label_x: u32,
    bar_x: u32,
    bar_height: u32,
    track_width: u32,
    bars: Vec<Bar<'a>>,
}

#[derive(Serialize)]
struct Bar<'a> {
    label: &'a str,
    value: usize,
    severity: &'static str,
    y: u32,
    text_y: u32,
    width: u32,
    value_x: u32,
}

impl<'a> BarChart<'a> {
    const ROW: u32 = 22;
    const BAR_HEIGHT: u32 = 14;
    const BAR_MAX: u32 = 420;

    fn new(label_width: u32, rows: impl IntoIterator<Item = (&'a str, usize, &'static str)>) -> BarChart<'a> {
        let rows: Vec<_> = rows.into_iter().collect();
        let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
        let bars = rows
            .into_iter()
            .zip(0u32..)
            .map(|((label, value, severity), i)| {
                let top = i * Self::ROW + 4;
                // A non-zero count keeps a visible sliver even beside a much larger one.
                let scaled = (value as u64 * u64::from(Self::BAR_MAX) / max as u64) as u32;
                let width = if value > 0 { scaled.max(2) } else { 0 };
                Bar {
                    label,
                    value,
                    severity,
                    y: top,
                    text_y: top + Self::BAR_HEIGHT - 3,
                    width,
                    value_x: label_width + width + 6,
                }
            })
            .collect::<Vec<_>>();
        BarChart {
            width: label_width + Self::BAR_MAX + 60,
            height: (bars.len() as u32).max(1) * Self::ROW + 6,
            label_x: label_width - 8,
            bar_x: label_width,
            bar_height: Self::BAR_HEIGHT,
            track_width: Self::BAR_MAX,
            bars,
        }
    }
}

#[derive(Serialize)]
struct CheckCount<'a> {
    id: &'a str,
    anchor: String,
    title: &'a str,
    severity: Option<&'static str>,
    open: usize,
    new: usize,
}

struct AccountCounts<'a> {
    id: &'a str,
    name: &'a str,
    status: &'static str,
    /// Checks that had no input in this account (it is not audited for them).
    without_input: usize,
    /// Open findings per severity, in [`Severity::ALL`] order.
    counts: Vec<SeverityCount>,
    open: usize,
    suppressed: usize,
}

#[derive(Serialize)]
struct FamilySection<'a> {
    title: &'static str,
    anchor: String,
    open: usize,
    checks: Vec<CheckSection<'a>>,
    /// Checks that ran and found nothing open.
    quiet: Vec<QuietCheck<'a>>,
    disabled: Vec<&'a str>,
    /// Checks of the family that had no input in some account (not audited there).
    without_input: usize,
}

/// A check's reference: a benchmark item, a Security Hub control (linked to its page in the
/// AWS docs: the page's only links out, plain navigation that loads nothing) or a guide.
#[derive(Serialize)]
struct Reference {
    label: String,
    url: Option<String>,
}

impl Reference {
    fn of_check(check: &crate::checks::Check) -> Vec<Reference> {
        let controls = crate::checks::compliance::of(check.id)
            .iter()
            .map(|c| Reference { label: c.label.to_string(), url: c.url() });
        let guides = check.references.iter().map(|r| Reference { label: r.to_string(), url: None });
        controls.chain(guides).collect()
    }
}

#[derive(Serialize)]
struct CheckSection<'a> {
    id: &'a str,
    anchor: String,
    title: &'a str,
    severity: Option<&'static str>,
    references: Vec<Reference>,
    remediation: &'a str,
    open: usize,
    new: usize,
    accounts: usize,
    suppressed: usize,
    without_input: usize,
    /// The rows, written by [`write_row`].
    rows_html: String,
    shown: usize,
    more: usize,
    /// Rows were picked at most `PER_ACCOUNT_ROWS` per account (the table would not hold all).
    spread: bool,
    /// The accounts with open findings of the check, most first (at most `CHIPS_MAX`).
    accounts_list: Vec<AccountChip<'a>>,
    accounts_more: usize,
}

#[derive(Serialize)]
struct QuietCheck<'a> {
    id: &'a str,
    title: &'a str,
    suppressed: usize,
    without_input: usize,
}

/// A finding's row as `templates/finding_row.html` lays it out (the report and the account
/// pages share it); its `data-` attributes are what the page's filters read.
#[derive(Serialize)]
pub(super) struct FindingRow<'a> {
    severity: &'static str,
    /// Severity as a number (critical 5 … info 1), for sorting.
    rank: usize,
    /// `new`, `persisting` or `suppressed`.
    state: &'static str,
    check: &'a str,
    /// The check's section: on the account page, and in the report.
    check_anchor: String,
    account_id: &'a str,
    account_name: &'a str,
    resource_type: ResourceType,
    resource_name: &'a str,
    resource_arn: &'a str,
    title: &'a str,
    detail: &'a str,
    evidence: Vec<EvidenceLine>,
    suppression: Option<String>,
    /// The finding's own command, and its resource's console page.
    command: Option<&'a str>,
    console_url: Option<&'a str>,
    first_seen: &'a str,
    first_seen_date: &'a str,
    /// Whole days from first seen to the run's as-of instant.
    age_days: Option<i64>,
}

#[derive(Serialize)]
struct EvidenceLine {
    key: String,
    value: String,
}

/// A finding named in a list (suppressed, resolved) rather than shown whole.
#[derive(Serialize)]
struct CarriedRow<'a> {
    finding: FindingRef<'a>,
    /// Why this run could not re-check it.
    why: String,
}

#[derive(Serialize)]
struct FindingRef<'a> {
    check: &'a str,
    /// The check's row in the catalog, which every known check has.
    check_anchor: Option<String>,
    severity: &'static str,
    account_id: &'a str,
    account_name: &'a str,
    resource_type: ResourceType,
    resource_name: &'a str,
    resource_arn: &'a str,
    title: &'a str,
    first_seen: &'a str,
}

/// A suppressed finding: it names its rule (a row of the rules table) instead of repeating
/// the rule's reason; a finding whose rule is not in the table carries the rule's text.
#[derive(Serialize)]
struct SuppressedRow<'a> {
    finding: FindingRef<'a>,
    rule: Option<usize>,
    rule_anchor: Option<String>,
    reason: Option<&'a str>,
    expires: Option<&'a str>,
    pattern: Option<&'a str>,
}

#[derive(Serialize)]
struct Capped<T> {
    rows: Vec<T>,
    more: usize,
}

impl<T> Capped<T> {
    /// The first `cap` findings, worst first, made into rows; the rest only counted.
    /// `total` counts them all (the items may be only the first of a streamed run's).
    fn new<'a>(
        mut items: Vec<&'a Finding>,
        total: usize,
        cap: usize,
        row: impl Fn(&'a Finding) -> T,
    ) -> Capped<T> {
        items.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let rows: Vec<T> = items.iter().take(cap).map(|f| row(f)).collect();
        Capped { more: total.saturating_sub(rows.len()), rows }
    }
}

struct CoverageView<'a> {
    account_id: &'a str,
    account_name: &'a str,
    status: &'static str,
    error: Option<&'a str>,
    hint: Option<&'a str>,
    attempts: Option<u32>,
    checks_without_input: &'a [String],
    problems: &'a [InputProblem],
    problems_more: usize,
    notes: &'a [InputProblem],
    notes_more: usize,
    inventory: Option<&'a Inventory>,
    api_calls: Option<u64>,
}

#[derive(Serialize)]
struct Method<'a> {
    as_of: &'a str,
    source: &'a str,
    snapshot: Option<&'a str>,
    config_sha256: Option<&'a str>,
    tool_version: &'a str,
    thresholds: Vec<Setting>,
    disabled_checks: &'a [String],
    severity_overrides: Vec<(&'a str, &'static str)>,
    previous_run: Option<&'a str>,
    snapshot_problems: &'a [InputProblem],
    fail_on: Option<&'static str>,
    api_calls: Vec<(&'a str, u64)>,
    max_rows_per_check: usize,
    evidence_max_chars: usize,
}

#[derive(Serialize)]
struct Setting {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct CatalogRow {
    id: &'static str,
    /// The check's section; it exists only when the check has open findings.
    anchor: String,
    catalog_anchor: String,
    family: &'static str,
    severity: &'static str,
    title: &'static str,
    references: Vec<Reference>,
    disabled: bool,
    open: usize,
}

/// One check's findings, as the report found them.
#[derive(Default)]
struct CheckFindings<'a> {
    /// The first open findings (a streamed run keeps only the first of each group).
    open: Vec<&'a Finding>,
    /// Counted over the whole run.
    total: usize,
    new: usize,
    accounts: usize,
    suppressed: usize,
}

impl<'a> Page<'a> {
    fn build(report: &'a RunReport, config: &'a ReportConfig) -> Page<'a> {
        let run = &report.run;
        let summary = &report.summary;
        let mut by_check_id: BTreeMap<&str, CheckFindings> = BTreeMap::new();
        for finding in report.findings.iter().filter(|f| f.status == Status::Open) {
            by_check_id.entry(&finding.check).or_default().open.push(finding);
        }
        let counts = &report.counts;
        for (check, n) in &counts.by_check {
            by_check_id.entry(check).or_default().total = *n;
        }
        for (check, n) in &counts.new_by_check {
            by_check_id.entry(check).or_default().new = *n;
        }
        for (check, n) in &counts.suppressed_by_check {
            by_check_id.entry(check).or_default().suppressed = *n;
        }
        for (check, n) in counts.accounts_by_check() {
            if let Some(group) = by_check_id.get_mut(check) {
                group.accounts = n;
            }
        }
        for group in by_check_id.values_mut() {
            // Stable: keeps the report's own order (account, resource) within a severity.
            group.open.sort_by_key(|f| std::cmp::Reverse(f.severity));
        }
        let without_input = checks_without_input(&report.coverage);
        let disabled: BTreeSet<&str> = run.disabled_checks.iter().map(String::as_str).collect();

        let severities: Vec<SeverityCount> = Severity::ALL
            .iter()
            .map(|s| SeverityCount {
                severity: s.as_str(),
                count: summary.by_severity.get(s).copied().unwrap_or(0),
            })
            .collect();
        let severity_chart = BarChart::new(80, severities.iter().map(|s| (s.severity, s.count, s.severity)));

        let mut by_check: Vec<CheckCount> = summary
            .by_check
            .iter()
            .filter(|(_, open)| **open > 0)
            .map(|(id, open)| {
                let check = crate::checks::by_id(id);
                CheckCount {
                    id,
                    anchor: anchor("check", id),
                    title: check.map_or(id.as_str(), |c| c.title),
                    severity: check.map(|c| c.severity.as_str()),
                    open: *open,
                    new: by_check_id.get(id.as_str()).map_or(0, |g| g.new),
                }
            })
            .collect();
        // Worst default severity first, then the most findings; unknown checks last.
        by_check.sort_by_cached_key(|c| {
            let severity = crate::checks::by_id(c.id).map(|check| check.severity);
            (std::cmp::Reverse(severity), std::cmp::Reverse(c.open), c.id)
        });
        let check_chart =
            BarChart::new(200, by_check.iter().map(|c| (c.id, c.open, c.severity.unwrap_or("info"))));

        let fail_on = run.fail_on;
        let overview = Overview {
            open: summary.open,
            suppressed: summary.suppressed,
            new: summary.new,
            resolved: summary.resolved,
            carried_over: summary.carried_over,
            accounts: report.coverage.len(),
            accounts_audited: run.stats.accounts_audited,
            accounts_failed: run.stats.accounts_failed,
            accounts_skipped: run.stats.accounts_skipped,
            failed_accounts: report
                .coverage
                .iter()
                .filter(|c| c.status == CoverageStatus::Failed)
                .map(|c| AccountRef { id: &c.account_id, name: &c.account_name })
                .collect(),
            partly_audited: report
                .coverage
                .iter()
                .filter(|c| c.status == CoverageStatus::Audited && !c.checks_without_input.is_empty())
                .map(|c| PartlyAudited {
                    id: &c.account_id,
                    name: &c.account_name,
                    checks: c.checks_without_input.len(),
                })
                .collect(),
            fail_on: fail_on.map(Severity::as_str),
            at_or_above_fail_on: fail_on.map_or(0, |threshold| {
                summary.by_severity.iter().filter(|(s, _)| **s >= threshold).map(|(_, n)| n).sum()
            }),
        };

        let by_account = account_counts(report);
        let heat_map = heat_map(report, &by_account);
        let max_rows = config.html_max_rows_per_check;
        let as_of = DateTime::parse_from_rfc3339(&run.as_of).ok().map(|t| t.with_timezone(&Utc));
        let mut chips: BTreeMap<&str, Chips> = BTreeMap::new();
        for (id, account) in &counts.by_account {
            for (check, tally) in account.checks.iter() {
                chips.entry(check).or_default().add(AccountChip {
                    id,
                    name: &account.name,
                    count: tally.open,
                });
            }
        }
        chips.values_mut().for_each(Chips::finish);
        let shape = Shape { max_rows, account_pages: report.account_pages, as_of, chips };
        let families = family_sections(&by_check_id, &without_input, &disabled, &shape);
        let catalog = CATALOG
            .iter()
            .map(|check| CatalogRow {
                id: check.id,
                anchor: anchor("check", check.id),
                catalog_anchor: anchor("catalog", check.id),
                family: check.family.title(),
                severity: check.severity.as_str(),
                title: check.title,
                references: Reference::of_check(check),
                disabled: disabled.contains(check.id),
                open: by_check_id.get(check.id).map_or(0, |g| g.total),
            })
            .collect();

        let suppressed = report.findings.iter().filter(|f| f.status == Status::Suppressed).collect();
        let suppressed = Capped::new(suppressed, report.counts.suppressed, max_rows, |finding| {
            suppressed_row(finding, &report.suppression_rules)
        });
        let resolved = Capped::new(report.resolved.iter().collect(), summary.resolved, max_rows, finding_ref);
        let carried_over =
            Capped::new(report.carried_over.iter().collect(), summary.carried_over, max_rows, |finding| {
                CarriedRow { finding: finding_ref(finding), why: not_rechecked(&report.coverage, finding) }
            });
        let new_open =
            report.findings.iter().filter(|f| f.status == Status::Open && f.change == Change::New).collect();
        let new_findings = Capped::new(new_open, report.counts.new, NEW_FINDINGS_SHOWN, finding_ref);
        let admin_summary = admin_summary(&report.roster_tally);

        Page {
            title: &config.title,
            run: RunView {
                id: &run.id,
                as_of: &run.as_of,
                started_at: &run.started_at,
                finished_at: &run.finished_at,
                source: &run.source,
                tool_version: &run.tool_version,
                schema: report.schema,
            },
            overview,
            severities,
            severity_chart,
            by_check,
            check_chart,
            severity_names: Severity::ALL.iter().map(|s| s.as_str()).collect(),
            by_account_count: by_account.len(),
            by_account,
            families,
            coverage_count: report.coverage.len(),
            coverage: coverage_views(&report.coverage),
            suppressed,
            new_findings,
            resolved,
            carried_over,
            trend: super::trend::view(&report.trend, super::trend::RunSummary::of(report)),
            method: Method {
                as_of: &run.as_of,
                source: &run.source,
                snapshot: run.snapshot.as_deref(),
                config_sha256: run.config_sha256.as_deref(),
                tool_version: &run.tool_version,
                thresholds: settings(&run.thresholds),
                disabled_checks: &run.disabled_checks,
                severity_overrides: run
                    .severity_overrides
                    .iter()
                    .map(|(id, s)| (id.as_str(), s.as_str()))
                    .collect(),
                previous_run: run.previous_run.as_deref(),
                snapshot_problems: &report.snapshot_problems,
                fail_on: fail_on.map(Severity::as_str),
                api_calls: run.stats.api_calls.iter().map(|(op, n)| (op.as_str(), *n)).collect(),
                max_rows_per_check: max_rows,
                evidence_max_chars: EVIDENCE_VALUE_MAX_CHARS,
            },
            catalog,
            compliance_legend: crate::checks::compliance::LEGEND,
            cis: super::cis::rollup(
                &report.coverage,
                |id| report.counts.by_account.get(id).map(|a| a.cis).unwrap_or_default(),
                &run.disabled_checks,
            ),
            identity_center: &report.identity_center,
            identity_center_sentence: report.identity_center.sentence(),
            admin_changes: report
                .admin_changes
                .iter()
                .map(|c| AdminChangeView {
                    change: match c.change {
                        AdminChangeKind::Gained => "gained",
                        AdminChangeKind::Lost => "lost",
                    },
                    sentence: c.sentence(),
                })
                .collect(),
            roster: roster_accounts(&report.roster, &report.roster_tally),
            roster_admins: report.roster_tally.values().map(|t| t.admin).sum(),
            heat_map,
            admin_summary_count: admin_summary.len(),
            admin_summary,
            // Accounts with an admin row; the cut below lists the first of them.
            roster_accounts_more: report.roster_tally.values().filter(|t| t.admin > 0).count(),
            account_pages: report.account_pages,
            show_account: true,
            script_hash: script_hash(),
            evidence: &report.provenance,
            stale_warning: report.provenance.stale_warning(),
            accepted_risks: accepted_risks(&report.suppression_rules),
        }
        .with_roster_cut()
    }
}

impl Page<'_> {
    /// The roster's detail rows are listed for the first accounts only, up to
    /// `ROSTER_ROWS_MAX` rows in all; the summary above them counts every account.
    fn with_roster_cut(mut self) -> Self {
        let mut rows = 0;
        let keep = self
            .roster
            .iter()
            .take_while(|a| {
                rows += a.rows.len();
                rows <= ROSTER_ROWS_MAX
            })
            .count()
            .max(1);
        self.roster.truncate(keep);
        self.roster_accounts_more = self.roster_accounts_more.saturating_sub(self.roster.len());
        self
    }
}

/// Accounts in the heat map: the worst ones (the rest are in the table below it).
const HEAT_ROWS: usize = 40;

/// The families a heat map column stands for (coverage is the account's status, not a column),
/// with a label short enough for the column.
fn heat_families() -> Vec<(Family, &'static str)> {
    let mut families: Vec<Family> = Vec::new();
    for check in CATALOG {
        if check.family != Family::Coverage && !families.contains(&check.family) {
            families.push(check.family);
        }
    }
    families
        .into_iter()
        .map(|f| (f, if f == Family::AccountSettings { "Account settings" } else { f.title() }))
        .collect()
}

/// Accounts × families: each cell the worst open severity of the family's checks in the
/// account and how many are open; `gap` where a check of the family did not run there (no
/// input, or the account was not audited) and nothing is open.
fn heat_map<'a>(report: &'a RunReport, by_account: &[AccountCounts<'a>]) -> HeatMap<'a> {
    const LABEL: u32 = 250;
    const CELL: u32 = 130;
    const ROW: u32 = 20;
    const HEAD: u32 = 24;
    let families = heat_families();
    let family_of = |check: &str| crate::checks::by_id(check).map(|c| c.family);
    let coverage: BTreeMap<&str, &CoverageRow> =
        report.coverage.iter().map(|c| (c.account_id.as_str(), c)).collect();
    let with_findings: Vec<&AccountCounts> =
        by_account.iter().filter(|a| a.open > 0 || a.status != "audited").collect();
    let rows: Vec<HeatRow> = with_findings
        .iter()
        .take(HEAT_ROWS)
        .enumerate()
        .map(|(i, account)| {
            let y = HEAD + i as u32 * ROW;
            let tallies = report.counts.by_account.get(account.id);
            let row = coverage.get(account.id);
            let cells = families
                .iter()
                .enumerate()
                .map(|(column, (family, label))| {
                    let (mut open, mut worst) = (0, None::<Severity>);
                    for (check, tally) in tallies.iter().flat_map(|t| t.checks.iter()) {
                        if family_of(check) == Some(*family) {
                            open += tally.open;
                            worst = worst.max(Some(tally.worst));
                        }
                    }
                    let gap = row.is_some_and(|r| {
                        r.status != CoverageStatus::Audited
                            || r.checks_without_input.iter().any(|c| family_of(c) == Some(*family))
                    });
                    let x = LABEL + column as u32 * CELL;
                    let (class, value) = match worst {
                        Some(s) => (s.as_str(), open.to_string()),
                        None if gap => ("gap", "not run".to_string()),
                        None => ("none", String::new()),
                    };
                    let title = match worst {
                        Some(s) => format!("{}: {open} open in {label}, worst {}", account.id, s.as_str()),
                        None if gap => format!("{}: {label} not audited (see coverage)", account.id),
                        None => format!("{}: nothing open in {label}", account.id),
                    };
                    HeatCell { x, text_x: x + CELL / 2, class, value, title }
                })
                .collect();
            let mut label = format!("{} {}", account.id, account.name);
            if label.chars().count() > 34 {
                label = label.chars().take(33).collect::<String>() + "…";
            }
            HeatRow { id: account.id, label, y, text_y: y + ROW / 2 + 4, cells }
        })
        .collect();
    HeatMap {
        width: LABEL + families.len() as u32 * CELL,
        height: HEAD + rows.len() as u32 * ROW + 4,
        columns: families
            .iter()
            .enumerate()
            .map(|(i, (_, label))| HeatColumn { text_x: LABEL + i as u32 * CELL + CELL / 2, label })
            .collect(),
        more: with_findings.len().saturating_sub(rows.len()),
        rows,
    }
}

pub(super) fn roster_view(row: &RosterRow) -> RosterView<'_> {
    RosterView {
        kind: row.principal_kind.as_str(),
        name: &row.name,
        display_name: &row.display_name,
        // A user name that is the email already says it.
        email: if row.email == row.name { "" } else { &row.email },
        access: &row.access,
        via_group: &row.via_group,
        admin: row.admin_equivalent.as_str(),
        how: &row.how,
        first_seen: &row.first_seen,
    }
}

/// Who can act as admin per account, from the roster's tallies: the accounts with the most
/// admins first (every account with an admin, or an access it could not judge).
fn admin_summary(tallies: &BTreeMap<String, AccountTally>) -> Vec<AdminSummary<'_>> {
    let mut accounts: Vec<AdminSummary> = tallies
        .iter()
        .filter(|(_, t)| t.people + t.users + t.roles + t.conditional + t.unknown > 0)
        .map(|(id, t)| AdminSummary {
            id,
            name: &t.account_name,
            people: t.people,
            users: t.users,
            roles: t.roles,
            conditional: t.conditional,
            unknown: t.unknown,
        })
        .collect();
    accounts.sort_by(|a, b| {
        let total = |a: &AdminSummary| a.people + a.users + a.roles + a.conditional;
        total(b).cmp(&total(a)).then(a.id.cmp(b.id))
    });
    accounts
}

/// The suppression rules as the page shows them: the table, and the count of rules that
/// lapsed or expire soon for the banner.
#[derive(Serialize)]
struct AcceptedRisks<'a> {
    rules: Vec<RuleView<'a>>,
    lapsed: usize,
    expiring: usize,
    expiring_within_days: i64,
}

#[derive(Serialize)]
struct RuleView<'a> {
    rule: &'a RuleSummary,
    anchor: String,
    check_anchor: Option<String>,
    status_label: String,
    sentence: String,
}

fn rule_anchor(rule: usize) -> String {
    format!("rule-{rule}")
}

fn accepted_risks(rules: &[RuleSummary]) -> AcceptedRisks<'_> {
    let count = |status: RuleStatus| rules.iter().filter(|r| r.status == status).count();
    AcceptedRisks {
        rules: rules
            .iter()
            .map(|rule| RuleView {
                rule,
                anchor: rule_anchor(rule.rule),
                check_anchor: crate::checks::by_id(&rule.check).map(|c| anchor("catalog", c.id)),
                status_label: match rule.status {
                    RuleStatus::Active => "active".into(),
                    RuleStatus::ExpiringSoon => format!("expires within {EXPIRING_WITHIN_DAYS} days"),
                    RuleStatus::Lapsed => "lapsed".into(),
                },
                sentence: rule.sentence(),
            })
            .collect(),
        lapsed: count(RuleStatus::Lapsed),
        expiring: count(RuleStatus::ExpiringSoon),
        expiring_within_days: EXPIRING_WITHIN_DAYS,
    }
}

fn suppressed_row<'a>(finding: &'a Finding, rules: &[RuleSummary]) -> SuppressedRow<'a> {
    let suppression = finding.suppression.as_ref();
    let rule = suppression.and_then(|s| s.rule);
    // The rule's own row says its reason; only a rule the table lacks is spelled out here.
    let in_table = rule.filter(|n| rules.iter().any(|r| r.rule == *n));
    let spelled_out = |text: Option<&'a str>| if in_table.is_some() { None } else { text };
    SuppressedRow {
        finding: finding_ref(finding),
        rule,
        rule_anchor: in_table.map(rule_anchor),
        reason: spelled_out(suppression.map(|s| s.reason.as_str())),
        expires: spelled_out(suppression.map(|s| s.expires.as_str())),
        pattern: spelled_out(suppression.map(|s| s.resource_pattern.as_str())),
    }
}

/// The roster's admin rows by account (in the roster's order: people first), each account
/// capped at `ROSTER_ROWS_PER_ACCOUNT` rows; accounts without an admin are left out.
fn roster_accounts<'a>(
    rows: &'a [RosterRow],
    tallies: &BTreeMap<String, AccountTally>,
) -> Vec<RosterAccount<'a>> {
    let cap = ROSTER_ROWS_PER_ACCOUNT;
    let mut accounts: Vec<RosterAccount> = Vec::new();
    for row in rows {
        if accounts.last().is_none_or(|a| a.id != &*row.account_id) {
            accounts.push(RosterAccount {
                id: &row.account_id,
                name: &row.account_name,
                anchor: anchor("roster", &row.account_id),
                rows: Vec::new(),
                more: 0,
                not_admin: 0,
            });
        }
        let account = accounts.last_mut().expect("pushed above");
        if row.admin_equivalent.is_admin() && account.rows.len() < cap {
            account.rows.push(roster_view(row));
        }
    }
    accounts.retain(|a| !a.rows.is_empty());
    // The counts come from the tallies: a streamed run holds no more rows than are shown.
    for account in &mut accounts {
        let tally = tallies.get(account.id).cloned().unwrap_or_default();
        account.more = tally.admin.saturating_sub(account.rows.len());
        account.not_admin = tally.rows.saturating_sub(tally.admin);
    }
    accounts
}

/// One section per family in catalog order, then any check the catalog does not know
/// (a findings file from another version) so that no finding goes unshown.
/// How the check tables are cut: rows per check, the as-of instant for ages, and the accounts
/// of each check.
struct Shape<'a> {
    max_rows: usize,
    account_pages: bool,
    as_of: Option<DateTime<Utc>>,
    chips: BTreeMap<&'a str, Chips<'a>>,
}

/// The accounts with open findings of one check: how many, and the [`CHIPS_MAX`] with the
/// most (then by id), which is all the page names. Only those are kept, so the page's memory
/// does not grow with the organization (a chip per account and check was 8 MB at 10,000
/// accounts).
#[derive(Default)]
struct Chips<'a> {
    accounts: usize,
    /// At most twice [`CHIPS_MAX`] while accounts are added; the first [`CHIPS_MAX`], in order,
    /// once finished.
    top: Vec<AccountChip<'a>>,
}

impl<'a> Chips<'a> {
    fn add(&mut self, chip: AccountChip<'a>) {
        self.accounts += 1;
        self.top.push(chip);
        if self.top.len() >= 2 * CHIPS_MAX {
            self.finish();
        }
    }

    fn finish(&mut self) {
        self.top.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(b.id)));
        self.top.truncate(CHIPS_MAX);
    }
}

fn family_sections<'a>(
    by_check_id: &BTreeMap<&'a str, CheckFindings<'a>>,
    without_input: &BTreeMap<&str, usize>,
    disabled: &BTreeSet<&str>,
    shape: &Shape<'a>,
) -> Vec<FamilySection<'a>> {
    let mut families: Vec<Family> = Vec::new();
    for check in CATALOG {
        if !families.contains(&check.family) {
            families.push(check.family);
        }
    }
    let no_findings = CheckFindings::default();
    let mut sections: Vec<FamilySection> = families
        .into_iter()
        .map(|family| {
            let mut section = FamilySection {
                title: family.title(),
                anchor: anchor("family", family.title()),
                open: 0,
                checks: Vec::new(),
                quiet: Vec::new(),
                disabled: Vec::new(),
                without_input: 0,
            };
            for check in CATALOG.iter().filter(|c| c.family == family) {
                let group = by_check_id.get(check.id).unwrap_or(&no_findings);
                let missing = without_input.get(check.id).copied().unwrap_or(0);
                if missing > 0 && !disabled.contains(check.id) {
                    section.without_input += 1;
                }
                if group.total > 0 {
                    section.open += group.total;
                    section.checks.push(check_section(check.id, Some(check), group, missing, shape));
                } else if disabled.contains(check.id) {
                    section.disabled.push(check.id);
                } else {
                    section.quiet.push(QuietCheck {
                        id: check.id,
                        title: check.title,
                        suppressed: group.suppressed,
                        without_input: missing,
                    });
                }
            }
            section
        })
        .collect();
    let unknown: Vec<CheckSection> = by_check_id
        .iter()
        .filter(|(id, group)| crate::checks::by_id(id).is_none() && group.total > 0)
        .map(|(id, group)| check_section(id, None, group, 0, shape))
        .collect();
    if !unknown.is_empty() {
        sections.push(FamilySection {
            title: "Other checks",
            anchor: anchor("family", "other"),
            open: unknown.iter().map(|c| c.open).sum(),
            checks: unknown,
            quiet: Vec::new(),
            disabled: Vec::new(),
            without_input: 0,
        });
    }
    sections
}

fn check_section<'a>(
    id: &'a str,
    check: Option<&'static Check>,
    group: &CheckFindings<'a>,
    without_input: usize,
    shape: &Shape<'a>,
) -> CheckSection<'a> {
    // A check the catalog does not know still carries its text in each finding.
    let first = group.open.first();
    let max_rows = shape.max_rows;
    // All of them when they fit; else the worst, at most PER_ACCOUNT_ROWS of each account,
    // so that one noisy account does not fill the table.
    let spread = group.total > max_rows;
    let mut per_account: BTreeMap<&str, usize> = BTreeMap::new();
    let mut picked: Vec<&Finding> = group
        .open
        .iter()
        .copied()
        .filter(|f| {
            let n = per_account.entry(f.account_id.as_str()).or_default();
            *n += 1;
            !spread || *n <= PER_ACCOUNT_ROWS
        })
        .take(max_rows)
        .collect();
    oldest_first(id, &mut picked);
    let (chips, accounts) = shape.chips.get(id).map_or((&[][..], 0), |c| (c.top.as_slice(), c.accounts));
    let shown_chips = if spread { chips.len().min(CHIPS_MAX) } else { 0 };
    CheckSection {
        id,
        anchor: anchor("check", id),
        title: check.map_or(id, |c| c.title),
        severity: check.map(|c| c.severity.as_str()),
        references: match check {
            Some(c) => Reference::of_check(c),
            None => first
                .map(|f| f.references.iter().map(|r| Reference { label: r.to_string(), url: None }).collect())
                .unwrap_or_default(),
        },
        remediation: check.map_or_else(|| first.map_or("", |f| &*f.remediation), |c| c.remediation),
        open: group.total,
        new: group.new,
        accounts: group.accounts,
        suppressed: group.suppressed,
        without_input,
        more: group.total.saturating_sub(picked.len()),
        shown: picked.len(),
        rows_html: {
            let mut html = String::new();
            for finding in picked {
                write_row(&mut html, &finding_row(finding, shape.as_of), true, shape.account_pages);
            }
            html
        },
        spread,
        accounts_list: chips[..shown_chips]
            .iter()
            .map(|c| AccountChip { id: c.id, name: c.name, count: c.count })
            .collect(),
        accounts_more: if spread { accounts - shown_chips } else { 0 },
    }
}

/// Stale keys, oldest first: the order an auditor works through them (the evidence's
/// `last_rotated`, an RFC 3339 instant, sorts as text).
pub(super) fn oldest_first(check: &str, findings: &mut [&Finding]) {
    if check == "stale-access-key" {
        findings.sort_by_cached_key(|f| {
            let evidence = f.evidence.value();
            let rotated = evidence.get("last_rotated").and_then(Value::as_str).map(str::to_string);
            (std::cmp::Reverse(f.severity), rotated)
        });
    }
}

/// Accounts where each check could not run for want of its input file.
fn checks_without_input(coverage: &[CoverageRow]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for row in coverage {
        for check in &row.checks_without_input {
            *counts.entry(check.as_str()).or_default() += 1;
        }
    }
    counts
}

/// Every account with its open findings per severity, worst first (most critical, then most
/// high, …); findings of an account missing from coverage get a row of their own rather than
/// vanish from the totals.
fn account_counts<'a>(report: &'a RunReport) -> Vec<AccountCounts<'a>> {
    let counted = &report.counts.by_account;
    let row = |id: &'a str, name: &'a str, status: &'static str| -> AccountCounts<'a> {
        let mut counts = zero_counts();
        let (mut open, mut suppressed) = (0, 0);
        if let Some(c) = counted.get(id) {
            for (column, n) in counts.iter_mut().zip(c.open) {
                column.count = n;
            }
            open = c.open.iter().sum();
            suppressed = c.suppressed;
        }
        AccountCounts { id, name, status, without_input: 0, counts, open, suppressed }
    };
    let mut rows: Vec<AccountCounts> = report
        .coverage
        .iter()
        .map(|c| AccountCounts {
            without_input: c.checks_without_input.len(),
            ..row(&c.account_id, &c.account_name, c.status.as_str())
        })
        .collect();
    let in_coverage: BTreeSet<&str> = report.coverage.iter().map(|c| c.account_id.as_str()).collect();
    for (id, c) in counted.iter().filter(|(id, _)| !in_coverage.contains(id.as_str())) {
        rows.push(row(id, &c.name, "not in coverage"));
    }
    rows.sort_by(|a, b| {
        let key = |r: &AccountCounts| r.counts.iter().map(|c| c.count).collect::<Vec<_>>();
        key(b).cmp(&key(a))
    });
    rows
}

fn zero_counts() -> Vec<SeverityCount> {
    Severity::ALL.iter().map(|s| SeverityCount { severity: s.as_str(), count: 0 }).collect()
}

/// Failed accounts first, then skipped ones, then the audited: what needs attention on top.
fn coverage_views(coverage: &[CoverageRow]) -> Vec<CoverageView<'_>> {
    let mut rows: Vec<&CoverageRow> = coverage.iter().collect();
    rows.sort_by_key(|row| match row.status {
        CoverageStatus::Failed => 0,
        CoverageStatus::Skipped => 1,
        CoverageStatus::Audited => 2,
    });
    rows.into_iter().map(coverage_view).collect()
}

fn coverage_view(row: &CoverageRow) -> CoverageView<'_> {
    let capped = |list: &'_ [InputProblem]| list.len().min(PROBLEMS_PER_ACCOUNT_MAX);
    CoverageView {
        account_id: &row.account_id,
        account_name: &row.account_name,
        status: row.status.as_str(),
        error: row.error.as_deref(),
        hint: row.hint.as_deref(),
        attempts: row.attempts,
        checks_without_input: &row.checks_without_input,
        problems: &row.problems[..capped(&row.problems)],
        problems_more: row.problems.len() - capped(&row.problems),
        notes: &row.notes[..capped(&row.notes)],
        notes_more: row.notes.len() - capped(&row.notes),
        inventory: row.inventory.as_ref(),
        api_calls: row.api_calls.as_ref().map(|calls| calls.values().sum()),
    }
}

pub(super) fn finding_row(finding: &Finding, as_of: Option<DateTime<Utc>>) -> FindingRow<'_> {
    let first_seen = DateTime::parse_from_rfc3339(&finding.first_seen).ok();
    FindingRow {
        severity: finding.severity.as_str(),
        rank: Severity::ALL.len() - Severity::ALL.iter().position(|s| *s == finding.severity).unwrap_or(4),
        state: match (finding.status, finding.change) {
            (Status::Suppressed, _) => "suppressed",
            (Status::Open, Change::New) => "new",
            (Status::Open, Change::Persisting) => "persisting",
        },
        check: &finding.check,
        check_anchor: anchor("check", &finding.check),
        account_id: finding.account_id.as_str(),
        account_name: &finding.account_name,
        resource_type: finding.resource_type,
        resource_name: &finding.resource_name,
        resource_arn: &finding.resource_arn,
        title: &finding.title,
        detail: &finding.detail,
        evidence: evidence_lines(&finding.evidence.value()),
        suppression: finding.suppression.as_ref().map(|s| {
            if s.expires.is_empty() {
                s.reason.clone()
            } else {
                format!("{} (until {})", s.reason, s.expires)
            }
        }),
        command: finding.remediation_command.as_deref(),
        console_url: finding.console_url.as_deref(),
        first_seen: &finding.first_seen,
        first_seen_date: finding.first_seen.get(..10).unwrap_or(&finding.first_seen),
        age_days: first_seen
            .zip(as_of)
            .map(|(seen, as_of)| (as_of - seen.with_timezone(&Utc)).num_days().max(0)),
    }
}

/// HTML-escapes `text` onto `out`, exactly as tera's autoescape does (`& < > " ' /`), so that
/// rows written here read like the template's.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2F;"),
            _ => out.push(c),
        }
    }
}

/// A URL into an attribute: escaped like [`push_escaped`] but for `/`, which needs none there,
/// so that the page says `https://…` as it is.
fn push_url(out: &mut String, url: &str) {
    for part in url.split_inclusive('/') {
        match part.strip_suffix('/') {
            Some(text) => {
                push_escaped(out, text);
                out.push('/');
            }
            None => push_escaped(out, part),
        }
    }
}

/// The name findings.json gives a resource type (kebab-case).
fn resource_type_name(kind: ResourceType) -> &'static str {
    match kind {
        ResourceType::User => "user",
        ResourceType::Role => "role",
        ResourceType::Group => "group",
        ResourceType::Policy => "policy",
        ResourceType::Account => "account",
        ResourceType::AnalyzerFinding => "analyzer-finding",
        ResourceType::Person => "person",
        ResourceType::PermissionSet => "permission-set",
    }
}

/// One finding's table row, written directly rather than through the template: a run writes
/// one per finding (the account pages hold them all), and this is several times faster than
/// rendering each through tera. Every value from the snapshot goes through [`push_escaped`];
/// `data-` attributes are what the page's script filters on.
pub(super) fn write_row(out: &mut String, f: &FindingRow, show_account: bool, account_pages: bool) {
    let push = |out: &mut String, parts: &[&str]| {
        for (i, part) in parts.iter().enumerate() {
            // Even places are markup, odd places are values.
            if i % 2 == 0 {
                out.push_str(part);
            } else {
                push_escaped(out, part);
            }
        }
    };
    let rank = f.rank.to_string();
    push(
        out,
        &["<tr data-sev=\"", f.severity, "\" data-check=\"", f.check, "\" data-account=\"", f.account_id],
    );
    push(
        out,
        &[
            "\" data-account-name=\"",
            f.account_name,
            "\" data-change=\"",
            f.state,
            "\"><td data-sort=\"",
            &rank,
        ],
    );
    push(out, &["\"><span class=\"sev sev-", f.severity, "\">", f.severity, "</span>"]);
    match f.state {
        "new" => push(out, &["<br><span class=\"new\">new</span>"]),
        "suppressed" => push(out, &["<br><span class=\"new\">suppressed</span>"]),
        _ => {}
    }
    push(out, &["</td>"]);
    if show_account {
        push(out, &["<td data-sort=\"", f.account_id, "\">"]);
        if account_pages {
            push(
                out,
                &["<a class=\"mono acct\" href=\"accounts/", f.account_id, ".html#", &f.check_anchor, "\">"],
            );
            push(out, &["", f.account_id, "</a>"]);
        } else {
            push(out, &["<span class=\"mono acct\">", f.account_id, "</span>"]);
        }
        push(out, &["<br><span class=\"sub\">", f.account_name, "</span></td>"]);
    }
    push(
        out,
        &["<td><b>", f.resource_name, "</b> <span class=\"sub\">", resource_type_name(f.resource_type)],
    );
    push(out, &["</span><span class=\"arn\">", f.resource_arn, "</span></td><td><b>", f.title]);
    push(out, &["</b><div class=\"detail\">", f.detail, "</div>"]);
    if let Some(suppression) = &f.suppression {
        push(out, &["<div class=\"sub\"><b>Suppressed:</b> ", suppression, "</div>"]);
    }
    if f.command.is_some() || f.console_url.is_some() {
        push(out, &["<div class=\"fix\">"]);
        if let Some(command) = f.command {
            push(out, &["<pre class=\"cmd\"><code>", command, "</code></pre>"]);
        }
        if let Some(url) = f.console_url {
            // A link is navigation (which the page's `default-src 'none'` does not govern); it
            // opens in whichever account the reader is signed in to, so the account is named.
            out.push_str("<a class=\"console\" href=\"");
            push_url(out, url);
            push(out, &["\" rel=\"noopener noreferrer\">AWS console</a>"]);
            push(out, &[" <span class=\"sub\">in account ", f.account_id, "</span>"]);
        }
        push(out, &["</div>"]);
    }
    push(out, &["</td><td class=\"ev\">"]);
    for line in &f.evidence {
        push(out, &["<div><span class=\"k\">", &line.key, "</span>: ", &line.value, "</div>"]);
    }
    push(
        out,
        &[
            "</td><td class=\"nowrap\" data-sort=\"",
            f.first_seen,
            "\" data-l=\"First seen\">",
            f.first_seen_date,
        ],
    );
    if let Some(days) = f.age_days {
        let days_text = days.to_string();
        push(
            out,
            &["<br><span class=\"age\">", &days_text, if days == 1 { " day</span>" } else { " days</span>" }],
        );
    }
    push(out, &["</td></tr>\n"]);
}

/// Why this run could not re-check a finding of the previous run.
pub fn not_rechecked(coverage: &[CoverageRow], finding: &Finding) -> String {
    match coverage.iter().find(|c| c.account_id == finding.account_id.as_str()) {
        None => "the account is not part of this run".into(),
        Some(row) if row.status != CoverageStatus::Audited => format!(
            "the account was {} this run: {}",
            row.status.as_str(),
            row.error.as_deref().unwrap_or("no reason recorded")
        ),
        Some(_) => "the check had no input in this account this run".into(),
    }
}

fn finding_ref(finding: &Finding) -> FindingRef<'_> {
    FindingRef {
        check: &finding.check,
        check_anchor: crate::checks::by_id(&finding.check).map(|c| anchor("catalog", c.id)),
        severity: finding.severity.as_str(),
        account_id: finding.account_id.as_str(),
        account_name: &finding.account_name,
        resource_type: finding.resource_type,
        resource_name: &finding.resource_name,
        resource_arn: &finding.resource_arn,
        title: &finding.title,
        first_seen: &finding.first_seen,
    }
}

/// Evidence as `key: value` lines: strings as they are, lists of plain values joined,
/// anything nested as compact JSON text. The template escapes all of it.
fn evidence_lines(evidence: &Value) -> Vec<EvidenceLine> {
    match evidence {
        Value::Null => Vec::new(),
        Value::Object(fields) => fields
            .iter()
            .map(|(key, value)| EvidenceLine { key: key.clone(), value: evidence_text(value).into_owned() })
            .collect(),
        other => vec![EvidenceLine { key: "evidence".into(), value: evidence_text(other).into_owned() }],
    }
}

fn evidence_text(value: &Value) -> Cow<'_, str> {
    let plain = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let text: Cow<str> = match value {
        Value::String(text) => Cow::Borrowed(text),
        Value::Null => Cow::Borrowed("none"),
        Value::Array(items) if items.is_empty() => Cow::Borrowed("none"),
        Value::Object(fields) if fields.is_empty() => Cow::Borrowed("none"),
        Value::Array(items) if items.iter().all(plain) => Cow::Owned(
            items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Cow::Borrowed(text.as_str()),
                    other => Cow::Owned(other.to_string()),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => Cow::Owned(spaced_json(other)),
    };
    shorten(text, EVIDENCE_VALUE_MAX_CHARS)
}

/// Compact JSON with a space after each `,` and `:`, so that a long value wraps between items.
struct SpacedJson;

impl serde_json::ser::Formatter for SpacedJson {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            out.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.begin_array_value(out, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        out.write_all(b": ")
    }
}

fn spaced_json(value: &Value) -> String {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, SpacedJson);
    match value.serialize(&mut serializer) {
        // serde_json writes valid UTF-8 only.
        Ok(()) => String::from_utf8(bytes).unwrap_or_else(|_| value.to_string()),
        Err(_) => value.to_string(),
    }
}

fn shorten(text: Cow<'_, str>, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => text,
        Some((cut, _)) => {
            let rest = text[cut..].chars().count();
            Cow::Owned(format!("{}… ({rest} more characters in findings.json)", &text[..cut]))
        }
    }
}

/// Every threshold by its config key, in key order, taken from the struct itself so that
/// none is left out.
fn settings(thresholds: &impl Serialize) -> Vec<Setting> {
    let mut settings: Vec<Setting> = match serde_json::to_value(thresholds) {
        Ok(Value::Object(fields)) => fields
            .into_iter()
            .map(|(name, value)| Setting {
                value: match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                },
                name,
            })
            .collect(),
        _ => Vec::new(),
    };
    settings.sort_by(|a, b| a.name.cmp(&b.name));
    settings
}

/// A fragment id made only of `[a-z0-9-]`, whatever the text.
pub(super) fn anchor(prefix: &str, text: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 1 + text.len());
    id.push_str(prefix);
    id.push('-');
    for c in text.chars() {
        id.push(if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' });
    }
    id
}

#[cfg(test)]
pub(crate) mod tests {
    //! The report fixtures here are shared with the digest's and the mail's tests.
    use super::*;
    use crate::access::roster::{AdminChange, AdminEquivalent, PrincipalKind};
    use crate::config::Thresholds;
    use crate::findings::Suppression;
    use crate::identifiers::AccountId;
    use crate::report::{RunInfo, RunStats};

    pub(crate) const SCRIPT: &str = "<script>alert(1)</script>";
    pub(crate) const IMG: &str = "\"><img src=x onerror=alert(1)>";

    pub(crate) fn finding(check: &str, severity: Severity, name: &str) -> Finding {
        Finding {
            fingerprint: format!("fp-{check}-{name}"),
            check: check.to_string().into(),
            severity,
            account_id: AccountId::parse("111122223333").unwrap(),
            account_name: "prod".into(),
            resource_type: ResourceType::User,
            resource_arn: format!("arn:aws:iam::111122223333:user/{name}"),
            resource_name: name.into(),
            title: format!("User {name} has a problem"),
            detail: "Plain detail.".into(),
            evidence: evidence(serde_json::json!({"access_key": 1, "last_used": null})),
            remediation: "aws iam do-something".to_string().into(),
            remediation_command: None,
            console_url: None,
            references: vec!["CIS 1.10".to_string().into()],
            status: Status::Open,
            suppression: None,
            first_seen: "2024-06-01T00:00:00Z".into(),
            change: Change::New,
            default_severity: true,
            lapsed_rule: None,
        }
    }

    pub(crate) fn coverage(id: &str, name: &str, status: CoverageStatus, error: Option<&str>) -> CoverageRow {
        CoverageRow {
            account_id: id.into(),
            account_name: name.into(),
            status,
            error: error.map(str::to_string),
            hint: error.map(|_| "run again; raise [organization] max_attempts".to_string()),
            attempts: error.map(|_| 3),
            checks_without_input: vec!["password-policy-weak".into()],
            problems: vec![InputProblem::at(
                &format!("accounts/{id}/credential-report.csv"),
                "line 7",
                &format!("bad date {SCRIPT}"),
            )],
            notes: Vec::new(),
            inventory: Some(Inventory { users: 3, groups: 1, roles: 2, managed_policies: 4 }),
            api_calls: None,
        }
    }

    pub(crate) fn evidence(value: Value) -> crate::findings::Evidence {
        match value {
            Value::Object(map) => crate::findings::Evidence::from_map(map),
            _ => unreachable!("test evidence is an object"),
        }
    }

    pub(crate) fn run_info() -> RunInfo {
        RunInfo {
            id: "20240601T000000Z".into(),
            as_of: "2024-06-01T00:00:00Z".into(),
            started_at: "2024-06-01T00:00:01Z".into(),
            finished_at: "2024-06-01T00:00:02Z".into(),
            tool_version: "0.1.0".into(),
            source: "snapshot".into(),
            snapshot: Some("/tmp/snapshot".into()),
            config_sha256: None,
            thresholds: Thresholds::default(),
            disabled_checks: vec!["unused-role".into()],
            severity_overrides: [("unused-user".to_string(), Severity::Low)].into(),
            fail_on: Some(Severity::High),
            previous_run: None,
            stats: RunStats {
                api_calls: [("iam:GetAccountAuthorizationDetails".to_string(), 3)].into(),
                ..RunStats::default()
            },
        }
    }

    /// A small run with hostile names everywhere an IAM or config string can appear.
    pub(crate) fn hostile_report() -> RunReport {
        let mut admin = finding("admin-access", Severity::High, SCRIPT);
        admin.detail = format!("detail {IMG}");
        admin.account_name = format!("acct {SCRIPT}");
        admin.evidence = evidence(serde_json::json!({
            "tag": SCRIPT,
            "policy": {"Statement": [{"Effect": "Allow", "Resource": IMG}]},
            "link": "https://evil.example/x",
            "keys": [IMG, 2],
        }));
        admin.remediation_command = Some(format!("aws iam delete-user --user-name {SCRIPT}\n# {IMG}"));
        admin.console_url = Some(format!("https://console.aws.amazon.com/iam/home#/users/details/{IMG}"));
        let mut suppressed = finding("console-without-mfa", Severity::High, "break-glass");
        suppressed.status = Status::Suppressed;
        suppressed.suppression = Some(Suppression {
            rule: Some(1),
            reason: format!("break-glass user, reviewed quarterly {SCRIPT}"),
            expires: "2030-01-31".into(),
            resource_pattern: "arn:aws:iam::*:user/break-glass".into(),
            owner: Some(format!("security {IMG}")),
            ticket: Some("SEC-142".into()),
        });
        // Its rule (2 below) lapsed: the finding is open again and counted against it.
        admin.lapsed_rule = Some(2);
        let mut resolved = finding("stale-access-key", Severity::Medium, "old-key-user");
        resolved.change = Change::Persisting;
        let report = RunReport::new(
            run_info(),
            vec![
                coverage("111122223333", &format!("prod {IMG}"), CoverageStatus::Audited, None),
                coverage(
                    "444455556666",
                    "sandbox",
                    CoverageStatus::Failed,
                    Some(&format!("AccessDenied assuming IamAuditorRole {SCRIPT}")),
                ),
            ],
            vec![
                admin,
                finding("stale-access-key", Severity::Medium, "alice"),
                finding("stale-access-key", Severity::Medium, "bob"),
                finding("stale-access-key", Severity::Medium, "carol"),
                finding("stale-access-key", Severity::Medium, "dave"),
                suppressed,
            ],
            vec![resolved],
            vec![InputProblem::at(
                "organization/scps.json",
                "line 3, column 9",
                &format!("bad SCP {SCRIPT}"),
            )],
        );
        report.with_suppression_rules(&suppression_rules(), "2024-06-01T00:00:00Z".parse().unwrap())
    }

    /// The hostile report's rules, judged at its as_of (2024-06-01T00:00:00Z): 1 active (the
    /// break-glass user), 2 lapsed (covers the admin finding), 3 expiring exactly 30 days later
    /// (soon) and 4 a second after that (not soon), both matching nothing.
    pub(crate) fn suppression_rules() -> Vec<crate::config::SuppressionRule> {
        let text = format!(
            "[[suppressions]]\ncheck = \"console-without-mfa\"\nresource = \"arn:aws:iam::*:user/break-glass\"\n\
             reason = \"break-glass user, reviewed quarterly {SCRIPT}\"\nexpires = \"2030-01-31\"\n\
             owner = 'security {IMG}'\nticket = \"SEC-142\"\n\
             [[suppressions]]\ncheck = \"admin-access\"\nresource = \"arn:aws:iam::*:user/*\"\n\
             reason = \"vendor contract\"\nexpires = \"2024-05-31\"\nowner = \"vendor team\"\n\
             [[suppressions]]\ncheck = \"wide-trust\"\nresource = \"*\"\nreason = \"migration window\"\n\
             expires = \"2024-07-01T00:00:00Z\"\nticket = \"MIG-7\"\n\
             [[suppressions]]\ncheck = \"oidc-trust-unscoped\"\nresource = \"*\"\nreason = \"pilot\"\n\
             expires = \"2024-07-01T00:00:01Z\"\n"
        );
        crate::config::Config::parse(&text).expect("the fixture's rules parse").suppressions
    }

    fn render_with(report: &RunReport, max_rows: usize) -> String {
        let config = ReportConfig {
            title: format!("IAM audit {SCRIPT}"),
            html_max_rows_per_check: max_rows,
            ..ReportConfig::default()
        };
        render(report, &config).unwrap()
    }

    #[test]
    fn checks_without_input_make_an_account_not_audited_for_them_and_say_so_everywhere() {
        let mut report = hostile_report();
        for row in report.coverage.iter_mut() {
            row.checks_without_input.clear();
        }
        let clean = render_with(&report, 100);
        assert!(
            !clean.contains("without-input-alert") && !clean.contains("status st-partial"),
            "no gap, no alarm"
        );
        report.coverage[0].checks_without_input =
            vec!["password-policy-weak".into(), "root-mfa-disabled".into()];
        let html = render_with(&report, 100);
        let alert = section(&html, "without-input-alert");
        assert!(alert.contains("111122223333") && alert.contains("2 checks"), "{alert}");
        let coverage = section(&html, "coverage");
        assert!(coverage.contains("audited, 2 checks without input"), "the account's badge says it");
        let settings = section(&html, "family-account-settings-and-access-analyzer");
        assert!(settings.contains("1 check did not run in some accounts"), "{settings}");
        let root = section(&html, "family-root-user");
        assert!(root.contains("1 check did not run in some accounts"));
        let summary = section(&html, "summary");
        assert!(summary.contains("audited, 2 checks without input"), "and in the accounts table");
    }

    /// The text between the element with `id` and the next `<section`.
    fn section<'h>(html: &'h str, id: &str) -> &'h str {
        let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no section {id}"));
        let rest = &html[start..];
        let end = ["<section", "<article"]
            .iter()
            .filter_map(|tag| rest[1..].find(tag))
            .min()
            .map_or(rest.len(), |i| i + 1);
        &rest[..end]
    }

    #[test]
    fn untrusted_text_appears_only_escaped() {
        let html = render_with(&hostile_report(), 100);
        let lower = html.to_ascii_lowercase();
        assert_eq!(lower.matches("<script").count(), 1, "one script tag: the page's own");
        assert!(
            html.contains(&format!("<script>{}</script>", super::SCRIPT)),
            "and it holds only the page's script"
        );
        assert!(!lower.contains("<img"), "raw img tag in output");
        let script = "&lt;script&gt;alert(1)&lt;&#x2F;script&gt;";
        let img = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;";
        // title, resource name, account name, evidence tag, coverage error and problem,
        // suppression reason: each escaped, none raw.
        assert!(html.matches(script).count() >= 7, "{}", html.matches(script).count());
        assert!(html.contains(&format!("detail {img}")));
        assert!(html.contains(&format!("prod {img}")));
        assert!(html.contains(&format!("AccessDenied assuming IamAuditorRole {script}")));
        assert!(html.contains(&format!("break-glass user, reviewed quarterly {script}")));
        // Nested evidence is JSON text, escaped; a list of plain values is joined.
        assert!(html.contains("{&quot;Statement&quot;: [{&quot;Effect&quot;: &quot;Allow&quot;"), "{html}");
        assert!(html.contains(&format!("{img}, 2")));
        assert!(html.contains("https:&#x2F;&#x2F;evil.example&#x2F;x"));
    }

    #[test]
    fn per_account_rows_read_as_the_template_wrote_them() {
        // Every branch of a coverage row: a failed account with its error, hint and attempts,
        // checks without input, problems beyond the cap, a note without a position, an
        // inventory of one of each, and API calls; escaped where the value is untrusted.
        let mut failed = coverage("444455556666", "sand<box", CoverageStatus::Failed, Some("Access/Denied"));
        failed.problems =
            vec![InputProblem::at("a.csv", "line 1", "bad & late"); PROBLEMS_PER_ACCOUNT_MAX + 1];
        failed.notes = vec![InputProblem { position: None, ..InputProblem::note("b.json", "", "odd") }];
        failed.inventory = Some(Inventory { users: 1, groups: 0, roles: 1, managed_policies: 1 });
        failed.api_calls = Some([("iam:A".to_string(), 2), ("iam:B".to_string(), 3)].into());
        let mut row = String::new();
        coverage_row(&mut row, &coverage_view(&failed), true);
        let problem =
            "<div class=\"problem\"><span class=\"mono\">a.csv</span> at line 1: bad &amp; late</div>";
        assert_eq!(
            row,
            [
                "\n<tr class=\"failed\"><td><a class=\"mono acct\" href=\"accounts/444455556666.html\">444455556666</a>",
                "<br><span class=\"sub\">sand&lt;box</span></td><td><span class=\"status st-failed\">failed</span></td>",
                "\n<td><span class=\"err\">Access&#x2F;Denied</span><div class=\"sub\">What to do (3 attempts made): ",
                "run again; raise [organization] max_attempts</div></td>",
                "\n<td><span class=\"chip mono\">password-policy-weak</span></td>\n<td>",
                &problem.repeat(PROBLEMS_PER_ACCOUNT_MAX),
                "<div class=\"sub\"><b>1 more in findings.json (coverage[].problems)</b></div></td>",
                "\n<td><div class=\"problem\"><span class=\"mono\">b.json</span>: odd</div></td>",
                "\n<td>1 user<br>0 groups<br>1 role<br>1 managed policy</td>",
                "\n<td class=\"num\" data-l=\"API calls\">5</td></tr>",
            ]
            .concat()
        );
        // An audited account without input for a check, nothing to report, nothing read.
        let mut quiet = coverage("111122223333", "prod", CoverageStatus::Audited, None);
        quiet.problems.clear();
        quiet.inventory = None;
        quiet.api_calls = Some([("iam:A".to_string(), 0)].into());
        row.clear();
        coverage_row(&mut row, &coverage_view(&quiet), false);
        assert_eq!(
            row,
            [
                "\n<tr class=\"audited\"><td><span class=\"mono acct\">111122223333</span><br><span class=\"sub\">prod</span></td>",
                "<td><span class=\"status st-partial\">audited, 1 check without input</span></td>",
                "\n<td><span class=\"muted\">none</span></td>\n<td><span class=\"chip mono\">password-policy-weak</span></td>",
                "\n<td><span class=\"muted\">none</span></td>\n<td><span class=\"muted\">none</span></td>",
                "\n<td><span class=\"muted\">not read</span></td>",
                "\n<td class=\"num\" data-l=\"API calls\"><span class=\"muted\">none</span></td></tr>",
            ]
            .concat()
        );

        let mut counts = zero_counts();
        counts[0].count = 2;
        let account = AccountCounts {
            id: "444455556666",
            name: "a\"b",
            status: "not in coverage",
            without_input: 0,
            counts,
            open: 2,
            suppressed: 0,
        };
        row.clear();
        account_row(&mut row, &account, true);
        assert_eq!(
            row,
            [
                "\n<tr><td class=\"mono acct\"><a href=\"accounts/444455556666.html\">444455556666</a></td><td>a&quot;b</td>",
                "<td><span class=\"status st-not-in-coverage\">not in coverage</span></td>",
                "<td class=\"num\" data-l=\"critical\">2</td><td class=\"num zero\" data-l=\"high\">0</td>",
                "<td class=\"num zero\" data-l=\"medium\">0</td><td class=\"num zero\" data-l=\"low\">0</td>",
                "<td class=\"num zero\" data-l=\"info\">0</td>",
                "<td class=\"num\" data-l=\"open\"><b>2</b></td><td class=\"num zero\" data-l=\"suppressed\">0</td></tr>",
            ]
            .concat()
        );

        let admins = AdminSummary {
            id: "444455556666",
            name: "x",
            people: 1,
            users: 0,
            roles: 2,
            conditional: 0,
            unknown: 0,
        };
        row.clear();
        admin_summary_row(&mut row, &admins, false);
        assert_eq!(
            row,
            [
                "\n<tr><td class=\"mono acct\">444455556666</td><td>x</td><td class=\"num\" data-l=\"people\">1</td>",
                "<td class=\"num zero\" data-l=\"IAM users\">0</td><td class=\"num\" data-l=\"IAM roles\">2</td>",
                "<td class=\"num zero\" data-l=\"conditional\">0</td><td class=\"num zero\" data-l=\"not known\">0</td></tr>",
            ]
            .concat()
        );
    }

    #[test]
    fn a_name_like_a_table_marker_is_text_and_every_account_keeps_its_rows() {
        // The page is cut at the template's markers; a name that reads like one must not
        // move the cut, only show as escaped text.
        let coverage: Vec<CoverageRow> = TABLES
            .iter()
            .enumerate()
            .map(|(i, (marker, _))| {
                coverage(&format!("10000000000{i}"), marker, CoverageStatus::Audited, None)
            })
            .collect();
        let html = render_with(&RunReport::new(run_info(), coverage, vec![], vec![], vec![]), 100);
        for (marker, _) in TABLES {
            assert!(!html.contains(marker), "{marker} left on the page");
            let escaped = tera::escape_html(marker);
            assert!(html.matches(&escaped).count() >= 2, "{escaped}: in the accounts and coverage tables");
        }
        let table = |id: &str| section(&html, id).matches("<tr class=\"audited\">").count();
        assert_eq!(table("coverage"), TABLES.len(), "one coverage row per account");
        let summary = section(&html, "summary");
        let accounts = &summary[summary.find("id=\"summary-accounts\"").unwrap()..];
        assert_eq!(accounts.matches("<tr><td class=\"mono acct\">").count(), TABLES.len());
    }

    #[test]
    fn page_is_self_contained() {
        let html = render_with(&hostile_report(), 100);
        let lower = html.to_ascii_lowercase();
        // The only script is the page's own, inline, allowed by its hash and by nothing else.
        assert_eq!(lower.matches("<script").count(), 1);
        let csp =
            html.split("Content-Security-Policy\" content=\"").nth(1).unwrap().split('"').next().unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        let hash = script_hash().replace('/', "&#x2F;");
        assert!(csp.contains(&format!("script-src '{hash}'")), "{csp}");
        assert!(!csp.contains("script-src 'unsafe"), "{csp}");
        // The only absolute URLs allowed are links (`<a href>`: navigation, which loads nothing
        // and which default-src does not govern) to the AWS docs' Security Hub control pages;
        // with those taken out, nothing may point outside the page.
        let docs_link = "<a class=\"ref\" href=\"https://docs.aws.amazon.com/securityhub/";
        assert!(lower.matches(docs_link).count() > 0, "the catalog links the Security Hub controls");
        // And each finding's resource in the AWS console.
        let console_link = "<a class=\"console\" href=\"https://console.aws.amazon.com/";
        assert!(lower.matches(console_link).count() > 0, "a finding links its console page");
        let links_out = lower
            .replace(docs_link, "<a class=\"ref\" href=\"")
            .replace(console_link, "<a class=\"console\" href=\"");
        assert!(
            !links_out.contains("http://")
                && !links_out.contains("https://")
                && !links_out.contains("//docs."),
            "remote reference in the page"
        );
        assert!(!lower.contains("url(") && !lower.contains("@import") && !lower.contains("<link"));
        assert!(!lower.contains(" src=\"") && !lower.contains("<iframe"));
        assert!(lower.starts_with("<!doctype html>"));
        assert!(html.contains("Content-Security-Policy"));
        assert!(html.contains("@media print"));
    }

    #[test]
    fn a_findings_command_is_copyable_text_and_its_console_link_names_the_account() {
        let html = render_with(&hostile_report(), 100);
        let fix = &html[html.find("<div class=\"fix\">").unwrap()..];
        let fix = &fix[..fix.find("</div>").unwrap()];
        assert_eq!(
            fix,
            "<div class=\"fix\"><pre class=\"cmd\"><code>aws iam delete-user --user-name \
             &lt;script&gt;alert(1)&lt;&#x2F;script&gt;\n# &quot;&gt;&lt;img src=x onerror=alert(1)&gt;</code></pre>\
             <a class=\"console\" href=\"https://console.aws.amazon.com/iam/home#/users/details/\
             &quot;&gt;&lt;img src=x onerror=alert(1)&gt;\" rel=\"noopener noreferrer\">AWS console</a> \
             <span class=\"sub\">in account 111122223333</span>"
        );
        // The legend says once where a console link opens.
        assert!(html.contains("opens the resource's page in whichever AWS account you are signed in to"));
    }

    #[test]
    fn the_cis_rollup_counts_accounts_per_item_and_names_the_first_failing() {
        let ids: Vec<String> = (0..7).map(|n| format!("44445555666{n}")).collect();
        let coverage: Vec<CoverageRow> = ids
            .iter()
            .map(|id| CoverageRow {
                checks_without_input: vec![],
                ..coverage(id, "acct", CoverageStatus::Audited, None)
            })
            .collect();
        let findings: Vec<Finding> = ids
            .iter()
            .map(|id| Finding {
                account_id: AccountId::parse(id).unwrap(),
                ..finding("console-without-mfa", Severity::High, "bob")
            })
            .collect();
        let mut report = RunReport::new(run_info(), coverage, findings, vec![], vec![]);
        report.account_pages = true;
        let html = render_with(&report, 100);
        let rollup = &html[html.find("<section id=\"cis\">").unwrap()..];
        let rollup = &rollup[..rollup.find("</section>").unwrap()];
        let row = &rollup[rollup.find("\"v5.0.0\">1.9<").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("data-l=\"fail\"><b>7</b>"), "{row}");
        assert!(row.contains("href=\"accounts/444455556660.html#cis-1-9\""), "{row}");
        assert_eq!(row.matches("class=\"chip mono\"").count(), 5, "{row}");
        assert!(row.contains("and 2 more"), "{row}");
        // Stale keys were checked in every account and none is open.
        let keys = &rollup[rollup.find("\"v5.0.0\">1.13<").unwrap()..];
        assert!(keys[..keys.find("</tr>").unwrap()].contains("data-l=\"pass\">7</td>"), "{keys}");
    }

    #[test]
    fn references_link_security_hub_controls_and_the_method_explains_them() {
        let html = render_with(&hostile_report(), 100);
        let catalog = &html[html.find("<h3>Check catalog</h3>").unwrap()..];
        let row = &catalog[catalog.find("id=\"catalog-stale-access-key\"").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains(
                "CIS v3.0.0 1.14, CIS v5.0.0 1.13, <a class=\"ref\" href=\"https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-3\">Security Hub IAM.3</a>"
            ),
            "{row}"
        );
        let wide = &catalog[catalog.find("id=\"catalog-wide-trust\"").unwrap()..];
        assert!(wide[..wide.find("</tr>").unwrap()].contains("<span class=\"muted\">none</span>"));
        let method = &html[html.find("<h2>Method</h2>").unwrap()..];
        let legend = &method
            [method.find("<h3>References</h3>").unwrap()..method.find("<h3>Check catalog</h3>").unwrap()];
        assert!(
            legend.contains("CIS v3.0.0, CIS v5.0.0") && legend.contains("Security Hub IAM.N"),
            "{legend}"
        );
    }

    pub(crate) fn roster_row(
        account: &str,
        kind: PrincipalKind,
        name: &str,
        admin: AdminEquivalent,
    ) -> RosterRow {
        RosterRow {
            account_id: account.into(),
            account_name: "<prod>".into(),
            principal_kind: kind,
            principal_id: format!("id-{name}"),
            name: name.into(),
            display_name: String::new(),
            email: String::new(),
            access: "permission set Admin".into(),
            via_group: String::new(),
            admin_equivalent: admin,
            how: "how".into(),
            first_seen: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn the_roster_lists_admins_per_account_people_first_and_the_changes_lead() {
        let rows = vec![
            roster_row("111111111111", PrincipalKind::Person, "<script>ana", AdminEquivalent::Yes),
            roster_row("111111111111", PrincipalKind::Person, "ben", AdminEquivalent::No),
            roster_row("111111111111", PrincipalKind::IamRole, "deployer", AdminEquivalent::Conditional),
            roster_row("222222222222", PrincipalKind::IamUser, "nobody-admin", AdminEquivalent::No),
        ];
        let gained = AdminChange {
            change: AdminChangeKind::Gained,
            account_id: "111111111111".into(),
            account_name: "prod".into(),
            principal_kind: PrincipalKind::Person,
            principal_id: "id-ana".into(),
            name: "<script>ana".into(),
            display_name: String::new(),
            email: String::new(),
            access: vec!["permission set Admin".into()],
            how: String::new(),
            conditional: false,
        };
        let mut report =
            hostile_report().with_access(rows, vec![gained], crate::access::IdentityCenterSummary::of(None));
        report.run.previous_run = Some("20261116T060000Z".into());
        let html = render_with(&report, 100);
        let roster = section(&html, "roster");
        let (ana, deployer) = (roster.find("&lt;script&gt;ana").unwrap(), roster.find("deployer").unwrap());
        assert!(ana < deployer, "people first");
        assert!(!roster.contains(">ben<") && !roster.contains("nobody-admin"), "only admin rows are listed");
        assert!(roster.contains("1 more principal with access that is not admin-equivalent"), "{roster}");
        assert!(!roster.contains("222222222222"), "an account without admins has no table");
        assert!(section(&html, "changes").contains("&lt;script&gt;ana gained admin on 111111111111 (prod)"));
        let banner = html.find("Admin access changed since the previous run.").expect("a banner");
        assert!(banner < html.find("id=\"changes\"").unwrap(), "the banner leads the page");
        assert!(html.contains("Identity Center not collected."), "and says what it could not see");
        assert!(!html.contains("<script>ana"), "escaped");
        // Admins counted per account: people, users, roles.
        let summary = roster.split("admin-summary").nth(1).expect("the per-account admin table");
        assert!(summary.contains("data-l=\"people\">1<"), "{summary}");
    }

    #[test]
    fn what_changed_leads_the_report_with_new_findings_worst_first() {
        let mut report = hostile_report();
        report.run.previous_run = Some("20261116T060000Z".into());
        for finding in report.findings.iter_mut() {
            finding.change = Change::Persisting;
        }
        let mut fresh = finding("console-without-mfa", Severity::Medium, "newcomer-medium");
        fresh.change = Change::New;
        report.findings.push(fresh);
        let mut worst = finding("wide-trust", Severity::Critical, "newcomer-critical");
        worst.change = Change::New;
        report.findings.push(worst);
        let html = render_with(&report, 100);
        let changes = section(&html, "changes");
        assert!(changes.contains("20261116T060000Z"), "names the compared run");
        let critical = changes.find("newcomer-critical").expect("the new critical finding is listed");
        let medium = changes.find("newcomer-medium").expect("the new medium finding is listed");
        assert!(critical < medium, "critical before medium");
        assert!(!changes.contains("alice"), "persisting findings are not news");
        assert!(html.find("id=\"changes\"").unwrap() < html.find("id=\"summary\"").unwrap());

        let first = render_with(&hostile_report(), 100);
        assert!(section(&first, "changes").contains("No previous run to compare with"));
    }

    #[test]
    fn every_section_is_present_in_order() {
        let html = render_with(&hostile_report(), 100);
        let mut headings: Vec<String> =
            ["changes", "summary", "coverage", "roster"].iter().map(|id| format!("id=\"{id}\"")).collect();
        headings.push("Appendix: the detail".into());
        let mut families: Vec<Family> = Vec::new();
        for check in CATALOG {
            if !families.contains(&check.family) {
                families.push(check.family);
            }
        }
        headings.extend(families.iter().map(|f| format!(">{}</h2>", f.title())));
        headings.extend(
            ["suppressed", "resolved", "carried-over", "method"].iter().map(|id| format!("id=\"{id}\"")),
        );
        let mut at = 0;
        for heading in &headings {
            let found = html[at..]
                .find(heading.as_str())
                .unwrap_or_else(|| panic!("{heading} missing or out of order"));
            at += found + heading.len();
        }
        for title in ["Summary", "Account coverage", "Suppressed findings", "Resolved findings", "Method"] {
            assert!(html.contains(&format!("{title}</h2>")), "{title}");
        }
        // Checks that ran without findings are named; a disabled one is not said to have run.
        let admin_family = section(&html, &anchor("family", Family::AdminPower.title()));
        assert!(admin_family.contains("full-admin-policy"), "{admin_family}");
        let unused = section(&html, &anchor("family", Family::UnusedAccess.title()));
        assert!(unused.contains("Disabled by configuration") && unused.contains("unused-role"), "{unused}");
        // The whole catalog is in the method section.
        let method = section(&html, "method");
        for check in CATALOG {
            assert!(method.contains(check.id), "{} missing from the catalog", check.id);
        }
        assert!(method.contains("key_max_age_days") && method.contains("no config file"));
        assert!(method.contains("iam:GetAccountAuthorizationDetails</td><td class=\"num\">3<"), "{method}");
        // Links inside the page point at anchors that exist.
        for link in html.split("href=\"#").skip(1) {
            let target = &link[..link.find('"').unwrap()];
            assert!(html.contains(&format!("id=\"{target}\"")), "dangling link #{target}");
        }
    }

    #[test]
    fn failed_accounts_stand_out() {
        let html = render_with(&hostile_report(), 100);
        let coverage = section(&html, "coverage");
        let row_start = coverage.find("<tr class=\"failed\"").expect("failed row not marked");
        let row = &coverage[row_start..coverage[row_start..].find("</tr>").unwrap() + row_start];
        assert!(
            row.contains("444455556666") && row.contains("AccessDenied assuming IamAuditorRole"),
            "{row}"
        );
        assert!(row.contains("credential-report.csv") && row.contains("line 7"), "{row}");
        // And the top of the report, before the summary, says coverage is incomplete.
        let top = &html[..html.find("id=\"summary\"").unwrap()];
        assert!(top.contains("Incomplete coverage") && top.contains("444455556666"), "{top}");
    }

    #[test]
    fn suppressed_and_resolved_findings_have_their_own_sections() {
        let report = hostile_report();
        let html = render_with(&report, 100);
        let suppressed = section(&html, "suppressed");
        assert!(suppressed.contains("break-glass user, reviewed quarterly"));
        assert!(
            suppressed.contains("2030-01-31") && suppressed.contains("arn:aws:iam::*:user&#x2F;break-glass")
        );
        assert!(suppressed.contains("console-without-mfa"));
        // A suppressed finding is not listed among the open ones.
        let credentials = section(&html, &anchor("family", Family::Credentials.title()));
        assert!(!credentials.contains("user&#x2F;break-glass"), "{credentials}");
        let resolved = section(&html, "resolved");
        assert!(resolved.contains("old-key-user"));
        let coverage = section(&html, "coverage");
        assert!(
            coverage.contains("scps.json") && coverage.contains("line 3, column 9"),
            "snapshot-wide problems shown"
        );
        assert!(section(&html, "method").contains("unused-user → low"), "severity overrides shown");

        let empty = RunReport::new(run_info(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let html = render_with(&empty, 100);
        assert!(section(&html, "resolved").contains("no previous run"));

        assert!(section(&html, "suppressed").contains("None"));
    }

    #[test]
    fn the_rules_table_has_one_row_per_rule_with_its_status_and_count() {
        let html = render_with(&hostile_report(), 100);
        let suppressed = section(&html, "suppressed");
        let row = |n: usize| {
            let start =
                suppressed.find(&format!("<tr id=\"rule-{n}\"")).unwrap_or_else(|| panic!("no row {n}"));
            &suppressed[start..start + suppressed[start..].find("</tr>").unwrap()]
        };
        let active = row(1);
        assert!(active.contains("class=\"active\"") && active.contains(">active<"), "{active}");
        assert!(
            active.contains("SEC-142") && active.contains("security &quot;&gt;&lt;img"),
            "owner escaped: {active}"
        );
        assert!(active.contains("<td class=\"num\">1</td>"), "covers the break-glass finding: {active}");
        let lapsed = row(2);
        assert!(lapsed.contains(">lapsed<") && lapsed.contains("vendor team"), "{lapsed}");
        assert!(lapsed.contains("<td class=\"num\">1</td>"), "the admin finding is open again: {lapsed}");
        let soon = row(3);
        assert!(soon.contains("expires within 30 days") && soon.contains("matched nothing"), "{soon}");
        let later = row(4);
        assert!(
            later.contains(">active<") && later.contains("matched nothing"),
            "31 days away is not soon: {later}"
        );
        assert!(!suppressed.contains("<tr id=\"rule-5\""));
        assert!(
            html[..html.find("</head>").unwrap()].contains(".st-lapsed {"),
            "the statuses are styled in the head"
        );
        // The suppressed finding refers to its rule instead of repeating the reason.
        let findings = &suppressed[suppressed.find("Findings suppressed this run").unwrap()..];
        assert!(findings.contains("href=\"#rule-1\">rule 1</a>"), "{findings}");
        assert!(!findings.contains("reviewed quarterly"), "the reason is said once, in the rules table");
        assert_eq!(suppressed.matches("reviewed quarterly").count(), 1);
    }

    #[test]
    fn lapsed_and_expiring_rules_lead_the_page_and_active_ones_do_not() {
        let html = render_with(&hostile_report(), 100);
        let alert = section(&html, "accepted-risks-alert");
        let alert = &alert[..alert.find("</div></div>").expect("the banner ends")];
        assert!(
            alert.contains("1 suppression rule lapsed") && alert.contains("1 expires within 30 days"),
            "{alert}"
        );
        assert!(alert.contains("#rule-2") && alert.contains("#rule-3"), "{alert}");
        assert!(
            !alert.contains("#rule-1") && !alert.contains("#rule-4"),
            "active rules are not flagged: {alert}"
        );
        assert!(html.find("accepted-risks-alert").unwrap() < html.find("id=\"changes\"").unwrap());

        let mut calm = hostile_report();
        calm.suppression_rules.retain(|r| r.status == crate::report::accepted_risks::RuleStatus::Active);
        let html = render_with(&calm, 100);
        assert!(!html.contains("accepted-risks-alert"), "nothing lapsed or expiring, no banner");
        // A finding whose rule is not in the table (an older findings file) says the rule's text.
        calm.suppression_rules.clear();
        let html = render_with(&calm, 100);
        let suppressed = section(&html, "suppressed");
        assert!(suppressed.contains("has no <code>[[suppressions]]</code> rules"));
        assert!(
            suppressed.contains("break-glass user, reviewed quarterly") && suppressed.contains("2030-01-31")
        );
    }

    #[test]
    fn the_evidence_block_names_the_source_and_how_to_verify_it() {
        use crate::report::provenance::{Provenance, Sources};
        let mut report = hostile_report();
        let html = render_with(&report, 100);
        let evidence = section(&html, "evidence");
        assert!(evidence.contains("Organization</dt><dd><span class=\"muted\">not recorded"), "{evidence}");
        assert!(evidence.contains("Collected by</dt><dd><span class=\"muted\">not recorded"));
        assert!(!html.contains("stale-data-alert"), "fresh data, no banner");
        report.provenance = Provenance::new(&Sources {
            organization_id: Some("o-7k2mq9x4ve"),
            collected_by: Some("arn:aws:sts::111122223333:assumed-role/auditor/<b>"),
            collected_at: Some("2021-11-30T00:00:00Z".parse().unwrap()),
            manifest_sha256: Some("5d41402abc4b2a76b9719d911017c592"),
            as_of: "2021-11-30T00:00:00Z".parse().unwrap(),
            as_of_given: false,
            started_at: "2024-06-01T00:00:00Z".parse().unwrap(),
            max_data_age_days: 2,
            filed_at: Some("archive/20240601T000000Z".into()),
        });
        let html = render_with(&report, 100);
        let evidence = section(&html, "evidence");
        for expected in [
            "o-7k2mq9x4ve",
            "assumed-role&#x2F;auditor&#x2F;&lt;b&gt;",
            "Snapshot collected at</dt><dd>2021-11-30T00:00:00Z",
            "Run started</dt><dd>2024-06-01T00:00:01Z",
            "5d41402abc4b2a76b9719d911017c592",
            "cd archive&#x2F;20240601T000000Z &amp;&amp; sha256sum -c SHA256SUMS",
            crate::report::provenance::BUILD_COMMIT,
            "914 days before the run's start (2024-06-01T00:00:00Z); <span class=\"err\">stale</span>",
        ] {
            assert!(evidence.contains(expected), "{expected} missing: {evidence}");
        }
        let banner = section(&html, "stale-data-alert");
        assert!(banner.contains("914 days old"), "{banner}");
        assert!(html.find("stale-data-alert").unwrap() < html.find("id=\"changes\"").unwrap(), "it leads");
    }

    #[test]
    fn the_heat_map_colours_each_family_by_its_worst_open_severity_and_marks_what_did_not_run() {
        let html = render_with(&hostile_report(), 100);
        let heat = html.split("heat-map\" viewBox").nth(1).unwrap().split("</svg>").next().unwrap();
        for title in [
            "111122223333: 1 open in Admin power, worst high",
            "111122223333: 4 open in Credentials and MFA, worst medium",
            "111122223333: nothing open in Root user",
            // password-policy-weak had no input there: not a clean result.
            "111122223333: Account settings not audited (see coverage)",
            "444455556666: Admin power not audited (see coverage)",
        ] {
            assert!(heat.contains(&format!("<title>{title}</title>")), "{title}: {heat}");
        }
        assert!(!heat.contains("Coverage"), "the account's status is not a column");
        assert!(heat.find("111122223333").unwrap() < heat.find("444455556666").unwrap(), "worst first");
        // A run without findings or failures draws none.
        let empty = RunReport::new(run_info(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        assert!(!render_with(&empty, 100).contains("id=\"heat-map\""));
    }

    #[test]
    fn rows_written_directly_escape_as_the_template_does() {
        let hostile = format!("a&b {SCRIPT} {IMG} 'q' /x");
        let mut escaped = String::new();
        push_escaped(&mut escaped, &hostile);
        assert_eq!(escaped, tera::escape_html(&hostile));
        for kind in [
            ResourceType::User,
            ResourceType::Role,
            ResourceType::Group,
            ResourceType::Policy,
            ResourceType::Account,
            ResourceType::AnalyzerFinding,
            ResourceType::Person,
            ResourceType::PermissionSet,
        ] {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                resource_type_name(kind),
                "as findings.json names it"
            );
        }
        let mut finding = finding("stale-access-key", Severity::Medium, &hostile);
        finding.account_name = hostile.clone();
        let mut row = String::new();
        write_row(
            &mut row,
            &finding_row(&finding, Some("2024-06-11T00:00:00Z".parse().unwrap())),
            true,
            true,
        );
        assert!(!row.contains("<script") && !row.contains("<img"), "{row}");
        assert!(row.contains(&format!("data-account-name=\"{}\"", tera::escape_html(&hostile))), "{row}");
        assert!(row.contains("<br><span class=\"age\">10 days</span>"), "{row}");
        assert!(row.contains("href=\"accounts/111122223333.html#check-stale-access-key\""), "{row}");
        assert_eq!(
            row.matches("<td").count(),
            6,
            "severity, account, resource, finding, evidence, first seen"
        );
    }

    #[test]
    fn rows_are_capped_with_a_note() {
        let html = render_with(&hostile_report(), 2);
        let stale = section(&html, "check-stale-access-key");
        assert!(
            stale.contains("2 more findings of this check are not listed here, and findings.csv / findings.json hold them all. By account, most first:"),
            "{stale}"
        );
        // Which accounts the rest is in, with how many.
        assert!(stale.contains("111122223333: 4"), "{stale}");
        assert!(stale.contains("The worst 2 of 4, at most 5 per account."), "{stale}");
        assert!(stale.contains("user&#x2F;alice") && stale.contains("user&#x2F;bob"));
        assert!(!stale.contains("user&#x2F;carol") && !stale.contains("user&#x2F;dave"));
        let html = render_with(&hostile_report(), 100);
        assert!(!html.contains("more findings of this check"));
        assert!(section(&html, "check-stale-access-key").contains("user&#x2F;dave"));
        assert!(
            !section(&html, "check-stale-access-key").contains("at most 5 per account"),
            "all fit: no spread"
        );
    }

    /// Under a check whose table is capped, the page names the accounts with the most open
    /// findings of it (CHIPS_MAX of them, most first, then by id) and counts the others, among
    /// many more accounts than it names.
    #[test]
    fn a_capped_check_names_its_accounts_with_the_most_findings_and_counts_the_rest() {
        let accounts = 3 * CHIPS_MAX + 7;
        let id = |a: usize| format!("{:012}", 100_000 + a);
        let mut findings = Vec::new();
        let mut coverage_rows = Vec::new();
        for a in 0..accounts {
            coverage_rows.push(coverage(&id(a), &format!("acct-{a}"), CoverageStatus::Audited, None));
            // 1 to 4 findings; the account numbers that give 4 are spread over the run.
            for n in 0..(a * 7 % 4 + 1) {
                let mut f = finding("stale-access-key", Severity::Medium, &format!("u{a}-{n}"));
                f.account_id = AccountId::parse(&id(a)).unwrap();
                f.account_name = format!("acct-{a}");
                f.fingerprint = format!("fp-{a}-{n}");
                findings.push(f);
            }
        }
        let mut expected: Vec<(usize, String)> = (0..accounts).map(|a| (a * 7 % 4 + 1, id(a))).collect();
        expected.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        let report = RunReport::new(run_info(), coverage_rows, findings, Vec::new(), Vec::new());
        let html = render_with(&report, 10);
        let stale = section(&html, "check-stale-access-key");
        let chips: Vec<&str> = stale
            .split("<span class=\"chip mono\" title=\"")
            .skip(1)
            .map(|chip| chip.split_once('>').unwrap().1.split_once("</span>").unwrap().0)
            .collect();
        let named: Vec<String> = expected[..CHIPS_MAX].iter().map(|(n, id)| format!("{id}: {n}")).collect();
        assert_eq!(chips, named);
        let more = accounts - CHIPS_MAX;
        assert!(stale.contains(&format!("and {more} more accounts (see")), "{stale}");
    }

    #[test]
    fn summary_counts_match_the_findings() {
        let html = render_with(&hostile_report(), 100);
        let summary = section(&html, "summary");
        // 1 high + 4 medium open; the suppressed high is counted apart.
        assert!(summary.contains("data-severity=\"high\" data-count=\"1\""), "{summary}");
        assert!(summary.contains("data-severity=\"medium\" data-count=\"4\""), "{summary}");
        assert!(summary.contains("data-severity=\"critical\" data-count=\"0\""), "{summary}");
        assert!(summary.contains("data-suppressed=\"1\"") && summary.contains("data-resolved=\"1\""));
    }

    #[test]
    fn evidence_is_flattened_to_text() {
        let evidence =
            serde_json::json!({"a": "text", "b": null, "c": [1, "x"], "d": {"k": [1, 2], "m": "n"}, "e": []});
        let lines: Vec<(String, String)> =
            evidence_lines(&evidence).into_iter().map(|l| (l.key.to_string(), l.value)).collect();
        let expected = [
            ("a", "text"),
            ("b", "none"),
            ("c", "1, x"),
            ("d", "{\"k\": [1, 2], \"m\": \"n\"}"),
            ("e", "none"),
        ];
        assert_eq!(lines, expected.map(|(k, v)| (k.to_string(), v.to_string())));
        let long = serde_json::json!({"policy": "é".repeat(EVIDENCE_VALUE_MAX_CHARS + 10)});
        let line = &evidence_lines(&long)[0].value;
        assert!(line.ends_with("… (10 more characters in findings.json)"), "{line}");
        assert_eq!(anchor("check", "Weird <id>"), "check-weird--id-");
    }
}
