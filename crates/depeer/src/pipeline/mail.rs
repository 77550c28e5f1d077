//! The mail ingestion pipeline.
//!
//! ```text
//! reader thread            workers (one per core)         this thread
//! walk -> decode -> frame  -> extract + sha256 + zstd   -> store (dedup, batch, commit)
//! ```
//!
//! Work moves in chunks over bounded channels, so memory is bounded by
//! (channel depth × chunk size), never by the input size.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use depeer_core::{Quarantine, SourceRef, Timestamp};
use depeer_io::{Input, Limits};
use depeer_mail::{
    ExtractContext, Extracted, Framing, MailError, MessageReader, RawMessage, TrustConfig,
};
use depeer_store::{FRAME_TARGET_BYTES, FrameCompressor, FrameMember};
use serde::Serialize;

/// What to do.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Data directory; `None` parses and extracts without storing.
    pub data: Option<PathBuf>,
    /// The trust boundary of the trap.
    pub trust: TrustConfig,
    /// Worker threads.
    pub jobs: usize,
    /// Per-message size cap.
    pub max_message: usize,
    /// Decompression limits per input.
    pub limits: Limits,
    /// Commit a batch every N messages.
    pub batch_messages: usize,
    /// Show a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
}

/// The summary of a run (`--json` prints it).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Messages read (always `stored + duplicate + quarantined`).
    pub read: u64,
    /// Messages new to the store (or extracted, with `--no-store`).
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
    /// Where the data went (`null` with `--no-store`).
    pub data_dir: Option<String>,
    /// Problems with whole inputs (missing paths, unreadable directories).
    pub input_errors: Vec<String>,
}

impl Summary {
    fn quarantine(&mut self, reason: &str) {
        self.quarantined += 1;
        *self
            .quarantine_reasons
            .entry(reason.to_string())
            .or_default() += 1;
    }

    /// The summary as a table for people.
    pub fn print_table(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "files        {:>12}", self.files)?;
        writeln!(out, "read         {:>12}", self.read)?;
        writeln!(out, "stored       {:>12}", self.stored)?;
        writeln!(out, "duplicate    {:>12}", self.duplicate)?;
        writeln!(out, "quarantined  {:>12}", self.quarantined)?;
        for (reason, n) in &self.quarantine_reasons {
            writeln!(out, "  {reason:<24} {n:>8}")?;
        }
        writeln!(out, "urls         {:>12}", self.urls)?;
        writeln!(out, "bytes        {:>12}", self.bytes)?;
        writeln!(
            out,
            "seconds      {:>12.2}   ({:.0} messages/s)",
            self.seconds, self.messages_per_second
        )?;
        if let Some(d) = &self.data_dir {
            writeln!(out, "data         {d}")?;
        }
        for e in &self.input_errors {
            writeln!(out, "input error: {e}")?;
        }
        Ok(())
    }
}

/// Per-file context shared by the messages of one input.
#[derive(Debug)]
struct FileCtx {
    display: String,
    mtime: Option<Timestamp>,
}

enum Work {
    Message(RawMessage, Arc<FileCtx>),
    Broken(Quarantine),
}

/// What a worker made of one chunk of work.
#[derive(Default)]
struct Done {
    quarantined: Vec<Quarantine>,
    /// Messages in shared raw frames (only when storing).
    frames: Vec<DoneFrame>,
    /// What the summary needs of each message when nothing is stored: the
    /// extracted fields are dropped on the worker that allocated them.
    counted: Vec<Counted>,
}

/// A message extracted with `--no-store`.
struct Counted {
    sha256: [u8; 32],
    size: u64,
    urls: u64,
}

struct DoneFrame {
    compressed: Vec<u8>,
    members: Vec<FrameMember>,
}

const CHUNK_MESSAGES: usize = 256;
/// Spent chunks waiting to go back to the reader thread (see [`Spent`]).
const SPENT_DEPTH: usize = 4;
const CHUNK_BYTES: usize = 4 << 20;
/// Processed chunks waiting for the main thread, per worker.
const DONE_DEPTH: usize = 4;

