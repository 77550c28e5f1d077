//! The MRT common header (RFC 6396 §2) and the framer that cuts a stream
//! into records.
//!
//! The framer owns the stream position, so every record and every error
//! carries its byte offset and index. Invariants:
//!
//! * a record is yielded only when its full declared length was read;
//! * an error never loses bytes: the offending bytes (capped) travel in the
//!   error so that the caller can quarantine them;
//! * after a header with an impossible length the framer scans forward for
//!   the next plausible header instead of giving up on the file; after the
//!   end of the stream (clean or not) it stops.

use std::io::{ErrorKind, Read};

use depeer_core::SourceRef;

use crate::MrtError;

/// Length of the MRT common header.
pub const HEADER_LEN: usize = 12;
/// Largest record body the framer accepts (the same cap as bgpkit-parser):
/// a larger declared length is treated as corruption.
pub const MAX_BODY_LEN: u32 = 16 * 1024 * 1024;
/// How many bytes of an offending record are kept for quarantine.
pub(crate) const QUARANTINE_CAP: usize = 64 * 1024;
/// How far the framer scans for a plausible header after corruption.
const RESYNC_LIMIT: u64 = 16 * 1024 * 1024;

/// MRT type codes (RFC 6396 §4, RFC 8050; 5 is the obsolete `BGP` type).
pub(crate) mod types {
    /// Obsolete BGP type (RIPE RIS 1999-2000).
    pub(crate) const BGP: u16 = 5;
    /// TABLE_DUMP (v1).
    pub(crate) const TABLE_DUMP: u16 = 12;
    /// TABLE_DUMP_V2.
    pub(crate) const TABLE_DUMP_V2: u16 = 13;
    /// BGP4MP.
    pub(crate) const BGP4MP: u16 = 16;
    /// BGP4MP with extended (microsecond) timestamp.
    pub(crate) const BGP4MP_ET: u16 = 17;
    /// ISIS, ISIS_ET, OSPFv2, OSPFv3, OSPFv3_ET: framed, not parsed.
    pub(crate) const OTHER_KNOWN: [u16; 5] = [32, 33, 48, 49, 11];
}

/// The 12-byte MRT common header, plus the 4-byte microsecond field of the
/// `_ET` types.
///
/// ```text
///  0                   1                   2                   3
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           Timestamp                           |
/// |             Type              |            Subtype            |
/// |                             Length                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Seconds since the Unix epoch.
    pub timestamp: u32,
    /// MRT type.
    pub entry_type: u16,
    /// MRT subtype.
    pub subtype: u16,
    /// Declared length of everything after the 12-byte header (for `_ET`
    /// types this includes the microsecond field).
    pub length: u32,
    /// Microseconds of an `_ET` record (RFC 6396 §3: "the Length field does
    /// include the Microsecond Timestamp field").
    pub micros: Option<u32>,
}

