//! Threat feeds read as evidence: C&C lists, malicious URL and phishing
//! lists, passive DNS, bot lists and network block lists.
//!
//! [`read_feed`] streams one file (any `BufRead`: the caller decompresses)
//! and yields one [`FeedEntry`] per listing, or an [`IntelError::Line`] for
//! a line it cannot read, with the file, line, offset, reason and the bytes
//! to quarantine; the reader then goes on. Memory stays constant whatever
//! the file size: lines are capped (`FeedOptions::max_record`), one buffer is
//! reused, fields are borrowed from it.
//!
//! A listing is evidence with a source, never the truth: an entry keeps the
//! source name, the publisher's own times (`first_seen`, `last_seen`, absent
//! when the feed has none), our ingest time, and the file and line it came
//! from. [`FeedEntry::dedup_key`] identifies a listing so that re-ingesting a
//! file adds nothing.

/// `Display` and `FromStr` for a fieldless enum with an `ALL` array and a
/// method giving each value its name: parsing takes a name in any ASCII
/// case, trimmed; an unknown one is an error that lists the names.
macro_rules! named_enum {
    ($ty:ident, $name:ident, $what:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.$name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL
                    .into_iter()
                    .find(|v| v.$name().eq_ignore_ascii_case(s.trim()))
                    .ok_or_else(|| {
                        let known = $ty::ALL.map($ty::$name).join(", ");
                        format!(concat!("unknown ", $what, " {:?}; known: {}"), s, known)
                    })
            }
        }
    };
}

mod formats;
mod json;
mod lines;
mod mapping;
mod reader;
mod row;
mod timefmt;

use std::sync::Arc;

use depeer_core::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use formats::Format;
pub use mapping::Mapping;
pub use reader::FeedReader;

/// What a feed lists. The table column `feed_entries.kind` holds
/// [`FeedKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// Botnet command-and-control servers (IP, usually a port and a family).
    Cnc,
    /// Malicious, spam-advertised or phishing URLs.
    Url,
    /// Passive DNS: a name resolved to an address over a time span.
    Pdns,
    /// Infected hosts (bots), usually family-tagged.
    Bots,
    /// Networks to drop: CIDR blocks or AS numbers.
    Net,
}

impl FeedKind {
    /// Every kind.
    pub const ALL: [FeedKind; 5] = [
        FeedKind::Cnc,
        FeedKind::Url,
        FeedKind::Pdns,
        FeedKind::Bots,
        FeedKind::Net,
    ];

    /// The name used on the command line and in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Cnc => "cnc",
            FeedKind::Url => "url",
            FeedKind::Pdns => "pdns",
            FeedKind::Bots => "bots",
            FeedKind::Net => "net",
        }
    }
}

named_enum!(FeedKind, as_str, "feed kind");

/// How to read one feed file.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// What the file lists; `None` takes the format's (or mapping's) own kind.
    pub kind: Option<FeedKind>,
    /// The format; `None` detects it from the first lines. Ignored when a
    /// mapping is given.
    pub format: Option<Format>,
    /// A declared layout for formats that are not built in.
    pub mapping: Option<Mapping>,
    /// The source name stored with every entry; `None` takes the format's
    /// default (e.g. `abuse.ch-feodotracker`) or the mapping's `source`.
    pub source: Option<String>,
    /// The file name stored with every entry and error (`-` for stdin).
    pub path: String,
    /// Our time of ingest, stored with every entry.
    pub ingest_time: Timestamp,
    /// Longest line (or JSON object) kept, in bytes; a longer one is an
    /// `oversize` error with its first bytes quarantined.
    pub max_record: usize,
}

impl FeedOptions {
    /// Detect everything, default source, 64 KiB record cap.
    pub fn new(path: impl Into<String>, ingest_time: Timestamp) -> Self {
        Self {
            kind: None,
            format: None,
            mapping: None,
            source: None,
            path: path.into(),
            ingest_time,
            max_record: 64 * 1024,
        }
    }
}

/// One listing: a row of the `feed_entries` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// Who published it (`--source`, or the format's default).
    pub source: Arc<str>,
    /// What it lists.
    pub kind: FeedKind,
    /// The listed thing: an IP address (canonical text), a URL (as
    /// listed), a DNS name (lowercase, no trailing dot), a CIDR (host bits
    /// cleared) or `AS<number>`.
    pub indicator: String,
    /// For passive DNS: the address the name resolved to. `None` otherwise.
    /// (Not one of the issue's listed columns: without it a passive DNS
    /// listing would lose its answer.)
    pub address: Option<String>,
    /// The family as [`crate::canonical_family`] names it, when listed.
    pub family: Option<Arc<str>>,
    /// The C&C port, when listed.
    pub port: Option<u16>,
    /// The publisher's first-seen time (their clock, their delay).
    pub first_seen: Option<Timestamp>,
    /// The publisher's last-seen (or last-online) time.
    pub last_seen: Option<Timestamp>,
    /// When we read it.
    pub ingest_time: Timestamp,
    /// The file it came from (`-` for stdin).
    pub source_file: Arc<str>,
    /// Its 1-based line in that file (for a multi-line JSON object, the
    /// line where the object starts).
    pub source_line: u64,
    /// The record it was read from, as it is in the file: the line
    /// without its line end (LF or CRLF), or for a JSON array the object
    /// from its `{` to its `}` (line ends inside it as LF). Shared by the
    /// entries of one record. This is the evidence object depeer stores
    /// and logs (kind `feed`).
    pub record: Arc<[u8]>,
    /// Byte offset of the record in the (decompressed) file.
    pub record_offset: u64,
}

