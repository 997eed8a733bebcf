//! The mail digest: a short HTML and plain-text summary of a run that leads with what is new
//! (critical and high first) and what was fixed, then what is still open and which accounts
//! were not audited. Built from the [`RunReport`] alone, like every renderer.
//!
//! `templates/digest.html` is registered under a `.html` name, so tera autoescapes every IAM
//! name in it; it uses inline styles and tables only (Outlook and Gmail drop `<style>` and
//! scripts) and loads nothing remote. `templates/digest.txt` is registered without `.html`:
//! plain text must not be HTML-escaped. Not here: the MIME message and sending (`deliver::mail`).

use super::{ReportError, RunReport};
use crate::access::roster::AdminChangeKind;
use crate::audit::CoverageStatus;
use crate::findings::{Change, Finding, Severity, Status};
use serde::Serialize;
use std::sync::OnceLock;
use tera::{Context, Tera};

const HTML_NAME: &str = "digest.html";
const TEXT_NAME: &str = "digest.txt";
const HTML_TEMPLATE: &str = include_str!("../../templates/digest.html");
const TEXT_TEMPLATE: &str = include_str!("../../templates/digest.txt");

/// Rows per table; the attached report and CSV hold every finding.
pub const ROWS_MAX: usize = 100;

/// The two bodies of the digest and its subject.
#[derive(Debug, Clone)]
pub struct Digest {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What the mail around the digest wants said in it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DigestNotes {
    /// Who this digest is for, when it is not the whole organization (an account's owners).
    pub scope: Option<String>,
    /// Where the run's files are filed.
    pub archived_at: String,
    /// Attachments: (file name, whether attached, a note when not).
    pub attachments: Vec<AttachmentNote>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentNote {
    pub name: String,
    pub attached: bool,
    pub note: Option<String>,
}

#[derive(Serialize)]
struct View<'a> {
    title: &'a str,
    notes: &'a DigestNotes,
    run_id: &'a str,
    as_of: &'a str,
    date: &'a str,
    previous_run: Option<&'a str>,
    counts: Counts,
    new_by_severity: Vec<SeverityCount>,
    open_by_severity: Vec<SeverityCount>,
    new_rows: Vec<Row<'a>>,
    new_more: usize,
    fixed_rows: Vec<Row<'a>>,
    fixed_more: usize,
    carried_rows: Vec<Row<'a>>,
    carried_more: usize,
    not_audited: Vec<AccountGap<'a>>,
    /// "… gained admin on …" sentences, then "lost", capped at [`ROWS_MAX`] each.
    admin_gained: Vec<String>,
    admin_lost: Vec<String>,
    admin_more: usize,
    /// Why Identity Center was not collected, when it was not.
    identity_center_gap: Option<String>,
    /// When the snapshot was collected (UTC date), or "unknown".
    evidence_date: String,
    /// Why the data is stale, when it is.
    stale_warning: Option<String>,
    /// Suppression rules that lapsed, then those expiring soon, one sentence each.
    risks_lapsed: Vec<String>,
    risks_expiring: Vec<String>,
    risks_expiring_within_days: i64,
    /// Rules in the config, and how many covered nothing this run.
    rules_total: usize,
    rules_unmatched: usize,
}

#[derive(Serialize)]
struct Counts {
    new: usize,
    new_critical: usize,
    new_high: usize,
    open: usize,
    /// Open findings since the previous run: `−5`, `+3`, `±0` (when the trend holds that run).
    open_change: Option<String>,
    resolved: usize,
    carried_over: usize,
    suppressed: usize,
    accounts_audited: usize,
    accounts_failed: usize,
}

#[derive(Serialize)]
struct SeverityCount {
    severity: &'static str,
    count: usize,
    color: &'static str,
}

#[derive(Serialize)]
struct Row<'a> {
    severity: &'static str,
    color: &'static str,
    check: &'a str,
    account_id: &'a str,
    account_name: &'a str,
    resource_name: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct AccountGap<'a> {
    account_id: &'a str,
    account_name: &'a str,
    error: &'a str,
    /// What to do, from the collector (a passing fault, a missing role …).
    hint: Option<&'a str>,
}

