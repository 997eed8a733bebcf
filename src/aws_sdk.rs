//! The AWS SDK set-up every AWS caller shares: the standard credential chain (environment,
//! profiles, SSO, web identity, container and instance roles), `AWS_ENDPOINT_URL` and the
//! per-service endpoint settings (for emulators and VPC endpoints), adaptive retry, and an
//! HTTPS client on rustls that also trusts `AWS_CA_BUNDLE`, as the AWS CLI and boto3 do.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::Region;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
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
        .retry_config(RetryConfig::adaptive().with_max_attempts(max_attempts.max(1)))
        .timeout_config(timeouts.build())
        .load()
        .await;
    Ok(match config.region() {
        Some(_) => config,
        None => config.to_builder().region(Region::new("us-east-1")).build(),
    })
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

/// An AWS error as a person can act on it: `Code: message`, or the whole chain when the
/// service did not answer (timeout, connection, unreadable answer).
pub fn error_text<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match error.as_service_error() {
        Some(service) => {
            format!("{}: {}", service.code().unwrap_or("error"), service.message().unwrap_or("no message"))
        }
        None => aws_smithy_types::error::display::DisplayErrorContext(error).to_string(),
    }
}
