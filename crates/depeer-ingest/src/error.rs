//! The one error type of the pipelines. An error here stops a run; input
//! that cannot be used is not an error but a quarantine entry.

use std::path::PathBuf;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// None of the paths given holds anything to read.
    #[error("nothing to read: {}; give {expected}", found_text(.problems))]
    NothingToRead {
        /// What the paths should have been (for the message).
        expected: &'static str,
        /// Why each path was not usable (empty: no files found).
        problems: Vec<String>,
    },
    /// An input could not be opened.
    #[error(transparent)]
    Open(#[from] depeer_io::IoError),
    /// An input could not be read or decoded.
    #[error("{path}: cannot read")]
    Read {
        /// The input as named on the command line or in the tree walk.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A routing file (as-rel, pyasn table, AS names) is not in its format.
    #[error(transparent)]
    Routing(#[from] depeer_routing::RoutingError),
    /// The data directory could not be opened (locked, not a dataset, ...).
    #[error("cannot open the data directory {}", .dir.display())]
    OpenStore {
        /// The directory.
        dir: PathBuf,
        /// The cause.
        source: depeer_store::StoreError,
    },
    /// Writing to the dataset failed; what was committed before stays, the
    /// current batch is not visible.
    #[error("{step}")]
    Store {
        /// What was being written (`writing routes`, `committing the last batch`, ...).
        step: &'static str,
        /// The cause.
        source: depeer_store::StoreError,
    },
    /// The caller's output (the MRT dump) could not be written.
    #[error("writing the dump")]
    Output {
        /// The cause (a closed pipe is one).
        source: std::io::Error,
    },
    /// A file the caller asked for (a generated zone) could not be written.
    #[error("cannot write {}", .path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A pipeline thread panicked: a bug, reported instead of propagated.
    #[error("the {thread} thread failed")]
    Thread {
        /// Which thread.
        thread: &'static str,
    },
    /// A file an analysis writes could not be written.
    #[error("{}: cannot write", .path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// There is nothing to report on (`depeer report`): no messages stored.
    #[error("{}: no messages stored; run `depeer ingest mail` first", .dir.display())]
    NoMessages {
        /// The data directory.
        dir: PathBuf,
    },
    /// A duration or series parameter is not usable (`--window 5x`).
    #[error(transparent)]
    Series(#[from] depeer_analysis::SeriesError),
    /// The ranking could not be made (its shipped weights do not load).
    #[error("ranking: {0}")]
    Rank(String),
    /// The read side could not answer (`depeer_ingest::read`).
    #[error(transparent)]
    ReadSide(#[from] crate::read::ReadError),
    /// The evidence log or a dossier is missing, malformed or does not
    /// verify (the message names the object, file and offset).
    #[error(transparent)]
    Evidence(#[from] depeer_evidence::EvidenceError),
    /// The data directory has no evidence log yet.
    #[error("{}: no evidence log; run `depeer ingest` into it first", .dir.display())]
    NoLog {
        /// The data directory.
        dir: PathBuf,
    },
    /// A dossier subject that is not an AS, address, prefix or domain.
    #[error("{subject:?} is not an AS (AS26780), an address, a prefix (a.b.c.d/n) or a domain")]
    BadSubject {
        /// As given.
        subject: String,
    },
    /// No entry of the log is for this object.
    #[error("no log entry for the object {sha256}")]
    NotLogged {
        /// The object's SHA-256 as given.
        sha256: String,
    },
    /// A consistency proof was asked from a size the log never had.
    #[error("cannot prove consistency from size {old} to the latest checkpoint's {latest}")]
    BadSize {
        /// The size asked for.
        old: u64,
        /// The latest checkpoint's size.
        latest: u64,
    },
}

fn found_text(problems: &[String]) -> String {
    if problems.is_empty() {
        "no files found".to_string()
    } else {
        problems.join("; ")
    }
}

impl IngestError {
    /// A store error with the step that failed.
    pub(crate) fn store(step: &'static str) -> impl FnOnce(depeer_store::StoreError) -> Self {
        move |source| IngestError::Store { step, source }
    }
}

/// An error and its causes on one line (`a: b: c`), for logs.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