/// The report's severity colours (templates/style.css), darkened where needed for contrast
/// as text on white (at least 4.5:1), so that a severity looks the same in mail and report.
fn color(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#8b1538",
        Severity::High => "#c0392b",
        Severity::Medium => "#a65a00",
        Severity::Low => "#8a6a00",
        Severity::Info => "#5b7083",
    }
}

/// The date of the run (UTC), as the subject shows it.
fn run_date(report: &RunReport) -> &str {
    report.run.started_at.get(..10).unwrap_or(&report.run.started_at)
}

/// The date the evidence was collected (UTC), as the subject shows it.
fn evidence_date(report: &RunReport) -> &str {
    report.provenance.evidence_date.as_deref().unwrap_or("unknown")
}

/// The sentences of the rules with this status.
fn rule_sentences(report: &RunReport, status: super::accepted_risks::RuleStatus) -> Vec<String> {
    report.suppression_rules.iter().filter(|r| r.status == status).map(|r| r.sentence()).collect()
}

fn counts(report: &RunReport) -> Counts {
    let new_of = |severity: Severity| report.counts.new_by_severity.get(&severity).copied().unwrap_or(0);
    Counts {
        new: report.summary.new,
        new_critical: new_of(Severity::Critical),
        new_high: new_of(Severity::High),
        open: report.summary.open,
        open_change: report.trend.open_change(report).map(super::trend::signed),
        resolved: report.summary.resolved,
        carried_over: report.summary.carried_over,
        suppressed: report.summary.suppressed,
        accounts_audited: report.run.stats.accounts_audited,
        accounts_failed: report.run.stats.accounts_failed,
    }
}

fn is_new(finding: &Finding) -> bool {
    finding.change == Change::New && finding.status == Status::Open
}

/// The subject: `template` with its placeholders (config::SUBJECT_PLACEHOLDERS) filled in.
pub fn subject(report: &RunReport, template: &str) -> String {
    let c = counts(report);
    let values = [
        ("new_critical", c.new_critical.to_string()),
        ("new_high", c.new_high.to_string()),
        ("new", c.new.to_string()),
        ("open", c.open.to_string()),
        ("resolved", c.resolved.to_string()),
        ("date", run_date(report).to_string()),
        ("accounts_failed", c.accounts_failed.to_string()),
        ("admin_gained", report.summary.admin_gained.to_string()),
        ("admin_lost", report.summary.admin_lost.to_string()),
        ("carried_over", c.carried_over.to_string()),
        ("evidence_date", evidence_date(report).to_string()),
    ];
    // Someone gaining admin is the line an auditor must not miss: the subject leads with it
    // unless the template places it itself.
    let mut subject = if report.summary.admin_gained > 0 && !template.contains("{admin_gained}") {
        format!("{} gained admin · {template}", report.summary.admin_gained)
    } else {
        template.to_string()
    };
    // The subject always says how old the evidence is, as the default template does.
    if !template.contains("{evidence_date}") {
        subject.push_str(crate::config::EVIDENCE_DATE_SUFFIX);
    }
    // Findings that could not be re-checked must not look fixed: the subject says so too.
    if c.carried_over > 0 && !template.contains("{carried_over}") {
        subject.push_str(&format!(" · {} not re-checked", c.carried_over));
    }
    for (name, value) in values {
        subject = subject.replace(&format!("{{{name}}}"), &value);
    }
    // A header line must stay one line, whatever an IAM name or template holds.
    subject.replace(['\r', '\n'], " ")
}

