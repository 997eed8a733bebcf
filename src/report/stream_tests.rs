//! The streamed run must write what the run held whole in memory would have written, byte for
//! byte: findings.json, findings.csv, the roster, coverage, the HTML (with tables capped so
//! that the stream's sample is what they show) and the digest.

use super::*;
use crate::access::roster::PreviousRoster;
use crate::deliver::archive;
use crate::findings::{Evidence, ResourceType, Severity};
use crate::identifiers::AccountId;
use crate::report::{digest, RunInfo, RunReport, RunStats};
use crate::snapshot::Snapshot;
use std::collections::HashSet;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// The demo's archived previous run (examples/demo-archive/<run id>/).
fn previous_run_dir() -> PathBuf {
    let archive = demo().join("demo-archive");
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&archive).unwrap().map(|e| e.unwrap().path()).collect();
    runs.sort();
    runs.pop().expect("examples/demo-archive holds the demo's previous run")
}

fn info(config: &Config, as_of: &str) -> RunInfo {
    RunInfo {
        id: "20261201T000000Z".into(),
        as_of: as_of.into(),
        started_at: "2026-12-01T00:00:00Z".into(),
        finished_at: "2026-12-01T00:00:01Z".into(),
        tool_version: "test".into(),
        source: "snapshot".into(),
        snapshot: None,
        config_sha256: None,
        thresholds: config.thresholds.clone(),
        disabled_checks: vec![],
        severity_overrides: Default::default(),
        fail_on: None,
        previous_run: Some("previous".into()),
        stats: RunStats::default(),
    }
}

fn judged_accounts(coverage: &[CoverageRow]) -> HashSet<String> {
    coverage
        .iter()
        .filter(|c| c.status == crate::audit::CoverageStatus::Audited && c.inventory.is_some())
        .map(|c| c.account_id.clone())
        .collect()
}

/// The demo run both ways, with HTML tables capped at `max_rows`; returns the two output
/// folders' files and the two digests.
/// A run's file as written, `name` or `name.gz` (decompressed).
fn read_output(dir: &Path, name: &str) -> Vec<u8> {
    let (_, mut reader) =
        archive::open_run_file(dir, name).unwrap().unwrap_or_else(|| panic!("{name} is written"));
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).unwrap();
    bytes
}

