//! The IAM policy language: parse documents, match actions and resources, decide what a
//! principal may do (admin-equivalence) and whom a role trusts.
//!
//! Pure functions over parsed documents; no I/O and no knowledge of findings.

pub mod admin;
pub mod aws_managed;
pub mod condition;
pub mod document;
pub mod effective;
pub mod engine;
pub mod escalation;
pub mod known_services;
pub mod pattern;
pub mod trust;
