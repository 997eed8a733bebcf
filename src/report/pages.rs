//! `accounts/<id>.html`: one page per account, beside report.html in the run's folder, with
//! every finding of the account (open and suppressed) and who can act as admin there. The
//! report keeps the worst findings of each check and links here for the rest, so that every
//! finding is one click away while report.html stays small at any organization size
//! (DESIGN.md "Report").
//!
//! The pages are written while the audit streams: an account's first pass renders its
//! sections into a part file under the spill folder, and its late pass (the admin checks and
//! the roster) adds its own sections and writes the page. Nothing is held for the whole run.

use super::cis;
use super::html;
use super::ReportError;
use crate::access::roster::{AdminEquivalent, PrincipalKind, RosterRow};
use crate::audit::{CoverageRow, CoverageStatus};
use crate::findings::{Finding, Status};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tera::Context;

/// The folder of the account pages, inside the run's folder.
pub const DIR: &str = "accounts";

/// The page's file name, or None for an id that is not a 12-digit account id (no page).
pub fn file_name(account_id: &str) -> Option<String> {
    crate::identifiers::AccountId::parse(account_id)
        .filter(|id| id.as_str() == account_id)
        .map(|id| format!("{}.html", id.as_str()))
}

/// Writes the account pages of one run.
pub struct AccountPages {
    dir: PathBuf,
    parts: PathBuf,
    title: String,
    run_id: String,
    as_of: DateTime<Utc>,
    order: crate::audit::ReportOrder,
    /// Checks the configuration disabled: they judge no CIS item.
    disabled: Vec<String>,
}

/// What an account's first pass leaves for its late pass.
#[derive(Default, Serialize, Deserialize)]
struct Part {
    sections: Vec<Section>,
    cis: cis::Tally,
}

/// A row of the account's CIS section-1 matrix.
#[derive(Serialize)]
struct CisRow {
    item: &'static cis::Item,
    anchor: String,
    status: cis::Status,
    label: &'static str,
    why: String,
    /// A failing item's checks with open findings here: (section anchor, check id, open).
    links: Vec<(String, String, usize)>,
}

/// One check's findings in one account, rendered.
#[derive(Serialize, Deserialize)]
struct Section {
    rank: usize,
    id: String,
    anchor: String,
    title: String,
    severity: Option<String>,
    remediation: String,
    references: Vec<String>,
    open: usize,
    new: usize,
    suppressed: usize,
    rows_html: String,
}

#[derive(Serialize)]
struct AdminRow<'a> {
    #[serde(flatten)]
    who: html::RosterView<'a>,
    /// The principal's `admin-access` finding: open, or suppressed with the rule's reason.
    finding: Option<String>,
}

#[derive(Serialize)]
struct Page<'a> {
    title: &'a str,
    run_id: &'a str,
    as_of: String,
    script_hash: &'static str,
    account: &'a CoverageRow,
    status: &'static str,
    open: usize,
    suppressed: usize,
    new: usize,
    admins: Vec<AdminRow<'a>>,
    /// Principals whose admin power a boundary or an SCP takes away.
    capped: Vec<AdminRow<'a>>,
    not_admin: usize,
    sections: Vec<Section>,
    cis: Vec<CisRow>,
}

impl AccountPages {
    /// Pages in `<out>/accounts/`, their parts in `parts` (a folder of the spill).
    pub fn new(
        out: &Path,
        parts: &Path,
        title: &str,
        run_id: &str,
        as_of: DateTime<Utc>,
        disabled: &[String],
    ) -> std::io::Result<Self> {
        let dir = out.join(DIR);
        std::fs::create_dir_all(&dir)?;
        std::fs::create_dir_all(parts)?;
        Ok(AccountPages {
            dir,
            parts: parts.to_path_buf(),
            title: title.into(),
            run_id: run_id.into(),
            as_of,
            order: crate::audit::report_order(),
            disabled: disabled.to_vec(),
        })
    }

    fn part(&self, account_id: &str) -> PathBuf {
        self.parts.join(format!("{account_id}.json"))
    }

