//! Encoding a [`Response`] as a DNS message (RFC 1035 4.1), by hand.
//!
//! Why by hand: the response reuses the query's own bytes for the question
//! (case preserved, as resolvers using 0x20 randomisation require) and
//! points every owner name into it with a compression pointer, so encoding
//! is a few copies into a reused buffer. hickory-proto decodes every
//! encoded response in the tests.
//!
//! Size: UDP responses fit the requestor's EDNS payload size capped at
//! 1232 bytes (the DNS flag day 2020 value), or 512 without EDNS; a
//! response that does not fit is sent with TC set and no records, so the
//! client retries over TCP (RFC 1035 4.2.1, RFC 7766 5). TCP allows 65535.

use crate::answer::{Owner, RData, Record, Response, rcode, rtype};
use crate::query::Query;

/// Largest UDP payload depeer sends.
pub const MAX_UDP: usize = 1232;
/// Largest UDP response without EDNS (RFC 1035 2.3.4).
pub const CLASSIC_UDP: usize = 512;

/// Transport of the query, for the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: limited by EDNS payload size.
    Udp,
    /// TCP: up to 65535 bytes.
    Tcp,
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_name(out: &mut Vec<u8>, wire: &[u8]) {
    out.extend_from_slice(wire);
    out.push(0);
}

fn put_record(out: &mut Vec<u8>, r: &Record<'_>, apex_ptr: u16) {
    put16(
        out,
        match r.owner {
            Owner::Query => 0xc00c,
            Owner::Apex => apex_ptr,
        },
    );
    let t = match r.data {
        RData::A(_) => rtype::A,
        RData::Txt(_) => rtype::TXT,
        RData::Soa(_) => rtype::SOA,
        RData::Ns(_) => rtype::NS,
    };
    put16(out, t);
    put16(out, 1); // IN
    put32(out, r.ttl);
    let len_at = out.len();
    put16(out, 0);
    match &r.data {
        RData::A(a) => out.extend_from_slice(a),
        RData::Txt(t) => {
            let t = t.get(..255).unwrap_or(t);
            out.push(t.len() as u8);
            out.extend_from_slice(t);
        }
        RData::Soa(s) => {
            put_name(out, &s.mname);
            put_name(out, &s.rname);
            for v in [s.serial, s.refresh, s.retry, s.expire, s.minimum] {
                put32(out, v);
            }
        }
        RData::Ns(n) => put_name(out, n),
    }
    let len = (out.len() - len_at - 2) as u16;
    if let Some(slot) = out.get_mut(len_at..len_at + 2) {
        slot.copy_from_slice(&len.to_be_bytes());
    }
}

/// The first flags byte of a response: QR, OPCODE, AA, TC, RD.
fn flags1(opcode: u8, aa: bool, tc: bool, rd: bool) -> u8 {
    0x80 | ((opcode & 0x0f) << 3) | (u8::from(aa) << 2) | (u8::from(tc) << 1) | u8::from(rd)
}

fn header(out: &mut Vec<u8>, id: u16, f1: u8, rcode: u16, counts: [u16; 4]) {
    put16(out, id);
    out.push(f1);
    out.push((rcode & 0x0f) as u8); // RA = 0: not a resolver
    for c in counts {
        put16(out, c);
    }
}

fn put_opt(out: &mut Vec<u8>, rcode: u16) {
    // RFC 6891 6.1.2: root owner, TYPE 41, CLASS = our payload size, TTL =
    // extended RCODE (upper 8 bits), version 0, flags 0; no options.
    out.push(0);
    put16(out, rtype::OPT);
    put16(out, MAX_UDP as u16);
    out.push((rcode >> 4) as u8);
    out.extend_from_slice(&[0, 0, 0]);
    put16(out, 0);
}

/// Encodes `resp` to `q` (whose packet is `packet`) into `out`.
pub fn encode(
    packet: &[u8],
    q: &Query,
    resp: &Response<'_>,
    transport: Transport,
    out: &mut Vec<u8>,
) {
    out.clear();
    let limit = match (transport, q.edns) {
        (Transport::Tcp, _) => usize::from(u16::MAX),
        (Transport::Udp, Some(e)) => usize::from(e.payload).clamp(CLASSIC_UDP, MAX_UDP),
        (Transport::Udp, None) => CLASSIC_UDP,
    };
    let question = packet.get(12..q.question_end).unwrap_or_default();
    let apex_ptr = 0xc000 | (12 + resp.apex_at) as u16;
    let ar = u16::from(q.edns.is_some());
    let (an, ns) = (resp.answers.len() as u16, resp.authority.len() as u16);
    header(
        out,
        q.id,
        flags1(q.opcode, resp.aa, false, q.rd),
        resp.rcode,
        [1, an, ns, ar],
    );
    out.extend_from_slice(question);
    for r in resp.answers.iter().chain(&resp.authority) {
        put_record(out, r, apex_ptr);
    }
    if q.edns.is_some() {
        put_opt(out, resp.rcode);
    }
    if out.len() > limit {
        out.clear();
        header(
            out,
            q.id,
            flags1(q.opcode, resp.aa, true, q.rd),
            resp.rcode,
            [1, 0, 0, ar],
        );
        out.extend_from_slice(question);
        if q.edns.is_some() {
            put_opt(out, resp.rcode);
        }
    }
}

/// Encodes a FORMERR (header only, ID and opcode echoed) for a packet the
/// parser refused; `None` when the packet is too short to have an ID.
pub fn encode_formerr(packet: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    let id = u16::from_be_bytes([*packet.first()?, *packet.get(1)?]);
    let f1 = *packet.get(2)?;
    header(
        out,
        id,
        flags1((f1 >> 3) & 0x0f, false, false, f1 & 1 != 0),
        rcode::FORMERR,
        [0; 4],
    );
    Some(())
}