impl FeedEntry {
    /// The identity of a listing, for de-duplication: the first 128 bits of
    /// SHA-256 over a version tag and, each length-prefixed, `source`,
    /// `kind`, `indicator`, `address`, `family`, `port` and `first_seen`.
    ///
    /// The same listing read again (the same file re-ingested, or the next
    /// day's copy of a feed that still lists it with the same first-seen
    /// time) has the same key, so a store that keeps one row per key adds
    /// nothing. `last_seen`, `ingest_time` and the file and line are left
    /// out on purpose: they change between copies of one listing (the store
    /// may keep the latest `last_seen`). A listing that the publisher
    /// re-dates, re-labels or moves to another port is new evidence and
    /// gets a new key. Stable across versions and machines; a change to it
    /// must bump the version tag.
    pub fn dedup_key(&self) -> [u8; 16] {
        let mut h = Sha256::new();
        h.update(b"depeer-feed-entry-v1");
        let mut part = |b: &[u8]| {
            h.update((b.len() as u64).to_le_bytes());
            h.update(b);
        };
        part(self.source.as_bytes());
        part(self.kind.as_str().as_bytes());
        part(self.indicator.as_bytes());
        part(self.address.as_deref().unwrap_or("").as_bytes());
        part(self.family.as_deref().unwrap_or("").as_bytes());
        match self.port {
            Some(p) => part(&p.to_be_bytes()),
            None => part(&[]),
        }
        match self.first_seen {
            Some(t) => part(&t.0.to_be_bytes()),
            None => part(&[]),
        }
        let d = h.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(d.get(..16).unwrap_or(&[0u8; 16]));
        out
    }

    /// [`FeedEntry::dedup_key`] as 32 lowercase hex digits.
    pub fn dedup_key_hex(&self) -> String {
        use std::fmt::Write;
        self.dedup_key()
            .iter()
            .fold(String::with_capacity(32), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }
}

/// Counts for one file, for the `--json` summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedStats {
    /// Lines read (including comments, blanks and the header).
    pub lines: u64,
    /// Entries produced.
    pub entries: u64,
    /// Lines (or JSON objects) that could not be read: errors yielded.
    pub errors: u64,
    /// Comment lines.
    pub comments: u64,
    /// Blank lines.
    pub blank: u64,
    /// Header lines.
    pub headers: u64,
    /// Publisher metadata records (Spamhaus' last JSON line).
    pub metadata: u64,
    /// Well-formed records that list nothing of the kind (COF non-address records).
    pub skipped: u64,
}

/// Reads one feed file; see the module documentation.
///
/// ```
/// use depeer_core::Timestamp;
/// use depeer_intel::{read_feed, FeedOptions, FeedKind, Format};
///
/// let text = "# abuse.ch Feodo Tracker\n\
///   \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n\
///   \"2021-01-17 07:30:05\",\"67.213.75.205\",\"443\",\"offline\",\"2021-08-18\",\"Dridex\"\n\
///   \"2021-01-17 07:44:46\",\"not-an-ip\",\"4643\",\"online\",\"2021-08-18\",\"Dridex\"\n";
/// let mut r = read_feed(text.as_bytes(), FeedOptions::new("ipblocklist.csv", Timestamp::from_secs(0)));
/// let first = r.next().unwrap().unwrap();
/// assert_eq!((first.indicator.as_str(), first.port, first.source_line), ("67.213.75.205", Some(443), 3));
/// assert_eq!(first.family.as_deref(), Some("dridex"));
/// let bad = r.next().unwrap().unwrap_err();
/// assert_eq!(bad.to_string(), "ipblocklist.csv:4: not an IP address: \"not-an-ip\" [bad-ip]");
/// assert!(r.next().is_none());
/// assert_eq!(r.format(), Some(Format::FeodoCsv));
/// assert_eq!(r.kind(), Some(FeedKind::Cnc));
/// assert_eq!((r.stats().entries, r.stats().errors, r.stats().comments), (1, 1, 1));
/// ```
pub fn read_feed<R: std::io::BufRead>(reader: R, options: FeedOptions) -> FeedReader<R> {
    FeedReader::new(reader, options)
}

