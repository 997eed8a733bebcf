//! `findings.json`, schema `iam-auditor/findings/v1` (DESIGN.md).

use super::{ReportError, RunReport};

pub fn render(report: &RunReport) -> Result<Vec<u8>, ReportError> {
    let mut bytes = serde_json::to_vec_pretty(report)
        .map_err(|e| ReportError::Render { what: "findings.json", message: e.to_string() })?;
    bytes.push(b'\n');
    Ok(bytes)
}
