//! summary.json, reading the archive's earlier runs (with and without it), and the trend's
//! chart: its points and scales, the one-run case, a run left out.

use super::*;
use crate::deliver::archive::LocalArchive;
use crate::findings::Status;
use crate::report::html::tests::{finding, hostile_report, run_info, SCRIPT};
use crate::report::RunReport;

/// A resolved finding first seen `days` days before 2024-06-01 (the fixtures' as-of).
fn resolved(name: &str, days: i64) -> Finding {
    let mut finding = finding("stale-access-key", Severity::Medium, name);
    let first_seen = "2024-06-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() - chrono::Duration::days(days);
    finding.first_seen = first_seen.to_rfc3339();
    finding
}

/// A run of the fixtures' two accounts: two open findings (critical, medium), one
/// suppressed, and the findings resolved since the previous run.
fn report(resolved: Vec<Finding>) -> RunReport {
    let mut suppressed = finding("console-without-mfa", Severity::High, "break-glass");
    suppressed.status = Status::Suppressed;
    let coverage = vec![
        crate::report::html::tests::coverage(
            "111122223333",
            "prod",
            crate::audit::CoverageStatus::Audited,
            None,
        ),
        crate::report::html::tests::coverage(
            "444455556666",
            "sandbox",
            crate::audit::CoverageStatus::Failed,
            Some("AccessDenied"),
        ),
    ];
    let mut info = run_info();
    info.previous_run = Some("20240525T000000Z".into());
    RunReport::new(
        info,
        coverage,
        vec![
            finding("root-access-keys", Severity::Critical, "root"),
            finding("stale-access-key", Severity::Medium, "alice"),
            suppressed,
        ],
        resolved,
        Vec::new(),
    )
}

/// An earlier run's summary: `open` split as given, critical first.
fn earlier(run: &str, as_of: &str, open: [usize; 5], new: usize, resolved: usize) -> RunSummary {
    RunSummary {
        schema: SCHEMA.into(),
        run_id: run.into(),
        as_of: as_of.into(),
        evidence_collected_at: None,
        previous_run: None,
        open: open.iter().sum(),
        open_by_severity: Severity::ALL.iter().copied().zip(open).collect(),
        suppressed: 0,
        new,
        resolved,
        carried_over: 0,
        accounts: Accounts { audited: 2, failed: 0, skipped: 0 },
        time_to_fix: Some(TimeToFix::default()),
    }
}

#[test]
fn time_to_fix_is_the_median_mean_and_longest_days_from_first_seen() {
    let at = "2024-06-01T00:00:00Z".parse().unwrap();
    let odd = FixTimes::of(&[resolved("a", 3), resolved("b", 1), resolved("c", 20)], at).summary();
    assert_eq!(
        odd,
        TimeToFix { measured: 3, median_days: Some(3.0), mean_days: Some(8.0), longest_days: Some(20) }
    );
    let even = FixTimes::of(&[resolved("a", 2), resolved("b", 5), resolved("c", 5), resolved("d", 7)], at);
    let even = even.summary();
    assert_eq!((even.median_days, even.mean_days, even.longest_days), (Some(5.0), Some(4.8), Some(7)));
    let two = FixTimes::of(&[resolved("a", 2), resolved("b", 5)], at).summary();
    assert_eq!(two.median_days, Some(3.5), "the mean of the two middle ones");
    // A first_seen that is not an instant (another tool's file) is not measured.
    let mut odd_one = resolved("x", 4);
    odd_one.first_seen = "last week".into();
    let partial = FixTimes::of(&[odd_one, resolved("y", 9)], at).summary();
    assert_eq!((partial.measured, partial.median_days), (1, Some(9.0)));
    assert_eq!(FixTimes::default().summary(), TimeToFix::default(), "nothing resolved: no figures");
}

#[test]
fn summary_json_holds_the_runs_counts_and_reads_back() {
    let report = report(vec![resolved("carol", 7), resolved("dave", 9)]);
    let summary = RunSummary::of(&report);
    assert_eq!(summary.run_id, "20240601T000000Z");
    assert_eq!(summary.as_of, "2024-06-01T00:00:00Z");
    assert_eq!(summary.previous_run.as_deref(), Some("20240525T000000Z"));
    assert_eq!((summary.open, summary.suppressed, summary.new, summary.resolved), (2, 1, 2, 2));
    assert_eq!(summary.open_of(Severity::Critical), 1);
    assert_eq!(summary.open_of(Severity::Medium), 1);
    assert_eq!(summary.open_by_severity.len(), 5, "every severity, zero included");
    assert_eq!(summary.accounts, Accounts { audited: 1, failed: 1, skipped: 0 });
    let fix = summary.time_to_fix.unwrap();
    assert_eq!((fix.measured, fix.median_days, fix.longest_days), (2, Some(8.0), Some(9)));

    let mut bytes = Vec::new();
    write(&report, &mut bytes).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json["schema"], "iam-auditor/summary/v1");
    assert_eq!(json["open_by_severity"]["critical"], 1);
    assert_eq!(json["accounts"]["failed"], 1);
    assert_eq!(json["time_to_fix"]["median_days"], 8.0);
    assert_eq!(read_summary(bytes.as_slice()).unwrap(), summary);
}

