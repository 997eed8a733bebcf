//! `findings.json`, schema `iam-auditor/findings/v1` (DESIGN.md), streamed to its file.
//!
//! A streamed run's findings and resolved findings come from its spill files: the rest of the
//! document is written around them, so the file is one JSON document that was never whole in
//! memory.

use super::{RunReport, WriteFailure};
use crate::findings::Finding;
use serde::Serialize;

fn encode_failure(e: serde_json::Error) -> WriteFailure {
    match e.io_error_kind() {
        Some(kind) => WriteFailure::Io(std::io::Error::new(kind, e.to_string())),
        None => WriteFailure::Encode(e.to_string()),
    }
}

/// The report's fields in its own order, with empty `findings` and `resolved` to splice into.
#[derive(Serialize)]
struct Shell<'a> {
    schema: &'a str,
    run: &'a super::RunInfo,
    provenance: &'a super::provenance::Provenance,
    coverage: &'a [crate::audit::CoverageRow],
    summary: &'a super::Summary,
    suppression_rules: &'a [super::accepted_risks::RuleSummary],
    findings: [Finding; 0],
    resolved: [Finding; 0],
    carried_over: [Finding; 0],
    snapshot_problems: &'a [crate::snapshot::InputProblem],
    identity_center: &'a crate::access::IdentityCenterSummary,
    admin_changes: &'a [crate::access::roster::AdminChange],
}

pub fn write(report: &RunReport, out: &mut impl super::stream::SpillTarget) -> Result<(), WriteFailure> {
    let Some(streamed) = &report.streamed else {
        serde_json::to_writer_pretty(&mut *out, report).map_err(encode_failure)?;
        out.write_all(b"\n")?;
        return Ok(());
    };
    let shell = Shell {
        schema: report.schema,
        run: &report.run,
        provenance: &report.provenance,
        coverage: &report.coverage,
        summary: &report.summary,
        suppression_rules: &report.suppression_rules,
        findings: [],
        resolved: [],
        carried_over: [],
        snapshot_problems: &report.snapshot_problems,
        identity_center: &report.identity_center,
        admin_changes: &report.admin_changes,
    };
    let text = serde_json::to_string_pretty(&shell).map_err(encode_failure)?;
    let mut rest = text.as_str();
    for (field, spill) in [
        ("findings", &streamed.json),
        ("resolved", &streamed.resolved_json),
        ("carried_over", &streamed.carried_json),
    ] {
        let marker = format!("\n  \"{field}\": []");
        let at =
            rest.find(&marker).ok_or_else(|| WriteFailure::Encode(format!("no top-level {field} array")))?;
        let (head, tail) = rest.split_at(at + marker.len() - 1);
        out.write_all(head.as_bytes())?;
        if !spill.is_empty() {
            // Each piece starts with ",\n": the first one's comma is left out.
            spill.copy_to(out, 1)?;
            out.write_all(b"\n  ")?;
        }
        rest = tail;
    }
    out.write_all(rest.as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}
