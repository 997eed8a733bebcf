//! `report.html` (to be replaced by the full renderer).

use super::{ReportError, RunReport};
use crate::config::ReportConfig;

pub fn render(report: &RunReport, config: &ReportConfig) -> Result<String, ReportError> {
    let _ = (report, config);
    Ok(String::new())
}
