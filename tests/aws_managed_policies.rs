//! Every real AWS managed policy, each attached to one role of one account, run through the
//! real binary: only the policies that are admin-equivalent or let their holder escalate to
//! admin may be reported high by `admin-access`.
//!
//! The documents are AWS's own, as moto ships them (`moto.iam.aws_managed_policies`, from the
//! test venv that scripts/test.sh makes). Each role trusts `ec2.amazonaws.com` and is in no
//! instance profile, so no role can be passed to a service by another (every pass-role path
//! of the catalogue needs a role its service may assume, EC2 an instance profile too): what
//! a role is reported for comes from its own policy, not from its 1,500 neighbours. Roles sit
//! at path `/`, named as their policy: a policy whose IAM writes are scoped to a name pattern
//! (`role/service-role/*`, `role/CodeStarWorker*` …) is judged for a role outside it, unless
//! its own name matches (`AmazonSecurityLakeAdministrator` on `role/AmazonSecurityLake*`).
//!
//! The lists below are exact: a policy newly reported high, or one that is no longer, fails
//! the test, and must be judged from its document before a list is changed.

mod common;

use common::{emulator, ACCOUNT_A};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// IAM's limit on a role name.
const ROLE_NAME_MAX: usize = 64;

/// A policy reported high, and how: the role's standing, the catalogue paths of its
/// escalation (none when it holds admin itself), the conditions the finding rests on, and
/// why the policy really is admin-equivalent or self-escalating (read from its document).
struct High {
    policy: &'static str,
    standing: &'static str,
    paths: &'static [&'static str],
    conditions: &'static [&'static str],
    reason: &'static str,
}

const HIGH: &[High] = &[
    High {
        policy: "AdministratorAccess",
        standing: "holds",
        paths: &[],
        conditions: &[],
        reason: "Allow * on *.",
    },
    High {
        policy: "AWSMcpServiceActionsFullAccess",
        standing: "holds",
        paths: &[],
        conditions: &["Bool aws:ismcpserviceaction = true"],
        reason: "Allow * on *, conditioned on aws:IsMcpServiceAction: admin for every request made through \
                 the AWS MCP server, which the snapshot cannot decide (the finding names it).",
    },
    High {
        policy: "IAMFullAccess",
        standing: "escalates",
        paths: &["iam-005"],
        conditions: &[],
        reason: "iam:* on *: it can put (or attach) an admin policy on its own role.",
    },
    High {
        policy: "AdministratorAccess-Amplify",
        standing: "escalates",
        paths: &["iam-005"],
        conditions: &[],
        reason: "Statement CLISDKCalls allows iam:PutRolePolicy, iam:AttachRolePolicy and \
                 iam:CreatePolicyVersion on * with no condition: it can write an admin policy onto its own role.",
    },
];

/// Reported high but NOT admin-equivalent or self-escalating: engine bugs, listed so the test
/// passes while they stand and fails once they are fixed (then delete the entry). `reason`
/// says why the finding is wrong.
const KNOWN_FALSE_POSITIVES: &[High] = &[];

/// Policies reported medium: a *potential* path through an existing resource that runs as a
/// role. None here, and none may appear: every role trusts EC2 without an instance profile,
/// so no existing-resource path can land on a role, let alone the AdministratorAccess one.
/// An entry is (policy, catalogue path ids).
const MEDIUM: &[(&str, &[&str])] = &[];

/// Named by the issue: they allow iam:AttachRolePolicy on `role/*`, but only of fixed
/// non-admin policies (iam:PolicyARN) and, for the boundaries, only by QuickSetup's own
/// roles (aws:PrincipalArn): never admin.
const QUICK_SETUP: [&str; 4] = [
    "AWSQuickSetupDistributorPermissionsBoundary",
    "AWSQuickSetupPatchPolicyPermissionsBoundary",
    "AWSQuickSetupSSMHostMgmtPermissionsBoundary",
    "AWSQuickSetupManagedInstanceProfileExecutionPolicy",
];

/// Broad, but with no IAM write that leads to admin: never high.
const BROAD_NOT_ADMIN: [&str; 4] = ["PowerUserAccess", "ReadOnlyAccess", "SecurityAudit", "ViewOnlyAccess"];

/// One managed policy of moto's data.
struct Managed {
    name: String,
    path: String,
    default_version: String,
    document: Value,
}

impl Managed {
    fn arn(&self) -> String {
        format!("arn:aws:iam::aws:policy{}{}", self.path, self.name)
    }
}

