//! Why a NATS command stopped. Objects that cannot be used are not errors
//! (they are counted, or quarantined by the workers).

use std::path::PathBuf;

/// Why `depeer nats setup`, a producer or a worker stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime {
        /// The cause.
        source: std::io::Error,
    },
    /// The server could not be reached.
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect {
        /// The URL given.
        url: String,
        /// The client's reason.
        detail: String,
    },
    /// A JetStream request failed (stream or consumer missing, limits,
    /// timeouts after retries).
    #[error("JetStream: {what}: {detail}")]
    JetStream {
        /// What was being done.
        what: String,
        /// The client's or server's reason.
        detail: String,
    },
    /// The stream exists with a setting that cannot be changed in place.
    #[error(
        "the stream {stream} exists with {setting} = {found}, not {wanted}: delete it \
         (nats stream rm {stream}) or use another --stream"
    )]
    StreamMismatch {
        /// The stream.
        stream: String,
        /// The setting.
        setting: &'static str,
        /// What the server has.
        found: String,
        /// What setup asked for.
        wanted: String,
    },
    /// A flag value is not usable.
    #[error("{0}")]
    Usage(String),
    /// A pipeline call failed (reading inputs, the store).
    #[error(transparent)]
    Ingest(#[from] depeer_ingest::IngestError),
    /// The data directory could not be written.
    #[error("cannot open the data directory {}: {source}", .dir.display())]
    Store {
        /// The directory.
        dir: PathBuf,
        /// The cause.
        source: depeer_store::StoreError,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A worker thread failed (a bug, reported instead of propagated).
    #[error("a worker task failed: {0}")]
    Task(String),
}

impl NatsError {
    /// A JetStream error of `what`.
    pub(crate) fn js(what: impl Into<String>) -> impl FnOnce(String) -> NatsError {
        let what = what.into();
        move |detail| NatsError::JetStream { what, detail }
    }
}
