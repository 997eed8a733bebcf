//! API call accounting: an SDK interceptor on every client counts each AWS operation once
//! (by its IAM action name, `iam:GetAccountAuthorizationDetails`) and each HTTP attempt, so
//! retries after throttling show apart from the calls themselves. For a call that fails in
//! the end it keeps what each attempt met (a code, a timeout, a closed connection): the SDK's
//! error tells only of the last attempt.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The calls made for one account (or for the organization), shared by its clients.
#[derive(Debug, Clone, Default)]
pub struct CallTally {
    inner: Arc<Mutex<Counts>>,
    failed: Arc<Mutex<Vec<FailedCall>>>,
}

/// A call that failed in the end: how many attempts it made, and what each met, in order
/// (`Throttling`, `HTTP 502`, `timed out`, `connection closed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedCall {
    /// `iam:GetAccountAuthorizationDetails`
    pub operation: String,
    pub attempts: u32,
    pub faults: Vec<String>,
}

/// One call's attempts so far (kept in the call's own config bag).
#[derive(Debug, Clone, Default)]
struct AttemptLog {
    faults: Vec<String>,
    /// An attempt started and has not ended: a timed-out attempt never reaches
    /// `read_after_attempt`, so this is how a timeout shows.
    open: bool,
}

impl Storable for AttemptLog {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Operation (`iam:GetCredentialReport`) → calls, retries not counted.
    pub calls: BTreeMap<String, u64>,
    /// Operation → HTTP attempts beyond the first (throttling, 5xx, timeouts).
    pub retries: BTreeMap<String, u64>,
}

impl Counts {
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    pub fn total_retries(&self) -> u64 {
        self.retries.values().sum()
    }

    pub fn add(&mut self, other: &Counts) {
        for (op, n) in &other.calls {
            *self.calls.entry(op.clone()).or_default() += n;
        }
        for (op, n) in &other.retries {
            *self.retries.entry(op.clone()).or_default() += n;
        }
    }
}

impl CallTally {
    pub fn snapshot(&self) -> Counts {
        self.inner.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The interceptor to install on one client; `service` is the IAM action prefix
    /// (`iam`, `sts`, `organizations`, `access-analyzer`).
    pub fn interceptor(&self, service: &'static str) -> CountCalls {
        CountCalls { service, tally: self.clone() }
    }

    /// The last failed call of `stage` (`sts:AssumeRole`, or `access-analyzer:ListAnalyzers
    /// (us-east-1)`, which is the operation with its region).
    pub fn failed_call(&self, stage: &str) -> Option<FailedCall> {
        let failed = self.failed.lock().ok()?;
        failed
            .iter()
            .rev()
            .find(|call| {
                stage == call.operation
                    || stage.strip_prefix(call.operation.as_str()).is_some_and(|rest| rest.starts_with(" ("))
            })
            .cloned()
    }

    fn bump(&self, key: String, retry: bool) {
        if let Ok(mut counts) = self.inner.lock() {
            let map = if retry { &mut counts.retries } else { &mut counts.calls };
            *map.entry(key).or_default() += 1;
        }
    }
}

#[derive(Debug)]
pub struct CountCalls {
    service: &'static str,
    tally: CallTally,
}

impl CountCalls {
    fn operation(&self, cfg: &ConfigBag) -> String {
        let name = cfg.load::<Metadata>().map(|m| m.name().to_string()).unwrap_or_else(|| "unknown".into());
        format!("{}:{name}", self.service)
    }
}

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    // Once per operation, after the operation's own config (its name) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.tally.bump(self.operation(cfg), false);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<RequestAttempts>().is_some_and(|a| a.attempts() > 1) {
            self.tally.bump(self.operation(cfg), true);
        }
        let mut log = cfg.load::<AttemptLog>().cloned().unwrap_or_default();
        if log.open {
            log.faults.push(TIMED_OUT.into());
        }
        log.open = true;
        cfg.interceptor_state().store_put(log);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut log = cfg.load::<AttemptLog>().cloned().unwrap_or_default();
        log.open = false;
        if let Some(fault) = attempt_fault(context) {
            log.faults.push(fault);
        }
        cfg.interceptor_state().store_put(log);
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !matches!(context.output_or_error(), Some(Err(_))) {
            return Ok(());
        }
        let mut log = cfg.load::<AttemptLog>().cloned().unwrap_or_default();
        if log.open {
            log.faults.push(TIMED_OUT.into());
        }
        let call = FailedCall {
            operation: self.operation(cfg),
            attempts: cfg.load::<RequestAttempts>().map_or(0, |a| a.attempts()),
            faults: log.faults,
        };
        if let Ok(mut failed) = self.tally.failed.lock() {
            failed.push(call);
        }
        Ok(())
    }
}

const TIMED_OUT: &str = "timed out";

/// What a failed attempt met: AWS's error code (or the HTTP status), or why no answer came.
fn attempt_fault(context: &FinalizerInterceptorContextRef<'_>) -> Option<String> {
    let Some(Err(error)) = context.output_or_error() else { return None };
    if let Some(response) = context.response() {
        let code = response
            .headers()
            .get("x-amzn-ErrorType")
            .map(|v| v.split(':').next().unwrap_or(v).to_string())
            .or_else(|| response.body().bytes().and_then(xml_error_code));
        return Some(code.unwrap_or_else(|| format!("HTTP {}", response.status().as_u16())));
    }
    if error.is_timeout_error() {
        return Some(TIMED_OUT.into());
    }
    let failure = match error.as_connector_error() {
        Some(connector) => crate::aws_sdk::Failure::of_connection(connector),
        None => crate::aws_sdk::Failure::Unreadable,
    };
    Some(failure.message())
}

/// `<Code>Throttling</Code>` of an awsQuery (IAM, STS) error answer.
fn xml_error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(text[start..end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_awsquery_error_code_is_read_from_the_answer() {
        let body = b"<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>\
                     <Message>x</Message></Error></ErrorResponse>";
        assert_eq!(xml_error_code(body).as_deref(), Some("ServiceUnavailable"));
        assert_eq!(xml_error_code(b"<html>bad gateway</html>"), None);
    }

    #[test]
    fn a_failed_call_is_found_by_its_stage() {
        let tally = CallTally::default();
        let call =
            |operation: &str, attempts| FailedCall { operation: operation.into(), attempts, faults: vec![] };
        tally.failed.lock().unwrap().extend([
            call("access-analyzer:ListAnalyzers", 2),
            call("sts:AssumeRole", 3),
            call("access-analyzer:ListAnalyzers", 5),
        ]);
        assert_eq!(tally.failed_call("sts:AssumeRole").unwrap().attempts, 3);
        assert_eq!(
            tally.failed_call("access-analyzer:ListAnalyzers (eu-west-1)").unwrap().attempts,
            5,
            "the last"
        );
        assert_eq!(tally.failed_call("sts:AssumeRoleWithSAML"), None);
        assert_eq!(tally.failed_call("iam:GetAccountSummary"), None);
    }
}