/// Findings sorted worst first (then account, check, resource), capped at [`ROWS_MAX`];
/// `total` counts them all (a streamed run holds only the first of each check and severity,
/// in account and resource order, which always include these).
fn rows<'a>(findings: impl Iterator<Item = &'a Finding>, total: usize) -> (Vec<Row<'a>>, usize) {
    let mut sorted: Vec<&Finding> = findings.collect();
    sorted.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.account_id.cmp(&b.account_id))
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.resource_arn.cmp(&b.resource_arn))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    let more = total.saturating_sub(sorted.len().min(ROWS_MAX));
    let rows = sorted
        .into_iter()
        .take(ROWS_MAX)
        .map(|f| Row {
            severity: f.severity.as_str(),
            color: color(f.severity),
            check: &f.check,
            account_id: f.account_id.as_str(),
            account_name: &f.account_name,
            resource_name: &f.resource_name,
            title: &f.title,
        })
        .collect();
    (rows, more)
}

fn admin_sentences(report: &RunReport, kind: AdminChangeKind) -> Vec<String> {
    report.admin_changes.iter().filter(|c| c.change == kind).take(ROWS_MAX).map(|c| c.sentence()).collect()
}

pub fn render(
    report: &RunReport,
    title: &str,
    notes: &DigestNotes,
    subject_template: &str,
) -> Result<Digest, ReportError> {
    let (new_rows, new_more) = rows(report.findings.iter().filter(|f| is_new(f)), report.counts.new);
    let (fixed_rows, fixed_more) = rows(report.resolved.iter(), report.summary.resolved);
    let (carried_rows, carried_more) = rows(report.carried_over.iter(), report.summary.carried_over);
    let new_by_severity = Severity::ALL
        .iter()
        .map(|&s| SeverityCount {
            severity: s.as_str(),
            count: report.counts.new_by_severity.get(&s).copied().unwrap_or(0),
            color: color(s),
        })
        .collect();
    let open_by_severity = Severity::ALL
        .iter()
        .map(|&s| SeverityCount {
            severity: s.as_str(),
            count: report.summary.by_severity.get(&s).copied().unwrap_or(0),
            color: color(s),
        })
        .collect();
    let not_audited = report
        .coverage
        .iter()
        .filter(|c| c.status == CoverageStatus::Failed)
        .map(|c| AccountGap {
            account_id: &c.account_id,
            account_name: &c.account_name,
            error: c.error.as_deref().unwrap_or("not audited"),
            hint: c.hint.as_deref(),
        })
        .collect();
    let admin_gained = admin_sentences(report, AdminChangeKind::Gained);
    let admin_lost = admin_sentences(report, AdminChangeKind::Lost);
    let view = View {
        title,
        notes,
        run_id: &report.run.id,
        as_of: &report.run.as_of,
        date: run_date(report),
        previous_run: report.run.previous_run.as_deref(),
        counts: counts(report),
        new_by_severity,
        open_by_severity,
        new_rows,
        new_more,
        fixed_rows,
        fixed_more,
        carried_rows,
        carried_more,
        not_audited,
        admin_more: report.admin_changes.len() - admin_gained.len() - admin_lost.len(),
        admin_gained,
        admin_lost,
        identity_center_gap: (!report.identity_center.collected()).then(|| report.identity_center.sentence()),
        evidence_date: evidence_date(report).to_string(),
        stale_warning: report.provenance.stale_warning(),
        risks_lapsed: rule_sentences(report, super::accepted_risks::RuleStatus::Lapsed),
        risks_expiring: rule_sentences(report, super::accepted_risks::RuleStatus::ExpiringSoon),
        risks_expiring_within_days: super::accepted_risks::EXPIRING_WITHIN_DAYS,
        rules_total: report.suppression_rules.len(),
        rules_unmatched: report.suppression_rules.iter().filter(|r| r.findings == 0).count(),
    };
    let tera = engine()?;
    let context = Context::from_serialize(&view).map_err(|e| render_error(&e))?;
    Ok(Digest {
        subject: subject(report, subject_template),
        html: tera.render(HTML_NAME, &context).map_err(|e| render_error(&e))?,
        text: tera.render(TEXT_NAME, &context).map_err(|e| render_error(&e))?,
    })
}

fn engine() -> Result<&'static Tera, ReportError> {
    static ENGINE: OnceLock<Result<Tera, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut tera = Tera::default();
            tera.add_raw_templates([(HTML_NAME, HTML_TEMPLATE), (TEXT_NAME, TEXT_TEMPLATE)])
                .map_err(|e| super::html::error_chain(&e))?;
            Ok(tera)
        })
        .as_ref()
        .map_err(|message| ReportError::Render { what: "digest", message: message.clone() })
}