impl Header {
    /// Decodes the 12 fixed bytes.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Header {
        let [t0, t1, t2, t3, y0, y1, s0, s1, l0, l1, l2, l3] = *b;
        Header {
            timestamp: u32::from_be_bytes([t0, t1, t2, t3]),
            entry_type: u16::from_be_bytes([y0, y1]),
            subtype: u16::from_be_bytes([s0, s1]),
            length: u32::from_be_bytes([l0, l1, l2, l3]),
            micros: None,
        }
    }

    /// Whether the type carries the microsecond field.
    pub fn is_extended(&self) -> bool {
        matches!(self.entry_type, types::BGP4MP_ET | 33 | 49)
    }

    /// Whether the type is one RFC 6396 (or its predecessors) defines.
    pub fn is_known_type(&self) -> bool {
        matches!(
            self.entry_type,
            types::BGP
                | types::TABLE_DUMP
                | types::TABLE_DUMP_V2
                | types::BGP4MP
                | types::BGP4MP_ET
        ) || types::OTHER_KNOWN.contains(&self.entry_type)
    }

    /// A short name such as `TABLE_DUMP_V2/RIB_IPV4_UNICAST` for summaries.
    pub fn type_name(&self) -> String {
        let t = match self.entry_type {
            types::BGP => "BGP",
            types::TABLE_DUMP => "TABLE_DUMP",
            types::TABLE_DUMP_V2 => "TABLE_DUMP_V2",
            types::BGP4MP => "BGP4MP",
            types::BGP4MP_ET => "BGP4MP_ET",
            _ => return format!("{}/{}", self.entry_type, self.subtype),
        };
        let s = match (self.entry_type, self.subtype) {
            (types::TABLE_DUMP, 1) => "AFI_IPv4",
            (types::TABLE_DUMP, 2) => "AFI_IPv6",
            (types::TABLE_DUMP_V2, 1) => "PEER_INDEX_TABLE",
            (types::TABLE_DUMP_V2, 2) => "RIB_IPV4_UNICAST",
            (types::TABLE_DUMP_V2, 3) => "RIB_IPV4_MULTICAST",
            (types::TABLE_DUMP_V2, 4) => "RIB_IPV6_UNICAST",
            (types::TABLE_DUMP_V2, 5) => "RIB_IPV6_MULTICAST",
            (types::TABLE_DUMP_V2, 6) => "RIB_GENERIC",
            (types::TABLE_DUMP_V2, 8) => "RIB_IPV4_UNICAST_ADDPATH",
            (types::TABLE_DUMP_V2, 10) => "RIB_IPV6_UNICAST_ADDPATH",
            (types::BGP4MP | types::BGP4MP_ET, 0) => "STATE_CHANGE",
            (types::BGP4MP | types::BGP4MP_ET, 1) => "MESSAGE",
            (types::BGP4MP | types::BGP4MP_ET, 4) => "MESSAGE_AS4",
            (types::BGP4MP | types::BGP4MP_ET, 5) => "STATE_CHANGE_AS4",
            (types::BGP4MP | types::BGP4MP_ET, 6) => "MESSAGE_LOCAL",
            (types::BGP4MP | types::BGP4MP_ET, 7) => "MESSAGE_AS4_LOCAL",
            (types::BGP4MP | types::BGP4MP_ET, 8..=11) => "MESSAGE_ADDPATH",
            (types::BGP, 1) => "UPDATE",
            (types::BGP, 7) => "STATE_CHANGE",
            _ => return format!("{t}/{}", self.subtype),
        };
        format!("{t}/{s}")
    }
}

/// One framed record: its header, its body (without the header and without
/// the microsecond field) and where it was.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// The decoded header.
    pub header: Header,
    /// The raw header bytes (12, or 16 for `_ET` types).
    pub header_bytes: Vec<u8>,
    /// The body.
    pub body: Vec<u8>,
    /// File, byte offset of the header, record index.
    pub source: SourceRef,
}

impl RawRecord {
    /// Header and body as they were on the wire.
    pub fn raw_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.header_bytes.len() + self.body.len());
        v.extend_from_slice(&self.header_bytes);
        v.extend_from_slice(&self.body);
        v
    }
}

/// Cuts a byte stream into [`RawRecord`]s. An iterator of
/// `Result<RawRecord, MrtError>`; it ends after the end of the stream or
/// after an error it cannot recover from.
#[derive(Debug)]
pub struct Framer<R> {
    inner: R,
    path: String,
    buf: Vec<u8>,
    /// Start of unread data in `buf`.
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    index: u64,
    eof: bool,
    /// A read error seen while filling; reported once the buffered data is used.
    pending_io: Option<std::io::Error>,
    done: bool,
    last_timestamp: Option<u32>,
}

