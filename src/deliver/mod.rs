//! Delivery: filing each run in the compliance archive, then mailing the digest. Archive
//! first, so that nothing is lost if mail fails.

pub mod archive;
pub mod mail;
