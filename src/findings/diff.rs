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
//! 128-bit key per fingerprint, with its `first_seen`, status, account and check) kept on disk
//! grouped by account, whose entries are read back an account at a time as this run compares
//! that account's findings; then, once this run is done and only if some of its findings are
//! gone, its findings.json again to copy out the resolved findings. A filed run keeps that index as a file of its own
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
use std::sync::atomic::{AtomicU64, Ordering};

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

/// What the index keeps of one previous finding (32 bytes in its working file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    key: u128,
    /// The 12-digit account id as a number (u64::MAX for one that is not).
    account: u64,
    /// Its `first_seen`'s place in [`PreviousIndex::first_seen`].
    first_seen: u32,
    /// Its check's place in [`PreviousIndex::checks`].
    check: u32,
    suppressed: bool,
}

/// The bytes an [`Entry`] takes in a working file.
const ENTRY_BYTES: usize = 32;

/// The bit of an entry's stored check number that says it was suppressed.
const SUPPRESSED: u32 = 1 << 31;

impl Entry {
    fn to_bytes(self) -> [u8; ENTRY_BYTES] {
        let mut out = [0; ENTRY_BYTES];
        out[..16].copy_from_slice(&self.key.to_le_bytes());
        out[16..24].copy_from_slice(&self.account.to_le_bytes());
        out[24..28].copy_from_slice(&self.first_seen.to_le_bytes());
        let check = self.check | if self.suppressed { SUPPRESSED } else { 0 };
        out[28..].copy_from_slice(&check.to_le_bytes());
        out
    }

    fn from_bytes(bytes: &[u8]) -> Entry {
        let check = u32::from_le_bytes(bytes[28..32].try_into().expect("4 bytes"));
        Entry {
            key: u128::from_le_bytes(bytes[..16].try_into().expect("16 bytes")),
            account: u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes")),
            first_seen: u32::from_le_bytes(bytes[24..28].try_into().expect("4 bytes")),
            check: check & !SUPPRESSED,
            suppressed: check & SUPPRESSED != 0,
        }
    }
}

/// An account id as the index numbers it: its 12 digits, else u64::MAX.
fn account_number(account_id: &str) -> u64 {
    match account_id.len() {
        12 => account_id.parse().unwrap_or(u64::MAX),
        _ => u64::MAX,
    }
}

/// A working file in the system's temporary folder (TMPDIR), unlinked as soon as it is open:
/// the open file stays usable, and nothing is left behind, even by a killed run.
struct Scratch(std::fs::File);

impl Scratch {
    fn create(what: &str) -> Result<Scratch, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir();
        let path = dir.join(format!("iam-auditor-{what}-{}-{n}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| scratch_error(&dir, e))?;
        let _ = std::fs::remove_file(&path);
        Ok(Scratch(file))
    }

    /// `count` entries from entry `from` on, in pieces of at most 1 MiB.
    fn each_entry(&self, from: u64, count: u64, mut each: impl FnMut(u64, Entry)) -> std::io::Result<()> {
        const PIECE: u64 = (1 << 20) / ENTRY_BYTES as u64;
        let mut bytes = Vec::new();
        let mut at = from;
        while at < from + count {
            let n = PIECE.min(from + count - at);
            bytes.resize(n as usize * ENTRY_BYTES, 0);
            std::os::unix::fs::FileExt::read_exact_at(&self.0, &mut bytes, at * ENTRY_BYTES as u64)?;
            for (i, entry) in bytes.chunks_exact(ENTRY_BYTES).enumerate() {
                each(at + i as u64, Entry::from_bytes(entry));
            }
            at += n;
        }
        Ok(())
    }
}

fn scratch_error(dir: &Path, e: std::io::Error) -> String {
    format!(
        "cannot write the previous run's index in {}: {e}; set TMPDIR to a writable folder with room \
         (32 bytes a previous finding)",
        dir.display()
    )
}

/// The previous run's findings, grouped by account in a working file ([`Scratch`]): this run
/// reads one account's entries while it compares that account's findings, so what it holds
/// does not grow with the organization (at 10,000 accounts, 4.2M findings: 134 MB on disk, a
/// bit a finding in memory). A previous finding is compared with this run's findings of its
/// own account only (a fingerprint names its account, so no other could match it).
#[derive(Default)]
pub struct PreviousIndex {
    /// The entries, by account (None while there are none).
    file: Option<Scratch>,
    /// Each account's number and where its entries start, in order of the numbers.
    accounts: Vec<(u64, u64)>,
    /// Entries in all.
    total: u64,
    /// A bit an entry: seen again in this run (set on the thread that hands accounts over while
    /// workers compare later accounts, hence atomic).
    seen: Vec<AtomicU64>,
    first_seen: Vec<Box<str>>,
    checks: Vec<Box<str>>,
}

/// A previous finding as this run needs it when comparing.
#[derive(Debug)]
pub struct Earlier<'a> {
    pub first_seen: &'a str,
    pub suppressed: bool,
}

