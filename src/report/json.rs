//! `findings.json`, schema `iam-auditor/findings/v1` (DESIGN.md), streamed to its file.

use super::{RunReport, WriteFailure};
use std::io::Write;

pub fn write(report: &RunReport, out: &mut impl Write) -> Result<(), WriteFailure> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(|e| match e.io_error_kind() {
        Some(kind) => WriteFailure::Io(std::io::Error::new(kind, e.to_string())),
        None => WriteFailure::Encode(e.to_string()),
    })?;
    out.write_all(b"\n")?;
    Ok(())
}
