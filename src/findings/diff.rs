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
//! The previous run is read as a stream, never held whole: first into a compact index (a
//! 128-bit key per fingerprint, with its `first_seen`, status, account and check), then, once
//! this run is done and only if some of its findings are gone, its findings.json again to copy
//! out the resolved findings. A filed run keeps that index as a file of its own
//! ([`INDEX`]), a line a finding, which the next run reads instead of findings.json: at 10,000
//! accounts 0.4 GB of lines against 7 GB of JSON. A run without one (filed before it existed,
//! or whose file cannot be read) is indexed from its findings.json.

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
    /// Its findings-index.tsv ([`INDEX`]), read instead of findings.json when it has one.
    pub index_file: Option<PathBuf>,
    /// Its access-roster.csv, read beside findings.json when the run has one.
    pub roster: Option<crate::access::roster::PreviousRoster>,
    /// A downloaded copy, removed when the run is dropped.
    pub downloaded: bool,
}

impl Drop for PreviousRun {
    fn drop(&mut self) {
        if self.downloaded {
            let _ = std::fs::remove_file(&self.findings_file);
            if let Some(index) = &self.index_file {
                let _ = std::fs::remove_file(index);
            }
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

/// What the index keeps of one previous finding, its key included (32 bytes).
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u128,
    /// The 12-digit account id as a number (u64::MAX for one that is not).
    account: u64,
    first_seen: u32,
    check: u16,
    suppressed: bool,
    /// Seen again in this run.
    seen: bool,
}

/// The bits of a key that choose its bucket in [`PreviousIndex::starts`].
const BUCKET_BITS: u32 = 16;

/// The previous run's findings, sorted by key. Keys are uniform (SHA-256), so a bucket of the
/// first [`BUCKET_BITS`] bits holds a few entries, searched by bisection: 32 bytes a finding
/// with nothing around them, where a hash table of them took about 100 at its load and half as
/// much again while it grew (at 10,000 accounts, 4.2M findings: 134 MB against 411 MB, and
/// the diffed run's peak 773 → 387 MiB).
#[derive(Default)]
pub struct PreviousIndex {
    entries: Vec<Entry>,
    /// Where each bucket starts in `entries`, and where the last ends (empty while reading).
    starts: Vec<u32>,
    first_seen: Vec<Box<str>>,
    checks: Vec<Box<str>>,
}

/// A previous finding as this run needs it when comparing.
pub struct Earlier<'a> {
    /// Its place in the index, for [`PreviousIndex::seen`].
    pub ordinal: u32,
    pub first_seen: &'a str,
    pub suppressed: bool,
}

/// The findings index a filed run keeps beside findings.json (DESIGN.md "Archive layout").
pub const INDEX: &str = "findings-index.tsv";

/// findings-index.tsv's first line; its last is `end`, a tab and the count of lines between.
const INDEX_HEADER: &[u8] = b"iam-auditor/findings-index/v1\n";

/// Appends `finding`'s line of findings-index.tsv to `out`: its key as 32 hex digits, account,
/// status, `first_seen` and check, tab-separated. False, with nothing appended, when a field
/// holds a tab or a line break, which the format cannot carry (the run then keeps no index,
/// and the next run reads its findings.json).
pub fn index_line(finding: &Finding, out: &mut Vec<u8>) -> bool {
    let plain = |text: &str| !text.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r'));
    if !plain(&finding.first_seen) || !plain(&finding.check) {
        return false;
    }
    let status = match finding.status {
        Status::Open => "open",
        Status::Suppressed => "suppressed",
    };
    let key = key(&finding.fingerprint);
    let fields = [finding.account_id.as_str(), status, &finding.first_seen, &finding.check];
    std::io::Write::write_fmt(out, format_args!("{key:032x}")).expect("a Vec takes every byte");
    for field in fields {
        out.push(b'\t');
        out.extend_from_slice(field.as_bytes());
    }
    out.push(b'\n');
    true
}

/// findings-index.tsv's first line.
pub fn index_header() -> &'static [u8] {
    INDEX_HEADER
}

/// findings-index.tsv's last line, after `count` findings.
pub fn index_trailer(count: u64) -> Vec<u8> {
    format!("end\t{count}\n").into_bytes()
}

#[derive(Deserialize)]
struct Light {
    fingerprint: String,
    check: String,
    account_id: String,
    status: Status,
    first_seen: String,
}

/// Builds a [`PreviousIndex`], giving each distinct `first_seen` and check one number.
#[derive(Default)]
struct Indexer {
    index: PreviousIndex,
    first_seen: HashMap<Box<str>, u32>,
    checks: HashMap<Box<str>, u32>,
}

