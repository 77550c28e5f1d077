//! A small MRT encoder: what the simulator writes and nothing more.
//!
//! - MRT common header, TABLE_DUMP_V2 PEER_INDEX_TABLE and
//!   RIB_IPV4_UNICAST / RIB_IPV6_UNICAST (RFC 6396 §2, §4.3);
//! - BGP4MP_MESSAGE_AS4 (RFC 6396 §4.4.3) carrying a BGP UPDATE
//!   (RFC 4271 §4.3) with ORIGIN, 4-byte AS_PATH, NEXT_HOP, and
//!   MP_REACH_NLRI / MP_UNREACH_NLRI for IPv6 (RFC 4760 §3, §4).
//!
//! Not written: TABLE_DUMP (v1), BGP4MP_STATE_CHANGE, extended timestamps,
//! ADD-PATH, communities. Every length field is checked; a structure that
//! would overflow one is an error, never a truncated record.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::SimError;

/// MRT type TABLE_DUMP_V2 (RFC 6396 §4.3).
pub(crate) const TABLE_DUMP_V2: u16 = 13;
/// MRT type BGP4MP (RFC 6396 §4.4).
pub(crate) const BGP4MP: u16 = 16;
const PEER_INDEX_TABLE: u16 = 1;
const RIB_IPV4_UNICAST: u16 = 2;
const RIB_IPV6_UNICAST: u16 = 4;
const BGP4MP_MESSAGE_AS4: u16 = 4;

/// A BGP message may not exceed 4096 octets (RFC 4271 §4).
pub(crate) const BGP_MAX: usize = 4096;

/// One peer of the collector.
#[derive(Debug, Clone)]
pub(crate) struct MrtPeer {
    pub(crate) bgp_id: Ipv4Addr,
    pub(crate) ip: IpAddr,
    pub(crate) asn: u32,
}

fn u16_len(what: &'static str, len: usize) -> Result<u16, SimError> {
    u16::try_from(len).map_err(|_| SimError::TooLong {
        what,
        len,
        max: usize::from(u16::MAX),
    })
}

/// Appends an MRT common header and body (RFC 6396 §2).
pub(crate) fn record(
    out: &mut Vec<u8>,
    ts: u32,
    typ: u16,
    subtype: u16,
    body: &[u8],
) -> Result<(), SimError> {
    let len = u32::try_from(body.len()).map_err(|_| SimError::TooLong {
        what: "MRT record",
        len: body.len(),
        max: u32::MAX as usize,
    })?;
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&typ.to_be_bytes());
    out.extend_from_slice(&subtype.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    Ok(())
}

/// Appends an NLRI-style prefix: length in bits, then the minimum number
/// of octets (RFC 4271 §4.3).
pub(crate) fn put_prefix(out: &mut Vec<u8>, bytes: &[u8], len: u8) {
    out.push(len);
    let n = usize::from(len).div_ceil(8).min(bytes.len());
    out.extend_from_slice(bytes.get(..n).unwrap_or(bytes));
}

/// An IPv4 prefix as NLRI octets.
pub(crate) fn put_v4(out: &mut Vec<u8>, net: u32, len: u8) {
    put_prefix(out, &net.to_be_bytes(), len);
}

/// An IPv6 prefix as NLRI octets.
pub(crate) fn put_v6(out: &mut Vec<u8>, net: u128, len: u8) {
    put_prefix(out, &net.to_be_bytes(), len);
}

/// PEER_INDEX_TABLE body (RFC 6396 §4.3.1).
pub(crate) fn peer_index_table(
    collector: Ipv4Addr,
    view: &str,
    peers: &[MrtPeer],
) -> Result<Vec<u8>, SimError> {
    let mut b = Vec::with_capacity(16 + peers.len() * 26);
    b.extend_from_slice(&collector.octets());
    b.extend_from_slice(&u16_len("view name", view.len())?.to_be_bytes());
    b.extend_from_slice(view.as_bytes());
    b.extend_from_slice(&u16_len("peer count", peers.len())?.to_be_bytes());
    for p in peers {
        // Peer Type: bit 0 (0x01) IPv6 address, bit 1 (0x02) 4-byte AS.
        let v6 = p.ip.is_ipv6();
        b.push(0x02 | u8::from(v6));
        b.extend_from_slice(&p.bgp_id.octets());
        match p.ip {
            IpAddr::V4(a) => b.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => b.extend_from_slice(&a.octets()),
        }
        b.extend_from_slice(&p.asn.to_be_bytes());
    }
    Ok(b)
}

