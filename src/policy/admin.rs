//! What admin power is, in words and in findings, and the probes that decide it.
//!
//! "Every action" is decided with probes, not with policy names (see
//! `escalation::graph::holds_everything`): one action of a service that does not exist (only
//! `*`, `*:*` or a NotAction form can grant it), plus one action matching each pattern any
//! policy in play names, each asked of the policy engine on a resource only "every resource"
//! patterns match.

use serde::{Deserialize, Serialize};

/// An action of a service that does not exist: only "everything" grants it.
pub const UNKNOWN_SERVICE_ACTION: &str = "zzfutureservice:zzprobeaction";
/// An ARN that only "every resource" patterns (`*`, `arn:*`, NotResource …) match.
pub const ANY_RESOURCE: &str = "arn:aws:zzprobe:zz-probe-1:000000000000:zzprobe/zzprobe";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AdminPower {
    /// Every action on every resource.
    Full,
    /// Every action on every resource except these, with IAM among what it holds.
    AllExcept { excluded: Vec<String> },
    /// Not everything, but IAM actions that let it rewrite its own permissions.
    CanGrantItself { methods: Vec<String> },
}

impl AdminPower {
    /// A noun phrase, read as "X has {describe}".
    pub fn describe(&self) -> String {
        match self {
            AdminPower::Full => "every action on every resource".into(),
            AdminPower::AllExcept { excluded } => format!(
                "every action on every resource except {} (IAM included, so it can grant itself the rest)",
                excluded.join(", ")
            ),
            AdminPower::CanGrantItself { methods } => {
                format!("the power to grant itself every action ({})", methods.join("; "))
            }
        }
    }
}
