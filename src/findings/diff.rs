//! What changed since the previous run: each finding is `new` or `persisting` (keeping the
//! `first_seen` of its first appearance), and the previous run's findings that are gone are
//! `resolved`.
//!
//! Gone is not the same as fixed: a finding of an account this run could not audit (failed,
//! skipped, or not in the run at all), or of a check that had no input in that account, is
//! unknown now. It is not counted as resolved: it is *carried over*, listed apart as not
//! re-checked, and kept in this run's findings.json (`carried_over`) so that the next run
//! compares with it too.
//!
//! The previous run's findings.json is read as a stream, twice at most, and never held whole:
//! first into a compact index (a 128-bit key per fingerprint, with its `first_seen`, status,
//! account and check), then, once this run is done, again to copy out the resolved findings.

use super::{Change, Finding, Status};
use crate::audit::{CoverageRow, CoverageStatus};
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The previous run: its findings.json (on local disk; an S3 archive's copy is downloaded
/// first) and its access roster.
pub struct PreviousRun {
    pub findings_file: PathBuf,
    /// Its access-roster.csv, read beside findings.json when the run has one.
    pub roster: Option<crate::access::roster::PreviousRoster>,
    /// A downloaded copy, removed when the run is dropped.
    pub downloaded: bool,
}

impl Drop for PreviousRun {
    fn drop(&mut self) {
        if self.downloaded {
            let _ = std::fs::remove_file(&self.findings_file);
        }
    }
}

/// A previous finding's key: its fingerprint (SHA-256 hex) cut to 128 bits, or a hash of a
/// fingerprint that is not hex (another tool's file).
pub fn key(fingerprint: &str) -> u128 {
    match fingerprint.get(..32).map(|hex| u128::from_str_radix(hex, 16)) {
        Some(Ok(key)) if fingerprint.len() == 64 => key,
        _ => {
            use sha2::{Digest, Sha256};
            let digest = Sha256::digest(fingerprint.as_bytes());
            u128::from_be_bytes(digest[..16].try_into().expect("SHA-256 has 32 bytes"))
        }
    }
}

/// What the index keeps of one previous finding (16 bytes).
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Position in the previous run's findings, for the seen marks.
    ordinal: u32,
    first_seen: u32,
    /// The 12-digit account id as a number (u64::MAX for one that is not).
    account: u64,
    check: u16,
    suppressed: bool,
}

/// The previous run's findings, by key.
#[derive(Default)]
pub struct PreviousIndex {
    entries: HashMap<u128, Entry>,
    first_seen: Vec<Box<str>>,
    checks: Vec<Box<str>>,
    seen: Vec<bool>,
}

/// A previous finding as this run needs it when comparing.
pub struct Earlier<'a> {
    pub ordinal: u32,
    pub first_seen: &'a str,
    pub suppressed: bool,
}

#[derive(Deserialize)]
struct Light {
    fingerprint: String,
    check: String,
    account_id: String,
    status: Status,
    first_seen: String,
}

impl PreviousIndex {
    /// Reads a findings.json of this tool, one finding at a time.
    pub fn read(reader: impl Read, name: &Path) -> Result<PreviousIndex, String> {
        let mut index = PreviousIndex::default();
        let mut first_seen: HashMap<String, u32> = HashMap::new();
        let mut checks: HashMap<String, u16> = HashMap::new();
        each_finding(reader, |light: Light| {
            let ordinal = index.seen.len() as u32;
            index.seen.push(false);
            let next = index.first_seen.len() as u32;
            let seen_at = *first_seen.entry(light.first_seen).or_insert_with_key(|text| {
                index.first_seen.push(text.as_str().into());
                next
            });
            let next = index.checks.len() as u16;
            let check = *checks.entry(light.check).or_insert_with_key(|text| {
                index.checks.push(text.as_str().into());
                next
            });
            let account = match light.account_id.len() {
                12 => light.account_id.parse().unwrap_or(u64::MAX),
                _ => u64::MAX,
            };
            let suppressed = light.status == Status::Suppressed;
            index.entries.insert(
                key(&light.fingerprint),
                Entry { ordinal, first_seen: seen_at, account, check, suppressed },
            );
        })
        .map_err(|e| format!("{} is not a findings.json of this tool: {e}", name.display()))?;
        Ok(index)
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    pub fn get(&self, fingerprint: &str) -> Option<Earlier<'_>> {
        self.entries.get(&key(fingerprint)).map(|e| Earlier {
            ordinal: e.ordinal,
            first_seen: &self.first_seen[e.first_seen as usize],
            suppressed: e.suppressed,
        })
    }

