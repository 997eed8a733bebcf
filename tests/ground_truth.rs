//! The binary against a synthetic organization whose planted findings are known: recall and
//! precision must be at least 0.99 for every row of the ground truth, and no decoy may be
//! reported. The organization comes from the project's own generator, `bench/gen_org.py`,
//! whose `expected/<account>.json` says, row by row, what a correct audit reports and which
//! look-alikes it must not (its docstring describes the rows). bench/ground_truth.py makes the
//! same comparison for the benchmark; it is written again here so that the test does not trust
//! the script it is meant to agree with.
//!
//! A second test, ignored unless asked for, repeats the comparison on the organization of an
//! independent generator written elsewhere (`gen_org_snapshot.py`, with its own mapping below):
//! `IAM_AUDITOR_SHARED_GENERATOR=/path/to/gen_org_snapshot.py cargo test --test ground_truth --
//! --ignored`. The project needs nothing outside its own folder to build or pass its tests.
//!
//! Needs python3 (3.11+).

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{iam_auditor, text};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MIN: f64 = 0.99;

type Keys = BTreeSet<String>;

/// Row → key → what was planted (for the reader of a mismatch).
type Rows = BTreeMap<String, BTreeMap<String, String>>;

/// The rows `bench/gen_org.py` must state for every account, each planted at least once in
/// the organization the test generates.
const OWN_ROWS: [&str; 16] = [
    "admin-access (high)",
    "admin-access (info, capped)",
    "console-without-mfa",
    "external-trust",
    "external-trust (no ExternalId)",
    "full-admin-policy",
    "multiple-active-keys",
    "oidc-trust-unscoped",
    "password-policy-weak",
    "root-access-keys",
    "root-mfa-disabled",
    "root-recent-use",
    "stale-access-key",
    "unused-role",
    "unused-user",
    "wide-trust",
];

/// What one account must show: expected rows and decoys, each row → key → why.
struct AccountTruth {
    account_id: String,
    expected: Rows,
    decoys: Rows,
}

/// The generator's arguments in both tests: 3 accounts of 300 users and 300 roles.
const ORGANIZATION: [&str; 12] = [
    "--accounts",
    "3",
    "--users",
    "300",
    "--roles",
    "300",
    "--groups",
    "20",
    "--policies",
    "120",
    "--seed",
    "11",
];

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn keys(value: &Value) -> Keys {
    value.as_array().map(|a| a.iter().map(text).collect()).unwrap_or_default()
}

fn list<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value[field].as_array().map(Vec::as_slice).unwrap_or_default()
}

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&text(value)).unwrap_or_else(|e| panic!("{value}: {e}")).with_timezone(&Utc)
}

/// Runs a generator with [`ORGANIZATION`] into `dir`; its ground truth files, sorted.
fn generate(generator: &Path, dir: &Path) -> Vec<Value> {
    let output = std::process::Command::new("python3")
        .arg(generator)
        .args(ORGANIZATION)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 ({e}): install Python 3.11+ as `python3` to run {}",
                generator.display()
            )
        });
    assert!(
        output.status.success(),
        "{} failed ({}): {}",
        generator.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let expected_dir = dir.join("expected");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&expected_dir)
        .unwrap_or_else(|e| panic!("{} wrote no expected/: {e}", generator.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "one expected file per account");
    files.iter().map(|p| read_json(p)).collect()
}

/// `iam-auditor run` on the snapshot, judged at `now`, with the default thresholds.
fn audit(snapshot: &Path, now: &str, out: &Path) -> Value {
    let run = iam_auditor()
        .arg("run")
        .arg("--snapshot")
        .arg(snapshot)
        .args(["--as-of", now, "--no-mail", "--out"])
        .arg(out)
        .output()
        .expect("the binary runs");
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    read_json(&out.join("findings.json"))
}

/// `bench/gen_org.py`'s truth file, read as it is written.
fn own_truth(expected: &Value) -> AccountTruth {
    let rows = |field: &str| -> Rows {
        let object = expected[field].as_object().unwrap_or_else(|| panic!("expected file without {field}"));
        object
            .iter()
            .map(|(row, keys)| {
                let keys = keys.as_object().unwrap_or_else(|| panic!("{field}.{row} is not an object"));
                (row.clone(), keys.iter().map(|(k, why)| (k.clone(), text(why))).collect())
            })
            .collect()
    };
    AccountTruth {
        account_id: text(&expected["account_id"]),
        expected: rows("expected"),
        decoys: rows("decoys"),
    }
}

