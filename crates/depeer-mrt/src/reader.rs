//! The adapter: framed records in, depeer's [`MrtRecord`]s out.
//!
//! Framing is ours ([`Framer`]); the wire formats of the bodies (TABLE_DUMP,
//! TABLE_DUMP_V2, BGP4MP/BGP4MP_ET, the obsolete BGP type 5, BGP UPDATE
//! attributes, AS4_PATH merging, MP_REACH/MP_UNREACH) are bgpkit-parser's.
//! A body that does not parse becomes an error carrying the whole record,
//! and the reader moves on to the next record.

use std::io::Read;
use std::net::IpAddr;

use bgpkit_parser::models::{
    AsPathSegment, Bgp4MpEnum, ElemType, LegacyBgp, MrtMessage, TableDumpV2Message,
};
use bgpkit_parser::{ElemError, Elementor, ParserError};
use depeer_core::{Asn, Prefix, SourceRef, Timestamp};

use crate::as_path::{AsPath, Segment, SegmentKind};
use crate::framer::{Framer, Header, RawRecord};
use crate::{MrtError, Summary};

/// A BGP speaker a collector talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Peer {
    /// Its address.
    pub ip: IpAddr,
    /// Its AS.
    pub asn: Asn,
}

/// What one record says, per prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elem {
    /// A RIB entry: `peer` had a route to `prefix` with `path` at dump time.
    Rib {
        /// Who had the route.
        peer: Peer,
        /// The prefix (host bits cleared).
        prefix: Prefix,
        /// The AS path.
        path: AsPath,
    },
    /// An UPDATE announced `prefix` with `path`.
    Announce {
        /// Who sent it.
        peer: Peer,
        /// The prefix (host bits cleared).
        prefix: Prefix,
        /// The AS path.
        path: AsPath,
    },
    /// An UPDATE withdrew `prefix`.
    Withdraw {
        /// Who sent it.
        peer: Peer,
        /// The prefix (host bits cleared).
        prefix: Prefix,
    },
    /// The BGP session to `peer` changed state (RFC 4271 §8.2.2 numbering:
    /// 1 Idle ... 6 Established).
    State {
        /// Whose session.
        peer: Peer,
        /// Previous state.
        old: u16,
        /// New state.
        new: u16,
    },
}

/// One parsed record.
#[derive(Debug, Clone)]
pub struct MrtRecord {
    /// Where it was.
    pub source: SourceRef,
    /// Its header.
    pub header: Header,
    /// Header time (with microseconds for `_ET` records).
    pub time: Timestamp,
    /// What it says (empty for a PEER_INDEX_TABLE, OPEN, KEEPALIVE ...).
    pub elems: Vec<Elem>,
    /// The record's bytes as they were in the file, header included, when
    /// the reader was asked to keep them ([`MrtReader::keep_raw`]); empty
    /// otherwise.
    pub raw: Vec<u8>,
}

/// The view name of the made-up peer table of a RIB cut before its
/// PEER_INDEX_TABLE (no real table can have it: view names are ASCII).
const SYNTHETIC_VIEW: &str = "\u{0}depeer: no peer table";

/// Reads MRT records from a decompressed stream: an iterator of
/// `Result<MrtRecord, MrtError>` (the error variant is the quarantine path)
/// that keeps a [`Summary`].
#[derive(Debug)]
pub struct MrtReader<R> {
    framer: Framer<R>,
    elementor: Elementor,
    summary: Summary,
    last_type: Option<((u16, u16), String)>,
    /// The current PEER_INDEX_TABLE by index, for the RIB fast path
    /// (empty when there is none, or only a made-up one).
    peers: Vec<Option<Peer>>,
    fast_rib: bool,
    keep_raw: bool,
}

impl<R: Read> MrtReader<R> {
    /// A reader over a decompressed stream; `path` names it in errors.
    pub fn new(inner: R, path: impl Into<String>) -> Self {
        MrtReader {
            framer: Framer::new(inner, path),
            elementor: Elementor::new(),
            summary: Summary::default(),
            last_type: None,
            peers: Vec::new(),
            fast_rib: true,
            keep_raw: false,
        }
    }

    /// Keeps each parsed record's bytes in [`MrtRecord::raw`] (for the
    /// evidence store: one copy of the record per record).
    pub fn keep_raw(mut self, on: bool) -> Self {
        self.keep_raw = on;
        self
    }

    /// The record's bytes when they are kept.
    fn raw_of(&self, raw: &RawRecord) -> Vec<u8> {
        if self.keep_raw {
            raw.raw_bytes()
        } else {
            Vec::new()
        }
    }

