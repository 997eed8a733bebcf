//! Which benchmark items and Security Hub controls each check answers to: CIS AWS Foundations
//! Benchmark v3.0.0 and v5.0.0 (section 1, Identity and Access Management) and AWS Security
//! Hub CSPM control ids. Findings carry them as `references`; report.html links the Security
//! Hub ids; findings.ocsf.json lists them per standard.
//!
//! Not here: an item's status per account (`report::cis`, from this mapping), or any
//! benchmark text beyond the item titles there.
//!
//! Where the numbers come from (read in the docs, not guessed):
//! - Security Hub's controls page for IAM (`iam-controls.html`, one `#iam-N` anchor per
//!   control) gives, for each IAM.N, its "Related requirements" in CIS v5.0.0 and v3.0.0.
//!   From it: IAM.2 = v5 1.14 = v3 1.15; IAM.3 = 1.13 / 1.14; IAM.4 = 1.3 / 1.4;
//!   IAM.5 = 1.9 / 1.10; IAM.9 = 1.4 / 1.5; IAM.15 = 1.7 / 1.8; IAM.16 = 1.8 / 1.9;
//!   IAM.22 = 1.11 / 1.12; IAM.28 = 1.19 / 1.20. IAM.1, IAM.8 and IAM.21 relate to no item of
//!   v3.0.0 or v5.0.0 (IAM.1 only to v1.2.0 and v1.4.0); IAM.7 to no CIS item at all.
//! - v5.0.0 dropped v3.0.0's 1.3 (security questions), so every later v3 item moved up by
//!   one; all of the pairs above agree. The three items no Security Hub control page ties
//!   to v3.0.0 or v5.0.0 sit between confirmed neighbours (v5/v3 pairs): root use (v3 1.7, v5 1.6, between 1.5/1.6 and
//!   1.7/1.8), one active key (v3 1.13, v5 1.12, between 1.11/1.12 and 1.13/1.14) and
//!   full-admin policies attached (v3 1.16, v5 1.15, between 1.14/1.15 and 1.16/1.17). v3's
//!   titles for all three, and v5's for 1.6 and 1.12, were also seen in third-party benchmark
//!   listings; v5's 1.15 rests on its position alone (IAM.2's 1.14 and IAM.18's 1.16 around it).
//!
//! Checks with no benchmark item and no Security Hub control (trust, OIDC, unused roles,
//! Access Analyzer findings, Identity Center hygiene, coverage) have none, on purpose.

/// A standard a check maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standard {
    CisV3,
    CisV5,
    SecurityHub,
}

impl Standard {
    pub const ALL: [Standard; 3] = [Standard::CisV3, Standard::CisV5, Standard::SecurityHub];

    pub fn name(self) -> &'static str {
        match self {
            Standard::CisV3 => "CIS AWS Foundations Benchmark v3.0.0",
            Standard::CisV5 => "CIS AWS Foundations Benchmark v5.0.0",
            Standard::SecurityHub => "AWS Security Hub CSPM",
        }
    }
}

/// One benchmark item or control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    pub standard: Standard,
    /// `1.14` for a CIS item, `IAM.3` for a Security Hub control.
    pub id: &'static str,
    /// How findings' `references` name it: `CIS v3.0.0 1.14`, `Security Hub IAM.3`.
    pub label: &'static str,
}

impl Control {
    /// The control's page: Security Hub controls have one each; CIS items do not (the
    /// benchmark is a document behind a sign-in), so they get none.
    pub fn url(&self) -> Option<String> {
        if self.standard != Standard::SecurityHub {
            return None;
        }
        let (service, number) = self.id.split_once('.')?;
        let service = service.to_ascii_lowercase();
        Some(format!(
            "https://docs.aws.amazon.com/securityhub/latest/userguide/{service}-controls.html#{service}-{number}"
        ))
    }
}

macro_rules! cis3 {
    ($id:literal) => {
        Control { standard: Standard::CisV3, id: $id, label: concat!("CIS v3.0.0 ", $id) }
    };
}
macro_rules! cis5 {
    ($id:literal) => {
        Control { standard: Standard::CisV5, id: $id, label: concat!("CIS v5.0.0 ", $id) }
    };
}
macro_rules! hub {
    ($id:literal) => {
        Control { standard: Standard::SecurityHub, id: $id, label: concat!("Security Hub ", $id) }
    };
}

