//! `access-analyzer-finding`: ACTIVE IAM Access Analyzer findings, carried over with their
//! resource and reason. The severity comes from the finding: public or external access
//! weighs more than an unused permission.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::snapshot::account_settings::{AccessAnalyzerRegion, AnalyzerFinding};

pub const CHECK: Check = Check {
    id: "access-analyzer-finding",
    title: "Active IAM Access Analyzer finding",
    severity: Severity::Medium,
    references: &[],
    remediation: "Review the finding with the finding's command (aws accessanalyzer get-finding-v2) and decide \
                  whether the access is intended. If not, remove it from the resource's policy (or remove the \
                  unused access); if it is, archive the finding (aws accessanalyzer update-findings --status \
                  ARCHIVED, the command's last line).",
    family: Family::AccountSettings,
    needs: &[Input::AccessAnalyzer],
    run,
};

fn severity_of(finding: &AnalyzerFinding) -> Severity {
    match finding.finding_type.as_deref() {
        Some("ExternalAccess") | None if finding.is_public == Some(true) => Severity::Critical,
        Some("ExternalAccess") | None => Severity::High,
        Some("InternalAccess") => Severity::Medium,
        Some(t) if t.starts_with("Unused") => Severity::Low,
        Some(_) => Severity::Medium,
    }
}

/// The analyzer that reported `finding`: the one the collector recorded, else the region's only
/// active analyzer of the finding's kind (unused access, or external access).
fn analyzer_of<'a>(finding: &'a AnalyzerFinding, region: &'a AccessAnalyzerRegion) -> Option<&'a str> {
    if let Some(arn) = &finding.analyzer_arn {
        return Some(arn);
    }
    let unused = finding.finding_type.as_deref().is_some_and(|t| t.starts_with("Unused"));
    let mut fitting = region
        .analyzers
        .iter()
        .filter(|a| a.is_active() && a.analyzer_type.ends_with("UNUSED_ACCESS") == unused);
    match (fitting.next(), fitting.next()) {
        (Some(one), None) => Some(&one.arn),
        _ => None,
    }
}

