//! What a person (or CloudWatch) sees while accounts are collected: on a terminal an
//! indicatif bar (accounts done/total, the stage of the latest account); otherwise one log
//! event per account finished.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar when stderr is a terminal and logs are text; log events otherwise.
    pub fn new(total: usize, text_logs: bool) -> Progress {
        if !(text_logs && std::io::stderr().is_terminal()) {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} accounts  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        crate::logging::attach_bar(Some(bar.clone()));
        Progress { bar: Some(bar) }
    }

    pub fn stage(&self, account: &str, stage: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("{account}: {stage}")),
            None => tracing::debug!(account, stage, "collecting"),
        }
    }

    pub fn account_done(&self, account: &str, name: &str, failed: Option<&str>, calls: u64, seconds: f64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        match failed {
            // Under a bar, the bar is the progress; one line per account would scroll it away.
            None if self.bar.is_some() => {}
            None => tracing::info!(
                event = "account-collected",
                account,
                name,
                calls,
                seconds = (seconds * 10.0).round() / 10.0,
                "collected account {account} ({name}) in {seconds:.1} s, {calls} calls"
            ),
            Some(error) => tracing::warn!(
                event = "account-failed",
                account,
                name,
                calls,
                error,
                "account {account} ({name}) not fully collected: {error}"
            ),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            crate::logging::attach_bar(None);
        }
    }
}