    /// Reads every record through bgpkit-parser, without the RIB fast path
    /// (for comparisons).
    pub fn without_fast_path(mut self) -> Self {
        self.fast_rib = false;
        self
    }

    /// Counts so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Iterates over the records that parse, counting and dropping the
    /// others (the summary still says why).
    pub fn skip_errors(self) -> impl Iterator<Item = MrtRecord> {
        self.filter_map(Result::ok)
    }

    /// Takes a PEER_INDEX_TABLE as the table of the RIB records after it.
    fn adopt_peer_table(&mut self, p: bgpkit_parser::models::PeerIndexTable) {
        self.peers.clear();
        for (&id, peer) in &p.id_peer_map {
            let id = usize::from(id);
            if self.peers.len() <= id {
                self.peers.resize(id + 1, None);
            }
            if let Some(slot) = self.peers.get_mut(id) {
                *slot = Some(Peer {
                    ip: peer.peer_ip,
                    asn: Asn(peer.peer_asn.into()),
                });
            }
        }
        self.elementor = Elementor::with_peer_table(p);
    }

    /// A RIB record without a real PEER_INDEX_TABLE before it (a cut
    /// file): makes up a table of unknown peers for its entries, so that
    /// its routes are kept.
    fn cover_missing_peer_table(&mut self, message: &MrtMessage) {
        let MrtMessage::TableDumpV2Message(TableDumpV2Message::RibAfi(t)) = message else {
            return;
        };
        if self.elementor.peer_table.is_none() {
            // A RIB cut before its PEER_INDEX_TABLE: keep the routes
            // (the prefix and AS path are whole) with the peer
            // unknown, rather than lose them (bgpkit refuses them).
            self.summary.rib_without_peer_table += 1;
            let mut table = bgpkit_parser::models::PeerIndexTable::default();
            let unknown = unknown_peer();
            for e in &t.rib_entries {
                table.id_peer_map.insert(e.peer_index, unknown);
            }
            let mut el = Elementor::with_peer_table(table);
            // Marks the table as made up, so the next such record
            // extends it rather than counting as a real table.
            if let Some(p) = el.peer_table.as_mut() {
                p.view_name = SYNTHETIC_VIEW.into();
            }
            self.elementor = el;
        } else if let Some(p) = self.elementor.peer_table.as_mut()
            && p.view_name == SYNTHETIC_VIEW
        {
            self.summary.rib_without_peer_table += 1;
            let unknown = unknown_peer();
            for e in &t.rib_entries {
                p.id_peer_map.entry(e.peer_index).or_insert(unknown);
            }
        }
    }

