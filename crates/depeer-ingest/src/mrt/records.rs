//! The MRT records as evidence: every record `ingest mrt` parses (RIB
//! entry, update message, peer table, state change; header included, as
//! in the file) is stored once as an `mrt` object with its log entry
//! (OBSERVED: the record's header time), by a third thread so that
//! hashing and compressing them does not slow the parse and the replay.
//! Records are committed in batches while the file streams; the routing
//! rows derived from them are committed after the last batch, so a row is
//! never visible before the records it comes from. Rows do not carry the
//! record's hash (an event is a change across many records of many
//! peers); `evidence_objects` carries each record's collector and
//! prefixes instead, which with the time finds the records behind a
//! routing event (see `depeer dossier`).

use std::fmt::Write as _;

use depeer_core::Prefix;
use depeer_mrt::{Elem, MrtRecord};

use crate::IngestError;

/// Prefixes written into `evidence_objects.prefixes` per record; a longer
/// list ends with `...`.
const MAX_PREFIXES: usize = 64;

/// One record on its way to the store.
pub(super) struct RecordObject {
    raw: Vec<u8>,
    observed: i64,
    file: String,
    offset: u64,
    index: u64,
    prefixes: Vec<Prefix>,
    more: bool,
}

/// What the parse thread sends to the record thread.
pub(super) type RecordChunk<'a> = (&'a str, Vec<RecordObject>);

impl RecordObject {
    /// Takes the record's bytes out of `rec` (they are not needed to
    /// replay it) and notes its distinct prefixes.
    pub(super) fn take(rec: &mut MrtRecord) -> RecordObject {
        let mut prefixes: Vec<Prefix> = Vec::new();
        let mut more = false;
        for e in &rec.elems {
            let p = match e {
                Elem::Rib { prefix, .. }
                | Elem::Announce { prefix, .. }
                | Elem::Withdraw { prefix, .. } => *prefix,
                Elem::State { .. } => continue,
            };
            // A RIB record repeats one prefix per peer: compare with the
            // last one first.
            if prefixes.last() == Some(&p) || prefixes.contains(&p) {
                continue;
            }
            if prefixes.len() == MAX_PREFIXES {
                more = true;
                break;
            }
            prefixes.push(p);
        }
        RecordObject {
            raw: std::mem::take(&mut rec.raw),
            observed: rec.time.0.div_euclid(1_000_000),
            file: rec.source.path.clone(),
            offset: rec.source.offset,
            index: rec.source.index,
            prefixes,
            more,
        }
    }
}

/// The record thread: stores every record it receives; returns how many
/// were new. Stops at the first store error (the parse thread then stops
/// sending).
pub(super) fn store_records(
    mut writer: depeer_store::ObjectWriter,
    rx: &crossbeam_channel::Receiver<RecordChunk<'_>>,
) -> Result<u64, IngestError> {
    let mut text = String::new();
    for (collector, chunk) in rx {
        for o in chunk {
            if o.raw.is_empty() {
                continue;
            }
            text.clear();
            for (i, p) in o.prefixes.iter().enumerate() {
                if i > 0 {
                    text.push(' ');
                }
                let _ = write!(text, "{p}");
            }
            if o.more {
                text.push_str(" ...");
            }
            writer
                .add(&depeer_store::EvidenceObject {
                    bytes: &o.raw,
                    sha256: depeer_store::sha256_of(&o.raw),
                    observed: o.observed,
                    source_file: &o.file,
                    source_offset: o.offset,
                    source_index: o.index,
                    collector: Some(collector),
                    prefixes: (!text.is_empty()).then_some(text.as_str()),
                })
                .map_err(IngestError::store("storing an MRT record"))?;
        }
    }
    let n = writer.stored();
    writer
        .finish()
        .map_err(IngestError::store("storing the MRT records"))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use depeer_core::{Asn, SourceRef, Timestamp};
    use depeer_mrt::{AsPath, Peer};

    #[test]
    fn take_keeps_the_bytes_and_each_prefix_once() {
        let peer = |i: u8| Peer {
            ip: std::net::IpAddr::from([192, 0, 2, i]),
            asn: Asn(64500 + u32::from(i)),
        };
        let p: Prefix = "198.51.100.0/24".parse().unwrap();
        let q: Prefix = "203.0.113.0/24".parse().unwrap();
        let mut elems: Vec<Elem> = (0..4)
            .map(|i| Elem::Rib {
                peer: peer(i),
                prefix: p,
                path: AsPath::sequence(&[64500]),
            })
            .collect();
        elems.push(Elem::Withdraw {
            peer: peer(9),
            prefix: q,
        });
        elems.push(Elem::Withdraw {
            peer: peer(8),
            prefix: p,
        });
        let mut rec = MrtRecord {
            source: SourceRef {
                path: "rib.mrt".into(),
                offset: 40,
                index: 2,
            },
            header: depeer_mrt::Header::decode(&[0; 12]),
            time: Timestamp(1_226_439_000_900_000),
            elems,
            raw: vec![1, 2, 3],
        };
        let o = RecordObject::take(&mut rec);
        assert!(rec.raw.is_empty());
        assert_eq!(o.raw, vec![1, 2, 3]);
        assert_eq!(o.prefixes, vec![p, q]);
        assert_eq!(
            (o.observed, o.offset, o.index, o.more),
            (1_226_439_000, 40, 2, false)
        );
        rec.elems = (0..=MAX_PREFIXES as u32)
            .map(|i| Elem::Withdraw {
                peer: peer(1),
                prefix: Prefix::new(
                    std::net::IpAddr::from(std::net::Ipv4Addr::from((10u32 << 24) + (i << 8))),
                    24,
                )
                .unwrap(),
            })
            .collect();
        let o = RecordObject::take(&mut rec);
        assert_eq!((o.prefixes.len(), o.more), (MAX_PREFIXES, true));
    }
}
