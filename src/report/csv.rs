//! `findings.csv` and `coverage.csv`: one row per finding / per account, every cell
//! neutralised against spreadsheet formula injection (IAM names and tags are untrusted).

use super::{RunReport, WriteFailure};
use std::borrow::Cow;
use std::io::Write;

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
/// leading `'`, which spreadsheets show as text and do not evaluate.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

fn write_rows<Row: IntoIterator<Item = Cell>, Cell: AsRef<str>>(
    out: &mut impl Write,
    header: &[&str],
    rows: impl Iterator<Item = Row>,
) -> Result<(), WriteFailure> {
    let failure = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => WriteFailure::Io(io),
        other => WriteFailure::Encode(format!("{other:?}")),
    };
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(header).map_err(failure)?;
    write_neutralised(&mut writer, rows).map_err(failure)?;
    writer.flush()?;
    Ok(())
}

/// Each row's cells, neutralised, one record a row.
fn write_neutralised<W: Write, Row: IntoIterator<Item = Cell>, Cell: AsRef<str>>(
    writer: &mut csv::Writer<W>,
    rows: impl Iterator<Item = Row>,
) -> csv::Result<()> {
    for row in rows {
        for cell in row {
            writer.write_field(neutralise(cell.as_ref()).as_bytes())?;
        }
        writer.write_record(None::<&[u8]>)?;
    }
    Ok(())
}

pub const FINDINGS_HEADER: [&str; 23] = [
    "run_id",
    "as_of",
    "fingerprint",
    "check",
    "severity",
    "status",
    "change",
    "account_id",
    "account_name",
    "resource_type",
    "resource_arn",
    "resource_name",
    "title",
    "detail",
    "admin_path",
    "remediation",
    "references",
    "suppression_reason",
    "suppression_expires",
    "first_seen",
    "evidence",
    "remediation_command",
    "console_url",
];

/// The run every row of findings.csv belongs to: its id and as-of instant.
#[derive(Debug, Clone)]
pub struct RunCells {
    pub run_id: String,
    pub as_of: String,
}

impl RunCells {
    pub fn of(run: &super::RunInfo) -> RunCells {
        RunCells { run_id: run.id.clone(), as_of: run.as_of.clone() }
    }
}

/// One finding's cells, in [`FINDINGS_HEADER`]'s order.
pub fn finding_cells<'a>(run: &'a RunCells, f: &'a crate::findings::Finding) -> [Cow<'a, str>; 23] {
    let text = |s: &'a str| Cow::Borrowed(s);
    let optional = |s: &'a Option<String>| Cow::Borrowed(s.as_deref().unwrap_or_default());
    [
        text(&run.run_id),
        text(&run.as_of),
        text(&f.fingerprint),
        text(&f.check),
        Cow::Borrowed(f.severity.as_str()),
        Cow::Owned(variant(&f.status)),
        Cow::Owned(variant(&f.change)),
        text(f.account_id.as_str()),
        text(&f.account_name),
        Cow::Owned(variant(&f.resource_type)),
        text(&f.resource_arn),
        text(&f.resource_name),
        text(&f.title),
        text(&f.detail),
        Cow::Owned(admin_path(f)),
        text(&f.remediation),
        Cow::Owned(f.references.join("; ")),
        f.suppression.as_ref().map_or(Cow::Borrowed(""), |s| text(&s.reason)),
        f.suppression.as_ref().map_or(Cow::Borrowed(""), |s| text(&s.expires)),
        text(&f.first_seen),
        text(f.evidence.json()),
        optional(&f.remediation_command),
        optional(&f.console_url),
    ]
}