    /// Marks `finding` new or persisting, carrying `first_seen` over; returns the previous
    /// finding's ordinal when there was one (to be passed to [`PreviousIndex::seen`]).
    pub fn mark(&self, finding: &mut Finding) -> Option<u32> {
        let Some(earlier) = self.get(&finding.fingerprint) else {
            finding.change = Change::New;
            return None;
        };
        finding.first_seen = earlier.first_seen.to_string();
        // An accepted risk whose suppression lapsed is news to the reader, however old.
        let lapsed = earlier.suppressed && finding.status == Status::Open;
        finding.change = if lapsed { Change::New } else { Change::Persisting };
        Some(earlier.ordinal)
    }

    pub fn seen(&mut self, ordinal: u32) {
        if let Some(mark) = self.seen.get_mut(ordinal as usize) {
            *mark = true;
        }
    }

    /// The previous findings not seen in this run: resolved where this run judged their
    /// account and check, else carried over.
    pub fn gone(&self, coverage: &[CoverageRow]) -> Gone {
        let audited: HashMap<u64, &CoverageRow> = coverage
            .iter()
            .filter(|row| row.status == CoverageStatus::Audited)
            .filter_map(|row| Some((row.account_id.parse::<u64>().ok()?, row)))
            .collect();
        let mut gone = Gone::default();
        for (key, e) in self.entries.iter().filter(|(_, e)| !self.seen[e.ordinal as usize]) {
            let check = &*self.checks[e.check as usize];
            let judged = audited
                .get(&e.account)
                .is_some_and(|row| !row.checks_without_input.iter().any(|c| c == check));
            if judged { &mut gone.resolved } else { &mut gone.carried_over }.insert(*key);
        }
        gone
    }
}

/// The previous findings this run did not see again, by key.
#[derive(Debug, Default)]
pub struct Gone {
    pub resolved: HashSet<u128>,
    pub carried_over: HashSet<u128>,
}

/// Why a previous finding is listed: fixed, or not re-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneAs {
    Resolved,
    CarriedOver,
}

/// Calls `found` with each resolved or carried-over finding of a previous findings.json, in
/// its order (its findings, then those it carried over).
pub fn read_gone(
    reader: impl Read,
    name: &Path,
    gone: &Gone,
    mut found: impl FnMut(Finding, GoneAs),
) -> Result<(), String> {
    if gone.resolved.is_empty() && gone.carried_over.is_empty() {
        return Ok(());
    }
    let mut error = None;
    each_finding(reader, |raw: Box<serde_json::value::RawValue>| {
        if error.is_some() {
            return;
        }
        #[derive(Deserialize)]
        struct Fingerprint {
            fingerprint: String,
        }
        let as_what = match serde_json::from_str::<Fingerprint>(raw.get()) {
            Ok(f) if gone.resolved.contains(&key(&f.fingerprint)) => GoneAs::Resolved,
            Ok(f) if gone.carried_over.contains(&key(&f.fingerprint)) => GoneAs::CarriedOver,
            Ok(_) => return,
            Err(e) => {
                error = Some(e.to_string());
                return;
            }
        };
        match serde_json::from_str::<Finding>(raw.get()) {
            Ok(finding) => found(finding, as_what),
            Err(e) => error = Some(e.to_string()),
        }
    })
    .map_err(|e| e.to_string())
    .and_then(|()| error.map_or(Ok(()), Err))
    .map_err(|e| format!("{} is not a findings.json of this tool: {e}", name.display()))
}

/// Streams the elements of the top-level `findings` array of a findings.json, then of its
/// `carried_over` array (when it has one), to `each`, skipping everything else.
fn each_finding<T: DeserializeOwned>(
    reader: impl Read,
    each: impl FnMut(T),
) -> Result<(), serde_json::Error> {
    let mut deserializer =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 20, reader));
    let found = TopLevel { each, marker: std::marker::PhantomData }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    if !found {
        return Err(serde::de::Error::missing_field("findings"));
    }
    Ok(())
}

