//! The mail pipeline.
//!
//! ```text
//! reader thread            workers (one per core)         caller's thread
//! walk -> decode -> frame  -> extract + sha256 + zstd   -> store (dedup, batch, commit)
//! ```
//!
//! Work moves in chunks over bounded channels, so memory is bounded by
//! (channel depth × chunk size), never by the input size. Every message read
//! is counted exactly once: `read == stored + duplicate + quarantined`.

mod objects;
mod read;
mod work;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use depeer_core::{Quarantine, Timestamp};
use depeer_io::{Input, Limits};
use depeer_mail::TrustConfig;
use depeer_store::{AddOutcome, MessageWriter};
use serde::Serialize;

use crate::{IngestError, Progress};
use read::{CHUNK_MESSAGES, Chunker, read_input};
use work::{Counted, Done, DoneFrame, Packer, Work, process_chunk};

pub use objects::{
    MailItem, MailMeta, MailObject, MailReadSummary, PreparedMail, commit_mail, prepare_mail,
    read_mail,
};

/// How to run [`ingest_mail`].
#[derive(Debug, Clone)]
pub struct MailOptions {
    /// Data directory; `None` parses and extracts without storing.
    pub data: Option<PathBuf>,
    /// The trust boundary of the trap.
    pub trust: TrustConfig,
    /// Worker threads.
    pub jobs: usize,
    /// Per-message size cap, in bytes.
    pub max_message: usize,
    /// Decompression limits per input.
    pub limits: Limits,
    /// Commit a batch every N messages.
    pub batch_messages: usize,
    /// When storing: attribute the new messages to botnets at the end of
    /// the run (see [`crate::attribute`]); `None` leaves them to `depeer
    /// attribute`.
    pub attribute: Option<crate::AttributeOptions>,
}

impl Default for MailOptions {
    /// No store, one worker per core, 64 MiB messages, the default limits,
    /// batches of 50,000 messages, new messages attributed with the
    /// built-in rules.
    fn default() -> Self {
        MailOptions {
            data: None,
            trust: TrustConfig::default(),
            jobs: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            max_message: 64 << 20,
            limits: Limits::default(),
            batch_messages: 50_000,
            attribute: Some(crate::AttributeOptions {
                mode: crate::AttributeMode::Missing,
                rules: None,
            }),
        }
    }
}

/// The counts of one [`ingest_mail`] run.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MailSummary {
    /// Messages read (always `stored + duplicate + quarantined`).
    pub read: u64,
    /// Messages new to the store (or extracted, without a store).
    pub stored: u64,
    /// Messages already in the store (or seen earlier in this run).
    pub duplicate: u64,
    /// Messages or stream parts that could not be used.
    pub quarantined: u64,
    /// Quarantine counts by reason.
    pub quarantine_reasons: BTreeMap<String, u64>,
    /// Decompressed bytes of all messages read.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// Input files (or stdin) read.
    pub files: u64,
    /// URLs extracted from stored messages.
    pub urls: u64,
    /// `read / seconds`.
    pub messages_per_second: f64,
    /// Where the data went (`null` without a store).
    pub data_dir: Option<String>,
    /// Problems with whole inputs (missing paths, unreadable directories).
    pub input_errors: Vec<String>,
    /// The attribution of the new messages (`null` when nothing was stored
    /// or attribution was off).
    pub attribution: Option<crate::AttributeSummary>,
}

/// Spent chunks waiting to go back to the reader thread, per worker.
const SPENT_DEPTH: usize = 4;
/// Processed chunks waiting for the caller's thread, per worker.
const DONE_DEPTH: usize = 4;
/// Chunks waiting for a worker, per worker.
const WORK_DEPTH: usize = 4;

/// Ingests mail from `paths` (files, directories, `-` for stdin).
pub fn ingest_mail(
    paths: &[PathBuf],
    opts: &MailOptions,
    progress: &dyn Progress,
) -> Result<MailSummary, IngestError> {
    let start = Instant::now();
    let (inputs, input_errors) = depeer_io::walk(paths);
    let input_errors: Vec<String> = input_errors.iter().map(ToString::to_string).collect();
    if inputs.is_empty() {
        return Err(IngestError::NothingToRead {
            expected: "mbox files, Maildirs, .eml files, directories or `-`",
            problems: input_errors,
        });
    }
    let store = opts
        .data
        .as_deref()
        .map(crate::input::open_store)
        .transpose()?;
    let mut sink = Sink {
        summary: MailSummary {
            input_errors,
            data_dir: opts.data.as_ref().map(|d| d.display().to_string()),
            ..MailSummary::default()
        },
        writer: store.as_ref().map(|s| {
            s.message_writer()
                .with_limits(depeer_store::BatchLimits {
                    messages: opts.batch_messages.max(1),
                    ..depeer_store::BatchLimits::default()
                })
                // Parquet encoding of a full batch overlaps the parsing of
                // the next one (docs/bench-mail.md).
                .with_background_commit(true)
        }),
        seen: HashSet::new(),
    };
    progress.start(inputs.iter().filter_map(|i| i.size).sum());
    let run = run_threads(&inputs, opts, progress, &mut sink);
    progress.finish();
    run?;
    let Sink {
        mut summary,
        writer,
        ..
    } = sink;
    if let Some(w) = writer {
        w.finish()
            .map_err(IngestError::store("committing the last batch"))?;
    }
    if let (Some(store), Some(a)) = (&store, &opts.attribute)
        && summary.stored > 0
    {
        summary.attribution = Some(crate::attribute(store, a)?);
    }
    summary.seconds = start.elapsed().as_secs_f64();
    summary.messages_per_second = if summary.seconds > 0.0 {
        summary.read as f64 / summary.seconds
    } else {
        0.0
    };
    Ok(summary)
}