/// One account's previous findings, by key (of a key written twice, the last counts).
pub struct AccountEntries<'a> {
    index: &'a PreviousIndex,
    /// By key, then place in the file.
    entries: Vec<(Entry, u64)>,
}

impl AccountEntries<'_> {
    /// The entries of `key`: usually one; more when a file repeated it.
    fn of(&self, key: u128) -> &[(Entry, u64)] {
        let start = self.entries.partition_point(|(e, _)| e.key < key);
        let end = start + self.entries[start..].partition_point(|(e, _)| e.key == key);
        &self.entries[start..end]
    }

    pub fn get(&self, fingerprint: &str) -> Option<Earlier<'_>> {
        self.of(key(fingerprint)).last().map(|(e, _)| Earlier {
            first_seen: &self.index.first_seen[e.first_seen as usize],
            suppressed: e.suppressed,
        })
    }

    /// Marks `finding` new or persisting, carrying `first_seen` over; adds the places of the
    /// previous finding's entries to `matched` (to be passed to [`PreviousIndex::seen`]).
    pub fn mark(&self, finding: &mut Finding, matched: &mut Vec<u64>) {
        let entries = self.of(key(&finding.fingerprint));
        let Some((earlier, _)) = entries.last() else {
            finding.change = Change::New;
            return;
        };
        finding.first_seen = self.index.first_seen[earlier.first_seen as usize].to_string();
        // An accepted risk whose suppression lapsed is news to the reader, however old.
        let lapsed = earlier.suppressed && finding.status == Status::Open;
        finding.change = if lapsed { Change::New } else { Change::Persisting };
        matched.extend(entries.iter().map(|(_, at)| *at));
    }
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

/// Builds a [`PreviousIndex`]: entries are written in the file's order to a working file,
/// then copied account by account into the index's own; each distinct `first_seen` and check
/// gets one number.
struct Indexer {
    staging: std::io::BufWriter<std::fs::File>,
    /// Entries of each account.
    counts: HashMap<u64, u64>,
    total: u64,
    first_seen: HashMap<Box<str>, u32>,
    first_seen_list: Vec<Box<str>>,
    checks: HashMap<Box<str>, u32>,
    checks_list: Vec<Box<str>>,
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
    fn new() -> Result<Indexer, String> {
        let staging = Scratch::create("previous-staging")?;
        Ok(Indexer {
            staging: std::io::BufWriter::with_capacity(1 << 20, staging.0),
            counts: HashMap::new(),
            total: 0,
            first_seen: HashMap::new(),
            first_seen_list: Vec::new(),
            checks: HashMap::new(),
            checks_list: Vec::new(),
        })
    }

    fn add(
        &mut self,
        key: u128,
        account_id: &str,
        suppressed: bool,
        first_seen: &str,
        check: &str,
    ) -> Result<(), String> {
        use std::io::Write;
        let first_seen = number_of(&mut self.first_seen, &mut self.first_seen_list, first_seen);
        let check = number_of(&mut self.checks, &mut self.checks_list, check);
        if check >= SUPPRESSED {
            return Err("it names more than 2^31 distinct checks".into());
        }
        let account = account_number(account_id);
        let entry = Entry { key, account, first_seen, check, suppressed };
        self.staging.write_all(&entry.to_bytes()).map_err(|e| scratch_error(&std::env::temp_dir(), e))?;
        *self.counts.entry(account).or_default() += 1;
        self.total += 1;
        Ok(())
    }

