//! The local compliance archive: `ARCHIVE/<run id>/` with the run's files and a
//! `SHA256SUMS` (`sha256sum -c` compatible) written last.
//!
//! A run is assembled under a hidden temporary name and renamed into place when complete, so
//! a folder with a run id as its name is always a whole run; an earlier run is never
//! overwritten. Files are readable by owner and group only. The previous run (for the
//! diff) is the newest complete one. Retention (`keep_runs`) never removes the newest.

use crate::report::trend::{self, History};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error(
    "archive {path}: {action}: {source} (check that the [archive] dir exists and this user may write to it)"
)]
pub struct ArchiveError {
    pub path: PathBuf,
    pub action: &'static str,
    pub source: std::io::Error,
}

fn fail<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> ArchiveError + 'a {
    move |source| ArchiveError { path: path.to_path_buf(), action, source }
}

pub const CHECKSUMS: &str = "SHA256SUMS";

/// The files an archive stores gzip-compressed (`name.gz`) unless `[archive] compress = "none"`:
/// the ones that grow with the organization. report.html and the digests stay as they are, to
/// open straight from the archive.
pub const COMPRESSED: [&str; 5] = [
    "findings.json",
    "findings.csv",
    "access-roster.csv",
    "findings.ocsf.json",
    crate::findings::diff::INDEX,
];

/// The name a run's file has in the archive.
pub fn archived_name(name: &str, compress: bool) -> String {
    if compress && COMPRESSED.contains(&name) {
        format!("{name}.gz")
    } else {
        name.to_string()
    }
}

/// Where a run's file is in `dir`: `name` as written, else `name.gz`; None when neither is.
pub fn run_file(dir: &Path, name: &str) -> Option<PathBuf> {
    [name.to_string(), format!("{name}.gz")]
        .into_iter()
        .map(|candidate| dir.join(candidate))
        .find(|p| p.is_file())
}

/// Opens a run's file, `name` or `name.gz`, for reading (decompressed).
pub fn open_run_file(dir: &Path, name: &str) -> std::io::Result<Option<(PathBuf, Box<dyn std::io::Read>)>> {
    let Some(path) = run_file(dir, name) else { return Ok(None) };
    let reader = open_maybe_gzip(&path)?;
    Ok(Some((path, reader)))
}

/// A file for reading, decompressed when its name ends in `.gz`.
pub fn open_maybe_gzip(path: &Path) -> std::io::Result<Box<dyn std::io::Read>> {
    let file = std::io::BufReader::with_capacity(1 << 20, fs::File::open(path)?);
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// Compresses `name` into `name.gz` beside it and removes `name`.
fn gzip_in_place(dir: &Path, name: &str) -> std::io::Result<()> {
    let source = dir.join(name);
    let target = dir.join(format!("{name}.gz"));
    let mut input = std::io::BufReader::with_capacity(1 << 20, fs::File::open(&source)?);
    let output = std::io::BufWriter::with_capacity(1 << 20, fs::File::create(&target)?);
    let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::new(3));
    std::io::copy(&mut input, &mut encoder)?;
    let mut output = encoder.finish()?;
    std::io::Write::flush(&mut output)?;
    fs::remove_file(&source)
}

pub struct LocalArchive {
    root: PathBuf,
}

/// A run being written: files go into [`PendingRun::dir`], then [`PendingRun::commit`].
pub struct PendingRun {
    partial: PathBuf,
    target: PathBuf,
}

impl LocalArchive {
    /// The archive at `root`; the folder is made when the first run is filed.
    pub fn open(root: &Path) -> LocalArchive {
        LocalArchive { root: root.to_path_buf() }
    }

