//! The binary against the synthetic organization of `shared/bench/gen_org_snapshot.py`, whose
//! planted findings are known: recall and precision must be at least 0.99 for every mapped
//! check, and no decoy may be reported. The mapping is the one of `bench/ground_truth.py`
//! (stated there and in bench/README.md); it is written again here so that the test does not
//! trust the script it is meant to agree with.
//!
//! Needs python3 (3.11+) and the repository's `shared/` folder beside this crate, as in CI.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{iam_auditor, text};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MIN: f64 = 0.99;

type Keys = BTreeSet<String>;

fn generator() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_org_snapshot.py");
    assert!(
        path.is_file(),
        "the snapshot generator is missing at {}: check out the repository's shared/ folder beside \
         this crate (CI does: <checkout>/shared/bench/gen_org_snapshot.py)",
        path.display()
    );
    path
}

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

/// What the run must report for one account, by check row; and the decoys (row, keys) it must not.
fn expected_rows(
    expected: &Value,
    graph: &Value,
) -> (BTreeMap<&'static str, Keys>, Vec<(&'static str, Keys)>) {
    let entity = |name: &str| keys(&expected["entities"][name]);
    let details = &expected["details"];
    let cut = instant(&expected["now"]) - Duration::days(90);
    let users = list(graph, "UserDetailList");
    let roles = list(graph, "RoleDetailList");

    // S: privesc holders that can grant themselves "*".
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

    let rows = BTreeMap::from([
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
    ]);
    let decoys = vec![
        ("wide-trust", entity("roles_trust_any_principal_conditioned")),
        ("oidc-trust-unscoped", entity("roles_github_oidc_with_sub")),
        ("full-admin-policy", keys(&details["decoy_policies"])),
        ("external-trust", entity("roles_trust_org_account")),
        ("admin-access (any)", entity("users_poweruser_via_group").difference(&admin).cloned().collect()),
    ];
    (rows, decoys)
}

/// Checks compared by resource ARN alone, under their own id.
const KEYED_BY_ARN: [&str; 7] = [
    "wide-trust",
    "oidc-trust-unscoped",
    "unused-user",
    "unused-role",
    "console-without-mfa",
    "root-mfa-disabled",
    "root-access-keys",
];

/// One account's findings as check row → keys, keyed like the expected sets.
fn found_rows<'a>(findings: impl Iterator<Item = &'a Value>) -> BTreeMap<&'static str, Keys> {
    let mut rows: BTreeMap<&'static str, Keys> = BTreeMap::new();
    let mut add = |row: &'static str, key: String| {
        rows.entry(row).or_default().insert(key);
    };
    for finding in findings {
        let arn = text(&finding["resource_arn"]);
        let evidence = &finding["evidence"];
        match (text(&finding["check"]).as_str(), text(&finding["severity"]).as_str()) {
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
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

#[test]
fn planted_findings_are_found_and_decoys_are_not() {
    let generator = generator();
    let work = tempfile::tempdir().expect("temporary folder");
    let output = std::process::Command::new("python3")
        .arg(&generator)
        .args(["--accounts", "3", "--users", "300", "--roles", "300", "--groups", "20", "--policies", "120"])
        .args(["--seed", "11", "--out"])
        .arg(work.path())
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

    let expected_dir = work.path().join("expected");
    let mut expected_files: Vec<PathBuf> = std::fs::read_dir(&expected_dir)
        .expect("the generator wrote expected/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    expected_files.sort();
    assert_eq!(expected_files.len(), 3, "one expected file per account");
    let expected: Vec<Value> = expected_files.iter().map(|p| read_json(p)).collect();
    let now = text(&expected[0]["now"]);

    let snapshot = work.path().join("snapshot");
    let out = work.path().join("out");
    let run = iam_auditor()
        .arg("run")
        .arg("--snapshot")
        .arg(&snapshot)
        .args(["--as-of", &now, "--no-mail", "--out"])
        .arg(&out)
        .output()
        .expect("the binary runs");
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let report = read_json(&out.join("findings.json"));
    let findings = report["findings"].as_array().expect("findings");

    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut decoys_found: Vec<String> = Vec::new();
    for expected in &expected {
        let account = text(&expected["account_id"]);
        let graph =
            read_json(&snapshot.join(format!("accounts/{account}/account-authorization-details.json")));
        let (want, decoys) = expected_rows(expected, &graph);
        let got = found_rows(findings.iter().filter(|f| f["account_id"] == account.as_str()));
        let none = Keys::new();
        for (row, want) in &want {
            let got = got.get(row).unwrap_or(&none);
            let tally = tallies.entry(row).or_default();
            tally.matched += want.intersection(got).count();
            tally.found += got.len();
            tally.expected += want.len();
        }
        for (row, decoys) in decoys {
            let got = got.get(row).unwrap_or(&none);
            decoys_found.extend(decoys.intersection(got).map(|arn| format!("{row}: {arn}")));
        }
    }

    let mut table = format!(
        "{:32} {:>8} {:>8} {:>8} {:>8} {:>9}\n",
        "check", "expected", "found", "matched", "recall", "precision"
    );
    let mut below = Vec::new();
    for (row, t) in &tallies {
        let (recall, precision) = (ratio(t.matched, t.expected), ratio(t.matched, t.found));
        table += &format!(
            "{row:32} {:8} {:8} {:8} {recall:8.4} {precision:9.4}\n",
            t.expected, t.found, t.matched
        );
        if recall < MIN || precision < MIN || t.expected == 0 {
            below.push(*row);
        }
    }
    assert_eq!(tallies.len(), 13, "{table}");
    assert!(below.is_empty(), "below {MIN} (or nothing planted) for {below:?}:\n{table}");
    assert!(decoys_found.is_empty(), "decoys reported: {decoys_found:#?}\n{table}");
}