impl<R: Read> Framer<R> {
    /// A framer over a decompressed stream; `path` names it in errors.
    pub fn new(inner: R, path: impl Into<String>) -> Self {
        Framer {
            inner,
            path: path.into(),
            buf: Vec::with_capacity(1 << 16),
            start: 0,
            offset: 0,
            index: 0,
            eof: false,
            pending_io: None,
            done: false,
            last_timestamp: None,
        }
    }

    /// The stream offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn available(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Reads until at least `n` bytes are buffered or the stream ends.
    fn fill(&mut self, n: usize) {
        if self.available() >= n {
            return;
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let mut chunk = [0u8; 64 * 1024];
        while self.buf.len() < n && !self.eof {
            match self.inner.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(k) => self
                    .buf
                    .extend_from_slice(chunk.get(..k).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.eof = true;
                    self.pending_io = Some(e);
                }
            }
        }
    }

    fn peek(&self, n: usize) -> &[u8] {
        let end = self.start.saturating_add(n).min(self.buf.len());
        self.buf.get(self.start..end).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.available());
        let out = self.peek(n).to_vec();
        self.start += n;
        self.offset += n as u64;
        out
    }

    fn source(&self, offset: u64) -> SourceRef {
        SourceRef::new(self.path.clone(), offset, self.index)
    }

    /// The end of the stream inside a record: a cut file or a broken
    /// compressed stream. Nothing after it can be framed.
    fn truncated(&mut self, need: u64) -> MrtError {
        self.done = true;
        let at = self.offset;
        let have = self.available() as u64;
        let bytes = self.consume(QUARANTINE_CAP);
        let source = self.source(at);
        match self.pending_io.take() {
            Some(e) => MrtError::Stream {
                at: source,
                have,
                detail: e.to_string(),
                bytes,
            },
            None => MrtError::Truncated {
                at: source,
                need,
                have,
                bytes,
            },
        }
    }

    fn plausible(&self, h: &Header) -> bool {
        // Exactly what `next_record` accepts, or resync could stop on a
        // header `next_record` rejects again without moving (found by the
        // `mrt_adapter` fuzz target: an endless run of errors at one offset).
        if !h.is_known_type()
            || h.length > MAX_BODY_LEN
            || (h.is_extended() && h.length < 4)
            || h.subtype > 64
        {
            return false;
        }
        match self.last_timestamp {
            // Within a year of the last good record.
            Some(t) => (i64::from(h.timestamp) - i64::from(t)).abs() < 366 * 86_400,
            None => true,
        }
    }

    /// After a corrupt header: drops bytes until a plausible header starts
    /// (one whose successor is also plausible, or which ends the stream).
    /// Returns the skipped bytes (capped) and their count.
    fn resync(&mut self) -> (Vec<u8>, u64) {
        // The header here was rejected: at least its first byte goes, so
        // every resync moves forward.
        let mut skipped = self.consume(1);
        let mut count = skipped.len() as u64;
        loop {
            if count >= RESYNC_LIMIT {
                self.done = true;
                return (skipped, count);
            }
            self.fill(HEADER_LEN);
            let Ok(hb) = <[u8; HEADER_LEN]>::try_from(self.peek(HEADER_LEN)) else {
                // Less than a header left: all of it is garbage.
                let rest = self.consume(usize::MAX);
                count += rest.len() as u64;
                skipped.extend(
                    rest.into_iter()
                        .take(QUARANTINE_CAP.saturating_sub(skipped.len())),
                );
                self.done = true;
                return (skipped, count);
            };
            let h = Header::decode(&hb);
            if self.plausible(&h) {
                let total = HEADER_LEN + h.length as usize;
                self.fill(total + HEADER_LEN);
                let next = self
                    .peek(total + HEADER_LEN)
                    .get(total..)
                    .unwrap_or_default();
                let next_ok = match <[u8; HEADER_LEN]>::try_from(next) {
                    Ok(nb) => self.plausible(&Header::decode(&nb)),
                    // The candidate ends the stream exactly.
                    Err(_) => self.available() == total,
                };
                if next_ok {
                    return (skipped, count);
                }
            }
            let b = self.consume(1);
            count += 1;
            if skipped.len() < QUARANTINE_CAP {
                skipped.extend(b);
            }
        }
    }

    fn next_record(&mut self) -> Option<Result<RawRecord, MrtError>> {
        if self.done {
            return None;
        }
        self.fill(HEADER_LEN);
        if self.available() == 0 {
            self.done = true;
            return self.pending_io.take().map(|e| {
                Err(MrtError::Stream {
                    at: self.source(self.offset),
                    have: 0,
                    detail: e.to_string(),
                    bytes: Vec::new(),
                })
            });
        }
        let Ok(hb) = <[u8; HEADER_LEN]>::try_from(self.peek(HEADER_LEN)) else {
            return Some(Err(self.truncated(HEADER_LEN as u64)));
        };
        let at = self.offset;
        let mut header = Header::decode(&hb);
        if header.length > MAX_BODY_LEN || (header.is_extended() && header.length < 4) {
            let source = self.source(at);
            let length = header.length;
            let (bytes, skipped) = self.resync();
            self.index += 1;
            return Some(Err(MrtError::BadLength {
                at: source,
                length,
                skipped,
                bytes,
            }));
        }
        let total = HEADER_LEN + header.length as usize;
        self.fill(total);
        if self.available() < total {
            return Some(Err(self.truncated(total as u64)));
        }
        let hlen = if header.is_extended() {
            HEADER_LEN + 4
        } else {
            HEADER_LEN
        };
        let header_bytes = self.consume(hlen);
        if let &[.., m0, m1, m2, m3] = header_bytes.as_slice()
            && header.is_extended()
        {
            header.micros = Some(u32::from_be_bytes([m0, m1, m2, m3]));
        }
        let mut body = self.consume(total - hlen);
        // Some early RIPE RIS TABLE_DUMP records declare a length four bytes
        // short of their content (bgpkit-parser and bgpdump both accept
        // them); take the missing four bytes when the entries prove it.
        if header.entry_type == types::TABLE_DUMP
            && needs_legacy_length_correction(header.subtype, &body)
        {
            self.fill(4);
            if self.available() < 4 {
                return Some(Err(self.truncated(4)));
            }
            body.extend(self.consume(4));
        }
        let source = self.source(at);
        self.index += 1;
        self.last_timestamp = Some(header.timestamp);
        Some(Ok(RawRecord {
            header,
            header_bytes,
            body,
            source,
        }))
    }
}