    /// Complete runs (folders holding SHA256SUMS), oldest first; run ids sort by time.
    pub fn complete_runs(&self) -> Result<Vec<String>, ArchiveError> {
        if !self.root.exists() {
            return Ok(Vec::new());
        }
        let entries = fs::read_dir(&self.root).map_err(fail(&self.root, "cannot list the folder"))?;
        let mut runs: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().join(CHECKSUMS).is_file())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|name| !name.starts_with('.'))
            .collect();
        runs.sort();
        Ok(runs)
    }

    /// The summaries of the newest `count` complete runs, oldest first, for the trend; a run
    /// whose summary cannot be read is left out, with why.
    pub fn history(&self, count: usize) -> Result<History, ArchiveError> {
        let runs = self.complete_runs()?;
        let newest = &runs[runs.len().saturating_sub(count)..];
        Ok(History::gather(newest, |run| {
            let dir = self.root.join(run);
            trend::read_run(|name| {
                let found = open_run_file(&dir, name)
                    .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display()))?;
                Ok(found.map(|(path, reader)| (path.display().to_string(), reader)))
            })
        }))
    }

    /// The newest complete run's folder, if any.
    pub fn previous_run(&self) -> Result<Option<PathBuf>, ArchiveError> {
        Ok(self.complete_runs()?.pop().map(|id| self.root.join(id)))
    }

    /// Starts a run. Its folder name is `run_id`, or `run_id-2`, … if that exists already.
    pub fn begin(&self, run_id: &str) -> Result<PendingRun, ArchiveError> {
        fs::create_dir_all(&self.root).map_err(fail(&self.root, "cannot create the folder"))?;
        let name = free_name(run_id, |name| {
            self.root.join(name).exists() || self.root.join(format!(".{name}.partial")).exists()
        });
        let partial = self.root.join(format!(".{name}.partial"));
        fs::create_dir(&partial).map_err(fail(&partial, "cannot create the run's temporary folder"))?;
        restrict(&partial, true).map_err(fail(&partial, "cannot set permissions"))?;
        Ok(PendingRun { partial, target: self.root.join(name) })
    }

    /// Removes the oldest complete runs beyond `keep` (at least the newest one stays).
    pub fn apply_retention(&self, keep: u32) -> Result<Vec<String>, ArchiveError> {
        let runs = self.complete_runs()?;
        let keep = (keep.max(1) as usize).min(runs.len());
        let doomed = &runs[..runs.len() - keep];
        for id in doomed {
            let dir = self.root.join(id);
            fs::remove_dir_all(&dir).map_err(fail(&dir, "cannot remove an old run"))?;
        }
        Ok(doomed.to_vec())
    }
}

impl PendingRun {
    pub fn dir(&self) -> &Path {
        &self.partial
    }

    /// Where the run will be once committed.
    pub fn final_dir(&self) -> &Path {
        &self.target
    }

    /// Copies a folder (the snapshot, as evidence) into the run under `name`.
    pub fn add_folder(&self, source: &Path, name: &str) -> Result<(), ArchiveError> {
        copy_tree(source, &self.partial.join(name))
    }

    /// Compresses the large files (when `compress`), restricts permissions, writes SHA256SUMS
    /// last (over the files as stored), and renames the run into place.
    pub fn commit(mut self, compress: bool) -> Result<PathBuf, ArchiveError> {
        if compress {
            let present: Vec<&str> =
                COMPRESSED.iter().copied().filter(|n| self.partial.join(n).is_file()).collect();
            let results: Vec<(String, std::io::Result<()>)> = std::thread::scope(|scope| {
                let jobs: Vec<_> = present
                    .iter()
                    .map(|name| (name.to_string(), scope.spawn(|| gzip_in_place(&self.partial, name))))
                    .collect();
                jobs.into_iter()
                    .map(|(name, job)| {
                        (name, job.join().unwrap_or_else(|_| Err(std::io::Error::other("panicked"))))
                    })
                    .collect()
            });
            for (name, result) in results {
                let path = self.partial.join(&name);
                result.map_err(fail(&path, "cannot compress"))?;
            }
        }
        restrict_tree(&self.partial).map_err(fail(&self.partial, "cannot set permissions"))?;
        let files = run_files(&self.partial).map_err(fail(&self.partial, "cannot list the run"))?;
        let mut sums = String::new();
        for relative in &files {
            let path = self.partial.join(relative);
            let digest = sha256_file(&path).map_err(fail(&path, "cannot read back"))?;
            sums.push_str(&format!("{digest}  {relative}\n"));
        }
        let checksums = self.partial.join(CHECKSUMS);
        fs::write(&checksums, sums).map_err(fail(&checksums, "cannot write"))?;
        restrict(&checksums, false).map_err(fail(&checksums, "cannot set permissions"))?;
        fs::rename(&self.partial, &self.target)
            .map_err(fail(&self.target, "cannot move the run into place"))?;
        Ok(std::mem::take(&mut self.target))
    }
}

