//! Where a run's evidence comes from, and how to check it: the organization, the identity that
//! collected, when the snapshot was collected (apart from when the run judged it), a hash of
//! the snapshot's manifest, the archive's checksum file and the commit the tool was built
//! from. findings.json carries it as the top-level `provenance`; report.html shows it as its
//! "Evidence" block, and warns, as the digest and the log do, when the data is stale.
//!
//! Not here: reading the snapshot (`snapshot::Snapshot` keeps the manifest and its hash) or
//! filing the run (`deliver`, which writes SHA256SUMS).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// The commit this binary was built from (build.rs): 40 hex digits, or "unknown".
pub const BUILD_COMMIT: &str = env!("IAM_AUDITOR_BUILD_COMMIT");

/// The archive's checksum file (`deliver::CHECKSUMS` writes it).
pub const CHECKSUMS_FILE: &str = "SHA256SUMS";

/// The run's evidence, as findings.json's top-level `provenance` holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// The AWS Organization's id (`o-…`), from the snapshot; None when it does not say.
    pub organization_id: Option<String>,
    /// The identity that collected the snapshot (the caller's ARN, from manifest.json).
    pub collected_by: Option<String>,
    /// When the snapshot was collected (manifest.json `collected_at`).
    pub snapshot_collected_at: Option<String>,
    /// The date the digest's subject carries (the collection's UTC date).
    pub evidence_date: Option<String>,
    pub data_age: DataAge,
    /// sha256 of the snapshot's manifest.json as it was read.
    pub manifest_sha256: Option<String>,
    pub checksums: Checksums,
    /// The commit the tool was built from, or "unknown".
    pub build_commit: String,
}

/// What the collection time is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgeReference {
    /// The instant given with `--as-of`, which every age of the findings is measured against.
    AsOf,
    /// When the run started: without `--as-of`, `as_of` is the collection time itself and says
    /// nothing about age.
    RunStart,
}

/// How old the data is when the run judges it.
#[derive(Debug, Clone, Serialize)]
pub struct DataAge {
    pub reference: AgeReference,
    pub reference_at: String,
    /// Whole days from collection to the reference; None when the collection time is unknown.
    pub days: Option<i64>,
    /// `[report] max_data_age_days`.
    pub max_days: u32,
    /// Older than `max_days` (strictly), or of unknown age.
    pub stale: bool,
}

/// Where the run's checksum file is and how to verify the run with it.
#[derive(Debug, Clone, Serialize)]
pub struct Checksums {
    pub file: &'static str,
    /// The run's folder in the archive; None when the run is not filed (written with `--out`).
    pub location: Option<String>,
    pub verify: String,
}

