//! Ingest through NATS JetStream (issue 24): producers publish raw objects
//! to one stream, workers on any number of machines pull them from one
//! durable consumer and run them through the same pipeline as embedded
//! ingest (`depeer_ingest`), committing to one dataset.
//!
//! ```text
//! producers (ingest --to, trap --to)     JetStream stream DEPEER          workers (depeer worker)
//! mail: one message per message   ─┐   depeer.obj.mail      ─┐
//! trap: one message + envelope     ├─> depeer.obj.smtp       │
//! broken input (quarantine)        ├─> depeer.obj.quarantine ├─ durable pull consumer ─> extract, commit, ack
//! mrt / feed / as2org: one job     │   depeer.obj.{mrt,feed,as2org}  (filter depeer.obj.>)
//!   per command, its files in parts┘   depeer.part.<kind>   (read by sequence, deleted after the job)
//! ```
//!
//! **Identity and duplicates.** Every object is published with
//! `Nats-Msg-Id` = its SHA-256 (a mail message: of its bytes; a job: of its
//! kind, options and every file's path and SHA-256; a part: of its job's id,
//! file and part number), so JetStream's duplicate window drops a re-send,
//! and the producer waits for the stream's acknowledgement of each publish.
//! Past the window the dataset still stores each message once (the store
//! de-duplicates by SHA-256, feeds by listing key) and a job once (a marker
//! per finished job, see below).
//!
//! **Large objects.** An object larger than the server's maximum payload
//! (less room for headers) travels in parts on `depeer.part.<kind>`: files
//! of a job always do, cut at record boundaries (MRT records, feed lines)
//! when the file is not compressed, else at byte boundaries; the object's
//! own message lists the parts' stream sequences. Nothing is refused for
//! size below `--max-message` (mail) or the stream's `max_bytes`.
//!
//! **Workers and the one dataset.** A worker extracts a fetched batch
//! (the CPU-heavy part) without any lock, then takes the dataset's writer
//! lock (the store's `LOCK` file, `flock`: one writer at a time, for every
//! process on the machine, or on a shared filesystem whose `flock` works
//! across clients, e.g. NFSv4, CephFS), writes and commits the batch with
//! the store's journal (staging → `COMMIT` → rename: a batch is all or
//! nothing), releases the lock, and only then acknowledges the batch's
//! messages. The evidence log is appended inside that same commit, under
//! that same lock, so there is one sequencer and one append-only log
//! whatever the number of workers. A worker killed at any point leaves
//! either a committed batch whose messages are delivered again (and found
//! already stored: counted as duplicates, acknowledged) or nothing.
//! Between batches a worker releases the lock but keeps the keys of the
//! stored messages and the log's tree edge it read (`Store::release`);
//! the next open reads only the parts and log segments committed since,
//! by itself or by others (`Store::open_warm`), so a commit costs
//! O(batch), not O(stored messages): see docs/SCALING.md for where the
//! one-writer limit sits and what comes next (per-partition writers).
//!
//! **Jobs.** An MRT, feed or as2org job is the file set of one `depeer
//! ingest` command: the worker writes the files into its scratch directory
//! under the names the producer gave them and runs the very library call of
//! the command (`ingest_mrt`, `ingest_feed`, `ingest_as2org`) on them, so
//! the routing history is built from the same files in one run, as
//! embedded. A job that finished leaves a marker (`cluster/jobs/<id>` in
//! the data directory) so that a redelivery after a crash between the
//! commit and the acknowledgement is acknowledged without running again.
//!
//! **Ordering.** Objects are delivered in stream order, but two workers
//! commit in any order. Attribution needs the routes, AS names and feeds
//! of the mail's time: a worker attributes only when the consumer is idle
//! (nothing pending, nothing unacknowledged: everything published is
//! committed), the new messages when mail was committed, every message
//! (`depeer attribute`'s rewrite of the changed days) when routing or feeds
//! were. Publish routing and feeds before the mail that depends on them,
//! as with embedded ingest; feeds that come later re-attribute at the next
//! idle moment.
//!
//! **Poison.** Acknowledgements are explicit; the consumer has an ack wait
//! (the worker reports progress on long jobs) and a maximum number of
//! deliveries. An object whose processing fails is negatively
//! acknowledged; on its last delivery it goes to the dataset's
//! `quarantine` with the reason (`nats-poison`) and is acknowledged, so it
//! never blocks the stream.

mod error;
mod jobs;
mod parts;
mod producer;
mod setup;
mod trap;
mod wire;
mod worker;

pub use error::NatsError;
pub use jobs::{As2orgJob, FeedJob, MrtJob, publish_as2org, publish_feed, publish_mrt};
pub use producer::{ProduceOptions, ProduceSummary, publish_mail};
pub use setup::{SetupOptions, SetupSummary, parse_duration, setup};
pub use trap::NatsForward;
pub use wire::JobKind;
pub use worker::{WorkerOptions, WorkerSummary, run_worker};

/// The stream's default name.
pub const STREAM: &str = "DEPEER";
/// The workers' durable consumer's default name.
pub const CONSUMER: &str = "depeer-workers";

/// A tokio runtime for one command (the library calls are synchronous).
fn runtime() -> Result<tokio::runtime::Runtime, NatsError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| NatsError::Runtime { source })
}

/// Connects to `url` (`nats://host:port`, or `host:port`).
async fn connect(url: &str) -> Result<async_nats::Client, NatsError> {
    async_nats::ConnectOptions::new()
        .name("depeer")
        .connect(url)
        .await
        .map_err(|e| NatsError::Connect {
            url: url.to_string(),
            detail: e.to_string(),
        })
}
