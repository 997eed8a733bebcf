//! iam-auditor: audits AWS IAM across the accounts of an AWS Organization.
//!
//! The pipeline, one module each: `collect` (live AWS → a snapshot) → `snapshot` (the on-disk model) → `policy` (the IAM policy
//! language) → `checks` (one file per check) → `audit` (runs them per account; `access` names
//! the people behind Identity Center roles and builds the access roster) → `report`
//! (HTML, CSV, JSON, the mail digest) → `deliver` (archive, mail). `cli` wires them to the
//! command line.

pub mod access;
pub mod audit;
pub mod aws_sdk;
pub mod checks;
pub mod cli;
pub mod collect;
pub mod config;
pub mod deliver;
pub mod explain;
pub mod findings;
pub mod identifiers;
pub mod job_inputs;
pub mod lambda;
pub mod logging;
pub mod policy;
pub mod report;
pub mod snapshot;