/// How an `admin-access` finding's principal is admin, read from its evidence as one line:
/// the policies that grant it, each step of an escalation path, or what caps it. Empty for
/// every other check.
pub fn admin_path(f: &crate::findings::Finding) -> String {
    if f.check != "admin-access" {
        return String::new();
    }
    let evidence = f.evidence.value();
    let sources = |key: &str| -> String {
        let sources: Vec<crate::policy::effective::PolicySource> =
            serde_json::from_value(evidence[key].clone()).unwrap_or_default();
        let described: Vec<String> = sources.iter().map(|s| s.describe()).collect();
        if described.is_empty() {
            "its policies".into()
        } else {
            described.join("; ")
        }
    };
    let texts = |key: &str| -> Vec<String> {
        evidence[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    match evidence["standing"].as_str() {
        Some("holds") => format!("holds admin through {}", sources("granted_by")),
        Some("capped") => {
            format!(
                "would hold admin through {}; capped by {}",
                sources("granted_by"),
                texts("capped_by").join(" and ")
            )
        }
        Some("escalates") => {
            let steps: Vec<String> = evidence["path"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|step| {
                    let who = step["principal"].as_str().unwrap_or("?");
                    let who = who.rsplit(['/', ':']).next().unwrap_or(who);
                    let actions: Vec<&str> =
                        step["actions"].as_array().into_iter().flatten().filter_map(|a| a.as_str()).collect();
                    format!("{who} {} ({})", step["effect"].as_str().unwrap_or("reaches"), actions.join(", "))
                })
                .collect();
            format!("escalates: {}", steps.join(" → "))
        }
        _ => String::new(),
    }
}

/// One roster row's cells, in `roster::COLUMNS`' order.
pub fn roster_cells(r: &crate::access::roster::RosterRow) -> [&str; 12] {
    [
        &r.account_id,
        &r.account_name,
        r.principal_kind.as_str(),
        &r.principal_id,
        &r.name,
        &r.display_name,
        &r.email,
        &r.access,
        &r.via_group,
        r.admin_equivalent.as_str(),
        &r.how,
        &r.first_seen,
    ]
}

/// Rows without a header, appended to `out` (a streamed file's pieces).
pub fn rows_into<Row: IntoIterator<Item = Cell>, Cell: AsRef<str>>(
    out: &mut Vec<u8>,
    rows: impl Iterator<Item = Row>,
) {
    let mut writer = in_memory(out);
    // Writing to memory cannot fail, and the writer refuses no row for its length.
    let _ = write_neutralised(&mut writer, rows).and_then(|()| writer.flush().map_err(Into::into));
}

/// A writer of rows into memory, no header. Its rows may differ in length (`flexible`): the
/// callers ignore its errors (memory cannot fail), so no row may be refused for its length
/// and vanish.
fn in_memory<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().has_headers(false).flexible(true).from_writer(out)
}

/// Rows appended one at a time to bytes in memory, through one CSV writer, with the length
/// after each row known (a streamed account's findings, each group's bytes apart).
pub struct RowWriter(csv::Writer<Vec<u8>>);

impl RowWriter {
    /// Room for `bytes` before the first growth.
    pub fn with_capacity(bytes: usize) -> RowWriter {
        RowWriter(in_memory(Vec::with_capacity(bytes)))
    }

    pub fn row<Cell: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = Cell>) {
        // Writing to memory cannot fail, and the writer takes rows of any length; the flush
        // leaves the row in the bytes.
        let _ = write_neutralised(&mut self.0, std::iter::once(cells));
        let _ = self.0.flush();
    }

    /// The bytes written so far.
    pub fn written(&self) -> usize {
        self.0.get_ref().len()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0.into_inner().map_err(|e| e.to_string()).expect("rows in memory are flushed as written")
    }
}

/// A header line alone.
pub fn header_line(header: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    rows_into(&mut out, std::iter::once(header.iter()));
    out
}

pub fn write_findings(
    report: &RunReport,
    out: &mut impl super::stream::SpillTarget,
) -> Result<(), WriteFailure> {
    if let Some(streamed) = &report.streamed {
        out.write_all(&header_line(&FINDINGS_HEADER))?;
        return streamed.csv.copy_to(out, 0).map_err(WriteFailure::Io);
    }
    let run = RunCells::of(&report.run);
    write_rows(out, &FINDINGS_HEADER, report.findings.iter().map(|f| finding_cells(&run, f)))
}

pub fn write_coverage(report: &RunReport, out: &mut impl Write) -> Result<(), WriteFailure> {
    let header = [
        "account_id",
        "account_name",
        "status",
        "error",
        "hint",
        "attempts",
        "api_calls",
        "checks_without_input",
        "problems",
        "users",
        "groups",
        "roles",
        "managed_policies",
    ];
    let rows = report.coverage.iter().map(|c| {
        let count = |f: fn(&crate::audit::Inventory) -> usize| {
            c.inventory.as_ref().map(|i| f(i).to_string()).unwrap_or_default()
        };
        vec![
            c.account_id.clone(),
            c.account_name.clone(),
            c.status.as_str().to_string(),
            c.error.clone().unwrap_or_default(),
            c.hint.clone().unwrap_or_default(),
            c.attempts.map(|n| n.to_string()).unwrap_or_default(),
            c.api_calls.as_ref().map(|calls| calls.values().sum::<u64>().to_string()).unwrap_or_default(),
            c.checks_without_input.join("; "),
            c.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "),
            count(|i| i.users),
            count(|i| i.groups),
            count(|i| i.roles),
            count(|i| i.managed_policies),
        ]
    });
    write_rows(out, &header, rows)
}

/// `access-roster.csv`: who has access to each account, people first, and whether it is
/// admin-equivalent (columns in DESIGN.md).
pub fn write_roster(
    report: &RunReport,
    out: &mut impl super::stream::SpillTarget,
) -> Result<(), WriteFailure> {
    if let Some(streamed) = &report.streamed {
        out.write_all(&header_line(&crate::access::roster::COLUMNS))?;
        return streamed.roster.copy_to(out, 0).map_err(WriteFailure::Io);
    }
    write_rows(out, &crate::access::roster::COLUMNS, report.roster.iter().map(roster_cells))
}

