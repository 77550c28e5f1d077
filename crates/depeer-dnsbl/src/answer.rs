//! The pure answer: `answer(&Zones, &Query) -> Response`. No I/O, no
//! clock; the server, the tests and the fuzzer call the same function.
//!
//! What it answers, following rbldnsd where rbldnsd is right and the RFCs
//! where it is not (docs/dnsbl.md lists every difference):
//! reversed-octet IPv4 names and 32-nibble IPv6 names in address zones,
//! names in dnset zones; A and TXT per listed value, SOA and NS at the
//! apex; NXDOMAIN for names that do not exist, NOERROR with no answer
//! (NODATA) for other types and for empty non-terminals, the SOA in the
//! authority section of every answer without answers; REFUSED outside the
//! served zones (never a resolver); NOTIMP for other opcodes and for zone
//! transfers; BADVERS for EDNS versions above 0.

use crate::dataset::{Data, Dataset, Soa};
use crate::ipmap::NONE;
use crate::query::Query;
use crate::value::expand;
use crate::zone::{Zone, Zones};

/// Response codes used.
pub mod rcode {
    /// No error.
    pub const NOERROR: u16 = 0;
    /// Format error.
    pub const FORMERR: u16 = 1;
    /// Name does not exist.
    pub const NXDOMAIN: u16 = 3;
    /// Not implemented.
    pub const NOTIMP: u16 = 4;
    /// Refused.
    pub const REFUSED: u16 = 5;
    /// Bad EDNS version (extended, RFC 6891 9).
    pub const BADVERS: u16 = 16;
}

/// Record types used.
pub mod rtype {
    /// IPv4 address.
    pub const A: u16 = 1;
    /// Name server.
    pub const NS: u16 = 2;
    /// Start of authority.
    pub const SOA: u16 = 6;
    /// Text.
    pub const TXT: u16 = 16;
    /// EDNS(0) OPT pseudo-record.
    pub const OPT: u16 = 41;
    /// Any type (QTYPE only).
    pub const ANY: u16 = 255;
}

/// Where a record's owner name is in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The question name.
    Query,
    /// The zone apex (a suffix of the question name).
    Apex,
}

/// Record data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData<'z> {
    /// An A record.
    A([u8; 4]),
    /// A TXT record with one character-string (at most 254 bytes).
    Txt(Vec<u8>),
    /// The zone's SOA.
    Soa(&'z SoaData),
    /// One NS target (lowercase wire format, no root byte).
    Ns(&'z [u8]),
}

/// SOA data as served.
pub type SoaData = Soa;

/// One resource record of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'z> {
    /// Owner name.
    pub owner: Owner,
    /// TTL in seconds.
    pub ttl: u32,
    /// Data.
    pub data: RData<'z>,
}

/// The answer to a query, before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'z> {
    /// RCODE, possibly extended (BADVERS).
    pub rcode: u16,
    /// Authoritative answer flag.
    pub aa: bool,
    /// Answer section.
    pub answers: Vec<Record<'z>>,
    /// Authority section.
    pub authority: Vec<Record<'z>>,
    /// Offset of the zone apex in the question name (for owner names).
    pub apex_at: usize,
}

impl Response<'_> {
    fn code(rcode: u16) -> Self {
        Self {
            rcode,
            aa: false,
            answers: Vec::new(),
            authority: Vec::new(),
            apex_at: 0,
        }
    }
}

/// Parses reversed decimal octets (`4.3.2.1` is 1.2.3.4): 1 to 4 labels
/// of 1 to 3 digits, each at most 255. Returns the address with the given
/// octets as its high octets, and how many there were.
fn rev_ip4(rel: &[u8]) -> Option<(u32, u32)> {
    let mut octets = [0u32; 4];
    let mut n = 0usize;
    let mut i = 0usize;
    while let Some(&len) = rel.get(i) {
        let label = rel.get(i + 1..i + 1 + usize::from(len))?;
        if !(1..=3).contains(&label.len()) || !label.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = label
            .iter()
            .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
        if v > 255 {
            return None;
        }
        *octets.get_mut(n)? = v;
        n += 1;
        i += 1 + usize::from(len);
    }
    if n == 0 {
        return None;
    }
    let mut a = 0u32;
    for (k, o) in octets.iter().take(n).rev().enumerate() {
        a |= o << (24 - 8 * k);
    }
    Some((a, n as u32))
}

/// Parses reversed nibbles (`1.0.0.0...` ): 1 to 32 one-digit hex labels.
fn rev_ip6(rel: &[u8]) -> Option<(u128, u32)> {
    let n = rel.len() / 2;
    if !rel.len().is_multiple_of(2) || n == 0 || n > 32 {
        return None;
    }
    let mut a = 0u128;
    for k in 0..n {
        if rel.get(2 * k) != Some(&1) {
            return None;
        }
        let d = char::from(*rel.get(2 * k + 1)?).to_digit(16)?;
        // label k is nibble (n - 1 - k) counted from the top
        a |= u128::from(d) << (124 - 4 * (n - 1 - k) as u32);
    }
    Some((a, n as u32))
}

