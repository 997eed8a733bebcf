//! `findings.ocsf.json`: every finding as an OCSF 1.5.0 Detection Finding (class 2004), one
//! JSON object a line (JSON Lines), for a SIEM or a data lake to ingest. The tests validate
//! every line against the OCSF schema of that version (tests/ocsf.rs, DESIGN.md "OCSF").
//!
//! The field mapping (DESIGN.md has it as a table): the fingerprint is `finding_info.uid`;
//! new findings are activity Create, persisting and carried-over ones Update, resolved ones
//! Close; open findings have status New, suppressed ones Suppressed, resolved ones Resolved.
//! The class has no `compliance` attribute (the schema forbids any attribute it does not
//! define), so the CIS and Security Hub ids go in `unmapped.compliance`, where OCSF puts
//! what its class cannot hold, and the Security Hub control pages in `remediation.references`.
//!
//! Not here: which findings are written and in what order (the stream and `write_all`).

use crate::checks::compliance::{self, Standard};
use crate::findings::{Change, Finding, ResourceType, Severity, Status};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// The OCSF version the events follow (`metadata.version`).
pub const OCSF_VERSION: &str = "1.5.0";

/// The file's name in a run folder.
pub const FILE: &str = "findings.ocsf.json";

const CLASS_UID: u32 = 2004;
const CATEGORY_UID: u32 = 2;

/// What the events of one run share.
#[derive(Debug, Clone)]
pub struct Context {
    run_id: String,
    /// The run's as-of instant, in milliseconds since the epoch (whole seconds, as findings.json
    /// has it).
    time: i64,
    organization_id: Option<String>,
    tool_version: String,
}

impl Context {
    pub fn new(
        run_id: &str,
        as_of: DateTime<Utc>,
        organization_id: Option<&str>,
        tool_version: &str,
    ) -> Context {
        Context {
            run_id: run_id.to_string(),
            time: as_of.timestamp() * 1000,
            organization_id: organization_id.map(str::to_string),
            tool_version: tool_version.to_string(),
        }
    }

    /// The context of a report held whole (the same values the stream was given).
    pub fn of(report: &super::RunReport) -> Context {
        let as_of = report.run.as_of.parse().unwrap_or(DateTime::UNIX_EPOCH);
        Context::new(
            &report.run.id,
            as_of,
            report.provenance.organization_id.as_deref(),
            &report.run.tool_version,
        )
    }
}

/// Where a finding stands in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Found by this run: new or persisting, open or suppressed.
    Current,
    /// In the previous run, checked again and not found.
    Resolved,
    /// In the previous run, not re-checked this run (its account or its check's input missing).
    CarriedOver,
}

/// OCSF `activity_id` and its name.
pub fn activity(finding: &Finding, standing: Standing) -> (u32, &'static str) {
    match (standing, finding.change) {
        (Standing::Resolved, _) => (3, "Close"),
        (Standing::CarriedOver, _) | (Standing::Current, Change::Persisting) => (2, "Update"),
        (Standing::Current, Change::New) => (1, "Create"),
    }
}

/// OCSF `status_id` and its name.
pub fn status(finding: &Finding, standing: Standing) -> (u32, &'static str) {
    match (standing, finding.status) {
        (Standing::Resolved, _) => (4, "Resolved"),
        (_, Status::Suppressed) => (3, "Suppressed"),
        (_, Status::Open) => (1, "New"),
    }
}

/// OCSF `severity_id` and its name.
pub fn severity(severity: Severity) -> (u32, &'static str) {
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// The resource's type as AWS names it (CloudFormation / Config resource types).
fn resource_type(kind: ResourceType) -> &'static str {
    match kind {
        ResourceType::User => "AWS::IAM::User",
        ResourceType::Role => "AWS::IAM::Role",
        ResourceType::Group => "AWS::IAM::Group",
        ResourceType::Policy => "AWS::IAM::Policy",
        ResourceType::Account => "AWS::::Account",
        ResourceType::AnalyzerFinding => "AWS::AccessAnalyzer::Finding",
        ResourceType::Person => "AWS::IdentityStore::User",
        ResourceType::PermissionSet => "AWS::SSO::PermissionSet",
    }
}

fn epoch_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).
fn partition(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?.split(':').next().filter(|p| !p.is_empty())
}

