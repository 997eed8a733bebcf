//! The AWS SDK set-up every AWS caller shares: the standard credential chain (environment,
//! profiles, SSO, web identity, container and instance roles), `AWS_ENDPOINT_URL` and the
//! per-service endpoint settings (for emulators and VPC endpoints), adaptive retry, and an
//! HTTPS client on rustls that also trusts `AWS_CA_BUNDLE`, as the AWS CLI and boto3 do.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::Region;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_iam::config::retry::{ClientRateLimiter, RetryPartition};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetrySpec;
use std::time::Duration;

/// The TLS trust for AWS calls: the system's roots (which honour `SSL_CERT_FILE`) plus
/// `AWS_CA_BUNDLE`.
fn tls_context() -> Result<TlsContext, String> {
    let mut trust = TrustStore::default().with_native_roots(true);
    if let Some(bundle) = std::env::var_os("AWS_CA_BUNDLE").filter(|v| !v.is_empty()) {
        let pem = std::fs::read(&bundle).map_err(|e| {
            format!(
                "AWS_CA_BUNDLE={}: cannot read the CA bundle: {e}",
                std::path::Path::new(&bundle).display()
            )
        })?;
        trust = trust.with_pem_certificate(pem);
    }
    TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| format!("cannot set up TLS for AWS calls: {e}"))
}

/// Loads the shared SDK configuration; `max_attempts` bounds adaptive retry (throttling),
/// `attempt_timeout` each attempt of a call. IAM is global: without a configured region,
/// us-east-1 (the partition's default endpoint region for `aws`).
pub async fn load(max_attempts: u32, attempt_timeout: Option<Duration>) -> Result<SdkConfig, String> {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls_context()?)
        .build_https();
    let mut timeouts = TimeoutConfig::builder().connect_timeout(Duration::from_secs(10));
    timeouts.set_operation_attempt_timeout(attempt_timeout);
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(retry_config(max_attempts))
        .timeout_config(timeouts.build())
        .load()
        .await;
    Ok(match config.region() {
        Some(_) => config,
        None => config.to_builder().region(Region::new("us-east-1")).build(),
    })
}

/// Adaptive retry in the SDK's Retry Behavior 2.1: a throttled call backs off from 1 s, any
/// other passing fault (5xx, timeout, closed connection) from 50 ms, and the rate limiter
/// charges each attempt one token. Under 2.0 every retry cost the limiter 5 or 10 tokens, so
/// once a partition had been throttled a 503 at a low call rate waited up to 20 s.
fn retry_config(max_attempts: u32) -> RetryConfig {
    RetryConfig::adaptive().with_max_attempts(max_attempts.max(1)).with_retry_spec(RetrySpec::v2_1())
}

/// A single-threaded runtime for the batch job's AWS calls.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime for AWS calls: {e}"))
}

/// A runtime and the shared config for a synchronous caller (archive, job inputs) that makes
/// a few AWS calls with `block_on`.
pub fn blocking(max_attempts: u32) -> Result<(tokio::runtime::Runtime, SdkConfig), String> {
    let runtime = runtime()?;
    let config = runtime.block_on(load(max_attempts, None))?;
    Ok((runtime, config))
}

/// An AWS error as a person can act on it: `Code: message` when AWS answered, plain words
/// when it did not (no credentials, timed out, connection closed). The SDK's own text, a
/// dump of its error types, is logged with `-v` only.
pub fn error_text<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Failure::of(error).words()
}

/// What went wrong with one AWS call, judged once from the SDK's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// AWS answered with an error.
    Service { code: String, message: String, status: u16 },
    /// The credential chain found nothing to sign with; `detail` when what it found was unusable.
    NoCredentials { detail: Option<String> },
    /// No answer within the attempt timeout.
    Timeout,
    /// The connection was closed before the answer was complete.
    ConnectionClosed,
    /// The endpoint could not be reached (refused, name lookup, TLS): `detail` says which.
    Unreachable { detail: String },
    /// An answer came that could not be read.
    Unreadable,
    /// The request was never sent.
    NotBuilt,
}

/// The error codes AWS services throttle with (the SDK's list, and Organizations').
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

impl Failure {
    pub fn of<E>(error: &SdkError<E, HttpResponse>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        tracing::debug!(event = "aws-error", "AWS SDK error: {}", DisplayErrorContext(error));
        match error {
            SdkError::ServiceError(context) => Failure::Service {
                code: context.err().code().unwrap_or("UnknownError").to_string(),
                message: sentence(context.err().message().unwrap_or("no message")),
                status: context.raw().status().as_u16(),
            },
            SdkError::TimeoutError(_) => Failure::Timeout,
            SdkError::DispatchFailure(_) => Failure::of_connection(error),
            SdkError::ConstructionFailure(_) => Failure::NotBuilt,
            _ => Failure::Unreadable,
        }
    }