/// The shared generator's categories mapped to rows (the mapping it was benchmarked with):
/// privilege-escalation holders count as admin when they can grant themselves `*`.
fn shared_truth(expected: &Value, graph: &Value) -> AccountTruth {
    let entity = |name: &str| keys(&expected["entities"][name]);
    let details = &expected["details"];
    let cut = instant(&expected["now"]) - Duration::days(90);
    let users = list(graph, "UserDetailList");
    let roles = list(graph, "RoleDetailList");

    let privesc = entity("principals_privesc");
    let mut admin = entity("admin_principals");
    for (kind, principals) in [("user", users), ("role", roles)] {
        for principal in principals.iter().filter(|p| privesc.contains(&text(&p["Arn"]))) {
            let escalates = list(principal, "AttachedManagedPolicies").iter().any(|attached| {
                let arn = text(&attached["PolicyArn"]);
                let method = text(&details["privesc_methods"][&arn]);
                arn == "arn:aws:iam::aws:policy/IAMFullAccess"
                    || method == "CreateNewPolicyVersion"
                    || (method == "AttachUserPolicy" && kind == "user")
                    || (method == "PutRolePolicy" && kind == "role")
            });
            if escalates {
                admin.insert(text(&principal["Arn"]));
            }
        }
    }
    let bounded: Keys = users
        .iter()
        .chain(roles)
        .filter(|p| p.get("PermissionsBoundary").is_some_and(|b| !b.is_null()))
        .map(|p| text(&p["Arn"]))
        .collect();
    let attached: Keys = list(graph, "Policies")
        .iter()
        .filter(|p| p["AttachmentCount"].as_u64().unwrap_or(0) > 0)
        .map(|p| text(&p["Arn"]))
        .collect();
    let admin_policies: Keys = entity("policies_customer_admin_star")
        .union(&entity("policies_customer_admin_notaction"))
        .cloned()
        .collect();
    let never_used = entity("roles_never_used");
    let mut unused_roles = entity("roles_unused_90d");
    unused_roles.extend(
        roles
            .iter()
            .filter(|r| never_used.contains(&text(&r["Arn"])) && instant(&r["CreateDate"]) < cut)
            .map(|r| text(&r["Arn"])),
    );
    let service_linked: Keys = roles
        .iter()
        .filter(|r| text(&r["Path"]).starts_with("/aws-service-role/"))
        .map(|r| text(&r["Arn"]))
        .collect();

    let row =
        |keys: Keys| -> BTreeMap<String, String> { keys.into_iter().map(|k| (k, String::new())).collect() };
    let expected_rows: Vec<(&str, Keys)> = vec![
        ("admin-access (high)", admin.difference(&bounded).cloned().collect()),
        ("admin-access (info, capped)", admin.intersection(&bounded).cloned().collect()),
        (
            "full-admin-policy",
            admin_policies.intersection(&attached).cloned().chain(entity("inline_admin_policies")).collect(),
        ),
        ("wide-trust", entity("roles_trust_any_principal_unconditioned")),
        ("external-trust", entity("roles_trust_external_account")),
        ("external-trust (no ExternalId)", entity("roles_trust_external_account_no_externalid")),
        ("oidc-trust-unscoped", entity("roles_github_oidc_without_sub")),
        ("unused-user", entity("users_unused_90d")),
        ("unused-role", unused_roles.difference(&service_linked).cloned().collect()),
        ("stale-access-key", entity("access_keys_active_older_90d")),
        ("console-without-mfa", entity("console_users_without_mfa")),
        ("root-mfa-disabled", entity("root_mfa_disabled")),
        ("root-access-keys", entity("root_access_keys_active")),
    ];
    let decoy_rows: Vec<(&str, Keys)> = vec![
        ("wide-trust", entity("roles_trust_any_principal_conditioned")),
        ("oidc-trust-unscoped", entity("roles_github_oidc_with_sub")),
        ("full-admin-policy", keys(&details["decoy_policies"])),
        ("external-trust", entity("roles_trust_org_account")),
        ("admin-access (any)", entity("users_poweruser_via_group").difference(&admin).cloned().collect()),
    ];
    let rows = |pairs: Vec<(&str, Keys)>| -> Rows {
        pairs.into_iter().map(|(r, k)| (r.to_string(), row(k))).collect()
    };
    AccountTruth {
        account_id: text(&expected["account_id"]),
        expected: rows(expected_rows),
        decoys: rows(decoy_rows),
    }
}

