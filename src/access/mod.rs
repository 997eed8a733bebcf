//! Who has access to each account, people first: IAM Identity Center joined to each
//! account's `AWSReservedSSO_*` roles (`join`), and the access roster built from that join
//! and the admin verdicts (`roster`).

pub mod join;
pub mod roster;

use crate::snapshot::identity_center::{Coverage, IdentityCenter};
use serde::{Deserialize, Serialize};

/// What the run knew of Identity Center, for the coverage table, findings.json and the digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCenterSummary {
    /// `collected`, `partial` or `not-collected`.
    pub status: String,
    /// Why it was not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What is missing from a partial collection.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    pub permission_sets: usize,
    pub assignments: usize,
    pub users: usize,
    pub groups: usize,
}

impl IdentityCenterSummary {
    pub fn of(identity_center: Option<&IdentityCenter>) -> IdentityCenterSummary {
        let Some(ic) = identity_center else {
            return IdentityCenterSummary {
                status: "not-collected".into(),
                reason: Some(format!(
                    "the snapshot has no {}/ folder (collect from the management or Identity Center \
                     delegated-admin account to name the people behind AWSReservedSSO_ roles)",
                    crate::snapshot::identity_center::DIR
                )),
                ..Default::default()
            };
        };
        let counts = IdentityCenterSummary {
            permission_sets: ic.permission_sets.as_ref().map_or(0, Vec::len),
            assignments: ic.assignments.as_ref().map_or(0, Vec::len),
            users: ic.users.as_ref().map_or(0, Vec::len),
            groups: ic.groups.as_ref().map_or(0, Vec::len),
            ..Default::default()
        };
        match ic.coverage() {
            Coverage::NotCollected(reason) => {
                IdentityCenterSummary { status: "not-collected".into(), reason: Some(reason), ..counts }
            }
            Coverage::Collected { partial } if partial.is_empty() => {
                IdentityCenterSummary { status: "collected".into(), ..counts }
            }
            Coverage::Collected { partial } => {
                IdentityCenterSummary { status: "partial".into(), missing: partial, ..counts }
            }
        }
    }

    pub fn collected(&self) -> bool {
        self.status != "not-collected"
    }

    /// One sentence for the report and the digest.
    pub fn sentence(&self) -> String {
        match self.status.as_str() {
            "not-collected" => format!(
                "Identity Center not collected: {}. The people behind AWSReservedSSO_ roles are not named, and the \
                 sso-* checks did not run.",
                self.reason.as_deref().unwrap_or("no reason recorded")
            ),
            status => {
                let mut text = format!(
                    "Identity Center {}: {} permission set(s), {} assignment(s), {} user(s), {} group(s).",
                    if status == "partial" { "partly collected" } else { "collected" },
                    self.permission_sets,
                    self.assignments,
                    self.users,
                    self.groups
                );
                if !self.missing.is_empty() {
                    text.push_str(&format!(" Missing: {}.", self.missing.join("; ")));
                }
                text
            }
        }
    }
}
