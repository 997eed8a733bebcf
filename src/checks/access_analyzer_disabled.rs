//! `access-analyzer-disabled`: an audited region with no active external-access analyzer.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, Severity};

pub const CHECK: Check = Check {
    id: "access-analyzer-disabled",
    title: "No active IAM Access Analyzer in region",
    severity: Severity::Medium,
    references: &[],
    remediation: "Create an external-access analyzer in the region: the finding's command creates one for the \
                  account (aws accessanalyzer create-analyzer --type ACCOUNT). Decide first whether the \
                  organization uses one organization-wide analyzer instead (--type ORGANIZATION, created from the \
                  management account or the delegated administrator), which covers every account.",
    family: Family::AccountSettings,
    needs: &[Input::AccessAnalyzer],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(regions) = &context.account.access_analyzer else { return Vec::new() };
    let mut findings = Vec::new();
    for (region, data) in regions {
        let external = |t: &str| t == "ACCOUNT" || t == "ORGANIZATION";
        if data.analyzers.iter().any(|a| a.is_active() && external(&a.analyzer_type)) {
            continue;
        }
        let present: Vec<String> = data
            .analyzers
            .iter()
            .map(|a| format!("{} ({}, {})", a.name, a.analyzer_type, a.status))
            .collect();
        let detail = if present.is_empty() {
            format!(
                "No Access Analyzer exists in {region}: external access to resources there goes unnoticed."
            )
        } else {
            format!(
                "No ACTIVE external-access (ACCOUNT or ORGANIZATION) analyzer in {region}; present: {}.",
                present.join(", ")
            )
        };
        findings.push(
            context
                .account_finding(&CHECK)
                .key(region)
                .title(format!("No active Access Analyzer in {region}"))
                .detail(detail)
                .evidence("region", region)
                .evidence("analyzers", &present)
                .command(
                    fix::Command::aws("accessanalyzer create-analyzer")
                        .raw("--analyzer-name account-analyzer --type ACCOUNT")
                        .arg("--region", region)
                        .text(),
                )
                .console(fix::access_analyzer_page(
                    &context.account.account_id.root_arn(),
                    region,
                    "analyzers",
                ))
                .build(),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::Fixture;

    #[test]
    fn finds_regions_without_an_active_external_analyzer() {
        let fixture = Fixture::new()
            .analyzer("us-east-1", r#"{"analyzers":[{"arn":"arn:aws:access-analyzer:us-east-1:111122223333:analyzer/a","name":"a","type":"ACCOUNT","status":"ACTIVE"}],"findings":[]}"#)
            .analyzer("eu-west-1", r#"{"analyzers":[],"findings":[]}"#)
            .analyzer("eu-central-1", r#"{"analyzers":[{"arn":"arn:aws:access-analyzer:eu-central-1:111122223333:analyzer/u","name":"u","type":"ACCOUNT_UNUSED_ACCESS","status":"ACTIVE"}]}"#)
            .analyzer("ap-south-1", r#"{"analyzers":[{"arn":"arn:aws:access-analyzer:ap-south-1:111122223333:analyzer/d","name":"d","type":"ACCOUNT","status":"DISABLED"}]}"#);
        let regions: Vec<String> = fixture
            .run(&CHECK)
            .iter()
            .map(|f| f.evidence.value()["region"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(regions, vec!["ap-south-1", "eu-central-1", "eu-west-1"]);
    }

    #[test]
    fn the_command_creates_an_analyzer_in_the_region_named_in_the_snapshot() {
        use crate::checks::test_support::command_of;
        let findings = Fixture::new().analyzer("eu-west-1;$(id)", r#"{"analyzers":[]}"#).run(&CHECK);
        command_of(
            &findings[0],
            &["aws accessanalyzer create-analyzer --analyzer-name account-analyzer --type ACCOUNT --region 'eu-west-1;$(id)'"],
        );
        assert_eq!(
            findings[0].console_url.as_deref(),
            Some("https://console.aws.amazon.com/access-analyzer/home?region=eu-west-1%3B%24%28id%29#/analyzers")
        );
    }
}
