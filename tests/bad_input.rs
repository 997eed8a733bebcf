//! Damaged, partial and hostile input, driven through the real binary: every case checks the
//! exit code, what coverage.csv / findings.json say about the damaged account, and that the
//! accounts that were fine were audited in full. Fatal errors (exit 1) and usage errors
//! (exit 2) must say what is wrong and produce no reports.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// `text` holds "line L, column C" with numbers.
fn has_line_and_column(text: &str) -> bool {
    text.match_indices("line ").any(|(at, _)| {
        let rest = &text[at + "line ".len()..];
        let line_digits = rest.chars().take_while(char::is_ascii_digit).count();
        line_digits > 0
            && rest[line_digits..]
                .strip_prefix(", column ")
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// A panic: exit 101 by default, or exit 1 with the binary's "internal error" message.
fn crashed(run: &Run) -> bool {
    run.code == 101 || run.stderr.contains("panicked") || run.stderr.contains("internal error")
}

fn pairs(list: &[(&str, String)]) -> BTreeSet<(String, String)> {
    list.iter().map(|(check, arn)| (check.to_string(), arn.clone())).collect()
}

/// The one `account-not-audited` finding of `account`, whose detail must contain `needle`.
fn assert_not_audited_finding(run: &Run, account: &str, needle: &str) {
    let findings = run.findings_of(account, "account-not-audited");
    assert_eq!(findings.len(), 1, "one account-not-audited finding for {account}; {}", run.describe());
    let finding = &findings[0];
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["resource_arn"], root_arn(account));
    assert!(text(&finding["detail"]).contains(needle), "detail lacks {needle:?}: {finding:#}");
}

#[test]
fn a_clean_snapshot_is_audited_in_full() {
    let snapshot = SnapshotDir::two_accounts();
    let run = run(snapshot.path(), &[]);
    run.assert_code(0);
    run.assert_complete(ACCOUNT_A);
    run.assert_complete(ACCOUNT_B);
    assert_eq!(run.coverage_csv().len(), 2);
    assert!(run.stdout.contains("2 account(s) audited, 0 failed"), "{}", run.describe());
}

/// Asserts the run ended partial (exit 3) with `complete` audited in full and `failed`
/// marked failed, and returns `failed`'s coverage entry.
fn failed_while_the_other_is_complete(run: &Run, failed: &str, complete: &str) -> Value {
    run.assert_code(3);
    run.assert_complete(complete);
    let coverage = run.coverage(failed);
    assert_eq!(coverage["status"], "failed", "{coverage:#}");
    coverage
}

// (a)
#[test]
fn truncated_authorization_details_fail_that_account_only() {
    let snapshot = SnapshotDir::two_accounts();
    let gaad = gaad_path(ACCOUNT_B);
    let bytes = snapshot.read(&gaad);
    snapshot.write(&gaad, &bytes[..bytes.len() / 2]);

    let run = run(snapshot.path(), &[]);
    let coverage = failed_while_the_other_is_complete(&run, ACCOUNT_B, ACCOUNT_A);
    let error = text(&coverage["error"]);
    assert!(error.contains(&gaad), "error names the file {gaad}: {error}");
    assert!(has_line_and_column(&error), "error gives line and column: {error}");
    assert!(error.contains("truncated"), "error says truncated: {error}");
    let problems = coverage["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{coverage:#}");
    assert_eq!(problems[0]["file"], gaad.as_str());
    assert!(has_line_and_column(&text(&problems[0]["position"])), "{:#}", problems[0]);
    let without = coverage["checks_without_input"].as_array().expect("list");
    for check in ["admin-access", "wide-trust", "unused-role"] {
        assert!(without.contains(&json!(check)), "{check} had no input: {coverage:#}");
    }
    assert!(!without.contains(&json!("console-without-mfa")), "{coverage:#}");
    assert_eq!(coverage["inventory"], Value::Null);

    let row = run.coverage_csv_row(ACCOUNT_B);
    assert_eq!(row["status"], "failed");
    assert!(row["error"].contains(&gaad) && row["error"].contains("truncated"), "{row:?}");
    assert!(has_line_and_column(&row["error"]), "{row:?}");
    assert!(row["checks_without_input"].contains("admin-access"), "{row:?}");

    assert_not_audited_finding(&run, ACCOUNT_B, &gaad);
    // The checks that need only the credential report (and the small files) still ran.
    let mut expected = expected_without_authorization_details(ACCOUNT_B);
    expected.insert(("account-not-audited".into(), root_arn(ACCOUNT_B)));
    assert_eq!(run.finding_pairs(ACCOUNT_B), expected);
    assert_eq!(run.findings_of(ACCOUNT_B, "console-without-mfa").len(), 1);
    assert!(run.stderr.contains(ACCOUNT_B) && run.stderr.contains("truncated"), "{}", run.describe());
}

// (b)
#[test]
fn a_credential_report_with_a_wrong_header_names_file_line_and_column() {
    let snapshot = SnapshotDir::two_accounts();
    let report = credential_report_path(ACCOUNT_B);
    let text_of_report = String::from_utf8(snapshot.read(&report)).expect("UTF-8");
    snapshot.write(&report, text_of_report.replacen("user_creation_time", "created", 1));

    let run = run(snapshot.path(), &[]);
    let coverage = failed_while_the_other_is_complete(&run, ACCOUNT_B, ACCOUNT_A);
    let error = text(&coverage["error"]);
    assert!(error.contains(&report), "error names {report}: {error}");
    assert!(error.contains("line 1"), "error names line 1: {error}");
    assert!(error.contains("user_creation_time"), "error names the missing column: {error}");
    let row = run.coverage_csv_row(ACCOUNT_B);
    assert_eq!(row["status"], "failed");
    assert!(row["error"].contains("line 1") && row["error"].contains("user_creation_time"), "{row:?}");
    assert_not_audited_finding(&run, ACCOUNT_B, "user_creation_time");

    // Everything from the authorization details still ran; root MFA comes from the account summary.
    let from_report = ["console-without-mfa", "stale-access-key", "unused-user"];
    let mut expected: BTreeSet<(String, String)> = expected_findings(ACCOUNT_B)
        .into_iter()
        .filter(|(check, _)| !from_report.contains(&check.as_str()))
        .collect();
    expected.insert(("account-not-audited".into(), root_arn(ACCOUNT_B)));
    assert_eq!(run.finding_pairs(ACCOUNT_B), expected);
    let without = coverage["checks_without_input"].as_array().expect("list");
    for check in from_report {
        assert!(without.contains(&json!(check)), "{check} had no input: {coverage:#}");
    }
}

// (b, one row) A damaged row costs that row, not the report.
#[test]
fn a_bad_credential_report_row_costs_only_that_row() {
    let snapshot = SnapshotDir::two_accounts();
    let report = credential_report_path(ACCOUNT_B);
    let text_of_report = String::from_utf8(snapshot.read(&report)).expect("UTF-8");
    let carol_line = text_of_report.lines().position(|l| l.starts_with("carol,")).expect("carol's row") + 1;
    let damaged: Vec<String> = text_of_report
        .lines()
        .map(|l| {
            if l.starts_with("carol,") {
                let mut cells: Vec<&str> = l.split(',').collect();
                cells[2] = "yesterday";
                cells.join(",")
            } else {
                l.to_string()
            }
        })
        .collect();
    snapshot.write(&report, damaged.join("\n") + "\n");

    let run = run(snapshot.path(), &[]);
    let coverage = failed_while_the_other_is_complete(&run, ACCOUNT_B, ACCOUNT_A);
    let error = text(&coverage["error"]);
    assert!(error.contains(&format!("line {carol_line}, column `user_creation_time`")), "{error}");
    assert!(error.contains("carol"), "the error names the row's user: {error}");
    // Every finding but carol's (unused-user) is still there, from the rows that were read.
    let mut expected = expected_findings(ACCOUNT_B);
    expected.remove(&("unused-user".to_string(), arn(ACCOUNT_B, "user", "carol")));
    expected.insert(("account-not-audited".into(), root_arn(ACCOUNT_B)));
    assert_eq!(run.finding_pairs(ACCOUNT_B), expected);
}

// (c)
#[test]
fn an_unreadable_policy_document_is_located_and_the_rest_is_still_analysed() {
    let snapshot = SnapshotDir::two_accounts();
    let gaad = gaad_path(ACCOUNT_A);
    let mut details = snapshot.read_json(&gaad);
    let mut mallory = user(ACCOUNT_A, "mallory");
    // URL-encoded like the raw IAM API; decodes to `{not a policy}`.
    mallory["UserPolicyList"] = json!([{"PolicyName": "broken", "PolicyDocument": "%7Bnot%20a%20policy%7D"}]);
    details["UserDetailList"].as_array_mut().expect("users").insert(0, mallory);
    snapshot.write_json(&gaad, &details);

    let run = run(snapshot.path(), &[]);
    let coverage = failed_while_the_other_is_complete(&run, ACCOUNT_A, ACCOUNT_B);
    let place = "UserDetailList[0].UserPolicyList[0].PolicyDocument";
    let error = text(&coverage["error"]);
    assert!(error.contains(&gaad) && error.contains(place), "error names {gaad} and {place}: {error}");
    let problems = coverage["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{coverage:#}");
    assert_eq!(problems[0]["file"], gaad.as_str());
    assert_eq!(problems[0]["position"], place);
    assert!(run.coverage_csv_row(ACCOUNT_A)["error"].contains(place));
    assert_eq!(coverage["inventory"]["users"], 4, "the graph was still read: {coverage:#}");
    assert_not_audited_finding(&run, ACCOUNT_A, place);

    // Every other principal was judged as usual.
    let got = run.finding_pairs(ACCOUNT_A);
    let missing: Vec<_> = expected_findings(ACCOUNT_A).difference(&got).cloned().collect();
    assert!(missing.is_empty(), "findings lost beside the broken document: {missing:?}");
    assert_eq!(coverage["checks_without_input"], json!(IDENTITY_CENTER_CHECKS), "{coverage:#}");
    assert!(
        run.findings_of(ACCOUNT_A, "admin-access").iter().all(|f| f["resource_name"] != "mallory"),
        "an unreadable document grants nothing"
    );
}

// (d)
#[test]
fn an_error_json_marks_the_account_failed_with_its_message() {
    let snapshot = SnapshotDir::two_accounts();
    snapshot.remove(&format!("accounts/{ACCOUNT_B}"));
    let message = "User: arn:aws:sts::111111111111:assumed-role/auditor/run is not authorized to perform: \
                   sts:AssumeRole on resource: arn:aws:iam::222222222222:role/IamAuditorRole";
    snapshot.write_json(
        &format!("accounts/{ACCOUNT_B}/error.json"),
        &json!({"stage": "assume-role", "code": "AccessDenied", "message": message}),
    );

    let run = run(snapshot.path(), &[]);
    let coverage = failed_while_the_other_is_complete(&run, ACCOUNT_B, ACCOUNT_A);
    let error = text(&coverage["error"]);
    for part in ["assume-role", "AccessDenied", message] {
        assert!(error.contains(part), "error carries {part:?}: {error}");
    }
    assert!(run.coverage_csv_row(ACCOUNT_B)["error"].contains(message));
    assert_not_audited_finding(&run, ACCOUNT_B, message);
    assert_eq!(run.finding_pairs(ACCOUNT_B), pairs(&[("account-not-audited", root_arn(ACCOUNT_B))]));
}

// (e)
#[test]
fn an_active_account_without_a_folder_fails_and_a_suspended_one_is_skipped() {
    let ghost = "333333333333";
    let suspended = "444444444444";
    let snapshot = SnapshotDir::with_accounts(&[
        (ACCOUNT_A, "management", "ACTIVE"),
        (ACCOUNT_B, "prod-payments", "ACTIVE"),
        (ghost, "prod-ghost", "ACTIVE"),
        (suspended, "closed-sandbox", "SUSPENDED"),
    ]);
    // Listed ACTIVE by the organization, but never collected: not in the manifest, no folder.
    snapshot.remove(&format!("accounts/{ghost}"));
    let mut manifest = snapshot.read_json("manifest.json");
    manifest["accounts"].as_array_mut().expect("accounts").retain(|a| a["account_id"] != ghost);
    snapshot.write_json("manifest.json", &manifest);

    let run = run(snapshot.path(), &[]);
    run.assert_code(3);
    run.assert_complete(ACCOUNT_A);
    run.assert_complete(ACCOUNT_B);
    assert_eq!(run.coverage_csv().len(), 4, "every listed account has a coverage row");

    let coverage = run.coverage(ghost);
    assert_eq!(coverage["status"], "failed", "{coverage:#}");
    assert_eq!(coverage["account_name"], "prod-ghost");
    assert!(text(&coverage["error"]).contains(&format!("accounts/{ghost}/")), "{coverage:#}");
    assert_eq!(run.coverage_csv_row(ghost)["status"], "failed");
    assert_not_audited_finding(&run, ghost, &format!("accounts/{ghost}/"));
    assert_eq!(run.finding_pairs(ghost), pairs(&[("account-not-audited", root_arn(ghost))]));

    let coverage = run.coverage(suspended);
    assert_eq!(coverage["status"], "skipped", "{coverage:#}");
    assert!(text(&coverage["error"]).contains("SUSPENDED"), "{coverage:#}");
    assert_eq!(run.coverage_csv_row(suspended)["status"], "skipped");
    assert!(run.finding_pairs(suspended).is_empty(), "a skipped account has no findings");
}

// (e)
#[test]
fn a_suspended_account_alone_does_not_change_the_exit_code() {
    let suspended = "444444444444";
    let snapshot = SnapshotDir::with_accounts(&[
        (ACCOUNT_A, "management", "ACTIVE"),
        (ACCOUNT_B, "prod-payments", "ACTIVE"),
        (suspended, "closed-sandbox", "SUSPENDED"),
    ]);
    let run = run(snapshot.path(), &[]);
    run.assert_code(0);
    run.assert_complete(ACCOUNT_A);
    run.assert_complete(ACCOUNT_B);
    assert_eq!(run.coverage(suspended)["status"], "skipped");
    assert!(run.findings_of(suspended, "account-not-audited").is_empty());
}

fn assert_fatal(run: &Run, needles: &[&str]) {
    run.assert_code(1);
    for needle in needles {
        assert!(run.stderr.contains(needle), "stderr lacks {needle:?}; {}", run.describe());
    }
    assert!(!run.out().exists(), "a fatal error writes no reports; {}", run.describe());
    assert!(!crashed(run), "{}", run.describe());
}

// (f)
#[test]
fn a_missing_snapshot_folder_is_fatal_and_says_what_to_do() {
    let parent = tempfile::tempdir().expect("temporary folder");
    let missing = parent.path().join("no-such-snapshot");
    let run = run(&missing, &[]);
    assert_fatal(&run, &[missing.to_str().expect("UTF-8 path"), "does not exist", "--snapshot"]);

    let empty = SnapshotDir::empty();
    let run = common::run(empty.path(), &[]);
    assert_fatal(&run, &[empty.path().to_str().expect("UTF-8 path"), "not a snapshot", "manifest.json"]);
}

// (g)
#[test]
fn config_errors_are_fatal_and_name_the_key_and_line() {
    let snapshot = SnapshotDir::two_accounts();
    let cases: [(&str, &str, &[&str]); 5] = [
        ("unknown key", "[thresholds]\nunused_days = 30\nunsed_days = 10\n", &["unsed_days", "line 3"]),
        ("bad value", "[checks]\nfail_on = \"severe\"\n", &["severe", "line 2", "fail_on"]),
        ("bad type", "\n[thresholds]\nunused_days = \"ninety\"\n", &["unused_days", "line 3"]),
        (
            "unknown check in [checks].disable",
            "[checks]\ndisable = [\"admin-access\",\n  \"no-such-check\"]\n",
            &["no-such-check", "line 3", "checks.disable", "iam-auditor checks"],
        ),
        (
            "unknown check in [[suppressions]]",
            "\n[[suppressions]]\ncheck = \"wide-trusts\"\nresource = \"*\"\nreason = \"x\"\nexpires = \"2030-01-01\"\n",
            &["wide-trusts", "line 3", "suppressions[0].check"],
        ),
    ];
    for (what, config, needles) in cases {
        let run = run_with_config(snapshot.path(), config);
        assert_eq!(run.code, 1, "{what}: {}", run.describe());
        for needle in needles {
            assert!(run.stderr.contains(needle), "{what}: stderr lacks {needle:?}; {}", run.describe());
        }
        assert!(run.stderr.contains("iam-auditor.toml"), "{what}: names the config file; {}", run.describe());
        assert!(!run.out().exists(), "{what}: no reports on a config error");
    }

    let parent = tempfile::tempdir().expect("temporary folder");
    let missing = parent.path().join("absent.toml");
    let run = run(snapshot.path(), &["--config", missing.to_str().expect("UTF-8 path")]);
    assert_fatal(&run, &["cannot read config", missing.to_str().expect("UTF-8 path")]);
    let run = common::run(snapshot.path(), &["--config", parent.path().to_str().expect("UTF-8 path")]);
    assert_fatal(&run, &["cannot read config", parent.path().to_str().expect("UTF-8 path")]);
}

#[test]
fn a_config_given_as_toml_text_in_the_environment_is_read_and_checked_the_same() {
    let snapshot = SnapshotDir::two_accounts();
    let scratch = tempfile::tempdir().expect("temporary folder");
    let run_with_env = |toml: &str| {
        common::iam_auditor()
            .env("IAM_AUDITOR_CONFIG_TOML", toml)
            .args(["run", "--no-mail", "--as-of", AS_OF, "--snapshot"])
            .arg(snapshot.path())
            .arg("--out")
            .arg(scratch.path().join(format!("out-{}", toml.len())))
            .output()
            .expect("the binary runs")
    };
    let bad = run_with_env("[thresholds]\nunsed_days = 10\n");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("IAM_AUDITOR_CONFIG_TOML") && stderr.contains("unsed_days"), "{stderr}");
    let good = run_with_env("[checks]\ndisable = [\"admin-access\"]\n");
    assert!(good.status.code().is_some_and(|c| c != 1), "{}", String::from_utf8_lossy(&good.stderr));
    let out = scratch.path().join(format!("out-{}", "[checks]\ndisable = [\"admin-access\"]\n".len()));
    let findings: Value = serde_json::from_slice(&std::fs::read(out.join("findings.json")).unwrap()).unwrap();
    assert_eq!(findings["run"]["disabled_checks"], serde_json::json!(["admin-access"]));
    assert!(findings["run"]["config_sha256"].is_string(), "the config's digest is recorded");
}

// (h)
#[test]
fn a_bad_as_of_is_a_usage_error() {
    let snapshot = SnapshotDir::two_accounts();
    let out = tempfile::tempdir().expect("temporary folder");
    let output = iam_auditor()
        .arg("run")
        .arg("--snapshot")
        .arg(snapshot.path())
        .args(["--as-of", "garbage", "--out"])
        .arg(out.path().join("out"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--as-of") && stderr.contains("garbage") && stderr.contains("RFC 3339"),
        "{stderr}"
    );
    assert!(!out.path().join("out").exists());
}

// (i)
#[test]
fn fail_on_turns_findings_at_or_above_it_into_exit_4() {
    let snapshot = SnapshotDir::two_accounts();
    let run = run_with_config(snapshot.path(), "[checks]\nfail_on = \"high\"\n");
    run.assert_code(4);
    run.assert_complete(ACCOUNT_A);
    run.assert_complete(ACCOUNT_B);
    assert!(run.stdout.contains("fail_on"), "{}", run.describe());
    assert_eq!(run.findings_json()["run"]["fail_on"], "high");

    // Below the threshold: the critical checks disabled, the worst left is high.
    let config = "[checks]\nfail_on = \"critical\"\ndisable = [\"wide-trust\", \"root-mfa-disabled\"]\n";
    let run = run_with_config(snapshot.path(), config);
    run.assert_code(0);
    assert!(run.findings().iter().all(|f| f["severity"] != "critical"));
    assert!(!run.findings().is_empty());

    // Suppressed findings do not count towards fail_on, and stay in findings.json.
    let config = "[checks]\nfail_on = \"critical\"\n\n[[suppressions]]\ncheck = \"wide-trust\"\nresource = \"*\"\n\
                  reason = \"test fixture\"\nexpires = \"2030-01-01\"\n\n[[suppressions]]\ncheck = \"root-mfa-disabled\"\n\
                  resource = \"arn:aws:iam::*:root\"\nreason = \"test fixture\"\nexpires = \"2030-01-01\"\n";
    let run = run_with_config(snapshot.path(), config);
    run.assert_code(0);
    let critical: Vec<Value> = run.findings().into_iter().filter(|f| f["severity"] == "critical").collect();
    assert_eq!(critical.len(), 4, "2 wide-trust + 2 root-mfa-disabled, suppressed");
    assert!(critical.iter().all(|f| f["status"] == "suppressed"), "{critical:#?}");
}

// (i)
#[test]
fn a_failed_account_and_fail_on_together_exit_4() {
    let snapshot = SnapshotDir::two_accounts();
    snapshot.write(&gaad_path(ACCOUNT_B), "{\"UserDetailList\": [");
    let run = run_with_config(snapshot.path(), "[checks]\nfail_on = \"high\"\n");
    run.assert_code(4);
    run.assert_complete(ACCOUNT_A);
    assert_eq!(run.coverage(ACCOUNT_B)["status"], "failed");
}

// (j)
#[test]
fn checks_lists_the_catalog() {
    let output = iam_auditor().arg("checks").output().expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let listed: BTreeSet<&str> =
        stdout.lines().skip(1).filter_map(|line| line.split_whitespace().next()).collect();
    let catalog: BTreeSet<&str> = CHECK_IDS.into_iter().collect();
    assert_eq!(listed, catalog, "{stdout}");
    assert_eq!(stdout.lines().count(), 1 + CHECK_IDS.len(), "a header and one line per check:\n{stdout}");

    let output = iam_auditor().args(["checks", "console-without-mfa"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(stdout.contains("console-without-mfa") && stdout.contains("aws iam"), "{stdout}");

    let output = iam_auditor().args(["checks", "no-such-id"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert!(stderr.contains("no-such-id"), "{stderr}");
}

// (k)
#[test]
fn csv_cells_that_a_spreadsheet_would_evaluate_are_neutralised() {
    let hostile_account = "=HYPERLINK(\"http://evil.example\",\"prod\")";
    let snapshot = SnapshotDir::with_accounts(&[
        (ACCOUNT_A, "management", "ACTIVE"),
        (ACCOUNT_B, hostile_account, "ACTIVE"),
    ]);
    let gaad = gaad_path(ACCOUNT_A);
    let mut details = snapshot.read_json(&gaad);
    let admin = json!([{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]);
    let allow_all = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let users = details["UserDetailList"].as_array_mut().expect("users");
    // IAM allows + = , . @ _ - in names; the tab and CR come from a hand-made snapshot.
    for (name, inline) in
        [("=cmd@x", None), ("+sum", Some("\ttab-policy")), ("-2+3", Some("\rcr-policy")), ("@SUM", None)]
    {
        let mut hostile = user(ACCOUNT_A, name);
        hostile["AttachedManagedPolicies"] = admin.clone();
        if let Some(policy) = inline {
            hostile["UserPolicyList"] = json!([{"PolicyName": policy, "PolicyDocument": allow_all.clone()}]);
        }
        users.push(hostile);
    }
    snapshot.write_json(&gaad, &details);
    let mut rows = standard_users(ACCOUNT_A);
    let none = "false,N/A,N/A,N/A,N/A";
    rows.push((
        "=cmd@x".into(),
        format!(
            "{},2020-01-01T00:00:00+00:00,true,2024-05-30T00:00:00+00:00,2020-01-01T00:00:00+00:00,N/A,false,{none},{none},false,N/A,false,N/A",
            arn(ACCOUNT_A, "user", "=cmd@x")
        ),
    ));
    snapshot.write(&credential_report_path(ACCOUNT_A), credential_report(&rows));

    let run = run(snapshot.path(), &[]);
    run.assert_code(0);
    run.assert_complete(ACCOUNT_B);
    assert_eq!(run.coverage(ACCOUNT_A)["status"], "audited");

    let dangerous = |cell: &str| cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let findings_csv = read_csv(&run.out().join("findings.csv"));
    let coverage_csv = run.coverage_csv();
    for (file, rows) in [("findings.csv", &findings_csv), ("coverage.csv", &coverage_csv)] {
        for row in rows {
            for (column, cell) in row {
                assert!(!dangerous(cell), "{file} column {column} starts a formula: {cell:?}");
            }
        }
    }

    // Each CSV cell is the JSON value, with a `'` in front exactly when it would be a formula.
    let by_fingerprint: std::collections::BTreeMap<String, &std::collections::BTreeMap<String, String>> =
        findings_csv.iter().map(|row| (row["fingerprint"].clone(), row)).collect();
    let findings = run.findings();
    assert_eq!(findings.len(), findings_csv.len(), "one CSV row per finding");
    let mut neutralised = BTreeSet::new();
    for finding in &findings {
        let row = by_fingerprint[&text(&finding["fingerprint"])];
        let columns = [
            "account_name",
            "resource_arn",
            "resource_name",
            "title",
            "detail",
            "remediation_command",
            "console_url",
        ];
        for column in columns {
            let value = text(&finding[column]);
            let expected = if dangerous(&value) { format!("'{value}") } else { value.clone() };
            assert_eq!(row[column], expected, "column {column} of {finding:#}");
            if dangerous(&value) {
                neutralised.insert(value);
            }
        }
    }
    for raw in ["=cmd@x", "+sum", "-2+3", "@SUM", "\ttab-policy", "\rcr-policy", hostile_account] {
        assert!(neutralised.contains(raw), "{raw:?} reached the CSV as a cell; neutralised: {neutralised:?}");
    }
    assert!(coverage_csv.iter().any(|row| row["account_name"] == format!("'{hostile_account}")));
    let console = run.findings_of(ACCOUNT_A, "console-without-mfa");
    let cmd = console.iter().find(|f| f["resource_name"] == "=cmd@x").expect("=cmd@x signs in without MFA");
    assert!(text(&cmd["detail"]).contains("=cmd@x") || text(&cmd["title"]).contains("=cmd@x"), "{cmd:#}");
    let admin_rows: Vec<_> = findings_csv
        .iter()
        .filter(|row| row["check"] == "admin-access" && row["detail"].contains("=cmd@x"))
        .collect();
    assert!(!admin_rows.is_empty(), "a detail names =cmd@x");
}

// (l)
/// Truncations and byte flips of every file of a valid snapshot: the binary may report the
/// damage, never panic, and always writes its reports. Runs on a few threads, each with its
/// own copy of the snapshot.
#[test]
fn damaged_files_never_crash_the_run() {
    let accounts = [(ACCOUNT_A, "management", "ACTIVE")];
    let pristine = SnapshotDir::with_accounts(&accounts);
    let files = pristine.files();
    assert!(files.len() >= 7, "{files:?}");
    let mut cases: Vec<(String, String, Vec<u8>)> = Vec::new();
    for file in &files {
        let original = pristine.read(file);
        let len = original.len();
        for cut in [0, 1, len / 3, len / 2, len - 2] {
            cases.push((file.clone(), format!("truncated to {cut} bytes"), original[..cut].to_vec()));
        }
        let replacements = [b'"', b'{', b'0', 0x00, 0xC3, b','];
        for (k, byte) in replacements.iter().enumerate() {
            let at = len * (k + 1) / (replacements.len() + 1);
            let mut flipped = original.clone();
            flipped[at] = *byte;
            cases.push((file.clone(), format!("byte {at} set to {byte:#04x}"), flipped));
        }
    }

    let started = Instant::now();
    let workers = 3;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(workers))
            .map(|chunk| {
                scope.spawn(move || {
                    let snapshot = SnapshotDir::with_accounts(&accounts);
                    let mut failures = Vec::new();
                    for (file, what, bytes) in chunk {
                        let original = snapshot.read(file);
                        snapshot.write(file, bytes);
                        let run = run(snapshot.path(), &[]);
                        snapshot.write(file, &original);
                        if ![0, 3, 4].contains(&run.code) || crashed(&run) {
                            failures.push(format!("{file} {what}: {}", run.describe()));
                            continue;
                        }
                        let coverage = run.findings_json()["coverage"].clone();
                        if !coverage
                            .as_array()
                            .is_some_and(|c| c.iter().any(|row| row["account_id"] == ACCOUNT_A))
                        {
                            failures
                                .push(format!("{file} {what}: account A missing from coverage {coverage:#}"));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("worker")).collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} damaged snapshots failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() > 80, "{} cases", cases.len());
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}
