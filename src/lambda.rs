//! Running as an AWS Lambda function (runtime `provided.al2023`, the binary deployed as
//! `bootstrap`): started by the Lambda runtime with no arguments, it serves invocations with
//! the same `run` as the command line. The config comes from `IAM_AUDITOR_CONFIG` (a path or
//! an `s3://` URI); the event may set `as_of` and `dry_run` (no mail). A run whose exit code
//! is not 0 is returned as a function error, so the function's `Errors` metric alarms.
//!
//! Lambda has no disk that outlives an invocation, so the archive must be S3 there, and an
//! organization too large to collect within the time left is refused with advice to use the
//! ECS task instead.

use crate::cli::{self, RunArgs};
use crate::logging::LogFormat;
use lambda_runtime::{service_fn, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

/// True when the Lambda runtime started this process (it passes no arguments).
pub fn started_by_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() && std::env::args_os().len() == 1
}

/// What an invocation may ask for; every field is optional, unknown fields (such as those
/// EventBridge adds) are ignored.
#[derive(Debug, Default, Deserialize)]
struct Invocation {
    /// RFC 3339; default: the collection time.
    as_of: Option<String>,
    /// Collect, audit and archive, but do not mail.
    #[serde(default)]
    dry_run: bool,
}

pub fn main() -> i32 {
    let format = match std::env::var("IAM_AUDITOR_LOG_FORMAT").as_deref() {
        Ok("text") => LogFormat::Text,
        _ => LogFormat::Json,
    };
    crate::logging::init(format, false);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(event = "fatal", "cannot start the Lambda runtime loop: {e}");
            return cli::EXIT_FATAL;
        }
    };
    match runtime.block_on(lambda_runtime::run(service_fn(move |event| handle(event, format)))) {
        Ok(()) => cli::EXIT_OK,
        Err(e) => {
            tracing::error!(event = "fatal", "the Lambda runtime loop stopped: {e}");
            cli::EXIT_FATAL
        }
    }
}

/// The time an invocation has left. Lambda sends its deadline as epoch milliseconds; some
/// runtime emulators send the function's timeout itself (a few hundred thousand ms), which is
/// taken as counting from now.
fn time_left(deadline_ms: u64, now: SystemTime) -> Duration {
    const YEAR_2001_MS: u64 = 978_307_200_000;
    if deadline_ms < YEAR_2001_MS {
        return Duration::from_millis(deadline_ms);
    }
    (SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms)).duration_since(now).unwrap_or_default()
}

async fn handle(event: LambdaEvent<Value>, format: LogFormat) -> Result<Value, lambda_runtime::Error> {
    let invocation: Invocation = if event.payload.is_null() {
        Invocation::default()
    } else {
        serde_json::from_value(event.payload.clone()).map_err(|e| {
            format!("the invocation event is not {{\"as_of\": \"RFC 3339\", \"dry_run\": bool}}: {e}")
        })?
    };
    let as_of = match &invocation.as_of {
        Some(text) => Some(cli::parse_instant(text).map_err(|e| format!("as_of = {text:?}: {e}"))?),
        None => None,
    };
    let left = time_left(event.context.deadline, SystemTime::now());
    let args = RunArgs {
        config: std::env::var_os("IAM_AUDITOR_CONFIG").map(PathBuf::from),
        snapshot: None,
        as_of,
        out: None,
        no_mail: invocation.dry_run,
        deadline: Some(Instant::now() + left),
    };
    let code = tokio::task::spawn_blocking(move || cli::run(&args, format))
        .await
        .map_err(|e| format!("the run stopped unexpectedly: {e}"))?;
    match code {
        Ok(0) => Ok(json!({"exit_code": 0, "meaning": cli::exit_meaning(0)})),
        Ok(code) => Err(format!("iam-auditor run exited {code}: {}", cli::exit_meaning(code)).into()),
        Err(message) => Err(message.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_epoch_milliseconds_or_an_emulators_timeout() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(time_left(1_800_000_000_000 + 900_000, now), Duration::from_secs(900));
        assert_eq!(time_left(1_800_000_000_000 - 5, now), Duration::ZERO, "already past");
        assert_eq!(time_left(600_000, now), Duration::from_secs(600), "cargo-lambda sends the timeout");
    }

    #[test]
    fn events_may_be_empty_or_carry_extra_fields() {
        let scheduler: Invocation =
            serde_json::from_value(json!({"as_of": "2026-11-23T00:00:00Z", "source": "aws.scheduler"}))
                .unwrap();
        assert_eq!(scheduler.as_of.as_deref(), Some("2026-11-23T00:00:00Z"));
        assert!(!scheduler.dry_run);
        let dry: Invocation = serde_json::from_value(json!({"dry_run": true})).unwrap();
        assert!(dry.dry_run);
    }
}
