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
}

impl<R: Read> MrtReader<R> {
    /// A reader over a decompressed stream; `path` names it in errors.
    pub fn new(inner: R, path: impl Into<String>) -> Self {
        MrtReader {
            framer: Framer::new(inner, path),
            elementor: Elementor::new(),
            summary: Summary::default(),
            last_type: None,
        }
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
                self.elementor = Elementor::with_peer_table(p);
            }
            MrtMessage::Bgp4Mp(Bgp4MpEnum::StateChange(s)) => elems.push(Elem::State {
                peer: Peer {
                    ip: s.peer_ip,
                    asn: Asn(s.peer_asn.into()),
                },
                old: s.old_state as u16,
                new: s.new_state as u16,
            }),
            MrtMessage::LegacyBgp(LegacyBgp::StateChange(s)) => elems.push(Elem::State {
                peer: Peer {
                    ip: s.peer_ip,
                    asn: Asn(s.peer_asn.into()),
                },
                old: s.old_state as u16,
                new: s.new_state as u16,
            }),
            message => {
                if let MrtMessage::TableDumpV2Message(TableDumpV2Message::RibAfi(t)) = &message
                    && self.elementor.peer_table.is_none()
                {
                    // A RIB cut before its PEER_INDEX_TABLE: keep the routes
                    // (the prefix and AS path are whole) with the peer
                    // unknown, rather than lose them (bgpkit refuses them).
                    self.summary.rib_without_peer_table += 1;
                    let mut table = bgpkit_parser::models::PeerIndexTable::default();
                    let unknown = bgpkit_parser::models::Peer::new(
                        std::net::Ipv4Addr::UNSPECIFIED,
                        std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                        bgpkit_parser::models::Asn::new_32bit(0),
                    );
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
                } else if let MrtMessage::TableDumpV2Message(TableDumpV2Message::RibAfi(t)) =
                    &message
                    && let Some(p) = self.elementor.peer_table.as_mut()
                    && p.view_name == SYNTHETIC_VIEW
                {
                    self.summary.rib_without_peer_table += 1;
                    let unknown = bgpkit_parser::models::Peer::new(
                        std::net::Ipv4Addr::UNSPECIFIED,
                        std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                        bgpkit_parser::models::Asn::new_32bit(0),
                    );
                    for e in &t.rib_entries {
                        p.id_peer_map.entry(e.peer_index).or_insert(unknown);
                    }
                }
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
        Ok(MrtRecord {
            source: raw.source,
            header: h,
            time,
            elems,
        })
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