/// moto's AWS managed policies, read with the test venv's Python.
fn moto_managed_policies() -> Vec<Managed> {
    let python = emulator::venv_bin("python");
    let output = Command::new(&python)
        .args(["-c", "from moto.iam.aws_managed_policies import aws_managed_policies_data; print(aws_managed_policies_data)"])
        .output()
        .unwrap_or_else(|e| panic!("{} does not run ({e}): run scripts/test.sh, which installs moto into .venv", python.display()));
    assert!(
        output.status.success(),
        "{} cannot import moto.iam.aws_managed_policies: run scripts/test.sh, which installs moto into .venv \
         (or set IAM_AUDITOR_TEST_PYTHON to a Python that has moto 5)\n{}",
        python.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let data: Map<String, Value> =
        serde_json::from_slice(&output.stdout).expect("moto's aws_managed_policies_data is a JSON object");
    data.into_iter()
        .map(|(name, policy)| {
            let field = |key: &str| {
                policy[key].as_str().unwrap_or_else(|| panic!("{name}: no {key} in moto's data")).to_string()
            };
            Managed {
                path: field("Path"),
                default_version: field("DefaultVersionId"),
                document: policy["Document"].clone(),
                name,
            }
        })
        .collect()
}

/// The policy's name as a role name: itself when IAM allows it, else cut to fit with a
/// number that keeps it unique.
fn role_name(policy: &str, index: usize, taken: &mut BTreeSet<String>) -> String {
    let name = if policy.len() <= ROLE_NAME_MAX && !taken.contains(policy) {
        policy.to_string()
    } else {
        let suffix = format!("-{index}");
        format!("{}{suffix}", &policy[..policy.len().min(ROLE_NAME_MAX - suffix.len())])
    };
    assert!(name.len() <= ROLE_NAME_MAX && taken.insert(name.clone()), "role name {name} for {policy}");
    name
}

/// account-authorization-details.json: every policy in `Policies`, one role per policy.
/// Returns it and role ARN → policy name.
fn authorization_details(policies: &[Managed]) -> (Value, BTreeMap<String, String>) {
    let mut taken = BTreeSet::new();
    let mut roles = Vec::new();
    let mut role_policy = BTreeMap::new();
    for (index, policy) in policies.iter().enumerate() {
        let name = role_name(&policy.name, index, &mut taken);
        let arn = common::arn(ACCOUNT_A, "role", &name);
        roles.push(json!({
            "Path": "/", "RoleName": name, "RoleId": format!("AROAMANAGED{index:05}"), "Arn": arn,
            "CreateDate": "2020-01-01T00:00:00+00:00",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "InstanceProfileList": [], "RolePolicyList": [],
            "AttachedManagedPolicies": [{"PolicyName": policy.name, "PolicyArn": policy.arn()}],
            "RoleLastUsed": {"LastUsedDate": "2024-05-30T00:00:00+00:00", "Region": "us-east-1"}
        }));
        role_policy.insert(arn, policy.name.clone());
    }
    let managed: Vec<Value> = policies
        .iter()
        .enumerate()
        .map(|(index, policy)| {
            json!({"PolicyName": policy.name, "PolicyId": format!("ANPAMANAGED{index:05}"), "Arn": policy.arn(),
                   "Path": policy.path, "DefaultVersionId": policy.default_version, "AttachmentCount": 1,
                   "PermissionsBoundaryUsageCount": 0, "IsAttachable": true,
                   "CreateDate": "2015-02-06T18:39:46+00:00", "UpdateDate": "2015-02-06T18:39:46+00:00",
                   "PolicyVersionList": [{"Document": policy.document, "VersionId": policy.default_version,
                                          "IsDefaultVersion": true, "CreateDate": "2015-02-06T18:39:46+00:00"}]})
        })
        .collect();
    let details =
        json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": managed});
    (details, role_policy)
}

/// One admin-access finding, as the test compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reported {
    severity: String,
    standing: String,
    paths: Vec<String>,
    conditions: Vec<String>,
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().map(common::text).collect()).unwrap_or_default()
}

