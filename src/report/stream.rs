//! The run's findings and access roster, written as the audit hands them over, one account at
//! a time, so that no structure grows with the whole run's findings (DESIGN.md "Streaming").
//!
//! Each finding is judged (severity overrides, suppressions), compared with the previous run
//! and encoded for findings.json, findings.csv and (when written) findings.ocsf.json while its
//! account is still in hand, on the audit's worker threads. The encoded pieces go to spill files in a hidden folder of the
//! run's output folder, one sequence per group of the report's order (open before suppressed,
//! severity, check); since every check's findings arrive in account-id order, reading the
//! groups back in turn gives the report's order without sorting the run. What stays in
//! memory is counted, not listed: the counts the summary and the charts need, the first
//! findings of each group (all the HTML tables and the digest show), the findings of
//! accounts whose owners get their own digest, each account's roster tally, the admin rows
//! of the first accounts (what the report lists), and who gained or lost admin, found
//! account by account against the previous run's roster.

use super::{Counts, Streamed};
use crate::access::roster::{
    self, AccountJudged, AccountTally, AdminChange, PreviousRoster, RosterRow, Shared,
};
use crate::audit::CoverageStatus;
use crate::audit::{report_order, CoverageRow, Pass, ReportOrder, Sink};
use crate::config::Config;
use crate::findings::diff::{self, GoneAs, PreviousIndex};
use crate::findings::{self, Change, Finding, Status};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The fewest findings kept of each group: what the digest and the report's list of new
/// findings show at most.
pub const SAMPLE_MIN: usize = 100;
const _: () = assert!(SAMPLE_MIN >= super::digest::ROWS_MAX && SAMPLE_MIN >= super::html::NEW_FINDINGS_SHOWN);

/// Bytes a group gathers in memory before they are written to its spill file.
const PIECE: usize = 64 << 10;

/// The same for a spill whose pieces are stored gzip-compressed: each piece is compressed on
/// its own, so larger pieces compress better (findings.json at level 2: 0.084 of its size in
/// 64 KB pieces, 0.074 in 256 KB, 0.070 whole).
const GZIP_PIECE: usize = 192 << 10;

/// The gzip level of a compressed spill's pieces: about 430 MB/s a core on findings.json
/// (level 3: 350 MB/s for a file 7% smaller).
const GZIP_LEVEL: u32 = 2;

/// A file written in groups: each group's bytes come back in the order they went in, groups
/// in their own order, whatever order they were written in.
///
/// A group's bytes gather in memory until they make a piece, which a thread of the spill's own
/// writes to the file: the audit's main thread, which hands every account's findings over one
/// at a time while the workers audit the next accounts, only copies bytes once. (At 10,000
/// accounts the spills take 13 GB; written from the main thread through a buffer they cost it
/// about 35 s of copying.)
///
/// A run filed compressed (`[archive] compress = "gzip"`) stores each piece as a gzip member
/// of its own, compressed by that thread while the audit goes on: the output file is then
/// those members copied as they are (a file of several members is one gzip file, RFC 1952),
/// and the spill holds a tenth of the bytes.
struct Spill {
    path: PathBuf,
    writer: Option<SpillWriter>,
    pending: Vec<Vec<u8>>,
    piece: usize,
    gzip: bool,
}

/// Where one piece of a spill is: its group, where it starts in the file, its length there
/// and its length as written (before compression).
type Placed = (usize, u64, u64, u64);

/// The thread that writes a spill's pieces, in the order they are sent, and says where each
/// went.
struct SpillWriter {
    pieces: std::sync::mpsc::SyncSender<(usize, Vec<u8>)>,
    thread: std::thread::JoinHandle<std::io::Result<Vec<Placed>>>,
}

/// Pieces on their way to the file at most, per spill: 1 MB with 64 KB pieces (3 MB with the
/// 192 KB pieces of a compressed spill).
const PIECES_IN_FLIGHT: usize = 16;

/// `bytes` as one gzip member.
pub fn gzip_member(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 8 + 64),
        flate2::Compression::new(GZIP_LEVEL),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

