//! MRT routing data (RFC 6396) for depeer.
//!
//! * [`Framer`] cuts a decompressed stream into records by their 12-byte
//!   common header, keeping file, byte offset and index for every record.
//! * [`MrtReader`] parses each record's body with bgpkit-parser and turns it
//!   into [`Elem`]s (RIB entries, announcements, withdrawals, session state
//!   changes). It is a `Result` iterator: a record that does not frame or
//!   parse is an [`MrtError`] with the raw bytes, which
//!   [`MrtError::to_quarantine`] turns into a [`Quarantine`]; the reader then
//!   goes on with the next record.
//! * [`dump_lines`] prints a record the way `bgpdump -m` does (the fields
//!   the conformance script compares).
//!
//! Decompression is the caller's job (depeer-io's capped reader).
//!
//! ```
//! use depeer_mrt::{Elem, MrtReader};
//! // One BGP4MP STATE_CHANGE record: peer AS 65001, 192.0.2.1, Idle -> Connect.
//! let mut rec = vec![0, 0, 0, 1, 0, 16, 0, 0, 0, 0, 0, 20];
//! rec.extend([0xfd, 0xe9, 0, 1, 0, 0, 0, 1, 192, 0, 2, 1, 192, 0, 2, 2, 0, 1, 0, 2]);
//! let out: Vec<_> = MrtReader::new(&rec[..], "mem").collect();
//! assert!(matches!(out[0].as_ref().unwrap().elems[0], Elem::State { old: 1, new: 2, .. }));
//! ```
// An `MrtError` carries the offending bytes to quarantine; it is built once
// per bad record, so its size does not matter on the hot path.
#![allow(clippy::result_large_err)]

mod as_path;
mod dump;
mod framer;
mod reader;

use std::collections::BTreeMap;

pub use as_path::{AsPath, Segment, SegmentKind};
pub use depeer_core::Quarantine;
pub use dump::dump_lines;
pub use framer::{Framer, HEADER_LEN, Header, MAX_BODY_LEN, RawRecord};
pub use reader::{Elem, MrtReader, MrtRecord, Peer};

use depeer_core::SourceRef;

/// Errors of this crate; every one is located and carries the offending
/// bytes (at most 64 KiB).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MrtError {
    /// The stream ended inside a record.
    #[error("{at}: truncated record: need {need} bytes, have {have}")]
    Truncated {
        /// Where the record started.
        at: SourceRef,
        /// Bytes the header declared (header included).
        need: u64,
        /// Bytes there were.
        have: u64,
        /// Those bytes.
        bytes: Vec<u8>,
    },
    /// The decompressed stream broke (a cut or corrupt compressed file).
    #[error("{at}: input stream ended with an error after {have} bytes of a record: {detail}")]
    Stream {
        /// Where the record started.
        at: SourceRef,
        /// Bytes of the record that were read.
        have: u64,
        /// The read error.
        detail: String,
        /// Those bytes.
        bytes: Vec<u8>,
    },
    /// A header declared an impossible length; `skipped` bytes were dropped
    /// to find the next plausible header.
    #[error("{at}: impossible record length {length}; skipped {skipped} bytes to resynchronise")]
    BadLength {
        /// Where the header was.
        at: SourceRef,
        /// The declared length.
        length: u32,
        /// Bytes dropped.
        skipped: u64,
        /// The first of them.
        bytes: Vec<u8>,
    },
    /// A framed record whose body could not be used.
    #[error("{at}: {type_name}: {reason}: {detail}")]
    Record {
        /// Where it was.
        at: SourceRef,
        /// Its type name, e.g. `BGP4MP/MESSAGE_AS4`.
        type_name: String,
        /// Short reason code (`unsupported-type`, `bad-message`,
        /// `truncated-message`, `missing-peer-table`).
        reason: &'static str,
        /// What the parser said.
        detail: String,
        /// The whole record.
        bytes: Vec<u8>,
    },
}

impl MrtError {
    /// The stable reason code used in summaries and quarantine.
    pub fn reason(&self) -> &'static str {
        match self {
            MrtError::Truncated { .. } => "truncated-record",
            MrtError::Stream { .. } => "truncated-stream",
            MrtError::BadLength { .. } => "bad-length",
            MrtError::Record { reason, .. } => reason,
        }
    }

    /// Where it happened.
    pub fn source(&self) -> &SourceRef {
        match self {
            MrtError::Truncated { at, .. }
            | MrtError::Stream { at, .. }
            | MrtError::BadLength { at, .. }
            | MrtError::Record { at, .. } => at,
        }
    }

    /// The quarantine entry for this error (bytes included).
    pub fn to_quarantine(&self) -> Quarantine {
        let bytes = match self {
            MrtError::Truncated { bytes, .. }
            | MrtError::Stream { bytes, .. }
            | MrtError::BadLength { bytes, .. }
            | MrtError::Record { bytes, .. } => bytes,
        };
        let truncated = match self {
            MrtError::BadLength { skipped, .. } => *skipped > bytes.len() as u64,
            MrtError::Truncated { have, .. } | MrtError::Stream { have, .. } => {
                *have > bytes.len() as u64
            }
            MrtError::Record { .. } => false,
        };
        Quarantine {
            source: self.source().clone(),
            reason: self.reason().to_string(),
            detail: self.to_string(),
            bytes: bytes.clone(),
            truncated,
        }
    }
}

/// Counts of one read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Records (or corrupt stretches) met.
    pub records_read: u64,
    /// Records parsed.
    pub records_used: u64,
    /// Quarantined records by reason.
    pub quarantined: BTreeMap<String, u64>,
    /// Parsed records by type name.
    pub by_type: BTreeMap<String, u64>,
    /// Elements (per-prefix entries, state changes) produced.
    pub elems: u64,
    /// TABLE_DUMP_V2 RIB records met before any PEER_INDEX_TABLE (a dump cut
    /// at its start): used, with the peer unknown (0.0.0.0, AS 0), as pyasn
    /// does; bgpdump prints nothing for them.
    pub rib_without_peer_table: u64,
}

impl Summary {
    /// Adds another summary's counts.
    pub fn add(&mut self, o: &Summary) {
        self.records_read += o.records_read;
        self.records_used += o.records_used;
        self.elems += o.elems;
        self.rib_without_peer_table += o.rib_without_peer_table;
        for (k, v) in &o.quarantined {
            *self.quarantined.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &o.by_type {
            *self.by_type.entry(k.clone()).or_insert(0) += v;
        }
    }

    /// Records quarantined, all reasons.
    pub fn quarantined_total(&self) -> u64 {
        self.quarantined.values().sum()
    }
}
