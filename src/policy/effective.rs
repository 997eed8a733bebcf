//! Where a policy in force comes from: the "path" an auditor reads in a finding (inline or
//! managed, direct or through a group, or an SCP). The policy engine (`engine.rs`) decides
//! what these policies allow.

use serde::{Deserialize, Serialize};

/// Where an identity policy comes from: the "path" an auditor reads in a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySource {
    /// The policy's name (inline) or managed policy name.
    pub policy: String,
    /// The managed policy's ARN; None for inline policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_arn: Option<String>,
    /// The group the policy reaches the user through; None when attached directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_group: Option<String>,
}

impl PolicySource {
    pub fn describe(&self) -> String {
        // Service control policies carry their `p-…` id where a managed policy has its ARN.
        if self.policy_arn.as_deref().is_some_and(|id| id.starts_with("p-")) {
            return format!("SCP {}", self.policy);
        }
        let kind = if self.policy_arn.is_some() { "managed policy" } else { "inline policy" };
        match &self.via_group {
            Some(group) => format!("{kind} {} via group {group}", self.policy),
            None => format!("{kind} {} (direct)", self.policy),
        }
    }
}