impl Spill {
    /// A spill of `groups` groups at `path`; `gzip`: its pieces are stored compressed.
    fn create(path: PathBuf, groups: usize, gzip: bool) -> std::io::Result<Spill> {
        let mut file = File::create(&path)?;
        let (pieces, receive) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(PIECES_IN_FLIGHT);
        let thread = std::thread::Builder::new().name("spill writer".into()).spawn(move || {
            let mut placed = Vec::new();
            let mut at = 0;
            for (group, piece) in receive {
                let written = piece.len() as u64;
                let stored = if gzip { gzip_member(&piece)? } else { piece };
                file.write_all(&stored)?;
                let len = stored.len() as u64;
                placed.push((group, at, len, written));
                at += len;
            }
            Ok(placed)
        })?;
        Ok(Spill {
            path,
            writer: Some(SpillWriter { pieces, thread }),
            pending: vec![Vec::new(); groups],
            piece: if gzip { GZIP_PIECE } else { PIECE },
            gzip,
        })
    }

    fn push(&mut self, group: usize, bytes: &[u8]) -> std::io::Result<()> {
        let piece = self.piece;
        let pending = &mut self.pending[group];
        if pending.capacity() == 0 {
            pending.reserve(piece.max(bytes.len()));
        }
        pending.extend_from_slice(bytes);
        if pending.len() >= piece {
            self.write_pending(group)?;
        }
        Ok(())
    }

    fn write_pending(&mut self, group: usize) -> std::io::Result<()> {
        let bytes = std::mem::take(&mut self.pending[group]);
        if bytes.is_empty() {
            return Ok(());
        }
        let sent = match &self.writer {
            Some(writer) => writer.pieces.send((group, bytes)).is_ok(),
            None => false,
        };
        if !sent {
            // The writer stopped: at an error, which says why.
            return Err(self.stop_writer().err().unwrap_or_else(|| {
                std::io::Error::other(format!("{}: its writer stopped", self.path.display()))
            }));
        }
        Ok(())
    }

    /// Waits until every piece sent is written; where they went, or what the writer met.
    fn stop_writer(&mut self) -> std::io::Result<Vec<Placed>> {
        let Some(SpillWriter { pieces, thread }) = self.writer.take() else {
            return Ok(Vec::new());
        };
        drop(pieces);
        thread.join().unwrap_or_else(|_| {
            Err(std::io::Error::other(format!("{}: its writer panicked", self.path.display())))
        })
    }

    fn close(mut self) -> std::io::Result<SpillFile> {
        for group in 0..self.pending.len() {
            self.write_pending(group)?;
        }
        let mut placed = self.stop_writer()?;
        // A group's pieces stay in the order they were sent.
        placed.sort_by_key(|&(group, ..)| group);
        Ok(SpillFile {
            path: std::mem::take(&mut self.path),
            pieces: placed.into_iter().map(|(_, at, len, plain)| (at, len, plain)).collect(),
            gzip: self.gzip,
        })
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        // A spill given up (the run failed): its writer still ends, and the file is closed.
        let _ = self.stop_writer();
    }
}

/// What a streamed run's output files are written to: bytes, and a compressed spill's gzip
/// members as they are stored, when the output is itself a gzip file.
pub trait SpillTarget: Write {
    /// Appends whole gzip members; false (nothing written) when this output is not a gzip
    /// file, and the caller writes their contents instead.
    fn append_members(&mut self, _members: &[u8]) -> std::io::Result<bool> {
        Ok(false)
    }
}

impl SpillTarget for Vec<u8> {}
impl<W: Write> SpillTarget for std::io::BufWriter<W> {}

/// A gzip file written as members: the bytes written are gathered and compressed a member at a
/// time (1 MB of them at most), and a compressed spill's members are appended as they are.
pub struct GzipFile<W: Write> {
    out: W,
    plain: Vec<u8>,
    members: u64,
}

/// Bytes a [`GzipFile`] gathers before it compresses them into a member.
const GZIP_GATHER: usize = 1 << 20;

impl<W: Write> GzipFile<W> {
    pub fn new(out: W) -> GzipFile<W> {
        GzipFile { out, plain: Vec::new(), members: 0 }
    }