/// A run that was never filed (the audit or its reports failed: a full disk, an unreadable
/// snapshot) leaves nothing behind: its half-written folder, which may hold gigabytes of
/// findings, would otherwise keep the disk full for the next run, and it is not evidence.
impl Drop for PendingRun {
    fn drop(&mut self) {
        if !self.partial.exists() {
            return;
        }
        match fs::remove_dir_all(&self.partial) {
            Ok(()) => tracing::warn!(
                event = "unfiled-run-removed",
                "the run was not filed; its unfinished folder {} was removed",
                self.partial.display()
            ),
            Err(error) => tracing::warn!(
                event = "unfiled-run-left",
                "the run was not filed, and its unfinished folder {} could not be removed ({error}): remove it by hand",
                self.partial.display()
            ),
        }
    }
}

/// `base`, or `base-2`, `base-3` … : the first name `taken` says is free.
pub fn free_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|n| if n == 1 { base.to_string() } else { format!("{base}-{n}") })
        .find(|name| !taken(name))
        .unwrap_or_else(|| base.to_string())
}

/// The files of a run folder, relative to it with `/` separators, in name order.
pub fn run_files(root: &Path) -> std::io::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(relative) = path.strip_prefix(root) {
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    files.sort();
    Ok(files)
}

/// Owner and group only, for everything below `dir`.
fn restrict_tree(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let is_dir = entry.file_type()?.is_dir();
        restrict(&entry.path(), is_dir)?;
        if is_dir {
            restrict_tree(&entry.path())?;
        }
    }
    Ok(())
}

