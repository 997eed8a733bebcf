//! Findings: what a check reports, with a fingerprint that stays the same from run to run
//! for the same problem, so runs can be compared and suppressions can name them.
//!
//! Checks build findings through [`crate::checks::AccountContext::finding`]; the policy
//! steps that follow (severity overrides, suppressions, disabled checks) live in `policy.rs`.

pub mod diff;
pub mod policy;

use crate::identifiers::AccountId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceType {
    User,
    Role,
    Group,
    Policy,
    Account,
    AnalyzerFinding,
    /// A person of the Identity Center identity store.
    Person,
    /// An Identity Center permission set.
    PermissionSet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Suppressed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Persisting,
}

/// Why a finding is suppressed: the config rule that matched it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The rule's number: its place among the config's `[[suppressions]]`, from 1 (the
    /// report's table of rules and findings.json's `suppression_rules` use it). None when read
    /// from a findings.json written before rules were numbered.
    #[serde(default)]
    pub rule: Option<usize>,
    pub reason: String,
    pub expires: String,
    pub resource_pattern: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Text that is usually the check's own `&'static` text (id, remediation, references), shared
/// by every finding of the check instead of copied into each; owned when read back from JSON.
pub type CheckText = std::borrow::Cow<'static, str>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub fingerprint: String,
    pub check: CheckText,
    pub severity: Severity,
    pub account_id: AccountId,
    pub account_name: String,
    pub resource_type: ResourceType,
    pub resource_arn: String,
    pub resource_name: String,
    pub title: String,
    pub detail: String,
    pub evidence: Evidence,
    pub remediation: CheckText,
    /// This finding's own command, with its real names: the one that fixes it, or the one that
    /// shows what a person must decide (`checks::fix`). None where the audit identity's kind of
    /// access cannot fix it (the root user) or nothing is to be done.
    #[serde(default)]
    pub remediation_command: Option<String>,
    /// The resource's page in the AWS console; it opens in whichever account the reader is
    /// signed in to.
    #[serde(default)]
    pub console_url: Option<String>,
    pub references: Vec<CheckText>,
    pub status: Status,
    pub suppression: Option<Suppression>,
    pub first_seen: String,
    pub change: Change,
    /// The check's default severity applied (not a finding-specific one), so a config
    /// override may replace it.
    #[serde(skip)]
    pub default_severity: bool,
    /// The number of the expired suppression rule that would have covered this open finding
    /// (its `evidence.expired_suppression`), for the per-rule counts.
    #[serde(skip)]
    pub lapsed_rule: Option<usize>,
}

/// What a finding rests on, as compact JSON text (an object). Kept as text because on a large
/// organization evidence is the bulk of the findings held in memory, and only the report
/// pages that show a finding need it parsed.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Evidence(Box<serde_json::value::RawValue>);

/// Read back compact, as this run writes it: a findings.json is pretty-printed, and the raw
/// text would otherwise carry that file's line breaks and indentation into the next one.
impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Evidence, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        if !raw.get().contains('\n') {
            return Ok(Evidence(raw));
        }
        let value: serde_json::Value = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        serde_json::value::RawValue::from_string(value.to_string())
            .map(Evidence)
            .map_err(serde::de::Error::custom)
    }
}

impl Evidence {
    pub fn from_map(map: serde_json::Map<String, serde_json::Value>) -> Evidence {
        let text = serde_json::Value::Object(map).to_string();
        Evidence(serde_json::value::RawValue::from_string(text).expect("serde_json writes valid JSON"))
    }

    /// The evidence parsed (an object; `{}` if the text were ever not one).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or_else(|_| serde_json::json!({}))
    }

    /// The compact JSON text, as findings.csv carries it.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// Adds or replaces one field (rare: a lapsed suppression).
    pub fn insert(&mut self, key: &str, value: serde_json::Value) {
        let mut map = match self.value() {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        map.insert(key.to_string(), value);
        *self = Evidence::from_map(map);
    }
}

/// `sha256(check|account|resource|key)`, hex: the same problem gets the same fingerprint in every run.
pub fn fingerprint(check: &str, account: &str, resource: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in [check, account, resource, key].iter().enumerate() {
        if i > 0 {
            hasher.update(b"|");
        }
        hasher.update(part.as_bytes());
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for b in hasher.finalize() {
        hex.push(HEX[usize::from(b >> 4)] as char);
        hex.push(HEX[usize::from(b & 0xf)] as char);
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_distinguish_their_parts() {
        let a = fingerprint(
            "stale-access-key",
            "111122223333",
            "arn:aws:iam::111122223333:user/a",
            "access_key_1",
        );
        assert_eq!(
            a,
            fingerprint(
                "stale-access-key",
                "111122223333",
                "arn:aws:iam::111122223333:user/a",
                "access_key_1"
            )
        );
        assert_ne!(
            a,
            fingerprint(
                "stale-access-key",
                "111122223333",
                "arn:aws:iam::111122223333:user/a",
                "access_key_2"
            )
        );
        assert_eq!(a.len(), 64);
        // sha256 of the four parts joined by "|", in lower-case hex: the value every run
        // and the previous runs' findings.json agree on.
        assert_eq!(
            fingerprint("check", "111122223333", "arn:aws:iam::111122223333:user/a", "key"),
            "4d0d9fabd457bcb16b10fec12916e135910968cc4824ad3d25b239f2c2c1e627"
        );
        // The separator keeps "a|bc" and "ab|c" apart.
        assert_ne!(fingerprint("a", "bc", "", ""), fingerprint("ab", "c", "", ""));
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("severe"), None);
    }
}