    fn member(&mut self) -> std::io::Result<()> {
        if !self.plain.is_empty() {
            self.out.write_all(&gzip_member(&self.plain)?)?;
            self.plain.clear();
            self.members += 1;
        }
        Ok(())
    }

    /// Compresses what is gathered (a file with nothing in it is one empty member: a gzip
    /// file has at least one) and returns the output, flushed.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.member()?;
        if self.members == 0 {
            self.out.write_all(&gzip_member(&[])?)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for GzipFile<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.plain.extend_from_slice(bytes);
        if self.plain.len() >= GZIP_GATHER {
            self.member()?;
        }
        Ok(bytes.len())
    }

    /// Writes out what is compressed so far; what is gathered waits for [`GzipFile::finish`].
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> SpillTarget for GzipFile<W> {
    fn append_members(&mut self, members: &[u8]) -> std::io::Result<bool> {
        self.member()?;
        self.out.write_all(members)?;
        self.members += 1;
        Ok(true)
    }
}

/// A closed spill file, read back in the order of its groups.
#[derive(Debug)]
pub struct SpillFile {
    path: PathBuf,
    /// Where each piece is in the file, its length there, and its length as written.
    pieces: Vec<(u64, u64, u64)>,
    /// The pieces are gzip members.
    gzip: bool,
}

impl SpillFile {
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The pieces are stored gzip-compressed: the output they make is a gzip file.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Copies the file's bytes in group order to `out`, leaving out the first `skip` bytes (of
    /// the bytes as written). A compressed spill's members go to a gzip output as they are,
    /// but the piece a skip cuts into, which is written again; to any other output, their
    /// contents.
    pub fn copy_to(&self, out: &mut impl SpillTarget, mut skip: u64) -> std::io::Result<()> {
        let mut file = File::open(&self.path)?;
        let mut stored = Vec::new();
        for &(at, len, plain) in &self.pieces {
            let cut = skip.min(plain);
            skip -= cut;
            if !self.gzip {
                file.seek(SeekFrom::Start(at + cut))?;
                let copied = std::io::copy(&mut (&mut file).take(len - cut), out)?;
                if copied != len - cut {
                    return Err(self.short());
                }
                continue;
            }
            file.seek(SeekFrom::Start(at))?;
            stored.clear();
            if (&mut file).take(len).read_to_end(&mut stored)? as u64 != len {
                return Err(self.short());
            }
            if cut == 0 && out.append_members(&stored)? {
                continue;
            }
            let mut contents = Vec::with_capacity(plain as usize);
            flate2::read::GzDecoder::new(stored.as_slice()).read_to_end(&mut contents)?;
            if contents.len() as u64 != plain {
                return Err(self.short());
            }
            out.write_all(&contents[cut as usize..])?;
        }
        Ok(())
    }

    fn short(&self) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("{} is shorter than what was written to it", self.path.display()),
        )
    }
}

/// findings-index.tsv as the run writes it: a spill of one group, which holds the file's lines
/// in order and is moved into place when the run's findings are all in.
struct IndexOut {
    spill: Spill,
    path: PathBuf,
    count: u64,
    /// Every finding's line could be written (see [`diff::index_line`]).
    usable: bool,
}

impl IndexOut {
    /// Ends the file and moves it into place; a run with a finding the index cannot carry keeps
    /// none (the next run then reads its findings.json), with a warning.
    fn file(mut self) -> std::io::Result<()> {
        if !self.usable {
            tracing::warn!(
                event = "no-findings-index",
                "a finding's check or first_seen holds a tab or a line break, which {} cannot carry: \
                 the run keeps no index, and the next run compares with its findings.json instead",
                diff::INDEX
            );
            let closed = self.spill.close()?;
            return std::fs::remove_file(&closed.path);
        }
        self.spill.push(0, &diff::index_trailer(self.count))?;
        let closed = self.spill.close()?;
        std::fs::rename(&closed.path, &self.path)
    }
}

/// One finding as findings.json's `findings` array holds it: `,` and a new line first (the
/// first one's comma is left out when the array is written), indented as the array's element.
fn json_piece(finding: &Finding, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\n    ");
    let mut serializer = serde_json::Serializer::with_formatter(out, Nested::at_depth(2));
    serde::Serialize::serialize(finding, &mut serializer).expect("a finding serialises");
}

