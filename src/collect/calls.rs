//! API call accounting: an SDK interceptor on every client counts each AWS operation once
//! (by its IAM action name, `iam:GetAccountAuthorizationDetails`) and each HTTP attempt, so
//! retries after throttling show apart from the calls themselves.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The calls made for one account (or for the organization), shared by its clients.
#[derive(Debug, Clone, Default)]
pub struct CallTally {
    inner: Arc<Mutex<Counts>>,
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
        Ok(())
    }
}