    fn parse(&mut self, raw: RawRecord) -> Result<MrtRecord, MrtError> {
        let h = raw.header;
        let micros = i64::from(h.micros.unwrap_or(0));
        let time = Timestamp(i64::from(h.timestamp) * 1_000_000 + micros);
        let fail = |reason: &'static str, detail: String, raw: &RawRecord| MrtError::Record {
            at: raw.source.clone(),
            type_name: raw.header.type_name(),
            reason,
            detail,
            bytes: raw.raw_bytes(),
        };
        if !matches!(h.entry_type, 5 | 12 | 13 | 16 | 17) {
            return Err(fail(
                "unsupported-type",
                format!("MRT type {} is not routing data depeer reads", h.entry_type),
                &raw,
            ));
        }
        if self.fast_rib
            && h.entry_type == 13
            && matches!(h.subtype, 2 | 4)
            && !self.peers.is_empty()
            && let Some(elems) = fast_rib(&raw.body, h.subtype == 4, &self.peers)
        {
            let bytes = self.raw_of(&raw);
            return Ok(MrtRecord {
                source: raw.source,
                header: h,
                time,
                elems,
                raw: bytes,
            });
        }
        let message = match bgpkit_parser::parser::mrt::mrt_record::parse_mrt_body(
            h.entry_type,
            h.subtype,
            bytes::Bytes::copy_from_slice(&raw.body),
        ) {
            Ok(m) => m,
            Err(e) => {
                let reason = match &e {
                    ParserError::Unsupported(_) => "unsupported-type",
                    ParserError::TruncatedMsg(_)
                    | ParserError::EofError(_)
                    | ParserError::TruncatedPrefix
                    | ParserError::TruncatedLabeledNlri => "truncated-message",
                    _ => "bad-message",
                };
                return Err(fail(reason, e.to_string(), &raw));
            }
        };
        let mut elems = Vec::new();
        match message {
            MrtMessage::TableDumpV2Message(TableDumpV2Message::PeerIndexTable(p)) => {
                self.adopt_peer_table(p);
            }
            MrtMessage::Bgp4Mp(Bgp4MpEnum::StateChange(s)) => {
                elems.push(state_elem(
                    s.peer_ip,
                    s.peer_asn,
                    s.old_state as u16,
                    s.new_state as u16,
                ));
            }
            MrtMessage::LegacyBgp(LegacyBgp::StateChange(s)) => {
                elems.push(state_elem(
                    s.peer_ip,
                    s.peer_asn,
                    s.old_state as u16,
                    s.new_state as u16,
                ));
            }
            message => {
                self.cover_missing_peer_table(&message);
                let rib = matches!(
                    message,
                    MrtMessage::TableDumpMessage(_)
                        | MrtMessage::TableDumpMessageBatch(_)
                        | MrtMessage::TableDumpV2Message(_)
                );
                let record = bgpkit_parser::MrtRecord {
                    common_header: bgpkit_parser::models::CommonHeader {
                        timestamp: h.timestamp,
                        microsecond_timestamp: h.micros,
                        entry_type: bgpkit_parser::models::EntryType::try_from(h.entry_type)
                            .map_err(|e| fail("unsupported-type", e.to_string(), &raw))?,
                        entry_subtype: h.subtype,
                        length: h.length,
                    },
                    message,
                };
                let iter = self.elementor.record_to_elems_iter(record).map_err(|e| {
                    let reason = match e {
                        ElemError::MissingPeerTable => "missing-peer-table",
                        ElemError::UnsupportedRibGeneric => "unsupported-type",
                        ElemError::UnexpectedPeerIndexTable(_) => "bad-message",
                    };
                    fail(reason, e.to_string(), &raw)
                })?;
                // bgpdump, and RFC 4271 §9.1 ("withdrawn routes ... before
                // NLRI"), put an UPDATE's withdrawals before its announcements;
                // bgpkit-parser yields them after.
                let first_withdraw = elems.len();
                for e in iter {
                    let peer = Peer {
                        ip: e.peer_ip,
                        asn: Asn(e.peer_asn.into()),
                    };
                    let prefix = e.prefix.prefix.trunc();
                    elems.push(match (rib, e.elem_type) {
                        (_, ElemType::WITHDRAW) => Elem::Withdraw { peer, prefix },
                        (true, ElemType::ANNOUNCE) => Elem::Rib {
                            peer,
                            prefix,
                            path: convert_path(e.as_path.as_ref()),
                        },
                        (false, ElemType::ANNOUNCE) => Elem::Announce {
                            peer,
                            prefix,
                            path: convert_path(e.as_path.as_ref()),
                        },
                    });
                }
                if let Some(tail) = elems.get_mut(first_withdraw..) {
                    tail.sort_by_key(|e| !matches!(e, Elem::Withdraw { .. }));
                }
            }
        }
        let bytes = self.raw_of(&raw);
        Ok(MrtRecord {
            source: raw.source,
            header: h,
            time,
            elems,
            raw: bytes,
        })
    }
}

/// A peer state change as an [`Elem`].
fn state_elem(ip: std::net::IpAddr, asn: bgpkit_parser::models::Asn, old: u16, new: u16) -> Elem {
    Elem::State {
        peer: Peer {
            ip,
            asn: Asn(asn.into()),
        },
        old,
        new,
    }
}

/// The peer of routes whose peer table is missing.
fn unknown_peer() -> bgpkit_parser::models::Peer {
    bgpkit_parser::models::Peer::new(
        std::net::Ipv4Addr::UNSPECIFIED,
        std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        bgpkit_parser::models::Asn::new_32bit(0),
    )
}

/// The fast path for TABLE_DUMP_V2 RIB_IPV4_UNICAST / RIB_IPV6_UNICAST
/// records, the bulk of every RIB dump: reads the prefix and, per entry, the
/// peer and the AS_PATH, and skips the other attributes after checking their
/// framing.
///
/// Why: bgpkit-parser decodes every attribute of every entry into owned
/// values (communities, next hops, ...) that depeer never uses; on a
/// full-size table that work dominated the load and made it slower than
/// `bgpdump -m` (docs/routing.md, "Parse speed", has the figures and how to
/// re-run them). Anything this path does
/// not read exactly as bgpkit would (ADD-PATH, AS4_PATH, an unknown segment
/// type, a peer index missing from the table, any framing problem) returns
/// `None` and the record goes through bgpkit-parser. The test
/// `fast_rib_equals_bgpkit_on_real_ribs` compares both on every real RIB.
/// One difference by design: an entry whose other attributes bgpkit would
/// reject (it then drops the rest of the record) is kept here, since its
/// prefix, peer and path are whole.
/// `bytes` followed by zeros to `N` bytes; `None` when longer.
fn zero_padded<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    let mut a = [0u8; N];
    a.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(a)
}