/// The demo run whole and streamed; `gzip`: streamed as a run filed compressed is.
fn both_ways(
    max_rows: usize,
    caps: (usize, usize),
    gzip: bool,
) -> (tempfile::TempDir, tempfile::TempDir, [String; 2]) {
    let (mut config, _) = Config::load(&demo().join("demo-org.toml")).unwrap();
    config.report.html_max_rows_per_check = max_rows;
    let snapshot = Snapshot::open(&demo().join("demo-org")).unwrap();
    let as_of = snapshot.collected_at().unwrap();
    let as_of_text = as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let previous_dir = previous_run_dir();
    // The previous run, plus findings of the account the demo cannot audit (data-platform,
    // 555566667777) and of a check without input: both carried over, not resolved.
    let mut previous: serde_json::Value =
        serde_json::from_reader(archive::open_run_file(&previous_dir, "findings.json").unwrap().unwrap().1)
            .unwrap();
    let findings = previous["findings"].as_array_mut().unwrap();
    for (i, name) in ["ghost-a", "ghost-b", "ghost-c"].iter().enumerate() {
        let mut ghost =
            serde_json::to_value(finding(555566667777, "admin-access", Severity::High, name)).unwrap();
        ghost["first_seen"] = format!("2026-0{}-01T00:00:00Z", i + 1).into();
        findings.push(ghost);
    }
    let scratch = tempfile::tempdir().unwrap();
    let previous_file = scratch.path().join("findings.json");
    std::fs::write(&previous_file, serde_json::to_vec_pretty(&previous).unwrap()).unwrap();
    let previous_json = std::fs::read(&previous_file).unwrap();
    let previous_roster =
        PreviousRoster::read(archive::open_run_file(&previous_dir, "access-roster.csv").unwrap().unwrap().1)
            .unwrap();

    // Whole in memory.
    let outcome = crate::audit::audit(&snapshot, &config, as_of);
    let mut findings = outcome.findings;
    let compared = diff::compare(&mut findings, &outcome.coverage, &previous_json).unwrap();
    let mut roster = outcome.roster;
    let accounts = judged_accounts(&outcome.coverage);
    let judged =
        roster::Judged { iam_accounts: &accounts, identity_center: outcome.identity_center.collected() };
    let changes = roster::compare(&mut roster, Some(&previous_roster), &as_of_text, &judged).unwrap();
    let whole = RunReport::new(
        info(&config, &as_of_text),
        outcome.coverage,
        findings,
        compared.resolved,
        outcome.snapshot_problems,
    )
    .with_carried_over(compared.carried_over)
    .with_access(roster, changes, outcome.identity_center)
    .with_suppression_rules(&config.suppressions, as_of);
    let whole_dir = tempfile::tempdir().unwrap();
    crate::report::write_all(&whole, &config, whole_dir.path()).unwrap();

    // Streamed, against the previous roster as a run reads it from the archive: copied and
    // read account by account.
    let previous_roster = PreviousRoster::index(
        archive::open_run_file(&previous_dir, "access-roster.csv").unwrap().unwrap().1,
        scratch.path().join("previous-roster.csv"),
    )
    .unwrap();
    let streamed_dir = tempfile::tempdir().unwrap();
    let index = PreviousIndex::read(previous_json.as_slice(), Path::new("findings.json")).unwrap();
    let stream = FindingStream::new(
        &streamed_dir.path().join(".spill"),
        &config,
        "20261201T000000Z",
        as_of,
        Some(index),
        RosterBaseline {
            previous: Some(&previous_roster),
            identity_center: crate::access::IdentityCenterSummary::of(snapshot.identity_center.as_ref())
                .collected(),
        },
        caps,
        BTreeSet::new(),
        gzip,
    )
    .unwrap()
    .with_ocsf(crate::report::ocsf::Context::new("20261201T000000Z", as_of, None, "test"))
    .unwrap()
    .with_index(&scratch.path().join(diff::INDEX))
    .unwrap();
    let summary = crate::audit::audit_into(&snapshot, &config, as_of, &stream);
    let output = stream.finish(&summary.coverage, Some(&previous_file)).unwrap();
    assert_eq!(output.carried_over_total, 3, "the ghosts of the account not audited");
    assert!(output.resolved_error.is_none());
    assert!(output.findings.len() < whole.findings.len() || caps.0 >= 100, "the stream kept a sample only");
    let streamed =
        RunReport::streamed(info(&config, &as_of_text), summary.coverage, output, summary.snapshot_problems)
            .with_identity_center(summary.identity_center)
            .with_suppression_rules(&config.suppressions, as_of);
    // The demo's rules: the live one and the lapsed one each cover one finding, counted as
    // the findings streamed by as the whole run counts them.
    let covered =
        |r: &RunReport| r.suppression_rules.iter().map(|r| (r.rule, r.findings)).collect::<Vec<_>>();
    assert_eq!(covered(&streamed), vec![(1, 1), (2, 1)]);
    assert_eq!(covered(&whole), covered(&streamed));
    crate::report::write_all(&streamed, &config, streamed_dir.path()).unwrap();
    // The findings index the run keeps gives the next comparison what its findings.json gives,
    // carried-over findings included.
    let written = read_output(streamed_dir.path(), "findings.json");
    let from_json = PreviousIndex::read(written.as_slice(), Path::new("findings.json")).unwrap();
    let index_text = read_output(scratch.path(), diff::INDEX);
    assert_eq!(scratch.path().join(format!("{}.gz", diff::INDEX)).is_file(), gzip);
    let from_index = PreviousIndex::read_index(index_text.as_slice(), Path::new(diff::INDEX)).unwrap();
    assert!(from_json.len() > 3, "{}", from_json.len());
    assert_eq!(from_index.described(), from_json.described());
    let ghosts =
        from_index.described().iter().filter(|e| e.1 == 555566667777 && e.4 == "admin-access").count();
    assert_eq!(ghosts, 3, "the carried-over ghosts are indexed");
    let digests = [&whole, &streamed]
        .map(|r| digest::render(r, "IAM audit", &notes(), crate::config::DEFAULT_SUBJECT).unwrap().text);
    drop(streamed.without_spill());
    assert!(!streamed_dir.path().join(".spill").exists(), "the spill files go once the files are written");
    (whole_dir, streamed_dir, digests)
}