/// What the question name says, parsed once per query.
struct Subject {
    /// A full IPv4 address (4 labels, or a 6to4 / IPv4-mapped IPv6 name in
    /// a zone with IPv4 data, as rbldnsd reads them).
    ip4: Option<u32>,
    ip6: Option<u128>,
    /// A partial address: (first, last) of the block it names.
    part4: Option<(u32, u32)>,
    part6: Option<(u128, u128)>,
}

fn subject(zone: &Zone, rel: &[u8]) -> Subject {
    let mut s = Subject {
        ip4: None,
        ip6: None,
        part4: None,
        part6: None,
    };
    match rev_ip4(rel) {
        Some((a, 4)) => s.ip4 = Some(a),
        Some((a, n)) => s.part4 = Some((a, a | (u32::MAX >> (8 * n)))),
        None => {}
    }
    match rev_ip6(rel) {
        Some((a, 32)) => {
            s.ip6 = Some(a);
            if zone.has_ip4 && s.ip4.is_none() {
                if a >> 112 == 0x2002 {
                    s.ip4 = Some((a >> 80) as u32); // 6to4, RFC 3056
                } else if a >> 32 == 0xffff {
                    s.ip4 = Some(a as u32); // IPv4-mapped
                    s.ip6 = None;
                }
            }
        }
        Some((a, n)) => s.part6 = Some((a, a | (u128::MAX >> (4 * n)))),
        None => {}
    }
    s
}

fn wants(qtype: u16, t: u16) -> bool {
    qtype == t || qtype == rtype::ANY
}

/// Adds the A and TXT records of a listed set, without duplicates (rbldnsd
/// skips a record already in the answer).
fn add_listed<'z>(
    out: &mut Vec<Record<'z>>,
    ds: &Dataset,
    set: u32,
    qtype: u16,
    subj: &dyn Fn(&mut Vec<u8>),
) {
    let mut subject_text: Option<Vec<u8>> = None;
    for v in ds.values_of(set) {
        if wants(qtype, rtype::A) {
            let r = Record {
                owner: Owner::Query,
                ttl: ds.ttl,
                data: RData::A(v.a),
            };
            if !out.iter().any(|x| x.data == r.data) {
                out.push(r);
            }
        }
        if wants(qtype, rtype::TXT) {
            let st = subject_text.get_or_insert_with(|| {
                let mut t = Vec::new();
                subj(&mut t);
                t
            });
            let mut txt = Vec::new();
            expand(&v.txt, st, &ds.subst, &mut txt);
            if !txt.is_empty() {
                let data = RData::Txt(txt);
                if !out.iter().any(|x| x.data == data) {
                    out.push(Record {
                        owner: Owner::Query,
                        ttl: ds.ttl,
                        data,
                    });
                }
            }
        }
    }
}

/// Most lookups [`warm`] prepares at once.
const WARM_MAX: usize = 64;

/// Starts loading, for a batch of query packets, the lookup data their
/// answers will read, before any of them is answered: first every
/// query's bucket bounds, then every bucket's intervals. A large zone
/// costs about two cache misses per address query; answered one at a
/// time, each miss waits for the one before, while these loads run side
/// by side (the server calls this on every received batch). Only a hint:
/// a packet it cannot read is skipped, and nothing is decided here.
pub fn warm<'p>(zones: &Zones, packets: impl Iterator<Item = &'p [u8]>) {
    enum Pending<'z> {
        V4(&'z crate::ipmap::IntervalMap<u32>, usize),
        V6(&'z crate::ipmap::IntervalMap<u128>, usize),
    }
    let mut pending: Vec<Pending<'_>> = Vec::with_capacity(WARM_MAX);
    for p in packets {
        let Ok(q) = Query::parse(p) else { continue };
        let Some((zone, apex_at)) = zones.find(q.qname(), q.label_starts()) else {
            continue;
        };
        let rel = q.qname().get(..apex_at).unwrap_or_default();
        let s = subject(zone, rel);
        for ds in &zone.datasets {
            if pending.len() >= WARM_MAX {
                break;
            }
            match (&ds.data, s.ip4, s.ip6) {
                (Data::Ip4(m), Some(ip), _) => pending.push(Pending::V4(m, m.prefetch_bucket(ip))),
                (Data::Ip6(m), _, Some(ip)) => pending.push(Pending::V6(m, m.prefetch_bucket(ip))),
                _ => {}
            }
        }
    }
    for p in &pending {
        match p {
            Pending::V4(m, b) => m.prefetch_entries(*b),
            Pending::V6(m, b) => m.prefetch_entries(*b),
        }
    }
}

/// Looks the name up in every dataset of the zone; returns whether it is
/// listed somewhere, adding its records.
fn lookup<'z>(
    zone: &'z Zone,
    rel: &[u8],
    s: &Subject,
    qtype: u16,
    out: &mut Vec<Record<'z>>,
) -> bool {
    let mut found = false;
    for ds in &zone.datasets {
        match &ds.data {
            Data::Ip4(m) => {
                let Some(ip) = s.ip4 else { continue };
                let set = m.get(ip);
                if set != NONE {
                    found = true;
                    let text = |t: &mut Vec<u8>| {
                        t.extend_from_slice(std::net::Ipv4Addr::from(ip).to_string().as_bytes())
                    };
                    add_listed(out, ds, set, qtype, &text);
                }
            }
            Data::Ip6(m) => {
                let Some(ip) = s.ip6 else { continue };
                let set = m.get(ip);
                if set != NONE {
                    found = true;
                    let text = |t: &mut Vec<u8>| crate::addr::ip6_text(ip, t);
                    add_listed(out, ds, set, qtype, &text);
                }
            }
            Data::Dn(d) => {
                if let Some((set, key)) = d.lookup(rel) {
                    found = true;
                    let text = |t: &mut Vec<u8>| crate::name::to_text(key, t);
                    add_listed(out, ds, set, qtype, &text);
                }
            }
        }
    }
    found
}