#[test]
fn only_admin_equivalent_or_self_escalating_managed_policies_are_high() {
    let policies = moto_managed_policies();
    assert!(
        policies.len() > 1000,
        "moto ships {} managed policies; expected well over 1,000",
        policies.len()
    );
    let names: BTreeSet<&str> = policies.iter().map(|p| p.name.as_str()).collect();
    let listed = HIGH.iter().map(|h| h.policy).chain(MEDIUM.iter().map(|m| m.0));
    for name in listed.chain(QUICK_SETUP).chain(BROAD_NOT_ADMIN) {
        assert!(names.contains(name), "{name} is not among moto's managed policies: judge the lists again");
    }

    let snapshot = common::SnapshotDir::with_accounts(&[(ACCOUNT_A, "managed-policies", "ACTIVE")]);
    let (details, role_policy) = authorization_details(&policies);
    snapshot.write_json(&common::gaad_path(ACCOUNT_A), &details);
    let root_only: Vec<common::ReportRow> = common::standard_users(ACCOUNT_A).into_iter().take(1).collect();
    snapshot.write(&common::credential_report_path(ACCOUNT_A), common::credential_report(&root_only));

    let run = common::run(snapshot.path(), &[]);
    run.assert_code(0);
    let coverage = run.coverage(ACCOUNT_A);
    assert_eq!(coverage["status"], "audited", "{coverage:#}");
    assert_eq!(coverage["inventory"]["roles"], policies.len(), "{coverage:#}");
    assert_eq!(coverage["inventory"]["managed_policies"], policies.len(), "{coverage:#}");
    // A condition operator or value the engine cannot read would be a problem here.
    assert_eq!(coverage["problems"], json!([]), "{coverage:#}");

    let mut reported: BTreeMap<String, Reported> = BTreeMap::new();
    for finding in run.findings_of(ACCOUNT_A, "admin-access") {
        let arn = common::text(&finding["resource_arn"]);
        let policy =
            role_policy.get(&arn).unwrap_or_else(|| panic!("admin-access on {arn}, not a policy's role"));
        let evidence = &finding["evidence"];
        let paths =
            evidence["path"].as_array().map(|steps| steps.iter().map(|s| common::text(&s["path_id"])));
        let entry = Reported {
            severity: common::text(&finding["severity"]),
            standing: common::text(&evidence["standing"]),
            paths: paths.map(Iterator::collect).unwrap_or_default(),
            conditions: strings(&evidence["conditions"]),
        };
        assert_eq!(
            evidence["conditional"].as_bool().unwrap_or(false),
            !entry.conditions.is_empty(),
            "{policy}: conditional and conditions disagree: {evidence:#}"
        );
        assert!(reported.insert(policy.clone(), entry).is_none(), "{policy}: two admin-access findings");
    }

    let high: BTreeSet<&str> = reported
        .iter()
        .filter(|(_, r)| r.severity == "high" || r.severity == "critical")
        .map(|(policy, _)| policy.as_str())
        .collect();
    for name in QUICK_SETUP.iter().chain(&BROAD_NOT_ADMIN) {
        assert!(!high.contains(name), "{name} is reported high: {:?}", reported[*name]);
    }
    let quick_setup_high: Vec<&&str> = high.iter().filter(|name| name.contains("QuickSetup")).collect();
    assert!(quick_setup_high.is_empty(), "QuickSetup policies reported high: {quick_setup_high:?}");

    let allowed: BTreeSet<&str> = HIGH.iter().map(|h| h.policy).collect();
    let false_positives: BTreeSet<&str> = KNOWN_FALSE_POSITIVES.iter().map(|h| h.policy).collect();
    assert!(allowed.is_disjoint(&false_positives), "a policy both allowed and a false positive");
    let fixed: Vec<&&str> = false_positives.difference(&high).collect();
    assert!(fixed.is_empty(), "no longer reported high, remove from KNOWN_FALSE_POSITIVES: {fixed:?}");
    let judged: BTreeSet<&str> = allowed.union(&false_positives).copied().collect();
    assert_eq!(
        high, judged,
        "policies reported high (left) against the allow-list plus the known false positives (right): {reported:#?}"
    );
    for entry in HIGH.iter().chain(KNOWN_FALSE_POSITIVES) {
        let expected = Reported {
            severity: "high".into(),
            standing: entry.standing.into(),
            paths: entry.paths.iter().map(|p| p.to_string()).collect(),
            conditions: entry.conditions.iter().map(|c| c.to_string()).collect(),
        };
        assert_eq!(reported[entry.policy], expected, "{}: {}", entry.policy, entry.reason);
    }

    let medium: BTreeMap<&str, Vec<String>> = reported
        .iter()
        .filter(|(_, r)| r.severity == "medium")
        .map(|(policy, r)| (policy.as_str(), r.paths.clone()))
        .collect();
    let expected_medium: BTreeMap<&str, Vec<String>> = MEDIUM
        .iter()
        .map(|(policy, paths)| (*policy, paths.iter().map(|p| p.to_string()).collect()))
        .collect();
    assert_eq!(medium, expected_medium, "policies reported medium (potential), with their paths");

    // Nothing else: no capped (info) or low admin-access finding either.
    let other: Vec<(&String, &Reported)> = reported
        .iter()
        .filter(|(policy, _)| !high.contains(policy.as_str()) && !medium.contains_key(policy.as_str()))
        .collect();
    assert!(other.is_empty(), "admin-access findings neither high nor medium: {other:#?}");
}