impl<R: Read> Iterator for Framer<R> {
    type Item = Result<RawRecord, MrtError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
    }
}

/// Whether a TABLE_DUMP body's entries run exactly four bytes past its
/// declared end (the historical off-by-four of early RIS dumps). Mirrors
/// bgpkit-parser's check of the same name.
fn needs_legacy_length_correction(subtype: u16, data: &[u8]) -> bool {
    let address_len = match subtype {
        1 => 4usize,
        2 => 16usize,
        _ => return false,
    };
    if data.len() < 4 {
        return false;
    }
    // Prefix, prefix length, status, originated time, peer IP, peer AS and
    // the attribute length field.
    let fixed = address_len * 2 + 10;
    let mut offset = 4usize;
    while offset < data.len() {
        let at = offset + fixed - 2;
        let Some(&[a, b]) = data
            .get(at..at + 2)
            .and_then(|s| <&[u8; 2]>::try_from(s).ok())
        else {
            return false;
        };
        let end = offset + fixed + usize::from(u16::from_be_bytes([a, b]));
        if end == data.len() + 4 {
            return true;
        }
        if end > data.len() {
            return false;
        }
        offset = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ts: u32, t: u16, s: u16, body: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(ts.to_be_bytes());
        v.extend(t.to_be_bytes());
        v.extend(s.to_be_bytes());
        v.extend((body.len() as u32).to_be_bytes());
        v.extend(body);
        v
    }

    #[test]
    fn resync_always_moves_forward() {
        // Found by the mrt_adapter fuzz target: an impossible length, then
        // an extended-timestamp header (BGP4MP_ET) declaring length 0. The
        // resync used to stop on that header, which was rejected again
        // without moving: an endless run of errors at byte 23.
        let data: &[u8] = &[
            0xff, 0xff, 0xff, 0xff, 0x28, 0xa9, 0x00, 0x0a, 0x0a, 0x00, 0x0c, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x23, 0x23, 0x23, 0x00, 0x23, 0x23, 0x23, 0x00, 0x00, 0x0c, 0x00,
            0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let out: Vec<_> = Framer::new(data, "fuzz").take(100).collect();
        assert!(out.len() < 100, "the framer must end: {} items", out.len());
        let mut last = None;
        for item in &out {
            let at = match item {
                Ok(r) => r.source.offset,
                Err(e) => e.source().offset,
            };
            assert!(last.is_none_or(|l| at > l), "offsets strictly increase");
            last = Some(at);
        }
        // Extended-timestamp headers with fewer than 4 bytes are rejected
        // by both the framer and the resync.
        let mut et = rec(1, 17, 4, b"");
        et.extend(rec(1, 17, 4, b""));
        let out: Vec<_> = Framer::new(&et[..], "et0").take(100).collect();
        assert!(out.len() <= 2 && out.iter().all(Result::is_err));
    }

    #[test]
    fn frames_records_with_offsets() {
        let mut data = rec(1, 16, 1, b"abc");
        data.extend(rec(2, 13, 2, b"defgh"));
        let out: Vec<_> = Framer::new(&data[..], "x").collect();
        assert_eq!(out.len(), 2);
        let b = out[1].as_ref().unwrap();
        assert_eq!(b.source.offset, 15);
        assert_eq!(b.source.index, 1);
        assert_eq!(b.body, b"defgh");
        assert_eq!(b.header.type_name(), "TABLE_DUMP_V2/RIB_IPV4_UNICAST");
    }

    #[test]
    fn truncated_body_is_located_and_ends_the_stream() {
        let mut data = rec(1, 16, 1, b"abc");
        let second = rec(2, 16, 1, b"0123456789");
        data.extend(&second[..16]);
        let out: Vec<_> = Framer::new(&data[..], "cut.mrt").collect();
        assert_eq!(out.len(), 2);
        match &out[1] {
            Err(MrtError::Truncated {
                at: source,
                need,
                have,
                bytes,
            }) => {
                assert_eq!(source.offset, 15);
                assert_eq!(source.index, 1);
                assert_eq!((*need, *have), (22, 16));
                assert_eq!(bytes.len(), 16);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn impossible_length_resyncs_on_next_plausible_header() {
        let mut data = rec(100, 16, 1, b"abc");
        let mut bad = rec(100, 16, 1, b"zz");
        bad[8..12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        data.extend(&bad);
        data.extend(rec(101, 16, 1, b"good"));
        data.extend(rec(102, 16, 1, b"also"));
        let out: Vec<_> = Framer::new(&data[..], "x").collect();
        assert_eq!(out.len(), 4, "{out:?}");
        assert!(matches!(
            &out[1],
            Err(MrtError::BadLength { skipped: 14, .. })
        ));
        assert_eq!(out[2].as_ref().unwrap().body, b"good");
        assert_eq!(out[3].as_ref().unwrap().source.index, 3);
    }

    #[test]
    fn extended_header_takes_microseconds() {
        let mut body = 123_456u32.to_be_bytes().to_vec();
        body.extend(b"xy");
        let data = rec(7, 17, 4, &body);
        let r = Framer::new(&data[..], "x").next().unwrap().unwrap();
        assert_eq!(r.header.micros, Some(123_456));
        assert_eq!(r.body, b"xy");
        assert_eq!(r.raw_bytes(), data);
    }
}