/// Checks compared by resource ARN alone, under their own id.
const KEYED_BY_ARN: [&str; 10] = [
    "wide-trust",
    "oidc-trust-unscoped",
    "unused-user",
    "unused-role",
    "console-without-mfa",
    "multiple-active-keys",
    "root-mfa-disabled",
    "root-access-keys",
    "root-recent-use",
    "password-policy-weak",
];

/// One account's findings as row → keys, keyed like the ground truth.
fn found_rows<'a>(findings: impl Iterator<Item = &'a Value>) -> BTreeMap<&'static str, Keys> {
    let mut rows: BTreeMap<&'static str, Keys> = BTreeMap::new();
    let mut add = |row: &'static str, key: String| {
        rows.entry(row).or_default().insert(key);
    };
    for finding in findings {
        let arn = text(&finding["resource_arn"]);
        let evidence = &finding["evidence"];
        match (text(&finding["check"]).as_str(), text(&finding["severity"]).as_str()) {
            // A potential path (medium: it needs a resource the snapshot does not list) says
            // "may", not "is": it claims no admin power, so a decoy may carry one.
            ("admin-access", _) if evidence["potential"] == true => {}
            ("admin-access", severity) => {
                add("admin-access (any)", arn.clone());
                match severity {
                    "high" => add("admin-access (high)", arn),
                    "info" => add("admin-access (info, capped)", arn),
                    _ => {}
                }
            }
            ("full-admin-policy", _) => match evidence["policy_name"].as_str() {
                Some(name) => add("full-admin-policy", format!("{arn}#{name}")),
                None => add("full-admin-policy", arn),
            },
            ("stale-access-key", _) => {
                add("stale-access-key", format!("{arn}#access_key_{}", evidence["access_key"]))
            }
            ("external-trust", _) => {
                if evidence["external_id_missing"] == true {
                    add("external-trust (no ExternalId)", arn.clone());
                }
                add("external-trust", arn);
            }
            (check, _) => {
                if let Some(row) = KEYED_BY_ARN.iter().find(|row| **row == check) {
                    add(row, arn);
                }
            }
        }
    }
    rows
}