    /// A call that got no answer: why, from the first error in the chain that says.
    pub fn of_connection(error: &(dyn std::error::Error + 'static)) -> Failure {
        use std::io::ErrorKind;
        let mut next = Some(error);
        let mut timeout = false;
        while let Some(error) = next {
            if let Some(credentials) = error.downcast_ref::<CredentialsError>() {
                let detail = match credentials {
                    CredentialsError::CredentialsNotLoaded(_) => None,
                    other => Some(sentence(&innermost(other))),
                };
                return Failure::NoCredentials { detail };
            }
            if let Some(connector) = error.downcast_ref::<ConnectorError>() {
                timeout |= connector.is_timeout();
            }
            if let Some(io) = error.downcast_ref::<std::io::Error>() {
                return match io.kind() {
                    ErrorKind::TimedOut => Failure::Timeout,
                    ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof => Failure::ConnectionClosed,
                    ErrorKind::InvalidData => Failure::Unreachable { detail: format!("TLS failed: {io}") },
                    _ => Failure::Unreachable { detail: io.to_string() },
                };
            }
            next = error.source();
        }
        // hyper's "connection closed before message completed" carries no I/O error.
        if timeout {
            Failure::Timeout
        } else {
            Failure::ConnectionClosed
        }
    }

    /// The short code error.json and the coverage table show.
    pub fn code(&self) -> &str {
        match self {
            Failure::Service { code, .. } => code,
            Failure::NoCredentials { .. } => "NoCredentials",
            Failure::Timeout => "Timeout",
            Failure::ConnectionClosed => "ConnectionClosed",
            Failure::Unreachable { .. } => "ConnectionFailed",
            Failure::Unreadable => "UnexpectedResponse",
            Failure::NotBuilt => "RequestNotBuilt",
        }
    }

    /// What happened, without the code.
    pub fn message(&self) -> String {
        match self {
            Failure::Service { message, .. } => message.clone(),
            Failure::NoCredentials { detail: None } => {
                "no AWS credentials found (tried: environment, profile, SSO, web identity, container, IMDS)"
                    .into()
            }
            Failure::NoCredentials { detail: Some(detail) } => {
                format!("AWS credentials could not be loaded: {detail}")
            }
            Failure::Timeout => "timed out".into(),
            Failure::ConnectionClosed => "connection closed by AWS".into(),
            Failure::Unreachable { detail } => format!("cannot connect to AWS: {detail}"),
            Failure::Unreadable => "AWS's answer could not be read".into(),
            Failure::NotBuilt => "the request could not be built".into(),
        }
    }

    /// `Code: message` when AWS answered, the plain words when it did not.
    pub fn words(&self) -> String {
        match self {
            Failure::Service { code, message, .. } => format!("{code}: {message}"),
            other => other.message(),
        }
    }

    pub fn is_throttling(&self) -> bool {
        matches!(self, Failure::Service { code, status, .. }
            if *status == 429 || THROTTLING_CODES.contains(&code.as_str()))
    }

    /// A fault that passes: throttling, AWS's own failures (5xx), timeouts, closed connections.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Service { status, .. } => *status >= 500 || self.is_throttling(),
            Failure::Timeout | Failure::ConnectionClosed => true,
            _ => false,
        }
    }
}

/// A message ready to be followed by more words: without its closing full stop.
pub fn sentence(text: &str) -> String {
    text.trim().trim_end_matches('.').trim_end().to_string()
}

/// The last error of a chain: where the useful words are.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(source) = last.source() {
        last = source;
    }
    last.to_string()
}

/// What the SDK's rate limiter of a partition believes about the calls before it has measured
/// any: a fifth of this rate after its first measurement (its smoothing). Unseeded, a
/// throttle on the first calls cut the rate to its floor of 0.5 a second, and the retry then
/// waited 20 s.
const SEEDED_REQUESTS_PER_SECOND: f64 = 50.0;

/// A retry partition of its own (adaptive retry's rate limiter and retry quota): AWS throttles
/// each account's APIs apart, so a throttle in one account must slow that account only. Each
/// call makes a new partition; a client built with it, or a clone of it, shares it.
pub fn retry_partition(name: String) -> RetryPartition {
    RetryPartition::custom(name)
        .client_rate_limiter(
            ClientRateLimiter::builder().tokens_retrieved_per_second(SEEDED_REQUESTS_PER_SECOND).build(),
        )
        .build()
}

#[cfg(test)]
#[path = "aws_sdk_tests.rs"]
mod tests;