fn copy_tree(source: &Path, target: &Path) -> Result<(), ArchiveError> {
    fs::create_dir_all(target).map_err(fail(target, "cannot create"))?;
    for entry in fs::read_dir(source).map_err(fail(source, "cannot read the snapshot"))? {
        let entry = entry.map_err(fail(source, "cannot read the snapshot"))?;
        let from = entry.path();
        let to = target.join(entry.file_name());
        if from.is_dir() {
            copy_tree(&from, &to)?;
        } else if from.is_file() {
            fs::copy(&from, &to).map_err(fail(&from, "cannot copy into the archive"))?;
        }
    }
    Ok(())
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Owner and group only: 0750 for folders, 0640 for files.
#[cfg(unix)]
fn restrict(path: &Path, is_dir: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(if is_dir { 0o750 } else { 0o640 }))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _is_dir: bool) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_run(archive: &LocalArchive, id: &str) -> PathBuf {
        let run = archive.begin(id).unwrap();
        fs::write(run.dir().join("findings.json"), format!("{{\"run\":{{\"id\":\"{id}\"}}}}")).unwrap();
        run.commit(false).unwrap()
    }

    #[test]
    fn a_run_never_filed_leaves_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let archive = LocalArchive::open(root.path());
        let run = archive.begin("20261123T000000Z").unwrap();
        let partial = run.dir().to_path_buf();
        fs::write(partial.join("findings.json"), "[half written").unwrap();
        drop(run);
        assert!(!partial.exists(), "the unfinished folder is removed");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
        // A filed run stays.
        let filed = write_run(&archive, "20261124T000000Z");
        assert!(filed.join(CHECKSUMS).is_file());
        assert_eq!(archive.complete_runs().unwrap(), vec!["20261124T000000Z".to_string()]);
    }

    #[test]
    fn a_committed_run_has_its_checksums_and_restricted_permissions() {
        let root = tempfile::tempdir().unwrap();
        let archive = LocalArchive::open(root.path());
        let run = archive.begin("20261123T000000Z").unwrap();
        fs::write(run.dir().join("report.html"), "<html></html>").unwrap();
        fs::create_dir(run.dir().join("snapshot")).unwrap();
        fs::write(run.dir().join("snapshot/manifest.json"), "{}").unwrap();
        assert!(archive.previous_run().unwrap().is_none(), "a partial run is not a run");
        let dir = run.commit(false).unwrap();
        assert_eq!(dir, root.path().join("20261123T000000Z"));
        let sums = fs::read_to_string(dir.join(CHECKSUMS)).unwrap();
        let expected_html = format!("{:x}", Sha256::digest(b"<html></html>"));
        assert!(sums.contains(&format!("{expected_html}  report.html\n")), "{sums}");
        assert!(sums.contains("  snapshot/manifest.json\n"), "{sums}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(dir.join("report.html")).unwrap().permissions().mode() & 0o777, 0o640);
            assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o750);
            assert_eq!(fs::metadata(dir.join("snapshot")).unwrap().permissions().mode() & 0o777, 0o750);
            let nested = fs::metadata(dir.join("snapshot/manifest.json")).unwrap();
            assert_eq!(nested.permissions().mode() & 0o777, 0o640);
        }
        assert_eq!(archive.previous_run().unwrap(), Some(dir));
    }

    #[test]
    fn runs_never_overwrite_each_other_and_the_newest_complete_one_is_previous() {
        let root = tempfile::tempdir().unwrap();
        let archive = LocalArchive::open(root.path());
        write_run(&archive, "20261101T000000Z");
        let second = write_run(&archive, "20261101T000000Z");
        assert_eq!(second.file_name().unwrap(), "20261101T000000Z-2");
        let newest = write_run(&archive, "20261108T000000Z");
        let _unfinished = archive.begin("20261115T000000Z").unwrap();
        assert_eq!(archive.previous_run().unwrap(), Some(newest));
    }

    #[test]
    fn retention_keeps_the_newest_runs() {
        let root = tempfile::tempdir().unwrap();
        let archive = LocalArchive::open(root.path());
        for day in 1..=4 {
            write_run(&archive, &format!("2026110{day}T000000Z"));
        }
        assert_eq!(archive.apply_retention(2).unwrap(), vec!["20261101T000000Z", "20261102T000000Z"]);
        assert_eq!(archive.complete_runs().unwrap(), vec!["20261103T000000Z", "20261104T000000Z"]);
        archive.apply_retention(0).unwrap();
        assert_eq!(archive.complete_runs().unwrap(), vec!["20261104T000000Z"], "the newest always stays");
    }

    #[test]
    fn a_compressed_run_stores_the_large_files_as_gzip_and_its_sums_cover_them() {
        let root = tempfile::tempdir().unwrap();
        let archive = LocalArchive::open(root.path());
        let run = archive.begin("20240601T000000Z").unwrap();
        let findings = "{\"findings\": []}\n".repeat(1000);
        fs::write(run.dir().join("findings.json"), &findings).unwrap();
        fs::write(run.dir().join("report.html"), "<html></html>").unwrap();
        let dir = run.commit(true).unwrap();
        assert!(!dir.join("findings.json").exists() && dir.join("findings.json.gz").is_file());
        assert!(dir.join("report.html").is_file(), "the report stays readable as it is");
        let sums = fs::read_to_string(dir.join(CHECKSUMS)).unwrap();
        let digest = sha256_file(&dir.join("findings.json.gz")).unwrap();
        assert!(sums.contains(&format!("{digest}  findings.json.gz\n")), "{sums}");
        assert!(fs::metadata(dir.join("findings.json.gz")).unwrap().len() < findings.len() as u64 / 10);
        let (path, mut reader) = open_run_file(&dir, "findings.json").unwrap().unwrap();
        assert_eq!(path, dir.join("findings.json.gz"));
        let mut back = String::new();
        reader.read_to_string(&mut back).unwrap();
        assert_eq!(back, findings);
        assert!(open_run_file(&dir, "access-roster.csv").unwrap().is_none());
    }
}