    /// An account's first pass: its sections, kept in a part file until the late pass.
    pub fn first(&self, account: &CoverageRow, findings: &[(usize, Finding)]) -> Result<(), String> {
        if file_name(&account.account_id).is_none() {
            return Ok(());
        }
        let part = Part { sections: self.sections(findings)?, cis: tally(findings) };
        let path = self.part(&account.account_id);
        let bytes = serde_json::to_vec(&part).map_err(|e| e.to_string())?;
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// An account's late pass: its last sections and roster; writes the page.
    pub fn late(
        &self,
        account: &CoverageRow,
        findings: &[(usize, Finding)],
        roster: &[RosterRow],
    ) -> Result<(), String> {
        let Some(name) = file_name(&account.account_id) else { return Ok(()) };
        let part = self.part(&account.account_id);
        let Part { mut sections, mut cis } = match std::fs::read(&part) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| format!("cannot read {}: {e}", part.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Part::default(),
            Err(e) => return Err(format!("cannot read {}: {e}", part.display())),
        };
        let _ = std::fs::remove_file(&part);
        sections.extend(self.sections(findings)?);
        cis.merge(tally(findings));
        // Catalog order, as the report's families; a check the catalog does not know last.
        sections.sort_by_key(|s| if s.rank == 0 { usize::MAX } else { s.rank });
        // Each principal's admin-access finding, by the principal's ARN.
        let admin_findings: std::collections::HashMap<&str, &Finding> = findings
            .iter()
            .map(|(_, f)| f)
            .filter(|f| &*f.check == "admin-access")
            .map(|f| (f.resource_arn.as_str(), f))
            .collect();
        let (mut admins, mut capped, mut not_admin) = (Vec::new(), Vec::new(), 0);
        for row in roster {
            let finding = admin_findings.get(row.principal_id.as_str()).map(|f| match &f.suppression {
                Some(s) if f.status == Status::Suppressed => {
                    let rule = s.rule.map(|rule| format!(" (rule {rule})")).unwrap_or_default();
                    let whom = super::accepted_risks::whom(s.owner.as_deref(), s.ticket.as_deref());
                    format!("suppressed{rule}: {}{whom}", s.reason)
                }
                _ => "open".to_string(),
            });
            let view = AdminRow { who: html::roster_view(row), finding };
            match row.admin_equivalent {
                AdminEquivalent::No if row.how.contains("capped by") => capped.push(view),
                AdminEquivalent::No => not_admin += 1,
                _ => admins.push(view),
            }
        }
        // People first, then users, then roles (the roster's order within each).
        let rank = |kind: &str| {
            [PrincipalKind::Person, PrincipalKind::IamUser]
                .iter()
                .position(|k| k.as_str() == kind)
                .unwrap_or(2)
        };
        admins.sort_by_key(|a| rank(a.who.kind));
        let count = |pick: &dyn Fn(&Section) -> usize| sections.iter().map(pick).sum::<usize>();
        let page = Page {
            title: &self.title,
            run_id: &self.run_id,
            as_of: self.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            script_hash: html::script_hash(),
            account,
            status: match account.status {
                CoverageStatus::Audited if !account.checks_without_input.is_empty() => "partial",
                other => other.as_str(),
            },
            open: count(&|s| s.open),
            suppressed: count(&|s| s.suppressed),
            new: count(&|s| s.new),
            admins,
            capped,
            not_admin,
            cis: self.cis_rows(cis, account, &sections),
            sections,
        };
        let text = render(html::ACCOUNT_TEMPLATE_NAME, &page).map_err(|e| e.to_string())?;
        let path = self.dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// The account's CIS section-1 matrix; a failing item links its checks' sections.
    fn cis_rows(&self, tally: cis::Tally, account: &CoverageRow, sections: &[Section]) -> Vec<CisRow> {
        cis::ITEMS
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let judged = cis::judge(index, tally, account, &self.disabled);
                let links = match judged.status {
                    cis::Status::Fail => item
                        .checks()
                        .filter_map(|id| sections.iter().find(|s| s.id == id && s.open > 0))
                        .map(|s| (s.anchor.clone(), s.id.clone(), s.open))
                        .collect(),
                    _ => Vec::new(),
                };
                CisRow {
                    item,
                    anchor: item.anchor(),
                    status: judged.status,
                    label: judged.status.label(),
                    why: judged.why,
                    links,
                }
            })
            .collect()
    }

