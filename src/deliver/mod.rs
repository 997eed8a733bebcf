//! Delivery: filing each run in the compliance archive (a local folder or an S3 prefix),
//! then mailing the digest. Archive first, so that nothing is lost if mail fails.

pub mod archive;
pub mod mail;
pub mod s3_archive;

use crate::access::roster::PreviousRoster;
use crate::config::ArchiveConfig;
use crate::findings::diff::PreviousRun;
use archive::{LocalArchive, PendingRun};
use s3_archive::S3Archive;
use std::path::PathBuf;

/// Where runs are filed.
pub enum Archive {
    Local(LocalArchive),
    /// Runs are assembled in `staging` on local disk, then uploaded.
    S3 {
        archive: S3Archive,
        staging: PathBuf,
    },
}

/// Where the previous run's access roster is copied, plain, to be read account by account
/// (a name of its own for each copy this process makes).
pub fn previous_roster_copy() -> PathBuf {
    static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("iam-auditor-previous-roster-{}-{n}.csv", std::process::id()))
}

impl Archive {
    /// The archive the config names, if any.
    pub fn from_config(config: &ArchiveConfig) -> Result<Option<Archive>, String> {
        if let Some(dir) = &config.dir {
            return Ok(Some(Archive::Local(LocalArchive::open(dir))));
        }
        let Some(uri) = &config.s3_uri else { return Ok(None) };
        let staging = std::env::temp_dir().join(format!("iam-auditor-staging-{}", std::process::id()));
        Ok(Some(Archive::S3 { archive: S3Archive::connect(config, uri)?, staging }))
    }

    /// The newest complete run: its name, its findings and its access roster. A findings.json that cannot be read
    /// is an error for the caller to report; it does not stop the run.
    pub fn previous_run(&self) -> Result<Option<(String, PreviousRun)>, String> {
        match self {
            Archive::Local(local) => {
                let Some(dir) = local.previous_run().map_err(|e| e.to_string())? else { return Ok(None) };
                let name = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                let Some((findings_file, _)) = archive::open_run_file(&dir, "findings.json")
                    .map_err(|e| format!("cannot read {}/findings.json: {e}", dir.display()))?
                else {
                    return Err(format!("cannot read {}/findings.json: the file is missing", dir.display()));
                };
                let index_file = archive::run_file(&dir, crate::findings::diff::INDEX);
                let mut previous = PreviousRun { findings_file, index_file, roster: None, downloaded: false };
                let roster = archive::open_run_file(&dir, crate::report::ROSTER)
                    .map_err(|e| format!("cannot read {}/{}: {e}", dir.display(), crate::report::ROSTER))?;
                if let Some((path, reader)) = roster {
                    previous.roster =
                        Some(PreviousRoster::index(reader, previous_roster_copy()).map_err(|e| {
                            format!("{} is not an access roster of this tool: {e}", path.display())
                        })?);
                }
                Ok(Some((name, previous)))
            }
            Archive::S3 { archive, staging } => archive.previous_run(staging),
        }
    }

    /// The summaries of the newest `count` complete runs, oldest first, for the trend.
    pub fn history(&self, count: usize) -> Result<crate::report::trend::History, String> {
        match self {
            Archive::Local(local) => local.history(count).map_err(|e| e.to_string()),
            Archive::S3 { archive, .. } => archive.history(count),
        }
    }

    /// Starts a run: the folder its files are written into.
    pub fn begin(&self, run_id: &str) -> Result<PendingRun, String> {
        let local = match self {
            Archive::Local(local) => local,
            Archive::S3 { staging, .. } => &LocalArchive::open(staging),
        };
        local.begin(run_id).map_err(|e| e.to_string())
    }

    /// Where a run being written will be filed (for the digest to point at).
    pub fn location_of(&self, pending: &PendingRun, run_id: &str) -> PathBuf {
        match self {
            Archive::Local(_) => pending.final_dir().to_path_buf(),
            Archive::S3 { archive, .. } => PathBuf::from(archive.location(run_id)),
        }
    }

    /// Files a complete run (SHA256SUMS last) and says where it is.
    /// Files the run: its large files gzip-compressed when `compress`, SHA256SUMS last.
    pub fn file(&self, pending: PendingRun, run_id: &str, compress: bool) -> Result<String, String> {
        let dir = pending.commit(compress).map_err(|e| e.to_string())?;
        match self {
            Archive::Local(_) => Ok(dir.display().to_string()),
            Archive::S3 { archive, staging } => match archive.upload_run(&dir, run_id) {
                Ok(location) => {
                    let _ = std::fs::remove_dir_all(staging);
                    Ok(location)
                }
                Err(message) => Err(format!("{message}; the run's files are kept in {}", dir.display())),
            },
        }
    }

    /// `keep_runs` for a local archive; S3 retention is the bucket's lifecycle rule.
    pub fn apply_retention(&self, keep: u32) -> Result<Vec<String>, String> {
        match self {
            Archive::Local(local) => local.apply_retention(keep).map_err(|e| e.to_string()),
            Archive::S3 { .. } => Ok(Vec::new()),
        }
    }
}