/// `text`'s number in `list`, where it is added the first time.
fn number_of(numbers: &mut HashMap<Box<str>, u32>, list: &mut Vec<Box<str>>, text: &str) -> u32 {
    if let Some(&at) = numbers.get(text) {
        return at;
    }
    let at = list.len() as u32;
    list.push(text.into());
    numbers.insert(text.into(), at);
    at
}

impl Indexer {
    fn add(&mut self, key: u128, account_id: &str, suppressed: bool, first_seen: &str, check: &str) {
        let index = &mut self.index;
        let seen_at = number_of(&mut self.first_seen, &mut index.first_seen, first_seen);
        let check = number_of(&mut self.checks, &mut index.checks, check) as u16;
        let account = match account_id.len() {
            12 => account_id.parse().unwrap_or(u64::MAX),
            _ => u64::MAX,
        };
        let entry = Entry { key, account, first_seen: seen_at, check, suppressed, seen: false };
        index.entries.push(entry);
    }

    /// The index, sorted and bucketed. A key found twice keeps its last finding, as a table
    /// written in the file's order would.
    fn finish(self) -> PreviousIndex {
        let mut index = self.index;
        let entries = &mut index.entries;
        // Stable: of equal keys the file's last comes last.
        entries.sort_by_key(|e| e.key);
        entries.dedup_by(|later, earlier| {
            let same = later.key == earlier.key;
            if same {
                *earlier = *later;
            }
            same
        });
        entries.shrink_to_fit();
        let mut starts = Vec::with_capacity((1 << BUCKET_BITS) + 1);
        let mut at = 0;
        for bucket in 0..1usize << BUCKET_BITS {
            while at < entries.len() && bucket_of(entries[at].key) < bucket {
                at += 1;
            }
            starts.push(at as u32);
        }
        starts.push(entries.len() as u32);
        index.starts = starts;
        index
    }
}

fn bucket_of(key: u128) -> usize {
    (key >> (128 - BUCKET_BITS)) as usize
}

impl PreviousIndex {
    /// Reads a findings.json of this tool, one finding at a time.
    pub fn read(reader: impl Read, name: &Path) -> Result<PreviousIndex, String> {
        let mut indexer = Indexer::default();
        each_finding(reader, |light: Light| {
            let suppressed = light.status == Status::Suppressed;
            let key = key(&light.fingerprint);
            indexer.add(key, &light.account_id, suppressed, &light.first_seen, &light.check);
        })
        .map_err(|e| format!("{} is not a findings.json of this tool: {e}", name.display()))?;
        Ok(indexer.finish())
    }

