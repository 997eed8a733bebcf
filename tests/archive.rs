//! The local compliance archive and what changed since the previous run, driven through the
//! real binary: two runs over two snapshots that differ, into one archive.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn archived_run(snapshot: &Path, config: &Path) -> (i32, String) {
    run_archived(snapshot, config, &[])
}

fn runs(archive: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(archive)
        .expect("archive folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    runs.sort();
    runs
}

fn findings_json(run: &Path) -> Value {
    serde_json::from_slice(&read_run_file(run, "findings.json")).expect("JSON")
}

fn sha256sum_check(run: &Path) {
    let check = std::process::Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(run)
        .output()
        .expect("sha256sum (coreutils) is installed: apt-get install coreutils");
    assert!(
        check.status.success(),
        "sha256sum -c failed in {}: {}{}",
        run.display(),
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn two_runs_into_one_archive_show_what_is_new_and_what_was_fixed() {
    let snapshot = SnapshotDir::two_accounts();
    let scratch = tempfile::tempdir().expect("temporary folder");
    let archive = scratch.path().join("archive");
    let config = scratch.path().join("iam-auditor.toml");
    // Accepted risks as of AS_OF (2024-06-01): rule 1 lapsed (bob's stale key in A is open
    // again), rule 2 expires within 30 days (alice in A, suppressed), rule 3 matches nothing.
    let rules = format!(
        "[[suppressions]]\ncheck = \"stale-access-key\"\nresource = \"{bob}\"\nreason = \"key rotation waiver\"\n\
         expires = \"2024-05-01\"\nowner = \"platform team\"\nticket = \"SEC-97\"\n\
         [[suppressions]]\ncheck = \"console-without-mfa\"\nresource = \"arn:aws:iam::*:user/alice\"\n\
         account = \"{ACCOUNT_A}\"\nreason = \"hardware token on order\"\nexpires = \"2024-06-20\"\nowner = \"it-desk\"\n\
         [[suppressions]]\ncheck = \"wide-trust\"\nresource = \"arn:aws:iam::*:role/gone\"\nreason = \"old rule\"\n\
         expires = \"2025-01-01\"\n",
        bob = arn(ACCOUNT_A, "user", "bob")
    );
    std::fs::write(
        &config,
        format!(
            "[archive]\ndir = \"{}\"\nkeep_runs = 5\ninclude_snapshot = true\n{rules}",
            archive.display()
        ),
    )
    .expect("write config");

    // The first run is judged a week before the others: what it found and the second run no
    // longer finds was open for 7 days (the trend's time to fix).
    let (code, output) = run_archived_as_of(snapshot.path(), &config, &[], WEEK_BEFORE);
    assert_eq!(code, 0, "{output}");
    let first = runs(&archive);
    assert_eq!(first.len(), 1, "{output}");
    let first = &first[0];
    sha256sum_check(first);
    for name in ["findings.json", "findings.csv", "access-roster.csv", "findings.ocsf.json"] {
        assert!(
            first.join(format!("{name}.gz")).is_file() && !first.join(name).exists(),
            "{name} is filed gzip-compressed"
        );
    }
    assert!(first.join("report.html").is_file(), "the report is filed as it is");
    assert!(first.join("snapshot/manifest.json").is_file(), "the snapshot is archived as evidence");
    let before = findings_json(first);
    assert!(before["run"]["previous_run"].is_null());
    assert!(before["findings"].as_array().unwrap().iter().all(|f| f["change"] == "new"));
    let html = std::fs::read_to_string(first.join("report.html")).unwrap();
    assert!(trend_section(&html).contains("One run so far: the trend starts with the next run."));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(first.join("findings.json.gz")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "owner and group only");
    }

    // Account A: carol is gone from the report (her unused-user finding is fixed) and dave,
    // old and never used, arrived.
    let mut users: Vec<ReportRow> =
        standard_users(ACCOUNT_A).into_iter().filter(|(u, _)| u != "carol").collect();
    let carol = standard_users(ACCOUNT_A).into_iter().find(|(u, _)| u == "carol").unwrap();
    users.push(("dave".into(), carol.1.replace("user/carol", "user/dave")));
    snapshot.write(&credential_report_path(ACCOUNT_A), credential_report(&users));

    // The run keeps its findings index, which the next run compares with (a line a finding
    // between a header and an end line), filed compressed and covered by SHA256SUMS.
    let index = String::from_utf8(read_run_file(first, "findings-index.tsv")).unwrap();
    let lines: Vec<&str> = index.lines().collect();
    let total = before["findings"].as_array().unwrap().len();
    assert_eq!(lines.len(), total + 2, "{index}");
    assert_eq!(lines[0], "iam-auditor/findings-index/v1");
    assert_eq!(lines[total + 1], format!("end\t{total}"));
    let sums = std::fs::read_to_string(first.join("SHA256SUMS")).unwrap();
    assert!(sums.contains("  findings-index.tsv.gz\n"), "{sums}");

    let (code, output) = archived_run(snapshot.path(), &config);
    assert_eq!(code, 0, "{output}");
    assert!(!output.contains("findings-index"), "the index was read as it is: {output}");
    let both = runs(&archive);
    assert_eq!(both.len(), 2, "the first run is kept, never overwritten: {output}");
    let second = &both[1];
    sha256sum_check(second);
    let after = findings_json(second);
    assert_eq!(after["run"]["previous_run"], first.file_name().unwrap().to_string_lossy().as_ref());

    let dave = arn(ACCOUNT_A, "user", "dave");
    let carol = arn(ACCOUNT_A, "user", "carol");
    let new: Vec<(&str, &str)> = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["change"] == "new")
        .map(|f| (f["check"].as_str().unwrap(), f["resource_arn"].as_str().unwrap()))
        .collect();
    assert_eq!(new, vec![("unused-user", dave.as_str())]);
    assert_eq!(after["summary"]["new"], 1);
    let resolved: Vec<(&str, &str)> = after["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["check"].as_str().unwrap(), f["resource_arn"].as_str().unwrap()))
        .collect();
    assert_eq!(resolved, vec![("unused-user", carol.as_str())]);
    assert_eq!(after["summary"]["resolved"], 1);
    // A persisting finding keeps the first_seen of the run that first saw it.
    let first_seen: std::collections::BTreeMap<&str, &str> = before["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["fingerprint"].as_str().unwrap(), f["first_seen"].as_str().unwrap()))
        .collect();
    for finding in after["findings"].as_array().unwrap().iter().filter(|f| f["change"] == "persisting") {
        assert_eq!(
            first_seen[finding["fingerprint"].as_str().unwrap()],
            finding["first_seen"].as_str().unwrap()
        );
    }
    let html = std::fs::read_to_string(second.join("report.html")).unwrap();
    assert!(
        html.contains(&format!("{}", first.file_name().unwrap().to_string_lossy())),
        "the report names the compared run"
    );
    assert_eq!(after["summary"]["carried_over"], 0);
    evidence_is_recorded(second, &after, &html);
    accepted_risks_are_listed(second, &after, &html);
    the_trend_shows_both_runs(first, second, [&before, &after], &html);

    // Run 3: account B cannot be audited (nothing was collected). Its findings are neither
    // open nor fixed: they are carried over, counted and listed with why, and kept in
    // findings.json for the next run.
    let b_open: Vec<(String, String)> = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account_id"] == ACCOUNT_B)
        .map(|f| {
            (f["fingerprint"].as_str().unwrap().to_string(), f["first_seen"].as_str().unwrap().to_string())
        })
        .collect();
    assert!(b_open.len() >= 2, "account B has findings to carry over: {b_open:?}");
    snapshot.remove(&format!("accounts/{ACCOUNT_B}"));
    let (code, output) = archived_run(snapshot.path(), &config);
    assert_eq!(code, 3, "an account not audited: partial, {output}");
    assert!(output.contains(&format!("{} carried over, not re-checked", b_open.len())), "{output}");
    let third = &runs(&archive)[2];
    sha256sum_check(third);
    let carried = findings_json(third);
    let mut listed: Vec<(String, String)> = carried["carried_over"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (f["fingerprint"].as_str().unwrap().to_string(), f["first_seen"].as_str().unwrap().to_string())
        })
        .collect();
    let mut expected = b_open.clone();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected, "every finding of B, first_seen kept");
    assert_eq!(carried["summary"]["carried_over"], b_open.len());
    assert_eq!(carried["summary"]["resolved"], 0, "gone is not fixed");
    let html = std::fs::read_to_string(third.join("report.html")).unwrap();
    assert!(html.contains("id=\"carried-over-alert\""), "the report leads with it");
    let section = &html[html.find("<section id=\"carried-over\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains(ACCOUNT_B) && section.contains("the account was failed this run"), "{section}");
    let eml = std::fs::read(third.join("digest.eml")).unwrap();
    let message = mail_parser::MessageParser::default().parse(&eml).expect("a MIME message");
    let subject = message.subject().unwrap_or_default().to_string();
    assert!(subject.contains(&format!("{} not re-checked", b_open.len())), "{subject}");
    let text = message.body_text(0).unwrap_or_default().to_string();
    assert!(text.contains("CARRIED OVER, NOT RE-CHECKED"), "{text}");

    // Run 4: B is back. What was carried over is compared again: persisting, first_seen kept.
    snapshot.write_account(ACCOUNT_B);
    let (code, output) = archived_run(snapshot.path(), &config);
    assert_eq!(code, 0, "{output}");
    let fourth = findings_json(&runs(&archive)[3]);
    assert_eq!(fourth["summary"]["carried_over"], 0);
    let html = std::fs::read_to_string(runs(&archive)[3].join("report.html")).unwrap();
    assert_eq!(trend_section(&html).matches("<g class=\"trend-run\">").count(), 4, "every run so far");
    for (fingerprint, first_seen) in &b_open {
        let again =
            fourth["findings"].as_array().unwrap().iter().find(|f| f["fingerprint"] == fingerprint.as_str());
        let again = again.unwrap_or_else(|| panic!("{fingerprint} is found again"));
        assert_eq!(again["change"], "persisting", "{again}");
        assert_eq!(again["first_seen"], first_seen.as_str());
    }
}

/// The first run's as-of instant.
const WEEK_BEFORE: &str = "2024-05-25T00:00:00Z";

#[test]
fn a_damaged_findings_index_is_set_aside_and_findings_json_compared_with() {
    let snapshot = SnapshotDir::two_accounts();
    let scratch = tempfile::tempdir().expect("temporary folder");
    let archive = scratch.path().join("archive");
    let config = scratch.path().join("iam-auditor.toml");
    std::fs::write(&config, format!("[archive]\ndir = \"{}\"\n", archive.display())).expect("write config");
    let (code, output) = run_archived_as_of(snapshot.path(), &config, &[], WEEK_BEFORE);
    assert_eq!(code, 0, "{output}");
    let first = runs(&archive).remove(0);
    // Cut short: the header and one finding's line, no end line.
    let index = String::from_utf8(read_run_file(&first, "findings-index.tsv")).unwrap();
    let cut: String = index.lines().take(2).map(|l| format!("{l}\n")).collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, cut.as_bytes()).unwrap();
    std::fs::write(first.join("findings-index.tsv.gz"), encoder.finish().unwrap()).unwrap();

    let (code, output) = archived_run(snapshot.path(), &config);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("findings-index.tsv.gz is not a findings index of this tool: line 3: the file ends before its end line")
            && output.contains("comparing with the previous run's findings.json instead"),
        "{output}"
    );
    // The same snapshot: every finding persists, first seen a week before.
    let after = findings_json(&runs(&archive)[1]);
    let findings = after["findings"].as_array().unwrap();
    assert!(findings.len() > 3, "{}", findings.len());
    assert!(
        findings.iter().all(|f| f["change"] == "persisting" && f["first_seen"] == WEEK_BEFORE),
        "{after}"
    );
    assert_eq!(after["summary"]["new"], 0);
    assert_eq!(after["summary"]["resolved"], 0);
}

/// report.html's Trend section.
fn trend_section(html: &str) -> &str {
    let section = &html[html.find("<section id=\"trend\">").expect("a Trend section")..];
    &section[..section.find("</section>").unwrap()]
}

/// The second run's summary.json holds its counts and is covered by SHA256SUMS; its report
/// draws both runs with the numbers their findings.json give, and the time to fix of carol's
/// finding (first seen a week before it was resolved); the digest says how open findings moved.
fn the_trend_shows_both_runs(first: &Path, second: &Path, findings: [&Value; 2], html: &str) {
    let summary: Value = serde_json::from_slice(
        &std::fs::read(second.join("summary.json")).expect("summary.json, uncompressed"),
    )
    .unwrap();
    assert_eq!(summary["schema"], "iam-auditor/summary/v1");
    let after = findings[1];
    for field in ["open", "new", "resolved", "suppressed", "carried_over"] {
        assert_eq!(summary[field], after["summary"][field], "{field}");
    }
    assert_eq!(summary["open_by_severity"], after["summary"]["by_severity"]);
    assert_eq!(summary["accounts"]["audited"], 2);
    assert_eq!(summary["time_to_fix"]["measured"], 1);
    assert_eq!(
        summary["time_to_fix"]["median_days"], 7.0,
        "carol's finding, open from the first run to the second"
    );
    let sums = std::fs::read_to_string(second.join("SHA256SUMS")).unwrap();
    assert!(sums.lines().any(|l| l.ends_with("  summary.json")), "{sums}");

    let section = trend_section(html);
    assert_eq!(section.matches("<g class=\"trend-run\">").count(), 2, "{section}");
    // An earlier run is named by its folder, as read back from the archive; this run by its
    // id (its folder is `<id>-2` when the first run began in the same second).
    let names = [
        first.file_name().unwrap().to_string_lossy().to_string(),
        after["run"]["id"].as_str().unwrap().to_string(),
    ];
    for ((name, findings), fix) in names.iter().zip([findings[0], after]).zip(["none resolved", "7"]) {
        let counts = &findings["summary"];
        let row = format!(
            "<tr data-run=\"{name}\" data-open=\"{}\" data-new=\"{}\" data-resolved=\"{}\" data-fix=\"{fix}\">",
            counts["open"], counts["new"], counts["resolved"]
        );
        assert!(section.contains(&row), "{row} missing from the trend: {section}");
        let title = format!(
            "run {name} (as of {}): {} open (",
            &findings["run"]["as_of"].as_str().unwrap()[..10],
            counts["open"]
        );
        assert!(section.contains(&title), "{title} missing from the chart: {section}");
    }
    assert!(section.contains("median of 7 days"), "{section}");

    let change =
        after["summary"]["open"].as_i64().unwrap() - findings[0]["summary"]["open"].as_i64().unwrap();
    let change = match change {
        0 => "±0".to_string(),
        n if n > 0 => format!("+{n}"),
        n => format!("−{}", -n),
    };
    let eml = std::fs::read(second.join("digest.eml")).unwrap();
    let message = mail_parser::MessageParser::default().parse(&eml).expect("a MIME message");
    let text = message.body_text(0).unwrap_or_default().to_string();
    let line = format!("{} open ({change} since the last run)", after["summary"]["open"]);
    assert!(text.contains(&line), "{line} missing from the digest: {text}");
}

/// The evidence block of a filed run: organization, collector, collection time apart from
/// the run's, the manifest's hash, where SHA256SUMS is and the build commit.
fn evidence_is_recorded(run: &Path, findings: &Value, html: &str) {
    use sha2::{Digest, Sha256};
    let provenance = &findings["provenance"];
    assert_eq!(provenance["organization_id"], ORG_ID, "{provenance}");
    assert!(provenance["collected_by"].is_null(), "the test snapshot's manifest names no caller");
    assert_eq!(provenance["snapshot_collected_at"], AS_OF);
    assert_eq!(provenance["evidence_date"], &AS_OF[..10]);
    let manifest = std::fs::read(run.join("snapshot/manifest.json")).expect("the archived snapshot");
    let sha: String = Sha256::digest(&manifest).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(provenance["manifest_sha256"], sha.as_str());
    assert_eq!(provenance["data_age"]["reference"], "as-of", "--as-of was given");
    assert_eq!(provenance["data_age"]["days"], 0);
    assert_eq!(provenance["data_age"]["stale"], false);
    let location = run.display().to_string();
    assert_eq!(provenance["checksums"]["location"], location.as_str());
    assert_eq!(
        provenance["checksums"]["verify"],
        format!("cd {location} && sha256sum -c SHA256SUMS").as_str()
    );
    let commit = provenance["build_commit"].as_str().unwrap();
    assert!(commit == "unknown" || commit.len() == 40, "{commit}");
    let block = &html[html.find("<section id=\"evidence\"").expect("an Evidence block")..];
    let block = &block[..block.find("</section>").unwrap()];
    for expected in
        [ORG_ID, "Collected by</dt><dd><span class=\"muted\">not recorded", &sha, "SHA256SUMS", commit]
    {
        assert!(block.contains(expected), "{expected} missing from the Evidence block: {block}");
    }
    assert!(!html.contains("stale-data-alert"), "fresh data: no banner");
}

/// The lapsed rule, the one expiring soon and the one that matched nothing, in findings.json,
/// the report and the digest.
fn accepted_risks_are_listed(run: &Path, findings: &Value, html: &str) {
    let rules: Vec<(u64, &str, u64)> = findings["suppression_rules"]
        .as_array()
        .expect("suppression_rules")
        .iter()
        .map(|r| {
            (r["rule"].as_u64().unwrap(), r["status"].as_str().unwrap(), r["findings"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(rules, vec![(1, "lapsed", 1), (2, "expiring-soon", 1), (3, "active", 0)]);
    let all = findings["findings"].as_array().unwrap();
    let alice = all.iter().find(|f| f["status"] == "suppressed").expect("alice's finding is suppressed");
    assert_eq!(alice["suppression"]["rule"], 2);
    assert_eq!(alice["suppression"]["owner"], "it-desk");
    assert!(alice["suppression"]["ticket"].is_null());
    let bob = arn(ACCOUNT_A, "user", "bob");
    let lapsed = all
        .iter()
        .find(|f| f["check"] == "stale-access-key" && f["resource_arn"] == bob.as_str())
        .expect("bob's stale key");
    assert_eq!(lapsed["status"], "open", "a lapsed rule suppresses nothing");
    assert_eq!(lapsed["evidence"]["expired_suppression"]["rule"], 1);
    assert_eq!(lapsed["evidence"]["expired_suppression"]["ticket"], "SEC-97");
    let alert = &html[html.find("id=\"accepted-risks-alert\"").expect("the banner")..];
    let alert = &alert[..alert.find("</div></div>").unwrap()];
    assert!(alert.contains("#rule-1") && alert.contains("#rule-2") && !alert.contains("#rule-3"), "{alert}");
    assert!(html.contains("<tr id=\"rule-3\" class=\"active\">"), "the stale rule is in the table");
    let eml = std::fs::read(run.join("digest.eml")).unwrap();
    let message = mail_parser::MessageParser::default().parse(&eml).expect("a MIME message");
    let subject = message.subject().unwrap_or_default().to_string();
    assert!(subject.ends_with(&format!("evidence of {}", &AS_OF[..10])), "{subject}");
    let text = message.body_text(0).unwrap_or_default().to_string();
    let section = &text[text.find("ACCEPTED RISKS THAT LAPSED").expect("in the digest")..];
    assert!(
        section.contains("- Rule 1 · stale-access-key") && section.contains("lapsed on 2024-05-01"),
        "{section}"
    );
    assert!(
        section.contains("- Rule 2 · console-without-mfa") && section.contains("expires 2024-06-20"),
        "{section}"
    );
    let html_part = message.body_html(0).unwrap_or_default().to_string();
    assert!(html_part.contains("Lapsed.</b> Rule 1"), "and in the HTML part");
}

#[test]
fn an_unwritable_archive_is_fatal_and_says_so() {
    let snapshot = SnapshotDir::two_accounts();
    let scratch = tempfile::tempdir().expect("temporary folder");
    let blocker = scratch.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where the archive should be").unwrap();
    let config = scratch.path().join("iam-auditor.toml");
    std::fs::write(&config, format!("[archive]\ndir = \"{}\"\n", blocker.join("archive").display())).unwrap();
    let (code, output) = archived_run(snapshot.path(), &config);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("archive") && output.contains("not-a-folder"), "{output}");
}