/// serde_json's pretty layout (two spaces a level, `": "` after a key) for a value that sits
/// `depth` levels into a document: findings.json's findings are two levels in. It lays the
/// value out as it encodes, where indenting the encoded text afterwards would read every
/// byte again.
struct Nested {
    depth: usize,
    /// The array or object just closed had members: its closing bracket goes on a line of
    /// its own.
    had_members: bool,
}

impl Nested {
    fn at_depth(depth: usize) -> Nested {
        Nested { depth, had_members: false }
    }

    fn new_line<W: ?Sized + Write>(&self, out: &mut W) -> std::io::Result<()> {
        out.write_all(b"\n")?;
        (0..self.depth).try_for_each(|_| out.write_all(b"  "))
    }

    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.had_members = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.had_members {
            self.new_line(out)?;
        }
        out.write_all(bracket)
    }

    fn member<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.new_line(out)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> std::io::Result<()> {
        self.member(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> std::io::Result<()> {
        self.had_members = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> std::io::Result<()> {
        self.member(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> std::io::Result<()> {
        self.had_members = true;
        Ok(())
    }
}

/// One account's findings and roster rows, judged and encoded (made on a worker thread).
pub struct Prepared {
    findings: Vec<(usize, Finding)>,
    json: Vec<u8>,
    csv: Vec<u8>,
    /// findings.ocsf.json's lines (empty when the run writes no OCSF).
    ocsf: Vec<u8>,
    /// findings-index.tsv's lines; None when the run keeps no index, or when a finding's
    /// fields cannot be written there (the run then keeps none).
    index: Option<Vec<u8>>,
    /// Per run of one group: the group and where its bytes end in `json`, `csv` and `ocsf`.
    runs: Vec<(usize, [usize; 3])>,
    /// Previous findings seen again (their places in the previous run's index).
    matched: Vec<u64>,
    roster_csv: Vec<u8>,
    /// The account's admin rows, as many as the report lists of one account.
    roster_kept: Vec<RosterRow>,
    /// The account and its roster in numbers.
    roster_tally: (String, AccountTally),
    admin_changes: Vec<AdminChange>,
    /// The account's page could not be written, or its previous roster read.
    error: Option<String>,
}

/// What this run's roster is compared with: the previous run's roster, and whether this run
/// collected Identity Center (else its people are not judged, and not lost).
#[derive(Clone, Copy)]
pub struct RosterBaseline<'a> {
    pub previous: Option<&'a PreviousRoster>,
    pub identity_center: bool,
}

/// What the stream kept, once the audit is done.
pub struct StreamOutput {
    pub counts: Counts,
    /// The first findings of each group of the report's order, and every finding of the
    /// accounts kept whole, in the report's order.
    pub findings: Vec<Finding>,
    /// The first resolved findings of each group, in the previous run's order.
    pub resolved: Vec<Finding>,
    pub resolved_total: usize,
    /// The first carried-over findings of each group (not re-checked this run), likewise.
    pub carried_over: Vec<Finding>,
    pub carried_over_total: usize,
    /// The admin rows the report lists: those of the first accounts.
    pub roster: Vec<RosterRow>,
    /// Every account's roster in numbers.
    pub roster_tally: std::collections::BTreeMap<String, AccountTally>,
    /// Who gained and who lost admin since the previous run, in the report's order.
    pub admin_changes: Vec<AdminChange>,
    pub streamed: Streamed,
    /// The resolved and carried-over findings could not be read back from the previous run
    /// (the run goes on).
    pub resolved_error: Option<String>,
    /// Every account has its page in `accounts/`.
    pub account_pages: bool,
    /// How long the resolved findings had been open.
    pub fix_times: super::trend::FixTimes,
}

pub struct FindingStream<'a> {
    config: &'a Config,
    as_of: DateTime<Utc>,
    /// The run id and as-of instant findings.csv's rows carry.
    run: super::csv::RunCells,
    order: ReportOrder,
    previous: Option<PreviousIndex>,
    baseline: RosterBaseline<'a>,
    roster_as_of: Shared,
    dir: PathBuf,
    /// What findings.ocsf.json's lines share, when the run writes it.
    ocsf: Option<super::ocsf::Context>,
    /// The run keeps findings-index.tsv (a filed run).
    indexing: bool,
    /// The large files are written gzip-compressed.
    gzip: bool,
    pages: Option<super::pages::AccountPages>,
    /// What the accounts handed over made: taken by [`Sink::append`] on the audit's calling
    /// thread, while the workers prepare later accounts with the rest.
    out: Mutex<Out>,
}

/// The spill files and what the stream keeps, as accounts are handed over.
struct Out {
    json: Spill,
    csv: Spill,
    roster: Spill,
    /// findings.ocsf.json's lines, when the run writes it.
    ocsf: Option<Spill>,
    /// findings-index.tsv, when the run keeps it.
    index: Option<IndexOut>,
    counts: Counts,
    sample: Vec<Finding>,
    sample_cap: usize,
    new_cap: usize,
    kept: Vec<usize>,
    kept_new: Vec<usize>,
    whole: BTreeSet<String>,
    roster_kept: Vec<RosterRow>,
    roster_tally: std::collections::BTreeMap<String, AccountTally>,
    admin_changes: Vec<AdminChange>,
    error: Option<std::io::Error>,
}

impl<'a> FindingStream<'a> {
    /// A stream spilling into `dir` (created; removed with the run's [`Streamed`]) for run
    /// `run_id`. It keeps the first `caps.0` findings of each group, the first `caps.1` new
    /// ones, and every finding of the `whole` accounts. `gzip`: the large files are written
    /// gzip-compressed (a run filed compressed), their spills compressed piece by piece.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dir: &Path,
        config: &'a Config,
        run_id: &str,
        as_of: DateTime<Utc>,
        previous: Option<PreviousIndex>,
        baseline: RosterBaseline<'a>,
        caps: (usize, usize),
        whole: BTreeSet<String>,
        gzip: bool,
    ) -> std::io::Result<FindingStream<'a>> {
        std::fs::create_dir_all(dir)?;
        let groups = ReportOrder::GROUPS;
        let as_of_text = as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(FindingStream {
            config,
            as_of,
            run: super::csv::RunCells { run_id: run_id.to_string(), as_of: as_of_text.clone() },
            order: report_order(),
            previous,
            baseline,
            roster_as_of: as_of_text.into(),
            dir: dir.to_path_buf(),
            gzip,
            ocsf: None,
            indexing: false,
            pages: None,
            out: Mutex::new(Out {
                json: Spill::create(dir.join("findings.json.spill"), groups, gzip)?,
                csv: Spill::create(dir.join("findings.csv.spill"), groups, gzip)?,
                roster: Spill::create(dir.join("access-roster.csv.spill"), 1, gzip)?,
                ocsf: None,
                index: None,
                counts: Counts::default(),
                sample: Vec::new(),
                sample_cap: caps.0,
                new_cap: caps.1,
                kept: vec![0; groups],
                kept_new: vec![0; groups],
                whole,
                roster_kept: Vec::new(),
                roster_tally: Default::default(),
                admin_changes: Vec::new(),
                error: None,
            }),
        })
    }

    /// Also writes every account's page (see [`super::pages`]).
    pub fn with_pages(mut self, pages: super::pages::AccountPages) -> FindingStream<'a> {
        self.pages = Some(pages);
        self
    }

    /// Also encodes findings.ocsf.json (see [`super::ocsf`]).
    pub fn with_ocsf(mut self, context: super::ocsf::Context) -> std::io::Result<FindingStream<'a>> {
        let spill = Spill::create(self.dir.join("findings.ocsf.json.spill"), ReportOrder::GROUPS, self.gzip)?;
        self.ocsf = Some(context);
        self.out_mut().ocsf = Some(spill);
        Ok(self)
    }

    /// Also writes findings-index.tsv ([`diff::INDEX`]) at `path`, what the next run compares
    /// with: each finding's line as its account is handed over, then the carried-over ones'.
    pub fn with_index(mut self, path: &Path) -> std::io::Result<FindingStream<'a>> {
        let mut spill = Spill::create(self.dir.join("findings-index.tsv.spill"), 1, self.gzip)?;
        spill.push(0, diff::index_header())?;
        // Compressed, it is already the file the archive stores.
        let path = match self.gzip {
            true => path.with_file_name(format!("{}.gz", diff::INDEX)),
            false => path.to_path_buf(),
        };
        self.indexing = true;
        self.out_mut().index = Some(IndexOut { spill, path, count: 0, usable: true });
        Ok(self)
    }

    fn out_mut(&mut self) -> &mut Out {
        self.out.get_mut().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes the spill files, reads the resolved and carried-over findings out of the previous run's
    /// findings.json (`previous_file`), and returns what was kept.
    pub fn finish(
        self,
        coverage: &[CoverageRow],
        previous_file: Option<&Path>,
    ) -> Result<StreamOutput, String> {
        let FindingStream { as_of, order, previous, dir, ocsf: ocsf_context, gzip, pages, out, .. } = self;
        let Out {
            json,
            csv,
            roster,
            ocsf,
            index: mut index_out,
            counts,
            mut sample,
            roster_kept,
            roster_tally,
            mut admin_changes,
            sample_cap,
            error,
            ..
        } = out.into_inner().unwrap_or_else(PoisonError::into_inner);
        let io = |e: std::io::Error| format!("cannot write the run's spill files in {}: {e}", dir.display());
        if let Some(e) = error {
            return Err(io(e));
        }
        let (json, csv, roster) =
            (json.close().map_err(io)?, csv.close().map_err(io)?, roster.close().map_err(io)?);
        let mut resolved_spill = Spill::create(dir.join("resolved.json.spill"), 1, gzip).map_err(io)?;
        let mut carried_spill = Spill::create(dir.join("carried-over.json.spill"), 1, gzip).map_err(io)?;
        // Resolved findings' events (group 0), then carried-over ones' (group 1).
        let (ocsf, mut ocsf_gone) = match ocsf_context.zip(ocsf) {
            Some((context, spill)) => (
                Some(spill.close().map_err(io)?),
                Some((context, Spill::create(dir.join("gone.ocsf.json.spill"), 2, gzip).map_err(io)?)),
            ),
            None => (None, None),
        };
        let (mut resolved, mut carried_over) = (Vec::new(), Vec::new());
        let (mut resolved_total, mut carried_over_total) = (0, 0);
        let mut resolved_error = None;
        let mut fix_times = super::trend::FixTimes::default();
        if let (Some(index), Some(path)) = (previous, previous_file) {
            let gone = index.gone(coverage);
            drop(index);
            let gone = gone.unwrap_or_else(|e| {
                resolved_error = Some(e);
                diff::Gone::default()
            });
            let mut kept = [vec![0usize; ReportOrder::GROUPS], vec![0usize; ReportOrder::GROUPS]];
            let mut piece = Vec::new();
            let mut write_error = None;
            let read = crate::deliver::archive::open_maybe_gzip(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|file| {
                    diff::read_gone(file, path, &gone, |finding, as_what| {
                        if as_what == GoneAs::Resolved {
                            fix_times.add(&finding, as_of);
                        }
                        let (spill, total, list, kept, standing) = match as_what {
                            GoneAs::Resolved => (
                                &mut resolved_spill,
                                &mut resolved_total,
                                &mut resolved,
                                &mut kept[0],
                                super::ocsf::Standing::Resolved,
                            ),
                            GoneAs::CarriedOver => (
                                &mut carried_spill,
                                &mut carried_over_total,
                                &mut carried_over,
                                &mut kept[1],
                                super::ocsf::Standing::CarriedOver,
                            ),
                        };
                        *total += 1;
                        piece.clear();
                        json_piece(&finding, &mut piece);
                        if let Err(e) = spill.push(0, &piece) {
                            write_error.get_or_insert(e);
                        }
                        // Carried over, it is compared with again next run.
                        let index = index_out.as_mut().filter(|i| i.usable && as_what == GoneAs::CarriedOver);
                        if let Some(index) = index {
                            piece.clear();
                            index.usable = diff::index_line(&finding, &mut piece);
                            index.count += 1;
                            if let Err(e) = index.spill.push(0, &piece) {
                                write_error.get_or_insert(e);
                            }
                        }
                        if let Some((context, ocsf)) = &mut ocsf_gone {
                            piece.clear();
                            super::ocsf::line_into(context, &finding, standing, &mut piece);
                            let group = usize::from(standing == super::ocsf::Standing::CarriedOver);
                            if let Err(e) = ocsf.push(group, &piece) {
                                write_error.get_or_insert(e);
                            }
                        }
                        let group = order.group(&finding);
                        if kept[group] < sample_cap {
                            kept[group] += 1;
                            list.push(finding);
                        }
                    })
                });
            if let Some(e) = write_error {
                return Err(io(e));
            }
            resolved_error = resolved_error.or(read.err());
        }
        if let Some(index) = index_out {
            index.file().map_err(io)?;
        }
        let resolved_json = resolved_spill.close().map_err(io)?;
        let carried_json = carried_spill.close().map_err(io)?;
        let ocsf_gone = match ocsf_gone {
            Some((_, spill)) => Some(spill.close().map_err(io)?),
            None => None,
        };
        sample.sort_by(|a, b| order.compare(a, b));
        Ok(StreamOutput {
            counts,
            findings: sample,
            resolved,
            resolved_total,
            carried_over,
            carried_over_total,
            roster: roster_kept,
            roster_tally,
            admin_changes: {
                roster::sort_changes(&mut admin_changes);
                admin_changes
            },
            streamed: Streamed { dir, json, csv, resolved_json, carried_json, roster, ocsf, ocsf_gone },
            resolved_error,
            account_pages: pages.is_some(),
            fix_times,
        })
    }
}