struct TopLevel<T, F> {
    each: F,
    marker: std::marker::PhantomData<T>,
}

impl<'de, T: DeserializeOwned, F: FnMut(T)> DeserializeSeed<'de> for TopLevel<T, F> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned, F: FnMut(T)> Visitor<'de> for TopLevel<T, F> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a findings.json object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(field) = map.next_key::<String>()? {
            if field == "findings" || field == "carried_over" {
                map.next_value_seed(Elements { each: &mut self.each, marker: std::marker::PhantomData })?;
                found |= field == "findings";
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

struct Elements<'f, T, F> {
    each: &'f mut F,
    marker: std::marker::PhantomData<T>,
}

impl<'de, T: DeserializeOwned, F: FnMut(T)> DeserializeSeed<'de> for Elements<'_, T, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned, F: FnMut(T)> Visitor<'de> for Elements<'_, T, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of findings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.each)(element);
        }
        Ok(())
    }
}

/// What a small run held whole compares to: the resolved and the carried-over findings.
pub struct Compared {
    pub resolved: Vec<Finding>,
    pub carried_over: Vec<Finding>,
}

/// Marks `current` against a previous findings.json held in memory: the streamed comparison,
/// for callers that hold a small run whole.
pub fn compare(
    current: &mut [Finding],
    coverage: &[CoverageRow],
    previous_json: &[u8],
) -> Result<Compared, String> {
    let name = Path::new("findings.json");
    let mut index = PreviousIndex::read(previous_json, name)?;
    for finding in current.iter_mut() {
        if let Some(ordinal) = index.mark(finding) {
            index.seen(ordinal);
        }
    }
    let gone = index.gone(coverage);
    let mut compared = Compared { resolved: Vec::new(), carried_over: Vec::new() };
    read_gone(previous_json, name, &gone, |f, as_what| match as_what {
        GoneAs::Resolved => compared.resolved.push(f),
        GoneAs::CarriedOver => compared.carried_over.push(f),
    })?;
    Ok(compared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Evidence, ResourceType, Severity};
    use crate::identifiers::AccountId;

    fn finding(name: &str, check: &str, account: &str, first_seen: &str) -> Finding {
        Finding {
            fingerprint: crate::findings::fingerprint(check, account, name, ""),
            check: check.to_string().into(),
            severity: Severity::High,
            account_id: AccountId::parse(account).unwrap(),
            account_name: String::new(),
            resource_type: ResourceType::User,
            resource_arn: format!("arn:aws:iam::{account}:user/{name}"),
            resource_name: name.into(),
            title: String::new(),
            detail: String::new(),
            evidence: Evidence::from_map(Default::default()),
            remediation: "".into(),
            remediation_command: None,
            console_url: None,
            references: vec![],
            status: Status::Open,
            suppression: None,
            first_seen: first_seen.into(),
            change: Change::New,
            default_severity: true,
            lapsed_rule: None,
        }
    }

    fn row(account: &str, status: CoverageStatus, without_input: &[&str]) -> CoverageRow {
        CoverageRow {
            account_id: account.into(),
            account_name: String::new(),
            status,
            error: None,
            hint: None,
            attempts: None,
            checks_without_input: without_input.iter().map(|c| c.to_string()).collect(),
            problems: vec![],
            notes: vec![],
            inventory: None,
            api_calls: None,
        }
    }

    /// A findings.json as this tool writes it (other fields before and after the findings).
    fn previous(findings: &[Finding]) -> Vec<u8> {
        serde_json::to_vec_pretty(&serde_json::json!({
            "schema": "iam-auditor/findings/v1",
            "run": {"id": "r1"},
            "coverage": [],
            "findings": findings,
            "resolved": [finding("an-older-resolved-one", "admin-access", A, "t")],
        }))
        .unwrap()
    }

    fn names(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.resource_name.as_str()).collect()
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";
    const C: &str = "333333333333";

    #[test]
    fn new_persisting_and_resolved_with_first_seen_kept() {
        let before = previous(&[
            finding("kept", "console-without-mfa", A, "2026-01-01T00:00:00Z"),
            finding("fixed", "console-without-mfa", A, "2026-01-01T00:00:00Z"),
        ]);
        let mut current = vec![
            finding("kept", "console-without-mfa", A, "2026-02-01T00:00:00Z"),
            finding("fresh", "console-without-mfa", A, "2026-02-01T00:00:00Z"),
        ];
        let resolved =
            compare(&mut current, &[row(A, CoverageStatus::Audited, &[])], &before).unwrap().resolved;
        assert_eq!(current[0].change, Change::Persisting);
        assert_eq!(current[0].first_seen, "2026-01-01T00:00:00Z");
        assert_eq!(current[1].change, Change::New);
        assert_eq!(current[1].first_seen, "2026-02-01T00:00:00Z");
        assert_eq!(
            names(&resolved),
            vec!["fixed"],
            "only the top-level findings count, not an older resolved list"
        );
    }

    #[test]
    fn findings_of_unaudited_accounts_or_checks_without_input_are_carried_over_not_resolved() {
        let before = previous(&[
            finding("in-failed-account", "console-without-mfa", B, "t"),
            finding("check-had-no-input", "console-without-mfa", A, "t"),
            finding("really-fixed", "admin-access", A, "t"),
            finding("account-left-the-run", "admin-access", C, "t"),
        ]);
        let coverage =
            [row(A, CoverageStatus::Audited, &["console-without-mfa"]), row(B, CoverageStatus::Failed, &[])];
        let compared = compare(&mut [], &coverage, &before).unwrap();
        assert_eq!(names(&compared.resolved), vec!["really-fixed"]);
        assert_eq!(
            names(&compared.carried_over),
            vec!["in-failed-account", "check-had-no-input", "account-left-the-run"]
        );
    }

    #[test]
    fn carried_over_findings_are_compared_again_in_the_next_run() {
        // Run 2 carried `stale` over (its account failed); run 3 audits the account again.
        let mut before: serde_json::Value = serde_json::from_slice(&previous(&[])).unwrap();
        before["carried_over"] = serde_json::json!([
            finding("stale", "stale-access-key", B, "2026-01-01T00:00:00Z"),
            finding("gone-now", "stale-access-key", B, "2026-01-01T00:00:00Z"),
        ]);
        let before = serde_json::to_vec(&before).unwrap();
        let mut current = vec![finding("stale", "stale-access-key", B, "2026-03-01T00:00:00Z")];
        let compared = compare(&mut current, &[row(B, CoverageStatus::Audited, &[])], &before).unwrap();
        assert_eq!(current[0].change, Change::Persisting);
        assert_eq!(current[0].first_seen, "2026-01-01T00:00:00Z");
        assert_eq!(names(&compared.resolved), vec!["gone-now"]);
        assert!(compared.carried_over.is_empty());
    }

    #[test]
    fn a_lapsed_suppression_is_new_again() {
        let mut earlier = finding("risk", "admin-access", A, "2025-01-01T00:00:00Z");
        earlier.status = Status::Suppressed;
        let mut current = vec![finding("risk", "admin-access", A, "2026-02-01T00:00:00Z")];
        compare(&mut current, &[row(A, CoverageStatus::Audited, &[])], &previous(&[earlier])).unwrap();
        assert_eq!(current[0].change, Change::New);
        assert_eq!(current[0].first_seen, "2025-01-01T00:00:00Z", "first seen long ago, new to the reader");
    }

    #[test]
    fn an_unreadable_previous_file_is_an_error_naming_it() {
        for text in [
            &b"{\"run\": {}}"[..],
            b"[1, 2]",
            b"{\"findings\": [{\"fingerprint\": 1}]}",
            b"{\"findings\": []",
        ] {
            let err = PreviousIndex::read(text, Path::new("/archive/r1/findings.json")).err().unwrap();
            assert!(
                err.starts_with("/archive/r1/findings.json is not a findings.json of this tool"),
                "{err}"
            );
        }
    }

    #[test]
    fn keys_take_the_fingerprints_hex_and_hash_anything_else() {
        let fingerprint = crate::findings::fingerprint("c", A, "r", "");
        assert_eq!(key(&fingerprint), u128::from_str_radix(&fingerprint[..32], 16).unwrap());
        assert_ne!(key("not-hex"), key("not-hex-either"));
        assert_eq!(key("not-hex"), key("not-hex"));
    }
}
