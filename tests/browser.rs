//! report.html and the account pages in a real headless Chromium (Debian's chromium and
//! chromium-driver, driven by tests/browser_check.py through Selenium): the filters, the text
//! search and the sortable columns work; the by-account grouping regroups; the trend chart is
//! drawn (the demo is compared with its archived run); the page reads
//! without its script; nothing is wider than a 420 px screen; and the printout keeps the
//! summary, coverage, what changed and the admin roster within 20 pages at 1,000 accounts.
//!
//! scripts/test.sh installs Chromium, chromium-driver, selenium and pypdf; without them these
//! tests fail and say what to install.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    common::test_python("selenium and pypdf")
}

/// Runs tests/browser_check.py; fails with what it printed unless it passed.
fn browser_check(args: &[&str]) -> String {
    let output = Command::new(python())
        .arg(repo().join("tests/browser_check.py"))
        .args(args)
        .output()
        .expect("tests/browser_check.py runs");
    let printed =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "browser_check.py {args:?} failed:\n{printed}");
    println!("{printed}");
    printed
}

fn run_into(snapshot: &Path, out: &Path, extra: &[&str]) {
    let output = common::iam_auditor()
        .arg("run")
        .arg("--snapshot")
        .arg(snapshot)
        .args(["--no-mail", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("the binary runs");
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 2 || code == 3,
        "the run failed ({code}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The demo's run into `<scratch>/out`, compared with the demo archive's run, so that new and
/// persisting findings both show.
fn demo_run(scratch: &Path) -> PathBuf {
    let out = scratch.join("out");
    run_into(
        &repo().join("examples/demo-org"),
        &out,
        &["--config", repo().join("examples/demo-org.toml").to_str().unwrap()],
    );
    out
}

#[test]
fn the_demo_report_filters_searches_sorts_groups_reads_without_script_and_fits_420_px() {
    let scratch = tempfile::tempdir().unwrap();
    let out = demo_run(scratch.path());
    let printed = browser_check(&["report", out.to_str().unwrap(), "--expect-account", "444455556666"]);
    for seen in [
        "script ran under the CSP",
        "severity filter keeps",
        "account filter 444455556666 keeps",
        "text search finds",
        "a column sorts both ways",
        "grouped by account",
        "the trend draws",
        "reads without the script",
        "nothing wider than the",
    ] {
        assert!(printed.contains(seen), "browser_check.py did not report '{seen}':\n{printed}");
    }
}

#[test]
fn the_demo_report_prints_its_summary_part_within_the_page_budget() {
    let scratch = tempfile::tempdir().unwrap();
    let out = demo_run(scratch.path());
    browser_check(&["print", out.to_str().unwrap(), "--max-pages", "20"]);
}

/// The 1,000-account organization of bench/gen_org.py (fewer principals per account than the
/// bench's: the page's length grows with accounts and checks, not with principals).
#[test]
fn a_thousand_account_report_prints_its_summary_part_within_twenty_pages() {
    let scratch = tempfile::tempdir().unwrap();
    let generated = Command::new(python())
        .arg(repo().join("bench/gen_org.py"))
        .args(["--accounts", "1000", "--users", "8", "--roles", "8", "--groups", "5", "--policies", "12"])
        .args(["--compact", "--seed", "11", "--out"])
        .arg(scratch.path().join("org"))
        .output()
        .expect("bench/gen_org.py runs");
    assert!(generated.status.success(), "gen_org.py failed: {}", String::from_utf8_lossy(&generated.stderr));
    let out = scratch.path().join("out");
    run_into(&scratch.path().join("org/snapshot"), &out, &["--as-of", "2024-06-01T00:00:00Z"]);
    let pages = std::fs::read_dir(out.join("accounts")).unwrap().count();
    assert_eq!(pages, 1000, "one page per account");
    let size = std::fs::metadata(out.join("report.html")).unwrap().len();
    assert!(size <= 10_000_000, "report.html is {size} bytes at 1,000 accounts, over the 10 MB budget");
    let printed = browser_check(&["print", out.to_str().unwrap(), "--max-pages", "20"]);
    assert!(printed.contains("pages_before_appendix"), "{printed}");
}