/// The built-in format of a file from its first bytes (a few KiB are
/// enough), or `None`. Lines starting with `#` or `;` are comments, where
/// abuse.ch puts its header; the rest is looked at as data.
pub fn detect_format(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let mut comments = Vec::new();
    let mut data = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if data.is_empty() && (t.starts_with('#') || t.starts_with(';')) {
            comments.push(t);
        } else {
            data.push(t);
            if data.len() >= 9 {
                break;
            }
        }
    }
    formats::detect(&comments, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> FeedEntry {
        FeedEntry {
            source: "s".into(),
            kind: FeedKind::Cnc,
            indicator: "192.0.2.1".into(),
            address: None,
            family: Some("srizbi".into()),
            port: Some(80),
            first_seen: Some(Timestamp::from_secs(1)),
            last_seen: Some(Timestamp::from_secs(2)),
            ingest_time: Timestamp::from_secs(3),
            source_file: "f".into(),
            source_line: 7,
            record: Arc::from(&b"192.0.2.1,80,srizbi"[..]),
            record_offset: 0,
        }
    }

    #[test]
    fn dedup_key_ignores_where_and_when_read_but_not_what() {
        let a = entry();
        let mut b = entry();
        b.last_seen = Some(Timestamp::from_secs(99));
        b.ingest_time = Timestamp::from_secs(99);
        b.source_file = "g".into();
        b.source_line = 1;
        assert_eq!(a.dedup_key(), b.dedup_key());
        for change in [
            |e: &mut FeedEntry| e.port = Some(81),
            |e: &mut FeedEntry| e.port = None,
            |e: &mut FeedEntry| e.first_seen = None,
            |e: &mut FeedEntry| e.family = None,
            |e: &mut FeedEntry| e.source = "t".into(),
            |e: &mut FeedEntry| e.kind = FeedKind::Bots,
            |e: &mut FeedEntry| e.indicator = "192.0.2.2".into(),
            |e: &mut FeedEntry| e.address = Some("x".into()),
        ] {
            let mut c = entry();
            change(&mut c);
            assert_ne!(a.dedup_key(), c.dedup_key());
        }
        // Length prefixes keep field boundaries apart.
        let mut x = entry();
        x.source = "ab".into();
        x.indicator = "c".into();
        let mut y = entry();
        y.source = "a".into();
        y.indicator = "bc".into();
        assert_ne!(x.dedup_key(), y.dedup_key());
        assert_eq!(a.dedup_key_hex().len(), 32);
    }

    #[test]
    fn entries_carry_their_record_as_in_the_file() {
        let text = "# abuse.ch Feodo Tracker\r\n\
          \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\r\n\
          \"2021-01-17 07:30:05\",\"67.213.75.205\",\"443\",\"offline\",\"2021-08-18\",\"Dridex\"\r\n";
        let e = read_feed(
            text.as_bytes(),
            FeedOptions::new("f.csv", Timestamp::from_secs(0)),
        )
        .next()
        .unwrap()
        .unwrap();
        let start = usize::try_from(e.record_offset).unwrap();
        let line = &text.as_bytes()[start..start + e.record.len()];
        assert_eq!(&*e.record, line);
        assert!(line.starts_with(b"\"2021-01-17") && line.ends_with(b"Dridex\""));
    }

    #[test]
    fn dedup_key_is_stable_across_versions() {
        // Pinned: a change here breaks de-duplication of stored feeds.
        assert_eq!(entry().dedup_key_hex(), PINNED_KEY);
    }

    const PINNED_KEY: &str = "50d728257ed3bbb4399b8c12ea1a7dc0";

    #[test]
    fn kind_and_format_names_round_trip() {
        for k in FeedKind::ALL {
            assert_eq!(k.to_string().parse::<FeedKind>().unwrap(), k);
        }
        for f in Format::ALL {
            assert_eq!(f.to_string().to_uppercase().parse::<Format>().unwrap(), f);
        }
        assert_eq!(
            "c2".parse::<FeedKind>().unwrap_err(),
            "unknown feed kind \"c2\"; known: cnc, url, pdns, bots, net"
        );
        assert!(
            "csv"
                .parse::<Format>()
                .unwrap_err()
                .starts_with("unknown feed format \"csv\"; known: depeer, ")
        );
    }

    #[test]
    fn detect_format_from_head() {
        assert_eq!(
            detect_format(b"################\n# abuse.ch\n#\n\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"),
            Some(Format::FeodoCsv)
        );
        assert_eq!(
            detect_format(b"ip,family,first_seen,last_seen\n"),
            Some(Format::Depeer)
        );
        assert_eq!(detect_format(b""), None);
    }
}