/// Ingests mail from `paths` (files, directories, `-`).
pub fn ingest(paths: &[PathBuf], opts: &IngestOptions) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let (inputs, input_errors) = depeer_io::walk(paths);
    let mut summary = Summary {
        input_errors: input_errors.iter().map(ToString::to_string).collect(),
        data_dir: opts.data.as_ref().map(|d| d.display().to_string()),
        ..Summary::default()
    };
    if inputs.is_empty() {
        anyhow::bail!(
            "nothing to read: {}; give mbox files, Maildirs, .eml files, directories or `-`",
            if summary.input_errors.is_empty() {
                "no files found".to_string()
            } else {
                summary.input_errors.join("; ")
            }
        );
    }
    let store = match &opts.data {
        Some(dir) => Some(
            depeer_store::Store::open(dir)
                .with_context(|| format!("cannot open the data directory {}", dir.display()))?,
        ),
        None => None,
    };
    let mut writer = store.as_ref().map(|s| {
        s.message_writer()
            .with_limits(depeer_store::BatchLimits {
                messages: opts.batch_messages.max(1),
                ..depeer_store::BatchLimits::default()
            })
            // Parquet encoding of a full batch overlaps the parsing of the
            // next one (measured: docs/bench-mail.md).
            .with_background_commit(true)
    });
    let mut seen_no_store = std::collections::HashSet::<[u8; 32]>::new();
    let progress = crate::progress::Progress::new(
        opts.progress,
        inputs.iter().filter_map(|i| i.size).sum(),
        "messages",
    );
    let ingest_time = now();
    let jobs = opts.jobs.max(1);
    let (work_tx, work_rx) = crossbeam_channel::bounded::<Vec<Work>>(jobs * 4);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Done>(jobs * DONE_DEPTH);
    // Processed chunks go back to the reader thread, which frees the
    // message buffers it allocated and reuses the chunk vectors.
    let (spent_tx, spent_rx) = crossbeam_channel::bounded::<Vec<Work>>(jobs * SPENT_DEPTH);

    let result: anyhow::Result<()> = std::thread::scope(|scope| {
        let reader_progress = progress.clone();
        let reader = scope.spawn(move || {
            let mut files = 0u64;
            let mut chunker = Chunker {
                tx: &work_tx,
                spent: &spent_rx,
                spare: Vec::new(),
                buf: Vec::with_capacity(CHUNK_MESSAGES),
                bytes: 0,
            };
            for input in &inputs {
                files += 1;
                read_input(input, opts, &mut chunker);
                chunker.flush();
                reader_progress.add_bytes(input.size.unwrap_or(0));
            }
            files
        });
        for _ in 0..jobs {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let spent_tx = spent_tx.clone();
            let trust = &opts.trust;
            let compress = opts.data.is_some();
            scope.spawn(move || {
                let mut zstd = FrameCompressor::new();
                let mut raw_buf = Vec::new();
                for mut chunk in work_rx {
                    let done = process_chunk(
                        &mut chunk,
                        trust,
                        ingest_time,
                        compress.then_some((&mut zstd, &mut raw_buf)),
                    );
                    // When the reader is gone or behind, the chunk is
                    // simply freed here.
                    let _ = spent_tx.try_send(chunk);
                    if done_tx.send(done).is_err() {
                        return;
                    }
                }
            });
        }
        drop(work_rx);
        drop(done_tx);
        drop(spent_tx);
        for chunk in done_rx {
            for q in chunk.quarantined {
                summary.read += 1;
                summary.bytes += q.bytes.len() as u64;
                summary.quarantine(&q.reason);
                if let Some(w) = writer.as_mut() {
                    w.add_quarantine(&q).context("writing quarantine")?;
                }
            }
            for c in chunk.counted {
                summary.read += 1;
                summary.bytes += c.size;
                if seen_no_store.insert(c.sha256) {
                    summary.stored += 1;
                    summary.urls += c.urls;
                } else {
                    summary.duplicate += 1;
                }
            }
            for frame in chunk.frames {
                // Frames are only made when storing.
                let Some(w) = writer.as_mut() else { break };
                let n = frame.members.len() as u64;
                summary.read += n;
                let urls: Vec<u64> = frame.members.iter().map(|m| m.urls.len() as u64).collect();
                summary.bytes += frame.members.iter().map(|m| m.msg.size).sum::<u64>();
                let outcomes = w
                    .add_frame(&frame.compressed, frame.members)
                    .context("writing to the store")?;
                for (o, u) in outcomes.iter().zip(urls) {
                    if matches!(o, depeer_store::AddOutcome::Stored) {
                        summary.stored += 1;
                        summary.urls += u;
                    } else {
                        summary.duplicate += 1;
                    }
                }
            }
            progress.set_count(summary.read);
        }
        summary.files = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread failed"))?;
        Ok(())
    });
    result?;
    if let Some(w) = writer {
        w.finish().context("committing the last batch")?;
    }
    progress.finish();
    summary.seconds = start.elapsed().as_secs_f64();
    summary.messages_per_second = if summary.seconds > 0.0 {
        summary.read as f64 / summary.seconds
    } else {
        0.0
    };
    Ok(summary)
}

fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Extracts every message of a chunk; with `store`, packs the raw bytes of
/// consecutive messages into shared zstd frames of about
/// [`FRAME_TARGET_BYTES`] (see `MessageWriter::add_frame` for why). The
/// message buffers stay in the chunk, which goes back to the reader thread:
/// freed where they were allocated, their memory is reused for the next
/// messages instead of the allocator taking fresh pages.
fn process_chunk(
    chunk: &mut [Work],
    trust: &TrustConfig,
    ingest_time: Timestamp,
    mut store: Option<(&mut FrameCompressor, &mut Vec<u8>)>,
) -> Done {
    let mut done = Done::default();
    let mut members = Vec::new();
    let flush = |members: &mut Vec<FrameMember>,
                 store: &mut Option<(&mut FrameCompressor, &mut Vec<u8>)>,
                 done: &mut Done| {
        if members.is_empty() {
            return;
        }
        if let Some((zstd, buf)) = store {
            let compressed = zstd.compress(buf);
            buf.clear();
            done.frames.push(DoneFrame {
                compressed,
                members: std::mem::take(members),
            });
        }
    };
    for w in chunk {
        match w {
            Work::Broken(q) => done.quarantined.push(std::mem::replace(
                q,
                Quarantine {
                    source: SourceRef::default(),
                    reason: String::new(),
                    detail: String::new(),
                    bytes: Vec::new(),
                    truncated: false,
                },
            )),
            Work::Message(raw, file) => {
                let source = SourceRef::new(file.display.clone(), raw.offset, raw.index);
                let mut ctx = ExtractContext::new(trust, source, ingest_time);
                ctx.mbox_from_time = raw.mbox_from_time;
                ctx.envelope_sender = raw.envelope_sender.take();
                ctx.file_time = file.mtime;
                match depeer_mail::extract(&raw.bytes, &ctx) {
                    Ok(Extracted { message, urls }) => {
                        let Some((_, buf)) = store.as_mut() else {
                            done.counted.push(Counted {
                                sha256: message.sha256,
                                size: message.size,
                                urls: urls.len() as u64,
                            });
                            continue;
                        };
                        if !buf.is_empty() && buf.len() + raw.bytes.len() > FRAME_TARGET_BYTES {
                            flush(&mut members, &mut store, &mut done);
                        }
                        let Some((_, buf)) = store.as_mut() else {
                            continue;
                        };
                        let inner_offset = buf.len() as u64;
                        buf.extend_from_slice(&raw.bytes);
                        members.push(FrameMember::new(message, urls, inner_offset));
                    }
                    Err(e) => done.quarantined.push(Quarantine {
                        source: ctx.source,
                        reason: e.reason().to_string(),
                        detail: e.to_string(),
                        bytes: std::mem::take(&mut raw.bytes),
                        truncated: false,
                    }),
                }
            }
        }
    }
    flush(&mut members, &mut store, &mut done);
    done
}

/// Sends chunks of work to the workers, in vectors that come back from them
/// (`spent`) with the message buffers still in them.
struct Chunker<'a> {
    tx: &'a crossbeam_channel::Sender<Vec<Work>>,
    spent: &'a crossbeam_channel::Receiver<Vec<Work>>,
    /// Message buffers of spent chunks, for the framer to read into.
    spare: Vec<Vec<u8>>,
    buf: Vec<Work>,
    bytes: usize,
}

