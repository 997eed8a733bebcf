//! `credential-report.csv`: the IAM credential report, decoded, header as AWS writes it.
//!
//! Its cells are dates or words with meanings of their own: `N/A` (no such credential),
//! `no_information` (never used, or last used before October 2014), `not_supported`.
//! Those are parsed into [`Reported`] values, never guessed into dates.

use super::InputProblem;
use chrono::{DateTime, Utc};

/// A credential-report cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported<T> {
    Value(T),
    /// `N/A`: the credential does not exist.
    NotApplicable,
    /// `no_information`: never used (or used before the report tracked it).
    NoInformation,
    /// `not_supported`: the report cannot say (e.g. the root password in some cases).
    NotSupported,
}

impl<T: Copy> Reported<T> {
    pub fn value(&self) -> Option<T> {
        match self {
            Reported::Value(v) => Some(*v),
            _ => None,
        }
    }
}

impl Reported<bool> {
    pub fn is_true(&self) -> bool {
        matches!(self, Reported::Value(true))
    }
}

#[derive(Debug, Clone)]
pub struct AccessKey {
    /// 1 or 2, as in the report's column names.
    pub number: u8,
    pub active: bool,
    pub last_rotated: Reported<DateTime<Utc>>,
    pub last_used: Reported<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub user: String,
    pub arn: String,
    pub created: Reported<DateTime<Utc>>,
    pub password_enabled: Reported<bool>,
    pub password_last_used: Reported<DateTime<Utc>>,
    pub password_last_changed: Reported<DateTime<Utc>>,
    pub mfa_active: bool,
    pub access_keys: [AccessKey; 2],
}

impl CredentialRow {
    pub fn is_root(&self) -> bool {
        self.user == "<root_account>"
    }

    pub fn active_keys(&self) -> impl Iterator<Item = &AccessKey> {
        self.access_keys.iter().filter(|k| k.active)
    }

    /// The latest sign-in or key use the report knows of.
    pub fn last_activity(&self) -> Option<DateTime<Utc>> {
        let keys = self.access_keys.iter().filter_map(|k| k.last_used.value());
        self.password_last_used.value().into_iter().chain(keys).max()
    }
}

#[derive(Debug, Clone, Default)]
pub struct CredentialReport {
    pub rows: Vec<CredentialRow>,
}

impl CredentialReport {
    pub fn root(&self) -> Option<&CredentialRow> {
        self.rows.iter().find(|r| r.is_root())
    }

    pub fn users(&self) -> impl Iterator<Item = &CredentialRow> {
        self.rows.iter().filter(|r| !r.is_root())
    }

    /// Reads the report. A bad header is an Err (nothing can be trusted); a bad row is pushed
    /// to `problems` and left out, and every other row is still read.
    pub fn from_csv(
        text: &str,
        file: &str,
        problems: &mut Vec<InputProblem>,
    ) -> Result<CredentialReport, InputProblem> {
        // Flexible: a short row is one bad row, not the end of the report.
        let mut reader =
            csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
        let header = reader.headers().map_err(|e| InputProblem::at(file, "line 1", &e.to_string()))?.clone();
        let column = |name: &str| -> Result<usize, InputProblem> {
            header.iter().position(|h| h.trim() == name).ok_or_else(|| {
                InputProblem::at(
                    file,
                    "line 1",
                    &format!(
                        "header has no `{name}` column: this is not an IAM credential report \
                         (re-collect it with `aws iam get-credential-report`)"
                    ),
                )
            })
        };
        let cols = Columns {
            user: column("user")?,
            arn: column("arn")?,
            created: column("user_creation_time")?,
            password_enabled: column("password_enabled")?,
            password_last_used: column("password_last_used")?,
            password_last_changed: column("password_last_changed")?,
            mfa_active: column("mfa_active")?,
        };
        let key_columns = |k: u8| -> Result<[usize; 3], InputProblem> {
            Ok([
                column(&format!("access_key_{k}_active"))?,
                column(&format!("access_key_{k}_last_rotated"))?,
                column(&format!("access_key_{k}_last_used_date"))?,
            ])
        };
        let key_cols = [key_columns(1)?, key_columns(2)?];
        let mut rows = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let line = index + 2;
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    problems.push(InputProblem::at(
                        file,
                        &format!("line {line}"),
                        &format!("{e}; row left out"),
                    ));
                    continue;
                }
            };
            if record.len() != header.len() {
                let problem = format!(
                    "row has {} fields, the header {} (truncated or damaged); row left out",
                    record.len(),
                    header.len()
                );
                problems.push(InputProblem::at(file, &format!("line {line}"), &problem));
                continue;
            }
            let cell = |col: usize| record.get(col).unwrap_or("").trim();
            let at = |col: usize| format!("line {line}, column `{}`", header.get(col).unwrap_or("?"));
            let date = |col: usize| parse_date(cell(col)).map_err(|e| InputProblem::at(file, &at(col), &e));
            let flag = |col: usize| parse_bool(cell(col)).map_err(|e| InputProblem::at(file, &at(col), &e));
            let key = |number: u8, [active, rotated, used]: [usize; 3]| -> Result<AccessKey, InputProblem> {
                Ok(AccessKey {
                    number,
                    active: flag(active)?.is_true(),
                    last_rotated: date(rotated)?,
                    last_used: date(used)?,
                })
            };
            let row = || -> Result<CredentialRow, InputProblem> {
                Ok(CredentialRow {
                    user: cell(cols.user).to_string(),
                    arn: cell(cols.arn).to_string(),
                    created: date(cols.created)?,
                    password_enabled: flag(cols.password_enabled)?,
                    password_last_used: date(cols.password_last_used)?,
                    password_last_changed: date(cols.password_last_changed)?,
                    mfa_active: flag(cols.mfa_active)?.is_true(),
                    access_keys: [key(1, key_cols[0])?, key(2, key_cols[1])?],
                })
            };
            match row() {
                Ok(row) => rows.push(row),
                Err(mut problem) => {
                    problem.problem.push_str(&format!("; the row of `{}` is left out", cell(cols.user)));
                    problems.push(problem);
                }
            }
        }
        Ok(CredentialReport { rows })
    }
}

