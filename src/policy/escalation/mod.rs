//! Privilege escalation as a graph: which principals can become or control which others,
//! and so who reaches admin, by what steps.

pub mod assume;
pub mod catalogue;
pub mod graph;
pub mod org;
pub mod principal;

#[cfg(test)]
mod catalogue_fixture_tests;
#[cfg(test)]
mod graph_tests;
#[cfg(test)]
mod holding_tests;