impl Chunker<'_> {
    fn push(&mut self, w: Work) {
        self.bytes += match &w {
            Work::Message(m, _) => m.bytes.len(),
            Work::Broken(q) => q.bytes.len(),
        };
        self.buf.push(w);
        if self.buf.len() >= CHUNK_MESSAGES || self.bytes >= CHUNK_BYTES {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        // Free the spent chunks here, on the thread that allocated their
        // message buffers; keep one vector for the next chunk.
        let mut next = None;
        while let Ok(mut spent) = self.spent.try_recv() {
            for w in spent.drain(..) {
                if let Work::Message(m, _) = w
                    && self.spare.len() < depeer_mail::SPARE_BUFFERS
                {
                    self.spare.push(m.bytes);
                }
            }
            next = Some(spent);
        }
        let next = next.unwrap_or_else(|| Vec::with_capacity(CHUNK_MESSAGES));
        let chunk = std::mem::replace(&mut self.buf, next);
        self.bytes = 0;
        // The receivers only go away when the run is failing anyway.
        let _ = self.tx.send(chunk);
    }
}

impl Drop for Chunker<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

fn stream_error(display: &str, offset: u64, index: u64, e: &std::io::Error) -> Quarantine {
    let reason = match depeer_io::limit_error(e) {
        Some(l) => l.reason(),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => "truncated-input",
        None => "unreadable",
    };
    Quarantine {
        source: SourceRef::new(display, offset, index),
        reason: reason.to_string(),
        detail: format!("{display}: stopped reading at byte {offset}: {e}"),
        bytes: Vec::new(),
        truncated: true,
    }
}

/// Reads one input and sends its messages (and what could not be read) on.
fn read_input(input: &Input, opts: &IngestOptions, chunker: &mut Chunker<'_>) {
    let file = Arc::new(FileCtx {
        display: input.display.clone(),
        mtime: input.mtime,
    });
    let raw = match input.open() {
        Ok(r) => r,
        Err(e) => {
            chunker.push(Work::Broken(Quarantine {
                source: SourceRef::new(&input.display, 0, 0),
                reason: e.reason().to_string(),
                detail: e.to_string(),
                bytes: Vec::new(),
                truncated: true,
            }));
            return;
        }
    };
    let mut decoded = match depeer_io::open_decoded(raw, opts.limits) {
        Ok(d) => d,
        Err(e) => {
            chunker.push(Work::Broken(stream_error(&input.display, 0, 0, &e)));
            return;
        }
    };
    let framing = if input.in_maildir {
        Framing::Single
    } else {
        match decoded.reader.fill_buf() {
            Ok(head) => depeer_mail::sniff_framing(head),
            Err(e) => {
                chunker.push(Work::Broken(stream_error(&input.display, 0, 0, &e)));
                return;
            }
        }
    };
    let mut reader =
        MessageReader::new(decoded.reader, framing).max_message_size(opts.max_message as u64);
    for buf in chunker.spare.drain(..) {
        reader.recycle(buf);
    }
    while let Some(item) = reader.next() {
        for buf in chunker.spare.drain(..) {
            reader.recycle(buf);
        }
        match item {
            Ok(m) => chunker.push(Work::Message(m, file.clone())),
            Err(MailError::Oversize {
                offset,
                index,
                size,
                cap,
                prefix,
            }) => chunker.push(Work::Broken(Quarantine {
                source: SourceRef::new(&input.display, offset, index),
                reason: "oversize".into(),
                detail: format!(
                    "{}: message #{index} at byte {offset} has {size} bytes, more than {cap} \
                     (raise --max-message if it is genuine)",
                    input.display
                ),
                bytes: prefix,
                truncated: true,
            })),
            Err(MailError::Io { offset, source }) => {
                chunker.push(Work::Broken(stream_error(
                    &input.display,
                    offset,
                    0,
                    &source,
                )));
                break;
            }
            Err(e) => chunker.push(Work::Broken(Quarantine {
                source: SourceRef::new(&input.display, 0, 0),
                reason: e.reason().to_string(),
                detail: format!("{}: {e}", input.display),
                bytes: Vec::new(),
                truncated: true,
            })),
        }
    }
    chunker.spare.extend(reader.into_spare());
}

/// Whether a path is an existing data directory.
pub fn is_dataset(dir: &Path) -> bool {
    dir.join("tables").is_dir()
}