    /// The index: the staged entries copied into a file of their own, each account's together
    /// (in the order they came), a run of one account's consecutive entries at a time.
    fn finish(self) -> Result<PreviousIndex, String> {
        let io = |e: std::io::Error| scratch_error(&std::env::temp_dir(), e);
        let mut index = PreviousIndex {
            first_seen: self.first_seen_list,
            checks: self.checks_list,
            total: self.total,
            seen: (0..self.total.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            ..PreviousIndex::default()
        };
        let staging = self.staging.into_inner().map_err(|e| io(e.into_error()))?;
        if self.total == 0 {
            return Ok(index);
        }
        let mut numbers: Vec<u64> = self.counts.keys().copied().collect();
        numbers.sort_unstable();
        let mut next: HashMap<u64, u64> = HashMap::with_capacity(numbers.len());
        let mut at = 0;
        for number in numbers {
            index.accounts.push((number, at));
            next.insert(number, at);
            at += self.counts[&number];
        }
        let file = Scratch::create("previous-index")?;
        let staged = Scratch(staging);
        // A run of consecutive entries of one account, written with one call (at most 1 MiB).
        const RUN_BYTES: usize = 1 << 20;
        let mut run: Vec<u8> = Vec::with_capacity(RUN_BYTES);
        let mut run_at = 0u64;
        let mut run_account = None;
        let mut error = None;
        let mut flush = |run: &mut Vec<u8>, at: u64| {
            if let Err(e) = std::os::unix::fs::FileExt::write_all_at(&file.0, run, at * ENTRY_BYTES as u64) {
                error.get_or_insert(e);
            }
            run.clear();
        };
        staged
            .each_entry(0, self.total, |_, entry| {
                if run_account != Some(entry.account) || run.len() >= RUN_BYTES {
                    if !run.is_empty() {
                        flush(&mut run, run_at);
                    }
                    run_account = Some(entry.account);
                    run_at = next[&entry.account];
                }
                run.extend_from_slice(&entry.to_bytes());
                *next.get_mut(&entry.account).expect("every account was counted") += 1;
            })
            .map_err(io)?;
        if !run.is_empty() {
            flush(&mut run, run_at);
        }
        if let Some(e) = error {
            return Err(io(e));
        }
        index.file = Some(file);
        Ok(index)
    }
}

impl PreviousIndex {
    /// Reads a findings.json of this tool, one finding at a time.
    pub fn read(reader: impl Read, name: &Path) -> Result<PreviousIndex, String> {
        let mut indexer = Indexer::new()?;
        let mut error = None;
        each_finding(reader, |light: Light| {
            if error.is_some() {
                return;
            }
            let suppressed = light.status == Status::Suppressed;
            let key = key(&light.fingerprint);
            if let Err(e) = indexer.add(key, &light.account_id, suppressed, &light.first_seen, &light.check) {
                error = Some(e);
            }
        })
        .map_err(|e| format!("{} is not a findings.json of this tool: {e}", name.display()))?;
        if let Some(e) = error {
            return Err(format!("{}: {e}", name.display()));
        }
        indexer.finish()
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
        let mut indexer = Indexer::new()?;
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
                    return indexer.finish();
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
                    indexer.add(key, account, suppressed, first_seen, check).map_err(|e| fail(number, e))?;
                    count += 1;
                }
                _ => return Err(fail(number, format!("{} fields, not 5", fields.len()))),
            }
        }
    }

    /// Entries in all (a key written twice counts twice).
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Every entry as (key, account, suppressed, first_seen, check), by key: two indexes of one
    /// run compare equal.
    #[cfg(test)]
    pub(crate) fn described(&self) -> Vec<(u128, u64, bool, &str, &str)> {
        let mut all = Vec::new();
        if let Some(file) = &self.file {
            file.each_entry(0, self.total, |_, e| {
                let first_seen = &*self.first_seen[e.first_seen as usize];
                all.push((e.key, e.account, e.suppressed, first_seen, &*self.checks[e.check as usize]));
            })
            .unwrap();
        }
        all.sort();
        all
    }

    /// Where the entries of account `number` are: (first, count).
    fn range_of(&self, number: u64) -> Option<(u64, u64)> {
        let at = self.accounts.binary_search_by_key(&number, |&(n, _)| n).ok()?;
        let start = self.accounts[at].1;
        let end = self.accounts.get(at + 1).map_or(self.total, |&(_, start)| start);
        Some((start, end - start))
    }

    /// The previous findings of `account_id`, read from the index's file.
    pub fn account(&self, account_id: &str) -> Result<AccountEntries<'_>, String> {
        let mut entries = Vec::new();
        let number = account_number(account_id);
        if let (Some(file), Some((from, count)), false) =
            (&self.file, self.range_of(number), number == u64::MAX)
        {
            entries.reserve(count as usize);
            file.each_entry(from, count, |at, entry| entries.push((entry, at)))
                .map_err(|e| format!("cannot read the previous run's index of account {account_id}: {e}"))?;
            // Stable: of equal keys, the file's last comes last.
            entries.sort_by_key(|(e, _)| e.key);
        }
        Ok(AccountEntries { index: self, entries })
    }

    /// Marks each of `findings` new or persisting (see [`AccountEntries::mark`]), reading each
    /// account's entries once; returns the places of the previous findings seen again.
    pub fn mark_all(&self, findings: &mut [Finding]) -> Result<Vec<u64>, String> {
        let mut order: Vec<usize> = (0..findings.len()).collect();
        order.sort_by(|&a, &b| findings[a].account_id.as_str().cmp(findings[b].account_id.as_str()));
        let mut matched = Vec::new();
        let mut loaded: Option<(u64, AccountEntries)> = None;
        for i in order {
            let account = findings[i].account_id.as_str();
            let number = account_number(account);
            let entries = match loaded.take() {
                Some((n, entries)) if n == number => entries,
                _ => self.account(account)?,
            };
            entries.mark(&mut findings[i], &mut matched);
            loaded = Some((number, entries));
        }
        Ok(matched)
    }

    /// Marks the entry at `at` (from [`AccountEntries::mark`]) seen again.
    pub fn seen(&self, at: u64) {
        if let Some(word) = self.seen.get((at / 64) as usize) {
            word.fetch_or(1 << (at % 64), Ordering::Relaxed);
        }
    }

    fn was_seen(&self, at: u64) -> bool {
        self.seen
            .get((at / 64) as usize)
            .is_some_and(|word| word.load(Ordering::Relaxed) & (1 << (at % 64)) != 0)
    }

    /// The previous findings not seen in this run: resolved where this run judged their
    /// account and check, else carried over.
    pub fn gone(&self, coverage: &[CoverageRow]) -> Result<Gone, String> {
        let audited: HashMap<u64, &CoverageRow> = coverage
            .iter()
            .filter(|row| row.status == CoverageStatus::Audited)
            .map(|row| (account_number(&row.account_id), row))
            .filter(|(number, _)| *number != u64::MAX)
            .collect();
        let mut gone = Gone::default();
        let Some(file) = &self.file else { return Ok(gone) };
        file.each_entry(0, self.total, |at, e| {
            if self.was_seen(at) {
                return;
            }
            let check = &*self.checks[e.check as usize];
            let judged = audited
                .get(&e.account)
                .is_some_and(|row| !row.checks_without_input.iter().any(|c| c == check));
            if judged { &mut gone.resolved } else { &mut gone.carried_over }.insert(e.key);
        })
        .map_err(|e| format!("cannot read the previous run's index back: {e}"))?;
        Ok(gone)
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
    let index = PreviousIndex::read(previous_json, name)?;
    for at in index.mark_all(current)? {
        index.seen(at);
    }
    let gone = index.gone(coverage)?;
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
            let matched = index.mark_all(&mut current).unwrap();
            assert_eq!(matched.len(), 2);
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
    fn each_accounts_entries_are_found_among_interleaved_accounts_and_a_repeated_key_keeps_its_last_line() {
        // 20,000 keys whose accounts take turns in the file (another tool's file may mix them),
        // the edges of the key space, and one key written twice (its second line counts).
        let spread = |i: u128| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) ^ (i << 64);
        let accounts = [A, B, C];
        let mut keys: Vec<(u128, &str)> =
            (1..20_000u128).map(|i| (spread(i), accounts[i as usize % 3])).collect();
        keys.extend([(0, A), (1, B), (u128::MAX, C), (u128::MAX - 1, A)]);
        let twice = keys[6];
        assert_eq!(twice.1, B);
        let mut text = index_header().to_vec();
        let line = |(key, account): (u128, &str), first_seen: &str| {
            format!("{key:032x}\t{account}\topen\t{first_seen}\tadmin-access\n")
        };
        for &key in &keys {
            text.extend(line(key, "t1").bytes());
        }
        text.extend(line(twice, "t2").bytes());
        text.extend(index_trailer(keys.len() as u64 + 1));
        let index = PreviousIndex::read_index(text.as_slice(), Path::new("i.tsv")).unwrap();
        assert_eq!(index.len(), keys.len() as u64 + 1);
        let fingerprint = |key: u128| format!("{key:032x}{:032x}", 0);
        {
            let by_account: Vec<AccountEntries> =
                accounts.iter().map(|a| index.account(a).unwrap()).collect();
            for &(key, account) in &keys {
                for (entries, other) in by_account.iter().zip(accounts) {
                    let found = entries.get(&fingerprint(key));
                    match found {
                        Some(earlier) if other == account => {
                            assert_eq!(earlier.first_seen, if key == twice.0 { "t2" } else { "t1" })
                        }
                        None if other != account => {}
                        _ => panic!("{key:032x} of {account} looked up in {other}: {found:?}"),
                    }
                }
            }
            let present: HashSet<u128> = keys.iter().map(|k| k.0).collect();
            let absent = (20_000..40_000u128).map(spread).chain([2, u128::MAX - 2]);
            for key in absent.filter(|k| !present.contains(k)) {
                assert!(
                    by_account.iter().all(|e| e.get(&fingerprint(key)).is_none()),
                    "{key:032x} found but never written"
                );
            }
            let elsewhere = index.account("444444444444").unwrap();
            assert!(elsewhere.get(&fingerprint(keys[0].0)).is_none(), "an account of no line has nothing");
        }
        // This run sees every finding of A and B again but one of B's; C is not in it.
        let dropped = keys.iter().find(|k| k.1 == B && *k != &twice).unwrap().0;
        let mut current: Vec<Finding> = keys
            .iter()
            .filter(|&&(key, account)| account != C && key != dropped)
            .map(|&(key, account)| Finding {
                fingerprint: fingerprint(key),
                ..finding("x", "admin-access", account, "now")
            })
            .collect();
        let matched = index.mark_all(&mut current).unwrap();
        assert!(current.iter().all(|f| f.change == Change::Persisting && f.first_seen != "now"));
        assert_eq!(matched.len(), current.len() + 1, "the key written twice has two places");
        for at in matched {
            index.seen(at);
        }
        let gone = index
            .gone(&[row(A, CoverageStatus::Audited, &[]), row(B, CoverageStatus::Audited, &[])])
            .unwrap();
        assert_eq!(gone.resolved, HashSet::from([dropped]), "the written-twice key is seen, both its lines");
        let of_c: HashSet<u128> = keys.iter().filter(|k| k.1 == C).map(|k| k.0).collect();
        assert_eq!(gone.carried_over, of_c);
        let empty = PreviousIndex::default();
        assert!(empty.account(A).unwrap().get(&fingerprint(1)).is_none(), "an empty index finds nothing");
        assert!(empty.gone(&[]).unwrap().carried_over.is_empty());
    }

    #[test]
    fn keys_take_the_fingerprints_hex_and_hash_anything_else() {
        let fingerprint = crate::findings::fingerprint("c", A, "r", "");
        assert_eq!(key(&fingerprint), u128::from_str_radix(&fingerprint[..32], 16).unwrap());
        assert_ne!(key("not-hex"), key("not-hex-either"));
        assert_eq!(key("not-hex"), key("not-hex"));
    }
}
