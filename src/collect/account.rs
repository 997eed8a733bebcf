//! One account, collected: AssumeRole into the audit role (the caller's own account uses
//! the caller's credentials), then at once GetAccountAuthorizationDetails (every page), the
//! credential report, the password policy, the account summary and, per region, Access
//! Analyzer. A part that fails is an error for that part; the others are kept.

use super::calls::CallTally;
use super::progress::Progress;
use super::{shapes, Retries, StageError};
use aws_config::SdkConfig;
use aws_sdk_accessanalyzer::types::{AnalyzerStatus, Criterion};
use aws_sdk_iam::config::Credentials;
use aws_sdk_iam::types::{EntityType, ReportStateType};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

/// How to reach and read every account.
pub struct Plan {
    pub sdk: SdkConfig,
    pub caller_account: String,
    pub caller_arn: String,
    pub partition: String,
    pub role_name: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub regions: Vec<String>,
    pub report_timeout: Duration,
    pub retries: Retries,
}

pub struct Target {
    pub id: String,
    pub name: String,
}

/// What was collected for one account; `None` for a part that was not.
#[derive(Default)]
pub struct Collected {
    pub authorization_details: Option<Value>,
    pub credential_report: Option<Vec<u8>>,
    pub password_policy: Option<Value>,
    pub account_summary: Option<Value>,
    /// Region → `{"analyzers": […], "findings": […]}`.
    pub access_analyzer: BTreeMap<String, Value>,
    pub errors: Vec<StageError>,
}

/// Builds a service client on the shared config, with the account's credentials and call
/// tally, and a retry partition of its own: AWS throttles each account's APIs apart, so one
/// account's throttling must not slow the others (`partition`: `iam-<account>`, …).
macro_rules! client {
    ($sdk:ident, $config:expr, $credentials:expr, $tally:expr, $service:literal, $partition:expr) => {{
        let mut builder = $sdk::config::Builder::from($config)
            .interceptor($tally.interceptor($service))
            .retry_partition(crate::aws_sdk::retry_partition($partition));
        if let Some(credentials) = $credentials {
            builder = builder.credentials_provider(credentials.clone());
        }
        $sdk::Client::from_conf(builder.build())
    }};
}

pub async fn collect(plan: &Plan, target: &Target, tally: &CallTally, progress: &Progress) -> Collected {
    let mut collected = collect_parts(plan, target, tally, progress).await;
    for error in &mut collected.errors {
        error.explain(tally, &plan.caller_arn, plan.retries);
    }
    collected
}

async fn collect_parts(plan: &Plan, target: &Target, tally: &CallTally, progress: &Progress) -> Collected {
    let mut collected = Collected::default();
    let credentials = if target.id == plan.caller_account {
        None
    } else {
        progress.stage(&target.id, "assume-role");
        match assume_role(plan, target, tally).await {
            Ok(credentials) => Some(credentials),
            Err(error) => {
                collected.errors.push(error);
                return collected;
            }
        }
    };
    progress.stage(&target.id, "iam");
    let iam =
        client!(aws_sdk_iam, &plan.sdk, credentials.as_ref(), tally, "iam", format!("iam-{}", target.id));
    let analyzers = plan.regions.iter().map(|region| {
        let config = plan.sdk.to_builder().region(aws_config::Region::new(region.clone())).build();
        let partition = format!("access-analyzer-{region}-{}", target.id);
        let client = client!(
            aws_sdk_accessanalyzer,
            &config,
            credentials.as_ref(),
            tally,
            "access-analyzer",
            partition
        );
        async move { (region.clone(), access_analyzer(&client).await) }
    });
    let (details, report, password, summary, analyzers) = tokio::join!(
        authorization_details(&iam),
        credential_report(&iam, plan.report_timeout),
        password_policy(&iam),
        account_summary(&iam),
        futures::future::join_all(analyzers),
    );
    let mut keep = |result: Result<Value, StageError>| match result {
        Ok(value) => Some(value),
        Err(error) => {
            collected.errors.push(error);
            None
        }
    };
    collected.authorization_details = keep(details);
    collected.password_policy = keep(password);
    collected.account_summary = keep(summary);
    for (region, result) in analyzers {
        if let Some(value) = keep(result) {
            collected.access_analyzer.insert(region, value);
        }
    }
    match report {
        Ok(bytes) => collected.credential_report = Some(bytes),
        Err(error) => collected.errors.push(error),
    }
    collected
}

fn role_arn(plan: &Plan, account: &str) -> String {
    format!("arn:{}:iam::{account}:role/{}", plan.partition, plan.role_name.trim_start_matches('/'))
}

async fn assume_role(plan: &Plan, target: &Target, tally: &CallTally) -> Result<Credentials, StageError> {
    // STS answers AssumeRole for the caller, but a throttle on one account's role must not
    // hold back the others either.
    let partition = format!("sts-{}", target.id);
    let sts = client!(aws_sdk_sts, &plan.sdk, None::<&Credentials>, tally, "sts", partition);
    let arn = role_arn(plan, &target.id);
    let output = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name(&plan.session_name)
        .set_external_id(plan.external_id.clone())
        .duration_seconds(3600)
        .send()
        .await
        .map_err(|e| StageError::from_sdk("sts:AssumeRole", e).with_detail(format!("role {arn}")))?;
    let c = output.credentials().ok_or_else(|| {
        StageError::unexpected("sts:AssumeRole", "the answer holds no credentials".to_string())
    })?;
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        SystemTime::try_from(*c.expiration()).ok(),
        "iam-auditor-assume-role",
    ))
}

