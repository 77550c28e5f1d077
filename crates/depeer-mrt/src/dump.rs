//! `bgpdump -m`-comparable text for the conformance script: the fields
//! depeer keeps (type, time, B/A/W/STATE, peer, prefix, AS path or states).

use crate::reader::{Elem, MrtRecord};

/// One line per element, like `bgpdump -m` but cut after the AS path:
/// `TABLE_DUMP2|1445565678|B|192.0.2.1|65001|10.0.0.0/8|65001 3549`,
/// `BGP4MP|...|W|peer|as|prefix`, `BGP4MP|...|STATE|peer|as|old|new`.
/// `_ET` records print `seconds.micros` as bgpdump does.
pub fn dump_lines(r: &MrtRecord, out: &mut Vec<String>) {
    let h = &r.header;
    let kind = match h.entry_type {
        5 => "BGP",
        12 => "TABLE_DUMP",
        13 => "TABLE_DUMP2",
        17 => "BGP4MP_ET",
        _ => "BGP4MP",
    };
    let ts = match h.micros {
        Some(m) => format!("{}.{m:06}", h.timestamp),
        None => h.timestamp.to_string(),
    };
    for e in &r.elems {
        out.push(match e {
            Elem::Rib { peer, prefix, path } => {
                format!("{kind}|{ts}|B|{}|{}|{prefix}|{path}", peer.ip, peer.asn.0)
            }
            Elem::Announce { peer, prefix, path } => {
                format!("{kind}|{ts}|A|{}|{}|{prefix}|{path}", peer.ip, peer.asn.0)
            }
            Elem::Withdraw { peer, prefix } => {
                format!("{kind}|{ts}|W|{}|{}|{prefix}", peer.ip, peer.asn.0)
            }
            Elem::State { peer, old, new } => {
                format!("{kind}|{ts}|STATE|{}|{}|{old}|{new}", peer.ip, peer.asn.0)
            }
        });
    }
}
