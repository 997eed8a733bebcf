//! The S3 compliance archive: the same layout as the local one under
//! `s3://BUCKET/PREFIX/<run id>/`, with `SHA256SUMS` uploaded last, so a run folder holding
//! SHA256SUMS is a complete run. Optional Object Lock retention and SSE-KMS on every object.
//!
//! In a scheduled container or Lambda no local disk outlives a run, so the previous run for
//! the diff is read from here too. Runs are never overwritten: a run id whose folder already
//! holds objects gets a `-2` suffix.

use crate::access::roster::PreviousRoster;
use crate::aws_sdk::error_text;
use crate::config::{ArchiveConfig, ObjectLockMode};
use crate::deliver::archive::{free_name, run_files, CHECKSUMS, COMPRESSED};
use crate::findings::diff::PreviousRun;
use crate::report::trend::{self, History};
use crate::report::ROSTER;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{ObjectLockMode as SdkLockMode, ServerSideEncryption};
use std::io::Read;
use std::path::Path;

pub struct S3Archive {
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
    bucket: String,
    /// Empty, or ending in `/`.
    prefix: String,
    lock: Option<(ObjectLockMode, u32)>,
    kms_key_id: Option<String>,
}

impl S3Archive {
    /// Connects with the standard credential chain; `uri` is `s3://BUCKET[/PREFIX]`.
    pub fn connect(config: &ArchiveConfig, uri: &str) -> Result<S3Archive, String> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| format!("archive.s3_uri {uri:?} does not start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        let (runtime, shared) = crate::aws_sdk::blocking(5)?;
        let s3_config =
            aws_sdk_s3::config::Builder::from(&shared).force_path_style(config.s3_path_style).build();
        Ok(S3Archive {
            client: aws_sdk_s3::Client::from_conf(s3_config),
            runtime,
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() { String::new() } else { format!("{prefix}/") },
            lock: config.s3_object_lock_mode.zip(config.s3_object_lock_days),
            kms_key_id: config.s3_kms_key_id.clone(),
        })
    }

    /// `s3://BUCKET/PREFIX/<run>/`.
    pub fn location(&self, run: &str) -> String {
        format!("s3://{}/{}{run}/", self.bucket, self.prefix)
    }

    /// Run folders under the prefix, oldest first (run ids sort by time).
    fn run_folders(&self) -> Result<Vec<String>, String> {
        let mut folders = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = self.runtime.block_on(pages.next()) {
            let page = page.map_err(|e| {
                format!(
                    "cannot list s3://{}/{}: {} (the job needs s3:ListBucket on the bucket)",
                    self.bucket,
                    self.prefix,
                    error_text(&e)
                )
            })?;
            for common in page.common_prefixes() {
                if let Some(folder) = common.prefix().and_then(|p| p.strip_prefix(&self.prefix)) {
                    folders.push(folder.trim_end_matches('/').to_string());
                }
            }
        }
        folders.sort();
        Ok(folders)
    }

    fn exists(&self, key: &str) -> Result<bool, String> {
        match self.runtime.block_on(self.client.head_object().bucket(&self.bucket).key(key).send()) {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(format!("cannot read s3://{}/{key}: {}", self.bucket, error_text(&e))),
        }
    }