#[test]
fn a_summary_that_is_not_this_tools_is_refused() {
    let mut json: serde_json::Value = serde_json::to_value(RunSummary::of(&report(vec![]))).unwrap();
    json["schema"] = "someone/else/v9".into();
    let err = read_summary(json.to_string().as_bytes()).unwrap_err();
    assert!(err.contains("someone/else/v9"), "{err}");
    assert!(read_summary(&b"{\"schema\": \"iam-auditor/summary/v1\""[..]).is_err(), "cut short");
    assert!(read_summary(&b"not json"[..]).is_err());
    // More than a summary holds is not read to its end.
    let huge = format!("{{\"schema\": \"{}\"}}", "x".repeat(1 << 20));
    assert!(read_summary(huge.as_bytes()).is_err());
}

#[test]
fn an_older_runs_findings_json_is_read_only_as_far_as_its_summary() {
    // As findings.json lays it out: run, provenance, coverage, summary, then the findings. The
    // findings here are cut off mid-way: reading must stop before them.
    let text = r#"{"schema": "iam-auditor/findings/v1",
        "run": {"id": "20240501T000000Z", "as_of": "2024-05-01T00:00:00Z", "previous_run": "20240424T000000Z",
                "stats": {"accounts_audited": 3, "accounts_failed": 1, "accounts_skipped": 2}},
        "provenance": {"snapshot_collected_at": "2024-04-30T22:00:00Z"},
        "coverage": [{"account_id": "111122223333", "status": "audited"}],
        "summary": {"by_severity": {"critical": 1, "high": 4, "medium": 0, "low": 2, "info": 0},
                    "by_check": {"admin-access": 1}, "open": 7, "suppressed": 3, "new": 2, "resolved": 5},
        "findings": [{"fingerprint": "#;
    let summary = from_findings_json(text.as_bytes()).unwrap();
    assert_eq!(summary.run_id, "20240501T000000Z");
    assert_eq!(summary.previous_run.as_deref(), Some("20240424T000000Z"));
    assert_eq!(summary.evidence_collected_at.as_deref(), Some("2024-04-30T22:00:00Z"));
    assert_eq!((summary.open, summary.suppressed, summary.new, summary.resolved), (7, 3, 2, 5));
    assert_eq!(summary.open_of(Severity::High), 4);
    assert_eq!(summary.accounts, Accounts { audited: 3, failed: 1, skipped: 2 });
    assert_eq!(summary.time_to_fix, None, "not known for an older run");

    // An early findings.json without `summary.open`: the sum of the severities.
    let early = r#"{"run": {"id": "r", "as_of": "2024-01-01T00:00:00Z"},
        "summary": {"by_severity": {"high": 2, "low": 1}, "new": 3, "resolved": 0}, "findings": []}"#;
    let summary = from_findings_json(early.as_bytes()).unwrap();
    assert_eq!((summary.open, summary.open_of(Severity::Critical)), (3, 0));

    // This tool's own findings.json, written whole, reads back as its summary.json says.
    let report = report(vec![resolved("carol", 7)]);
    let mut bytes = Vec::new();
    crate::report::json::write(&report, &mut bytes).unwrap();
    let from_head = from_findings_json(bytes.as_slice()).unwrap();
    assert_eq!(from_head, RunSummary { time_to_fix: None, ..RunSummary::of(&report) });

    for broken in [
        &br#"{"run": {"id": "r", "as_of": "t"}, "findings": []}"#[..],
        br#"{"summary": {"open": 1}}"#,
        br#"{"schema": "other/v1", "run": {"id": "r"}, "summary": {}}"#,
        b"[1, 2]",
        b"",
    ] {
        assert!(from_findings_json(broken).is_err(), "{}", String::from_utf8_lossy(broken));
    }
}

/// Files a run into `archive` with the given files (name, bytes); `.gz` names are compressed.
fn file_run(archive: &LocalArchive, id: &str, files: &[(&str, Vec<u8>)]) {
    let run = archive.begin(id).unwrap();
    for (name, bytes) in files {
        let bytes = match name.strip_suffix(".gz") {
            Some(_) => {
                use std::io::Write;
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                encoder.write_all(bytes).unwrap();
                encoder.finish().unwrap()
            }
            None => bytes.clone(),
        };
        std::fs::write(run.dir().join(name), bytes).unwrap();
    }
    run.commit(false).unwrap();
}

fn summary_bytes(summary: &RunSummary) -> Vec<u8> {
    serde_json::to_vec_pretty(summary).unwrap()
}

#[test]
fn the_archives_newest_runs_are_read_and_a_run_without_a_readable_summary_is_left_out() {
    let root = tempfile::tempdir().unwrap();
    let archive = LocalArchive::open(root.path());
    let legacy = br#"{"schema": "iam-auditor/findings/v1", "run": {"id": "20240501T000000Z", "as_of": "2024-05-01T00:00:00Z"},
        "summary": {"by_severity": {"high": 6}, "open": 6, "new": 6, "resolved": 0}, "findings": []}"#;
    file_run(&archive, "20240501T000000Z", &[("findings.json.gz", legacy.to_vec())]);
    file_run(&archive, "20240508T000000Z", &[(FILE, b"{\"schema\": ".to_vec())]);
    file_run(&archive, "20240515T000000Z", &[("report.html", b"<html></html>".to_vec())]);
    let kept = earlier("20240522T000000Z", "2024-05-22T00:00:00Z", [1, 2, 0, 0, 0], 0, 3);
    file_run(&archive, "20240522T000000Z", &[(FILE, summary_bytes(&kept))]);
    // A second run filed in the same second: named by its folder.
    file_run(&archive, "20240522T000000Z", &[(FILE, summary_bytes(&kept))]);

    let history = archive.history(10).unwrap();
    let ids: Vec<&str> = history.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["20240501T000000Z", "20240522T000000Z", "20240522T000000Z-2"], "oldest first");
    assert_eq!(history.runs[0].open, 6, "read from the older run's findings.json.gz");
    assert_eq!(history.runs[0].time_to_fix, None);
    assert_eq!(history.runs[1], kept);
    let left_out: Vec<&str> = history.left_out.iter().map(|l| l.run.as_str()).collect();
    assert_eq!(left_out, ["20240508T000000Z", "20240515T000000Z"]);
    let corrupt = &history.left_out[0].why;
    let named = root.path().join("20240508T000000Z").join(FILE).display().to_string();
    assert!(corrupt.starts_with(&named) && corrupt.contains("cannot be read"), "names the file: {corrupt}");
    assert!(history.left_out[1].why.contains("neither summary.json nor findings.json"));
    assert!(history.archive);

    let newest = archive.history(2).unwrap();
    let ids: Vec<&str> = newest.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["20240522T000000Z", "20240522T000000Z-2"], "only the newest runs are read");
    assert!(archive.history(0).unwrap().runs.is_empty());
    let empty = LocalArchive::open(&root.path().join("nothing-yet")).history(5).unwrap();
    assert!(empty.runs.is_empty() && empty.left_out.is_empty());
}