/// Runs the reader thread and the workers, and takes in their results on
/// this thread.
fn run_threads(
    inputs: &[Input],
    opts: &MailOptions,
    progress: &dyn Progress,
    sink: &mut Sink,
) -> Result<(), IngestError> {
    let ingest_time = now();
    let jobs = opts.jobs.max(1);
    let (work_tx, work_rx) = crossbeam_channel::bounded::<Vec<Work>>(jobs * WORK_DEPTH);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Done>(jobs * DONE_DEPTH);
    // Processed chunks go back to the reader thread, which frees the
    // message buffers it allocated and reuses the chunk vectors.
    let (spent_tx, spent_rx) = crossbeam_channel::bounded::<Vec<Work>>(jobs * SPENT_DEPTH);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut chunker = Chunker {
                tx: &work_tx,
                spent: &spent_rx,
                spare: Vec::new(),
                buf: Vec::with_capacity(CHUNK_MESSAGES),
                bytes: 0,
            };
            for input in inputs {
                read_input(input, opts, &mut chunker);
                chunker.flush();
                progress.add_bytes(input.size.unwrap_or(0));
            }
            inputs.len() as u64
        });
        for _ in 0..jobs {
            let (work_rx, done_tx, spent_tx) = (work_rx.clone(), done_tx.clone(), spent_tx.clone());
            let trust = &opts.trust;
            let mut packer = opts.data.is_some().then(Packer::new);
            scope.spawn(move || {
                for mut chunk in work_rx {
                    let done = process_chunk(&mut chunk, trust, ingest_time, packer.as_mut());
                    // When the reader is gone or behind, the chunk is
                    // simply freed here.
                    let _ = spent_tx.try_send(chunk);
                    if done_tx.send(done).is_err() {
                        return;
                    }
                }
            });
        }
        drop((work_rx, done_tx, spent_tx));
        for done in done_rx {
            sink.take(done)?;
            progress.set_count(sink.summary.read);
        }
        sink.summary.files = reader
            .join()
            .map_err(|_| IngestError::Thread { thread: "reader" })?;
        Ok(())
    })
}

/// The caller's side: counts, deduplicates and writes what the workers made.
struct Sink {
    summary: MailSummary,
    writer: Option<MessageWriter>,
    /// Hashes seen in this run when nothing is stored.
    seen: HashSet<[u8; 32]>,
}

impl Sink {
    fn take(&mut self, done: Done) -> Result<(), IngestError> {
        for q in done.quarantined {
            self.quarantine(&q)?;
        }
        for c in done.counted {
            self.count(&c);
        }
        for frame in done.frames {
            self.frame(frame)?;
        }
        Ok(())
    }

    fn quarantine(&mut self, q: &Quarantine) -> Result<(), IngestError> {
        let s = &mut self.summary;
        s.read += 1;
        s.bytes += q.bytes.len() as u64;
        s.quarantined += 1;
        *s.quarantine_reasons.entry(q.reason.clone()).or_default() += 1;
        if let Some(w) = self.writer.as_mut() {
            w.add_quarantine(q)
                .map_err(IngestError::store("writing quarantine"))?;
        }
        Ok(())
    }

    /// A message extracted without a store: new unless seen in this run.
    fn count(&mut self, c: &Counted) {
        let new = self.seen.insert(c.sha256);
        self.tally(c.size, new.then_some(c.urls));
    }

    /// One frame of messages into the store, which tells which were new.
    fn frame(&mut self, frame: DoneFrame) -> Result<(), IngestError> {
        // Frames are only made when storing.
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let sizes: Vec<(u64, u64)> = frame
            .members
            .iter()
            .map(|m| (m.msg.size, m.urls.len() as u64))
            .collect();
        let outcomes = w
            .add_frame(&frame.compressed, frame.members)
            .map_err(IngestError::store("writing to the store"))?;
        for (o, (size, urls)) in outcomes.iter().zip(sizes) {
            self.tally(size, matches!(o, AddOutcome::Stored).then_some(urls));
        }
        Ok(())
    }

    /// Counts one message read: stored with its URLs, or a duplicate.
    fn tally(&mut self, size: u64, stored_urls: Option<u64>) {
        let s = &mut self.summary;
        s.read += 1;
        s.bytes += size;
        match stored_urls {
            Some(urls) => {
                s.stored += 1;
                s.urls += urls;
            }
            None => s.duplicate += 1,
        }
    }
}

fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