/// One finding as an OCSF Detection Finding.
pub fn event(context: &Context, finding: &Finding, standing: Standing) -> Value {
    let (activity_id, activity_name) = activity(finding, standing);
    let (status_id, status_name) = status(finding, standing);
    let (severity_id, severity_name) = severity(finding.severity);
    let controls = compliance::of(&finding.check);

    let mut finding_info = Map::new();
    finding_info.insert("uid".into(), json!(finding.fingerprint));
    finding_info.insert("title".into(), json!(finding.title));
    finding_info.insert("desc".into(), json!(finding.detail));
    finding_info.insert("types".into(), json!([finding.check]));
    finding_info.insert(
        "analytic".into(),
        json!({"uid": finding.check, "name": finding.check, "type_id": 1, "type": "Rule"}),
    );
    if let Some(first) = epoch_ms(&finding.first_seen) {
        finding_info.insert("first_seen_time".into(), json!(first));
    }
    if standing == Standing::Current {
        finding_info.insert("last_seen_time".into(), json!(context.time));
    }

    let mut resource = Map::new();
    resource.insert("uid".into(), json!(finding.resource_arn));
    resource.insert("name".into(), json!(finding.resource_name));
    resource.insert("type".into(), json!(resource_type(finding.resource_type)));
    if let Some(partition) = partition(&finding.resource_arn) {
        resource.insert("cloud_partition".into(), json!(partition));
    }

    let mut cloud = Map::new();
    cloud.insert("provider".into(), json!("AWS"));
    cloud.insert(
        "account".into(),
        json!({"uid": finding.account_id.as_str(), "name": finding.account_name, "type_id": 10, "type": "AWS Account"}),
    );
    if let Some(org) = &context.organization_id {
        cloud.insert("org".into(), json!({"uid": org}));
    }

    let mut remediation = Map::new();
    let desc = match &finding.remediation_command {
        Some(command) => format!("{}\n\nCommand:\n{command}", finding.remediation),
        None => finding.remediation.to_string(),
    };
    remediation.insert("desc".into(), json!(desc));
    let links: Vec<String> =
        controls.iter().filter_map(|c| c.url()).chain(finding.console_url.iter().cloned()).collect();
    if !links.is_empty() {
        remediation.insert("references".into(), json!(links));
    }

    let status_detail = match (standing, &finding.suppression) {
        (Standing::Resolved, _) => Some("not found again by this run".to_string()),
        (Standing::CarriedOver, _) => {
            Some("carried over from the previous run: not re-checked by this run (its account was not audited, or the check had no input there)".to_string())
        }
        (Standing::Current, Some(suppression)) => {
            Some(format!("accepted risk until {}: {}", suppression.expires, suppression.reason))
        }
        (Standing::Current, None) => None,
    };

    let compliance: Vec<Value> = Standard::ALL
        .iter()
        .filter_map(|standard| {
            let ids: Vec<&str> = controls.iter().filter(|c| c.standard == *standard).map(|c| c.id).collect();
            (!ids.is_empty()).then(|| json!({"standard": standard.name(), "controls": ids}))
        })
        .collect();
    let change = match standing {
        Standing::Current => match finding.change {
            Change::New => "new",
            Change::Persisting => "persisting",
        },
        Standing::Resolved => "resolved",
        Standing::CarriedOver => "carried-over",
    };
    let mut unmapped = Map::new();
    unmapped.insert("run_id".into(), json!(context.run_id));
    unmapped.insert("check".into(), json!(finding.check));
    unmapped.insert("change".into(), json!(change));
    if !compliance.is_empty() {
        unmapped.insert("compliance".into(), Value::Array(compliance));
    }
    unmapped.insert("evidence".into(), finding.evidence.value());

    let mut event = Map::new();
    event.insert("activity_id".into(), json!(activity_id));
    event.insert("activity_name".into(), json!(activity_name));
    event.insert("category_uid".into(), json!(CATEGORY_UID));
    event.insert("category_name".into(), json!("Findings"));
    event.insert("class_uid".into(), json!(CLASS_UID));
    event.insert("class_name".into(), json!("Detection Finding"));
    event.insert("type_uid".into(), json!(CLASS_UID * 100 + activity_id));
    event.insert("type_name".into(), json!(format!("Detection Finding: {activity_name}")));
    event.insert("time".into(), json!(context.time));
    event.insert("severity_id".into(), json!(severity_id));
    event.insert("severity".into(), json!(severity_name));
    event.insert("status_id".into(), json!(status_id));
    event.insert("status".into(), json!(status_name));
    if let Some(detail) = status_detail {
        event.insert("status_detail".into(), json!(detail));
    }
    event.insert("message".into(), json!(finding.title));
    event.insert("finding_info".into(), Value::Object(finding_info));
    event.insert("resources".into(), json!([Value::Object(resource)]));
    event.insert("cloud".into(), Value::Object(cloud));
    event.insert("remediation".into(), Value::Object(remediation));
    event.insert(
        "metadata".into(),
        json!({
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "uid": format!("{}/{}", context.run_id, finding.fingerprint),
            "product": {
                "name": "iam-auditor",
                "vendor_name": "iam-auditor",
                "version": context.tool_version,
            },
        }),
    );
    event.insert("unmapped".into(), Value::Object(unmapped));
    Value::Object(event)
}