#[test]
fn the_axis_ends_on_a_round_number_at_or_above_the_largest_value() {
    let tops: Vec<usize> = [0, 1, 2, 3, 7, 9, 10, 11, 14, 16, 31, 99, 120, 151, 4001].map(axis_max).to_vec();
    assert_eq!(tops, [1, 1, 2, 3, 8, 10, 10, 15, 15, 20, 40, 100, 150, 200, 5000]);
    assert_eq!(scaled(5, 10, 140.0), 70.0);
    assert_eq!(scaled(1, 3, 100.0), 33.3);
    assert_eq!(scaled(0, 0, 100.0), 0.0);
}

#[test]
fn the_chart_stacks_each_runs_open_findings_and_draws_new_up_and_resolved_down() {
    let history = History {
        runs: vec![earlier("20240525T000000Z", "2024-05-25T00:00:00Z", [2, 3, 5, 0, 0], 10, 0)],
        left_out: Vec::new(),
        archive: true,
    };
    let now = earlier("20240601T000000Z", "2024-06-01T00:00:00Z", [1, 0, 3, 0, 0], 1, 7);
    let view = view(&history, now);
    assert_eq!(view.runs, 2);
    let chart = view.chart.expect("two runs: a chart");
    // Open: 10 at most → the axis ends at 10; new/resolved: 10 at most → 10.
    let labels: Vec<(&str, f64)> = chart.ticks.iter().map(|t| (t.label.as_str(), t.y)).collect();
    assert!(labels.contains(&("10", OPEN_TOP)) && labels.contains(&("5", 104.0)), "{labels:?}");
    assert!(labels.contains(&("10", FLOW_TOP)) && labels.contains(&("10", FLOW_BOTTOM)), "{labels:?}");
    assert_eq!(chart.columns.len(), 2);
    let (first, last) = (&chart.columns[0], &chart.columns[1]);
    // 548 wide in two slots of 274: bars of 36 centred at 181 and 455.
    assert_eq!((first.center, first.width, first.x), (181.0, 36.0, 163.0));
    assert_eq!(last.center, 455.0);
    let stack: Vec<(&str, f64, f64)> = first.segments.iter().map(|s| (s.class, s.y, s.height)).collect();
    assert_eq!(
        stack,
        [("bar-critical", 146.0, 28.0), ("bar-high", 104.0, 42.0), ("bar-medium", 34.0, 70.0)],
        "critical at the base, each severity's share of 140 units"
    );
    assert_eq!(first.segments[0].y + first.segments[0].height, OPEN_BOTTOM);
    assert_eq!(first.total_y, OPEN_TOP - 4.0);
    let zero = chart.zero_y;
    assert_eq!(zero, 250.0);
    assert_eq!((first.new.y, first.new.height), (FLOW_TOP, 40.0), "10 new: the full half");
    assert_eq!(first.resolved.height, 0.0);
    assert_eq!((last.new.y, last.new.height), (246.0, 4.0));
    assert_eq!((last.resolved.y, last.resolved.height), (zero, 28.0), "7 resolved, downwards");
    assert_eq!(last.label.as_deref(), Some("2024-06-01"), "this run is always labelled");
    assert_eq!(last.total, Some(4));
    assert!(first.title.contains("20240525T000000Z") && first.title.contains("10 open (2 critical, 3 high"));
    // The table: newest first, this run marked.
    let rows: Vec<(&str, usize, bool)> =
        view.rows.iter().map(|r| (r.run_id.as_str(), r.open, r.current)).collect();
    assert_eq!(rows, [("20240601T000000Z", 4, true), ("20240525T000000Z", 10, false)]);
    assert_eq!(view.rows[0].fix, "none resolved");
}