/// Check id → its controls, CIS v3.0.0 first, then v5.0.0, then Security Hub.
const TABLE: &[(&str, &[Control])] = &[
    // Principals that hold or reach admin: the benchmark's item is about "*:*" policies
    // attached; IAM.1/IAM.21 test the same policies (IAM.1 relates to no v3/v5 item).
    ("admin-access", &[cis3!("1.16"), cis5!("1.15"), hub!("IAM.1"), hub!("IAM.21")]),
    ("sso-admin-assignment", &[cis3!("1.16"), cis5!("1.15"), hub!("IAM.1")]),
    ("full-admin-policy", &[cis3!("1.16"), cis5!("1.15"), hub!("IAM.1"), hub!("IAM.21")]),
    ("root-mfa-disabled", &[cis3!("1.5"), cis5!("1.4"), hub!("IAM.9")]),
    ("root-access-keys", &[cis3!("1.4"), cis5!("1.3"), hub!("IAM.4")]),
    // A manual item in both versions; no Security Hub control (IAM.20 was retired).
    ("root-recent-use", &[cis3!("1.7"), cis5!("1.6")]),
    ("console-without-mfa", &[cis3!("1.10"), cis5!("1.9"), hub!("IAM.5")]),
    ("stale-access-key", &[cis3!("1.14"), cis5!("1.13"), hub!("IAM.3")]),
    ("multiple-active-keys", &[cis3!("1.13"), cis5!("1.12")]),
    ("direct-user-policy", &[cis3!("1.15"), cis5!("1.14"), hub!("IAM.2")]),
    ("unused-credentials", &[cis3!("1.12"), cis5!("1.11"), hub!("IAM.22")]),
    // IAM.8 is the 90-day control (CIS v1.2.0 only); the 45-day item is IAM.22's.
    ("unused-user", &[cis3!("1.12"), cis5!("1.11"), hub!("IAM.8")]),
    (
        "password-policy-weak",
        &[
            cis3!("1.8"),
            cis3!("1.9"),
            cis5!("1.7"),
            cis5!("1.8"),
            hub!("IAM.7"),
            hub!("IAM.15"),
            hub!("IAM.16"),
        ],
    ),
    ("access-analyzer-disabled", &[cis3!("1.20"), cis5!("1.19"), hub!("IAM.28")]),
];

/// The controls a check maps to (none for a check without any, or an unknown id).
pub fn of(check: &str) -> &'static [Control] {
    TABLE.iter().find(|(id, _)| *id == check).map(|(_, controls)| *controls).unwrap_or(&[])
}

/// The legend report.html shows in its Method section.
pub const LEGEND: &[(&str, &str)] = &[
    (
        "CIS v3.0.0, CIS v5.0.0",
        "a recommendation of section 1 (Identity and Access Management) of the CIS AWS Foundations \
         Benchmark, in that version; v5.0.0 renumbered the items after dropping v3.0.0's 1.3. The \
         benchmark is not linkable item by item.",
    ),
    (
        "Security Hub IAM.N",
        "the AWS Security Hub CSPM control that tests the same condition, linked to its page in the \
         Security Hub user guide.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_check_is_in_the_catalog_and_ids_are_well_formed() {
        for (id, controls) in TABLE {
            assert!(super::super::CATALOG.iter().any(|c| c.id == *id), "{id} is not a check");
            assert!(!controls.is_empty(), "{id}");
            for control in *controls {
                match control.standard {
                    Standard::CisV3 | Standard::CisV5 => {
                        assert!(control.id.starts_with("1."), "{id}: {control:?} is not in section 1")
                    }
                    Standard::SecurityHub => assert!(control.id.starts_with("IAM."), "{id}: {control:?}"),
                }
                assert!(control.label.ends_with(control.id));
            }
        }
    }

    #[test]
    fn checks_without_a_benchmark_item_map_to_nothing() {
        for id in
            ["wide-trust", "external-trust", "oidc-trust-unscoped", "unused-role", "account-not-audited"]
        {
            assert!(of(id).is_empty(), "{id}");
        }
        assert!(of("no-such-check").is_empty());
    }

    #[test]
    fn v5_numbers_follow_v3_less_one_and_links_use_the_control_anchor() {
        let stale = of("stale-access-key");
        assert_eq!(
            stale.iter().map(|c| c.label).collect::<Vec<_>>(),
            ["CIS v3.0.0 1.14", "CIS v5.0.0 1.13", "Security Hub IAM.3"]
        );
        for (_, controls) in TABLE {
            let v3: Vec<&str> =
                controls.iter().filter(|c| c.standard == Standard::CisV3).map(|c| c.id).collect();
            let v5: Vec<&str> =
                controls.iter().filter(|c| c.standard == Standard::CisV5).map(|c| c.id).collect();
            let less_one = |id: &str| {
                let n: u32 = id.trim_start_matches("1.").parse().unwrap();
                format!("1.{}", n - 1)
            };
            assert_eq!(v3.iter().map(|id| less_one(id)).collect::<Vec<_>>(), v5);
        }
        assert_eq!(
            stale[2].url().unwrap(),
            "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-3"
        );
        assert_eq!(stale[0].url(), None);
    }
}
