//! The one error type of the crate. Every variant says where (byte offset,
//! message index) and why, and [`MailError::reason`] gives the stable,
//! kebab-case code that ingestion uses as the quarantine reason.

/// Why a stream could not be framed or a message could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// Reading the input failed.
    #[error("read error at byte {offset}: {source}")]
    Io {
        /// Byte offset in the (decompressed) stream where reading failed.
        offset: u64,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A framed message is larger than the per-message cap. The framer
    /// keeps the first `cap` bytes in `prefix` (for quarantine), skips the
    /// rest and continues with the next message.
    #[error("message #{index} at byte {offset} has {size} bytes, more than the cap of {cap}")]
    Oversize {
        /// Byte offset of the record (its `From ` line, if any).
        offset: u64,
        /// 0-based index of the record in its stream.
        index: u64,
        /// Full size of the message in bytes (counted, not kept).
        size: u64,
        /// The cap that was exceeded.
        cap: u64,
        /// The first `cap` bytes of the message (empty when the caller
        /// already holds the bytes, as in `extract`).
        prefix: Vec<u8>,
    },
    /// The message has no bytes (or only white space).
    #[error("message is empty")]
    Empty,
    /// The first line is not a header field (`Name: value`).
    #[error("no header: the first line {first_line:?} is not a header field")]
    NoHeader {
        /// The first line (at most 80 bytes, lossily decoded).
        first_line: String,
    },
    /// The bytes do not look like text at all (binary data).
    #[error("not mail: {control} of the first {examined} bytes are control or NUL bytes")]
    NotMail {
        /// How many bytes were examined.
        examined: usize,
        /// How many of them were control bytes other than TAB, CR, LF.
        control: usize,
    },
    /// A trust file entry is neither a network nor a host name.
    #[error("{origin}:{line}: {entry:?} is not an IP, a CIDR network or a host name")]
    TrustSyntax {
        /// The file (as given).
        origin: String,
        /// 1-based line number.
        line: usize,
        /// The offending entry.
        entry: String,
    },
    /// A trust file could not be read.
    #[error("cannot read trust file {path}: {source}")]
    TrustFile {
        /// The file (as given).
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The header block has more fields than the cap.
    #[error("more than {cap} header fields")]
    TooManyHeaders {
        /// The cap that was exceeded.
        cap: usize,
    },
}

impl MailError {
    /// The stable, machine-readable reason (`kebab-case`), used as the
    /// quarantine reason and as the key of `quarantine_reasons` counts.
    pub fn reason(&self) -> &'static str {
        match self {
            MailError::Io { .. } => "io-error",
            MailError::Oversize { .. } => "oversize",
            MailError::Empty => "empty",
            MailError::NoHeader { .. } => "no-header",
            MailError::NotMail { .. } => "not-mail",
            MailError::TooManyHeaders { .. } => "too-many-headers",
            MailError::TrustSyntax { .. } => "trust-syntax",
            MailError::TrustFile { .. } => "trust-file",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_kebab_case_and_distinct() {
        let all = [
            MailError::Io {
                offset: 0,
                source: std::io::Error::other("x"),
            },
            MailError::Oversize {
                offset: 0,
                index: 0,
                size: 2,
                cap: 1,
                prefix: vec![],
            },
            MailError::Empty,
            MailError::NoHeader {
                first_line: String::new(),
            },
            MailError::NotMail {
                examined: 1,
                control: 1,
            },
            MailError::TooManyHeaders { cap: 1 },
            MailError::TrustSyntax {
                origin: String::new(),
                line: 1,
                entry: String::new(),
            },
            MailError::TrustFile {
                path: String::new(),
                source: std::io::Error::other("x"),
            },
        ];
        let mut seen = std::collections::HashSet::new();
        for e in &all {
            let r = e.reason();
            assert!(
                r.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{r}"
            );
            assert!(seen.insert(r), "duplicate {r}");
            assert!(!e.to_string().is_empty());
        }
    }
}