    /// Reads a findings-index.tsv ([`INDEX`]) a line at a time. A file that is not one, or
    /// that ends before its `end` line or with another count, is an error naming it and the
    /// line: the caller then reads the run's findings.json.
    pub fn read_index(reader: impl Read, name: &Path) -> Result<PreviousIndex, String> {
        use std::io::BufRead;
        let fail = |line: u64, why: String| {
            format!("{} is not a findings index of this tool: line {line}: {why}", name.display())
        };
        let mut reader = std::io::BufReader::with_capacity(1 << 20, reader);
        let mut line = Vec::with_capacity(256);
        let mut read_line = |line: &mut Vec<u8>, number: u64| {
            line.clear();
            reader.read_until(b'\n', line).map_err(|e| fail(number, e.to_string()))
        };
        read_line(&mut line, 1)?;
        if line != INDEX_HEADER {
            return Err(fail(
                1,
                format!(
                    "it does not start with {}",
                    String::from_utf8_lossy(&INDEX_HEADER[..INDEX_HEADER.len() - 1])
                ),
            ));
        }
        let mut indexer = Indexer::default();
        let mut count = 0u64;
        loop {
            let number = count + 2;
            if read_line(&mut line, number)? == 0 {
                return Err(fail(number, "the file ends before its end line (cut short?)".into()));
            }
            let Some(text) = line.strip_suffix(b"\n").and_then(|l| std::str::from_utf8(l).ok()) else {
                return Err(fail(number, "not a line of text".into()));
            };
            let fields: Vec<&str> = text.split('\t').collect();
            match fields[..] {
                ["end", total] => {
                    if total.parse::<u64>().ok() != Some(count) {
                        return Err(fail(number, format!("it says {total} findings, it has {count}")));
                    }
                    if read_line(&mut line, number + 1)? != 0 {
                        return Err(fail(number + 1, "more follows the end line".into()));
                    }
                    return Ok(indexer.finish());
                }
                [hex, account, status, first_seen, check] => {
                    let key = match (hex.len(), u128::from_str_radix(hex, 16)) {
                        (32, Ok(key)) => key,
                        _ => return Err(fail(number, format!("`{hex}` is not a 32-digit hex key"))),
                    };
                    let suppressed = match status {
                        "open" => false,
                        "suppressed" => true,
                        _ => return Err(fail(number, format!("`{status}` is not open or suppressed"))),
                    };
                    indexer.add(key, account, suppressed, first_seen, check);
                    count += 1;
                }
                _ => return Err(fail(number, format!("{} fields, not 5", fields.len()))),
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every entry as (key, account, suppressed, first_seen, check), by key: two indexes of one
    /// run compare equal.
    #[cfg(test)]
    pub(crate) fn described(&self) -> Vec<(u128, u64, bool, &str, &str)> {
        let mut all: Vec<_> = self
            .entries
            .iter()
            .map(|e| {
                let first_seen = &*self.first_seen[e.first_seen as usize];
                (e.key, e.account, e.suppressed, first_seen, &*self.checks[e.check as usize])
            })
            .collect();
        all.sort();
        all
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where `key`'s entry is in `entries`.
    fn position(&self, key: u128) -> Option<usize> {
        let bucket = bucket_of(key);
        let (Some(&start), Some(&end)) = (self.starts.get(bucket), self.starts.get(bucket + 1)) else {
            return None;
        };
        let (start, end) = (start as usize, end as usize);
        self.entries[start..end].binary_search_by_key(&key, |e| e.key).ok().map(|at| start + at)
    }

    pub fn get(&self, fingerprint: &str) -> Option<Earlier<'_>> {
        self.position(key(fingerprint)).map(|at| {
            let e = &self.entries[at];
            Earlier {
                ordinal: at as u32,
                first_seen: &self.first_seen[e.first_seen as usize],
                suppressed: e.suppressed,
            }
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
        if let Some(entry) = self.entries.get_mut(ordinal as usize) {
            entry.seen = true;
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
        for e in self.entries.iter().filter(|e| !e.seen) {
            let check = &*self.checks[e.check as usize];
            let judged = audited
                .get(&e.account)
                .is_some_and(|row| !row.checks_without_input.iter().any(|c| c == check));
            if judged { &mut gone.resolved } else { &mut gone.carried_over }.insert(e.key);
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

    /// findings-index.tsv of `findings`, as a run writes it.
    fn index_file(findings: &[Finding]) -> Vec<u8> {
        let mut out = index_header().to_vec();
        for finding in findings {
            assert!(index_line(finding, &mut out));
        }
        out.extend(index_trailer(findings.len() as u64));
        out
    }

    #[test]
    fn the_index_file_holds_what_findings_json_gives_the_comparison() {
        let mut accepted = finding("accepted", "admin-access", B, "2025-01-01T00:00:00Z");
        accepted.status = Status::Suppressed;
        let mut other = finding("other-tool", "wide-trust", A, "t");
        other.fingerprint = "not a sha-256".into();
        let findings = [
            finding("kept", "console-without-mfa", A, "2026-01-01T00:00:00Z"),
            finding("fixed", "stale-access-key", A, "2026-02-01T00:00:00Z"),
            accepted,
            other,
        ];
        let text = index_file(&findings);
        let lines = String::from_utf8(text.clone()).unwrap();
        assert_eq!(lines.lines().count(), 6, "{lines}");
        assert!(lines.contains(&format!(
            "{}\t{B}\tsuppressed\t2025-01-01T00:00:00Z\tadmin-access\n",
            &findings[2].fingerprint[..32]
        )));
        let from_index = PreviousIndex::read_index(text.as_slice(), Path::new("i.tsv")).unwrap();
        let from_json = PreviousIndex::read(previous(&findings).as_slice(), Path::new("f.json")).unwrap();
        assert_eq!(from_index.described().len(), 4);
        assert_eq!(from_index.described(), from_json.described());
        // And the comparison made with either is the same.
        for index in [from_index, from_json] {
            let mut current = [
                finding("kept", "console-without-mfa", A, "2026-03-01T00:00:00Z"),
                finding("accepted", "admin-access", B, "2026-03-01T00:00:00Z"),
            ];
            let marks: Vec<_> = current.iter_mut().map(|f| index.mark(f)).collect();
            assert!(marks.iter().all(Option::is_some));
            assert_eq!(current[0].first_seen, "2026-01-01T00:00:00Z");
            assert_eq!(current[0].change, Change::Persisting);
            assert_eq!(current[1].change, Change::New, "its acceptance lapsed");
        }
    }

    #[test]
    fn an_index_line_is_refused_for_a_field_with_a_tab_or_a_line_break() {
        for first_seen in ["2026\t01", "2026\n01", "2026\r01"] {
            let mut out = b"before".to_vec();
            assert!(!index_line(&finding("x", "admin-access", A, first_seen), &mut out));
            assert_eq!(out, b"before", "nothing appended");
        }
        let mut out = Vec::new();
        assert!(index_line(&finding("x", "admin-access", A, "2026-01-01T00:00:00Z"), &mut out));
    }

    #[test]
    fn a_damaged_index_is_an_error_naming_the_file_and_line() {
        let good = String::from_utf8(index_file(&[
            finding("a", "admin-access", A, "t"),
            finding("b", "admin-access", A, "t"),
        ]))
        .unwrap();
        let lines: Vec<&str> = good.lines().collect();
        let cut_short = format!("{}\n{}\n", lines[0], lines[1]);
        let miscounted = good.replace("end\t2", "end\t3");
        let more_after = format!("{good}{}\n", lines[1]);
        let bad_key = good.replacen(&lines[1][..4], "zzzz", 1);
        let bad_status = good.replacen("\topen\t", "\tclosed\t", 1);
        let few_fields = good.replacen("\tadmin-access", "", 1);
        let not_ours = good.replacen("findings-index/v1", "findings-index/v9", 1);
        for (text, why) in [
            (cut_short.as_str(), "line 3: the file ends before its end line"),
            (&miscounted, "line 4: it says 3 findings, it has 2"),
            (&more_after, "line 5: more follows the end line"),
            (&bad_key, "line 2: `zzzz"),
            (&bad_status, "line 2: `closed` is not open or suppressed"),
            (&few_fields, "line 2: 4 fields, not 5"),
            (&not_ours, "line 1: it does not start with iam-auditor/findings-index/v1"),
            ("", "line 1: it does not start"),
        ] {
            let err = PreviousIndex::read_index(text.as_bytes(), Path::new("/archive/r1/findings-index.tsv"))
                .err()
                .unwrap_or_else(|| panic!("{why}: read as good"));
            assert!(
                err.starts_with("/archive/r1/findings-index.tsv is not a findings index of this tool: ")
                    && err.contains(why),
                "{err}"
            );
        }
        assert!(PreviousIndex::read_index(good.as_bytes(), Path::new("i")).is_ok());
    }

    #[test]
    fn every_key_of_a_large_index_is_found_and_no_other_and_a_repeated_key_keeps_its_last_line() {
        // Keys spread over every bucket, the first and last buckets' edges, several keys in one
        // bucket, and one key twice (its second line wins, as in a table filled in file order).
        let spread = |i: u128| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) ^ (i << 64);
        let mut keys: Vec<u128> = (1..20_000u128).map(spread).collect();
        keys.extend([0, 1, u128::MAX, u128::MAX - 1, 5 << 112, (5 << 112) + 1, (6 << 112) - 1]);
        let mut text = index_header().to_vec();
        let line =
            |key: u128, first_seen: &str| format!("{key:032x}\t{A}\topen\t{first_seen}\tadmin-access\n");
        for &key in &keys {
            text.extend(line(key, "t1").bytes());
        }
        text.extend(line(keys[7], "t2").bytes());
        text.extend(index_trailer(keys.len() as u64 + 1));
        let index = PreviousIndex::read_index(text.as_slice(), Path::new("i.tsv")).unwrap();
        assert_eq!(index.len(), keys.len());
        let fingerprint = |key: u128| format!("{key:032x}{:032x}", 0);
        let mut ordinals = std::collections::BTreeSet::new();
        for &key in &keys {
            let earlier = index.get(&fingerprint(key)).unwrap_or_else(|| panic!("{key:032x} not found"));
            assert_eq!(earlier.first_seen, if key == keys[7] { "t2" } else { "t1" });
            assert!(ordinals.insert(earlier.ordinal), "each key its own place");
        }
        let present: HashSet<u128> = keys.iter().copied().collect();
        let absent = (20_000..40_000u128).map(spread).chain([2, u128::MAX - 2, (5 << 112) + 2, 6 << 112]);
        for key in absent.filter(|k| !present.contains(k)) {
            assert!(index.get(&fingerprint(key)).is_none(), "{key:032x} found but never written");
        }
        // Seen marks land on the entries found: all but one seen leaves that one gone.
        let mut index = index;
        for &key in keys.iter().filter(|&&k| k != u128::MAX) {
            let ordinal = index.get(&fingerprint(key)).unwrap().ordinal;
            index.seen(ordinal);
        }
        let gone = index.gone(&[]);
        assert!(gone.resolved.is_empty());
        assert_eq!(gone.carried_over, HashSet::from([u128::MAX]));
        assert!(PreviousIndex::default().get(&fingerprint(1)).is_none(), "an empty index finds nothing");
    }

    #[test]
    fn keys_take_the_fingerprints_hex_and_hash_anything_else() {
        let fingerprint = crate::findings::fingerprint("c", A, "r", "");
        assert_eq!(key(&fingerprint), u128::from_str_radix(&fingerprint[..32], 16).unwrap());
        assert_ne!(key("not-hex"), key("not-hex-either"));
        assert_eq!(key("not-hex"), key("not-hex"));
    }
}