#[test]
fn many_runs_label_every_few_columns_counting_back_from_this_one() {
    let runs: Vec<RunSummary> = (1..=13)
        .map(|day| {
            earlier(&format!("run{day:02}"), &format!("2024-05-{day:02}T00:00:00Z"), [0, 1, 0, 0, 0], 0, 0)
        })
        .collect();
    let history = History { runs, left_out: Vec::new(), archive: true };
    let view = view(&history, earlier("now", "2024-05-14T00:00:00Z", [0, 2, 0, 0, 0], 1, 0));
    let chart = view.chart.unwrap();
    let labelled: Vec<usize> =
        chart.columns.iter().enumerate().filter(|(_, c)| c.label.is_some()).map(|(i, _)| i).collect();
    assert_eq!(labelled, [1, 4, 7, 10, 13], "14 runs, at most 6 labels, the last always");
    assert!(chart.columns.iter().all(|c| c.x >= LEFT && c.x + c.width <= RIGHT));
    assert_eq!(view.rows.len(), 14);
}

#[test]
fn one_run_has_no_chart_and_time_to_fix_is_said_over_the_runs_that_record_it() {
    let alone = view(&History::default(), RunSummary::of(&report(vec![resolved("carol", 7)])));
    assert!(alone.chart.is_none() && alone.rows.is_empty());
    assert_eq!(alone.runs, 1);
    assert_eq!(
        alone.this_run.as_deref(),
        Some("the 1 finding resolved in this run had been open a median of 7 days (mean 7, longest 7) since first seen")
    );
    assert!(alone.over_runs.is_none(), "one run: nothing to add");

    let mut before = earlier("20240525T000000Z", "2024-05-25T00:00:00Z", [0, 0, 1, 0, 0], 1, 3);
    before.time_to_fix =
        Some(TimeToFix { measured: 3, median_days: Some(2.0), mean_days: Some(3.0), longest_days: Some(5) });
    let mut older = earlier("20240518T000000Z", "2024-05-18T00:00:00Z", [0, 0, 4, 0, 0], 4, 2);
    older.time_to_fix = None;
    let history = History { runs: vec![older, before], left_out: Vec::new(), archive: true };
    let view = view(&history, RunSummary::of(&report(vec![resolved("carol", 7)])));
    // (3 × 3 days + 1 × 7 days) / 4 findings.
    assert_eq!(
        view.over_runs.as_deref(),
        Some("over the 2 runs shown that record it, 4 findings were resolved, open a mean of 4 days")
    );
    let fix: Vec<&str> = view.rows.iter().map(|r| r.fix.as_str()).collect();
    assert_eq!(fix, ["7", "2", "not recorded"]);
}