    /// Downloads an object to `path`, a chunk at a time (a large findings.json never sits
    /// in memory).
    fn download(&self, key: &str, path: &Path) -> Result<(), String> {
        let failed =
            |e: String| format!("cannot read s3://{}/{key} into {}: {e}", self.bucket, path.display());
        let object = self
            .runtime
            .block_on(self.client.get_object().bucket(&self.bucket).key(key).send())
            .map_err(|e| failed(error_text(&e)))?;
        let mut body = object.body;
        let mut file =
            std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| failed(e.to_string()))?);
        while let Some(chunk) = self.runtime.block_on(body.try_next()).map_err(|e| failed(e.to_string()))? {
            std::io::Write::write_all(&mut file, &chunk).map_err(|e| failed(e.to_string()))?;
        }
        std::io::Write::flush(&mut file).map_err(|e| failed(e.to_string()))
    }

    /// The newest complete run (one holding SHA256SUMS): its findings.json, downloaded into
    /// `staging`, and its access roster when it has one (runs before the roster existed do not).
    pub fn previous_run(&self, staging: &Path) -> Result<Option<(String, PreviousRun)>, String> {
        if let Some(folder) = self.newest_complete(1)?.pop() {
            let base = format!("{}{folder}/", self.prefix);
            std::fs::create_dir_all(staging)
                .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
            // Stored as written or gzip-compressed (`.gz`), looked for in the order
            // `archive::open_run_file` looks in a local run.
            let stored = |name: &str| -> Result<Option<String>, String> {
                for candidate in [name.to_string(), format!("{name}.gz")] {
                    if self.exists(&format!("{base}{candidate}"))? {
                        return Ok(Some(candidate));
                    }
                }
                Ok(None)
            };
            let findings = stored("findings.json")?.unwrap_or_else(|| "findings.json".into());
            let findings_file = staging.join(format!("previous-{folder}-{findings}"));
            let mut previous =
                PreviousRun { findings_file, index_file: None, roster: None, downloaded: true };
            self.download(&format!("{base}{findings}"), &previous.findings_file)?;
            // Its findings index, when it kept one; without it findings.json is indexed.
            if let Some(index) = stored(crate::findings::diff::INDEX)? {
                let path = staging.join(format!("previous-{folder}-{index}"));
                self.download(&format!("{base}{index}"), &path)?;
                previous.index_file = Some(path);
            }
            // The roster streams from S3 straight into its indexed local copy.
            if let Some((uri, reader)) = self.open(&folder, ROSTER)? {
                let read = PreviousRoster::index(reader, crate::deliver::previous_roster_copy());
                previous.roster =
                    Some(read.map_err(|e| format!("{uri} is not an access roster of this tool: {e}"))?);
            }
            return Ok(Some((folder, previous)));
        }
        Ok(None)
    }

    /// The newest `count` complete runs (those holding SHA256SUMS), oldest first.
    fn newest_complete(&self, count: usize) -> Result<Vec<String>, String> {
        let mut complete = Vec::new();
        for folder in self.run_folders()?.into_iter().rev() {
            if complete.len() == count {
                break;
            }
            if self.exists(&format!("{}{folder}/{CHECKSUMS}", self.prefix))? {
                complete.push(folder);
            }
        }
        complete.reverse();
        Ok(complete)
    }

    /// The summaries of the newest `count` complete runs, oldest first, for the trend; a run
    /// whose summary cannot be read is left out, with why. Each file is read as a stream (an
    /// older run's findings.json only as far as its summary).
    pub fn history(&self, count: usize) -> Result<History, String> {
        let complete = self.newest_complete(count)?;
        Ok(History::gather(&complete, |run| trend::read_run(|name| self.open(run, name))))
    }

    /// A run's file as a stream (`name`, or `name.gz` decompressed for the files the archive
    /// compresses), named by its URI; None when the run has no such file.
    fn open(&self, run: &str, name: &str) -> Result<trend::Found<Box<dyn Read + '_>>, String> {
        let compressed = format!("{name}.gz");
        let candidates =
            if COMPRESSED.contains(&name) { vec![name, compressed.as_str()] } else { vec![name] };
        for candidate in candidates {
            let key = format!("{}{run}/{candidate}", self.prefix);
            let uri = format!("s3://{}/{key}", self.bucket);
            match self.runtime.block_on(self.client.get_object().bucket(&self.bucket).key(&key).send()) {
                Ok(object) => {
                    let body =
                        BodyReader { runtime: &self.runtime, body: object.body, chunk: Vec::new(), at: 0 };
                    let reader: Box<dyn Read> = if candidate.ends_with(".gz") {
                        Box::new(flate2::read::MultiGzDecoder::new(body))
                    } else {
                        Box::new(body)
                    };
                    return Ok(Some((uri, reader)));
                }
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => continue,
                Err(e) => return Err(format!("cannot read {uri}: {}", error_text(&e))),
            }
        }
        Ok(None)
    }

    /// Uploads a complete local run folder (with its SHA256SUMS) as `<run id>/`, SHA256SUMS last.
    /// Returns where it went.
    pub fn upload_run(&self, local: &Path, run_id: &str) -> Result<String, String> {
        let taken = self.run_folders()?;
        let name = free_name(run_id, |name| taken.iter().any(|t| t == name));
        let files =
            run_files(local).map_err(|e| format!("cannot read the run in {}: {e}", local.display()))?;
        let files = upload_order(files);
        let retain_until = self.lock.map(|(_, days)| {
            DateTime::from_secs((chrono::Utc::now() + chrono::Duration::days(days.into())).timestamp())
        });
        // Each file is read whole before it is sent: the large ones (the findings files) go one
        // at a time, as before, so that memory holds at most one of them; the small ones (a run
        // has one page per account) a few at a time. SHA256SUMS last, once all of them are
        // stored: it marks the run complete.
        let (sums, rest) = files.split_last().map_or((None, &files[..]), |(last, rest)| (Some(last), rest));
        let (large, small): (Vec<&String>, Vec<&String>) = rest.iter().partition(|relative| {
            std::fs::metadata(local.join(relative)).map_or(true, |m| m.len() > SMALL_FILE_MAX)
        });
        self.runtime.block_on(async {
            use futures::stream::{StreamExt, TryStreamExt};
            let key = |relative: &str| format!("{}{name}/{relative}", self.prefix);
            for relative in large {
                self.put_file(local, relative, key(relative), retain_until).await?;
            }
            futures::stream::iter(small.into_iter().map(|r| self.put_file(local, r, key(r), retain_until)))
                .buffer_unordered(UPLOADS_AT_ONCE)
                .try_collect::<()>()
                .await?;
            match sums {
                Some(sums) => self.put_file(local, sums, key(sums), retain_until).await,
                None => Ok(()),
            }
        })?;
        Ok(self.location(&name))
    }

    async fn put_file(
        &self,
        local: &Path,
        relative: &str,
        key: String,
        retain_until: Option<DateTime>,
    ) -> Result<(), String> {
        let bytes =
            std::fs::read(local.join(relative)).map_err(|e| format!("cannot read {relative}: {e}"))?;
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type(relative))
            .body(ByteStream::from(bytes));
        if let (Some((mode, _)), Some(until)) = (self.lock, retain_until) {
            let mode = match mode {
                ObjectLockMode::Governance => SdkLockMode::Governance,
                ObjectLockMode::Compliance => SdkLockMode::Compliance,
            };
            put = put.object_lock_mode(mode).object_lock_retain_until_date(until);
        }
        if let Some(key_id) = &self.kms_key_id {
            put = put.server_side_encryption(ServerSideEncryption::AwsKms).ssekms_key_id(key_id);
        }
        put.send().await.map(|_| ()).map_err(|e| {
            format!(
                "cannot write s3://{}/{key}: {} (the job needs s3:PutObject{} on the archive prefix)",
                self.bucket,
                error_text(&e),
                if self.lock.is_some() { " and s3:PutObjectRetention" } else { "" }
            )
        })
    }
}

