//! [`EvidenceError`]: every way reading, signing or verifying evidence can
//! fail, with the file, line or object it concerns.

use std::path::PathBuf;

use crate::merkle::ProofFailure;

/// Result with [`EvidenceError`].
pub type Result<T, E = EvidenceError> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// A file operation failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Text that should be an entry, note, key, checkpoint or proof is not.
    #[error("malformed {what} (line {line}): {reason}")]
    Malformed {
        /// Which format.
        what: &'static str,
        /// 1-based line (0 when the whole text).
        line: usize,
        /// Why.
        reason: String,
    },
    /// A signature by a trusted key does not verify.
    #[error("invalid signature for key {key}")]
    BadSignature {
        /// `name+keyid`.
        key: String,
    },
    /// No signature of the note is by the trusted key.
    #[error("note has no signature by {key}")]
    NoTrustedSignature {
        /// `name+keyid` of the trusted key.
        key: String,
    },
    /// A Merkle proof does not verify.
    #[error("{what}: {failure}")]
    Proof {
        /// Which proof.
        what: String,
        /// How it failed.
        failure: ProofFailure,
    },
    /// The random number generator failed (key generation).
    #[error("no randomness for a new key: {0}")]
    Random(String),
    /// Something stored disagrees with the log or its checkpoints.
    #[error("{object}: {reason} ({file}, offset {offset})")]
    Discrepancy {
        /// The object or entry concerned.
        object: String,
        /// The file where it was found.
        file: String,
        /// Byte offset (or index) in that file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

impl EvidenceError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| EvidenceError::Io { op, path, source }
    }

    pub(crate) fn malformed(what: &'static str, line: usize, reason: impl Into<String>) -> Self {
        EvidenceError::Malformed {
            what,
            line,
            reason: reason.into(),
        }
    }
}
