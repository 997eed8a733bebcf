//! Logs on stderr: `iam-auditor: warning: …` lines for people (text), or one JSON object per
//! line for CloudWatch (`--log-format json`), with the event's fields at the top level so
//! metric filters can match them (`{ $.event = "run-finished" && $.exit_code = 0 }`).
//! While a progress bar is drawn, log lines are printed above it.

use indicatif::ProgressBar;
use std::fmt;
use std::io::Write;
use std::sync::Mutex;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

pub fn attach_bar(bar: Option<ProgressBar>) {
    if let Ok(mut slot) = BAR.lock() {
        *slot = bar;
    }
}

/// Installs the subscriber once; later calls (tests) are ignored. The AWS SDK's own events
/// (region lookups, retries) show only with `--verbose`; errors always reach the tool's own
/// messages anyway.
pub fn init(format: LogFormat, verbose: bool) {
    let level = if verbose { Level::DEBUG } else { Level::INFO };
    let targets = Targets::new().with_target("iam_auditor", level).with_default(if verbose {
        Level::DEBUG
    } else {
        Level::ERROR
    });
    let builder = tracing_subscriber::fmt().with_max_level(level).with_writer(Stderr);
    let _ = match format {
        LogFormat::Json => {
            builder.json().flatten_event(true).with_current_span(false).finish().with(targets).try_init()
        }
        LogFormat::Text => builder.event_format(Plain).finish().with(targets).try_init(),
    };
}

/// `iam-auditor: warning: message` (info has no level word), as the tool always printed.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        let word = match level {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            Level::INFO => "",
            _ => "debug: ",
        };
        write!(writer, "iam-auditor: {word}")?;
        let mut message = MessageOnly(String::new());
        event.record(&mut message);
        writeln!(writer, "{}", message.0)
    }
}

struct MessageOnly(String);

impl tracing::field::Visit for MessageOnly {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
}

#[derive(Clone, Copy)]
struct Stderr;

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = Stderr;
    fn make_writer(&'a self) -> Stderr {
        Stderr
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = BAR.lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf)).map(|_| buf.len()),
            None => std::io::stderr().write_all(buf).map(|_| buf.len()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
