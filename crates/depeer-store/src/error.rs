//! The one error type of the store. Every variant says where it happened
//! (a path, a query, a manifest line) so that a person can act on it.

use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`create`, `rename`, `fsync`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another process holds the writer lock of the data directory.
    #[error(
        "another depeer is writing to {dir} (its lock {lock} is held): wait for it to finish, \
         or use a different --data directory"
    )]
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The directory is not a depeer dataset.
    #[error("no dataset at {dir}: run `depeer ingest mail --data {dir} ...` first")]
    NoDataset {
        /// The directory that was given.
        dir: PathBuf,
    },
    /// Reading or writing a Parquet file failed.
    #[error("parquet file {path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The Parquet error.
        source: datafusion::parquet::errors::ParquetError,
    },
    /// Building or converting an Arrow array failed.
    #[error("arrow ({context}): {source}")]
    Arrow {
        /// What was being built.
        context: &'static str,
        /// The Arrow error.
        source: datafusion::arrow::error::ArrowError,
    },
    /// The statement is not a read: `depeer sql` runs only queries.
    #[error(
        "refused: {statement} is not a read; depeer sql is read-only and runs only SELECT, \
         WITH, VALUES, EXPLAIN, SHOW and DESCRIBE (write with `depeer ingest`)"
    )]
    ReadOnly {
        /// The kind of statement that was refused (`INSERT`, `COPY`, ...).
        statement: String,
    },
    /// The query ran past its time limit and was stopped.
    #[error(
        "query stopped after {seconds} s (its time limit): narrow it (a WHERE on `day` or \
         `time`, a LIMIT) or raise --timeout"
    )]
    QueryTimeout {
        /// The limit, in seconds.
        seconds: f64,
    },
    /// The query needed more memory than its limit.
    #[error(
        "query stopped: it needs more than its memory limit of {limit_mb} MB ({detail}); \
         narrow it (a WHERE, a LIMIT, fewer GROUP BY keys) or raise --memory-limit"
    )]
    QueryMemory {
        /// The limit in MB.
        limit_mb: u64,
        /// DataFusion's account of the allocation that failed.
        detail: String,
    },
    /// A SQL query failed (parse, plan or execution).
    #[error("query failed: {}", error.find_root())]
    Sql {
        /// The query text.
        query: String,
        /// The DataFusion error (in the message, not chained, because
        /// DataFusion's own display already repeats its causes).
        error: Box<datafusion::error::DataFusionError>,
    },
    /// A commit manifest could not be read.
    #[error("commit manifest {path}, line {line}: {reason}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A stored file does not have the expected content.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A row could not be converted back to its typed form.
    #[error("table {table}, row {row}: {reason}")]
    BadRow {
        /// The table.
        table: &'static str,
        /// 0-based row number in the read.
        row: usize,
        /// What is wrong.
        reason: String,
    },
    /// `add` was given an empty compressed message (see `compress_raw`).
    #[error("message {sha256}: compressed raw bytes are empty")]
    EmptyRaw {
        /// Hex SHA-256 of the message.
        sha256: String,
    },
    /// A hash prefix that is not hex or is shorter than 8 characters.
    #[error("{prefix:?} is not a SHA-256 or a hex prefix of at least 8 characters")]
    BadHash {
        /// What was given.
        prefix: String,
    },
    /// A hash prefix that matches more than one stored message.
    #[error("{prefix} matches {count} stored messages; give more characters")]
    AmbiguousHash {
        /// What was given.
        prefix: String,
        /// How many messages it matches.
        count: usize,
    },
    /// The evidence log (reading it, signing a checkpoint).
    #[error("evidence log: {0}")]
    Evidence(#[from] depeer_evidence::EvidenceError),
    /// Test hook: the commit stopped at an injected crash point.
    #[error("injected crash after commit step {step}")]
    InjectedCrash {
        /// The step after which the commit stopped.
        step: usize,
    },
    /// The thread committing a batch in the background stopped without
    /// an answer; the batch is not committed (the next open removes it).
    #[error("the background commit of batch {batch} failed unexpectedly; run the ingest again")]
    CommitThread {
        /// The batch id.
        batch: String,
    },
}

impl StoreError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| StoreError::Io { op, path, source }
    }

    pub(crate) fn parquet(
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(datafusion::parquet::errors::ParquetError) -> Self {
        let path = path.into();
        move |source| StoreError::Parquet { path, source }
    }

    pub(crate) fn arrow(
        context: &'static str,
    ) -> impl FnOnce(datafusion::arrow::error::ArrowError) -> Self {
        move |source| StoreError::Arrow { context, source }
    }
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