/// The page's trend section, from its heading to the next section.
fn trend_section(html: &str) -> &str {
    let start = html.find("<section id=\"trend\">").expect("a trend section");
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

#[test]
fn the_report_draws_the_trend_without_script_and_escapes_run_names() {
    let config = crate::config::ReportConfig::default();
    let alone = crate::report::html::render(&hostile_report(), &config).unwrap();
    let section = trend_section(&alone);
    assert!(section.contains("One run so far: the trend starts with the next run."), "{section}");
    assert!(section.contains("none is configured") && !section.contains("<svg"), "{section}");

    let hostile_run = format!("20240525T000000Z{SCRIPT}");
    let history = History {
        runs: vec![
            earlier("20240518T000000Z", "2024-05-18T00:00:00Z", [0, 2, 1, 0, 0], 3, 0),
            earlier(&hostile_run, "2024-05-25T00:00:00Z", [1, 2, 1, 0, 0], 1, 0),
        ],
        left_out: vec![LeftOut {
            run: "20240511T000000Z".into(),
            why: format!("summary.json: broken {SCRIPT}"),
        }],
        archive: true,
    };
    let html = crate::report::html::render(&hostile_report().with_trend(history), &config).unwrap();
    let section = trend_section(&html);
    assert!(!section.contains(SCRIPT), "run names and reasons are escaped: {section}");
    assert!(section.contains("20240525T000000Z&lt;script&gt;"), "{section}");
    assert!(section.contains("<svg class=\"chart trend-chart\" viewBox=\"0 0 600 334\""), "{section}");
    assert_eq!(section.matches("<g class=\"trend-run\">").count(), 3);
    assert!(!section.contains("style="), "no inline style: classes only");
    assert!(section
        .contains("<tr data-run=\"20240601T000000Z\" data-open=\"5\" data-new=\"5\" data-resolved=\"1\""));
    assert!(section
        .contains("<tr data-run=\"20240518T000000Z\" data-open=\"3\" data-new=\"3\" data-resolved=\"0\""));
    assert!(section.contains("id=\"trend-left-out\"") && section.contains("20240511T000000Z"), "{section}");
    assert!(html.contains("<a href=\"#trend\">Trend</a> <span class=\"muted\">(3 runs)</span>"));
    let at = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle}"));
    assert!(at("<section id=\"changes\">") < at("<section id=\"trend\">"));
    assert!(at("<section id=\"trend\">") < at("<section id=\"summary\">"));
}

#[test]
fn the_digest_says_how_open_findings_moved_since_the_previous_run() {
    let mut report = report(vec![]);
    let digest = |report: &RunReport| {
        let notes = crate::report::digest::DigestNotes::default();
        crate::report::digest::render(report, "t", &notes, crate::config::DEFAULT_SUBJECT).unwrap()
    };
    assert!(!digest(&report).text.contains("since the last run)"), "no history: no change given");
    let previous = earlier("20240525T000000Z", "2024-05-25T00:00:00Z", [3, 1, 1, 0, 0], 0, 0);
    report = report.with_trend(History { runs: vec![previous], left_out: Vec::new(), archive: true });
    let written = digest(&report);
    assert!(written.text.contains("2 open (−3 since the last run)"), "{}", written.text);
    assert!(written.html.contains("open (−3 since the last run)"));
    assert_eq!(signed(4), "+4");
    assert_eq!(signed(0), "±0");
}

#[test]
fn runs_are_read_from_what_each_open_finds() {
    let summary = RunSummary::of(&report(vec![]));
    let bytes = summary_bytes(&summary);
    let with_summary =
        read_run(|name: &str| Ok((name == FILE).then(|| (format!("run/{name}"), bytes.as_slice())))).unwrap();
    assert_eq!(with_summary, summary);
    let none = read_run(|_: &str| Ok(None::<(String, &[u8])>)).unwrap_err();
    assert!(none.contains("neither"), "{none}");
    let failing = read_run(|name: &str| Err::<Option<(String, &[u8])>, _>(format!("cannot read run/{name}")));
    assert_eq!(failing.unwrap_err(), "cannot read run/summary.json");
}