    /// The findings of one pass, one section per check, rows in the report's order.
    fn sections(&self, findings: &[(usize, Finding)]) -> Result<Vec<Section>, String> {
        let order = &self.order;
        let mut by_check: Vec<(&str, Vec<&Finding>)> = Vec::new();
        for (_, finding) in findings {
            match by_check.iter_mut().find(|(id, _)| *id == &*finding.check) {
                Some((_, list)) => list.push(finding),
                None => by_check.push((&finding.check, vec![finding])),
            }
        }
        let mut sections = Vec::with_capacity(by_check.len());
        for (id, mut list) in by_check {
            list.sort_by(|a, b| order.compare(a, b));
            html::oldest_first(id, &mut list);
            let check = crate::checks::by_id(id);
            let first = list[0];
            let mut rows_html = String::new();
            for finding in &list {
                html::write_row(&mut rows_html, &html::finding_row(finding, Some(self.as_of)), false, true);
            }
            let open: Vec<&&Finding> = list.iter().filter(|f| f.status == Status::Open).collect();
            sections.push(Section {
                rank: order.check_rank(id),
                id: id.to_string(),
                anchor: html::anchor("check", id),
                title: check.map_or_else(|| first.title.clone(), |c| c.title.to_string()),
                severity: check.map(|c| c.severity.as_str().to_string()),
                remediation: check
                    .map_or_else(|| first.remediation.to_string(), |c| c.remediation.to_string()),
                references: match check {
                    Some(c) => c.all_references().map(str::to_string).collect(),
                    None => first.references.iter().map(|r| r.to_string()).collect(),
                },
                open: open.len(),
                new: open.iter().filter(|f| f.change == crate::findings::Change::New).count(),
                suppressed: list.len() - open.len(),
                rows_html,
            });
        }
        Ok(sections)
    }
}

/// The CIS items one pass's findings concern.
fn tally(findings: &[(usize, Finding)]) -> cis::Tally {
    let mut tally = cis::Tally::default();
    for (_, finding) in findings {
        tally.add(finding);
    }
    tally
}