/// Appends a path attribute, using the extended-length form when needed
/// (RFC 4271 §4.3: bit 3 of the flags).
fn attr(out: &mut Vec<u8>, flags: u8, typ: u8, value: &[u8]) -> Result<(), SimError> {
    if value.len() > 255 {
        out.push(flags | 0x10);
        out.push(typ);
        out.extend_from_slice(&u16_len("path attribute", value.len())?.to_be_bytes());
    } else {
        out.push(flags);
        out.push(typ);
        out.push(value.len() as u8);
    }
    out.extend_from_slice(value);
    Ok(())
}

/// ORIGIN (IGP) and AS_PATH with one AS_SEQUENCE of 4-byte ASNs.
fn origin_and_path(out: &mut Vec<u8>, path: &[u32]) -> Result<(), SimError> {
    attr(out, 0x40, 1, &[0])?;
    let mut v = Vec::with_capacity(2 + 4 * path.len());
    for chunk in path.chunks(255) {
        v.push(2); // AS_SEQUENCE
        v.push(chunk.len() as u8);
        for a in chunk {
            v.extend_from_slice(&a.to_be_bytes());
        }
    }
    attr(out, 0x40, 2, &v)
}

/// Attributes of a RIB entry for an IPv4 prefix: ORIGIN, AS_PATH, NEXT_HOP.
pub(crate) fn rib_attrs_v4(path: &[u32], next_hop: Ipv4Addr) -> Result<Vec<u8>, SimError> {
    let mut a = Vec::with_capacity(40);
    origin_and_path(&mut a, path)?;
    attr(&mut a, 0x40, 3, &next_hop.octets())?;
    Ok(a)
}

/// Attributes of a RIB entry for an IPv6 prefix: ORIGIN, AS_PATH and the
/// abbreviated MP_REACH_NLRI of RFC 6396 §4.3.4 (next-hop length and
/// next hop only).
pub(crate) fn rib_attrs_v6(path: &[u32], next_hop: Ipv6Addr) -> Result<Vec<u8>, SimError> {
    let mut a = Vec::with_capacity(60);
    origin_and_path(&mut a, path)?;
    let mut mp = Vec::with_capacity(17);
    mp.push(16);
    mp.extend_from_slice(&next_hop.octets());
    attr(&mut a, 0x80, 14, &mp)?;
    Ok(a)
}

/// One RIB entry: peer index, originated time, attributes.
pub(crate) struct RibEntry<'a> {
    pub(crate) peer_index: u16,
    pub(crate) originated: u32,
    pub(crate) attrs: &'a [u8],
}

/// RIB_IPV4_UNICAST / RIB_IPV6_UNICAST body (RFC 6396 §4.3.2), and its subtype.
pub(crate) fn rib_body(
    seq: u32,
    prefix_bytes: &[u8],
    len: u8,
    v6: bool,
    entries: &[RibEntry<'_>],
) -> Result<(u16, Vec<u8>), SimError> {
    let mut b = Vec::with_capacity(16 + entries.len() * 48);
    b.extend_from_slice(&seq.to_be_bytes());
    put_prefix(&mut b, prefix_bytes, len);
    b.extend_from_slice(&u16_len("RIB entry count", entries.len())?.to_be_bytes());
    for e in entries {
        b.extend_from_slice(&e.peer_index.to_be_bytes());
        b.extend_from_slice(&e.originated.to_be_bytes());
        b.extend_from_slice(&u16_len("RIB entry attributes", e.attrs.len())?.to_be_bytes());
        b.extend_from_slice(e.attrs);
    }
    Ok((
        if v6 {
            RIB_IPV6_UNICAST
        } else {
            RIB_IPV4_UNICAST
        },
        b,
    ))
}

/// The subtype of PEER_INDEX_TABLE.
pub(crate) const fn peer_index_subtype() -> u16 {
    PEER_INDEX_TABLE
}

/// Wraps UPDATE contents into a BGP message: marker, length, type 2
/// (RFC 4271 §4.1, §4.3).
fn bgp_update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Result<Vec<u8>, SimError> {
    let len = 19 + 2 + withdrawn.len() + 2 + attrs.len() + nlri.len();
    if len > BGP_MAX {
        return Err(SimError::TooLong {
            what: "BGP UPDATE",
            len,
            max: BGP_MAX,
        });
    }
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&[0xff; 16]);
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    m.extend_from_slice(withdrawn);
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(attrs);
    m.extend_from_slice(nlri);
    Ok(m)
}

