//! The threat-feed pipeline: C&C lists, URL and phishing lists, passive
//! DNS, bot lists and network block lists into `feed_entries`.
//!
//! Feeds are evidence, not truth: every row keeps its source, the
//! publisher's own times and ours, the file and line. A line that cannot be
//! read is quarantined with its bytes and a located reason, and the rest of
//! the file is read. Each listing has a key (see
//! [`depeer_intel::FeedEntry::dedup_key`]); a key already in the dataset, or
//! seen earlier in the same run, is not stored again, so re-ingesting a
//! file adds nothing.
//!
//! The record each stored listing was read from (the line, or the JSON
//! object) is evidence too: it is stored as a `feed` object
//! (`evidence_objects`, deduplicated by SHA-256) with its log entry, in the
//! same commit as the rows that cite it (`feed_entries.sha256`).

use std::collections::HashSet;
use std::path::PathBuf;

use depeer_core::{FeedEntryObs, Quarantine, Timestamp};
use depeer_intel::{FeedEntry, FeedKind, FeedOptions, Format, IntelError, Mapping, read_feed};
use serde::Serialize;

use crate::IngestError;
use crate::input::{open_input, open_store, store_quarantine};

/// Rows written per commit.
const BATCH: usize = 200_000;

/// How to run [`ingest_feed`].
#[derive(Debug, Clone)]
pub struct FeedIngestOptions {
    /// Data directory (created if missing).
    pub data: PathBuf,
    /// What the files list; `None` takes the format's own kind.
    pub kind: Option<FeedKind>,
    /// The layout; `None` detects it from each file's first lines.
    pub format: Option<Format>,
    /// A declared layout (overrides `format`).
    pub mapping: Option<Mapping>,
    /// The source name stored with every row; `None` takes the format's.
    pub source: Option<String>,
    /// Largest decompressed size of one input, in bytes (bomb guard).
    pub max_decompressed: u64,
    /// Our ingest time; `None` takes the clock.
    pub ingest_time: Option<Timestamp>,
}

/// The counts of one [`ingest_feed`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedSummary {
    /// Files read.
    pub files: usize,
    /// Lines read (comments, blanks and headers included).
    pub lines: u64,
    /// Listings read.
    pub entries: u64,
    /// Listings stored (new keys).
    pub stored: u64,
    /// Listings already in the dataset or repeated in the run.
    pub duplicates: u64,
    /// Feed records (lines) newly stored and logged as evidence.
    pub records_stored: u64,
    /// Lines that could not be read (quarantined, located).
    pub quarantined: u64,
    /// Quarantined lines by reason.
    pub reasons: std::collections::BTreeMap<String, u64>,
    /// Files that could not be read at all, with the reason.
    pub failed_files: Vec<String>,
}