fn render_error(error: &tera::Error) -> ReportError {
    ReportError::Render { what: "digest", message: super::html::error_chain(error) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_SUBJECT;
    use crate::report::html::tests::{finding, hostile_report, IMG, SCRIPT};

    fn notes() -> DigestNotes {
        DigestNotes {
            scope: None,
            archived_at: "/archive/20240601T000000Z".into(),
            attachments: vec![
                AttachmentNote { name: "report.html".into(), attached: true, note: None },
                AttachmentNote {
                    name: "findings.csv".into(),
                    attached: false,
                    note: Some(
                        "over the cap; the archived copy is /archive/20240601T000000Z/findings.csv".into(),
                    ),
                },
            ],
        }
    }

    fn render_hostile() -> Digest {
        render(&hostile_report(), &format!("IAM audit {SCRIPT}"), &notes(), DEFAULT_SUBJECT).unwrap()
    }

    #[test]
    fn the_subject_counts_what_is_new_open_and_fixed() {
        let report = hostile_report();
        // New and open: the admin (high) and four stale keys (medium); one fixed.
        assert_eq!(
            subject(&report, DEFAULT_SUBJECT),
            "[IAM audit] 0 new critical · 5 open · 1 fixed — 2024-06-01 · evidence of 2024-06-01"
        );
        assert!(DEFAULT_SUBJECT.ends_with(crate::config::EVIDENCE_DATE_SUFFIX), "the default places it so");
        assert_eq!(
            subject(&report, "{new} new ({new_high} high) {accounts_failed} failed"),
            "5 new (1 high) 1 failed · evidence of 2024-06-01",
            "a template without {{evidence_date}} gets it appended"
        );
        assert_eq!(
            subject(&report, "{evidence_date}: {new} new"),
            "2024-06-01: 5 new",
            "placed by the template"
        );
        assert_eq!(
            subject(&report, "a\r\nBcc: x@evil.example {new}"),
            "a  Bcc: x@evil.example 5 · evidence of 2024-06-01",
            "one line"
        );
    }

    #[test]
    fn someone_gaining_admin_leads_the_subject_and_both_bodies() {
        use crate::access::roster::{AdminChange, PrincipalKind};
        let change = |kind: AdminChangeKind, name: &str| AdminChange {
            change: kind,
            account_id: "444455556666".into(),
            account_name: "prod".into(),
            principal_kind: PrincipalKind::Person,
            principal_id: format!("id-{name}"),
            name: name.into(),
            display_name: "D".into(),
            email: String::new(),
            access: vec!["permission set Admin".into()],
            how: String::new(),
            conditional: false,
        };
        let report = hostile_report().with_access(
            Vec::new(),
            vec![change(AdminChangeKind::Gained, "diego"), change(AdminChangeKind::Lost, "emma")],
            crate::access::IdentityCenterSummary::of(None),
        );
        assert_eq!(
            subject(&report, DEFAULT_SUBJECT),
            "1 gained admin · [IAM audit] 0 new critical · 5 open · 1 fixed — 2024-06-01 · evidence of 2024-06-01"
        );
        assert_eq!(
            subject(&report, "{admin_gained} up, {admin_lost} down {evidence_date}"),
            "1 up, 1 down 2024-06-01",
            "placed by the template"
        );
        let digest = render(&report, "t", &notes(), DEFAULT_SUBJECT).unwrap();
        let gained = "diego (D) gained admin on 444455556666 (prod) through permission set Admin";
        let (at, new) =
            (digest.text.find(gained).expect("in the text"), digest.text.find("NEW SINCE").unwrap());
        assert!(at < new, "before what is new");
        assert!(digest.text.contains("emma (D) lost admin on"));
        assert!(digest.html.contains(gained));
        assert!(digest.text.contains("Identity Center not collected"), "and what it could not see");
        // Nobody gained: the subject is the template's.
        let quiet = hostile_report();
        assert!(!subject(&quiet, DEFAULT_SUBJECT).contains("gained"));
        assert!(!render(&quiet, "t", &notes(), DEFAULT_SUBJECT)
            .unwrap()
            .text
            .contains("ADMIN ACCESS CHANGED"));
    }

    #[test]
    fn the_subject_carries_the_collection_date_not_the_run_date_and_stale_data_is_said() {
        use crate::report::provenance::{Provenance, Sources};
        let mut report = hostile_report();
        report.provenance = Provenance::new(&Sources {
            organization_id: None,
            collected_by: None,
            collected_at: Some("2021-11-30T06:00:00Z".parse().unwrap()),
            manifest_sha256: None,
            as_of: "2021-11-30T06:00:00Z".parse().unwrap(),
            as_of_given: false,
            started_at: "2024-06-01T00:00:01Z".parse().unwrap(),
            max_data_age_days: 2,
            filed_at: None,
        });
        assert!(subject(&report, DEFAULT_SUBJECT).ends_with("— 2024-06-01 · evidence of 2021-11-30"));
        let digest = render(&report, "t", &notes(), DEFAULT_SUBJECT).unwrap();
        assert!(digest.text.contains("Evidence collected 2021-11-30."));
        let stale = digest.text.find("STALE EVIDENCE: The evidence is 913 days old").expect("in the text");
        assert!(stale < digest.text.find("NEW SINCE").unwrap(), "before what is new");
        assert!(digest.html.contains("Stale evidence.</b> The evidence is 913 days old"));
        // Fresh data: no warning in either part.
        let fresh = render(&hostile_report(), "t", &notes(), DEFAULT_SUBJECT).unwrap();
        assert!(!fresh.text.contains("STALE") && !fresh.html.contains("Stale evidence"));
        // Unknown collection time: the subject says so rather than guess.
        report.provenance = Provenance::new(&Sources { collected_at: None, ..sources_of(&report) });
        assert!(subject(&report, DEFAULT_SUBJECT).ends_with("· evidence of unknown"));
    }

    fn sources_of(report: &RunReport) -> crate::report::provenance::Sources<'static> {
        crate::report::provenance::Sources {
            organization_id: None,
            collected_by: None,
            collected_at: None,
            manifest_sha256: None,
            as_of: report.run.as_of.parse().unwrap(),
            as_of_given: true,
            started_at: report.run.started_at.parse().unwrap(),
            max_data_age_days: 2,
            filed_at: None,
        }
    }

    #[test]
    fn lapsed_and_expiring_rules_are_listed_in_both_parts_and_active_ones_are_not() {
        let digest = render_hostile();
        let at = digest.text.find("ACCEPTED RISKS THAT LAPSED OR EXPIRE WITHIN 30 DAYS").expect("a section");
        let section = &digest.text[at..digest.text.find("NEW SINCE").unwrap()];
        assert!(
            section.contains("- Rule 2 · admin-access on arn:aws:iam::*:user/* (owner vendor team) — vendor contract: lapsed on 2024-05-31: covers 1 finding, open again"),
            "{section}"
        );
        assert!(section.contains("- Rule 3 · wide-trust on * (ticket MIG-7) — migration window: expires 2024-07-01T00:00:00Z (in 30 days)"), "{section}");
        assert!(
            !section.contains("Rule 1 ") && !section.contains("Rule 4 "),
            "active rules are not listed: {section}"
        );
        assert!(digest
            .text
            .contains("suppressed: 1 (under 4 suppression rules; 2 matched nothing this run)"));
        assert!(digest.html.contains("<b>Lapsed.</b> Rule 2 · admin-access"));
        assert!(digest.html.contains("<b>Expiring.</b> Rule 3 · wide-trust"));
        let mut calm = hostile_report();
        calm.suppression_rules.retain(|r| !r.needs_attention());
        let digest = render(&calm, "t", &notes(), DEFAULT_SUBJECT).unwrap();
        assert!(
            !digest.text.contains("ACCEPTED RISKS") && !digest.html.contains("Accepted risks that lapsed")
        );
    }

    #[test]
    fn hostile_names_are_escaped_in_html_and_plain_in_text() {
        let digest = render_hostile();
        for raw in [SCRIPT, IMG] {
            assert!(!digest.html.contains(raw), "{raw} unescaped in the HTML part");
        }
        assert!(digest.html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
        assert!(digest.text.contains(SCRIPT), "the text part is not HTML-escaped");
        assert!(!digest.text.contains("&lt;"), "no HTML entities in the text part");
    }

    #[test]
    fn a_failed_accounts_hint_says_what_to_do_in_both_parts() {
        let mut report = hostile_report();
        report.coverage[1].hint = Some(format!("throttled 3 times: run again later {SCRIPT}"));
        let digest = render(&report, "IAM audit", &notes(), DEFAULT_SUBJECT).unwrap();
        assert!(digest.text.contains(&format!("What to do: throttled 3 times: run again later {SCRIPT}")));
        assert!(digest.html.contains("What to do:</b> throttled 3 times: run again later &lt;script&gt;"));
    }

    #[test]
    fn the_html_part_is_mail_safe() {
        let html = render_hostile().html.to_lowercase();
        for banned in ["<script", "<style", "<link", "<img", "src=", "url(", "javascript:"] {
            assert!(!html.contains(banned), "the digest's HTML contains {banned}");
        }
        assert!(html.contains("<table") && html.contains("style=\""), "tables with inline styles");
    }

    #[test]
    fn new_findings_lead_worst_first_then_fixed_ones() {
        let mut report = hostile_report();
        report.findings.push(finding("root-mfa-disabled", Severity::Critical, "root"));
        let report = RunReport::new(
            report.run.clone(),
            report.coverage.clone(),
            report.findings.clone(),
            report.resolved.clone(),
            Vec::new(),
        );
        let digest = render(&report, "IAM audit", &notes(), DEFAULT_SUBJECT).unwrap();
        let new_at = digest.text.find("NEW SINCE THE LAST RUN").unwrap();
        let fixed_at = digest.text.find("FIXED SINCE THE LAST RUN").unwrap();
        let open_at = digest.text.find("OPEN FINDINGS").unwrap();
        assert!(new_at < fixed_at && fixed_at < open_at, "new, then fixed, then open");
        let rows: Vec<&str> =
            digest.text[new_at..fixed_at].lines().filter(|l| l.starts_with("- [")).collect();
        assert!(rows[0].starts_with("- [critical]") && rows[1].starts_with("- [high]"), "{rows:?}");
        assert!(rows[2..].iter().all(|r| r.starts_with("- [medium]")), "{rows:?}");
        assert!(digest.text[fixed_at..open_at].contains("old-key-user"), "the fixed finding is listed");
        assert!(digest.text.contains("ACCOUNTS NOT AUDITED"), "the failed account is listed");
    }

    #[test]
    fn attachments_left_out_are_said_with_the_archived_copy() {
        let digest = render_hostile();
        assert!(digest.text.contains("Attached: report.html."));
        assert!(digest
            .text
            .contains("Not attached: findings.csv — over the cap; the archived copy is /archive/20240601T000000Z/findings.csv"));
        assert!(digest.html.contains("Not attached: findings.csv"));
    }

    #[test]
    fn long_lists_are_capped_with_a_note() {
        let report = hostile_report();
        let many: Vec<Finding> = (0..ROWS_MAX + 7)
            .map(|i| finding("stale-access-key", Severity::Medium, &format!("u{i}")))
            .collect();
        let report =
            RunReport::new(report.run.clone(), report.coverage.clone(), many, Vec::new(), Vec::new());
        let digest = render(&report, "IAM audit", &notes(), DEFAULT_SUBJECT).unwrap();
        assert_eq!(digest.text.lines().filter(|l| l.starts_with("- [")).count(), ROWS_MAX);
        assert!(digest.text.contains("… and 7 more new finding(s)"));
        assert!(digest.text.contains("Nothing fixed."));
    }
}