fn notes() -> digest::DigestNotes {
    digest::DigestNotes { scope: None, archived_at: "/archive".into(), attachments: Vec::new() }
}

fn same_files(whole: &Path, streamed: &Path) {
    for name in [
        "findings.json",
        "findings.csv",
        "findings.ocsf.json",
        "coverage.csv",
        "access-roster.csv",
        "summary.json",
        "report.html",
    ] {
        let (a, b) = (
            std::fs::read_to_string(whole.join(name)).unwrap(),
            String::from_utf8(read_output(streamed, name)).unwrap(),
        );
        if a != b {
            let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
            panic!(
                "{name} differs from line {}:\n whole:    {:?}\n streamed: {:?}",
                line + 1,
                a.lines().nth(line),
                b.lines().nth(line)
            );
        }
    }
    // A streamed run filed compressed writes the large files as `name.gz`.
    let names = |dir: &Path| {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".gz").to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(whole), names(streamed), "no spill file is left in the run's folder");
}

#[test]
fn a_streamed_run_writes_what_the_whole_run_would_with_tables_capped() {
    let (whole, streamed, digests) = both_ways(2, (2, SAMPLE_MIN), true);
    same_files(whole.path(), streamed.path());
    let json: serde_json::Value =
        serde_json::from_slice(&read_output(streamed.path(), "findings.json")).unwrap();
    assert!(
        json["findings"].as_array().unwrap().len() > 50,
        "every finding is in findings.json, not the sample"
    );
    let changes: Vec<&str> =
        json["admin_changes"].as_array().unwrap().iter().map(|c| c["change"].as_str().unwrap()).collect();
    assert!(
        changes.contains(&"gained") && changes.contains(&"lost"),
        "the roster was compared account by account with the previous one: {changes:?}"
    );
    assert!(
        !json["resolved"].as_array().unwrap().is_empty(),
        "the demo's previous run has resolved findings"
    );
    assert!(
        std::fs::read_to_string(streamed.path().join("report.html"))
            .unwrap()
            .contains("more findings of this check"),
        "the cap of 2 rows binds"
    );
    // The digest lists up to 100 of each; a run keeps at least that many (SAMPLE_MIN), this
    // test's stream only 2, so only the new findings (kept to 100) agree.
    let new_section = |d: &str| d[d.find("NEW SINCE").unwrap()..d.find("FIXED SINCE").unwrap()].to_string();
    assert_eq!(new_section(&digests[0]), new_section(&digests[1]));
}

#[test]
fn a_streamed_run_writes_what_the_whole_run_would() {
    let (whole, streamed, digests) = both_ways(2000, (2000, SAMPLE_MIN), false);
    same_files(whole.path(), streamed.path());
    assert_eq!(digests[0], digests[1]);
}

fn finding(account: u64, check: &'static str, severity: Severity, name: &str) -> Finding {
    let account = format!("{account:012}");
    Finding {
        fingerprint: crate::findings::fingerprint(check, &account, name, ""),
        check: check.into(),
        severity,
        account_id: AccountId::parse(&account).unwrap(),
        account_name: format!("acct-{account}"),
        resource_type: ResourceType::User,
        resource_arn: format!("arn:aws:iam::{account}:user/{name}"),
        resource_name: name.into(),
        title: "t".into(),
        detail: "d".into(),
        evidence: Evidence::from_map(Default::default()),
        remediation: "".into(),
        remediation_command: None,
        console_url: None,
        references: vec![],
        status: Status::Open,
        suppression: None,
        first_seen: "2026-12-01T00:00:00Z".into(),
        change: Change::New,
        default_severity: false,
        lapsed_rule: None,
    }
}

