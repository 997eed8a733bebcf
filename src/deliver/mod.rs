//! Delivery: filing each run in the compliance archive. Archive first, so that nothing is
//! lost if a later step fails.

pub mod archive;
