//! Each kind of SDK error, built as the SDK builds it, and the words it becomes.

use super::*;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
use aws_smithy_runtime_api::client::retries::ErrorKind;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use std::io;

type StsError = SdkError<GetCallerIdentityError, HttpResponse>;

fn answered(status: u16, code: &str, message: &str) -> StsError {
    let error = GetCallerIdentityError::generic(ErrorMetadata::builder().code(code).message(message).build());
    SdkError::service_error(error, HttpResponse::new(status.try_into().unwrap(), SdkBody::empty()))
}

fn unanswered(connector: ConnectorError) -> StsError {
    SdkError::dispatch_failure(connector)
}

/// A message from hyper with no I/O error beneath it.
#[derive(Debug)]
struct Hyper(&'static str);

impl std::fmt::Display for Hyper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Hyper {}

/// Plain words: none of the SDK's type names or Debug braces.
fn assert_plain(text: &str) {
    for internal in
        ["DispatchFailure", "ConnectorError", "TimeoutError", "CredentialsNotLoaded", "{", "..", "Some("]
    {
        assert!(!text.contains(internal), "{internal:?} in {text:?}");
    }
}

#[test]
fn an_answer_is_its_code_and_message_without_the_closing_full_stop() {
    let failure =
        Failure::of(&answered(503, "ServiceUnavailable", "Service is unavailable. Try again later."));
    assert_eq!(failure.words(), "ServiceUnavailable: Service is unavailable. Try again later");
    assert_eq!(failure.code(), "ServiceUnavailable");
    assert!(failure.is_transient() && !failure.is_throttling());

    let throttled = Failure::of(&answered(400, "Throttling", "Rate exceeded"));
    assert!(throttled.is_throttling() && throttled.is_transient());
    let organizations = Failure::of(&answered(400, "TooManyRequestsException", "too many"));
    assert!(organizations.is_throttling());

    let denied = Failure::of(&answered(403, "AccessDenied", "User: x is not authorized"));
    assert!(!denied.is_transient(), "a denial is not passing");
    assert_eq!(denied.words(), "AccessDenied: User: x is not authorized");
}

#[test]
fn no_credentials_says_which_sources_were_tried() {
    let chain = CredentialsError::not_loaded("no providers in chain provided credentials");
    let error = unanswered(ConnectorError::other(Box::new(chain), None));
    let failure = Failure::of(&error);
    assert_eq!(failure, Failure::NoCredentials { detail: None });
    assert_eq!(failure.code(), "NoCredentials");
    let text = error_text(&error);
    assert!(text.starts_with("no AWS credentials found (tried: environment, profile, SSO"), "{text}");
    assert!(text.contains("IMDS"), "{text}");
    assert_plain(&text);
    assert!(!failure.is_transient());

    let broken = CredentialsError::invalid_configuration("profile `audit` has no region.");
    let failure = Failure::of(&unanswered(ConnectorError::other(Box::new(broken), None)));
    assert_eq!(failure.words(), "AWS credentials could not be loaded: profile `audit` has no region");
}

#[test]
fn a_timeout_says_timed_out() {
    let error: StsError =
        SdkError::timeout_error("operation attempt timeout (single attempt) occurred after 1s");
    assert_eq!(Failure::of(&error), Failure::Timeout);
    assert_eq!(error_text(&error), "timed out");
    let connect =
        unanswered(ConnectorError::timeout(Box::new(Hyper("HTTP connect timeout occurred after 10s"))));
    assert_eq!(Failure::of(&connect), Failure::Timeout);
    assert!(Failure::Timeout.is_transient());
}

#[test]
fn a_closed_connection_says_closed_by_aws() {
    let reset = unanswered(ConnectorError::io(Box::new(io::Error::from(io::ErrorKind::ConnectionReset))));
    assert_eq!(Failure::of(&reset), Failure::ConnectionClosed);
    assert_eq!(error_text(&reset), "connection closed by AWS");
    // hyper::Error(IncompleteMessage): no I/O error beneath, a transient connector error.
    let incomplete = unanswered(ConnectorError::other(
        Box::new(Hyper("connection closed before message completed")),
        Some(ErrorKind::TransientError),
    ));
    assert_eq!(Failure::of(&incomplete), Failure::ConnectionClosed);
    assert_plain(&error_text(&incomplete));
    assert!(Failure::ConnectionClosed.is_transient());
}

#[test]
fn an_unreachable_endpoint_names_the_cause_and_is_not_passing() {
    let refused = unanswered(ConnectorError::io(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused))));
    let failure = Failure::of(&refused);
    assert_eq!(failure.code(), "ConnectionFailed");
    assert!(failure.words().starts_with("cannot connect to AWS: "), "{}", failure.words());
    assert!(failure.words().to_lowercase().contains("refused"), "{}", failure.words());
    assert_plain(&failure.words());
    assert!(!failure.is_transient(), "a wrong endpoint does not pass by itself");
}

#[test]
fn a_sentence_loses_only_its_closing_full_stops() {
    assert_eq!(sentence("Try again later.. "), "Try again later");
    assert_eq!(sentence("v1.2 is out"), "v1.2 is out");
}
