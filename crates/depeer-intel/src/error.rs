//! The crate's one error type. Every variant says where: the feed file and
//! line (and byte offset), or the mapping file and line. A per-line error
//! keeps the offending bytes so the caller can quarantine them; the reader
//! goes on with the next line after it.

use depeer_core::{Quarantine, SourceRef};

/// Errors of `depeer-intel`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntelError {
    /// Reading the feed failed; the reader stops.
    #[error("{file}: read error after line {line}: {source}")]
    Io {
        /// The feed file (`-` for stdin).
        file: String,
        /// The last line read completely.
        line: u64,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No built-in format matches the file's header or first data line, and
    /// none was given; the reader stops.
    #[error(
        "{file}:{line}: cannot tell the feed format from {sample:?}; \
         name it (--format, one of {formats}) or declare a mapping file (--mapping)"
    )]
    UnknownFormat {
        /// The feed file.
        file: String,
        /// The line that was looked at (1-based; 0 when the file is empty).
        line: u64,
        /// The start of that line.
        sample: String,
        /// The built-in format names, comma-separated.
        formats: String,
    },
    /// The format needs a header line and the file has none (or another
    /// one); the reader stops.
    #[error("{file}:{line}: {detail}")]
    Header {
        /// The feed file.
        file: String,
        /// The line looked at as header (1-based; 0 when the file is empty).
        line: u64,
        /// What is wrong.
        detail: String,
    },
    /// The declared kind cannot be read from this format (e.g. `--kind url`
    /// with a C&C IP list); the reader stops.
    #[error("{file}: format {format} lists {lists}, not {kind} entries")]
    KindMismatch {
        /// The feed file.
        file: String,
        /// The format name.
        format: String,
        /// What the format lists.
        lists: String,
        /// The kind asked for.
        kind: String,
    },
    /// A mapping file is invalid (syntax, unknown key, bad column or time
    /// format), or does not fit the feed's header.
    #[error("{file}:{line}: {detail}")]
    Mapping {
        /// The mapping file, or the feed file when the header does not fit.
        file: String,
        /// The line in that file (1-based).
        line: u64,
        /// What is wrong.
        detail: String,
    },
    /// One line (or one JSON object) could not be read. The reader goes on;
    /// the bytes are kept for quarantine.
    #[error("{file}:{line}: {detail} [{reason}]")]
    Line {
        /// The feed file.
        file: String,
        /// The line (1-based; for a multi-line JSON object, its first line).
        line: u64,
        /// Byte offset of the line in the (decompressed) stream.
        offset: u64,
        /// Stable kebab-case reason, e.g. `bad-ip`, `bad-time`, `not-utf8`.
        reason: &'static str,
        /// Human-readable explanation.
        detail: String,
        /// The offending bytes (capped, see `truncated`).
        bytes: Vec<u8>,
        /// Whether `bytes` is only a prefix of the record.
        truncated: bool,
    },
}

impl IntelError {
    /// Whether the reader stops after this error (I/O, unknown format,
    /// header, kind or mapping); a [`IntelError::Line`] error is not fatal.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, IntelError::Line { .. })
    }

    /// The quarantine record of a per-line error (`None` for fatal errors).
    /// `SourceRef.index` is the 0-based line index.
    pub fn to_quarantine(&self) -> Option<Quarantine> {
        match self {
            IntelError::Line {
                file,
                line,
                offset,
                reason,
                detail,
                bytes,
                truncated,
            } => Some(Quarantine {
                source: SourceRef::new(file.clone(), *offset, line.saturating_sub(1)),
                reason: (*reason).to_string(),
                detail: detail.clone(),
                bytes: bytes.clone(),
                truncated: *truncated,
            }),
            _ => None,
        }
    }

    /// The kebab-case reason of a per-line error, for counting.
    pub fn reason(&self) -> &'static str {
        match self {
            IntelError::Io { .. } => "io",
            IntelError::UnknownFormat { .. } => "unknown-format",
            IntelError::Header { .. } => "bad-header",
            IntelError::KindMismatch { .. } => "kind-mismatch",
            IntelError::Mapping { .. } => "bad-mapping",
            IntelError::Line { reason, .. } => reason,
        }
    }
}
