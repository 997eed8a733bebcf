//! `iam-auditor explain` against the demo organization: the README's worked examples are
//! the binary's real output (so the README cannot drift), the JSON form carries the same
//! decision, and bad input is answered with what to do.

mod common;

use common::iam_auditor;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `iam-auditor explain --snapshot examples/demo-org ARGS…`, run from the repository.
fn explain_demo(args: &[&str]) -> std::process::Output {
    iam_auditor()
        .current_dir(repo())
        .args(["explain", "--snapshot", "examples/demo-org"])
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The `explain` commands of the README's console blocks, each with the lines it prints.
fn readme_examples() -> Vec<(Vec<String>, String)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let mut examples: Vec<(Vec<String>, String)> = Vec::new();
    let mut in_console = false;
    for line in readme.lines() {
        if line.starts_with("```console") {
            in_console = true;
            continue;
        }
        if line.starts_with("```") {
            in_console = false;
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ cargo run -q -- explain ") {
            let args = std::iter::once("explain".to_string())
                .chain(command.split_whitespace().map(str::to_string))
                .collect();
            examples.push((args, String::new()));
        } else if line.starts_with("$ ") {
            // Another command of the same block: its output is not ours.
            examples.push((Vec::new(), String::new()));
        } else if let Some((_, output)) = examples.last_mut() {
            output.push_str(line);
            output.push('\n');
        }
    }
    examples.retain(|(args, _)| !args.is_empty());
    examples
}

#[test]
fn the_readme_examples_are_the_real_output() {
    let examples = readme_examples();
    assert!(examples.len() >= 2, "the README's explain examples were not found: {examples:?}");
    for (args, expected) in examples {
        let output = iam_auditor().current_dir(repo()).args(&args).output().expect("runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(stdout, expected, "README drifted from `iam-auditor {}`", args.join(" "));
    }
}

#[test]
fn the_json_form_carries_the_decision_level_by_level() {
    let output = explain_demo(&[
        "--principal",
        "arn:aws:iam::444455556666:user/helpdesk",
        "--action",
        "iam:CreateAccessKey",
        "--resource",
        "arn:aws:iam::444455556666:user/sam.contractor",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["evaluation"]["decision"], "allowed", "{value}");
    let levels = value["evaluation"]["levels"].as_array().unwrap();
    assert_eq!(levels.last().unwrap()["kind"], "identity", "prod has no boundary on helpdesk");
    assert!(levels.iter().filter(|l| l["kind"] == "scp").count() >= 2, "root and OU levels: {value}");

    // The same user may not create keys outside its account's users.
    let denied = explain_demo(&[
        "--principal",
        "arn:aws:iam::444455556666:user/helpdesk",
        "--action",
        "iam:CreateAccessKey",
        "--resource",
        "arn:aws:iam::777788889999:user/dev.kim",
        "--format",
        "json",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&denied.stdout).unwrap();
    assert_eq!(value["evaluation"]["decision"], "denied", "{value}");
}

#[test]
fn why_admin_follows_a_path_across_accounts() {
    let output = explain_demo(&["--why-admin", "arn:aws:iam::111122223333:role/release-orchestrator"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(stdout.contains("sts:AssumeRole [sts-001]"), "{stdout}");
    assert!(stdout.contains("OrganizationAccountAccessRole"), "{stdout}");
    // A look-alike: keys for itself only.
    let output = explain_demo(&["--why-admin", "arn:aws:iam::444455556666:user/key-self-service"]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("no escalation path to admin was found"));
}

#[test]
fn an_unknown_principal_or_account_says_what_to_do() {
    let output =
        explain_demo(&["--principal", "arn:aws:iam::444455556666:user/nobody", "--action", "s3:GetObject"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no user or role arn:aws:iam::444455556666:user/nobody"), "{stderr}");
    let output = explain_demo(&["--why-admin", "arn:aws:iam::000000000000:user/x"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("account 000000000000 is not in the snapshot"));
}