impl Out {
    fn keep(&mut self, group: usize, finding: Finding) {
        let new_open = finding.change == Change::New && finding.status == Status::Open;
        let first = self.kept[group] < self.sample_cap;
        let first_new = new_open && self.kept_new[group] < self.new_cap;
        if first {
            self.kept[group] += 1;
        }
        if first_new {
            self.kept_new[group] += 1;
        }
        if first || first_new || self.whole.contains(finding.account_id.as_str()) {
            self.sample.push(finding);
        }
    }

    /// Writes an account's encoded pieces (`findings` of them) to the spill files.
    fn append_io(&mut self, prepared: Prepared, findings: usize) -> std::io::Result<()> {
        let mut at = [0; 3];
        for &(group, end) in &prepared.runs {
            self.json.push(group, &prepared.json[at[0]..end[0]])?;
            self.csv.push(group, &prepared.csv[at[1]..end[1]])?;
            if let Some(ocsf) = &mut self.ocsf {
                ocsf.push(group, &prepared.ocsf[at[2]..end[2]])?;
            }
            at = end;
        }
        self.roster.push(0, &prepared.roster_csv)?;
        if let Some(index) = &mut self.index {
            match &prepared.index {
                Some(lines) if index.usable => {
                    index.spill.push(0, lines)?;
                    index.count += findings as u64;
                }
                _ => index.usable = false,
            }
        }
        Ok(())
    }
}

