//! The row of the `feed_entries` table: one listing of one threat feed,
//! kept as evidence with its source (a listing is never the truth).

use crate::Timestamp;

/// One row of `feed_entries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntryObs {
    /// Who published it (`--source`, or the format's default name).
    pub source: String,
    /// What the feed lists: `cnc`, `url`, `pdns`, `bots` or `net`.
    pub kind: String,
    /// The listed thing: an IP address, a URL, a DNS name, a CIDR or `AS<n>`.
    pub indicator: String,
    /// For passive DNS: the address the name resolved to.
    pub address: Option<String>,
    /// The canonical family name (lowercase, aliases merged), when listed.
    pub family: Option<String>,
    /// The C&C port, when listed.
    pub port: Option<u16>,
    /// The publisher's first-seen time.
    pub first_seen: Option<Timestamp>,
    /// The publisher's last-seen time.
    pub last_seen: Option<Timestamp>,
    /// When depeer read it.
    pub ingest_time: Timestamp,
    /// The file it came from (`-` for stdin).
    pub source_file: String,
    /// Its 1-based line in that file.
    pub source_line: u64,
    /// The listing's identity (hex): the same listing read again has the
    /// same key, so re-ingesting a file adds nothing.
    pub key: String,
    /// The lowercase hex SHA-256 of the record (line) it was read from,
    /// stored and logged as a `feed` evidence object; `None` for rows
    /// stored before feed records were kept.
    pub sha256: Option<String>,
}