struct Columns {
    user: usize,
    arn: usize,
    created: usize,
    password_enabled: usize,
    password_last_used: usize,
    password_last_changed: usize,
    mfa_active: usize,
}

fn special<T>(cell: &str) -> Option<Reported<T>> {
    match cell {
        "N/A" => Some(Reported::NotApplicable),
        "no_information" => Some(Reported::NoInformation),
        "not_supported" => Some(Reported::NotSupported),
        _ => None,
    }
}

fn parse_date(cell: &str) -> Result<Reported<DateTime<Utc>>, String> {
    if let Some(s) = special(cell) {
        return Ok(s);
    }
    DateTime::parse_from_rfc3339(cell)
        .map(|d| Reported::Value(d.with_timezone(&Utc)))
        .map_err(|_| format!("`{cell}` is neither a date nor N/A, no_information or not_supported"))
}

fn parse_bool(cell: &str) -> Result<Reported<bool>, String> {
    if let Some(s) = special(cell) {
        return Ok(s);
    }
    match cell {
        "true" | "TRUE" | "True" => Ok(Reported::Value(true)),
        "false" | "FALSE" | "False" => Ok(Reported::Value(false)),
        _ => Err(format!("`{cell}` is not true, false, N/A or not_supported")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    #[test]
    fn special_values_are_facts_not_dates() {
        let csv = format!(
            "{HEADER}\n<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
             alice,arn:aws:iam::111122223333:user/alice,2021-01-01T00:00:00Z,true,2024-05-01T12:00:00Z,2021-01-01T00:00:00Z,N/A,false,true,2021-01-02T00:00:00Z,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let report = CredentialReport::from_csv(&csv, "c.csv", &mut Vec::new()).unwrap();
        let root = report.root().unwrap();
        assert_eq!(root.password_enabled, Reported::NotSupported);
        assert_eq!(root.password_last_used, Reported::NoInformation);
        assert!(root.mfa_active);
        let alice = report.users().next().unwrap();
        assert!(alice.password_enabled.is_true());
        assert!(!alice.mfa_active);
        assert_eq!(alice.active_keys().count(), 1);
        assert_eq!(alice.access_keys[0].last_used, Reported::NotApplicable);
        assert_eq!(alice.last_activity().unwrap().to_rfc3339(), "2024-05-01T12:00:00+00:00");
    }

    #[test]
    fn a_wrong_header_names_the_missing_column() {
        let err =
            CredentialReport::from_csv("user,arn,whatever\nx,y,z\n", "c.csv", &mut Vec::new()).unwrap_err();
        assert_eq!(err.position.as_deref(), Some("line 1"));
        assert!(err.problem.contains("user_creation_time"), "{err:?}");
    }

    #[test]
    fn a_bad_cell_names_line_and_column_and_costs_only_its_row() {
        let csv = format!(
            "{HEADER}\nbob,arn:aws:iam::111122223333:user/bob,yesterday,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
             eve,arn:aws:iam::111122223333:user/eve,2021-01-01T00:00:00Z,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let mut problems = Vec::new();
        let report = CredentialReport::from_csv(&csv, "c.csv", &mut problems).unwrap();
        assert_eq!(report.rows.len(), 1);
        assert_eq!(report.rows[0].user, "eve");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].position.as_deref(), Some("line 2, column `user_creation_time`"));
        assert!(problems[0].problem.contains("`bob`"), "{:?}", problems[0]);
    }

    #[test]
    fn a_truncated_row_is_a_problem() {
        let csv = format!("{HEADER}\nbob,arn:aws:iam::111122223333:user/bob,2021-01-01T00:00:00Z,false\n");
        let mut problems = Vec::new();
        let report = CredentialReport::from_csv(&csv, "c.csv", &mut problems).unwrap();
        assert!(report.rows.is_empty());
        assert_eq!(problems[0].position.as_deref(), Some("line 2"));
    }
}