/// An object's body read as a stream, a chunk at a time; dropping it ends the download.
struct BodyReader<'a> {
    runtime: &'a tokio::runtime::Runtime,
    body: ByteStream,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for BodyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.runtime.block_on(self.body.try_next()).map_err(std::io::Error::other)? {
                Some(chunk) => {
                    self.chunk = chunk.to_vec();
                    self.at = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Small files uploaded at once.
const UPLOADS_AT_ONCE: usize = 16;
/// Files up to this size are small: held UPLOADS_AT_ONCE at a time (128 MiB at most).
const SMALL_FILE_MAX: u64 = 8 << 20;

/// SHA256SUMS marks a run complete, so it is uploaded last; the rest in name order.
fn upload_order(mut files: Vec<String>) -> Vec<String> {
    files.sort();
    if let Some(at) = files.iter().position(|f| f == CHECKSUMS) {
        let sums = files.remove(at);
        files.push(sums);
    }
    files
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        Some("eml") => "message/rfc822",
        Some("gz") => "application/gzip",
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_go_last() {
        let order = upload_order(
            ["report.html", "SHA256SUMS", "findings.json", "snapshot/manifest.json"]
                .map(String::from)
                .to_vec(),
        );
        assert_eq!(order, ["findings.json", "report.html", "snapshot/manifest.json", "SHA256SUMS"]);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("report.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("snapshot/accounts/1/credential-report.csv"), "text/csv; charset=utf-8");
        assert_eq!(content_type("SHA256SUMS"), "text/plain; charset=utf-8");
    }
}