/// An announcement: AS path, next hop, prefixes.
pub(crate) type Announce<'a, A, P> = Option<(&'a [u32], A, &'a [P])>;

/// An IPv4 UPDATE: withdrawn routes, or an announcement of `nlri` with
/// ORIGIN, AS_PATH and NEXT_HOP.
pub(crate) fn update_v4(
    withdrawn: &[(u32, u8)],
    announce: Announce<'_, Ipv4Addr, (u32, u8)>,
) -> Result<Vec<u8>, SimError> {
    let mut w = Vec::new();
    for &(net, len) in withdrawn {
        put_v4(&mut w, net, len);
    }
    let mut a = Vec::new();
    let mut n = Vec::new();
    if let Some((path, nh, nlri)) = announce {
        origin_and_path(&mut a, path)?;
        attr(&mut a, 0x40, 3, &nh.octets())?;
        for &(net, len) in nlri {
            put_v4(&mut n, net, len);
        }
    }
    bgp_update(&w, &a, &n)
}

/// An IPv6 UPDATE: MP_UNREACH_NLRI for withdrawals, or ORIGIN, AS_PATH and
/// MP_REACH_NLRI (AFI 2, SAFI 1, next hop, reserved octet, NLRI).
pub(crate) fn update_v6(
    withdrawn: &[(u128, u8)],
    announce: Announce<'_, Ipv6Addr, (u128, u8)>,
) -> Result<Vec<u8>, SimError> {
    let mut a = Vec::new();
    if !withdrawn.is_empty() {
        let mut v = vec![0, 2, 1];
        for &(net, len) in withdrawn {
            put_v6(&mut v, net, len);
        }
        attr(&mut a, 0x80, 15, &v)?;
    }
    if let Some((path, nh, nlri)) = announce {
        origin_and_path(&mut a, path)?;
        let mut v = vec![0, 2, 1, 16];
        v.extend_from_slice(&nh.octets());
        v.push(0);
        for &(net, len) in nlri {
            put_v6(&mut v, net, len);
        }
        attr(&mut a, 0x80, 14, &v)?;
    }
    bgp_update(&[], &a, &[])
}