fn fast_rib(body: &[u8], v6: bool, peers: &[Option<Peer>]) -> Option<Vec<Elem>> {
    let mut r = Cursor { b: body, at: 0 };
    r.take(4)?; // sequence number
    let len = r.u8()?;
    let max = if v6 { 128 } else { 32 };
    if len > max {
        return None;
    }
    let bytes = r.take(usize::from(len).div_ceil(8))?;
    let addr = if v6 {
        IpAddr::from(zero_padded::<16>(bytes)?)
    } else {
        IpAddr::from(zero_padded::<4>(bytes)?)
    };
    let prefix = Prefix::new(addr, len).ok()?.trunc();
    let count = r.u16()?;
    let mut elems = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let peer = (*peers.get(usize::from(r.u16()?))?)?;
        r.take(4)?; // originated time
        let attr_len = usize::from(r.u16()?);
        let mut a = Cursor {
            b: r.take(attr_len)?,
            at: 0,
        };
        let mut path: Option<AsPath> = None;
        while a.at < a.b.len() {
            let flags = a.u8()?;
            let kind = a.u8()?;
            let n = if flags & 0x10 != 0 {
                usize::from(a.u16()?)
            } else {
                usize::from(a.u8()?)
            };
            let value = a.take(n)?;
            match kind {
                2 if path.is_none() => path = Some(parse_as_path4(value)?),
                // A second AS_PATH, or AS4_PATH: leave it to bgpkit.
                2 | 17 => return None,
                _ => {}
            }
        }
        elems.push(Elem::Rib {
            peer,
            prefix,
            path: path.unwrap_or_default(),
        });
    }
    // Bytes after the last entry: not a record this path understands.
    (r.at == body.len()).then_some(elems)
}

/// An AS_PATH value with 4-byte ASNs (as TABLE_DUMP_V2 always has).
fn parse_as_path4(v: &[u8]) -> Option<AsPath> {
    let mut c = Cursor { b: v, at: 0 };
    let mut segments = Vec::new();
    while c.at < v.len() {
        let kind = match c.u8()? {
            1 => SegmentKind::Set,
            2 => SegmentKind::Sequence,
            3 => SegmentKind::ConfedSequence,
            4 => SegmentKind::ConfedSet,
            _ => return None,
        };
        let n = usize::from(c.u8()?);
        let raw = c.take(n * 4)?;
        let mut asns = Vec::with_capacity(n);
        for x in raw.chunks_exact(4) {
            asns.push(u32::from_be_bytes(x.try_into().ok()?));
        }
        segments.push(Segment { kind, asns });
    }
    Some(AsPath { segments })
}

/// A bounds-checked reader over a byte slice.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    fn u16(&mut self) -> Option<u16> {
        let s = self.take(2)?;
        Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
    }
}

fn convert_path(p: Option<&bgpkit_parser::models::AsPath>) -> AsPath {
    let Some(p) = p else {
        return AsPath::default();
    };
    AsPath {
        segments: p
            .segments
            .iter()
            .map(|s| {
                let (kind, v) = match s {
                    AsPathSegment::AsSequence(v) => (SegmentKind::Sequence, v),
                    AsPathSegment::AsSet(v) => (SegmentKind::Set, v),
                    AsPathSegment::ConfedSequence(v) => (SegmentKind::ConfedSequence, v),
                    AsPathSegment::ConfedSet(v) => (SegmentKind::ConfedSet, v),
                };
                Segment {
                    kind,
                    asns: v.iter().map(|a| u32::from(*a)).collect(),
                }
            })
            .collect(),
    }
}

impl<R: Read> Iterator for MrtReader<R> {
    type Item = Result<MrtRecord, MrtError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = match self.framer.next()? {
            Ok(raw) => self.parse(raw),
            Err(e) => Err(e),
        };
        self.summary.records_read += 1;
        match &item {
            Ok(r) => {
                self.summary.records_used += 1;
                // The name is a formatted String: made once per run of
                // records of one type, not per record.
                let key = (r.header.entry_type, r.header.subtype);
                if self.last_type.as_ref().map(|(k, _)| *k) != Some(key) {
                    self.last_type = Some((key, r.header.type_name()));
                }
                if let Some((_, name)) = &self.last_type {
                    match self.summary.by_type.get_mut(name.as_str()) {
                        Some(c) => *c += 1,
                        None => {
                            self.summary.by_type.insert(name.clone(), 1);
                        }
                    }
                }
                self.summary.elems += r.elems.len() as u64;
            }
            Err(e) => {
                *self
                    .summary
                    .quarantined
                    .entry(e.reason().to_string())
                    .or_insert(0) += 1
            }
        }
        Some(item)
    }
}