/// Reads the finding, then archives it (once a person has decided it is intended).
fn review_then_archive(analyzer: &str, id: &str, region: &str) -> String {
    fix::lines([
        fix::Command::aws("accessanalyzer get-finding-v2")
            .arg("--analyzer-arn", analyzer)
            .arg("--id", id)
            .arg("--region", region)
            .text(),
        fix::note(
            "if the access is not intended, remove it from the resource; if it is, archive the finding:",
        ),
        fix::Command::aws("accessanalyzer update-findings")
            .arg("--analyzer-arn", analyzer)
            .arg("--ids", id)
            .raw("--status ARCHIVED")
            .arg("--region", region)
            .text(),
    ])
}

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(regions) = &context.account.access_analyzer else { return Vec::new() };
    let mut findings = Vec::new();
    for (region, data) in regions {
        for item in data.findings.iter().filter(|f| f.status == "ACTIVE") {
            let kind = item.finding_type.as_deref().unwrap_or("ExternalAccess");
            let resource = item.resource.clone().unwrap_or_else(|| context.account.account_id.root_arn());
            let name = resource.rsplit([':', '/']).next().unwrap_or(&resource).to_string();
            let mut detail = format!(
                "{kind} finding {} on {} {resource} in {region}",
                item.id,
                item.resource_type.as_deref().unwrap_or("resource")
            );
            if item.is_public == Some(true) {
                detail.push_str(", publicly accessible");
            }
            if let Some(principal) = &item.principal {
                let who: Vec<String> = principal.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                detail.push_str(&format!(", to {}", who.join(", ")));
            }
            if let Some(error) = &item.error {
                detail.push_str(&format!(" (analyzer error: {error})"));
            }
            detail.push('.');
            findings.push(
                context
                    .finding(&CHECK, ResourceType::AnalyzerFinding, &resource, &name)
                    .key(&item.id)
                    .title(format!("Access Analyzer: {kind} on {name}"))
                    .detail(detail)
                    .severity(severity_of(item))
                    .evidence("finding_id", &item.id)
                    .evidence("finding_type", kind)
                    .evidence("region", region)
                    .evidence("resource_type", &item.resource_type)
                    .evidence("resource_owner_account", &item.resource_owner_account)
                    .evidence("is_public", item.is_public)
                    .evidence("principal", &item.principal)
                    .evidence("action", &item.action)
                    .evidence("condition", &item.condition)
                    .evidence("updated_at", item.updated_at.map(|d| d.to_rfc3339()))
                    .command_if(
                        analyzer_of(item, data)
                            .map(|analyzer| review_then_archive(analyzer, &item.id, region)),
                    )
                    .console(fix::access_analyzer_page(
                        &context.account.account_id.root_arn(),
                        region,
                        "findings",
                    ))
                    .build(),
            );
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::Fixture;

    // ListFindingsV2's wire shape (findingSummaries items), as the collector saves them.
    const FINDINGS: &str = r#"{"analyzers":[],"findings":[
      {"analyzedAt":"2024-05-30T10:00:00Z","createdAt":"2024-05-01T10:00:00Z","id":"f-1","resource":"arn:aws:s3:::public-bucket","resourceType":"AWS::S3::Bucket","resourceOwnerAccount":"111122223333","status":"ACTIVE","updatedAt":"2024-05-30T10:00:00Z","findingType":"ExternalAccess","isPublic":true},
      {"analyzedAt":"2024-05-30T10:00:00Z","createdAt":"2024-05-01T10:00:00Z","id":"f-2","resource":"arn:aws:iam::111122223333:role/old","resourceType":"AWS::IAM::Role","resourceOwnerAccount":"111122223333","status":"ACTIVE","updatedAt":"2024-05-30T10:00:00Z","findingType":"UnusedIAMRole"},
      {"analyzedAt":"2024-05-30T10:00:00Z","createdAt":"2024-05-01T10:00:00Z","id":"f-3","resource":"arn:aws:kms:us-east-1:111122223333:key/k","resourceType":"AWS::KMS::Key","resourceOwnerAccount":"111122223333","status":"ARCHIVED","updatedAt":"2024-05-30T10:00:00Z","findingType":"ExternalAccess"},
      {"analyzedAt":"2024-05-30T10:00:00Z","createdAt":"2024-05-01T10:00:00Z","id":"f-4","resource":"arn:aws:sqs:us-east-1:111122223333:q","resourceType":"AWS::SQS::Queue","resourceOwnerAccount":"111122223333","status":"RESOLVED","updatedAt":"2024-05-30T10:00:00Z","findingType":"ExternalAccess"}]}"#;

    #[test]
    fn carries_active_findings_with_their_severity() {
        let findings = Fixture::new().analyzer("us-east-1", FINDINGS).run(&CHECK);
        let got: Vec<(&str, Severity)> =
            findings.iter().map(|f| (f.resource_arn.as_str(), f.severity)).collect();
        assert_eq!(
            got,
            vec![
                ("arn:aws:s3:::public-bucket", Severity::Critical),
                ("arn:aws:iam::111122223333:role/old", Severity::Low)
            ]
        );
        assert_eq!(findings[0].resource_name, "public-bucket");
        assert_eq!(findings[0].evidence.value()["finding_id"], "f-1");
    }

    #[test]
    fn the_command_reads_the_finding_from_its_analyzer_then_archives_it() {
        use crate::checks::test_support::command_of;
        let analyzers = r#"[{"arn":"arn:aws:access-analyzer:us-east-1:111122223333:analyzer/ext","name":"ext","type":"ACCOUNT","status":"ACTIVE"},
                            {"arn":"arn:aws:access-analyzer:us-east-1:111122223333:analyzer/unused","name":"unused","type":"ACCOUNT_UNUSED_ACCESS","status":"ACTIVE"}]"#;
        let json = FINDINGS.replacen(r#""analyzers":[]"#, &format!(r#""analyzers":{analyzers}"#), 1);
        let findings = Fixture::new().analyzer("us-east-1", &json).run(&CHECK);
        // External access: the external-access analyzer; unused access: the unused-access one.
        command_of(
            &findings[0],
            &[
                "aws accessanalyzer get-finding-v2 --analyzer-arn arn:aws:access-analyzer:us-east-1:111122223333:analyzer/ext --id f-1 --region us-east-1",
                "aws accessanalyzer update-findings --analyzer-arn arn:aws:access-analyzer:us-east-1:111122223333:analyzer/ext --ids f-1 --status ARCHIVED --region us-east-1",
            ],
        );
        command_of(&findings[1], &["analyzer/unused --id f-2"]);
        // The analyzer the collector recorded wins; a hostile id is quoted.
        let recorded = FINDINGS.replacen(
            r#""id":"f-1""#,
            r#""id":"f-1'x","analyzerArn":"arn:aws:access-analyzer:us-east-1:111122223333:analyzer/org""#,
            1,
        );
        let findings = Fixture::new().analyzer("us-east-1", &recorded).run(&CHECK);
        command_of(&findings[0], &[r"analyzer/org --id 'f-1'\''x'"]);
    }
}