/// Every page, up to 1,000 entities each: the whole IAM graph in a handful of calls. A
/// graph that stops part-way is not kept (a missing principal would look like a clean one).
async fn authorization_details(iam: &aws_sdk_iam::Client) -> Result<Value, StageError> {
    const STAGE: &str = "iam:GetAccountAuthorizationDetails";
    let filter = [
        EntityType::User,
        EntityType::Group,
        EntityType::Role,
        EntityType::LocalManagedPolicy,
        EntityType::AwsManagedPolicy,
    ];
    let mut pages = iam
        .get_account_authorization_details()
        .set_filter(Some(filter.to_vec()))
        .into_paginator()
        .page_size(1000)
        .send();
    let (mut users, mut groups, mut roles, mut policies) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    while let Some(page) = pages.try_next().await.map_err(|e| StageError::from_sdk(STAGE, e))? {
        users.extend(page.user_detail_list().iter().map(shapes::user));
        groups.extend(page.group_detail_list().iter().map(shapes::group));
        roles.extend(page.role_detail_list().iter().map(shapes::role));
        policies.extend(page.policies().iter().map(shapes::managed_policy));
    }
    Ok(json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
    }))
}

/// GenerateCredentialReport until COMPLETE (with backoff, up to `timeout`), then
/// GetCredentialReport; a report that expired or vanished in between is generated again.
async fn credential_report(iam: &aws_sdk_iam::Client, timeout: Duration) -> Result<Vec<u8>, StageError> {
    const STAGE: &str = "iam:GetCredentialReport";
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(500);
    // The next wait, or what kept the report from being ready once the time is up.
    let mut wait = |what: &str| {
        let now = Instant::now();
        if now + delay > deadline {
            return Err(format!("{what} after {} s", timeout.as_secs()));
        }
        let this = delay;
        delay = (delay * 2).min(Duration::from_secs(8));
        Ok(this)
    };
    let timed_out = |message: String| StageError {
        hint: Some("raise [organization] credential_report_timeout_seconds, or run again later".into()),
        ..StageError::new(STAGE, "CredentialReportTimeout", message)
    };
    loop {
        match iam.generate_credential_report().send().await {
            Ok(out) if out.state() == Some(&ReportStateType::Complete) => {}
            Ok(_) => {
                tokio::time::sleep(
                    wait("IAM was still generating the credential report").map_err(timed_out)?,
                )
                .await;
                continue;
            }
            Err(e) => {
                let error = StageError::from_sdk("iam:GenerateCredentialReport", e);
                if error.code != "LimitExceeded" {
                    return Err(error);
                }
                tokio::time::sleep(
                    wait("IAM kept refusing to generate a report (LimitExceeded)").map_err(timed_out)?,
                )
                .await;
                continue;
            }
        }
        match iam.get_credential_report().send().await {
            Ok(out) => {
                return out.content().map(|blob| blob.as_ref().to_vec()).ok_or_else(|| {
                    StageError::unexpected(STAGE, "the answer holds no report content".to_string())
                })
            }
            Err(e) => {
                let error = StageError::from_sdk(STAGE, e);
                match error.code.as_str() {
                    "ReportInProgress" | "ReportExpired" | "ReportNotPresent" => {
                        tokio::time::sleep(
                            wait(&format!("the report was still not ready ({})", error.code))
                                .map_err(timed_out)?,
                        )
                        .await
                    }
                    _ => return Err(error),
                }
            }
        }
    }
}

async fn password_policy(iam: &aws_sdk_iam::Client) -> Result<Value, StageError> {
    match iam.get_account_password_policy().send().await {
        Ok(out) => Ok(shapes::password_policy(out.password_policy())),
        Err(e) => {
            let error = StageError::from_sdk("iam:GetAccountPasswordPolicy", e);
            // NoSuchEntity is IAM's way of saying the account has no password policy.
            if error.code == "NoSuchEntity" {
                Ok(shapes::password_policy(None))
            } else {
                Err(error)
            }
        }
    }
}

async fn account_summary(iam: &aws_sdk_iam::Client) -> Result<Value, StageError> {
    let out = iam
        .get_account_summary()
        .send()
        .await
        .map_err(|e| StageError::from_sdk("iam:GetAccountSummary", e))?;
    Ok(shapes::account_summary(out.summary_map()))
}

/// The region's analyzers, and the ACTIVE findings of each active one (every page).
async fn access_analyzer(client: &aws_sdk_accessanalyzer::Client) -> Result<Value, StageError> {
    let region = client.config().region().map(|r| r.to_string()).unwrap_or_default();
    let stage = |operation: &str| format!("access-analyzer:{operation} ({region})");
    let pages = client
        .list_analyzers()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| StageError::from_sdk(&stage("ListAnalyzers"), e))?;
    let analyzers: Vec<_> = pages.iter().flat_map(|p| p.analyzers()).collect();
    let mut findings = Vec::new();
    for analyzer in analyzers.iter().filter(|a| a.status() == &AnalyzerStatus::Active) {
        let active = Criterion::builder().eq("ACTIVE").build();
        let pages = client
            .list_findings_v2()
            .analyzer_arn(analyzer.arn())
            .filter("status", active)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| StageError::from_sdk(&stage("ListFindingsV2"), e))?;
        for finding in pages.iter().flat_map(|p| p.findings()) {
            let mut value = shapes::analyzer_finding(finding);
            value["analyzerArn"] = json!(analyzer.arn());
            findings.push(value);
        }
    }
    Ok(json!({
        "analyzers": analyzers.iter().map(|a| shapes::analyzer(a)).collect::<Vec<_>>(),
        "findings": findings,
    }))
}