/// Whether the name exists only as the parent of listed names.
fn is_ent(zone: &Zone, rel: &[u8], s: &Subject) -> bool {
    zone.datasets.iter().any(|ds| match &ds.data {
        Data::Ip4(m) => s.part4.is_some_and(|(lo, hi)| m.any_in(lo, hi)),
        Data::Ip6(m) => s.part6.is_some_and(|(lo, hi)| m.any_in(lo, hi)),
        Data::Dn(d) => d.is_ent(rel),
    })
}

/// The SOA for the authority section of negative and NODATA answers. Its
/// TTL: "the minimum of the MINIMUM field of the SOA record and the TTL of
/// the SOA itself" (RFC 2308 5).
fn negative_soa(zone: &Zone) -> Option<Record<'_>> {
    zone.soa.as_ref().map(|soa| Record {
        owner: Owner::Apex,
        ttl: soa.ttl.min(soa.minimum),
        data: RData::Soa(soa),
    })
}

/// Answers one query from the zones.
pub fn answer<'z>(zones: &'z Zones, q: &Query) -> Response<'z> {
    if q.opcode != 0 {
        return Response::code(rcode::NOTIMP);
    }
    // "If a responder does not implement the VERSION level of the request,
    // then it MUST respond with RCODE=BADVERS" (RFC 6891 6.1.3).
    if q.edns.is_some_and(|e| e.version > 0) {
        return Response::code(rcode::BADVERS);
    }
    // Class IN answers authoritatively; ANY is answered from the same data
    // but not authoritatively (as rbldnsd); CHAOS and the rest are refused.
    let aa = match q.qclass {
        1 => true,
        255 => false,
        _ => return Response::code(rcode::REFUSED),
    };
    // Zone transfers and the meta types TSIG..MAILA are not served;
    // rbldnsd answers NOTIMP to every type from TSIG (250) up except ANY.
    if q.qtype >= 250 && q.qtype != rtype::ANY {
        return Response::code(rcode::NOTIMP);
    }
    let Some((zone, apex_at)) = zones.find(q.qname(), q.label_starts()) else {
        return Response::code(rcode::REFUSED);
    };
    let mut r = Response {
        rcode: rcode::NOERROR,
        aa,
        answers: Vec::new(),
        authority: Vec::new(),
        apex_at,
    };
    let rel = q.qname().get(..apex_at).unwrap_or_default();
    if rel.is_empty() {
        if wants(q.qtype, rtype::SOA)
            && let Some(soa) = &zone.soa
        {
            r.answers.push(Record {
                owner: Owner::Apex,
                ttl: soa.ttl,
                data: RData::Soa(soa),
            });
        }
        if wants(q.qtype, rtype::NS)
            && let Some(ns) = &zone.ns
        {
            for n in &ns.names {
                r.answers.push(Record {
                    owner: Owner::Apex,
                    ttl: ns.ttl,
                    data: RData::Ns(n),
                });
            }
        }
    } else {
        let s = subject(zone, rel);
        if !lookup(zone, rel, &s, q.qtype, &mut r.answers) && !is_ent(zone, rel, &s) {
            r.rcode = rcode::NXDOMAIN;
        }
    }
    if r.answers.is_empty() {
        r.authority.extend(negative_soa(zone));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_names() {
        assert_eq!(rev_ip4(b"\x012\x010\x010\x03127"), Some((0x7f00_0002, 4)));
        assert_eq!(rev_ip4(b"\x010\x03127"), Some((0x7f00_0000, 2)));
        assert_eq!(rev_ip4(b"\x03256\x010\x010\x03127"), None);
        assert_eq!(rev_ip4(b"\x04abcd"), None);
        let mut n = Vec::new();
        for _ in 0..31 {
            n.extend_from_slice(b"\x010");
        }
        n.extend_from_slice(b"\x012");
        assert_eq!(
            rev_ip6(&n),
            Some((0x2000_0000_0000_0000_0000_0000_0000_0000, 32))
        );
        assert_eq!(
            rev_ip6(b"\x01f\x012"),
            Some((0x2f00_0000_0000_0000_0000_0000_0000_0000, 2))
        );
        assert_eq!(rev_ip6(b"\x01g"), None);
    }
}
