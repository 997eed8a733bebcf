//! Condition evaluation: one `Condition` block of a statement judged against what is known
//! of a request. Three-valued: a condition holds, fails, or depends on a context key the
//! snapshot cannot know (`aws:SourceIp`, `aws:MultiFactorAuthPresent`, …).
//!
//! INTERFACE STUB — the implementation is being written; signatures are the contract.

use super::document::Condition;
use std::collections::HashMap;

/// What is known of one context key in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    /// Present with these values (one for a single-valued key, any number for a multivalued one).
    Known(Vec<String>),
    /// Known to be missing from the request (e.g. a principal tag the principal does not carry).
    Absent,
    /// The snapshot cannot tell (network, MFA, time, session).
    Unknown,
}

/// The context keys of one request, keyed lower-case. Unset keys are `Unknown`, except
/// under a prefix declared complete (`aws:principaltag/`), where an unset key is `Absent`.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    values: HashMap<String, Vec<String>>,
    absent: Vec<String>,
    complete_prefixes: Vec<String>,
}

impl RequestContext {
    pub fn new() -> RequestContext {
        RequestContext::default()
    }

    /// A key known to hold `values` (case-insensitive key).
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), values);
    }

    /// A key known to be absent from the request.
    pub fn set_absent(&mut self, key: &str) {
        self.absent.push(key.to_ascii_lowercase());
    }

    /// Every key under `prefix` (e.g. `aws:principaltag/`) is known: unset means absent.
    pub fn declare_complete(&mut self, prefix: &str) {
        self.complete_prefixes.push(prefix.to_ascii_lowercase());
    }

    pub fn get(&self, key: &str) -> KeyValue {
        let _ = key;
        unimplemented!()
    }
}

/// The outcome of a condition block (every condition of a statement, ANDed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    Holds,
    /// Fails; the text says which condition and why, e.g.
    /// "StringEquals aws:PrincipalOrgID: o-abc is not o-xyz".
    Fails(String),
    /// Depends on conditions the snapshot cannot decide, each written out,
    /// e.g. "Bool aws:MultiFactorAuthPresent = true".
    Depends(Vec<String>),
}

/// A block's verdict plus what the evaluator could not read (unknown operator, bad value):
/// such a condition makes the block `Depends`, never silently true or false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockVerdict {
    pub truth: Truth,
    pub problems: Vec<String>,
}

/// Judges every condition of a statement against `context`.
pub fn evaluate(conditions: &[Condition], context: &RequestContext) -> BlockVerdict {
    let _ = (conditions, context);
    unimplemented!()
}

/// Policy variables in `text` (`${aws:username}`, `${aws:PrincipalTag/team}`, `${*}`, …)
/// replaced from `context`. None when a variable's value is unknown or absent.
pub fn substitute(text: &str, context: &RequestContext) -> Option<String> {
    let _ = (text, context);
    unimplemented!()
}