/// What the run knows about its evidence, to build [`Provenance`] from.
pub struct Sources<'a> {
    pub organization_id: Option<&'a str>,
    pub collected_by: Option<&'a str>,
    pub collected_at: Option<DateTime<Utc>>,
    pub manifest_sha256: Option<&'a str>,
    pub as_of: DateTime<Utc>,
    /// `--as-of` was given (else `as_of` is the collection time, or the start without one).
    pub as_of_given: bool,
    pub started_at: DateTime<Utc>,
    pub max_data_age_days: u32,
    /// The run's folder in the archive, when it is filed.
    pub filed_at: Option<String>,
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Provenance {
    pub fn new(sources: &Sources) -> Provenance {
        let (reference, reference_at) = if sources.as_of_given {
            (AgeReference::AsOf, sources.as_of)
        } else {
            (AgeReference::RunStart, sources.started_at)
        };
        let age = sources.collected_at.map(|collected| reference_at - collected);
        let limit = chrono::Duration::days(i64::from(sources.max_data_age_days));
        Provenance {
            organization_id: sources.organization_id.map(str::to_string),
            collected_by: sources.collected_by.map(str::to_string),
            snapshot_collected_at: sources.collected_at.map(instant),
            evidence_date: sources.collected_at.map(|at| at.format("%Y-%m-%d").to_string()),
            data_age: DataAge {
                reference,
                reference_at: instant(reference_at),
                days: age.map(|age| age.num_days()),
                max_days: sources.max_data_age_days,
                stale: age.is_none_or(|age| age > limit),
            },
            manifest_sha256: sources.manifest_sha256.map(str::to_string),
            checksums: Checksums {
                file: CHECKSUMS_FILE,
                verify: match &sources.filed_at {
                    Some(location) if location.starts_with("s3://") => format!(
                        "aws s3 cp --recursive {location} run && cd run && sha256sum -c {CHECKSUMS_FILE}"
                    ),
                    Some(location) => format!("cd {location} && sha256sum -c {CHECKSUMS_FILE}"),
                    None => format!(
                        "not filed (written with --out): no {CHECKSUMS_FILE}; a run filed in the archive has one"
                    ),
                },
                location: sources.filed_at.clone(),
            },
            build_commit: BUILD_COMMIT.to_string(),
        }
    }

    /// Provenance of a run that knows only its `as_of`: data taken as collected then and judged
    /// then (reports built whole in tests); `RunReport::with_provenance` replaces it.
    pub fn judged_at(as_of: DateTime<Utc>) -> Provenance {
        Provenance::new(&Sources {
            organization_id: None,
            collected_by: None,
            collected_at: Some(as_of),
            manifest_sha256: None,
            as_of,
            as_of_given: true,
            started_at: as_of,
            max_data_age_days: crate::config::ReportConfig::default().max_data_age_days,
            filed_at: None,
        })
    }

    /// What the reference instant is, in words.
    fn reference_words(&self) -> &'static str {
        match self.data_age.reference {
            AgeReference::AsOf => "the as-of instant the findings are judged at",
            AgeReference::RunStart => "the run's start",
        }
    }

    /// The stale-data warning, with the age, for the report and the digest; None when fresh.
    pub fn stale_warning(&self) -> Option<String> {
        if !self.data_age.stale {
            return None;
        }
        let age = &self.data_age;
        Some(match (&self.snapshot_collected_at, age.days) {
            (Some(collected), Some(days)) => format!(
                "The evidence is {days} day{} old: the snapshot was collected at {collected}, {days} day{} before {} \
                 ({}), more than the {} day{} allowed ([report] max_data_age_days). The findings describe the \
                 organization as it was then, not now.",
                plural(days),
                plural(days),
                self.reference_words(),
                age.reference_at,
                age.max_days,
                plural(i64::from(age.max_days)),
            ),
            _ => "The snapshot does not record when it was collected (no collected_at in manifest.json): the age \
                  of the evidence is unknown."
                .to_string(),
        })
    }

    /// The stale-data warning for the log: the same facts without the age, so that a run over
    /// the same snapshot logs the same line whatever the day.
    pub fn stale_log_line(&self) -> Option<String> {
        if !self.data_age.stale {
            return None;
        }
        Some(match &self.snapshot_collected_at {
            Some(collected) => format!(
                "stale evidence: the snapshot was collected at {collected}, more than {} day{} \
                 ([report] max_data_age_days) before {}; the findings describe the organization as it was then",
                self.data_age.max_days,
                plural(i64::from(self.data_age.max_days)),
                self.reference_words()
            ),
            None => "the snapshot does not record when it was collected (no collected_at in manifest.json): \
                     the age of the evidence is unknown"
                .to_string(),
        })
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn sources(collected: Option<&str>, as_of: &str, as_of_given: bool, started: &str) -> Sources<'static> {
        Sources {
            organization_id: Some("o-7k2mq9x4ve"),
            collected_by: Some("arn:aws:sts::111122223333:assumed-role/auditor/s"),
            collected_at: collected.map(at),
            manifest_sha256: Some("ab"),
            as_of: at(as_of),
            as_of_given,
            started_at: at(started),
            max_data_age_days: 2,
            filed_at: None,
        }
    }

    #[test]
    fn stale_is_strictly_past_the_limit_against_the_run_start_when_as_of_defaulted() {
        let run = "2026-12-02T06:00:00Z";
        // as_of defaulted to the collection time: the run's start is the reference.
        let exactly =
            Provenance::new(&sources(Some("2026-11-30T06:00:00Z"), "2026-11-30T06:00:00Z", false, run));
        assert_eq!(exactly.data_age.reference, AgeReference::RunStart);
        assert_eq!(exactly.data_age.days, Some(2));
        assert!(!exactly.data_age.stale, "exactly the limit is not stale");
        assert!(exactly.stale_warning().is_none() && exactly.stale_log_line().is_none());
        let past =
            Provenance::new(&sources(Some("2026-11-30T05:59:59Z"), "2026-11-30T05:59:59Z", false, run));
        assert!(past.data_age.stale, "one second past the limit is");
        let warning = past.stale_warning().unwrap();
        assert!(warning.contains("2 days old") && warning.contains("2026-11-30T05:59:59Z"), "{warning}");
        assert!(warning.contains("before the run's start (2026-12-02T06:00:00Z)"), "{warning}");
        let line = past.stale_log_line().unwrap();
        assert!(line.contains("collected at 2026-11-30T05:59:59Z") && !line.contains("2026-12-02"), "{line}");
        assert_eq!(past.evidence_date.as_deref(), Some("2026-11-30"));
    }

    #[test]
    fn with_as_of_given_the_age_is_measured_to_it_not_to_the_run() {
        // An archived snapshot judged at its own time, years later: not stale.
        let replay = Provenance::new(&sources(
            Some("2024-06-01T00:00:00Z"),
            "2024-06-01T12:00:00Z",
            true,
            "2026-12-02T06:00:00Z",
        ));
        assert_eq!((replay.data_age.reference, replay.data_age.days), (AgeReference::AsOf, Some(0)));
        assert_eq!(serde_json::to_value(&replay.data_age).unwrap()["reference"], "as-of");
        assert!(!replay.data_age.stale);
        // Judged 913 days after its collection: stale, and the warning names the as-of instant.
        let late = Provenance::new(&sources(
            Some("2024-06-01T00:00:00Z"),
            "2026-12-01T00:00:00Z",
            true,
            "2026-12-02T06:00:00Z",
        ));
        assert_eq!(late.data_age.days, Some(913));
        let warning = late.stale_warning().unwrap();
        assert!(warning.contains("913 days old") && warning.contains("as-of instant"), "{warning}");
    }

    #[test]
    fn unknown_collection_time_is_stale_and_said_so() {
        let unknown = Provenance::new(&sources(None, "2026-12-02T06:00:00Z", false, "2026-12-02T06:00:00Z"));
        assert!(unknown.data_age.stale && unknown.data_age.days.is_none());
        assert!(unknown.stale_warning().unwrap().contains("does not record when it was collected"));
        assert!(unknown.evidence_date.is_none());
    }

    #[test]
    fn the_checksum_pointer_says_how_to_verify_a_filed_run_and_that_an_unfiled_one_has_none() {
        let mut filed =
            sources(Some("2026-12-02T06:00:00Z"), "2026-12-02T06:00:00Z", false, "2026-12-02T06:00:00Z");
        filed.filed_at = Some("archive/20261202T060000Z".into());
        let filed = Provenance::new(&filed);
        assert_eq!(filed.checksums.verify, "cd archive/20261202T060000Z && sha256sum -c SHA256SUMS");
        let unfiled = Provenance::new(&sources(
            Some("2026-12-02T06:00:00Z"),
            "2026-12-02T06:00:00Z",
            false,
            "2026-12-02T06:00:00Z",
        ));
        assert!(unfiled.checksums.location.is_none() && unfiled.checksums.verify.starts_with("not filed"));
        let mut in_s3 =
            sources(Some("2026-12-02T06:00:00Z"), "2026-12-02T06:00:00Z", false, "2026-12-02T06:00:00Z");
        in_s3.filed_at = Some("s3://audit/iam/20261202T060000Z/".into());
        assert_eq!(
            Provenance::new(&in_s3).checksums.verify,
            "aws s3 cp --recursive s3://audit/iam/20261202T060000Z/ run && cd run && sha256sum -c SHA256SUMS",
            "an S3 run is downloaded first"
        );
    }

    #[test]
    fn the_build_commit_is_a_commit_or_unknown() {
        let hex = BUILD_COMMIT.len() == 40 && BUILD_COMMIT.bytes().all(|b| b.is_ascii_hexdigit());
        match env!("IAM_AUDITOR_BUILD_COMMIT_SOURCE") {
            "git" => assert!(hex, "git rev-parse HEAD gave {BUILD_COMMIT}"),
            "none" => assert_eq!(BUILD_COMMIT, "unknown"),
            "env" => assert!(!BUILD_COMMIT.is_empty() && !BUILD_COMMIT.contains('\n')),
            other => panic!("build.rs says the commit came from {other}"),
        }
    }
}
