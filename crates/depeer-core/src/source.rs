//! Where a record came from, and what happens to input that cannot be used.

use serde::{Deserialize, Serialize};

/// The location of one record in its input: the file (or `-` for stdin,
/// or `dir/file` inside a tree), the byte offset of the record's first byte in
/// the *decompressed* stream, and its 0-based index among the records of
/// that file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct SourceRef {
    /// Path of the file as given or found in a tree walk; `-` for stdin.
    pub path: String,
    /// Byte offset of the record in the decompressed stream.
    pub offset: u64,
    /// 0-based index of the record within the file.
    pub index: u64,
}

impl SourceRef {
    /// A source reference.
    pub fn new(path: impl Into<String>, offset: u64, index: u64) -> Self {
        Self {
            path: path.into(),
            offset,
            index,
        }
    }
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: byte {}, record #{}",
            self.path, self.offset, self.index
        )
    }
}

/// A record that could not be used: kept with its bytes and the reason, so
/// nothing is dropped silently and an analyst can look at it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    /// Where the record was.
    pub source: SourceRef,
    /// A short, stable, machine-readable reason (`kebab-case`), used as the
    /// key of `quarantine_reasons` counts, e.g. `no-header`, `oversize`,
    /// `decompress-limit`, `truncated-record`.
    pub reason: String,
    /// A human-readable explanation.
    pub detail: String,
    /// The offending bytes (possibly capped; see `truncated`).
    pub bytes: Vec<u8>,
    /// Whether `bytes` is only a prefix of the record.
    pub truncated: bool,
}