/// BGP4MP_MESSAGE_AS4 body (RFC 6396 §4.4.3): peer AS, local AS (4 octets
/// each), interface index, address family, peer and local IP, BGP message.
pub(crate) fn bgp4mp_message_as4(
    peer_as: u32,
    local_as: u32,
    peer_ip: IpAddr,
    local_ip: IpAddr,
    message: &[u8],
) -> (u16, Vec<u8>) {
    let mut b = Vec::with_capacity(44 + message.len());
    b.extend_from_slice(&peer_as.to_be_bytes());
    b.extend_from_slice(&local_as.to_be_bytes());
    b.extend_from_slice(&0u16.to_be_bytes());
    match (peer_ip, local_ip) {
        (IpAddr::V4(p), IpAddr::V4(l)) => {
            b.extend_from_slice(&1u16.to_be_bytes());
            b.extend_from_slice(&p.octets());
            b.extend_from_slice(&l.octets());
        }
        (p, l) => {
            let v6 = |a: IpAddr| match a {
                IpAddr::V4(x) => x.to_ipv6_mapped(),
                IpAddr::V6(x) => x,
            };
            b.extend_from_slice(&2u16.to_be_bytes());
            b.extend_from_slice(&v6(p).octets());
            b.extend_from_slice(&v6(l).octets());
        }
    }
    b.extend_from_slice(message);
    (BGP4MP_MESSAGE_AS4, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_header_is_timestamp_type_subtype_length() {
        // RFC 6396 §2: "Timestamp (4 octets) | Type (2) | Subtype (2) | Length (4)";
        // "The Length field ... does not include the Common Header."
        let mut out = Vec::new();
        record(&mut out, 0x4919_f6c8, TABLE_DUMP_V2, 1, &[0xaa, 0xbb]).unwrap();
        assert_eq!(
            out,
            [0x49, 0x19, 0xf6, 0xc8, 0, 13, 0, 1, 0, 0, 0, 2, 0xaa, 0xbb]
        );
    }

    #[test]
    fn prefix_uses_minimum_octets() {
        // RFC 4271 §4.3: "the Prefix field contains an IP address prefix,
        // followed by enough trailing bits to make the end of the field fall
        // on an octet boundary."
        let mut out = Vec::new();
        put_v4(&mut out, u32::from(Ipv4Addr::new(208, 72, 168, 0)), 21);
        assert_eq!(out, [21, 208, 72, 168]);
        out.clear();
        put_v4(&mut out, 0, 0);
        assert_eq!(out, [0]);
    }

    #[test]
    fn peer_index_table_fields() {
        // RFC 6396 §4.3.1: Collector BGP ID, View Name Length, View Name,
        // Peer Count, then per peer: Peer Type, Peer BGP ID, Peer IP, Peer AS.
        // "Bit 0 (0x01) ... IPv6 ... Bit 1 (0x02) ... 32-bit AS number".
        let peers = [MrtPeer {
            bgp_id: Ipv4Addr::new(1, 2, 3, 4),
            ip: IpAddr::V4(Ipv4Addr::new(5, 6, 7, 8)),
            asn: 3549,
        }];
        let b = peer_index_table(Ipv4Addr::new(9, 9, 9, 9), "v", &peers).unwrap();
        assert_eq!(
            b,
            [
                9, 9, 9, 9, 0, 1, b'v', 0, 1, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x0d, 0xdd
            ]
        );
    }

    #[test]
    fn update_withdrawal_and_announcement_layout() {
        // RFC 4271 §4.3: Withdrawn Routes Length (2), Withdrawn Routes,
        // Total Path Attribute Length (2), Path Attributes, NLRI.
        let w = update_v4(&[(u32::from(Ipv4Addr::new(208, 66, 192, 0)), 22)], None).unwrap();
        assert_eq!(&w[..16], &[0xff; 16]);
        assert_eq!(u16::from_be_bytes([w[16], w[17]]) as usize, w.len());
        assert_eq!(w[18], 2, "type 2 = UPDATE");
        assert_eq!(&w[19..], &[0, 4, 22, 208, 66, 192, 0, 0]);

        let a = update_v4(
            &[],
            Some((
                &[6939, 26780],
                Ipv4Addr::new(10, 0, 0, 1),
                &[(u32::from(Ipv4Addr::new(208, 66, 192, 0)), 22)],
            )),
        )
        .unwrap();
        let body = &a[19..];
        assert_eq!(&body[..2], &[0, 0], "no withdrawn routes");
        let attr_len = u16::from_be_bytes([body[2], body[3]]) as usize;
        let attrs = &body[4..4 + attr_len];
        // ORIGIN: flags 0x40 (well-known transitive), type 1, length 1, IGP.
        assert_eq!(&attrs[..4], &[0x40, 1, 1, 0]);
        // AS_PATH: type 2, AS_SEQUENCE (2) of 2 four-octet ASNs.
        assert_eq!(&attrs[4..7], &[0x40, 2, 10]);
        assert_eq!(&attrs[7..9], &[2, 2]);
        assert_eq!(&attrs[9..17], &[0, 0, 0x1b, 0x1b, 0, 0, 0x68, 0x9c]);
        // NEXT_HOP: type 3, 4 octets.
        assert_eq!(&attrs[17..], &[0x40, 3, 4, 10, 0, 0, 1]);
        assert_eq!(&body[4 + attr_len..], &[22, 208, 66, 192]);
    }

    #[test]
    fn mp_reach_and_unreach_for_ipv6() {
        // RFC 4760 §3: AFI (2), SAFI (1), Length of Next Hop (1), Next Hop,
        // Reserved (1), NLRI. §4: MP_UNREACH_NLRI: AFI, SAFI, Withdrawn Routes.
        let p = 0x2001_0db8_0000_0000_0000_0000_0000_0000u128;
        let m = update_v6(&[(p, 32)], None).unwrap();
        let attrs = &m[23..];
        assert_eq!(attrs, &[0x80, 15, 8, 0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb8]);
        let m = update_v6(&[], Some((&[1], Ipv6Addr::LOCALHOST, &[(p, 32)]))).unwrap();
        let attrs = &m[23..];
        let mp = attrs.windows(2).position(|w| w == [0x80, 14]).unwrap();
        assert_eq!(attrs[mp + 2], 3 + 1 + 16 + 1 + 5);
        assert_eq!(&attrs[mp + 3..mp + 7], &[0, 2, 1, 16]);
        assert_eq!(attrs[mp + 7 + 16], 0, "reserved octet");
    }

    #[test]
    fn oversized_update_is_an_error() {
        let many: Vec<(u32, u8)> = (0..2000u32).map(|i| (i << 8, 24)).collect();
        assert!(matches!(
            update_v4(&many, None),
            Err(SimError::TooLong { .. })
        ));
    }
}