#[test]
fn the_sample_holds_the_first_of_each_group_and_the_first_new_ones_whatever_the_arrival() {
    // 40 accounts, two checks, two severities; a previous run where most findings existed, so
    // that the new ones are scattered. Accounts arrive in order; within an account, any order.
    let config = Config::default();
    let as_of = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
    let mut all = Vec::new();
    for account in 1..=40u64 {
        for (check, severity) in [("stale-access-key", Severity::Medium), ("admin-access", Severity::High)] {
            for user in ["b", "a", "c"] {
                all.push(finding(account, check, severity, &format!("{user}{account}")));
            }
        }
    }
    // Previously seen: all but the findings of every seventh account and every "c" user.
    let previous: Vec<&Finding> = all
        .iter()
        .filter(|f| !f.account_id.as_str().ends_with('7') && !f.resource_name.starts_with('c'))
        .collect();
    let previous_json = serde_json::to_vec(&serde_json::json!({"findings": previous})).unwrap();
    let index = PreviousIndex::read(previous_json.as_slice(), Path::new("findings.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cap, new_cap) = (4, 3);
    let stream = FindingStream::new(
        dir.path(),
        &config,
        "run",
        as_of,
        Some(index),
        RosterBaseline { previous: None, identity_center: false },
        (cap, new_cap),
        BTreeSet::from(["000000000033".to_string()]),
        false,
    )
    .unwrap();
    for account in 1..=40u64 {
        let mut mine: Vec<Finding> =
            all.iter().filter(|f| f.account_id.as_str() == format!("{account:012}")).cloned().collect();
        mine.reverse();
        let row = crate::report::html::tests::coverage(
            &format!("{account:012}"),
            "",
            crate::audit::CoverageStatus::Audited,
            None,
        );
        let prepared = stream.prepare(&row, crate::audit::Pass::First, mine, Vec::new());
        stream.append(prepared);
    }
    let output = stream.finish(&[], None).unwrap();
    assert_eq!(output.counts.open, all.len());
    assert_eq!(output.counts.new, 40 * 2 + 4 * 2 * 2, "every c user, and a and b in accounts 7, 17, 27, 37");

    // Expected: each (severity, check) group's first `cap` findings and first `new_cap` new ones
    // in (account, arn) order, and every finding of account 33.
    let order = report_order();
    let mut sorted = all.clone();
    for f in sorted.iter_mut() {
        let before = previous.iter().any(|p| p.fingerprint == f.fingerprint);
        f.change = if before { Change::Persisting } else { Change::New };
    }
    sorted.sort_by(|a, b| order.compare(a, b));
    let mut expected = Vec::new();
    let (mut taken, mut taken_new) = (std::collections::HashMap::new(), std::collections::HashMap::new());
    for f in &sorted {
        let g = order.group(f);
        let first = *taken.entry(g).and_modify(|n| *n += 1).or_insert(1) <= cap;
        let first_new =
            f.change == Change::New && *taken_new.entry(g).and_modify(|n| *n += 1).or_insert(1) <= new_cap;
        if first || first_new || f.account_id.as_str() == "000000000033" {
            expected.push(f.fingerprint.clone());
        }
    }
    let kept: Vec<String> = output.findings.iter().map(|f| f.fingerprint.clone()).collect();
    assert_eq!(kept, expected);
    assert!(output.findings.iter().any(|f| f.resource_name == "c1"), "the first new finding is kept");
    assert_eq!(output.findings.iter().filter(|f| f.account_id.as_str() == "000000000033").count(), 6);
}

#[test]
fn spill_groups_come_back_in_group_order_and_the_first_bytes_can_be_skipped() {
    for gzip in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::create(dir.path().join("s"), 3, gzip).unwrap();
        // Over a piece of either kind, and not the same byte throughout.
        let big: Vec<u8> = (0..GZIP_PIECE + 10).map(|i| b'a' + (i % 7) as u8).collect();
        spill.push(2, b",c1").unwrap();
        spill.push(0, b",a1").unwrap();
        spill.push(2, &big).unwrap();
        spill.push(0, b",a2").unwrap();
        spill.push(1, b"").unwrap();
        let file = spill.close().unwrap();
        assert_eq!(file.is_gzip(), gzip);
        let stored = std::fs::metadata(dir.path().join("s")).unwrap().len() as usize;
        assert_eq!(stored < big.len() / 4, gzip, "{stored} bytes stored");
        let mut expected = b"a1,a2,c1".to_vec();
        expected.extend_from_slice(&big);
        // To a plain output, and to a gzip file (members copied as they are but the one the
        // skip cuts into, which is written again).
        let mut out = Vec::new();
        file.copy_to(&mut out, 1).unwrap();
        assert_eq!(out, expected, "gzip {gzip}");
        let mut gzip_file = GzipFile::new(Vec::new());
        gzip_file.write_all(b"[").unwrap();
        file.copy_to(&mut gzip_file, 1).unwrap();
        gzip_file.write_all(b"]").unwrap();
        let written = gzip_file.finish().unwrap();
        let mut read = Vec::new();
        flate2::read::MultiGzDecoder::new(written.as_slice()).read_to_end(&mut read).unwrap();
        assert_eq!(read, [&b"["[..], &expected, b"]"].concat(), "gzip {gzip}");
        // "[a1,a2" gathered and compressed, the piece of group 2 as stored, "]"; or all gathered.
        let members = written.windows(3).filter(|w| w == &[0x1f, 0x8b, 8]).count();
        assert_eq!(members, if gzip { 3 } else { 1 });
    }
}

#[test]
fn a_gzip_file_with_nothing_written_is_one_empty_member() {
    let written = GzipFile::new(Vec::new()).finish().unwrap();
    let mut read = Vec::new();
    flate2::read::MultiGzDecoder::new(written.as_slice()).read_to_end(&mut read).unwrap();
    assert!(read.is_empty() && !written.is_empty());
}

#[test]
fn a_spill_that_cannot_be_written_says_why_and_loses_nothing_silently() {
    // /dev/full takes the file but refuses every byte, as a full disk does. The pieces are
    // written by the spill's own thread; its failure must still reach whoever pushes or closes.
    let mut spill = Spill::create(PathBuf::from("/dev/full"), 2, false).unwrap();
    let piece = vec![b'x'; PIECE];
    let mut failed = None;
    for _ in 0..(4 * PIECES_IN_FLIGHT) {
        if let Err(e) = spill.push(1, &piece) {
            failed = Some(e);
            break;
        }
    }
    let error = match failed {
        Some(e) => e,
        None => spill.close().expect_err("nothing could be written"),
    };
    assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
}

#[test]
fn a_nested_value_is_laid_out_as_the_pretty_printer_lays_it_out_two_levels_in() {
    let value = serde_json::json!({
        "empty_array": [],
        "empty_object": {},
        "nested": {"list": [1, {"a": [], "b": {"c": "line\nbreak"}}], "after": null},
        "text": "tab\tand \"quotes\"",
        "deep": [[[[[[[[[[[[[[[[[[["bottom"]]]]]]]]]]]]]]]]]]],
    });
    let mut ours = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut ours, Nested::at_depth(2));
    serde::Serialize::serialize(&value, &mut serializer).unwrap();
    // serde_json's own pretty text, every line after the first moved two levels in.
    let pretty = serde_json::to_string_pretty(&value).unwrap().replace('\n', "\n    ");
    assert_eq!(String::from_utf8(ours).unwrap(), pretty);
}