fn render(name: &str, page: &impl Serialize) -> Result<String, ReportError> {
    let tera = html::engine()?;
    let context = Context::from_serialize(page)
        .map_err(|e| ReportError::Render { what: "an account page", message: html::error_chain(&e) })?;
    tera.render(name, &context)
        .map_err(|e| ReportError::Render { what: "an account page", message: html::error_chain(&e) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::roster::{AdminEquivalent, PrincipalKind};
    use crate::findings::{Severity, Suppression};
    use crate::report::html::tests::{coverage, finding, roster_row, SCRIPT};

    #[test]
    fn only_a_twelve_digit_account_id_names_a_page() {
        assert_eq!(file_name("111122223333").as_deref(), Some("111122223333.html"));
        for bad in ["../../etc/passwd", "11112222333", "1111222233334", " 111122223333", "11112222333a"] {
            assert_eq!(file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_account_page_holds_both_passes_admins_people_first_and_escapes_what_it_shows() {
        let out = tempfile::tempdir().unwrap();
        let parts = out.path().join(".spill/pages");
        let as_of = "2024-07-01T00:00:00Z".parse().unwrap();
        let pages =
            AccountPages::new(out.path(), &parts, "Audit <title>", "20240701T000000Z", as_of, &[]).unwrap();
        let mut row = coverage("111122223333", &format!("prod {SCRIPT}"), CoverageStatus::Audited, None);
        row.checks_without_input = vec!["password-policy-weak".into()];

        let mut stale = finding("stale-access-key", Severity::Medium, &format!("alice{SCRIPT}"));
        stale.evidence =
            crate::report::html::tests::evidence(serde_json::json!({"last_rotated": "2020-01-01T00:00:00Z"}));
        let older = {
            let mut f = finding("stale-access-key", Severity::Medium, "bob");
            f.evidence = crate::report::html::tests::evidence(
                serde_json::json!({"last_rotated": "2019-01-01T00:00:00Z"}),
            );
            f
        };
        pages.first(&row, &[(0, stale), (0, older)]).unwrap();
        assert!(parts.join("111122223333.json").is_file(), "the first pass waits in a part file");

        let mut admin_role = finding("admin-access", Severity::High, "deployer");
        admin_role.resource_arn = "id-deployer".into();
        admin_role.status = Status::Suppressed;
        admin_role.suppression = Some(Suppression {
            rule: Some(2),
            reason: format!("break-glass {SCRIPT}"),
            expires: "2027-01-01".into(),
            resource_pattern: "*".into(),
            owner: Some("sec-team".into()),
            ticket: None,
        });
        let roster = vec![
            roster_row("111122223333", PrincipalKind::IamRole, "deployer", AdminEquivalent::Yes),
            roster_row("111122223333", PrincipalKind::Person, &format!("ana{SCRIPT}"), AdminEquivalent::Yes),
            roster_row("111122223333", PrincipalKind::IamUser, "viewer", AdminEquivalent::No),
        ];
        pages.late(&row, &[(0, admin_role)], &roster).unwrap();
        assert!(!parts.join("111122223333.json").exists(), "the part file is gone once the page is written");

        let html = std::fs::read_to_string(out.path().join("accounts/111122223333.html")).unwrap();
        // Both passes' findings, in catalog order (admin-access before stale-access-key).
        let (admin, stale) = (
            html.find("id=\"check-admin-access\"").unwrap(),
            html.find("id=\"check-stale-access-key\"").unwrap(),
        );
        assert!(admin < stale);
        // Stale keys oldest first.
        assert!(
            html.find("user&#x2F;bob").unwrap() < html.find("user&#x2F;alice").unwrap(),
            "oldest key first"
        );
        // Admins: the person before the role; the role's finding is suppressed, with the reason.
        let admins = &html[html.find("id=\"admins\"").unwrap()..html.find("id=\"findings\"").unwrap()];
        assert!(admins.find("ana&lt;script&gt;").unwrap() < admins.find("deployer").unwrap(), "{admins}");
        assert!(
            admins.contains(
                "suppressed (rule 2): break-glass &lt;script&gt;alert(1)&lt;&#x2F;script&gt; (owner sec-team)"
            ),
            "{admins}"
        );
        assert!(!admins.contains(">viewer<"), "not an admin");
        assert!(admins.contains("1 more principal with access that is not admin-equivalent"));
        // What did not run, and escaping everywhere: one script tag, the page's own.
        assert!(html.contains("Checks that did not run here"));
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains(&format!("script-src '{}'", html::script_hash().replace('/', "&#x2F;"))));
        assert!(html.contains("href=\"../report.html\""));
        assert!(html.contains("30 days") || html.contains("day"), "ages shown");
    }

    #[test]
    fn a_failed_account_gets_a_page_that_says_why_and_claims_nothing() {
        let out = tempfile::tempdir().unwrap();
        let pages = AccountPages::new(
            out.path(),
            &out.path().join("parts"),
            "Audit",
            "r",
            "2024-07-01T00:00:00Z".parse().unwrap(),
            &[],
        )
        .unwrap();
        let row =
            coverage("222233334444", "dev", CoverageStatus::Failed, Some("AccessDenied assuming the role"));
        pages.first(&row, &[]).unwrap();
        pages.late(&row, &[], &[]).unwrap();
        let html = std::fs::read_to_string(out.path().join("accounts/222233334444.html")).unwrap();
        assert!(
            html.contains("This account could not be fully audited.")
                && html.contains("AccessDenied assuming the role")
        );
        assert!(html.contains("What to do (3 attempts made): run again"), "the hint");
        assert!(html.contains("Not known: the account was not audited."));
        assert!(
            !html.contains("No principal holds or reaches admin"),
            "no clean bill for an unaudited account"
        );
    }
}