/// Ingests feed files (`-` is stdin) into `feed_entries`.
pub fn ingest_feed(
    paths: &[PathBuf],
    opts: &FeedIngestOptions,
) -> Result<FeedSummary, IngestError> {
    let (inputs, errors) = depeer_io::walk(paths);
    let mut summary = FeedSummary {
        failed_files: errors.iter().map(ToString::to_string).collect(),
        ..FeedSummary::default()
    };
    if inputs.is_empty() {
        return Err(IngestError::NothingToRead {
            expected: "feed files, directories or `-`",
            problems: summary.failed_files,
        });
    }
    let store = open_store(&opts.data)?;
    let mut seen: HashSet<String> = store
        .read_feed_keys()
        .map_err(IngestError::store("reading feed_entries keys"))?;
    let ingest_time = opts.ingest_time.unwrap_or_else(now);
    let mut objects = store
        .object_writer(depeer_store::ObjectKind::Feed)
        .map_err(IngestError::store("reading the stored feed records"))?;
    let mut rows: Vec<FeedEntryObs> = Vec::new();
    let mut quarantine: Vec<Quarantine> = Vec::new();
    for input in inputs {
        let reader = match open_input(&input, opts.max_decompressed) {
            Ok(r) => r,
            Err(e) => {
                summary.failed_files.push(crate::error::chain(&e));
                continue;
            }
        };
        summary.files += 1;
        let mut feed_opts = FeedOptions::new(input.display.clone(), ingest_time);
        feed_opts.kind = opts.kind;
        feed_opts.format = opts.format;
        feed_opts.mapping = opts.mapping.clone();
        feed_opts.source = opts.source.clone();
        let mut feed = read_feed(reader, feed_opts);
        for item in feed.by_ref() {
            match item {
                Ok(entry) => {
                    summary.entries += 1;
                    let mut row = to_row(&entry);
                    if seen.insert(row.key.clone()) {
                        row.sha256 = Some(keep_record(&mut objects, &entry)?);
                        rows.push(row);
                    } else {
                        summary.duplicates += 1;
                    }
                }
                Err(e) => note_error(&e, &input.display, &mut summary, &mut quarantine),
            }
            if rows.len() >= BATCH {
                summary.stored += flush(&mut objects, &mut rows)?;
            }
        }
        summary.lines += feed.stats().lines;
    }
    summary.stored += flush(&mut objects, &mut rows)?;
    summary.records_stored = objects.stored();
    objects
        .finish()
        .map_err(IngestError::store("writing feed_entries"))?;
    store_quarantine(&store, &quarantine)?;
    Ok(summary)
}

fn note_error(
    e: &IntelError,
    file: &str,
    summary: &mut FeedSummary,
    quarantine: &mut Vec<Quarantine>,
) {
    match e.to_quarantine() {
        Some(q) => {
            summary.quarantined += 1;
            *summary.reasons.entry(q.reason.clone()).or_default() += 1;
            tracing::debug!("{e}");
            quarantine.push(q);
        }
        None => {
            // A fatal error ends this file (unknown format, bad header, I/O).
            tracing::warn!("{file}: {e}");
            summary.failed_files.push(format!("{file}: {e}"));
        }
    }
}

/// Stores the record `entry` was read from (once per SHA-256) and
/// returns its hex SHA-256. OBSERVED is the listing time: the publisher's
/// first-seen, else its last-seen, else our ingest time.
fn keep_record(
    objects: &mut depeer_store::ObjectWriter,
    entry: &FeedEntry,
) -> Result<String, IngestError> {
    let sha = depeer_store::sha256_of(&entry.record);
    let when = entry
        .first_seen
        .or(entry.last_seen)
        .unwrap_or(entry.ingest_time);
    objects
        .add(&depeer_store::EvidenceObject {
            bytes: &entry.record,
            sha256: sha,
            observed: when.0.div_euclid(1_000_000),
            source_file: &entry.source_file,
            source_offset: entry.record_offset,
            source_index: entry.source_line,
            collector: None,
            prefixes: None,
        })
        .map_err(IngestError::store("storing a feed record"))?;
    Ok(depeer_store::sha256_hex(&sha))
}

/// Commits the rows with the records they cite (one commit).
fn flush(
    objects: &mut depeer_store::ObjectWriter,
    rows: &mut Vec<FeedEntryObs>,
) -> Result<u64, IngestError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let n = rows.len() as u64;
    objects.add_feed_entries(std::mem::take(rows));
    objects
        .commit()
        .map_err(IngestError::store("writing feed_entries"))?;
    Ok(n)
}

fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Timestamp(micros)
}

fn to_row(e: &FeedEntry) -> FeedEntryObs {
    FeedEntryObs {
        source: e.source.to_string(),
        kind: e.kind.as_str().to_string(),
        indicator: e.indicator.clone(),
        address: e.address.clone(),
        family: e.family.as_deref().map(str::to_string),
        port: e.port,
        first_seen: e.first_seen,
        last_seen: e.last_seen,
        ingest_time: e.ingest_time,
        source_file: e.source_file.to_string(),
        source_line: e.source_line,
        key: e.dedup_key_hex(),
        sha256: None,
    }
}
