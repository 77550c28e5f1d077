//! Jobs: one `depeer ingest mrt|feed|as2org` command carried to a worker.
//! The producer publishes the command's files and options
//! ([`publish_mrt`], [`publish_feed`], [`publish_as2org`]); the worker
//! writes the files back under the names the producer gave them and calls
//! the command's library function on all of them at once ([`run`]), so
//! the routing history is built from the same files in one run, exactly
//! as embedded ingest builds it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::nats::NatsError;
use crate::nats::producer::{ProduceOptions, ProduceSummary, publish_files};
use crate::nats::wire::{Job, JobKind, scratch_relative};

/// The options of `ingest mrt` a job carries (the as-rel file travels as
/// one of its files).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MrtJob {
    /// `--collector`.
    pub collector: Option<String>,
    /// `--short-lived`, in seconds.
    pub short_lived_secs: i64,
    /// `--max-decompressed`.
    pub max_decompressed: u64,
}

/// The options of `ingest feed` a job carries (the mapping file travels
/// as one of its files).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedJob {
    /// `--kind`, as written.
    pub kind: Option<String>,
    /// `--format`, as written.
    pub format: Option<String>,
    /// `--source`.
    pub source: Option<String>,
    /// `--max-decompressed`.
    pub max_decompressed: u64,
}

/// The options of `ingest as2org` a job carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct As2orgJob {
    /// `--max-decompressed`.
    pub max_decompressed: u64,
}

fn to_value(v: &impl Serialize) -> Result<serde_json::Value, NatsError> {
    serde_json::to_value(v)
        .map_err(|e| NatsError::Usage(format!("encoding the job's options: {e}")))
}

/// Publishes `depeer ingest mrt PATHS` as one job.
pub fn publish_mrt(
    paths: &[PathBuf],
    as_rel: Option<&Path>,
    o: &MrtJob,
    opts: &ProduceOptions,
) -> Result<ProduceSummary, NatsError> {
    let mut inputs: Vec<(PathBuf, &str)> = paths.iter().map(|p| (p.clone(), "input")).collect();
    inputs.extend(as_rel.map(|p| (p.to_path_buf(), "as-rel")));
    publish_files(JobKind::Mrt, &inputs, to_value(o)?, opts)
}

/// Publishes `depeer ingest feed PATHS` as one job.
pub fn publish_feed(
    paths: &[PathBuf],
    mapping: Option<&Path>,
    o: &FeedJob,
    opts: &ProduceOptions,
) -> Result<ProduceSummary, NatsError> {
    let mut inputs: Vec<(PathBuf, &str)> = paths.iter().map(|p| (p.clone(), "input")).collect();
    inputs.extend(mapping.map(|p| (p.to_path_buf(), "mapping")));
    publish_files(JobKind::Feed, &inputs, to_value(o)?, opts)
}

/// Publishes `depeer ingest as2org PATH` as one job.
pub fn publish_as2org(
    path: &Path,
    o: &As2orgJob,
    opts: &ProduceOptions,
) -> Result<ProduceSummary, NatsError> {
    publish_files(
        JobKind::As2org,
        &[(path.to_path_buf(), "input")],
        to_value(o)?,
        opts,
    )
}

/// Runs a job on the worker: writes its files into `dir` and calls the
/// command's function on them, with `dir` as the current directory so
/// that each file keeps the name the producer gave it (`source_file` of
/// the rows; the collector, which `ingest mrt` takes from the path). The
/// dataset's lock is waited for. Returns the reason of a failure.
pub(crate) fn run(job: &Job, files: Vec<Vec<u8>>, dir: &Path, data: &Path) -> Result<(), String> {
    let mut inputs = Vec::new();
    let mut extra: Vec<(String, PathBuf)> = Vec::new();
    for (f, bytes) in job.files.iter().zip(files) {
        let rel = scratch_relative(&f.path);
        let at = dir.join(&rel);
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&at, bytes).map_err(|e| format!("{}: {e}", at.display()))?;
        if f.role == "input" {
            inputs.push(rel);
        } else {
            extra.push((f.role.clone(), rel));
        }
    }
    let back = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    std::env::set_current_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = run_here(job, &inputs, &extra, data);
    let _ = std::env::set_current_dir(back);
    let _ = std::fs::remove_dir_all(dir);
    result
}

fn option<T: for<'de> Deserialize<'de>>(job: &Job) -> Result<T, String> {
    serde_json::from_value(job.options.clone()).map_err(|e| format!("the job's options: {e}"))
}

fn role<'a>(extra: &'a [(String, PathBuf)], name: &str) -> Option<&'a PathBuf> {
    extra.iter().find(|(r, _)| r == name).map(|(_, p)| p)
}

/// Calls `f` until it gets past the dataset's lock.
fn locked_retry<T>(
    mut f: impl FnMut() -> Result<T, depeer_ingest::IngestError>,
) -> Result<T, String> {
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        match f() {
            Err(e) if is_locked(&e) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(100));
            }
            r => return r.map_err(|e| depeer_ingest_chain(&e)),
        }
    }
}

fn depeer_ingest_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn run_here(
    job: &Job,
    inputs: &[PathBuf],
    extra: &[(String, PathBuf)],
    data: &Path,
) -> Result<(), String> {
    match job.kind {
        JobKind::Mrt => {
            let o: MrtJob = option(job)?;
            let opts = depeer_ingest::MrtOptions {
                data: Some(data.to_path_buf()),
                collector: o.collector,
                as_rel: role(extra, "as-rel").cloned(),
                short_lived_secs: o.short_lived_secs,
                max_decompressed: o.max_decompressed,
            };
            locked_retry(|| depeer_ingest::ingest_mrt(inputs, &opts)).map(drop)
        }
        JobKind::Feed => {
            let o: FeedJob = option(job)?;
            let mapping = match role(extra, "mapping") {
                Some(p) => {
                    Some(depeer_intel::Mapping::load(p).map_err(|e| format!("mapping: {e}"))?)
                }
                None => None,
            };
            let opts = depeer_ingest::FeedIngestOptions {
                data: data.to_path_buf(),
                kind: o
                    .kind
                    .map(|k| k.parse())
                    .transpose()
                    .map_err(|e| format!("kind: {e}"))?,
                format: o
                    .format
                    .map(|f| f.parse())
                    .transpose()
                    .map_err(|e| format!("format: {e}"))?,
                mapping,
                source: o.source,
                max_decompressed: o.max_decompressed,
                ingest_time: None,
            };
            locked_retry(|| depeer_ingest::ingest_feed(inputs, &opts)).map(drop)
        }
        JobKind::As2org => {
            let o: As2orgJob = option(job)?;
            let path = inputs.first().ok_or("an as2org job without its file")?;
            let opts = depeer_ingest::As2orgOptions {
                data: data.to_path_buf(),
                max_decompressed: o.max_decompressed,
            };
            locked_retry(|| depeer_ingest::ingest_as2org(path, &opts)).map(drop)
        }
        other => Err(format!("{} is not a job", other.as_str())),
    }
}

/// Whether a pipeline error is the dataset's lock being held.
fn is_locked(e: &depeer_ingest::IngestError) -> bool {
    matches!(
        e,
        depeer_ingest::IngestError::OpenStore {
            source: depeer_store::StoreError::Locked { .. },
            ..
        }
    )
}