#[derive(Default)]
struct Tally {
    matched: usize,
    found: usize,
    expected: usize,
    missed: Vec<String>,
    extra: Vec<String>,
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Compares the run's findings with the truth of every account; the tallies by row, as a
/// printable table, and every decoy that was reported.
fn compare(truths: &[AccountTruth], report: &Value) -> (BTreeMap<String, Tally>, String, Vec<String>) {
    let findings = report["findings"].as_array().expect("findings");
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut decoys_found = Vec::new();
    let none = Keys::new();
    for truth in truths {
        let got = found_rows(findings.iter().filter(|f| f["account_id"] == truth.account_id.as_str()));
        for (row, want) in &truth.expected {
            let got = got.get(row.as_str()).unwrap_or(&none);
            let tally = tallies.entry(row.clone()).or_default();
            let want_keys: Keys = want.keys().cloned().collect();
            tally.matched += want_keys.intersection(got).count();
            tally.found += got.len();
            tally.expected += want.len();
            tally.missed.extend(
                want.iter().filter(|(k, _)| !got.contains(*k)).map(|(k, why)| format!("{k} ({why})")),
            );
            tally.extra.extend(got.difference(&want_keys).cloned());
        }
        for (row, decoys) in &truth.decoys {
            let got = got.get(row.as_str()).unwrap_or(&none);
            decoys_found.extend(
                decoys.iter().filter(|(k, _)| got.contains(*k)).map(|(k, why)| format!("{row}: {k} ({why})")),
            );
        }
    }
    let mut table = format!(
        "{:32} {:>8} {:>8} {:>8} {:>8} {:>9}\n",
        "row", "expected", "found", "matched", "recall", "precision"
    );
    for (row, t) in &tallies {
        let (recall, precision) = (ratio(t.matched, t.expected), ratio(t.matched, t.found));
        table += &format!(
            "{row:32} {:8} {:8} {:8} {recall:8.4} {precision:9.4}\n",
            t.expected, t.found, t.matched
        );
    }
    (tallies, table, decoys_found)
}

/// Asserts recall and precision of at least [`MIN`] on every row, something planted in each,
/// and no decoy reported.
fn assert_agreement(truths: &[AccountTruth], report: &Value, rows: usize) {
    assert_agreement_except(truths, report, rows, &[], &[]);
}

/// As [`assert_agreement`], with rows judged on recall only, and rows only printed.
fn assert_agreement_except(
    truths: &[AccountTruth],
    report: &Value,
    rows: usize,
    recall_only: &[&str],
    printed_only: &[&str],
) {
    let (tallies, table, decoys_found) = compare(truths, report);
    println!("{table}");
    let mut below = Vec::new();
    for (row, t) in &tallies {
        if printed_only.contains(&row.as_str()) {
            continue;
        }
        let precision_ok = recall_only.contains(&row.as_str()) || ratio(t.matched, t.found) >= MIN;
        if ratio(t.matched, t.expected) < MIN || !precision_ok || t.expected == 0 {
            below.push(format!(
                "{row}: missed {:?}, not planted {:?}",
                &t.missed[..t.missed.len().min(5)],
                &t.extra[..t.extra.len().min(5)]
            ));
        }
    }
    assert_eq!(tallies.len(), rows, "{table}");
    assert!(below.is_empty(), "below {MIN} (or nothing planted):\n{}\n{table}", below.join("\n"));
    let decoys_found: Vec<&String> = decoys_found
        .iter()
        .filter(|d| !printed_only.iter().any(|row| d.starts_with(row.split(' ').next().unwrap_or(row))))
        .collect();
    assert!(decoys_found.is_empty(), "decoys reported: {decoys_found:#?}\n{table}");
}

#[test]
fn planted_findings_are_found_and_decoys_are_not() {
    let generator = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen_org.py");
    let work = tempfile::tempdir().expect("temporary folder");
    let truths: Vec<AccountTruth> = generate(&generator, work.path()).iter().map(own_truth).collect();
    for truth in &truths {
        let rows: Vec<&str> = truth.expected.keys().map(String::as_str).collect();
        assert_eq!(rows, OWN_ROWS, "the rows of {}'s truth", truth.account_id);
    }
    let now = text(&read_json(&work.path().join(format!("expected/{}.json", truths[0].account_id)))["now"]);
    let report = audit(&work.path().join("snapshot"), &now, &work.path().join("out"));
    assert_agreement(&truths, &report, OWN_ROWS.len());
}

#[test]
#[ignore = "a cross-check against a generator outside the project: set IAM_AUDITOR_SHARED_GENERATOR and run with --ignored"]
fn the_shared_generator_agrees_too() {
    let generator = std::env::var_os("IAM_AUDITOR_SHARED_GENERATOR").map(PathBuf::from).unwrap_or_default();
    assert!(
        generator.is_file(),
        "IAM_AUDITOR_SHARED_GENERATOR must name the independent generator's gen_org_snapshot.py (got {:?}); \
         the project's own generator is checked by planted_findings_are_found_and_decoys_are_not",
        generator.display()
    );
    let work = tempfile::tempdir().expect("temporary folder");
    let expected = generate(&generator, work.path());
    let snapshot = work.path().join("snapshot");
    let truths: Vec<AccountTruth> = expected
        .iter()
        .map(|e| {
            let account = text(&e["account_id"]);
            shared_truth(
                e,
                &read_json(&snapshot.join(format!("accounts/{account}/account-authorization-details.json"))),
            )
        })
        .collect();
    let report = audit(&snapshot, &text(&expected[0]["now"]), &work.path().join("out"));
    // That generator's truth predates the escalation graph: it knows only self-grants as
    // escalation, so the graph's other paths (PassRole to a service, trust rewrites, access
    // keys for an admin, assuming an admin role) are "not planted" there, and its capped
    // admins whose boundary still allows hijacking an admin's Lambda function or Batch job are
    // reported as potential escalation (medium), not as capped (info); and its PowerUser
    // decoys of the management account can assume every member account's
    // OrganizationAccountAccessRole. The admin-access rows are held to recall, or printed, and
    // its admin-access decoys are printed only; bench/README.md says why the extra findings
    // are right.
    assert_agreement_except(&truths, &report, 13, &["admin-access (high)"], &["admin-access (info, capped)"]);
}
