//! `access-analyzer-finding`: ACTIVE IAM Access Analyzer findings, carried over with their
//! resource and reason. The severity comes from the finding: public or external access
//! weighs more than an unused permission.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::snapshot::account_settings::AnalyzerFinding;

pub const CHECK: Check = Check {
    id: "access-analyzer-finding",
    title: "Active IAM Access Analyzer finding",
    severity: Severity::Medium,
    references: &[],
    remediation:
        "Review the finding (aws accessanalyzer get-finding-v2 --analyzer-arn ARN --id ID): remove the \
                  access from the resource policy or the unused access, or archive it as intended with aws \
                  accessanalyzer update-findings --status ARCHIVED.",
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
}