/// Appends one finding's event and a new line to `out`.
pub fn line_into(context: &Context, finding: &Finding, standing: Standing, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, &event(context, finding, standing)).expect("an event serialises");
    out.push(b'\n');
}

/// The whole file of a report held in memory: findings in the report's order, then the
/// resolved, then the carried-over ones (the order a streamed run writes them in).
pub fn write(
    report: &super::RunReport,
    out: &mut impl super::stream::SpillTarget,
) -> Result<(), super::WriteFailure> {
    if let Some(streamed) = &report.streamed {
        if let Some(spill) = &streamed.ocsf {
            spill.copy_to(out, 0)?;
        }
        if let Some(spill) = &streamed.ocsf_gone {
            spill.copy_to(out, 0)?;
        }
        return Ok(());
    }
    let context = Context::of(report);
    let mut line = Vec::new();
    let all = report.findings.iter().map(|f| (f, Standing::Current));
    let resolved = report.resolved.iter().map(|f| (f, Standing::Resolved));
    let carried = report.carried_over.iter().map(|f| (f, Standing::CarriedOver));
    for (finding, standing) in all.chain(resolved).chain(carried) {
        line.clear();
        line_into(&context, finding, standing, &mut line);
        out.write_all(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Evidence, Suppression};

    fn finding(check: &str, change: Change, status: Status) -> Finding {
        Finding {
            fingerprint: "f1".into(),
            check: check.to_string().into(),
            severity: Severity::Medium,
            account_id: crate::identifiers::AccountId::parse("111122223333").unwrap(),
            account_name: "prod".into(),
            resource_type: ResourceType::User,
            resource_arn: "arn:aws:iam::111122223333:user/alice".into(),
            resource_name: "alice".into(),
            title: "Access key older than 90 days".into(),
            detail: "key 1 was created 400 days ago".into(),
            evidence: Evidence::from_map(serde_json::Map::from_iter([("age_days".to_string(), json!(400))])),
            remediation: "aws iam update-access-key".into(),
            remediation_command: None,
            console_url: None,
            references: vec![],
            status,
            suppression: (status == Status::Suppressed).then(|| Suppression {
                rule: Some(1),
                reason: "break-glass".into(),
                expires: "2030-01-01".into(),
                resource_pattern: "*".into(),
                owner: None,
                ticket: None,
            }),
            first_seen: "2026-01-02T03:04:05Z".into(),
            change,
            default_severity: true,
            lapsed_rule: None,
        }
    }

    fn context() -> Context {
        Context::new(
            "20261202T060000Z",
            "2026-12-02T06:00:00Z".parse().unwrap(),
            Some("o-abc123def4"),
            "1.2.3",
        )
    }

    #[test]
    fn each_change_maps_to_its_activity_and_status() {
        let cases = [
            (Change::New, Status::Open, Standing::Current, (1, "Create"), (1, "New"), 200401),
            (Change::Persisting, Status::Open, Standing::Current, (2, "Update"), (1, "New"), 200402),
            (Change::New, Status::Suppressed, Standing::Current, (1, "Create"), (3, "Suppressed"), 200401),
            (
                Change::Persisting,
                Status::Suppressed,
                Standing::Current,
                (2, "Update"),
                (3, "Suppressed"),
                200402,
            ),
            (Change::Persisting, Status::Open, Standing::Resolved, (3, "Close"), (4, "Resolved"), 200403),
            (Change::Persisting, Status::Open, Standing::CarriedOver, (2, "Update"), (1, "New"), 200402),
            (
                Change::New,
                Status::Suppressed,
                Standing::CarriedOver,
                (2, "Update"),
                (3, "Suppressed"),
                200402,
            ),
        ];
        for (change, state, standing, act, stat, type_uid) in cases {
            let f = finding("stale-access-key", change, state);
            assert_eq!(activity(&f, standing), act, "{change:?} {state:?} {standing:?}");
            assert_eq!(status(&f, standing), stat, "{change:?} {state:?} {standing:?}");
            let event = event(&context(), &f, standing);
            assert_eq!(event["type_uid"], type_uid);
            assert_eq!(event["activity_id"], act.0);
            assert_eq!(event["status_id"], stat.0);
        }
    }

    #[test]
    fn severities_map_to_ocsf_ids() {
        let ids: Vec<u32> = Severity::ALL.iter().map(|s| severity(*s).0).collect();
        assert_eq!(ids, [5, 4, 3, 2, 1]);
        assert_eq!(severity(Severity::Info).1, "Informational");
    }

    #[test]
    fn an_event_carries_the_finding_and_the_run() {
        let event =
            event(&context(), &finding("stale-access-key", Change::New, Status::Open), Standing::Current);
        assert_eq!(event["class_uid"], 2004);
        assert_eq!(event["category_uid"], 2);
        assert_eq!(event["time"], 1_796_191_200_000i64);
        assert_eq!(event["finding_info"]["uid"], "f1");
        assert_eq!(event["finding_info"]["first_seen_time"], 1_767_323_045_000i64);
        assert_eq!(event["resources"][0]["uid"], "arn:aws:iam::111122223333:user/alice");
        assert_eq!(event["resources"][0]["type"], "AWS::IAM::User");
        assert_eq!(event["resources"][0]["cloud_partition"], "aws");
        assert_eq!(event["cloud"]["account"]["uid"], "111122223333");
        assert_eq!(event["cloud"]["org"]["uid"], "o-abc123def4");
        assert_eq!(event["metadata"]["version"], OCSF_VERSION);
        assert_eq!(event["metadata"]["product"]["version"], "1.2.3");
        assert_eq!(event["remediation"]["desc"], "aws iam update-access-key");
        assert_eq!(
            event["remediation"]["references"],
            json!(["https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-3"])
        );
        assert_eq!(
            event["unmapped"]["compliance"],
            json!([
                {"standard": "CIS AWS Foundations Benchmark v3.0.0", "controls": ["1.14"]},
                {"standard": "CIS AWS Foundations Benchmark v5.0.0", "controls": ["1.13"]},
                {"standard": "AWS Security Hub CSPM", "controls": ["IAM.3"]},
            ])
        );
        assert_eq!(event["unmapped"]["evidence"]["age_days"], 400);
        assert!(event.get("status_detail").is_none());
    }

    #[test]
    fn the_findings_command_joins_the_description_and_its_console_page_the_references() {
        let mut alice = finding("stale-access-key", Change::New, Status::Open);
        alice.remediation_command = Some("aws iam create-access-key --user-name alice".into());
        alice.console_url = Some("https://console.aws.amazon.com/iam/home#/users/details/alice".into());
        let event = event(&context(), &alice, Standing::Current);
        assert_eq!(
            event["remediation"]["desc"],
            "aws iam update-access-key\n\nCommand:\naws iam create-access-key --user-name alice"
        );
        assert_eq!(
            event["remediation"]["references"],
            json!([
                "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-3",
                "https://console.aws.amazon.com/iam/home#/users/details/alice"
            ])
        );
    }

    #[test]
    fn checks_without_controls_and_runs_without_an_organization_leave_those_out() {
        let context = Context::new("r", "2026-12-02T06:00:00Z".parse().unwrap(), None, "1");
        let event =
            event(&context, &finding("wide-trust", Change::New, Status::Suppressed), Standing::Current);
        assert!(event["unmapped"].get("compliance").is_none());
        assert!(event["remediation"].get("references").is_none());
        assert!(event["cloud"].get("org").is_none());
        assert_eq!(event["status_detail"], "accepted risk until 2030-01-01: break-glass");
    }

    #[test]
    fn lines_are_one_object_each() {
        let mut out = Vec::new();
        let f = finding("stale-access-key", Change::New, Status::Open);
        line_into(&context(), &f, Standing::Current, &mut out);
        line_into(&context(), &f, Standing::Resolved, &mut out);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(text.ends_with('\n'));
        for line in lines {
            let value: Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["finding_info"]["uid"], "f1");
        }
    }
}