/// The serde name of a unit enum variant (`open`, `new`, `user` …).
fn variant<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::CoverageStatus;
    use crate::findings::Severity;
    use crate::report::html::tests::{coverage, evidence, finding, run_info};
    use serde_json::json;

    #[test]
    fn rows_written_one_at_a_time_are_the_rows_written_at_once_and_each_end_is_known() {
        let rows = [
            vec!["plain", "=SUM(A1)", "line\nbreak, and \"quotes\""],
            vec!["", "-1", "@admin"],
            vec!["last", "+", "x"],
            vec!["a row", "of another length"],
        ];
        let mut at_once = Vec::new();
        rows_into(&mut at_once, rows.iter().map(|r| r.iter()));
        let mut writer = RowWriter::with_capacity(0);
        let mut ends = Vec::new();
        for row in &rows {
            writer.row(row.iter());
            ends.push(writer.written());
        }
        let bytes = writer.into_bytes();
        assert_eq!(bytes, at_once);
        // Each end is where a record ends: the next row starts there.
        let mut one = Vec::new();
        rows_into(&mut one, rows[..1].iter().map(|r| r.iter()));
        assert_eq!(ends[0], one.len());
        assert_eq!(ends[3], bytes.len());
        assert!(ends[0] < ends[1] && ends[1] < ends[2] && ends[2] < ends[3]);
        assert!(bytes.ends_with(b"a row,of another length\n"));
        assert_eq!(&bytes[ends[0]..ends[1]], b",'-1,'@admin\n");
    }

    fn admin(value: serde_json::Value) -> crate::findings::Finding {
        let mut f = finding("admin-access", Severity::High, "deployer");
        f.evidence = evidence(value);
        f
    }

    #[test]
    fn admin_path_reads_how_the_principal_is_admin() {
        let holds = admin(json!({"standing": "holds", "granted_by": [
            {"policy": "AdministratorAccess", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess", "via_group": "Admins"},
            {"policy": "all"}
        ]}));
        assert_eq!(
            admin_path(&holds),
            "holds admin through managed policy AdministratorAccess via group Admins; inline policy all (direct)"
        );
        let escalates = admin(json!({"standing": "escalates", "path": [
            {"principal": "arn:aws:iam::111122223333:role/release-bot", "actions": ["iam:PassRole", "lambda:CreateFunction"],
             "effect": "runs code as ops-automation"},
            {"principal": "arn:aws:iam::111122223333:role/ops-automation", "actions": ["sts:AssumeRole"],
             "effect": "assumes role Admin"}
        ]}));
        assert_eq!(
            admin_path(&escalates),
            "escalates: release-bot runs code as ops-automation (iam:PassRole, lambda:CreateFunction) → \
             ops-automation assumes role Admin (sts:AssumeRole)"
        );
        let capped = admin(json!({"standing": "capped", "granted_by": [{"policy": "AdministratorAccess",
            "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}], "capped_by": ["permissions boundary B", "SCP deny-all"]}));
        assert_eq!(
            admin_path(&capped),
            "would hold admin through managed policy AdministratorAccess (direct); capped by permissions boundary B and SCP deny-all"
        );
        let mut other = finding("full-admin-policy", Severity::High, "p");
        other.evidence = evidence(json!({"standing": "holds", "granted_by": []}));
        assert_eq!(admin_path(&other), "", "only admin-access findings have a path");
        assert_eq!(admin_path(&admin(json!({}))), "");
    }

    #[test]
    fn findings_rows_carry_the_run_and_coverage_rows_the_api_calls() {
        let mut report = crate::report::RunReport::new(
            run_info(),
            vec![coverage("111122223333", "prod", CoverageStatus::Audited, None)],
            vec![admin(json!({"standing": "holds", "granted_by": [{"policy": "=HYPERLINK(1)"}]}))],
            Vec::new(),
            Vec::new(),
        );
        report.coverage[0].api_calls = Some(
            [("iam:GetAccountAuthorizationDetails".to_string(), 3), ("iam:ListUsers".to_string(), 4)].into(),
        );
        let mut out = Vec::new();
        write_findings(&report, &mut out).unwrap();
        let mut reader = ::csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(header, FINDINGS_HEADER);
        let row = reader.records().next().unwrap().unwrap();
        let cell = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
        assert_eq!(cell("run_id"), report.run.id);
        assert_eq!(cell("as_of"), report.run.as_of);
        assert_eq!(cell("admin_path"), "holds admin through inline policy =HYPERLINK(1) (direct)");

        let mut out = Vec::new();
        write_coverage(&report, &mut out).unwrap();
        let mut reader = ::csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[header.iter().position(|h| h == "api_calls").unwrap()], "7", "the account's total");
        assert!(header.iter().any(|h| h == "hint"));
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for hostile in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"] {
            assert!(neutralise(hostile).starts_with('\''), "{hostile:?}");
        }
        assert_eq!(neutralise("alice"), "alice");
        assert_eq!(neutralise("arn:aws:iam::1:user/=x"), "arn:aws:iam::1:user/=x");
    }
}