impl Sink for FindingStream<'_> {
    type Prepared = Prepared;

    fn spill_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    fn prepare(
        &self,
        account: &CoverageRow,
        pass: Pass,
        mut findings: Vec<Finding>,
        mut rows: Vec<RosterRow>,
    ) -> Prepared {
        let account_id = account.account_id.as_str();
        findings::policy::apply(self.config, self.as_of, &mut findings);
        let (matched, previous_error) = match &self.previous {
            Some(previous) => match previous.mark_all(&mut findings) {
                Ok(matched) => (matched, None),
                Err(e) => (Vec::new(), Some(e)),
            },
            None => (Vec::new(), None),
        };
        let mut grouped: Vec<(usize, Finding)> =
            findings.into_iter().map(|f| (self.order.group(&f), f)).collect();
        grouped.sort_by(|(ga, a), (gb, b)| ga.cmp(gb).then_with(|| ReportOrder::within_group(a, b)));
        // Sized once for the account's findings (about 1.7 KB of JSON and 1.3 KB of CSV each
        // on the bench's organization), not grown by doubling, which copies what is written
        // so far at every step.
        let mut json = Vec::with_capacity(grouped.len() * 2048);
        let mut csv = super::csv::RowWriter::with_capacity(grouped.len() * 1536);
        let mut ocsf = Vec::with_capacity(if self.ocsf.is_some() { grouped.len() * 2048 } else { 0 });
        let mut index = self.indexing.then(|| Vec::with_capacity(grouped.len() * 96));
        let mut runs = Vec::<(usize, [usize; 3])>::new();
        for (group, finding) in &grouped {
            json_piece(finding, &mut json);
            csv.row(super::csv::finding_cells(&self.run, finding));
            if let Some(context) = &self.ocsf {
                super::ocsf::line_into(context, finding, super::ocsf::Standing::Current, &mut ocsf);
            }
            if let Some(lines) = &mut index {
                if !diff::index_line(finding, lines) {
                    index = None;
                }
            }
            let end = [json.len(), csv.written(), ocsf.len()];
            match runs.last_mut() {
                Some(run) if run.0 == *group => run.1 = end,
                _ => runs.push((*group, end)),
            }
        }
        let judged = AccountJudged {
            iam: account.status == CoverageStatus::Audited && account.inventory.is_some(),
            identity_center: self.baseline.identity_center,
        };
        let compared = match pass {
            Pass::First => Ok(Vec::new()),
            Pass::Late => roster::compare_account(
                account_id,
                &mut rows,
                self.baseline.previous,
                &self.roster_as_of,
                judged,
            )
            .map_err(|e| {
                format!("cannot read the previous run's access roster of account {account_id}: {e}")
            }),
        };
        let mut roster_csv = Vec::new();
        super::csv::rows_into(&mut roster_csv, rows.iter().map(super::csv::roster_cells));
        let page_error = self.pages.as_ref().and_then(|pages| match pass {
            Pass::First => pages.first(account, &grouped).err(),
            Pass::Late => pages.late(account, &grouped, &rows).err(),
        });
        let mut tally = AccountTally::default();
        rows.iter().for_each(|row| tally.add(row));
        let roster_kept = rows
            .into_iter()
            .filter(|row| row.admin_equivalent.is_admin())
            .take(super::html::ROSTER_ROWS_PER_ACCOUNT)
            .collect();
        let (admin_changes, error) = match compared {
            Ok(changes) => (changes, previous_error.or(page_error)),
            Err(e) => (Vec::new(), Some(e)),
        };
        Prepared {
            findings: grouped,
            json,
            csv: csv.into_bytes(),
            ocsf,
            index,
            runs,
            matched,
            roster_csv,
            roster_kept,
            roster_tally: (account_id.to_string(), tally),
            admin_changes,
            error,
        }
    }

    fn append(&self, mut prepared: Prepared) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let out = &mut *out;
        if out.error.is_none() {
            let findings = std::mem::take(&mut prepared.findings);
            let roster_kept = std::mem::take(&mut prepared.roster_kept);
            let matched = std::mem::take(&mut prepared.matched);
            let (account, tally) = std::mem::take(&mut prepared.roster_tally);
            if tally.rows > 0 {
                // A copy made here: the worker's string would hold its page of transient work.
                out.roster_tally.insert(account.as_str().to_owned(), tally);
            }
            out.admin_changes.append(&mut prepared.admin_changes);
            if let Some(message) = prepared.error.take() {
                out.error = Some(std::io::Error::other(message));
                return;
            }
            if let Err(e) = out.append_io(prepared, findings.len()) {
                out.error = Some(e);
                return;
            }
            for (group, finding) in findings {
                out.counts.add(&finding);
                out.keep(group, finding);
            }
            if let Some(previous) = &self.previous {
                for at in matched {
                    previous.seen(at);
                }
            }
            // The report lists the admin rows of its first accounts only (ROSTER_ROWS_MAX
            // rows in all, the account that passes it included).
            if out.roster_kept.len() <= super::html::ROSTER_ROWS_MAX {
                out.roster_kept.extend(roster_kept);
            }
        }
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
